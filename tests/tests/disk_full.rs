//! A full disk, on the simulated storage (`FaultPlan::disk_limit`): every
//! write that would grow the files fails with `StorageFull`.
//!
//! For a sweep of limits above the database's size, a workload of commits
//! (some with values that need overflow pages) and checkpoints runs until
//! the disk has refused it a few times. Each refusal must be
//! [`Error::StorageFull`] and leave the handle usable: the refused commit
//! left nothing behind, reads and `check()` still work. Then the space
//! comes back: commits and checkpoints succeed again, and a power loss
//! keeps exactly the acknowledged commits. A handle closed on the full
//! disk, and a reopen while it is still full, must also lose nothing.
//! `STRATA_DISK_FULL_LIMITS` (default 24) sets how many limits are tried.

use std::collections::BTreeMap;
use std::sync::Arc;
use strata_engine::storage::{CrashMode, FaultPlan, SimVfs};
use strata_engine::{Database, Error, Options};
use strata_tests::{Model, Rng, dump, env_count, sim_path, sim_usage};

const TABLES: [&str; 2] = ["a", "b"];

fn options(vfs: &SimVfs) -> Options {
    Options {
        storage: Arc::new(vfs.clone()),
        log_preallocate: 16 << 10,
        checkpoint_log_size: 512 << 10,
        checkpoint_dirty_size: 256 << 10,
        cache_size: 64 << 10,
        ..Options::default()
    }
}

fn open(vfs: &SimVfs) -> strata_engine::Result<Database> {
    Database::open_with(sim_path(), options(vfs))
}

fn full(limit: u64) -> FaultPlan {
    FaultPlan {
        disk_limit: Some(limit),
        ..FaultPlan::default()
    }
}

