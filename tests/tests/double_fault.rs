//! Double faults: a crash or an I/O error during recovery itself.
//!
//! A few starting states need recovery: committed transactions in the log
//! that the data file does not hold yet, and a checkpoint that a crash
//! interrupted (its pages written, its meta page torn or lost). For each,
//! a dry run counts the storage calls and syncs of the recovering open
//! (reading the files, replaying the log, and the checkpoint that opening
//! runs after a replay). Then for every call index `i` of that open:
//!
//! * crash the machine at call `i`, and open each crash image (everything
//!   kept, nothing unsynced kept, random sector damage) cleanly;
//! * fail call `i` once, then fail every call from `i` on, and reopen in
//!   the same boot (the failed writes may still be readable), then commit
//!   one more transaction and lose power: that image must hold it too.
//!
//! and the same for a crash at every sync index, and for a full disk (no
//! room at all, and up to three pages of room) during the open. Every
//! clean open must give exactly the acknowledged commits and pass
//! `check()`; the failing open must report an I/O error or a full disk
//! (never corruption, never a panic).
//!
//! Then the same for creating a database (`faults_while_creating_still_open`):
//! every call and sync of an open that creates the database, a first
//! commit and the close, crashed at, failed once and failed from on. Every
//! image opens (to no table, or to the commit if it was acknowledged),
//! passes `check()` and is left without temporary files; after a failure,
//! the same boot reopens and takes a commit that survives a power loss.
//! And for the opens that put a new log in place of the old one after a
//! checkpoint (`faults_while_replacing_the_log`): upgrading the committed
//! format-version-2 crash image, whose log replays first, and opening a
//! crashed database whose log is gone with `recover_without_log`. Every
//! image opens to the same contents.
//!
//! `STRATA_DOUBLE_FAULT_IMAGES` (default 2) sets how many random crash
//! images are taken per crash point, besides keep-all and drop-all.

use std::collections::BTreeMap;
use strata_engine::storage::{CrashMode, FaultPlan, SimVfs};
use strata_engine::{Database, Error, Options};
use strata_tests::{Model, dump, env_count, sim_options_manual, sim_path, sim_usage};

const TABLES: [&str; 3] = ["t1", "t2", "t3"];
const PS: usize = 4096;

/// No automatic checkpoints; a cache small enough that recovery and
/// checks read pages from the file.
fn options(vfs: &SimVfs) -> Options {
    sim_options_manual(vfs, 32 << 10)
}

fn open(vfs: &SimVfs) -> strata_engine::Result<Database> {
    Database::open_with(sim_path(), options(vfs))
}

/// A database's files, as a starting state, and what was acknowledged.
struct Start {
    name: &'static str,
    image: SimVfs,
    acked: Model,
}

fn copy(image: &SimVfs) -> SimVfs {
    let vfs = SimVfs::new(77);
    for path in image.list_files() {
        vfs.write_file(&path, &image.read_file(&path).unwrap());
    }
    vfs
}

fn commit(db: &Database, model: &mut Model, table: &str, key: &str, value: Vec<u8>) {
    let mut tx = db.begin().unwrap();
    tx.put(table, key.as_bytes(), &value).unwrap();
    tx.commit().unwrap();
    model
        .get_mut(table)
        .unwrap()
        .insert(key.as_bytes().to_vec(), value);
}

/// Tables with a few hundred keys, some overflow values, checkpointed.
fn base(vfs: &SimVfs) -> (Database, Model) {
    let db = open(vfs).unwrap();
    let mut model: Model = TABLES
        .iter()
        .map(|t| (t.to_string(), BTreeMap::new()))
        .collect();
    let mut tx = db.begin().unwrap();
    for t in TABLES {
        tx.create_table(t).unwrap();
    }
    for i in 0..300u32 {
        let t = TABLES[i as usize % 3];
        let key = format!("k{i:04}");
        let value = vec![
            i as u8;
            if i % 50 == 7 {
                6000
            } else {
                30 + i as usize % 90
            }
        ];
        tx.put(t, key.as_bytes(), &value).unwrap();
        model.get_mut(t).unwrap().insert(key.into_bytes(), value);
    }
    tx.commit().unwrap();
    db.checkpoint().unwrap();
    (db, model)
}

