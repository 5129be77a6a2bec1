//! Group commit: with 8 threads committing one-insert transactions under
//! `Durability::Full`, commits share syncs. Only the counters are
//! asserted; the rates are printed for the record.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;
use strata_engine::{Database, Options};
use strata_tests::TempDir;

fn run(threads: u64, per_thread: u64) -> (f64, f64) {
    let dir = TempDir::new("group");
    let db = Database::open_with(dir.path().join("db"), Options::default()).unwrap();
    let mut tx = db.begin().unwrap();
    tx.create_table("t").unwrap();
    tx.commit().unwrap();
    let before = db.stats();
    let start = Arc::new(Barrier::new(threads as usize + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (db, start) = (db.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                for i in 0..per_thread {
                    let mut tx = db.begin().unwrap();
                    tx.put("t", &(t << 32 | i).to_be_bytes(), &[7; 150])
                        .unwrap();
                    tx.commit().unwrap();
                }
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    let secs = t0.elapsed().as_secs_f64();
    let after = db.stats();
    let commits = after.commits - before.commits;
    let syncs = after.log_syncs - before.log_syncs;
    assert_eq!(commits, threads * per_thread);
    (commits as f64 / syncs as f64, commits as f64 / secs)
}

#[test]
fn concurrent_commits_share_syncs() {
    let (one_per_sync, one_rate) = run(1, 300);
    let (eight_per_sync, eight_rate) = run(8, 300);
    println!(
        "1 thread: {one_per_sync:.2} commits/sync, {one_rate:.0} commits/s; 8 threads: {eight_per_sync:.2} commits/sync, {eight_rate:.0} commits/s ({:.1}x)",
        eight_rate / one_rate
    );
    // Alone, each commit syncs once.
    assert!(
        (one_per_sync - 1.0).abs() < 1e-9,
        "one thread: {one_per_sync} commits per sync"
    );
    // Together, commits that arrive during a sync share the next one.
    assert!(
        eight_per_sync > 2.0,
        "8 threads: only {eight_per_sync:.2} commits per sync"
    );
}
