//! Online backup (`Database::backup_to`): a copy taken while four threads
//! transfer money opens, passes `check()`, holds the exact total, and is
//! the state as of one commit (its ledger replays to its balances, with no
//! gap); bad destinations get typed errors; a crash at any storage call or
//! sync of a backup leaves either no file at the destination or the whole
//! copy, and the database itself untouched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use strata_engine::storage::{CrashMode, FaultPlan, SimVfs};
use strata_engine::{Database, Error, OpenFailure, Options};
use strata_tests::{Model, Rng, TempDir, dump, sim_options_manual, sim_path};

const ACCOUNTS: u64 = 16;
const START: u64 = 1000;

fn acct(i: u64) -> Vec<u8> {
    format!("acct-{i:02}").into_bytes()
}

fn num(v: &[u8]) -> u64 {
    u64::from_le_bytes(v.try_into().expect("an 8-byte number"))
}

/// One transfer: moves `amount` from `from` to `to` if it can, and, in the
/// same transaction, bumps the commit counter and records the transfer in
/// the ledger under the counter's new value.
fn transfer(db: &Database, from: u64, to: u64, amount: u64) -> strata_engine::Result<()> {
    db.transaction(|tx| {
        let a = num(&tx.get("bank", &acct(from))?.unwrap());
        let b = num(&tx.get("bank", &acct(to))?.unwrap());
        let moved = amount.min(a);
        tx.put("bank", &acct(from), &(a - moved).to_le_bytes())?;
        tx.put("bank", &acct(to), &(b + moved).to_le_bytes())?;
        let n = num(&tx.get("meta", b"counter")?.unwrap()) + 1;
        tx.put("meta", b"counter", &n.to_le_bytes())?;
        let entry = [from.to_le_bytes(), to.to_le_bytes(), moved.to_le_bytes()].concat();
        tx.put("ledger", &n.to_be_bytes(), &entry)
    })
}

fn setup(db: &Database) {
    db.transaction(|tx| {
        for t in ["bank", "meta", "ledger"] {
            tx.create_table(t)?;
        }
        for i in 0..ACCOUNTS {
            tx.put("bank", &acct(i), &START.to_le_bytes())?;
        }
        tx.put("meta", b"counter", &0u64.to_le_bytes())
    })
    .unwrap();
}

/// Checks that the copy at `path` is the bank as of one commit: it opens,
/// passes `check()`, its ledger holds exactly entries 1..=counter, and
/// replaying them on the starting balances gives its balances. Returns the
/// counter.
fn verify_copy(path: &Path, opts: Options) -> u64 {
    let copy = Database::open_with(path, opts).unwrap();
    copy.check().unwrap();
    let m = dump(&copy, &["bank", "meta", "ledger"]).unwrap();
    let counter = num(&m["meta"][b"counter".as_slice()]);
    let ledger = &m["ledger"];
    assert_eq!(ledger.len() as u64, counter, "the ledger has a gap");
    let mut replay: BTreeMap<Vec<u8>, u64> = (0..ACCOUNTS).map(|i| (acct(i), START)).collect();
    for (n, (k, e)) in (1..).zip(ledger) {
        assert_eq!(k, &(n as u64).to_be_bytes().to_vec(), "ledger entry {n}");
        let (from, to, moved) = (num(&e[0..8]), num(&e[8..16]), num(&e[16..24]));
        *replay.get_mut(&acct(from)).unwrap() -= moved;
        *replay.get_mut(&acct(to)).unwrap() += moved;
    }
    let balances: BTreeMap<Vec<u8>, u64> =
        m["bank"].iter().map(|(k, v)| (k.clone(), num(v))).collect();
    assert_eq!(balances, replay, "the balances are not the ledger's");
    assert_eq!(balances.values().sum::<u64>(), ACCOUNTS * START);
    counter
}