/// Transactions that only the log holds.
fn logged(db: &Database, model: &mut Model) {
    for i in 0..6u32 {
        let t = TABLES[i as usize % 3];
        commit(
            db,
            model,
            t,
            &format!("k{:04}", i * 37),
            vec![0xC0 | i as u8; 200],
        );
    }
    commit(db, model, "t2", "big", vec![0xEE; 9000]);
    let mut tx = db.begin().unwrap();
    tx.delete("t1", b"k0003").unwrap();
    tx.commit().unwrap();
    model.get_mut("t1").unwrap().remove(&b"k0003"[..]);
}

fn starts() -> Vec<Start> {
    let mut out = Vec::new();
    // Commits in the log, none of them in the data file.
    let vfs = SimVfs::new(1);
    let (db, mut model) = base(&vfs);
    logged(&db, &mut model);
    out.push(Start {
        name: "log to replay",
        image: vfs.crash(CrashMode::KeepAll),
        acked: model,
    });
    drop(db);
    // A checkpoint interrupted at its meta page's sync: the pages are
    // written and synced, the meta page is lost, or torn (its first sector
    // written, its second garbage), and the log still holds everything.
    for torn in [false, true] {
        let vfs = SimVfs::new(2);
        let (db, mut model) = base(&vfs);
        logged(&db, &mut model);
        let before = vfs.read_file(&sim_path()).unwrap();
        // Every commit is synced already, so the checkpoint syncs the
        // pages, then the meta page.
        vfs.set_faults(FaultPlan {
            crash_at_sync: Some(vfs.syncs() + 1),
            ..FaultPlan::default()
        });
        assert!(db.checkpoint().is_err());
        let image = vfs.crash(if torn {
            CrashMode::KeepAll
        } else {
            CrashMode::DropAll
        });
        drop(db);
        if torn {
            let mut data = image.read_file(&sim_path()).unwrap();
            let slot = [1, 2]
                .into_iter()
                .find(|&p| data[p * PS..(p + 1) * PS] != before[p * PS..(p + 1) * PS])
                .expect("the checkpoint wrote a meta page");
            data[slot * PS + 512..slot * PS + 1024].fill(0xA5);
            image.write_file(&sim_path(), &data);
        }
        out.push(Start {
            name: if torn {
                "checkpoint torn at its meta page"
            } else {
                "checkpoint lost at its meta page"
            },
            image,
            acked: model,
        });
    }
    out
}

/// Opens `vfs` cleanly and compares with `acked`.
fn verify(vfs: &SimVfs, acked: &Model, what: &str) -> Result<Database, String> {
    let db = open(vfs).map_err(|e| format!("{what}: clean open failed: {e}"))?;
    db.check()
        .map_err(|e| format!("{what}: check failed: {e}"))?;
    let got = dump(&db, &TABLES).map_err(|e| format!("{what}: read failed: {e}"))?;
    if got != *acked {
        return Err(format!(
            "{what}: not the acknowledged state ({} keys, expected {})",
            got.values().map(|t| t.len()).sum::<usize>(),
            acked.values().map(|t| t.len()).sum::<usize>()
        ));
    }
    Ok(db)
}

/// The open under `plan` must fail with an I/O error, or succeed.
fn faulty_open(vfs: &SimVfs, plan: &FaultPlan, what: &str) -> Result<(), String> {
    vfs.set_faults(plan.clone());
    match open(vfs) {
        Ok(db) => drop(db),
        Err(Error::Io(_) | Error::StorageFull(_) | Error::Poisoned { .. }) => {}
        Err(e) => return Err(format!("{what}: the faulty open reported {e:?}")),
    }
    vfs.set_faults(FaultPlan::default());
    Ok(())
}

