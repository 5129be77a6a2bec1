//! Compaction (`Database::compact`): after most rows are deleted, the data
//! file shrinks to within 1.2 times its live pages and the log back to its
//! preallocation, with the contents unchanged; and a crash at any storage
//! call or sync of a compaction recovers the same contents.

use std::collections::BTreeMap;
use strata_engine::storage::{CrashMode, FaultPlan, SimVfs};
use strata_engine::{Database, Error, Options};
use strata_tests::{Model, Rng, TempDir, dump, env_count, sim_options_manual, sim_path};

const TABLES: [&str; 2] = ["rows", "big"];

/// Fills `db` with `n` rows (100-byte values) and a large value (overflow
/// pages) every 40th row, checkpoints, then deletes about 90% of them at random.
/// Returns what is left.
fn fill_then_delete(db: &Database, n: u32, seed: u64) -> Model {
    let mut rng = Rng::new(seed);
    let mut model = Model::new();
    for t in TABLES {
        model.insert(t.to_string(), BTreeMap::new());
    }
    for chunk in (0..n).collect::<Vec<_>>().chunks(2000) {
        db.transaction(|tx| {
            for t in TABLES {
                tx.create_table(t)?;
            }
            for &i in chunk {
                let key = format!("row-{i:08}").into_bytes();
                tx.put("rows", &key, &[i as u8; 100])?;
                if i % 40 == 0 {
                    tx.put("big", &key, &vec![i as u8; 9000 + i as usize % 5000])?;
                }
            }
            Ok(())
        })
        .unwrap();
    }
    // The rows reach the data file before most are deleted.
    db.checkpoint().unwrap();
    for chunk in (0..n).collect::<Vec<_>>().chunks(2000) {
        let mut keep = Vec::new();
        db.transaction(|tx| {
            keep.clear();
            for &i in chunk {
                let key = format!("row-{i:08}").into_bytes();
                if rng.below(10) == 0 {
                    keep.push(i);
                    continue;
                }
                tx.delete("rows", &key)?;
                tx.delete("big", &key)?;
            }
            Ok(())
        })
        .unwrap();
        for i in keep.iter().copied() {
            let key = format!("row-{i:08}").into_bytes();
            model
                .get_mut("rows")
                .unwrap()
                .insert(key.clone(), vec![i as u8; 100]);
            if i % 40 == 0 {
                model
                    .get_mut("big")
                    .unwrap()
                    .insert(key, vec![i as u8; 9000 + i as usize % 5000]);
            }
        }
    }
    model
}

/// The data file's bytes against the live pages' (reachable pages plus
/// the header and the two meta pages).
fn ratio(db: &Database, data_len: u64) -> f64 {
    let report = db.check().unwrap();
    let live = (report.used_pages + 3) * db.page_size() as u64;
    data_len as f64 / live as f64
}

