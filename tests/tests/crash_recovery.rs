//! Crash recovery on the simulated disk.
//!
//! For each workload seed, a dry run counts the syncs and storage calls the
//! workload makes (creation, commits, checkpoints, the close). Then, for a
//! crash at every sync point and at random call points, the workload runs
//! again on a fresh simulated disk until the crash; several images of what
//! the disk could hold are taken from that moment (unsynced writes all
//! kept, all dropped, or each kept, dropped or garbled per 512-byte
//! sector), and each is opened. Every recovery must give exactly the
//! acknowledged commits, or those plus the one in flight (whole), and pass
//! `check()`.
//!
//! `STRATA_CRASH_SEEDS` (default 4) and `STRATA_CRASH_IMAGES` (default 6)
//! scale the run; the test prints how many crash states it checked.

use strata_engine::storage::{CrashMode, FaultPlan, SimVfs};
use strata_engine::{Database, Durability, Options};
use strata_tests::{
    Model, Outcome, Rng, Step, WORKLOAD_TABLES, apply, create_tables, dump, empty_model, env_count,
    open_sim, run_workload, sim_options, sim_path, workload,
};

/// Runs the workload on `vfs` until it ends or the disk crashes, then
/// closes the handle (which checkpoints if nothing failed).
fn run_until_crash(vfs: &SimVfs, steps: &[Step], options: Options) -> Outcome {
    let db = match Database::open_with(sim_path(), options) {
        Ok(db) => db,
        Err(e) => {
            return Outcome {
                acked: empty_model(),
                in_flight: None,
                error: Some(e),
                commits: 0,
            };
        }
    };
    let out = match create_tables(&db) {
        Ok(()) => run_workload(&db, steps, empty_model()),
        Err(e) => Outcome {
            acked: empty_model(),
            in_flight: None,
            error: Some(e),
            commits: 0,
        },
    };
    drop(db);
    let _ = vfs;
    out
}

/// Opens an image and checks it against the outcome. Returns a
/// description of the mismatch, if any.
fn verify_image(image: &SimVfs, out: &Outcome, what: &str) -> Result<(), String> {
    let db = open_sim(image).map_err(|e| format!("{what}: reopen failed: {e}"))?;
    db.check()
        .map_err(|e| format!("{what}: check failed: {e}"))?;
    let got = dump(&db, &WORKLOAD_TABLES).map_err(|e| format!("{what}: read failed: {e}"))?;
    if got == out.acked || out.in_flight.as_ref() == Some(&got) {
        Ok(())
    } else {
        Err(format!(
            "{what}: recovered state is neither the {} acknowledged commits nor those plus the one in flight ({} vs {} keys)",
            out.commits,
            got.values().map(|t| t.len()).sum::<usize>(),
            out.acked.values().map(|t| t.len()).sum::<usize>()
        ))
    }
}

fn images(vfs: &SimVfs, count: u64) -> Vec<(SimVfs, String)> {
    let mut v = vec![
        (
            vfs.snapshot_durable_image(CrashMode::KeepAll),
            "keep-all".to_string(),
        ),
        (
            vfs.snapshot_durable_image(CrashMode::DropAll),
            "drop-all".to_string(),
        ),
    ];
    for i in 2..count.max(2) {
        v.push((
            vfs.snapshot_durable_image(CrashMode::Random),
            format!("random#{i}"),
        ));
    }
    v
}

/// Options for seed `seed`: odd seeds raise the checkpoint threshold over
/// the workload's largest transactions (about 5 MB), so that they are
/// logged (and written out while encoded); even seeds keep it low, so that
/// they commit by checkpoint.
fn options_for(seed: u64, vfs: &SimVfs) -> Options {
    let mut o = sim_options(vfs);
    if seed % 2 == 1 {
        o.checkpoint_log_size = 64 << 20;
    }
    o
}

fn crash_points(seed: u64, plan: &FaultPlan) -> (SimVfs, Outcome) {
    let vfs = SimVfs::new(seed);
    vfs.set_faults(plan.clone());
    let steps = workload(seed, 60);
    let out = run_until_crash(&vfs, &steps, options_for(seed, &vfs));
    (vfs, out)
}