/// A put (`Some` value) or delete in a table.
type Op = (&'static str, Vec<u8>, Option<Vec<u8>>);

/// One transaction of the workload: a few puts and deletes.
fn step(rng: &mut Rng) -> Vec<Op> {
    (0..1 + rng.below(6))
        .map(|_| {
            let table = TABLES[rng.below(2) as usize];
            let key = format!("key{:05}", rng.below(3000)).into_bytes();
            let value = match rng.below(10) {
                0 => None,
                1 => Some(vec![rng.below(256) as u8; 3000 + rng.below(9000) as usize]),
                _ => Some(vec![rng.below(256) as u8; 20 + rng.below(400) as usize]),
            };
            (table, key, value)
        })
        .collect()
}

fn apply(model: &mut Model, ops: &[Op]) {
    for (t, k, v) in ops {
        let t = model.get_mut(*t).unwrap();
        match v {
            Some(v) => _ = t.insert(k.clone(), v.clone()),
            None => _ = t.remove(k),
        }
    }
}

fn commit(db: &Database, ops: &[Op]) -> Result<(), Error> {
    let mut tx = db.begin()?;
    for (t, k, v) in ops {
        match v {
            Some(v) => tx.put(t, k, v)?,
            None => _ = tx.delete(t, k)?,
        }
    }
    tx.commit()
}

/// The state of `db` must be `model`, and the database whole.
fn verify(db: &Database, model: &Model, what: &str) -> Result<(), String> {
    db.check().map_err(|e| format!("{what}: check: {e}"))?;
    let got = dump(db, &TABLES).map_err(|e| format!("{what}: read: {e}"))?;
    if got != *model {
        return Err(format!("{what}: not the acknowledged state"));
    }
    Ok(())
}

/// Runs one limit; returns how many refusals it saw.
fn run(i: u64, errors: &mut Vec<String>) -> u64 {
    let vfs = SimVfs::new(i);
    let db = open(&vfs).unwrap();
    let mut model: Model = TABLES
        .iter()
        .map(|t| (t.to_string(), BTreeMap::new()))
        .collect();
    db.transaction(|tx| TABLES.iter().try_for_each(|t| tx.create_table(t)))
        .unwrap();
    let mut rng = Rng::new(i);
    for _ in 0..20 {
        let ops = step(&mut rng);
        commit(&db, &ops).unwrap();
        apply(&mut model, &ops);
    }
    db.checkpoint().unwrap();
    // From a little room to a few growths of the log.
    let limit = sim_usage(&vfs) + (i % 20) * 48 * 1024 + rng.below(4096);
    vfs.set_faults(full(limit));
    let mut refusals = 0;
    let mut steps = 0;
    while refusals < 4 && steps < 2000 {
        steps += 1;
        let what = format!("limit {i}, step {steps}");
        if rng.below(25) == 0 {
            match db.checkpoint() {
                Ok(()) => {}
                Err(Error::StorageFull(_)) => refusals += 1,
                Err(e) => {
                    errors.push(format!("{what}: checkpoint: {e:?}"));
                    return refusals;
                }
            }
            continue;
        }
        let ops = step(&mut rng);
        match commit(&db, &ops) {
            Ok(()) => apply(&mut model, &ops),
            Err(Error::StorageFull(_)) => {
                refusals += 1;
                // The handle is usable, and the refused commit left
                // nothing behind.
                if let Err(e) = verify(&db, &model, &what) {
                    errors.push(e);
                    return refusals;
                }
            }
            Err(e) => {
                errors.push(format!("{what}: commit: {e:?}"));
                return refusals;
            }
        }
    }
    if refusals == 0 {
        errors.push(format!("limit {i}: the disk never filled"));
        return 0;
    }
    let what = format!("limit {i}, after the refusals");
    if let Err(e) = verify(&db, &model, &what) {
        errors.push(e);
        return refusals;
    }
    if i.is_multiple_of(2) {
        // Space comes back: writes resume on the same handle.
        vfs.set_faults(FaultPlan::default());
        let mut ok = || -> Result<(), String> {
            for _ in 0..10 {
                let ops = step(&mut rng);
                commit(&db, &ops).map_err(|e| format!("{what}: commit with space: {e}"))?;
                apply(&mut model, &ops);
            }
            db.checkpoint()
                .map_err(|e| format!("{what}: checkpoint with space: {e}"))?;
            let ops = step(&mut rng);
            commit(&db, &ops).map_err(|e| format!("{what}: last commit: {e}"))?;
            apply(&mut model, &ops);
            Ok(())
        };
        if let Err(e) = ok() {
            errors.push(e);
            return refusals;
        }
        let image = vfs.crash(CrashMode::DropAll);
        drop(db);
        let r = open(&image)
            .map_err(|e| format!("{what}: reopen after power loss: {e}"))
            .and_then(|db| verify(&db, &model, &format!("{what}, power loss")));
        if let Err(e) = r {
            errors.push(e);
        }
    } else {
        // Closed on the full disk (the close's checkpoint may fail), and
        // reopened while still full: either it opens, or it says the disk
        // is full; then with space, and after a power loss.
        drop(db);
        match open(&vfs) {
            Ok(db) => {
                if let Err(e) = verify(&db, &model, &format!("{what}, reopened full")) {
                    errors.push(e);
                }
            }
            Err(Error::StorageFull(_)) => {}
            Err(e) => errors.push(format!("{what}: reopen while full: {e:?}")),
        }
        vfs.set_faults(FaultPlan::default());
        let r = open(&vfs)
            .map_err(|e| format!("{what}: reopen with space: {e}"))
            .and_then(|db| {
                verify(&db, &model, &format!("{what}, reopened"))?;
                let ops = step(&mut rng);
                commit(&db, &ops).map_err(|e| format!("{what}: commit: {e}"))?;
                apply(&mut model, &ops);
                let image = vfs.crash(CrashMode::DropAll);
                drop(db);
                let db = open(&image).map_err(|e| format!("{what}: power loss: {e}"))?;
                verify(&db, &model, &format!("{what}, power loss"))
            });
        if let Err(e) = r {
            errors.push(e);
        }
    }
    refusals
}

#[test]
fn a_full_disk_refuses_cleanly_and_writes_resume() {
    let limits = env_count("STRATA_DISK_FULL_LIMITS", 24);
    let mut errors = Vec::new();
    let mut refusals = 0;
    for i in 0..limits {
        refusals += run(i, &mut errors);
    }
    println!("{limits} limits, {refusals} refusals");
    assert!(
        errors.is_empty(),
        "{} failures; first ones:\n{}",
        errors.len(),
        errors[..errors.len().min(10)].join("\n")
    );
}