#[test]
fn backups_under_four_writers_are_each_the_bank_as_of_one_commit() {
    let dir = TempDir::new("backup-bank");
    let opts = Options {
        checkpoint_log_size: 256 << 10,
        ..Options::default()
    };
    let db = Database::open_with(dir.path().join("db"), opts.clone()).unwrap();
    setup(&db);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut rng = Rng::new(w + 1);
                let mut done = 0u64;
                while !stop.load(Ordering::Relaxed) || done < 50 {
                    let from = rng.below(ACCOUNTS);
                    let to = (from + 1 + rng.below(ACCOUNTS - 1)) % ACCOUNTS;
                    transfer(&db, from, to, rng.below(300)).unwrap();
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut counters = Vec::new();
    for k in 0..4 {
        std::thread::sleep(std::time::Duration::from_millis(60));
        let dest = dir.path().join(format!("copy-{k}"));
        db.backup_to(&dest).unwrap();
        counters.push(verify_copy(&dest, opts.clone()));
    }
    stop.store(true, Ordering::Relaxed);
    let total: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    println!("copies as of commits {counters:?} of {total} transfers");
    assert!(counters.windows(2).all(|w| w[0] <= w[1]), "{counters:?}");
    assert!(
        *counters.last().unwrap() > 0,
        "writers committed during the backups"
    );
    // And the database itself is as sound.
    drop(db);
    let path = dir.path().join("db");
    assert_eq!(verify_copy(&path, opts), total);
}

#[test]
fn bad_destinations_get_typed_errors_and_write_nothing() {
    let dir = TempDir::new("backup-bad");
    let db = Database::open(dir.path().join("db")).unwrap();
    setup(&db);
    let file = dir.path().join("taken");
    std::fs::write(&file, b"someone's file").unwrap();
    match db.backup_to(&file) {
        Err(Error::DestinationExists { path }) => assert_eq!(path, file),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"someone's file");
    match db.backup_to(dir.path()) {
        Err(Error::CannotOpen {
            reason: OpenFailure::IsADirectory,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    match db.backup_to(dir.path().join("no-such-dir").join("copy")) {
        Err(Error::CannotOpen {
            reason: OpenFailure::NotFound,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // A read-only directory, on the simulated disk (the tests may run as
    // root, whom the real one lets write anywhere).
    let vfs = SimVfs::new(3);
    let sim = Database::open_with(sim_path(), sim_options_manual(&vfs, 1 << 20)).unwrap();
    setup(&sim);
    vfs.set_dir_read_only(Path::new("/ro"), true);
    match sim.backup_to("/ro/copy") {
        Err(Error::CannotOpen {
            reason: OpenFailure::PermissionDenied,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let names: Vec<PathBuf> = vfs.list_files();
    assert!(names.iter().all(|p| !p.starts_with("/ro")), "{names:?}");
}

#[test]
fn a_read_only_handle_backs_up_a_cleanly_closed_database() {
    let dir = TempDir::new("backup-ro");
    let path = dir.path().join("db");
    let db = Database::open(&path).unwrap();
    setup(&db);
    transfer(&db, 1, 2, 50).unwrap();
    drop(db);
    let ro = Database::open_read_only(&path).unwrap();
    let dest = dir.path().join("copy");
    ro.backup_to(&dest).unwrap();
    assert_eq!(verify_copy(&dest, Options::default()), 1);
}

fn copy_vfs(image: &SimVfs) -> SimVfs {
    let vfs = SimVfs::new(17);
    for path in image.list_files() {
        vfs.write_file(&path, &image.read_file(&path).unwrap());
    }
    vfs
}

#[test]
fn a_crash_at_any_point_of_a_backup_leaves_no_copy_or_a_whole_one() {
    let opts = |vfs: &SimVfs| sim_options_manual(vfs, 32 << 10);
    let dest = Path::new("/sim/copy.strata");
    let start = SimVfs::new(9);
    let db = Database::open_with(sim_path(), opts(&start)).unwrap();
    setup(&db);
    for i in 0..300 {
        transfer(&db, i % ACCOUNTS, (i * 7 + 1) % ACCOUNTS, 10 + i).unwrap();
        if i == 150 {
            db.checkpoint().unwrap();
        }
    }
    let model: Model = dump(&db, &["bank", "meta", "ledger"]).unwrap();
    let image = start.crash(CrashMode::KeepAll);
    drop(db);

    let vfs = copy_vfs(&image);
    let db = Database::open_with(sim_path(), opts(&vfs)).unwrap();
    let (calls0, syncs0) = (vfs.calls(), vfs.syncs());
    db.backup_to(dest).unwrap();
    let (calls, syncs) = (vfs.calls(), vfs.syncs());
    drop(db);

    let plans = (syncs0..syncs)
        .map(|s| FaultPlan {
            crash_at_sync: Some(s),
            ..FaultPlan::default()
        })
        .chain((calls0..calls).map(|c| FaultPlan {
            crash_at_call: Some(c),
            ..FaultPlan::default()
        }));
    let mut whole = 0;
    let mut images = 0;
    for plan in plans {
        let vfs = copy_vfs(&image);
        let db = Database::open_with(sim_path(), opts(&vfs)).unwrap();
        vfs.set_faults(plan.clone());
        match db.backup_to(dest) {
            Ok(()) | Err(Error::Io(_) | Error::Poisoned { .. }) => {}
            Err(e) => panic!("{plan:?}: the backup reported {e:?}"),
        }
        for mode in [CrashMode::KeepAll, CrashMode::DropAll, CrashMode::Random] {
            images += 1;
            let image = vfs.snapshot_durable_image(mode);
            let what = format!("{plan:?}, {mode:?}");
            let orig = Database::open_with(sim_path(), opts(&image)).unwrap();
            orig.check().unwrap();
            assert_eq!(
                dump(&orig, &["bank", "meta", "ledger"]).unwrap(),
                model,
                "{what}"
            );
            drop(orig);
            if image.read_file(dest).is_some() {
                whole += 1;
                let copy = Database::open_with(dest, opts(&image))
                    .unwrap_or_else(|e| panic!("{what}: the copy does not open: {e}"));
                copy.check().unwrap();
                let got = dump(&copy, &["bank", "meta", "ledger"]).unwrap();
                assert_eq!(got, model, "{what}: the copy");
            }
        }
        drop(db);
    }
    println!("{images} crash images of a backup, {whole} with the copy in place");
    assert!(whole > 0);
}
