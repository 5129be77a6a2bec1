//! Bank transfers through the ORM, for the suites that run them on either
//! store and under member faults: accounts whose balances move between
//! them, a transfer row written with each move (its key says which client
//! made it), and auditors that sum every balance in read-only sessions
//! (one snapshot each).
//!
//! The invariants: every audit sees exactly the initial total, and no
//! balance is negative; at the end the total is exact and every transfer
//! a client saw committed is stored.

use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use strata::{Database, Error, Model};

/// Accounts opened.
pub const ACCOUNTS: i64 = 10;
/// Each account's opening balance.
pub const INITIAL: i64 = 1_000;

/// An account.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "account")]
pub struct Account {
    /// Its number.
    #[strata(primary_key)]
    pub id: i64,
    /// Its balance.
    pub balance: i64,
}

/// A committed transfer; its key is `(client + 1) * 1_000_000 + n`
/// (never 0, which would ask for an automatic key).
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "transfer")]
pub struct Transfer {
    /// Which client, and its count.
    #[strata(primary_key)]
    pub id: i64,
    /// From which account.
    pub from: i64,
    /// To which.
    pub to: i64,
    /// How much.
    pub amount: i64,
}

/// Opens the accounts.
pub fn open_accounts(db: &Database) {
    db.transaction(|s| {
        for id in 1..=ACCOUNTS {
            s.add(&mut Account {
                id,
                balance: INITIAL,
            })?;
        }
        Ok(())
    })
    .expect("open the accounts");
}

/// What a run counted.
#[derive(Debug, Default)]
pub struct Counts {
    /// Transfers committed (and acknowledged).
    pub committed: u64,
    /// Attempts run again after a conflict, inside `transaction`.
    pub retries: u64,
    /// Transactions that failed with another error (unavailable, unknown
    /// outcome, retries exhausted), and were given up.
    pub failed: u64,
    /// Audits that passed.
    pub audits: u64,
    /// Ids of the acknowledged transfers.
    pub acknowledged: Vec<i64>,
    /// Ids of transfers whose outcome is unknown.
    pub unknown: Vec<i64>,
    /// Errors other than conflicts, as text, first few.
    pub errors: Vec<String>,
}

/// The sum of the balances and the smallest, in one read-only session.
pub fn audit(db: &Database) -> Result<(i64, i64), Error> {
    let s = db.read_session()?;
    let all = s.query::<Account>().all()?;
    Ok((
        all.iter().map(|a| a.balance).sum(),
        all.iter().map(|a| a.balance).min().unwrap_or(0),
    ))
}

/// Runs `clients` transferring threads and `auditors` auditing threads
/// until each client has tried `per_client` transfers or `stop` is set,
/// counting commits in `progress` as they happen. Panics on a wrong
/// audit.
pub fn run(
    db: &Database,
    clients: i64,
    per_client: i64,
    auditors: usize,
    stop: &Arc<AtomicBool>,
    progress: &Arc<AtomicU64>,
) -> Counts {
    let done = Arc::new(AtomicBool::new(false));
    let audits = Arc::new(AtomicU64::new(0));
    let auditing: Vec<_> = (0..auditors)
        .map(|_| {
            let (db, done, audits) = (db.clone(), done.clone(), audits.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    match audit(&db) {
                        Ok((sum, min)) => {
                            assert_eq!(sum, ACCOUNTS * INITIAL, "an audit saw a wrong total");
                            assert!(min >= 0, "an audit saw a negative balance");
                            audits.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        })
        .collect();
    let transferring: Vec<_> = (0..clients)
        .map(|c| {
            let (db, stop, progress) = (db.clone(), stop.clone(), progress.clone());
            std::thread::spawn(move || client(&db, c, per_client, &stop, &progress))
        })
        .collect();
    let mut counts = Counts::default();
    for t in transferring {
        let c = t.join().expect("a client panicked");
        counts.committed += c.committed;
        counts.retries += c.retries;
        counts.failed += c.failed;
        counts.acknowledged.extend(c.acknowledged);
        counts.unknown.extend(c.unknown);
        counts.errors.extend(c.errors.into_iter().take(3));
    }
    done.store(true, Ordering::Relaxed);
    for a in auditing {
        a.join().expect("an auditor panicked");
    }
    counts.audits = audits.load(Ordering::Relaxed);
    counts
}

fn client(
    db: &Database,
    c: i64,
    per_client: i64,
    stop: &AtomicBool,
    progress: &AtomicU64,
) -> Counts {
    let mut counts = Counts::default();
    let mut seed = (c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for n in 0..per_client {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let from = 1 + (next() % ACCOUNTS as u64) as i64;
        let to = 1 + (from + (next() % (ACCOUNTS as u64 - 1)) as i64) % ACCOUNTS;
        let amount = 1 + (next() % 50) as i64;
        let id = (c + 1) * 1_000_000 + n;
        let mut attempts = 0;
        let r = db.transaction(|s| {
            attempts += 1;
            let mut a = s.get::<Account>(from)?.expect("account");
            let mut b = s.get::<Account>(to)?.expect("account");
            if a.balance < amount {
                return Ok(false);
            }
            a.balance -= amount;
            b.balance += amount;
            s.update(&a)?;
            s.update(&b)?;
            s.add(&mut Transfer {
                id,
                from,
                to,
                amount,
            })?;
            Ok(true)
        });
        counts.retries += attempts - 1;
        match r {
            Ok(true) => {
                progress.fetch_add(1, Ordering::Relaxed);
                counts.committed += 1;
                counts.acknowledged.push(id);
            }
            Ok(false) => {}
            Err(e) => {
                counts.failed += 1;
                if matches!(
                    e,
                    Error::Engine(strata::engine::Error::OutcomeUnknown { .. })
                ) {
                    counts.unknown.push(id);
                }
                if counts.errors.len() < 3 {
                    counts.errors.push(e.to_string());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    counts
}

/// Checks the end state: the total is exact, every acknowledged transfer
/// is stored, and every stored transfer was acknowledged or has an
/// unknown outcome. Retries reads for up to `patience` (the cluster may
/// still be electing a leader).
pub fn check_end(db: &Database, counts: &Counts, patience: Duration) {
    let start = Instant::now();
    let stored = loop {
        match (|| -> Result<_, Error> {
            let s = db.read_session()?;
            let total: i64 = s.query::<Account>().all()?.iter().map(|a| a.balance).sum();
            let ids: Vec<i64> = s.query::<Transfer>().all()?.iter().map(|t| t.id).collect();
            Ok((total, ids))
        })() {
            Ok(v) => break v,
            Err(e) if start.elapsed() < patience => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("the end state cannot be read: {e}"),
        }
    };
    assert_eq!(stored.0, ACCOUNTS * INITIAL, "the total at the end");
    let stored: std::collections::BTreeSet<i64> = stored.1.into_iter().collect();
    for id in &counts.acknowledged {
        assert!(stored.contains(id), "acknowledged transfer {id} was lost");
    }
    for id in &stored {
        assert!(
            counts.acknowledged.contains(id) || counts.unknown.contains(id),
            "transfer {id} is stored but was never acknowledged"
        );
    }
}
