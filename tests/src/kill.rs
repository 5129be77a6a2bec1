//! The harness of the process-kill suite (`tests/tests/process_kills/`, an
//! engine loop and an ORM loop): run a workload in a child process, kill it
//! with SIGKILL at a chosen moment, and collect every line it printed
//! before it died. [`parent`](crate::kill::parent) runs such rounds in a
//! loop and checks the database after each; [`child`](crate::kill::child)
//! is the child's side.
//!
//! The child is the test binary itself, re-run on one `#[ignore]`d test
//! (its *role*) with environment variables saying what to do. It speaks a
//! line protocol on stdout, one `write` per line (atomic on a pipe), and
//! the parent reads it on a thread:
//!
//! | line | meaning |
//! | --- | --- |
//! | `opening` | about to open the database (recovery starts here) |
//! | `ready <us>` | opened, recovered and set up, in `us` microseconds |
//! | `ckpt` / `ckpt-done <us>` | around an explicit checkpoint |
//! | `closing` / `closed` | around dropping the last handle (a clean close) |
//! | anything else | the workload's own lines (intents, acknowledgements) |
//!
//! A [`Plan`](crate::kill::Plan) says when to kill: so long after the spawn
//! (startup, open, recovery), after `opening`, inside the n-th explicit
//! checkpoint, after the n-th acknowledgement, or while closing; or never
//! (the child closes the database and exits by itself).
//! [`Phase`](crate::kill::Phase) says where the kill landed, judged from
//! the markers the child printed.

pub mod child;
pub mod parent;

pub use child::{Child, child_options, env_u64};
pub use parent::{KillLoop, Oracle, verify_options};

