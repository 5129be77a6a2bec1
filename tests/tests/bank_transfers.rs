//! Bank transfers: 16 accounts, 8 threads moving random amounts between
//! them through `Database::transaction`, 2 auditors summing every balance
//! in read-only transactions. Every audit must see the exact initial
//! total, no balance may go negative, and the total must still be exact at
//! the end. Then the same on the simulated disk, crashed at random
//! moments: after each recovery the total is exact and every acknowledged
//! transfer is there.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use strata_engine::storage::{CrashMode, FaultPlan, SimVfs};
use strata_engine::{Database, Error, Options, Transaction};
use strata_tests::{Rng, TempDir, env_count, sim_options, sim_path};

const ACCOUNTS: u64 = 16;
const INITIAL: i64 = 1_000;

fn account(i: u64) -> Vec<u8> {
    format!("acct{i:02}").into_bytes()
}

fn balance(tx: &Transaction, i: u64) -> Result<i64, Error> {
    let v = tx.get("accounts", &account(i))?.expect("account exists");
    Ok(i64::from_le_bytes(v.try_into().expect("8 bytes")))
}

fn open_bank(db: &Database) {
    let mut tx = db.begin().unwrap();
    tx.create_table("accounts").unwrap();
    tx.create_table("ledger").unwrap();
    for i in 0..ACCOUNTS {
        tx.put("accounts", &account(i), &INITIAL.to_le_bytes())
            .unwrap();
    }
    tx.commit().unwrap();
}

/// One transfer, recorded in the ledger under its id. Returns whether it
/// moved money (it does not when the source lacks funds).
fn transfer(db: &Database, id: u64, from: u64, to: u64, amount: i64) -> Result<bool, Error> {
    db.transaction(|tx| {
        let (a, b) = (balance(tx, from)?, balance(tx, to)?);
        if a < amount {
            return Ok(false);
        }
        tx.put("accounts", &account(from), &(a - amount).to_le_bytes())?;
        tx.put("accounts", &account(to), &(b + amount).to_le_bytes())?;
        tx.put("ledger", &id.to_be_bytes(), &amount.to_le_bytes())?;
        Ok(true)
    })
}

/// The sum of all balances, and the smallest, read in one transaction.
fn audit(db: &Database) -> Result<(i64, i64), Error> {
    let tx = db.begin_read()?;
    let mut sum = 0;
    let mut min = i64::MAX;
    for kv in tx.range("accounts", ..)? {
        let (_, v) = kv?;
        let b = i64::from_le_bytes(v.try_into().expect("8 bytes"));
        sum += b;
        min = min.min(b);
    }
    tx.commit()?;
    Ok((sum, min))
}

#[test]
fn transfers_and_audits_keep_the_total() {
    let dir = TempDir::new("bank");
    let opts = Options {
        max_retries: 1000,
        ..Options::default()
    };
    let db = Database::open_with(dir.path().join("bank"), opts).unwrap();
    open_bank(&db);
    let per_thread = env_count("STRATA_BANK_TRANSFERS", 300);
    let stop = Arc::new(AtomicBool::new(false));
    let audits = Arc::new(AtomicU64::new(0));
    let auditors: Vec<_> = (0..2)
        .map(|_| {
            let (db, stop, audits) = (db.clone(), stop.clone(), audits.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let (sum, min) = audit(&db).unwrap();
                    assert_eq!(
                        sum,
                        INITIAL * ACCOUNTS as i64,
                        "an audit saw money created or lost"
                    );
                    assert!(min >= 0, "an audit saw a negative balance");
                    audits.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let movers: Vec<_> = (0..8u64)
        .map(|t| {
            let db = db.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(t);
                let mut moved = 0;
                for n in 0..per_thread {
                    let from = rng.below(ACCOUNTS);
                    let to = (from + 1 + rng.below(ACCOUNTS - 1)) % ACCOUNTS;
                    let amount = 1 + rng.below(300) as i64;
                    moved += u64::from(transfer(&db, t << 32 | n, from, to, amount).unwrap());
                }
                moved
            })
        })
        .collect();
    let moved: u64 = movers.into_iter().map(|h| h.join().unwrap()).sum();
    stop.store(true, Ordering::Relaxed);
    for a in auditors {
        a.join().unwrap();
    }
    let (sum, min) = audit(&db).unwrap();
    assert_eq!(sum, INITIAL * ACCOUNTS as i64);
    assert!(min >= 0);
    let stats = db.stats();
    println!(
        "{moved} transfers moved money, {} audits; {} commits, {} syncs, {} lock waits, {} deadlocks, {} retries",
        audits.load(Ordering::Relaxed),
        stats.commits,
        stats.log_syncs,
        stats.lock_waits,
        stats.deadlocks,
        stats.retries
    );
    assert!(moved > 0 && audits.load(Ordering::Relaxed) > 0);
    // Every transfer that moved money is in the ledger.
    let tx = db.begin_read().unwrap();
    assert_eq!(tx.range("ledger", ..).unwrap().count() as u64, moved);
    db.check().unwrap();
}

#[test]
fn transfers_survive_crashes() {
    let runs = env_count("STRATA_BANK_CRASHES", 12);
    for run in 0..runs {
        let vfs = SimVfs::new(run);
        let opts = Options {
            max_retries: 1000,
            ..sim_options(&vfs)
        };
        let db = Database::open_with(sim_path(), opts).unwrap();
        open_bank(&db);
        // Crash somewhere in the next few thousand storage calls.
        let mut rng = Rng::new(run ^ 77);
        vfs.set_faults(FaultPlan {
            crash_at_call: Some(vfs.calls() + 50 + rng.below(1500)),
            ..FaultPlan::default()
        });
        let movers: Vec<_> = (0..8u64)
            .map(|t| {
                let db = db.clone();
                thread::spawn(move || {
                    let mut rng = Rng::new(run * 100 + t);
                    let mut acked = Vec::new();
                    for n in 0..200u64 {
                        let from = rng.below(ACCOUNTS);
                        let to = (from + 1 + rng.below(ACCOUNTS - 1)) % ACCOUNTS;
                        let amount = 1 + rng.below(300) as i64;
                        let id = t << 32 | n;
                        match transfer(&db, id, from, to, amount) {
                            Ok(true) => acked.push((id, amount)),
                            Ok(false) => {}
                            Err(_) => break, // the disk is gone
                        }
                    }
                    acked
                })
            })
            .collect();
        let acked: Vec<(u64, i64)> = movers.into_iter().flat_map(|h| h.join().unwrap()).collect();
        for mode in [
            CrashMode::DropAll,
            CrashMode::Random,
            CrashMode::Random,
            CrashMode::KeepAll,
        ] {
            let image = vfs.snapshot_durable_image(mode);
            let db = Database::open_with(sim_path(), sim_options(&image)).unwrap();
            db.check().unwrap();
            let (sum, min) = audit(&db).unwrap();
            assert_eq!(
                sum,
                INITIAL * ACCOUNTS as i64,
                "run {run} {mode:?}: total after recovery"
            );
            assert!(min >= 0);
            let tx = db.begin_read().unwrap();
            for (id, amount) in &acked {
                let v = tx.get("ledger", &id.to_be_bytes()).unwrap();
                assert_eq!(
                    v,
                    Some(amount.to_le_bytes().to_vec()),
                    "run {run} {mode:?}: acknowledged transfer {id:#x} lost"
                );
            }
        }
        assert!(
            vfs.is_crashed(),
            "run {run}: the crash point was never reached"
        );
    }
}