#[test]
fn deleting_90_percent_then_compacting_leaves_the_file_within_1_2x_of_live_pages() {
    let dir = TempDir::new("compact");
    let path = dir.path().join("db");
    let opts = Options {
        // A log that grows past its preallocation, and no automatic
        // checkpoint meanwhile, so that compaction has the log to cut.
        log_preallocate: 64 << 10,
        ..Options::default()
    };
    let db = Database::open_with(&path, opts.clone()).unwrap();
    let model = fill_then_delete(&db, 20_000, 1);
    let report = db.compact().unwrap();
    let r = ratio(&db, report.data_after);
    println!("{report:?}, data file / live pages = {r:.3}");
    assert!(r <= 1.2, "{report:?}: {r:.3} times the live pages");
    assert!(report.data_after < report.data_before / 4, "{report:?}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), report.data_after);
    assert!(report.log_before > 1 << 20, "{report:?}");
    assert_eq!(report.log_after, 64 << 10, "{report:?}");
    assert_eq!(dump(&db, &TABLES).unwrap(), model);
    drop(db);
    let db = Database::open_with(&path, opts).unwrap();
    db.check().unwrap();
    assert_eq!(dump(&db, &TABLES).unwrap(), model);
    // Compacting a compact file changes nothing much (its checkpoint may
    // write a free-list page past the end).
    let again = db.compact().unwrap();
    assert!(ratio(&db, again.data_after) <= 1.2, "{again:?}");
    assert_eq!(dump(&db, &TABLES).unwrap(), model);
}

#[test]
fn compaction_keeps_a_scan_begun_before_it_reading_the_right_values() {
    let dir = TempDir::new("compact-scan");
    let db = Database::open(dir.path().join("db")).unwrap();
    let model = fill_then_delete(&db, 6000, 2);
    // A snapshot scan and a locked scan, both begun before the
    // compaction moves the overflow chains, finished after it and after
    // commits that reuse the pages freed.
    let reader = db.begin_read().unwrap();
    let mut snap = reader.range("big", ..).unwrap();
    let first = snap.next().unwrap().unwrap();
    db.compact().unwrap();
    db.transaction(|tx| {
        tx.create_table("other")?;
        for i in 0..200u32 {
            tx.put("other", &i.to_be_bytes(), &[0xEE; 9000])?;
        }
        Ok(())
    })
    .unwrap();
    db.checkpoint().unwrap();
    let mut got: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    got.insert(first.0, first.1);
    for kv in snap {
        let (k, v) = kv.unwrap();
        got.insert(k, v);
    }
    assert_eq!(&got, &model["big"]);
}

/// No automatic checkpoints; a small cache, so that reads reach the file.
fn sim_opts(vfs: &SimVfs) -> Options {
    sim_options_manual(vfs, 32 << 10)
}

fn copy(image: &SimVfs) -> SimVfs {
    let vfs = SimVfs::new(91);
    for path in image.list_files() {
        vfs.write_file(&path, &image.read_file(&path).unwrap());
    }
    vfs
}

fn verify(vfs: &SimVfs, model: &Model, what: &str) -> Result<(), String> {
    let db = Database::open_with(sim_path(), sim_opts(vfs))
        .map_err(|e| format!("{what}: open failed: {e}"))?;
    db.check()
        .map_err(|e| format!("{what}: check failed: {e}"))?;
    let got = dump(&db, &TABLES).map_err(|e| format!("{what}: read failed: {e}"))?;
    if got != *model {
        return Err(format!("{what}: not the contents before compaction"));
    }
    Ok(())
}

#[test]
fn a_crash_at_any_point_of_a_compaction_keeps_the_contents() {
    let randoms = env_count("STRATA_COMPACT_CRASH_IMAGES", 1);
    // The starting state: rows inserted and mostly deleted, committed
    // (some only in the log), the handle then dropped by a crash.
    let start = SimVfs::new(5);
    let db = Database::open_with(sim_path(), sim_opts(&start)).unwrap();
    let model = fill_then_delete(&db, 3000, 3);
    let image = start.crash(CrashMode::KeepAll);
    drop(db);

    // The dry run: the calls and syncs of an open and a compaction.
    let vfs = copy(&image);
    let db = Database::open_with(sim_path(), sim_opts(&vfs)).unwrap();
    let (calls0, syncs0) = (vfs.calls(), vfs.syncs());
    let report = db.compact().unwrap();
    let (calls, syncs) = (vfs.calls(), vfs.syncs());
    assert!(report.data_after < report.data_before, "{report:?}");
    drop(db);

    let mut plans: Vec<FaultPlan> = (syncs0..syncs)
        .map(|s| FaultPlan {
            crash_at_sync: Some(s),
            ..FaultPlan::default()
        })
        .collect();
    let step = ((calls - calls0) / 40).max(1);
    plans.extend((calls0..calls).step_by(step as usize).map(|c| FaultPlan {
        crash_at_call: Some(c),
        ..FaultPlan::default()
    }));
    let mut errors = Vec::new();
    let mut images = 0;
    for plan in plans {
        let what = format!("{plan:?}");
        let vfs = copy(&image);
        let db = Database::open_with(sim_path(), sim_opts(&vfs)).unwrap();
        vfs.set_faults(plan);
        match db.compact() {
            Ok(_) | Err(Error::Io(_) | Error::Poisoned { .. }) => {}
            Err(e) => errors.push(format!("{what}: compaction reported {e:?}")),
        }
        let mut modes = vec![CrashMode::KeepAll, CrashMode::DropAll];
        modes.extend((0..randoms).map(|_| CrashMode::Random));
        for mode in modes {
            images += 1;
            let image = vfs.snapshot_durable_image(mode);
            if let Err(e) = verify(&image, &model, &format!("{what}, {mode:?}")) {
                errors.push(e);
            }
        }
        drop(db);
    }
    println!("{images} crash images of a compaction");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// Compaction cuts the data file short while readers on other threads go
/// on reading it through its mapping: the mapping is replaced before the
/// file is cut, so every read returns the right value (no SIGBUS, no
/// error), and afterwards the mapping covers exactly the shorter file.
#[test]
fn compaction_shrinks_the_mapped_file_under_open_readers() {
    let dir = TempDir::new("compact-mapped");
    let path = dir.path().join("db");
    let db = Database::open(&path).unwrap();
    let model = fill_then_delete(&db, 20_000, 3);
    db.checkpoint().unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    assert_eq!(db.stats().mapped_pages, before / 4096);
    let rows: Vec<(Vec<u8>, Vec<u8>)> = model["rows"]
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2u64)
            .map(|t| {
                let (db, rows, stop) = (&db, &rows, &stop);
                s.spawn(move || {
                    let mut rng = Rng::new(t + 10);
                    let mut reads = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) || reads < 1000 {
                        let tx = db.begin_read().unwrap();
                        for _ in 0..100 {
                            let (k, v) = &rows[rng.below(rows.len() as u64) as usize];
                            assert_eq!(tx.get("rows", k).unwrap().as_ref(), Some(v));
                            reads += 1;
                        }
                        tx.commit().unwrap();
                    }
                })
            })
            .collect();
        let report = db.compact().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for r in readers {
            r.join().unwrap();
        }
        let after = std::fs::metadata(&path).unwrap().len();
        assert!(after < before / 4, "{report:?}");
        assert_eq!(db.stats().mapped_pages, after / 4096);
    });
    assert_eq!(dump(&db, &TABLES).unwrap(), model);
    db.check().unwrap();
}
