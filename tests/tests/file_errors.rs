//! The database's files: how they are created, and every way opening them
//! can fail gives its own typed error ([`Error::CannotOpen`] with an
//! [`OpenFailure`], [`Error::Locked`], [`Error::ReadOnly`]), never a
//! panic. Also: a read-only open, and a file truncated under an open
//! handle (the engine reads with `pread`, it does not map the file).

use std::collections::BTreeMap;
use std::path::Path;
use strata_engine::storage::{CrashMode, SimVfs};
use strata_engine::{Database, Error, OpenFailure, Options, Transaction};
use strata_tests::{Model, TempDir, dump, open_sim, sim_options, sim_path};

fn quiet() -> Options {
    Options {
        log_preallocate: 0,
        ..Options::default()
    }
}

fn read_only() -> Options {
    Options {
        read_only: true,
        ..quiet()
    }
}

fn log_of(path: &Path) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    p.into()
}

/// Asserts `r` failed to open `path` for `reason`.
fn cannot_open(r: strata_engine::Result<Database>, path: &Path, reason: OpenFailure) {
    match r {
        Err(Error::CannotOpen { path: p, reason: r }) => {
            assert_eq!((p.as_path(), r), (path, reason));
        }
        other => panic!("expected CannotOpen {reason:?} at {path:?}, got {other:?}"),
    }
}

/// A database at `path` with one table of `n` keys, closed cleanly.
fn make(path: &Path, n: u32) -> Model {
    let db = Database::open_with(path, quiet()).unwrap();
    let mut model = Model::new();
    let t = model.entry("t".to_string()).or_default();
    let mut tx = db.begin().unwrap();
    tx.create_table("t").unwrap();
    for i in 0..n {
        let (k, v) = (format!("key{i:06}"), vec![(i % 251) as u8; 100]);
        tx.put("t", k.as_bytes(), &v).unwrap();
        t.insert(k.into_bytes(), v);
    }
    tx.commit().unwrap();
    model
}

#[cfg(unix)]
#[test]
fn files_are_created_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("files");
    let path = dir.path().join("db");
    make(&path, 10);
    for p in [path.clone(), log_of(&path)] {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{p:?} has mode {mode:o}");
    }
}

#[test]
fn a_directory_is_refused() {
    let dir = TempDir::new("files");
    for opts in [quiet(), read_only()] {
        cannot_open(
            Database::open_with(dir.path(), opts),
            dir.path(),
            OpenFailure::IsADirectory,
        );
    }
}

#[test]
fn missing_directories_and_files_in_the_way() {
    let dir = TempDir::new("files");
    let missing = dir.path().join("no-such-dir").join("db");
    cannot_open(
        Database::open_with(&missing, quiet()),
        &missing,
        OpenFailure::NotFound,
    );
    let file = dir.path().join("plain");
    std::fs::write(&file, b"not a directory").unwrap();
    let under = file.join("db");
    for opts in [quiet(), read_only()] {
        cannot_open(
            Database::open_with(&under, opts),
            &under,
            OpenFailure::NotADirectory,
        );
    }
    // A read-only open never creates.
    let absent = dir.path().join("absent");
    cannot_open(
        Database::open_with(&absent, read_only()),
        &absent,
        OpenFailure::NotFound,
    );
    assert!(!absent.exists());
}

#[cfg(unix)]
#[test]
fn symbolic_links_are_followed_and_loops_refused() {
    use std::os::unix::fs::symlink;
    let dir = TempDir::new("files");
    // A loop, and a link into it.
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    symlink(&b, &a).unwrap();
    symlink(&a, &b).unwrap();
    symlink(&a, &c).unwrap();
    for p in [&a, &c] {
        for opts in [quiet(), read_only()] {
            cannot_open(Database::open_with(p, opts), p, OpenFailure::SymlinkLoop);
        }
    }
    // A link to a database elsewhere: the log is the one beside the file.
    let real_dir = dir.path().join("real");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("db");
    let model = make(&real, 50);
    let link = dir.path().join("link");
    symlink(&real, &link).unwrap();
    {
        let db = Database::open_with(&link, quiet()).unwrap();
        assert_eq!(db.path(), link.as_path());
        assert_eq!(dump(&db, &["t"]).unwrap(), model);
        // The lock is the real file's: the real name is locked out.
        assert!(matches!(
            Database::open_with(&real, quiet()),
            Err(Error::Locked)
        ));
    }
    assert!(!log_of(&link).exists());
    assert!(log_of(&real).exists());
    // A link to nothing yet: the database is created where it leads.
    let dangling = dir.path().join("dangling");
    let target = real_dir.join("new");
    symlink(&target, &dangling).unwrap();
    drop(make(&dangling, 5));
    assert!(target.is_file() && log_of(&target).is_file());
    assert!(!log_of(&dangling).exists());
}

