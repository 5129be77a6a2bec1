//! Fault loops: for every storage call `i` a workload makes, fail call `i`
//! once, and (separately) fail every call from `i` on. The handle must
//! report the failure as an I/O error (or, afterwards, as poisoned), never
//! as corruption and never by panicking; a failed commit must poison the
//! handle; and after reopening, the state must be the acknowledged commits
//! (plus at most the one in flight) and pass `check()`.

use strata_engine::Options;
use strata_engine::storage::{FaultPlan, SimVfs};
use strata_engine::{Database, Error};
use strata_tests::{
    Outcome, WORKLOAD_TABLES, create_tables, dump, empty_model, run_workload, sim_options,
    sim_path, workload,
};

/// A cache of 16 pages, so that reads reach the disk and can fail too.
fn open_sim(vfs: &SimVfs) -> strata_engine::Result<Database> {
    let opts = Options {
        cache_size: 16 * 4096,
        ..sim_options(vfs)
    };
    Database::open_with(sim_path(), opts)
}

const SEED: u64 = 11;
const STEPS: usize = 120;

fn run(vfs: &SimVfs) -> (Outcome, Option<Database>) {
    let steps = workload(SEED, STEPS);
    let db = match open_sim(vfs) {
        Ok(db) => db,
        Err(e) => {
            return (
                Outcome {
                    acked: empty_model(),
                    in_flight: None,
                    error: Some(e),
                    commits: 0,
                },
                None,
            );
        }
    };
    let out = match create_tables(&db) {
        Ok(()) => run_workload(&db, &steps, empty_model()),
        Err(e) => Outcome {
            acked: empty_model(),
            in_flight: Some(empty_model()),
            error: Some(e),
            commits: 0,
        },
    };
    (out, Some(db))
}

fn check_plan(plan: FaultPlan) -> Result<bool, String> {
    let vfs = SimVfs::new(SEED);
    vfs.set_faults(plan.clone());
    let (out, db) = run(&vfs);
    let failed = out.error.is_some();
    if let Some(e) = &out.error {
        if !matches!(e, Error::Io(_) | Error::Poisoned { .. }) {
            return Err(format!("{plan:?}: failure reported as {e}"));
        }
        // A failed commit leaves memory ahead of the disk: poisoned.
        if out.in_flight.is_some()
            && let Some(db) = &db
            && !matches!(db.begin(), Err(Error::Poisoned { .. }))
        {
            return Err(format!(
                "{plan:?}: a failed commit did not poison the handle"
            ));
        }
    }
    drop(db);
    vfs.set_faults(FaultPlan::default());
    let db = open_sim(&vfs).map_err(|e| format!("{plan:?}: reopen failed: {e}"))?;
    db.check()
        .map_err(|e| format!("{plan:?}: check failed: {e}"))?;
    let got = dump(&db, &WORKLOAD_TABLES).map_err(|e| format!("{plan:?}: {e}"))?;
    if got != out.acked && out.in_flight.as_ref() != Some(&got) {
        return Err(format!(
            "{plan:?}: state after reopen is not the {} acknowledged commits (error was {:?})",
            out.commits, out.error
        ));
    }
    Ok(failed)
}

fn total_calls() -> u64 {
    let vfs = SimVfs::new(SEED);
    let (out, db) = run(&vfs);
    assert!(out.error.is_none());
    drop(db);
    vfs.calls()
}

#[test]
fn fail_each_call_once() {
    let calls = total_calls();
    let mut errors = Vec::new();
    let mut reported = 0;
    for i in 0..calls {
        match check_plan(FaultPlan {
            fail_call: Some(i),
            ..FaultPlan::default()
        }) {
            Ok(failed) => reported += u64::from(failed),
            Err(e) => errors.push(e),
        }
    }
    println!("fail-once: {calls} calls, {reported} failures surfaced to the caller");
    assert!(
        errors.is_empty(),
        "{} failures; first: {}",
        errors.len(),
        errors[0]
    );
    // Failures during the close's checkpoint are swallowed by drop; all
    // the others reach the caller.
    assert!(
        reported * 2 > calls,
        "only {reported} of {calls} failures were reported"
    );
}

#[test]
fn fail_every_call_from_i() {
    let calls = total_calls();
    let mut errors = Vec::new();
    for i in 0..calls {
        if let Err(e) = check_plan(FaultPlan {
            fail_from: Some(i),
            ..FaultPlan::default()
        }) {
            errors.push(e);
        }
    }
    println!("fail-from: {calls} starting points");
    assert!(
        errors.is_empty(),
        "{} failures; first: {}",
        errors.len(),
        errors[0]
    );
}
