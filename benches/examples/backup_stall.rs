//! The longest writer stall during an online backup: four TPC-B-style
//! writers (one account, one teller, one branch and a history row per
//! transaction, `Durability::Full`) commit for a few seconds on a real
//! file; halfway through one run, `Database::backup_to` copies the
//! database. Prints the longest commit latency and the commit rate with
//! and without the backup, and how long the copy took.
//!
//! `cargo run --release -p strata-benches --example backup_stall -- [DIR] [ACCOUNTS]`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use strata_engine::{Database, Options};

const WRITERS: u64 = 4;
const RUN: Duration = Duration::from_secs(4);

fn key(i: u64) -> [u8; 8] {
    i.to_be_bytes()
}

fn load(db: &Database, accounts: u64) {
    for start in (0..accounts).step_by(50_000) {
        db.transaction(|tx| {
            for t in ["account", "teller", "branch", "history"] {
                tx.create_table(t)?;
            }
            for i in start..(start + 50_000).min(accounts) {
                tx.put("account", &key(i), &[0u8; 100])?;
            }
            for i in 0..accounts / 10_000 + 10 {
                tx.put("teller", &key(i), &[0u8; 100])?;
                tx.put("branch", &key(i), &[0u8; 100])?;
            }
            Ok(())
        })
        .unwrap();
    }
    db.checkpoint().unwrap();
}

/// Runs the writers for [`RUN`], with a backup to `backup` halfway if
/// given. Returns the longest commit latency, the commits, and how long
/// the backup took.
fn run(
    db: &Database,
    accounts: u64,
    backup: Option<std::path::PathBuf>,
) -> (Duration, u64, Duration) {
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut x = w * 7919 + 1;
                let (mut worst, mut n) = (Duration::ZERO, 0u64);
                while !stop.load(Ordering::Relaxed) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let began = Instant::now();
                    db.transaction(|tx| {
                        let a = key(x % accounts);
                        let mut v = tx.get("account", &a)?.unwrap();
                        v[0] = v[0].wrapping_add(1);
                        tx.put("account", &a, &v)?;
                        tx.put("teller", &key(x % 10), &v)?;
                        tx.put("branch", &key(w), &v)?;
                        tx.put("history", &[key(w), key(n)].concat(), &[1u8; 50])
                    })
                    .unwrap();
                    worst = worst.max(began.elapsed());
                    n += 1;
                }
                (worst, n)
            })
        })
        .collect();
    let mut took = Duration::ZERO;
    std::thread::sleep(RUN / 2);
    if let Some(dest) = backup {
        let began = Instant::now();
        db.backup_to(&dest).unwrap();
        took = began.elapsed();
    }
    std::thread::sleep(RUN / 2);
    stop.store(true, Ordering::Relaxed);
    let (mut worst, mut commits) = (Duration::ZERO, 0);
    for w in writers {
        let (t, n) = w.join().unwrap();
        worst = worst.max(t);
        commits += n;
    }
    (worst, commits, took)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "target/backup-stall".into()));
    let accounts: u64 = args.next().map_or(500_000, |a| a.parse().unwrap());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = Database::open_with(dir.join("db"), Options::default()).unwrap();
    load(&db, accounts);
    let size = std::fs::metadata(dir.join("db")).unwrap().len();
    let (worst, commits, _) = run(&db, accounts, None);
    println!(
        "without a backup: longest commit {:.1} ms, {:.0} commits/s",
        worst.as_secs_f64() * 1e3,
        commits as f64 / RUN.as_secs_f64()
    );
    let (worst, commits, took) = run(&db, accounts, Some(dir.join("copy")));
    println!(
        "with a backup of {:.1} MB taking {:.0} ms: longest commit {:.1} ms, {:.0} commits/s",
        size as f64 / 1e6,
        took.as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        commits as f64 / RUN.as_secs_f64()
    );
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
}