#[test]
fn recovery_after_a_crash_at_every_sync_point() {
    let seeds = env_count("STRATA_CRASH_SEEDS", 4);
    let per_point = env_count("STRATA_CRASH_IMAGES", 6);
    let mut states = 0u64;
    let mut failures = Vec::new();
    for seed in 0..seeds {
        // Dry run: how many syncs and calls does the whole run make?
        let dry = SimVfs::new(seed);
        let steps = workload(seed, 60);
        let out = run_until_crash(&dry, &steps, options_for(seed, &dry));
        assert!(out.error.is_none(), "dry run failed: {:?}", out.error);
        let (syncs, calls) = (dry.syncs(), dry.calls());
        assert!(
            syncs > 20,
            "the workload should sync often, synced {syncs} times"
        );

        let mut rng = Rng::new(seed ^ 0xC0FFEE);
        let mut plans: Vec<FaultPlan> = (0..=syncs)
            .map(|k| FaultPlan {
                crash_at_sync: Some(k),
                ..FaultPlan::default()
            })
            .collect();
        plans.extend((0..syncs / 2).map(|_| FaultPlan {
            crash_at_call: Some(rng.below(calls + 1)),
            ..FaultPlan::default()
        }));
        for plan in &plans {
            let (vfs, out) = crash_points(seed, plan);
            for (image, mode) in images(&vfs, per_point) {
                states += 1;
                let what = format!("seed {seed}, {plan:?}, {mode}");
                if let Err(e) = verify_image(&image, &out, &what) {
                    failures.push(e);
                }
            }
        }
    }
    println!("crash states checked: {states}");
    assert!(
        failures.is_empty(),
        "{} of {states} crash states failed; first: {}",
        failures.len(),
        failures[0]
    );
    assert!(
        states >= 2000 || seeds < 4,
        "CI must check at least 2,000 crash states, checked {states}"
    );
}

/// With `Durability::Buffered` a crash may lose the last commits, but what
/// survives is always the state after some prefix of them: never a commit
/// without the ones before it, never part of one. Commits before a
/// completed explicit checkpoint always survive.
#[test]
fn buffered_durability_loses_only_a_suffix() {
    let seeds = env_count("STRATA_CRASH_SEEDS", 4);
    let mut states = 0;
    for seed in 0..seeds {
        let steps = workload(seed + 100, 50);
        let dry = SimVfs::new(seed);
        let opts = Options {
            durability: Durability::Buffered,
            ..sim_options(&dry)
        };
        run_until_crash(&dry, &steps, opts);
        let mut rng = Rng::new(seed);
        for _ in 0..40 {
            let vfs = SimVfs::new(seed);
            vfs.set_faults(FaultPlan {
                crash_at_call: Some(rng.below(dry.calls() + 1)),
                ..FaultPlan::default()
            });
            let opts = Options {
                durability: Durability::Buffered,
                ..sim_options(&vfs)
            };
            // Track every state a prefix of commits can give.
            let mut history: Vec<Model> = vec![empty_model()];
            let mut durable_prefix = 0;
            // A crash while creating the database leaves an empty one, or
            // none (which opens as a new empty one): both match `history[0]`.
            if let Ok(db) = Database::open_with(sim_path(), opts)
                && create_tables(&db).is_ok()
            {
                for step in &steps {
                    match step {
                        Step::Checkpoint => {
                            if db.checkpoint().is_err() {
                                break;
                            }
                            durable_prefix = history.len() - 1;
                        }
                        Step::Commit(writes) => {
                            let mut next = history.last().unwrap().clone();
                            apply(&mut next, writes);
                            let out = run_workload(
                                &db,
                                std::slice::from_ref(step),
                                history.last().unwrap().clone(),
                            );
                            // In flight or acknowledged, it is a candidate.
                            history.push(next);
                            if out.error.is_some() {
                                break;
                            }
                        }
                    }
                }
            }
            for (image, mode) in images(&vfs, 4) {
                states += 1;
                let db = open_sim(&image).unwrap_or_else(|e| panic!("seed {seed} {mode}: {e}"));
                db.check().unwrap();
                let got = dump(&db, &WORKLOAD_TABLES).unwrap();
                let at = history.iter().rposition(|m| *m == got);
                assert!(
                    at.is_some_and(|i| i >= durable_prefix),
                    "seed {seed} {mode}: recovered state is not a prefix at or after the last checkpoint ({at:?} < {durable_prefix})"
                );
            }
        }
    }
    println!("buffered crash states checked: {states}");
}
