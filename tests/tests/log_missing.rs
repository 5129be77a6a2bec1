//! A database whose log is missing, foreign, cut short or replaced: opening
//! refuses with a clear error naming the log, or recovers every
//! acknowledged commit; never does it open silently short of one.
//!
//! * The log deleted while the database is open, then the process killed
//!   with SIGKILL: refused (`LogUnusable`, commits at risk), unless a
//!   checkpoint noticed the deletion first, in which case everything
//!   acknowledged is in the data file and it opens whole.
//! * The data file moved away from its log after a crash: refused where it
//!   went; at the old path, no new database is made beside the old log;
//!   moved back, it recovers whole.
//! * Another database's log beside a crashed database, or beside a cleanly
//!   closed one: refused, and the files are left as they were; with
//!   `Options::recover_without_log`, it opens as of its checkpoint.
//! * The log replaced or deleted while open: the next checkpoint makes
//!   everything committed durable, returns `LogReplaced` and poisons the
//!   handle; reopening finds every acknowledged commit.
//! * A log cut shorter than its header, a log in a directory that cannot
//!   be written, a newer log format, read-only opens: each its own error.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use strata_engine::storage::{CrashMode, SimVfs};
use strata_engine::{Database, Error, LogProblem, OpenFailure, Options};
use strata_tests::{TempDir, crc32, open_sim, sim_options, sim_path, sim_wal_path};

fn quiet() -> Options {
    Options {
        log_preallocate: 0,
        ..Options::default()
    }
}

fn log_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    p.into()
}

/// Commits `key` = `value` into table "t".
fn put(db: &Database, key: &str, value: &str) -> strata_engine::Result<()> {
    db.transaction(|tx| {
        tx.create_table("t")?;
        tx.put("t", key.as_bytes(), value.as_bytes())
    })
}

/// Everything in table "t" (none if it does not exist).
fn contents(db: &Database) -> BTreeMap<String, String> {
    let tx = db.begin_read().unwrap();
    if !tx.table_exists("t").unwrap() {
        return BTreeMap::new();
    }
    tx.range("t", ..)
        .unwrap()
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap())
        })
        .collect()
}

/// Asserts `r` is `LogUnusable` for `log`, with `problem` and `at_risk`.
fn unusable(r: strata_engine::Result<Database>, log: &Path, problem: LogProblem, at_risk: bool) {
    match r {
        Err(
            ref e @ Error::LogUnusable {
                path: ref p,
                problem: pr,
                commits_at_risk,
            },
        ) => {
            assert_eq!(
                (p.as_path(), pr, commits_at_risk),
                (log, problem, at_risk),
                "{e}"
            );
            let text = e.to_string();
            assert!(text.contains(&log.display().to_string()), "{text}");
            assert!(text.contains("recover_without_log"), "{text}");
        }
        other => panic!("expected LogUnusable {problem:?} at {log:?}, got {other:?}"),
    }
}

// ---- the log deleted under a running process, which is then killed ----

/// Run as a child process by the test below: opens the database at
/// `STRATA_LOG_CHILD_DB`, commits, waits for a line on stdin (the parent
/// deletes the log meanwhile), commits more (checkpointing first if
/// `STRATA_LOG_CHILD_CHECKPOINT` is set), and waits to be killed. Prints
/// each acknowledged key.
#[test]
#[ignore = "a helper: run as a child process by a_log_deleted_under_a_killed_process"]
fn log_child() {
    let path = std::env::var("STRATA_LOG_CHILD_DB").expect("run by the parent test");
    let checkpoint = std::env::var_os("STRATA_LOG_CHILD_CHECKPOINT").is_some();
    let db = Database::open_with(&path, quiet()).unwrap();
    let say = |line: &str| {
        println!("STRATA-LOG {line}");
        std::io::stdout().flush().unwrap();
    };
    for i in 0..5 {
        put(&db, &format!("before{i}"), "v").unwrap();
        say(&format!("acked before{i}"));
    }
    say("waiting");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    if checkpoint {
        match db.checkpoint() {
            Err(Error::LogReplaced { .. }) => say("noticed"),
            other => say(&format!("checkpoint gave {other:?}")),
        }
    }
    for i in 0..5 {
        match put(&db, &format!("after{i}"), "v") {
            Ok(()) => say(&format!("acked after{i}")),
            Err(e) => say(&format!("refused {e}")),
        }
    }
    say("done");
    std::io::stdin().read_line(&mut line).unwrap();
}

