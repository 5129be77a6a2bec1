//! A migration crashed on the simulated disk: a table of 10,000 rows gains
//! an `Option` field, a field with a default and an index, and the machine
//! crashes at every sync point of the migration, and at call points
//! between them. Each crash image, reopened, is at the old version (every
//! row as version 1 wrote it, an empty log) or the new one (every row
//! read through version 2, the migration logged), passes `check()`, and
//! opening it with the migrations again completes the migration.
//!
//! `STRATA_CRASH_IMAGES` (default 3) images per crash point.

use serde::{Deserialize, Serialize};
use strata::{Database, Migrations, Model};
use strata_engine::storage::{CrashMode, FaultPlan, SimVfs};
use strata_tests::{Rng, env_count, sim_options, sim_path};

const ROWS: i64 = 10_000;

mod v1 {
    use super::*;
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        pub author: String,
    }
}

mod v2 {
    use super::*;
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        #[strata(index)]
        pub author: String,
        pub views: Option<i64>,
        #[strata(default = 3)]
        pub score: i64,
    }
}

fn v1_rows() -> Vec<v1::Post> {
    (1..=ROWS)
        .map(|i| v1::Post {
            id: i,
            title: format!("post number {i}"),
            author: format!("author {}", i % 97),
        })
        .collect()
}

fn v2_rows() -> Vec<v2::Post> {
    v1_rows()
        .into_iter()
        .map(|p| v2::Post {
            id: p.id,
            title: p.title,
            author: p.author,
            views: None,
            score: 3,
        })
        .collect()
}

fn migrations() -> Migrations {
    Migrations::new().model::<v2::Post>()
}

fn open(vfs: &SimVfs) -> strata::Result<Database> {
    Database::open_with(sim_path(), sim_options(vfs))
}

/// A disk holding version 1's 10,000 rows, all durable.
fn base() -> SimVfs {
    let vfs = SimVfs::new(7);
    let db = open(&vfs).unwrap();
    let mut rows = v1_rows();
    let mut s = db.session().unwrap();
    s.add_all(&mut rows).unwrap();
    s.commit().unwrap();
    drop(db);
    vfs.snapshot_durable_image(CrashMode::DropAll)
}

/// Runs the migration on a copy of `base` under `plan`; returns the disk.
fn migrate_until_crash(base: &SimVfs, plan: Option<FaultPlan>) -> SimVfs {
    let vfs = base.snapshot_durable_image(CrashMode::DropAll);
    if let Some(plan) = plan {
        vfs.set_faults(plan);
    }
    if let Ok(db) = open(&vfs) {
        let _ = db.migrate(&migrations());
    }
    vfs
}

/// Checks one crash image: old or new version, whole, and completable.
fn verify(image: &SimVfs, what: &str) -> Result<(), String> {
    let db = open(image).map_err(|e| format!("{what}: reopen: {e}"))?;
    let rows = db.check().map_err(|e| format!("{what}: check: {e}"))?;
    if rows != ROWS as u64 {
        return Err(format!("{what}: {rows} rows"));
    }
    let history = db.schema_history().map_err(|e| e.to_string())?;
    let s = db.read_session().map_err(|e| e.to_string())?;
    let whole = if history.is_empty() {
        s.query::<v1::Post>().all().map(|r| r == v1_rows())
    } else {
        s.query::<v2::Post>().all().map(|r| r == v2_rows())
    }
    .map_err(|e| format!("{what}: read ({} log entries): {e}", history.len()))?;
    if !whole {
        return Err(format!("{what}: rows differ from their version"));
    }
    drop(s);
    db.migrate(&migrations())
        .map_err(|e| format!("{what}: migrating again: {e}"))?;
    let s = db.read_session().map_err(|e| e.to_string())?;
    if s.query::<v2::Post>().all().map_err(|e| e.to_string())? != v2_rows() {
        return Err(format!("{what}: rows differ after completing"));
    }
    drop(s);
    db.check()
        .map_err(|e| format!("{what}: check after completing: {e}"))?;
    Ok(())
}

#[test]
fn a_migration_crashed_at_every_sync_point_is_old_or_new() {
    let per_point = env_count("STRATA_CRASH_IMAGES", 3);
    let base = base();
    let dry = migrate_until_crash(&base, None);
    let (syncs, calls) = (dry.syncs(), dry.calls());
    verify(&dry, "no crash").unwrap();
    assert!(
        syncs >= 2,
        "the migration should sync, synced {syncs} times"
    );
    let mut rng = Rng::new(0x5EED);
    let mut plans: Vec<FaultPlan> = (0..=syncs)
        .map(|k| FaultPlan {
            crash_at_sync: Some(k),
            ..FaultPlan::default()
        })
        .collect();
    plans.extend((0..8).map(|_| FaultPlan {
        crash_at_call: Some(rng.below(calls + 1)),
        ..FaultPlan::default()
    }));
    let (mut states, mut failures) = (0, Vec::new());
    for plan in &plans {
        let vfs = migrate_until_crash(&base, Some(plan.clone()));
        let mut images = vec![
            (vfs.snapshot_durable_image(CrashMode::KeepAll), "keep-all"),
            (vfs.snapshot_durable_image(CrashMode::DropAll), "drop-all"),
        ];
        for _ in 2..per_point.max(2) {
            images.push((vfs.snapshot_durable_image(CrashMode::Random), "random"));
        }
        for (image, mode) in images {
            states += 1;
            if let Err(e) = verify(&image, &format!("{plan:?}, {mode}")) {
                failures.push(e);
            }
        }
    }
    println!("migration crash states checked: {states} ({syncs} sync points)");
    assert!(
        failures.is_empty(),
        "{} of {states} crash states failed; first: {}",
        failures.len(),
        failures[0]
    );
}