#[test]
fn read_only_handles_read_and_refuse_writes() {
    let dir = TempDir::new("files");
    let path = dir.path().join("db");
    let model = make(&path, 200);
    let before = (
        std::fs::read(&path).unwrap(),
        std::fs::read(log_of(&path)).unwrap(),
    );
    {
        let db = Database::open_read_only(&path).unwrap();
        assert!(db.is_read_only());
        // Several read-only handles at once; a writable one is locked out.
        let db2 = Database::open_with(&path, read_only()).unwrap();
        assert!(matches!(
            Database::open_with(&path, quiet()),
            Err(Error::Locked)
        ));
        let tx = db.begin_read().unwrap();
        assert_eq!(tx.get("t", b"key000007").unwrap(), Some(vec![7; 100]));
        drop(tx);
        let got: Model = {
            let tx = db2.begin_read().unwrap();
            let t = tx.range("t", ..).unwrap().map(|kv| kv.unwrap()).collect();
            [("t".to_string(), t)].into()
        };
        assert_eq!(got, model);
        assert!(matches!(db.begin(), Err(Error::ReadOnly)));
        assert!(matches!(
            db.transaction(|tx| tx.put("t", b"x", b"y")),
            Err(Error::ReadOnly)
        ));
        assert!(matches!(db.checkpoint(), Err(Error::ReadOnly)));
        let mut tx = db.begin_read().unwrap();
        assert!(matches!(tx.put("t", b"x", b"y"), Err(Error::ReadOnly)));
        drop(tx);
        db.check().unwrap();
    }
    // Nothing was written, not even on close.
    let after = (
        std::fs::read(&path).unwrap(),
        std::fs::read(log_of(&path)).unwrap(),
    );
    assert!(before == after, "a read-only handle changed the files");
    // A writable handle locks read-only ones out.
    let db = Database::open_with(&path, quiet()).unwrap();
    assert!(matches!(
        Database::open_read_only(&path),
        Err(Error::Locked)
    ));
    drop(db);
}

#[cfg(unix)]
#[test]
fn read_only_files_open_read_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("files");
    let path = dir.path().join("db");
    let model = make(&path, 30);
    for p in [path.clone(), log_of(&path)] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o400)).unwrap();
    }
    let db = Database::open_read_only(&path).unwrap();
    assert_eq!(dump_read(&db), model);
    drop(db);
    for p in [path.clone(), log_of(&path)] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Everything in table "t", through a read-only transaction.
fn dump_read(db: &Database) -> Model {
    let tx = db.begin_read().unwrap();
    let t = tx.range("t", ..).unwrap().map(|kv| kv.unwrap()).collect();
    [("t".to_string(), t)].into()
}

/// On the simulated disk (where permissions hold for every user, root
/// included): a writable open of a read-only data file or log is refused
/// with `PermissionDenied` naming that file; a read-only open works.
#[test]
fn a_writable_open_of_read_only_files_is_refused() {
    let vfs = SimVfs::new(3);
    let db = open_sim(&vfs).unwrap();
    db.transaction(|tx| {
        tx.create_table("t")?;
        tx.put("t", b"k", b"v")
    })
    .unwrap();
    drop(db);
    let path = sim_path();
    let log = log_of(&path);
    for file in [&path, &log] {
        assert!(vfs.set_read_only(file, true));
        cannot_open(open_sim(&vfs), file, OpenFailure::PermissionDenied);
        let db = Database::open_with(
            &path,
            Options {
                read_only: true,
                ..sim_options(&vfs)
            },
        )
        .unwrap();
        assert_eq!(
            db.begin_read().unwrap().get("t", b"k").unwrap(),
            Some(b"v".to_vec())
        );
        drop(db);
        assert!(vfs.set_read_only(file, false));
    }
    open_sim(&vfs).unwrap();
}

