//! Shared helpers for Strata's scenario suites (see `tests/tests/`), and
//! the sample models ([`models`]) that the suites and the benchmark
//! harness share.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod backend;
/// A real etcd cluster for the suites of the ORM's etcd backend.
pub mod etcd;
/// SIGKILL is Unix's: the process-kill harness is built there only.
#[cfg(unix)]
pub mod kill;
pub mod models;
pub mod orm_bank;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strata_engine::storage::SimVfs;
use strata_engine::{Database, Options, Result};

/// The number of proptest cases to run: `default` in CI, or the value of
/// the `STRATA_PROPTEST_CASES` environment variable when set.
pub fn proptest_cases(default: u32) -> u32 {
    env_count("STRATA_PROPTEST_CASES", default as u64) as u32
}

/// A count from environment variable `name`, or `default`.
pub fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The path the simulated suites use for their database.
pub fn sim_path() -> PathBuf {
    PathBuf::from("/sim/db.strata")
}

/// Options for a database on the simulated disk: small log preallocation
/// and checkpoint thresholds so that checkpoints happen within short
/// workloads, and a transaction memory limit of 1 MiB, so that the
/// workload's largest transactions (about 5 MB) spill their writes to the
/// scratch file, and those that commit by checkpoint write pages out early.
pub fn sim_options(vfs: &SimVfs) -> Options {
    Options {
        storage: Arc::new(vfs.clone()),
        log_preallocate: 64 << 10,
        checkpoint_log_size: 256 << 10,
        checkpoint_dirty_size: 1 << 20,
        cache_size: 256 << 10,
        txn_memory_limit: 1 << 20,
        ..Options::default()
    }
}

/// Opens the database on `vfs` with [`sim_options`].
pub fn open_sim(vfs: &SimVfs) -> Result<Database> {
    Database::open_with(sim_path(), sim_options(vfs))
}

/// The log file of the database at [`sim_path`].
pub fn sim_wal_path() -> PathBuf {
    let mut p = sim_path().into_os_string();
    p.push("-wal");
    PathBuf::from(p)
}

/// Options for a database on the simulated disk that checkpoints only
/// when the test says so (thresholds far above what the suites write),
/// with a small log preallocation and a cache of `cache_size` bytes
/// (small, so that reads reach the file).
pub fn sim_options_manual(vfs: &SimVfs, cache_size: usize) -> Options {
    Options {
        storage: Arc::new(vfs.clone()),
        log_preallocate: 16 << 10,
        checkpoint_log_size: 64 << 20,
        checkpoint_dirty_size: 64 << 20,
        cache_size,
        ..Options::default()
    }
}

/// The bytes of every file on `vfs`, as far as it was written.
pub fn sim_usage(vfs: &SimVfs) -> u64 {
    vfs.list_files()
        .iter()
        .map(|p| vfs.file_len(p).unwrap_or(0))
        .sum()
}

/// CRC-32 (IEEE) of `parts` in turn, computed bitwise: the suites use it
/// to check and to forge the checksums of the file format from
/// `docs/file-format.md`, apart from the engine's own code.
pub fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for part in parts {
        for &b in *part {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
    }
    !crc
}

/// A plain model of the database: table -> key -> value.
pub type Model = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Everything in `db`, read in one transaction, as a [`Model`] of the
/// given tables (missing tables read as empty).
pub fn dump(db: &Database, tables: &[&str]) -> Result<Model> {
    let tx = db.begin()?;
    let mut out = Model::new();
    for t in tables {
        let mut m = BTreeMap::new();
        if tx.table_exists(t)? {
            for kv in tx.range(t, ..)? {
                let (k, v) = kv?;
                m.insert(k, v);
            }
        }
        out.insert(t.to_string(), m);
    }
    Ok(out)
}