/// After a failed open in the same boot: reopen, commit one more
/// transaction, lose power; the image must hold it and everything before.
fn reopen_commit_power_loss(vfs: &SimVfs, acked: &Model, what: &str) -> Result<(), String> {
    let db = verify(vfs, acked, &format!("{what}, reopened"))?;
    let mut after = acked.clone();
    let mut tx = db.begin().map_err(|e| format!("{what}: begin: {e}"))?;
    tx.put("t3", b"after", b"acknowledged after the reopen")
        .and_then(|()| tx.commit())
        .map_err(|e| format!("{what}: commit after the reopen: {e}"))?;
    after
        .get_mut("t3")
        .unwrap()
        .insert(b"after".to_vec(), b"acknowledged after the reopen".to_vec());
    let image = vfs.crash(CrashMode::DropAll);
    drop(db);
    verify(&image, &after, &format!("{what}, then power loss")).map(drop)
}

#[test]
fn faults_during_recovery_still_recover() {
    let randoms = env_count("STRATA_DOUBLE_FAULT_IMAGES", 2);
    let mut errors = Vec::new();
    let mut points = 0u64;
    let mut images = 0u64;
    for start in starts() {
        // The dry run: the recovering open's calls and syncs.
        let vfs = copy(&start.image);
        let db = verify(&vfs, &start.acked, start.name).unwrap();
        let (calls, syncs) = (vfs.calls(), vfs.syncs());
        drop(db);
        assert!(syncs >= 2, "{}: opening checkpointed", start.name);
        let crash_plans = (0..calls)
            .map(|i| FaultPlan {
                crash_at_call: Some(i),
                ..FaultPlan::default()
            })
            .chain((0..syncs).map(|s| FaultPlan {
                crash_at_sync: Some(s),
                ..FaultPlan::default()
            }));
        for plan in crash_plans {
            points += 1;
            let what = format!("{}: {plan:?}", start.name);
            let vfs = copy(&start.image);
            if let Err(e) = faulty_open(&vfs, &plan, &what) {
                errors.push(e);
                continue;
            }
            let mut modes = vec![CrashMode::KeepAll, CrashMode::DropAll];
            modes.extend((0..randoms).map(|_| CrashMode::Random));
            for mode in modes {
                images += 1;
                let image = vfs.snapshot_durable_image(mode);
                if let Err(e) = verify(&image, &start.acked, &format!("{what}, {mode:?}")) {
                    errors.push(e);
                }
            }
        }
        // The disk full while recovering: at no room at all, and a page
        // or a few more.
        let used = sim_usage(&start.image);
        let full = (0..4u64).map(|k| FaultPlan {
            disk_limit: Some(used + k * PS as u64),
            ..FaultPlan::default()
        });
        let failing = (0..calls).flat_map(|i| {
            [
                FaultPlan {
                    fail_call: Some(i),
                    ..FaultPlan::default()
                },
                FaultPlan {
                    fail_from: Some(i),
                    ..FaultPlan::default()
                },
            ]
        });
        for plan in full.chain(failing) {
            points += 1;
            let what = format!("{}: {plan:?}", start.name);
            let vfs = copy(&start.image);
            let r = faulty_open(&vfs, &plan, &what)
                .and_then(|()| reopen_commit_power_loss(&vfs, &start.acked, &what));
            if let Err(e) = r {
                errors.push(e);
            }
        }
        println!(
            "{}: {calls} calls and {syncs} syncs in the recovering open",
            start.name
        );
    }
    println!("{points} fault points, {images} crash images");
    assert!(
        errors.is_empty(),
        "{} failures; first ones:\n{}",
        errors.len(),
        errors[..errors.len().min(15)].join("\n")
    );
}

/// The keys the creation test commits, with the first open's handle.
const CREATED: [(&str, &[u8]); 2] = [("a", b"first"), ("b", b"second")];

