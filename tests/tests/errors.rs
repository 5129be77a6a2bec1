//! Bad input and foreign or damaged files each give their own clear error,
//! never a panic.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use strata_engine::storage::{FaultPlan, SimVfs};
use strata_engine::{
    Database, Error, FORMAT_VERSION, Location, MAX_VALUE_LEN, OLDEST_FORMAT_VERSION, OpenFailure,
    Options,
};
use strata_tests::{TempDir, crc32, open_sim};

fn quiet() -> Options {
    Options {
        log_preallocate: 0,
        ..Options::default()
    }
}

#[test]
fn oversized_keys_and_values() {
    let dir = TempDir::new("errors");
    let db = Database::open_with(dir.path().join("db"), quiet()).unwrap();
    let mut tx = db.begin().unwrap();
    tx.create_table("t").unwrap();
    let max = db.max_key_len();
    assert_eq!(max, 1024);
    tx.put("t", &vec![1; max], b"ok").unwrap();
    match tx.put("t", &vec![1; max + 1], b"v") {
        Err(Error::KeyTooLarge { len, max: m }) => assert_eq!((len, m), (1025, 1024)),
        other => panic!("expected KeyTooLarge, got {other:?}"),
    }
    assert!(matches!(
        tx.get("t", &vec![1; max + 1]),
        Err(Error::KeyTooLarge { .. })
    ));
    assert!(matches!(
        tx.delete("t", &vec![1; max + 1]),
        Err(Error::KeyTooLarge { .. })
    ));
    tx.put("t", b"big", &vec![7; MAX_VALUE_LEN]).unwrap();
    match tx.put("t", b"k", &vec![0; MAX_VALUE_LEN + 1]) {
        Err(Error::ValueTooLarge { len, max }) => {
            assert_eq!((len, max), (MAX_VALUE_LEN + 1, MAX_VALUE_LEN))
        }
        other => panic!("expected ValueTooLarge, got {other:?}"),
    }
    tx.commit().unwrap();
    // The values at the limits are stored whole.
    let tx = db.begin().unwrap();
    assert_eq!(
        tx.get("t", b"big").unwrap().map(|v| v.len()),
        Some(MAX_VALUE_LEN)
    );
    assert_eq!(tx.get("t", &vec![1; max]).unwrap(), Some(b"ok".to_vec()));
}

#[test]
fn unknown_tables_and_bad_names() {
    let dir = TempDir::new("errors");
    let db = Database::open_with(dir.path().join("db"), quiet()).unwrap();
    let mut tx = db.begin().unwrap();
    assert!(matches!(tx.put("nope", b"k", b"v"), Err(Error::NoSuchTable(n)) if n == "nope"));
    assert!(matches!(tx.get("nope", b"k"), Err(Error::NoSuchTable(_))));
    assert!(matches!(
        tx.delete("nope", b"k"),
        Err(Error::NoSuchTable(_))
    ));
    assert!(matches!(tx.range("nope", ..), Err(Error::NoSuchTable(_))));
    assert!(matches!(
        tx.create_table(""),
        Err(Error::InvalidTableName { .. })
    ));
    assert!(matches!(
        tx.create_table(&"x".repeat(256)),
        Err(Error::InvalidTableName { .. })
    ));
    tx.create_table(&"x".repeat(255)).unwrap();
    assert!(!tx.table_exists("nope").unwrap());
}

