//! Opening one new path from many threads and processes at once.
//!
//! Each round, a few openers (threads of this process, or child processes
//! running this test binary) start together on a path where no database
//! exists yet. Each one that opens commits a few keys of its own, in
//! separate transactions, records each key once its commit returned, and
//! closes. Every opener must either open or fail with `Locked`: never
//! `CannotOpen`, `NotAStrataFile`, corruption or an I/O error. At the end
//! of the round, the database at the path must hold every acknowledged
//! key, pass `check()`, and have no file beside it but its log: exactly
//! one database was created, and every handle that opened worked on it.
//!
//! `STRATA_OPEN_RACE_ROUNDS` (default 300) sets the rounds of threads (2
//! to 4 a round), `STRATA_OPEN_RACE_PROCESS_ROUNDS` (default 30) the
//! rounds of processes (2 to 4 a round).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use strata_engine::{Database, Error, Options};
use strata_tests::{TempDir, env_count};

/// Keys each opener that gets the database commits, one transaction each.
const KEYS: usize = 3;

/// The two tests take turns. A child process forked while a handle of
/// this process closes shares the handle's open file until it execs, and
/// with it the lock (a `flock` lock belongs to the open file): a reopen
/// at that moment would get `Locked`, as it should, and fail the round.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

fn options() -> Options {
    Options {
        log_preallocate: 0,
        ..Options::default()
    }
}

/// What one opener did: the keys it saw committed, or why it did not open.
type Outcome = Result<Vec<String>, Error>;

/// Opens `path` and, if that works, commits the keys of opener `who`.
fn open_and_commit(path: &Path, who: &str) -> Outcome {
    let db = Database::open_with(path, options())?;
    let mut acked = Vec::new();
    for i in 0..KEYS {
        let key = format!("{who}-{i}");
        let r = db.transaction(|tx| {
            tx.create_table("t")?;
            tx.put("t", key.as_bytes(), who.as_bytes())
        });
        match r {
            Ok(()) => acked.push(key),
            // A commit that fails is not acknowledged; the round's check
            // then says whether that was right.
            Err(e) => panic!("{who}: commit {i} failed: {e}"),
        }
    }
    Ok(acked)
}

/// Checks a round: the outcomes, then the database they leave.
fn check_round(dir: &Path, outcomes: &[Outcome], what: &str) -> usize {
    let mut acked = BTreeSet::new();
    for o in outcomes {
        match o {
            Ok(keys) => acked.extend(keys.iter().cloned()),
            Err(Error::Locked) => {}
            Err(e) => panic!("{what}: an opener failed with {e:?}, not Locked"),
        }
    }
    assert!(!acked.is_empty(), "{what}: nobody opened the database");
    let path = dir.join("db");
    let db = Database::open_with(&path, options())
        .unwrap_or_else(|e| panic!("{what}: reopening failed: {e}"));
    db.check().unwrap();
    let tx = db.begin_read().unwrap();
    let found: BTreeSet<String> = tx
        .range("t", ..)
        .unwrap()
        .map(|kv| String::from_utf8(kv.unwrap().0).unwrap())
        .collect();
    let lost: Vec<&String> = acked.difference(&found).collect();
    assert!(
        lost.is_empty(),
        "{what}: acknowledged commits lost: {lost:?}"
    );
    drop(tx);
    drop(db);
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["db", "db-wal"], "{what}: files left");
    acked.len()
}

#[test]
fn threads_opening_a_new_path_at_once() {
    let _turn = one_at_a_time();
    let rounds = env_count("STRATA_OPEN_RACE_ROUNDS", 300);
    let (mut opened, mut locked) = (0, 0);
    for round in 0..rounds {
        let dir = TempDir::new("open-race");
        let n = 2 + (round % 3) as usize;
        let barrier = Arc::new(Barrier::new(n));
        let threads: Vec<_> = (0..n)
            .map(|t| {
                let (path, barrier) = (dir.path().join("db"), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    open_and_commit(&path, &format!("r{round}t{t}"))
                })
            })
            .collect();
        let outcomes: Vec<Outcome> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        check_round(dir.path(), &outcomes, &format!("thread round {round}"));
        opened += outcomes.iter().filter(|o| o.is_ok()).count();
        locked += outcomes.len() - outcomes.iter().filter(|o| o.is_ok()).count();
    }
    println!("{rounds} rounds of threads: {opened} opened, {locked} locked out");
}