/// Runs the child on `path`, deletes the log when it waits, lets it go on,
/// kills it, and returns the keys it saw acknowledged and its lines.
#[cfg(unix)]
fn run_child(path: &Path, checkpoint: bool) -> (Vec<String>, Vec<String>) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "log_child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("STRATA_LOG_CHILD_DB", path)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped());
    if checkpoint {
        cmd.env("STRATA_LOG_CHILD_CHECKPOINT", "1");
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = Vec::new();
    let mut wait_for = |what: &str, lines: &mut Vec<String>| loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "child ended: {lines:?}"
        );
        // The test harness's own words may share the first line.
        let line = line[line.find("STRATA-LOG").unwrap_or(0)..]
            .trim()
            .to_string();
        let done = line == format!("STRATA-LOG {what}");
        lines.push(line);
        if done {
            return;
        }
    };
    wait_for("waiting", &mut lines);
    std::fs::remove_file(log_of(path)).unwrap();
    stdin.write_all(b"go\n").unwrap();
    wait_for("done", &mut lines);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let acked = lines
        .iter()
        .filter_map(|l| l.strip_prefix("STRATA-LOG acked "))
        .map(str::to_string)
        .collect();
    (acked, lines)
}

#[cfg(unix)]
#[test]
fn a_log_deleted_under_a_killed_process() {
    // No checkpoint after the deletion: the commits after it went to a
    // file nobody can read, and so did the ones before (the data file has
    // only the open's checkpoint). Refused.
    let dir = TempDir::new("log-missing");
    let path = dir.path().join("db");
    let (acked, lines) = run_child(&path, false);
    assert_eq!(acked.len(), 10, "{lines:?}");
    unusable(
        Database::open_with(&path, quiet()),
        &log_of(&path),
        LogProblem::Missing,
        true,
    );
    assert!(!log_of(&path).exists(), "a refused open made a log");
    // Asked to, it opens as of its checkpoint, and makes a new log.
    let without = Options {
        recover_without_log: true,
        ..quiet()
    };
    let db = Database::open_with(&path, without).unwrap();
    db.check().unwrap();
    assert!(contents(&db).is_empty(), "the checkpoint held none of them");
    drop(db);
    Database::open_with(&path, quiet()).unwrap();

    // A checkpoint after the deletion notices it: it writes everything
    // acknowledged into the data file and refuses further commits.
    let dir = TempDir::new("log-missing");
    let path = dir.path().join("db");
    let (acked, lines) = run_child(&path, true);
    assert!(lines.iter().any(|l| l == "STRATA-LOG noticed"), "{lines:?}");
    assert_eq!(acked.len(), 5, "commits after it are refused: {lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("STRATA-LOG refused") && l.contains("poisoned")),
        "{lines:?}"
    );
    let db = Database::open_with(&path, quiet()).unwrap();
    db.check().unwrap();
    let got = contents(&db);
    for k in &acked {
        assert!(got.contains_key(k), "acknowledged {k} lost");
    }
}

// ---- on the simulated disk ----

/// A database on `vfs` with five commits in its log, taken as a crash
/// leaves it (the meta page open): the image, and the keys.
fn crashed(seed: u64) -> (SimVfs, Vec<String>) {
    let vfs = SimVfs::new(seed);
    let db = open_sim(&vfs).unwrap();
    let keys: Vec<String> = (0..5).map(|i| format!("k{seed}-{i}")).collect();
    for k in &keys {
        put(&db, k, "v").unwrap();
    }
    let image = vfs.crash(CrashMode::DropAll);
    drop(db);
    (image, keys)
}

/// The same, closed cleanly.
fn closed(seed: u64) -> (SimVfs, Vec<String>) {
    let vfs = SimVfs::new(seed);
    let db = open_sim(&vfs).unwrap();
    let keys: Vec<String> = (0..5).map(|i| format!("k{seed}-{i}")).collect();
    for k in &keys {
        put(&db, k, "v").unwrap();
    }
    drop(db);
    (vfs, keys)
}

fn files(vfs: &SimVfs) -> Vec<(PathBuf, Vec<u8>)> {
    vfs.list_files()
        .into_iter()
        .map(|p| {
            let b = vfs.read_file(&p).unwrap();
            (p, b)
        })
        .collect()
}

fn moved(vfs: &SimVfs, from: &Path, to: &Path) {
    let bytes = vfs.read_file(from).unwrap();
    vfs.write_file(to, &bytes);
    strata_engine::storage::Vfs::remove(vfs, from).unwrap();
}

fn assert_whole(db: &Database, keys: &[String]) {
    db.check().unwrap();
    let got = contents(db);
    for k in keys {
        assert!(got.contains_key(k), "acknowledged {k} lost");
    }
}