#[test]
fn invalid_options() {
    let dir = TempDir::new("errors");
    for page_size in [0, 1000, 2048, 4097, 65536] {
        let opts = Options {
            page_size,
            ..quiet()
        };
        assert!(
            matches!(
                Database::open_with(dir.path().join("db"), opts),
                Err(Error::InvalidOptions(_))
            ),
            "page size {page_size}"
        );
    }
    let opts = Options {
        create: false,
        ..quiet()
    };
    match Database::open_with(dir.path().join("missing"), opts) {
        Err(Error::CannotOpen {
            path,
            reason: OpenFailure::NotFound,
        }) => assert_eq!(path, dir.path().join("missing")),
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn files_that_are_not_strata_databases() {
    let dir = TempDir::new("errors");
    let cases: [(&str, &[u8]); 4] = [
        ("empty", b""),
        (
            "text",
            b"hello, this is a text file and not a database at all\n",
        ),
        (
            "sqlite",
            b"SQLite format 3\0\x10\0\x01\x01\0\x40\x20\x20\0\0\0\x01\0\0\0\x02",
        ),
        ("short", b"STRATA"),
    ];
    for (name, bytes) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        match Database::open_with(&p, quiet()) {
            Err(Error::NotAStrataFile) => {}
            other => panic!("{name}: expected NotAStrataFile, got {other:?}"),
        }
        // The foreign file is left as it was.
        assert_eq!(std::fs::read(&p).unwrap(), bytes);
    }
    // A directory is an error naming it, not a panic.
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    assert!(matches!(
        Database::open_with(&sub, quiet()),
        Err(Error::CannotOpen { path, reason: OpenFailure::IsADirectory }) if path == sub
    ));
}

#[test]
fn a_newer_format_is_refused() {
    let dir = TempDir::new("errors");
    let p = dir.path().join("db");
    drop(Database::open_with(&p, quiet()).unwrap());
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let crc = crc32(&[&bytes[0..28]]);
    bytes[28..32].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&p, &bytes).unwrap();
    match Database::open_with(&p, quiet()) {
        Err(Error::NewerFormat { found, supported }) => {
            assert_eq!((found, supported), (FORMAT_VERSION + 1, FORMAT_VERSION));
        }
        other => panic!("expected NewerFormat, got {other:?}"),
    }
}

#[test]
fn an_older_format_is_refused() {
    let dir = TempDir::new("errors");
    let p = dir.path().join("db");
    drop(Database::open_with(&p, quiet()).unwrap());
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[8..12].copy_from_slice(&(OLDEST_FORMAT_VERSION - 1).to_le_bytes());
    let crc = crc32(&[&bytes[0..28]]);
    bytes[28..32].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&p, &bytes).unwrap();
    match Database::open_with(&p, quiet()) {
        Err(e @ Error::OlderFormat { found, oldest }) => {
            assert_eq!(
                (found, oldest),
                (OLDEST_FORMAT_VERSION - 1, OLDEST_FORMAT_VERSION)
            );
            assert!(e.to_string().contains("older than"), "{e}");
        }
        other => panic!("expected OlderFormat, got {other:?}"),
    }
}

#[test]
fn a_damaged_page_is_reported_with_its_number() {
    let dir = TempDir::new("errors");
    let p = dir.path().join("db");
    {
        let db = Database::open_with(&p, quiet()).unwrap();
        let mut tx = db.begin().unwrap();
        tx.create_table("t").unwrap();
        for i in 0u32..2000 {
            tx.put("t", &i.to_be_bytes(), &[9; 100]).unwrap();
        }
        tx.commit().unwrap();
    }
    let mut bytes = std::fs::read(&p).unwrap();
    let page = bytes.len() / 4096 - 2; // a tree page near the end
    bytes[page * 4096 + 2000] ^= 0x04;
    std::fs::write(&p, &bytes).unwrap();
    let db = Database::open_with(&p, quiet()).unwrap();
    match db.check() {
        Err(Error::Corruption {
            location: Location::Page(n),
            ..
        }) => assert_eq!(n as usize, page),
        other => panic!("expected corruption of page {page}, got {other:?}"),
    }
    // Reading every key hits the damaged page and says so; nothing wrong is returned.
    let tx = db.begin().unwrap();
    let mut damaged = 0;
    for i in 0u32..2000 {
        match tx.get("t", &i.to_be_bytes()) {
            Ok(Some(v)) => assert_eq!(v, [9; 100]),
            Ok(None) => panic!("key {i} silently missing"),
            Err(e) => {
                assert!(e.is_corruption(), "{e}");
                damaged += 1;
            }
        }
    }
    assert!(damaged > 0);
}

#[test]
fn a_second_handle_in_the_same_process_is_locked_out() {
    let dir = TempDir::new("errors");
    let p = dir.path().join("db");
    let db = Database::open_with(&p, quiet()).unwrap();
    assert!(matches!(
        Database::open_with(&p, quiet()),
        Err(Error::Locked)
    ));
    drop(db);
    Database::open_with(&p, quiet()).unwrap();
}