/// A fresh temporary directory under the system's temp dir, removed when
/// the guard drops.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/strata-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "strata-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A small deterministic random number generator (xorshift64*), so that
/// workloads are reproducible from a seed without a dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// One write of a workload transaction.
#[derive(Clone, Debug)]
pub enum Write {
    /// Put a value.
    Put(&'static str, Vec<u8>, Vec<u8>),
    /// Delete a key (which may be absent).
    Delete(&'static str, Vec<u8>),
}

/// One step of a workload.
#[derive(Clone, Debug)]
pub enum Step {
    /// A transaction of these writes, then commit.
    Commit(Vec<Write>),
    /// An explicit checkpoint.
    Checkpoint,
}

/// The tables workloads write.
pub const WORKLOAD_TABLES: [&str; 2] = ["t1", "t2"];

/// A reproducible workload of `steps` steps: transactions of 1 to 8
/// writes over a few hundred keys in two tables, with values from empty to
/// several pages (overflow chains), deletes, occasional checkpoints, and
/// now and then a transaction of about 5 MB.
pub fn workload(seed: u64, steps: usize) -> Vec<Step> {
    let mut rng = Rng::new(seed);
    (0..steps)
        .map(|_| {
            if rng.below(12) == 0 {
                return Step::Checkpoint;
            }
            if rng.below(40) == 0 {
                // A transaction over 4 MiB: its log record is written out
                // while it is encoded, before the commit's sync.
                return Step::Commit(
                    (0..6)
                        .map(|i| {
                            let table = WORKLOAD_TABLES[i % 2];
                            let key = format!("big{:02}", rng.below(10)).into_bytes();
                            Write::Put(table, key, vec![rng.next_u64() as u8; 800_000])
                        })
                        .collect(),
                );
            }
            let n = 1 + rng.below(8);
            Step::Commit(
                (0..n)
                    .map(|_| {
                        let table = WORKLOAD_TABLES[rng.below(2) as usize];
                        let key = format!("key{:04}", rng.below(300)).into_bytes();
                        if rng.below(4) == 0 {
                            Write::Delete(table, key)
                        } else {
                            let len = match rng.below(10) {
                                0 => 0,
                                1..=6 => rng.below(200) as usize,
                                7 | 8 => 200 + rng.below(2000) as usize,
                                _ => 2000 + rng.below(20_000) as usize,
                            };
                            let b = rng.next_u64() as u8;
                            Write::Put(table, key, vec![b; len])
                        }
                    })
                    .collect(),
            )
        })
        .collect()
}

/// Applies a transaction's writes to a model.
pub fn apply(model: &mut Model, writes: &[Write]) {
    for w in writes {
        match w {
            Write::Put(t, k, v) => {
                model
                    .entry(t.to_string())
                    .or_default()
                    .insert(k.clone(), v.clone());
            }
            Write::Delete(t, k) => {
                model.entry(t.to_string()).or_default().remove(k);
            }
        }
    }
}

/// The empty model of the workload tables.
pub fn empty_model() -> Model {
    WORKLOAD_TABLES
        .iter()
        .map(|t| (t.to_string(), BTreeMap::new()))
        .collect()
}

/// What running a workload until its first error left behind.
#[derive(Debug)]
pub struct Outcome {
    /// The model of every acknowledged commit.
    pub acked: Model,
    /// The model with the in-flight transaction too, if a commit failed
    /// (it may or may not have reached the disk).
    pub in_flight: Option<Model>,
    /// The first error, if any.
    pub error: Option<strata_engine::Error>,
    /// Acknowledged commits.
    pub commits: usize,
}

/// Creates the workload tables.
pub fn create_tables(db: &Database) -> Result<()> {
    let mut tx = db.begin()?;
    for t in WORKLOAD_TABLES {
        tx.create_table(t)?;
    }
    tx.commit()
}

/// Runs `steps` on `db` (tables already created) until the first error.
pub fn run_workload(db: &Database, steps: &[Step], mut acked: Model) -> Outcome {
    let mut commits = 0;
    for step in steps {
        match step {
            Step::Checkpoint => {
                if let Err(e) = db.checkpoint() {
                    return Outcome {
                        acked,
                        in_flight: None,
                        error: Some(e),
                        commits,
                    };
                }
            }
            Step::Commit(writes) => {
                let r = (|| {
                    let mut tx = db.begin()?;
                    for w in writes {
                        match w {
                            Write::Put(t, k, v) => tx.put(t, k, v)?,
                            Write::Delete(t, k) => {
                                tx.delete(t, k)?;
                            }
                        }
                    }
                    Ok::<_, strata_engine::Error>(tx)
                })();
                let tx = match r {
                    Ok(tx) => tx,
                    Err(e) => {
                        return Outcome {
                            acked,
                            in_flight: None,
                            error: Some(e),
                            commits,
                        };
                    }
                };
                let mut next = acked.clone();
                apply(&mut next, writes);
                match tx.commit() {
                    Ok(()) => {
                        acked = next;
                        commits += 1;
                    }
                    Err(e) => {
                        return Outcome {
                            acked,
                            in_flight: Some(next),
                            error: Some(e),
                            commits,
                        };
                    }
                }
            }
        }
    }
    Outcome {
        acked,
        in_flight: None,
        error: None,
        commits,
    }
}

/// What a scripted step returned: values read (empty for writes).
pub type Reply = strata_engine::Result<Vec<Vec<u8>>>;

type Command = Box<dyn FnOnce(&mut Option<strata_engine::Transaction>, &Database) -> Reply + Send>;

/// How a step of a [`Session`] went.
#[derive(Debug)]
pub enum Turn {
    /// It finished with this reply.
    Done(Reply),
    /// It is waiting for a lock; [`Session::finish`] collects its reply
    /// once another session lets it go.
    Blocked,
}

/// One transaction driven step by step from a test, on its own thread, so
/// that a step that waits for a lock can be seen waiting (through the
/// database's lock statistics, not a timer) while the test goes on with
/// other sessions.
pub struct Session {
    db: Database,
    commands: std::sync::mpsc::Sender<Command>,
    replies: std::sync::mpsc::Receiver<Reply>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Session {
    /// A session on `db`; its transaction begins with the first step.
    pub fn new(db: &Database) -> Session {
        let (commands, rx) = std::sync::mpsc::channel::<Command>();
        let (tx, replies) = std::sync::mpsc::channel();
        let handle = db.clone();
        let thread = std::thread::spawn(move || {
            let mut txn = None;
            for cmd in rx {
                if tx.send(cmd(&mut txn, &handle)).is_err() {
                    break;
                }
            }
        });
        Session {
            db: db.clone(),
            commands,
            replies,
            thread: Some(thread),
        }
    }

    /// Runs `f` on this session's transaction (begun if need be), and
    /// returns its reply, or `Blocked` as soon as the lock manager shows
    /// one more waiter than before the step.
    pub fn step(
        &self,
        f: impl FnOnce(&mut strata_engine::Transaction) -> Reply + Send + 'static,
    ) -> Turn {
        let waiting = self.db.stats().waiting_now;
        self.commands
            .send(Box::new(move |txn, db| {
                if txn.is_none() {
                    *txn = Some(db.begin()?);
                }
                let t = txn.as_mut().expect("begun above");
                let r = f(t);
                if matches!(r, Err(ref e) if e.is_retryable()) {
                    *txn = None; // the loser is rolled back
                }
                r
            }))
            .expect("session thread alive");
        loop {
            match self.replies.try_recv() {
                Ok(r) => return Turn::Done(r),
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
                Err(e) => panic!("session thread gone: {e}"),
            }
            if self.db.stats().waiting_now > waiting {
                return Turn::Blocked;
            }
            std::thread::yield_now();
        }
    }

    /// Runs a step that must finish without waiting, and returns its reply.
    pub fn run(
        &self,
        f: impl FnOnce(&mut strata_engine::Transaction) -> Reply + Send + 'static,
    ) -> Reply {
        match self.step(f) {
            Turn::Done(r) => r,
            Turn::Blocked => panic!("step blocked, but it was expected to finish"),
        }
    }

    /// The reply of the step that was blocked.
    pub fn finish(&self) -> Reply {
        self.replies.recv().expect("session thread alive")
    }

    /// Commits this session's transaction.
    pub fn commit(&self) -> Reply {
        self.finish_txn(true)
    }

    /// Rolls this session's transaction back.
    pub fn rollback(&self) -> Reply {
        self.finish_txn(false)
    }

    fn finish_txn(&self, commit: bool) -> Reply {
        self.commands
            .send(Box::new(move |txn, _| match txn.take() {
                Some(t) if commit => t.commit().map(|()| Vec::new()),
                _ => Ok(Vec::new()),
            }))
            .expect("session thread alive");
        self.finish()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let (tx, _) = std::sync::mpsc::channel();
        drop(std::mem::replace(&mut self.commands, tx));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