/// The files on `vfs` other than the database and its log: temporary files
/// a crash left, which an open must have removed.
fn strays(vfs: &SimVfs) -> Vec<std::path::PathBuf> {
    let log = strata_tests::sim_wal_path();
    vfs.list_files()
        .into_iter()
        .filter(|p| *p != sim_path() && *p != log)
        .collect()
}

/// Creates the database on `vfs`, commits [`CREATED`] in one transaction
/// and closes; whether the commit was acknowledged. Stops at the first
/// error, which must be an I/O error or a full disk.
fn create_commit_close(vfs: &SimVfs) -> Result<bool, String> {
    let db = match open(vfs) {
        Ok(db) => db,
        Err(Error::Io(_) | Error::StorageFull(_) | Error::Poisoned { .. }) => return Ok(false),
        Err(e) => return Err(format!("the creating open reported {e:?}")),
    };
    let committed = db.transaction(|tx| {
        tx.create_table("t1")?;
        CREATED
            .iter()
            .try_for_each(|(k, v)| tx.put("t1", k.as_bytes(), v))
    });
    match committed {
        Ok(()) => Ok(true),
        Err(Error::Io(_) | Error::StorageFull(_) | Error::Poisoned { .. }) => Ok(false),
        Err(e) => Err(format!("the first commit reported {e:?}")),
    }
}

/// Opens `vfs` cleanly: the database must hold the commit if `acked`, and
/// otherwise the commit or nothing; it must pass `check()`, and no
/// temporary file may be left beside it.
fn verify_created(vfs: &SimVfs, acked: bool, what: &str) -> Result<Database, String> {
    let db = open(vfs).map_err(|e| format!("{what}: clean open failed: {e}"))?;
    db.check()
        .map_err(|e| format!("{what}: check failed: {e}"))?;
    let got = dump(&db, &["t1"]).map_err(|e| format!("{what}: read failed: {e}"))?;
    let n = got["t1"].len();
    if n != CREATED.len() && (acked || n != 0) {
        return Err(format!(
            "{what}: {n} keys, acknowledged: {acked} (the commit is whole or absent)"
        ));
    }
    let left = strays(vfs);
    if !left.is_empty() {
        return Err(format!("{what}: left behind {left:?}"));
    }
    Ok(db)
}

#[test]
fn faults_while_creating_still_open() {
    let randoms = env_count("STRATA_DOUBLE_FAULT_IMAGES", 2);
    let dry = SimVfs::new(5);
    assert!(create_commit_close(&dry).unwrap(), "the dry run commits");
    let (calls, syncs) = (dry.calls(), dry.syncs());
    let mut errors = Vec::new();
    let (mut points, mut images) = (0u64, 0u64);
    let crash_plans = (0..=calls)
        .map(|i| FaultPlan {
            crash_at_call: Some(i),
            ..FaultPlan::default()
        })
        .chain((0..=syncs).map(|s| FaultPlan {
            crash_at_sync: Some(s),
            ..FaultPlan::default()
        }));
    for plan in crash_plans {
        points += 1;
        let what = format!("creating: {plan:?}");
        let vfs = SimVfs::new(5);
        vfs.set_faults(plan);
        let acked = match create_commit_close(&vfs) {
            Ok(acked) => acked,
            Err(e) => {
                errors.push(format!("{what}: {e}"));
                continue;
            }
        };
        let mut modes = vec![CrashMode::KeepAll, CrashMode::DropAll];
        modes.extend((0..randoms).map(|_| CrashMode::Random));
        for mode in modes {
            images += 1;
            let image = vfs.snapshot_durable_image(mode);
            if let Err(e) = verify_created(&image, acked, &format!("{what}, {mode:?}")) {
                errors.push(e);
            }
        }
    }
    let failing = (0..calls).flat_map(|i| {
        [
            FaultPlan {
                fail_call: Some(i),
                ..FaultPlan::default()
            },
            FaultPlan {
                fail_from: Some(i),
                ..FaultPlan::default()
            },
        ]
    });
    for plan in failing {
        points += 1;
        let what = format!("creating: {plan:?}");
        let vfs = SimVfs::new(5);
        vfs.set_faults(plan);
        let r = create_commit_close(&vfs).and_then(|acked| {
            vfs.set_faults(FaultPlan::default());
            let db = verify_created(&vfs, acked, &format!("{what}, reopened"))?;
            db.transaction(|tx| {
                tx.create_table("t1")?;
                tx.put("t1", b"after", b"acknowledged after the reopen")
            })
            .map_err(|e| format!("{what}: commit after the reopen: {e}"))?;
            let image = vfs.crash(CrashMode::DropAll);
            drop(db);
            let db = open(&image).map_err(|e| format!("{what}, power loss: {e}"))?;
            let tx = db.begin().map_err(|e| e.to_string())?;
            match tx.get("t1", b"after") {
                Ok(Some(_)) => Ok(()),
                other => Err(format!(
                    "{what}, power loss: the commit after the reopen: {other:?}"
                )),
            }
        });
        if let Err(e) = r {
            errors.push(e);
        }
    }
    println!(
        "creating: {calls} calls and {syncs} syncs; {points} fault points, {images} crash images"
    );
    assert!(
        errors.is_empty(),
        "{} failures; first ones:\n{}",
        errors.len(),
        errors[..errors.len().min(15)].join("\n")
    );
}