/// A read-only open after an unclean shutdown replays the log into memory
/// and writes nothing; the next writable open makes it durable.
#[test]
fn a_read_only_open_replays_without_writing() {
    let vfs = SimVfs::new(4);
    let db = open_sim(&vfs).unwrap();
    let mut model = Model::new();
    let t = model.entry("t".to_string()).or_default();
    db.transaction(|tx| tx.create_table("t")).unwrap();
    db.checkpoint().unwrap();
    for i in 0..40u32 {
        let (k, v) = (format!("k{i}"), vec![i as u8; 300]);
        db.transaction(|tx| tx.put("t", k.as_bytes(), &v)).unwrap();
        t.insert(k.into_bytes(), v);
    }
    let image = vfs.crash(CrashMode::DropAll);
    drop(db);
    let files = |v: &SimVfs| -> Vec<Option<Vec<u8>>> {
        v.list_files().iter().map(|p| v.read_file(p)).collect()
    };
    let before = (image.list_files(), files(&image));
    let ro = Options {
        read_only: true,
        ..sim_options(&image)
    };
    for _ in 0..2 {
        let db = Database::open_with(sim_path(), ro.clone()).unwrap();
        assert_eq!(dump_read(&db), model);
        db.check().unwrap();
        drop(db);
        assert!(
            (image.list_files(), files(&image)) == before,
            "a read-only open wrote"
        );
    }
    let db = open_sim(&image).unwrap();
    assert_eq!(dump(&db, &["t"]).unwrap(), model);
    let after_power_loss = image.crash(CrashMode::DropAll);
    drop(db);
    let db = open_sim(&after_power_loss).unwrap();
    assert_eq!(dump(&db, &["t"]).unwrap(), model);
}

/// The engine reads the data file with `pread` (no memory map), so a
/// file truncated under an open handle cannot fault the process: reads of
/// the lost pages fail as corruption (or I/O), and nothing wrong is
/// returned.
#[test]
fn a_file_truncated_under_an_open_handle_gives_errors_not_wrong_data() {
    let dir = TempDir::new("files");
    let path = dir.path().join("db");
    let model = make(&path, 3000);
    for read_only in [false, true] {
        let opts = Options {
            // No cache to speak of: reads go to the file.
            cache_size: 0,
            read_only,
            ..quiet()
        };
        let db = Database::open_with(&path, opts).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // Cut everything past the header and meta pages (another process
        // can: the lock is advisory).
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(3 * 4096).unwrap();
        let tx = db.begin_read().unwrap();
        let mut got = BTreeMap::new();
        let mut failed = None;
        for kv in tx.range("t", ..).unwrap() {
            match kv {
                Ok((k, v)) => _ = got.insert(k, v),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            Some(Error::Corruption { .. } | Error::Io(_)) => {}
            other => panic!("expected a corruption or I/O error, got {other:?}"),
        }
        // Whatever came back before the error is the truth.
        for (k, v) in &got {
            assert_eq!(model["t"].get(k), Some(v));
        }
        assert!(matches!(
            db.check(),
            Err(Error::Corruption { .. } | Error::Io(_))
        ));
        drop(tx);
        drop(db);
        // Put the file back for the next round (the writable handle's
        // close may have checkpointed into the cut file: start over).
        std::fs::write(&path, &bytes).unwrap();
        let db = Database::open_with(&path, quiet()).unwrap();
        assert_eq!(dump(&db, &["t"]).unwrap(), model);
    }
}

/// Cuts the data file at `path` after its header and meta pages, through
/// another handle (the lock is advisory).
fn cut_to_the_meta_pages(path: &Path) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(3 * 4096).unwrap();
}