use crate::Rng;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The environment variable naming the database file of a child (a role
/// test run without it fails: it is no test of its own).
pub const CHILD_DB: &str = "STRATA_KILL_CHILD_DB";

/// The seed of a kill loop: `STRATA_KILL_SEED` if set, else a fresh one
/// from the clock and the process id (each run explores other plans). The
/// loops print it first, and again in any failure.
pub fn seed() -> u64 {
    if let Some(s) = std::env::var("STRATA_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return s;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    Rng::new(nanos ^ u64::from(std::process::id()) << 32).next_u64() % 1_000_000_000
}

/// A child making no progress for this long is reported as hung (a lost
/// wake-up or a deadlock in the engine), not waited on forever.
const HANG: Duration = Duration::from_secs(300);

/// Held while a child is spawned, and while a parent has a database open;
/// see [`no_spawns`].
static SPAWNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Waits until no thread of this process is spawning a child, and keeps
/// it so while the guard lives. The engine locks its file with `flock`,
/// which belongs to the open file, and a child forked by another thread
/// holds a copy of every descriptor until its `exec` closes them, which
/// the kernel finishes only after the parent's `spawn` has returned: a
/// handle the parent drops meanwhile leaves the file locked for that
/// moment, and opening it again fails with `Error::Locked`. A parent holds
/// this guard for as long as it has a database open, from its first open
/// to its last close, so that no child ever inherits one of its handles.
pub fn no_spawns() -> std::sync::MutexGuard<'static, ()> {
    SPAWNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts the child's protocol: ends the line libtest's harness left
/// open (`test name ... `), so that the first marker is a line of its own.
pub fn start_protocol() {
    say("");
}

/// Prints one protocol line and flushes it, in one write. A parent that
/// has gone away is not an error of the child: it is about to be killed.
pub fn say(line: &str) {
    let mut buf = String::with_capacity(line.len() + 1);
    buf.push_str(line);
    buf.push('\n');
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(buf.as_bytes());
    let _ = out.flush();
}

/// When the parent kills the child.
#[derive(Clone, Copy, Debug)]
pub enum Plan {
    /// This long after the spawn: process startup, open, recovery, or
    /// the first commits.
    AfterSpawn(Duration),
    /// This long after the child prints `opening`.
    InOpen(Duration),
    /// This long after the child's n-th `ckpt` line (from 1).
    InCheckpoint(u64, Duration),
    /// This long after the n-th workload line accepted by the round's
    /// `is_ack` (from 1).
    AfterAcks(u64, Duration),
    /// The child is told to stop after this many commits and close the
    /// database; killed this long after it prints `closing`, or, with
    /// `None`, left to exit by itself.
    Close(u64, Option<Duration>),
}

impl Plan {
    /// A random plan. `open_us` and `ckpt_us` are how long the last open
    /// and explicit checkpoint took (0 if unknown), `startup_us` how long
    /// the child took to print `opening`, so that kills land inside them.
    pub fn random(rng: &mut Rng, startup_us: u64, open_us: u64, ckpt_us: u64) -> Plan {
        let us = |rng: &mut Rng, max: u64| Duration::from_micros(rng.below(max.max(1) + 1));
        match rng.below(100) {
            0..=11 => {
                let d = us(rng, startup_us + open_us + open_us / 2 + 2_000);
                Plan::AfterSpawn(d)
            }
            12..=26 => Plan::InOpen(us(rng, open_us + open_us / 4 + 200)),
            27..=41 => Plan::InCheckpoint(1 + rng.below(3), us(rng, ckpt_us + ckpt_us / 4 + 200)),
            42..=91 => {
                // Log-uniform from 1 to about 1,000 acknowledgements.
                let bits = rng.below(10);
                let n = 1 + rng.below(1 << bits);
                Plan::AfterAcks(n, us(rng, 3_000))
            }
            92..=95 => {
                let n = 1 + rng.below(200);
                Plan::Close(n, Some(us(rng, open_us + 2_000)))
            }
            _ => Plan::Close(1 + rng.below(200), None),
        }
    }

    /// Environment variables the child needs for this plan: the commit
    /// count to stop after, if any.
    pub fn child_env(&self) -> Vec<(&'static str, String)> {
        match self {
            Plan::Close(n, _) => vec![("STRATA_KILL_CHILD_STOP", n.to_string())],
            _ => Vec::new(),
        }
    }
}

/// Where a kill landed, judged from the markers the child printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Before `opening`: the process was still starting.
    Startup,
    /// Between `opening` and `ready`: open, recovery, the checkpoint that
    /// ends recovery, or the workload's setup.
    Open,
    /// Between `ckpt` and `ckpt-done`.
    Checkpoint,
    /// After `closing`: the final checkpoint of a clean close.
    Closing,
    /// Anywhere else in the workload (commits, automatic checkpoints).
    Workload,
    /// Not killed: the child closed the database and exited by itself.
    CleanExit,
}

/// What one round produced.
#[derive(Debug)]
pub struct Round {
    /// Every complete line the child printed, in order.
    pub lines: Vec<String>,
    /// Where the kill landed.
    pub phase: Phase,
    /// Microseconds from `opening` to `ready`, as the child reported.
    pub open_us: Option<u64>,
    /// Microseconds from the spawn to the `opening` line.
    pub startup_us: Option<u64>,
    /// Microseconds of the last explicit checkpoint the child reported.
    pub ckpt_us: Option<u64>,
}

/// Runs the test binary's `role` test as a child with `env` and `db` as
/// its database, and kills it as `plan` says. `is_ack` picks the lines
/// that [`Plan::AfterAcks`] counts. Panics if the child fails by itself
/// (with its standard error, kept in `stderr_path`), or hangs.
pub fn run_round(
    role: &str,
    db: &Path,
    env: &[(&'static str, String)],
    plan: Plan,
    is_ack: &dyn Fn(&str) -> bool,
    stderr_path: &Path,
) -> Round {
    let stderr = std::fs::File::create(stderr_path).expect("create stderr file");
    let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
    cmd.args([
        "--exact",
        role,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_DB, db)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::from(stderr));
    for (k, v) in env.iter().chain(plan.child_env().iter()) {
        cmd.env(k, v);
    }
    let spawned = Instant::now();
    let mut child = {
        let _g = no_spawns();
        cmd.spawn().expect("spawn child")
    };
    let stdout = child.stdout.take().expect("child stdout");
    let (tx, rx) = mpsc::channel::<Option<String>>();
    let reader = std::thread::spawn(move || {
        let mut r = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                // A line without its newline was cut by the kill: it was
                // never said.
                Ok(n) if n > 0 && line.ends_with('\n') => {
                    line.pop();
                    if tx.send(Some(line)).is_err() {
                        return;
                    }
                }
                _ => {
                    let _ = tx.send(None);
                    return;
                }
            }
        }
    });

    let mut lines = Vec::new();
    let mut kill_at = match plan {
        Plan::AfterSpawn(d) => Some(spawned + d),
        _ => None,
    };
    let mut acks = 0u64;
    let mut ckpts = 0u64;
    let mut startup_us = None;
    let mut killed = false;
    let mut last_progress = Instant::now();
    loop {
        let now = Instant::now();
        let wait = match kill_at {
            Some(t) => t.saturating_duration_since(now),
            None => Duration::from_millis(200),
        };
        let msg = if wait.is_zero() {
            Err(RecvTimeoutError::Timeout)
        } else {
            rx.recv_timeout(wait)
        };
        match msg {
            Ok(Some(line)) => {
                last_progress = Instant::now();
                let t = Instant::now();
                match &plan {
                    Plan::InOpen(d) if line == "opening" => kill_at = Some(t + *d),
                    Plan::InCheckpoint(n, d) if line == "ckpt" => {
                        ckpts += 1;
                        if ckpts == *n {
                            kill_at = Some(t + *d);
                        }
                    }
                    Plan::AfterAcks(n, d) if is_ack(&line) => {
                        acks += 1;
                        if acks == *n {
                            kill_at = Some(t + *d);
                        }
                    }
                    Plan::Close(_, Some(d)) if line == "closing" => kill_at = Some(t + *d),
                    _ => {}
                }
                if line == "opening" {
                    startup_us = Some(spawned.elapsed().as_micros() as u64);
                }
                lines.push(line);
            }
            Ok(None) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                if kill_at.is_some_and(|t| Instant::now() >= t) {
                    child.kill().expect("kill child");
                    killed = true;
                    // Drain: lines already in the pipe were said.
                    while let Ok(Some(line)) = rx.recv() {
                        lines.push(line);
                    }
                    break;
                }
                if last_progress.elapsed() > HANG {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "child {role} made no progress for {HANG:?} under {plan:?}; \
                         last lines: {:?}; stderr in {}",
                        &lines[lines.len().saturating_sub(5)..],
                        stderr_path.display()
                    );
                }
            }
        }
    }
    let status = child.wait().expect("wait for child");
    let _ = reader.join();
    let by_sigkill = status.signal() == Some(9);
    if !by_sigkill {
        let stopped_by_itself = matches!(plan, Plan::Close(..)) && status.success();
        if !stopped_by_itself {
            let err = std::fs::read_to_string(stderr_path).unwrap_or_default();
            panic!(
                "child {role} ended by itself with {status} under {plan:?} (killed: {killed}); \
                 last lines: {:?}\nstderr:\n{err}",
                &lines[lines.len().saturating_sub(5)..]
            );
        }
    }
    let has = |m: &str| lines.iter().any(|l| l == m);
    let last_ckpt = lines.iter().rposition(|l| l == "ckpt");
    let last_ckpt_done = lines.iter().rposition(|l| l.starts_with("ckpt-done"));
    let phase = if !by_sigkill {
        Phase::CleanExit
    } else if !has("opening") {
        Phase::Startup
    } else if !lines.iter().any(|l| l.starts_with("ready")) {
        Phase::Open
    } else if has("closing") {
        Phase::Closing
    } else if last_ckpt.is_some() && last_ckpt > last_ckpt_done {
        Phase::Checkpoint
    } else {
        Phase::Workload
    };
    let number_after = |prefix: &str| {
        lines
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix(prefix).and_then(|n| n.trim().parse().ok()))
    };
    Round {
        phase,
        open_us: number_after("ready "),
        ckpt_us: number_after("ckpt-done "),
        startup_us,
        lines,
    }
}