#[test]
fn a_data_file_moved_away_from_its_log_after_a_crash() {
    let (vfs, keys) = crashed(1);
    let elsewhere = PathBuf::from("/elsewhere/db.strata");
    moved(&vfs, &sim_path(), &elsewhere);
    let at = |p: &Path, o: Options| Database::open_with(p, o);
    unusable(
        at(&elsewhere, sim_options(&vfs)),
        &log_of(&elsewhere),
        LogProblem::Missing,
        true,
    );
    // At the old path, the log is there but no database: none is created
    // beside it.
    let before = files(&vfs);
    unusable(
        at(&sim_path(), sim_options(&vfs)),
        &sim_wal_path(),
        LogProblem::OtherDatabase,
        false,
    );
    assert!(files(&vfs) == before, "a refused open wrote");
    // A read-only open refuses as well.
    let ro = Options {
        read_only: true,
        ..sim_options(&vfs)
    };
    unusable(
        at(&elsewhere, ro),
        &log_of(&elsewhere),
        LogProblem::Missing,
        true,
    );
    // Moved back, it recovers whole.
    moved(&vfs, &elsewhere, &sim_path());
    let db = open_sim(&vfs).unwrap();
    assert_whole(&db, &keys);
}

#[test]
fn another_databases_log_beside_a_database() {
    let (other, _) = closed(9);
    let foreign = other.read_file(&sim_wal_path()).unwrap();
    for clean in [false, true] {
        let (vfs, keys) = if clean { closed(2) } else { crashed(2) };
        vfs.write_file(&sim_wal_path(), &foreign);
        let before = files(&vfs);
        unusable(
            open_sim(&vfs),
            &sim_wal_path(),
            LogProblem::OtherDatabase,
            !clean,
        );
        let ro = Options {
            read_only: true,
            ..sim_options(&vfs)
        };
        match Database::open_with(sim_path(), ro) {
            // Closed, it needs nothing from a log: a read-only handle,
            // which writes nothing, reads it whole.
            Ok(db) if clean => assert_whole(&db, &keys),
            r => unusable(r, &sim_wal_path(), LogProblem::OtherDatabase, true),
        }
        assert!(files(&vfs) == before, "a refused open wrote");
        // Asked to go on without its log: the checkpoint, and a new log in
        // place of the other database's.
        let without = Options {
            recover_without_log: true,
            ..sim_options(&vfs)
        };
        let db = Database::open_with(sim_path(), without).unwrap();
        db.check().unwrap();
        if clean {
            assert_whole(&db, &keys);
        }
        put(&db, "after", "v").unwrap();
        drop(db);
        assert_ne!(vfs.read_file(&sim_wal_path()).unwrap(), foreign);
        let db = open_sim(&vfs).unwrap();
        assert_eq!(contents(&db).get("after").map(String::as_str), Some("v"));
    }
}

#[test]
fn a_log_replaced_while_open_poisons_at_the_next_checkpoint() {
    let (other, _) = closed(8);
    let foreign = other.read_file(&sim_wal_path()).unwrap();
    // Deleted; replaced by another database's log; replaced by a copy of
    // itself (another file with the same bytes).
    for how in ["deleted", "foreign", "copied"] {
        let vfs = SimVfs::new(3);
        let db = open_sim(&vfs).unwrap();
        let mut keys = vec!["a".to_string()];
        put(&db, "a", "v").unwrap();
        let own = vfs.read_file(&sim_wal_path()).unwrap();
        strata_engine::storage::Vfs::remove(&vfs, &sim_wal_path()).unwrap();
        match how {
            "foreign" => vfs.write_file(&sim_wal_path(), &foreign),
            "copied" => vfs.write_file(&sim_wal_path(), &own),
            _ => {}
        }
        // Commits still go to the log this handle has open.
        put(&db, "b", "v").unwrap();
        keys.push("b".into());
        match db.checkpoint() {
            Err(e @ Error::LogReplaced { .. }) => {
                assert!(
                    e.to_string()
                        .contains(&sim_wal_path().display().to_string())
                )
            }
            other => panic!("{how}: expected LogReplaced, got {other:?}"),
        }
        match db.begin() {
            Err(Error::Poisoned { cause }) => assert!(cause.contains("replaced"), "{cause}"),
            other => panic!("{how}: expected Poisoned, got {other:?}"),
        }
        // What the checkpoint wrote survives a power loss.
        let image = vfs.crash(CrashMode::DropAll);
        drop(db);
        match (how, open_sim(&image)) {
            ("foreign", r) => {
                unusable(r, &sim_wal_path(), LogProblem::OtherDatabase, false);
                let without = Options {
                    recover_without_log: true,
                    ..sim_options(&image)
                };
                assert_whole(&Database::open_with(sim_path(), without).unwrap(), &keys);
            }
            (_, r) => assert_whole(&r.unwrap(), &keys),
        }
    }
}

