//! What is not a regular file, as the database or as its log: a FIFO, a
//! Unix socket, a character device (`/dev/null`), a directory. Each open,
//! writable and read-only, fails at once with `CannotOpen` naming the
//! file: never a hang (a FIFO opened for reading waits for a writer
//! unless opened without blocking), never "Illegal seek" from reading a
//! FIFO as a log, never a read of `/dev/null` taken for an empty database.
//!
//! Each open runs on its own thread with a deadline, so that a hang fails
//! the test with a message instead of hanging it.

#![cfg(unix)]

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;
use strata_engine::storage::SimVfs;
use strata_engine::{Database, Error, OpenFailure, Options};
use strata_tests::{TempDir, open_sim, sim_options, sim_path, sim_wal_path};

fn options(read_only: bool) -> Options {
    Options {
        log_preallocate: 0,
        read_only,
        ..Options::default()
    }
}

fn log_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    p.into()
}

/// Opens `path` on another thread; the result, or a failure if it takes
/// more than ten seconds.
fn open_within_deadline(path: &Path, opts: Options) -> strata_engine::Result<Database> {
    let (tx, rx) = mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(Database::open_with(&p, opts));
    });
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("opening {path:?} hung"))
}

/// Asserts that opening `db`, writable and read-only, fails with
/// `CannotOpen { path: file, reason }`.
fn refused(db: &Path, file: &Path, reason: OpenFailure, what: &str) {
    for read_only in [false, true] {
        match open_within_deadline(db, options(read_only)) {
            Err(e @ Error::CannotOpen { .. }) => {
                let Error::CannotOpen { path, reason: r } = &e else {
                    unreachable!()
                };
                assert_eq!(
                    (path.as_path(), *r),
                    (file, reason),
                    "{what}, read-only {read_only}: {e}"
                );
                assert!(e.to_string().contains(&file.display().to_string()), "{e}");
            }
            other => panic!("{what}, read-only {read_only}: expected CannotOpen, got {other:?}"),
        }
    }
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo")
        .success();
    assert!(ok, "mkfifo {path:?}");
}

/// A database at `path`, closed cleanly, whose log is then removed, so
/// that something else can be put in its place.
fn closed_without_log(path: &Path) {
    let db = Database::open_with(path, options(false)).unwrap();
    db.transaction(|tx| {
        tx.create_table("t")?;
        tx.put("t", b"k", b"v")
    })
    .unwrap();
    drop(db);
    std::fs::remove_file(log_of(path)).unwrap();
}

#[test]
fn special_files_as_the_database() {
    let dir = TempDir::new("special");
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    refused(&fifo, &fifo, OpenFailure::NotARegularFile, "a FIFO");
    let sock = dir.path().join("sock");
    let _listener = UnixListener::bind(&sock).unwrap();
    refused(&sock, &sock, OpenFailure::NotARegularFile, "a socket");
    let null = Path::new("/dev/null");
    refused(null, null, OpenFailure::NotARegularFile, "/dev/null");
    // Through a symbolic link, the error names the path given.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    refused(
        &link,
        &link,
        OpenFailure::NotARegularFile,
        "a link to a FIFO",
    );
    refused(
        dir.path(),
        dir.path(),
        OpenFailure::IsADirectory,
        "a directory",
    );
    // Nothing was created beside them.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["fifo", "link", "sock"]);
}

#[test]
fn special_files_as_the_log() {
    let dir = TempDir::new("special");
    type Make = fn(&Path) -> Option<UnixListener>;
    let cases: [(&str, Make, OpenFailure); 4] = [
        (
            "a FIFO",
            |p| {
                mkfifo(p);
                None
            },
            OpenFailure::NotARegularFile,
        ),
        (
            "a socket",
            |p| Some(UnixListener::bind(p).unwrap()),
            OpenFailure::NotARegularFile,
        ),
        (
            "a link to /dev/null",
            |p| {
                std::os::unix::fs::symlink("/dev/null", p).unwrap();
                None
            },
            OpenFailure::NotARegularFile,
        ),
        (
            "a directory",
            |p| {
                std::fs::create_dir(p).unwrap();
                None
            },
            OpenFailure::IsADirectory,
        ),
    ];
    for (i, (what, make, reason)) in cases.into_iter().enumerate() {
        let db = dir.path().join(format!("db{i}"));
        closed_without_log(&db);
        let log = log_of(&db);
        let _listener = make(&log);
        refused(&db, &log, reason, what);
        // Left as it was, and the database opens once it is gone.
        let meta = std::fs::symlink_metadata(&log).unwrap();
        assert!(!meta.is_file(), "{what} was replaced");
        if meta.is_dir() {
            std::fs::remove_dir(&log).unwrap();
        } else {
            std::fs::remove_file(&log).unwrap();
        }
        let d = Database::open_with(&db, options(false)).unwrap();
        let tx = d.begin_read().unwrap();
        assert_eq!(tx.get("t", b"k").unwrap(), Some(b"v".to_vec()), "{what}");
    }
}

/// On the simulated disk: the same refusal, for the data file and the
/// log, and a new database is not created over a FIFO.
#[test]
fn special_files_on_the_simulated_disk() {
    let vfs = SimVfs::new(1);
    vfs.make_special(&sim_path(), "a FIFO");
    match open_sim(&vfs) {
        Err(Error::CannotOpen { path, reason }) => {
            assert_eq!((path, reason), (sim_path(), OpenFailure::NotARegularFile))
        }
        other => panic!("expected CannotOpen, got {other:?}"),
    }
    let vfs = SimVfs::new(2);
    drop(open_sim(&vfs).unwrap());
    strata_engine::storage::Vfs::remove(&vfs, &sim_wal_path()).unwrap();
    vfs.make_special(&sim_wal_path(), "a socket");
    for read_only in [false, true] {
        let opts = Options {
            read_only,
            ..sim_options(&vfs)
        };
        match Database::open_with(sim_path(), opts) {
            Err(Error::CannotOpen { path, reason }) => {
                assert_eq!(
                    (path, reason),
                    (sim_wal_path(), OpenFailure::NotARegularFile)
                )
            }
            other => panic!("read-only {read_only}: expected CannotOpen, got {other:?}"),
        }
    }
}