/// Copies the database `db` and its log (those of them that exist) to
/// `to` (and its log), replacing what was there, so that the parent can
/// recover and inspect the copy while the original is left exactly as the
/// kill left it, for the next child to recover.
pub fn copy_database(db: &Path, to: &Path) {
    for (from, dest) in [(db.to_path_buf(), to.to_path_buf()), (wal(db), wal(to))] {
        let _ = std::fs::remove_file(&dest);
        if from.exists() {
            std::fs::copy(&from, &dest).expect("copy database file");
        }
    }
}

/// The log file of database `db`.
pub fn wal(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_os_string();
    s.push("-wal");
    PathBuf::from(s)
}

/// Keeps a copy of the database at `db` for a post-mortem, in a directory
/// that outlives the test, and returns that directory.
pub fn keep_for_post_mortem(db: &Path, tag: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("strata-kill-failure-{tag}-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    copy_database(db, &dir.join("db"));
    dir
}

/// Tallies of a kill loop, printed at its end.
#[derive(Debug, Default)]
pub struct Tally {
    /// Rounds run.
    pub rounds: u64,
    /// Children killed by SIGKILL.
    pub kills: u64,
    /// Kills per phase (and clean exits).
    pub phases: std::collections::BTreeMap<String, u64>,
    /// Recoveries checked by the parent (opens of a copy after a round).
    pub recoveries: u64,
    /// Acknowledged commits (distinct).
    pub acked: u64,
    /// Checks of an acknowledged commit against a recovered database,
    /// summed over the rounds.
    pub acked_checks: u64,
    /// Commits found that were not acknowledged (in flight at the kill).
    pub unacked_found: u64,
}

impl Tally {
    /// Prints the tally of the loop `name`, which started at `started`.
    pub fn print(&self, name: &str, started: std::time::Instant) {
        println!(
            "{name}: {} rounds, {} kills {:?}, {} recoveries checked, {} acknowledged commits \
             ({} checks of one against a recovered file), {} unacknowledged commits found, {:.1?}",
            self.rounds,
            self.kills,
            self.phases,
            self.recoveries,
            self.acked,
            self.acked_checks,
            self.unacked_found,
            started.elapsed()
        );
    }

    /// Counts a round.
    pub fn round(&mut self, r: &Round) {
        self.rounds += 1;
        if r.phase != Phase::CleanExit {
            self.kills += 1;
        }
        *self.phases.entry(format!("{:?}", r.phase)).or_default() += 1;
    }
}