/// A scan of table `t` through `tx`, on a file cut by
/// [`cut_to_the_meta_pages`], returns only true rows and then fails with
/// `Corruption` or `Io`, and so does a get of its last key.
fn reads_of_the_cut_pages_fail(tx: &Transaction, model: &Model) {
    let mut failed = None;
    for kv in tx.range("t", ..).unwrap() {
        match kv {
            Ok((k, v)) => assert_eq!(model["t"].get(&k), Some(&v)),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    assert!(
        matches!(failed, Some(Error::Corruption { .. } | Error::Io(_))),
        "{failed:?}"
    );
    assert!(matches!(
        tx.get("t", b"key002999"),
        Err(Error::Corruption { .. } | Error::Io(_))
    ));
}

/// With the data file mapped (the default), a file cut short under an
/// open handle still gives errors, not SIGBUS: a page is read with
/// `pread` and checked before the mapping is ever trusted for it.
#[test]
fn a_file_truncated_under_a_mapped_handle_gives_errors_not_sigbus() {
    let dir = TempDir::new("files");
    let path = dir.path().join("db");
    let model = make(&path, 3000);
    let bytes = std::fs::read(&path).unwrap();
    let db = Database::open_with(&path, quiet()).unwrap();
    assert_eq!(
        db.stats().mapped_pages,
        bytes.len() as u64 / 4096,
        "the whole file is mapped"
    );
    cut_to_the_meta_pages(&path);
    reads_of_the_cut_pages_fail(&db.begin_read().unwrap(), &model);
    drop(db);
    std::fs::write(&path, &bytes).unwrap();
    let db = Database::open_with(&path, quiet()).unwrap();
    assert_eq!(dump(&db, &["t"]).unwrap(), model);
}

/// Pages already read in place, then cut off by another process: every
/// transaction begins by comparing the file's length with the mapping
/// (as SQLite does for its memory-mapped I/O), so the next one reads
/// those pages with `pread` again and gets errors, not SIGBUS.
#[test]
fn pages_read_in_place_then_cut_underneath_give_errors_not_sigbus() {
    let dir = TempDir::new("files");
    let path = dir.path().join("db");
    let model = make(&path, 3000);
    let bytes = std::fs::read(&path).unwrap();
    for read_only in [false, true] {
        let opts = Options {
            read_only,
            ..quiet()
        };
        let db = Database::open_with(&path, opts).unwrap();
        // Twice: the first pass checks every page, the second reads them
        // all in place.
        for _ in 0..2 {
            let tx = db.begin_read().unwrap();
            let all: BTreeMap<_, _> = tx.range("t", ..).unwrap().map(Result::unwrap).collect();
            assert_eq!(all, model["t"]);
        }
        cut_to_the_meta_pages(&path);
        for tx in [
            db.begin_read().unwrap(),
            db.begin().unwrap_or_else(|_| db.begin_read().unwrap()),
        ] {
            reads_of_the_cut_pages_fail(&tx, &model);
        }
        drop(db);
        std::fs::write(&path, &bytes).unwrap();
        let db = Database::open_with(&path, quiet()).unwrap();
        assert_eq!(dump(&db, &["t"]).unwrap(), model);
    }
}

/// A page damaged on disk after the file was mapped, before it was read,
/// is caught by its checksum when it is first read, through the mapping
/// as through the cache: no wrong data comes back.
#[test]
fn a_page_damaged_after_the_file_was_mapped_is_caught_by_its_checksum() {
    use std::os::unix::fs::FileExt;
    let dir = TempDir::new("files");
    let path = dir.path().join("db");
    let model = make(&path, 3000);
    let bytes = std::fs::read(&path).unwrap();
    for map_data_file in [true, false] {
        let db = Database::open_with(
            &path,
            Options {
                map_data_file,
                ..quiet()
            },
        )
        .unwrap();
        assert_eq!(db.stats().mapped_pages > 0, map_data_file);
        // One bit flipped in every data page, through another handle.
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        for page in 3..bytes.len() as u64 / 4096 {
            let at = page * 4096 + 2000;
            let mut b = [0u8];
            f.read_exact_at(&mut b, at).unwrap();
            f.write_all_at(&[b[0] ^ 0x10], at).unwrap();
        }
        let tx = db.begin_read().unwrap();
        for i in [0, 1500, 2999] {
            let key = format!("key{i:06}");
            match tx.get("t", key.as_bytes()) {
                Err(Error::Corruption { .. }) => {}
                other => panic!("{key}: expected corruption, got {other:?}"),
            }
        }
        drop(tx);
        drop(db);
        std::fs::write(&path, &bytes).unwrap();
    }
    let db = Database::open_with(&path, quiet()).unwrap();
    assert_eq!(dump(&db, &["t"]).unwrap(), model);
}