/// Run as a child process by the test below: holds the database open until
/// its stdin closes.
#[test]
#[ignore = "a helper: run as a child process by another_process_is_locked_out"]
fn child_holds_the_lock() {
    let path = std::env::var("STRATA_LOCK_CHILD_DB").expect("run by another_process_is_locked_out");
    let _db = Database::open_with(&path, quiet()).unwrap();
    println!("STRATA-CHILD-HOLDS-LOCK");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[test]
fn another_process_is_locked_out() {
    let dir = TempDir::new("errors");
    let p = dir.path().join("db");
    drop(Database::open_with(&p, quiet()).unwrap());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_holds_the_lock",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("STRATA_LOCK_CHILD_DB", &p)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("STRATA-CHILD-HOLDS-LOCK") {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "child exited before locking"
        );
    }
    match Database::open_with(&p, quiet()) {
        Err(Error::Locked) => {}
        other => panic!("expected Locked while the child holds the database, got {other:?}"),
    }
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    Database::open_with(&p, quiet()).unwrap();
}

#[test]
fn a_failed_sync_poisons_the_handle_until_reopened() {
    let vfs = SimVfs::new(3);
    let db = open_sim(&vfs).unwrap();
    let mut tx = db.begin().unwrap();
    tx.create_table("t").unwrap();
    tx.put("t", b"a", b"1").unwrap();
    tx.commit().unwrap();
    // The next commit's sync fails: the log write is call N, its sync N+1.
    vfs.set_faults(FaultPlan {
        fail_call: Some(vfs.calls() + 1),
        ..FaultPlan::default()
    });
    let mut tx = db.begin().unwrap();
    tx.put("t", b"b", b"2").unwrap();
    assert!(matches!(tx.commit(), Err(Error::Io(_))));
    for _ in 0..3 {
        assert!(matches!(db.begin(), Err(Error::Poisoned { .. })));
        assert!(matches!(db.checkpoint(), Err(Error::Poisoned { .. })));
        assert!(matches!(db.check(), Err(Error::Poisoned { .. })));
    }
    // After a power failure the failed commit is gone: the failed sync
    // dropped its dirty data.
    let image = vfs.snapshot_durable_image(strata_engine::storage::CrashMode::DropAll);
    drop(db);
    let db = open_sim(&image).unwrap();
    let tx = db.begin().unwrap();
    assert_eq!(tx.get("t", b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(tx.get("t", b"b").unwrap(), None);
    // Reopened without a power failure, the log bytes may still be in the
    // page cache: the commit was in doubt, and either answer is whole.
    drop(tx);
    drop(db);
    let db = open_sim(&vfs).unwrap();
    let tx = db.begin().unwrap();
    assert_eq!(tx.get("t", b"a").unwrap(), Some(b"1".to_vec()));
    assert!(matches!(
        tx.get("t", b"b").unwrap().as_deref(),
        None | Some(b"2")
    ));
}

/// A commit whose sync failed may still be read back from the operating
/// system's cache by a reopen in the same boot; a later acknowledged commit
/// must not depend on it being durable (opening checkpoints after replay).
#[test]
fn a_commit_after_reopening_from_a_failed_sync_survives_power_loss() {
    use strata_engine::storage::CrashMode;
    let vfs = SimVfs::new(4);
    let db = open_sim(&vfs).unwrap();
    let mut tx = db.begin().unwrap();
    tx.create_table("t").unwrap();
    tx.commit().unwrap();
    vfs.set_faults(FaultPlan {
        fail_call: Some(vfs.calls() + 1),
        ..FaultPlan::default()
    });
    let mut tx = db.begin().unwrap();
    tx.put("t", b"a", b"lost in a failed sync").unwrap();
    assert!(tx.commit().is_err());
    drop(db);
    // Same boot: the log bytes are still readable, and replayed.
    let db = open_sim(&vfs).unwrap();
    let mut tx = db.begin().unwrap();
    tx.put("t", b"b", b"acknowledged").unwrap();
    tx.commit().unwrap();
    // Power loss, keeping only what was synced.
    let image = vfs.snapshot_durable_image(CrashMode::DropAll);
    drop(db);
    let db = open_sim(&image).unwrap();
    db.check().unwrap();
    let tx = db.begin().unwrap();
    assert_eq!(tx.get("t", b"b").unwrap(), Some(b"acknowledged".to_vec()));
    assert!(matches!(
        tx.get("t", b"a").unwrap().as_deref(),
        None | Some(b"lost in a failed sync")
    ));
}
