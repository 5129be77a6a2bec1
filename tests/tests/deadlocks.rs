//! Deadlock cycles of two and three transactions each end with exactly one
//! victim, and many threads hammering a few hot keys finish with a correct
//! result (no hang, no lost increment).

use std::sync::{Arc, Barrier};
use std::thread;
use strata_engine::{Database, Error, Options};
use strata_tests::{Rng, Session, TempDir, Turn};

fn open(dir: &TempDir) -> Database {
    let opts = Options {
        log_preallocate: 0,
        max_retries: 10_000,
        ..Options::default()
    };
    let db = Database::open_with(dir.path().join("db"), opts).unwrap();
    let mut tx = db.begin().unwrap();
    tx.create_table("t").unwrap();
    for k in ["a", "b", "c", "d"] {
        tx.put("t", k.as_bytes(), &0u64.to_le_bytes()).unwrap();
    }
    tx.commit().unwrap();
    db
}

fn write(
    k: &'static str,
) -> impl FnOnce(&mut strata_engine::Transaction) -> strata_tests::Reply + Send {
    move |tx| tx.put("t", k.as_bytes(), b"v").map(|()| Vec::new())
}

/// Sessions 0..n each lock key i, then reach for key i+1 (mod n): a cycle
/// of n. Exactly one must die; the rest must commit.
fn cycle(n: usize) {
    let dir = TempDir::new("deadlock");
    let db = open(&dir);
    let keys = ["a", "b", "c", "d"];
    let sessions: Vec<Session> = (0..n).map(|_| Session::new(&db)).collect();
    for (s, k) in sessions.iter().zip(keys) {
        s.run(write(k)).unwrap();
    }
    let mut turns = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        turns.push(s.step(write(keys[(i + 1) % n])));
    }
    // The last request closed the cycle: it is the youngest, so the victim.
    assert!(turns[..n - 1].iter().all(|t| matches!(t, Turn::Blocked)));
    assert!(
        matches!(turns[n - 1], Turn::Done(Err(Error::Deadlock))),
        "{:?}",
        turns[n - 1]
    );
    // The others finish, one after another, as each commit frees a key.
    for s in sessions[..n - 1].iter().rev() {
        s.finish().unwrap();
        s.commit().unwrap();
    }
    assert_eq!(db.stats().deadlocks, 1);
}

#[test]
fn a_cycle_of_two_has_one_victim() {
    cycle(2);
}

#[test]
fn a_cycle_of_three_has_one_victim() {
    cycle(3);
}

#[test]
fn many_threads_on_few_hot_keys_finish_correctly() {
    let dir = TempDir::new("hot");
    let db = open(&dir);
    let threads = 16;
    let per_thread = 100;
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads as u64)
        .map(|t| {
            let (db, start) = (db.clone(), start.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(t);
                start.wait();
                for _ in 0..per_thread {
                    // Increment two of the four keys, in random order: a
                    // recipe for deadlocks.
                    let a = rng.below(4) as u8;
                    let b = (a + 1 + rng.below(3) as u8) % 4;
                    db.transaction(|tx| {
                        for k in [a, b] {
                            let key = [b'a' + k];
                            let v = tx.get("t", &key)?.unwrap();
                            let n = u64::from_le_bytes(v.try_into().unwrap()) + 1;
                            tx.put("t", &key, &n.to_le_bytes())?;
                        }
                        Ok(())
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let tx = db.begin_read().unwrap();
    let total: u64 = tx
        .range("t", ..)
        .unwrap()
        .map(|kv| u64::from_le_bytes(kv.unwrap().1.try_into().unwrap()))
        .sum();
    assert_eq!(
        total,
        (threads * per_thread * 2) as u64,
        "every increment counted once"
    );
    let stats = db.stats();
    println!(
        "hot keys: {} deadlocks, {} retries, {} lock waits",
        stats.deadlocks, stats.retries, stats.lock_waits
    );
    assert!(
        stats.deadlocks > 0,
        "the workload should have deadlocked at least once"
    );
}