/// A starting state for the opens that replace the log: the files, the
/// options a clean open needs, and the contents it must find.
struct Replacing {
    name: &'static str,
    image: SimVfs,
    options: fn(&SimVfs) -> Options,
    want: Model,
}

fn without_log(vfs: &SimVfs) -> Options {
    Options {
        recover_without_log: true,
        ..options(vfs)
    }
}

/// The opens that put a new log in place of the old one, with a
/// checkpoint first: upgrading a database of format version 2 (the
/// committed crash image, whose log must replay first), and opening with
/// `recover_without_log` a crashed database whose log is gone.
fn replacing_starts() -> Vec<Replacing> {
    let fixture = |name: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/v2");
        std::fs::read(dir.join(name)).unwrap()
    };
    let v2 = SimVfs::new(11);
    v2.write_file(&sim_path(), &fixture("engine-v2-unclean.strata"));
    v2.write_file(
        &strata_tests::sim_wal_path(),
        &fixture("engine-v2-unclean.strata-wal"),
    );
    let ledger = |through: u32| -> Model {
        let t = (1..through)
            .map(|i| {
                (
                    format!("k{i:04}").into_bytes(),
                    format!("v{i}").into_bytes(),
                )
            })
            .collect();
        [("ledger".to_string(), t)].into()
    };
    // A crashed database whose log is then lost: its checkpoint holds the
    // base tables, the log held the rest.
    let vfs = SimVfs::new(12);
    let (db, base_model) = base(&vfs);
    logged(&db, &mut base_model.clone());
    let lost = vfs.crash(CrashMode::KeepAll);
    drop(db);
    strata_engine::storage::Vfs::remove(&lost, &strata_tests::sim_wal_path()).unwrap();
    let lost = copy(&lost);
    vec![
        Replacing {
            name: "upgrading format version 2",
            image: v2,
            options,
            want: ledger(150),
        },
        Replacing {
            name: "opening without the log",
            image: lost,
            options: without_log,
            want: base_model,
        },
    ]
}

/// Opens `vfs` with `start`'s options: its contents, checked.
fn verify_replaced(vfs: &SimVfs, start: &Replacing, what: &str) -> Result<Database, String> {
    let db = Database::open_with(sim_path(), (start.options)(vfs))
        .map_err(|e| format!("{what}: clean open failed: {e}"))?;
    db.check()
        .map_err(|e| format!("{what}: check failed: {e}"))?;
    let tables: Vec<&str> = start.want.keys().map(String::as_str).collect();
    let got = dump(&db, &tables).map_err(|e| format!("{what}: read failed: {e}"))?;
    if got != start.want {
        return Err(format!("{what}: not the state it started from"));
    }
    let left = strays(vfs);
    if !left.is_empty() {
        return Err(format!("{what}: left behind {left:?}"));
    }
    Ok(db)
}

