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