/// Run as a child process by the test below: opens the database at
/// `STRATA_RACE_DB` when its stdin says `go`, and prints what happened.
#[test]
#[ignore = "a helper: run as a child process by processes_opening_a_new_path_at_once"]
fn race_child() {
    let path =
        std::env::var("STRATA_RACE_DB").expect("run by processes_opening_a_new_path_at_once");
    let who = std::env::var("STRATA_RACE_WHO").unwrap();
    println!("STRATA-RACE ready");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    match open_and_commit(Path::new(&path), &who) {
        Ok(keys) => {
            for k in keys {
                println!("STRATA-RACE acked {k}");
            }
        }
        Err(Error::Locked) => println!("STRATA-RACE locked"),
        Err(e) => println!("STRATA-RACE error {e:?}"),
    }
    std::io::stdout().flush().unwrap();
}

#[cfg(unix)]
#[test]
fn processes_opening_a_new_path_at_once() {
    let _turn = one_at_a_time();
    let rounds = env_count("STRATA_OPEN_RACE_PROCESS_ROUNDS", 30);
    let (mut opened, mut locked) = (0, 0);
    for round in 0..rounds {
        let dir = TempDir::new("open-race-proc");
        let n = 2 + (round % 3) as usize;
        let mut children: Vec<_> = (0..n)
            .map(|c| {
                Command::new(std::env::current_exe().unwrap())
                    .args([
                        "--exact",
                        "race_child",
                        "--ignored",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env("STRATA_RACE_DB", dir.path().join("db"))
                    .env("STRATA_RACE_WHO", format!("r{round}p{c}"))
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        // Every child up and waiting, then all started at once.
        let mut outs: Vec<_> = children
            .iter_mut()
            .map(|c| BufReader::new(c.stdout.take().unwrap()))
            .collect();
        for out in &mut outs {
            let mut line = String::new();
            while !line.contains("STRATA-RACE ready") {
                line.clear();
                assert!(out.read_line(&mut line).unwrap() > 0, "a child died early");
            }
        }
        for c in &mut children {
            c.stdin.take().unwrap().write_all(b"go\n").unwrap();
        }
        let mut outcomes = Vec::new();
        for (c, out) in children.iter_mut().zip(outs) {
            // The test harness's own words may share a line with ours.
            let lines: Vec<String> = out
                .lines()
                .map(|l| {
                    let l = l.unwrap();
                    l[l.find("STRATA-RACE").unwrap_or(0)..].to_string()
                })
                .collect();
            assert!(c.wait().unwrap().success(), "a child failed: {lines:?}");
            let acked: Vec<String> = lines
                .iter()
                .filter_map(|l| l.strip_prefix("STRATA-RACE acked "))
                .map(str::to_string)
                .collect();
            let outcome = if lines.iter().any(|l| l == "STRATA-RACE locked") {
                Err(Error::Locked)
            } else if let Some(e) = lines.iter().find(|l| l.starts_with("STRATA-RACE error")) {
                panic!("process round {round}: a child failed to open: {e}");
            } else {
                Ok(acked)
            };
            outcomes.push(outcome);
        }
        check_round(dir.path(), &outcomes, &format!("process round {round}"));
        opened += outcomes.iter().filter(|o| o.is_ok()).count();
        locked += outcomes.len() - outcomes.iter().filter(|o| o.is_ok()).count();
    }
    println!("{rounds} rounds of processes: {opened} opened, {locked} locked out");
}