#[test]
fn faults_while_replacing_the_log() {
    let randoms = env_count("STRATA_DOUBLE_FAULT_IMAGES", 2);
    let mut errors = Vec::new();
    let (mut points, mut images) = (0u64, 0u64);
    for start in replacing_starts() {
        let vfs = copy(&start.image);
        drop(verify_replaced(&vfs, &start, start.name).unwrap());
        let (calls, syncs) = (vfs.calls(), vfs.syncs());
        let crash_plans = (0..=calls)
            .map(|i| FaultPlan {
                crash_at_call: Some(i),
                ..FaultPlan::default()
            })
            .chain((0..=syncs).map(|s| FaultPlan {
                crash_at_sync: Some(s),
                ..FaultPlan::default()
            }));
        for plan in crash_plans {
            points += 1;
            let what = format!("{}: {plan:?}", start.name);
            let vfs = copy(&start.image);
            vfs.set_faults(plan);
            match Database::open_with(sim_path(), (start.options)(&vfs)) {
                Ok(db) => drop(db),
                Err(Error::Io(_) | Error::StorageFull(_) | Error::Poisoned { .. }) => {}
                Err(e) => {
                    errors.push(format!("{what}: the faulty open reported {e:?}"));
                    continue;
                }
            }
            let mut modes = vec![CrashMode::KeepAll, CrashMode::DropAll];
            modes.extend((0..randoms).map(|_| CrashMode::Random));
            for mode in modes {
                images += 1;
                let image = vfs.snapshot_durable_image(mode);
                if let Err(e) = verify_replaced(&image, &start, &format!("{what}, {mode:?}")) {
                    errors.push(e);
                }
            }
        }
        let failing = (0..calls).flat_map(|i| {
            [
                FaultPlan {
                    fail_call: Some(i),
                    ..FaultPlan::default()
                },
                FaultPlan {
                    fail_from: Some(i),
                    ..FaultPlan::default()
                },
            ]
        });
        for plan in failing {
            points += 1;
            let what = format!("{}: {plan:?}", start.name);
            let vfs = copy(&start.image);
            vfs.set_faults(plan);
            let r = match Database::open_with(sim_path(), (start.options)(&vfs)) {
                Ok(db) => {
                    drop(db);
                    Ok(())
                }
                Err(Error::Io(_) | Error::StorageFull(_) | Error::Poisoned { .. }) => Ok(()),
                Err(e) => Err(format!("{what}: the faulty open reported {e:?}")),
            };
            let r = r.and_then(|()| {
                vfs.set_faults(FaultPlan::default());
                let db = verify_replaced(&vfs, &start, &format!("{what}, reopened"))?;
                let table = start.want.keys().next().unwrap().clone();
                db.transaction(|tx| tx.put(&table, b"after", b"acknowledged"))
                    .map_err(|e| format!("{what}: commit after the reopen: {e}"))?;
                let image = vfs.crash(CrashMode::DropAll);
                drop(db);
                let db = open(&image).map_err(|e| format!("{what}, power loss: {e}"))?;
                match db.begin().map_err(|e| e.to_string())?.get(&table, b"after") {
                    Ok(Some(_)) => Ok(()),
                    other => Err(format!("{what}, power loss: the commit: {other:?}")),
                }
            });
            if let Err(e) = r {
                errors.push(e);
            }
        }
        println!("{}: {calls} calls and {syncs} syncs", start.name);
    }
    println!("replacing the log: {points} fault points, {images} crash images");
    assert!(
        errors.is_empty(),
        "{} failures; first ones:\n{}",
        errors.len(),
        errors[..errors.len().min(15)].join("\n")
    );
}