#[test]
fn a_log_cut_shorter_than_its_header() {
    for clean in [false, true] {
        let (vfs, keys) = if clean { closed(4) } else { crashed(4) };
        let log = vfs.read_file(&sim_wal_path()).unwrap();
        vfs.write_file(&sim_wal_path(), &log[..20]);
        if clean {
            // Closed: nothing is lost; a new log replaces the stub.
            let db = open_sim(&vfs).unwrap();
            assert_whole(&db, &keys);
            drop(db);
            assert!(vfs.file_len(&sim_wal_path()).unwrap() >= 32);
        } else {
            unusable(open_sim(&vfs), &sim_wal_path(), LogProblem::Truncated, true);
        }
    }
}

#[test]
fn a_missing_log_that_cannot_be_created_names_the_log() {
    let (vfs, keys) = closed(5);
    strata_engine::storage::Vfs::remove(&vfs, &sim_wal_path()).unwrap();
    let dir = sim_path().parent().unwrap().to_path_buf();
    vfs.set_dir_read_only(&dir, true);
    match open_sim(&vfs) {
        Err(Error::CannotOpen {
            path,
            reason: OpenFailure::PermissionDenied,
        }) => assert_eq!(path, sim_wal_path()),
        other => panic!("expected CannotOpen for the log, got {other:?}"),
    }
    // Read-only, it needs no log.
    let ro = Options {
        read_only: true,
        ..sim_options(&vfs)
    };
    assert_whole(&Database::open_with(sim_path(), ro).unwrap(), &keys);
    vfs.set_dir_read_only(&dir, false);
    assert_whole(&open_sim(&vfs).unwrap(), &keys);
}

#[test]
fn a_newer_log_format_is_reported_as_the_logs() {
    let (vfs, _) = crashed(6);
    let mut log = vfs.read_file(&sim_wal_path()).unwrap();
    log[8..12].copy_from_slice(&2u32.to_le_bytes());
    let crc = crc32(&[&log[0..28]]);
    log[28..32].copy_from_slice(&crc.to_le_bytes());
    vfs.write_file(&sim_wal_path(), &log);
    match open_sim(&vfs) {
        Err(
            ref e @ Error::NewerLogFormat {
                ref path,
                found,
                supported,
            },
        ) => {
            assert_eq!((path, found, supported), (&sim_wal_path(), 2, 1));
            assert!(e.to_string().contains("log format version 2"), "{e}");
        }
        other => panic!("expected NewerLogFormat, got {other:?}"),
    }
}

/// A database closed cleanly opens without its log, making a new one; a
/// read-only open reads it without making one.
#[test]
fn a_cleanly_closed_database_needs_no_log() {
    let (vfs, keys) = closed(7);
    strata_engine::storage::Vfs::remove(&vfs, &sim_wal_path()).unwrap();
    let ro = Options {
        read_only: true,
        ..sim_options(&vfs)
    };
    assert_whole(&Database::open_with(sim_path(), ro).unwrap(), &keys);
    assert_eq!(vfs.read_file(&sim_wal_path()), None);
    let db = open_sim(&vfs).unwrap();
    assert_whole(&db, &keys);
    put(&db, "more", "v").unwrap();
    let image = vfs.crash(CrashMode::DropAll);
    drop(db);
    let db = open_sim(&image).unwrap();
    assert_eq!(contents(&db).get("more").map(String::as_str), Some("v"));
}

/// A checkpoint that notices the log gone but cannot write (the disk is
/// full) still poisons the handle: no commit may follow into the lost log.
#[test]
fn a_log_deleted_while_open_poisons_even_when_the_checkpoint_fails() {
    use strata_engine::storage::FaultPlan;
    let vfs = SimVfs::new(10);
    let db = open_sim(&vfs).unwrap();
    put(&db, "a", "v").unwrap();
    strata_engine::storage::Vfs::remove(&vfs, &sim_wal_path()).unwrap();
    // A large commit leaves dirty pages for the checkpoint to write, and
    // no room to write them.
    put(&db, "b", &"x".repeat(200_000)).unwrap();
    vfs.set_faults(FaultPlan {
        disk_limit: Some(strata_tests::sim_usage(&vfs)),
        ..FaultPlan::default()
    });
    assert!(matches!(db.checkpoint(), Err(Error::StorageFull(_))));
    match db.begin() {
        Err(Error::Poisoned { cause }) => assert!(cause.contains("replaced"), "{cause}"),
        other => panic!("expected Poisoned, got {other:?}"),
    }
}
