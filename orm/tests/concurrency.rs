//! Unique columns under concurrency: two sessions adding the same value
//! at once, one wins and the other gets the unique-violation error (not a
//! deadlock, not a duplicate).

use serde::{Deserialize, Serialize};
use std::sync::{Arc, Barrier};
use strata::{Database, Error, Model};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users")]
struct User {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique)]
    username: String,
}

#[test]
fn two_threads_adding_the_same_unique_value() {
    let dir = std::env::temp_dir().join(format!("strata-orm-conc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = Database::open(dir.join("db")).unwrap();
    db.register::<User>().unwrap();
    for round in 0..50 {
        let name = format!("user{round}");
        let start = Arc::new(Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (db, start, name) = (db.clone(), start.clone(), name.clone());
                std::thread::spawn(move || {
                    let mut s = db.session().unwrap();
                    start.wait();
                    let r = s.add(&mut User {
                        id: 0,
                        username: name,
                    });
                    r.and_then(|()| s.commit())
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        let lost = results.iter().find(|r| r.is_err()).unwrap();
        assert!(
            matches!(
                lost,
                Err(Error::UniqueViolation {
                    model: "User",
                    column: "username",
                    ..
                })
            ),
            "round {round}: {lost:?}"
        );
    }
    let s = db.read_session().unwrap();
    assert_eq!(s.query::<User>().count().unwrap(), 50);
    drop(s);
    assert_eq!(db.check().unwrap(), 50);
    drop(db);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `Database::transaction` reruns a closure that fails with a retryable
/// error `Options::max_retries` times, as the engine's does, pausing
/// 2 ms doubling to 128 ms (at least half of that), and counts every rerun
/// in `OrmStats::retries`.
#[test]
fn transaction_retries_as_many_times_as_the_engine_and_counts_them() {
    let dir = std::env::temp_dir().join(format!("strata-orm-retries-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let opts = strata::engine::Options {
        max_retries: 4,
        ..Default::default()
    };
    let db = Database::open_with(dir.join("db"), opts).unwrap();
    assert_eq!(db.stats().retries, 0);

    // Always a deadlock: 1 run and 4 reruns, then the error.
    let mut runs = 0;
    let start = std::time::Instant::now();
    let r: strata::Result<()> = db.transaction(|_| {
        runs += 1;
        Err(strata::engine::Error::Deadlock.into())
    });
    assert!(matches!(
        r,
        Err(Error::Engine(strata::engine::Error::Deadlock))
    ));
    assert_eq!(runs, 5);
    assert_eq!(db.stats().retries, 4);
    // Pauses of at least 1, 2, 4 and 8 ms (half of 2, 4, 8, 16).
    assert!(start.elapsed() >= std::time::Duration::from_millis(15));

    // A lock timeout twice, then success: 2 more reruns.
    let mut runs = 0;
    let v = db
        .transaction(|s| {
            runs += 1;
            if runs < 3 {
                return Err(strata::engine::Error::LockTimeout.into());
            }
            s.add(&mut User {
                id: 0,
                username: "ann".into(),
            })?;
            Ok(runs)
        })
        .unwrap();
    assert_eq!(v, 3);
    assert_eq!(db.stats().retries, 6);

    // Any other error is returned at once.
    let mut runs = 0;
    let r: strata::Result<()> = db.transaction(|_| {
        runs += 1;
        Err(strata::engine::Error::ReadOnly.into())
    });
    assert!(r.is_err());
    assert_eq!(runs, 1);
    assert_eq!(db.stats().retries, 6);
    drop(db);
    std::fs::remove_dir_all(&dir).unwrap();
}
