//! The public handle: [`Database`].

use crate::db::backup;
use crate::db::check::{self, CheckReport};
use crate::db::options::Options;
use crate::error::{Error, Result};
use crate::store::shared::Store;
use crate::tree::node::{self, MAX_VALUE_LEN};
use crate::txn::lock_table::LockManager;
use crate::txn::spill::Spill;
use crate::txn::transaction::Transaction;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// An open database. Cheap to clone; every clone is the same handle.
/// Dropping the last clone checkpoints (best effort) and unlocks the file.
///
/// ```
/// use strata_engine::Database;
/// # let dir = tempfile::tempdir().unwrap();
/// let db = Database::open(dir.path().join("app.strata"))?;
/// // Clones share one handle: give one to each thread.
/// let handles: Vec<_> = (0..4u8)
///     .map(|i| {
///         let db = db.clone();
///         std::thread::spawn(move || {
///             db.transaction(|tx| {
///                 tx.create_table("t")?;
///                 tx.put("t", &[i], b"from a thread")
///             })
///         })
///     })
///     .collect();
/// for h in handles {
///     h.join().expect("no panic")?;
/// }
/// assert_eq!(db.begin_read()?.range("t", ..)?.count(), 4);
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone)]
pub struct Database {
    pub(crate) inner: Arc<Inner>,
}

/// What the clones of a [`Database`] share: the store and the lock
/// manager, which its transactions share too, and what only the handle
/// needs.
pub(crate) struct Inner {
    pub store: Arc<Store>,
    pub locks: Arc<LockManager>,
    /// The limits and the scratch file for transactions' spilled writes.
    pub spill: Arc<Spill>,
    /// The path of the data file, as given to open it.
    pub path: PathBuf,
    pub options: Options,
    /// Reruns by `Database::transaction`.
    pub retries: AtomicU64,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.inner.path)
            .field("page_size", &self.inner.store.page_size)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Starts a read-write transaction. Any number may run at once, from
    /// any threads; locks keep them serializable (see the crate docs).
    /// Fails with [`Error::ReadOnly`] on a read-only handle.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// let mut tx = db.begin()?;
    /// tx.create_table("t")?;
    /// tx.put("t", b"k", b"v")?;
    /// tx.commit()?; // or tx.rollback(), or drop it
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn begin(&self) -> Result<Transaction> {
        self.inner.store.poison.check()?;
        if self.inner.store.read_only {
            return Err(Error::ReadOnly);
        }
        Ok(self.new_transaction(false))
    }

    /// Starts a read-only transaction. It reads a snapshot: the committed
    /// state as of this call, whatever commits after it. It takes no locks,
    /// so it never waits for a writer and no writer waits for it, and any
    /// number may be open at once, on any threads, inside another
    /// transaction's closure too. Every write through it fails with
    /// [`Error::ReadOnly`].
    ///
    /// While it is open, commits keep the values they replace, so that it
    /// can still read them; their memory is bounded by
    /// [`Options::max_snapshot_memory`], past which the oldest snapshots
    /// expire and their reads fail with [`Error::SnapshotTooOld`]. A
    /// snapshot costs nothing on disk and holds up no checkpoint. Its
    /// `commit` waits until the newest commit it saw is durable.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-snap-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = strata_engine::Database::open(dir.join("db")).unwrap();
    /// db.transaction(|tx| { tx.create_table("t")?; tx.put("t", b"k", b"old") })?;
    /// let reader = db.begin_read()?;
    /// assert_eq!(reader.get("t", b"k")?, Some(b"old".to_vec()));
    /// // A writer commits while the reader is open: it does not wait.
    /// db.transaction(|tx| tx.put("t", b"k", b"new"))?;
    /// assert_eq!(reader.get("t", b"k")?, Some(b"old".to_vec())); // its snapshot
    /// assert_eq!(db.begin_read()?.get("t", b"k")?, Some(b"new".to_vec()));
    /// # drop(reader); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn begin_read(&self) -> Result<Transaction> {
        self.inner.store.poison.check()?;
        Ok(self.new_transaction(true))
    }

    fn new_transaction(&self, read_only: bool) -> Transaction {
        let i = &self.inner;
        Transaction::new(i.store.clone(), i.locks.clone(), i.spill.clone(), read_only)
    }

    /// Runs `f` in a read-write transaction and commits it. If the
    /// transaction loses a deadlock or times out waiting for a lock, it is
    /// rolled back and run again, with a growing randomised pause, up to
    /// `Options::max_retries` times; any other error is returned at once
    /// (and the transaction rolled back). A panic in `f` rolls it back too.
    ///
    /// `f` may run more than once, so it should not have effects outside
    /// the transaction that it cannot repeat.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// db.transaction(|tx| {
    ///     tx.create_table("counters")?;
    ///     tx.put("counters", b"visits", &0u64.to_be_bytes())
    /// })?;
    /// // A read-modify-write, rerun if it loses a deadlock to another thread.
    /// let visits = db.transaction(|tx| {
    ///     let old = tx.get_for_update("counters", b"visits")?.expect("set above");
    ///     let n = u64::from_be_bytes(old.try_into().expect("8 bytes")) + 1;
    ///     tx.put("counters", b"visits", &n.to_be_bytes())?;
    ///     Ok(n)
    /// })?;
    /// assert_eq!(visits, 1);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn transaction<T>(&self, mut f: impl FnMut(&mut Transaction) -> Result<T>) -> Result<T> {
        let mut attempt = 0u32;
        loop {
            let mut tx = self.begin()?;
            let result = f(&mut tx).and_then(|v| tx.commit().map(|()| v));
            match result {
                Err(e) if e.is_retryable() && attempt < self.inner.options.max_retries => {
                    attempt += 1;
                    self.inner.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(backoff(attempt, self.inner.locks.txns_begun()));
                }
                other => return other,
            }
        }
    }

    /// Counters since the database was opened.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// db.transaction(|tx| tx.create_table("t"))?;
    /// let stats = db.stats();
    /// assert_eq!(stats.commits, 1);
    /// assert!(stats.log_syncs >= 1); // Durability::Full syncs each commit's round
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn stats(&self) -> Stats {
        let i = &self.inner;
        let commits = i.store.commits.load(Ordering::Relaxed);
        let syncs = i.store.log.syncs();
        Stats {
            commits,
            log_syncs: syncs,
            commits_per_sync: if syncs == 0 {
                0.0
            } else {
                commits as f64 / syncs as f64
            },
            lock_waits: i.locks.stats.waits.load(Ordering::Relaxed),
            deadlocks: i.locks.stats.deadlocks.load(Ordering::Relaxed),
            self_deadlocks: i.locks.stats.self_deadlocks.load(Ordering::Relaxed),
            snapshots_open: i.store.versions.open_count(),
            snapshot_bytes: i.store.versions.bytes(),
            snapshots_expired: i.store.versions.expired_count(),
            checkpoints: i.store.checkpoints.load(Ordering::Relaxed),
            lock_timeouts: i.locks.stats.timeouts.load(Ordering::Relaxed),
            retries: i.retries.load(Ordering::Relaxed),
            waiting_now: i.locks.waiting() as u64,
            spilled_runs: i.spill.runs_written(),
            pages_written_early: i.store.pages_written_early.load(Ordering::Relaxed),
            mapped_pages: i.store.tree.read().pager.mapped_pages().into(),
        }
    }

    /// Writes every change since the last checkpoint into the data file
    /// and starts the log over. Commits wait meanwhile; readers do not.
    /// Fails with [`Error::ReadOnly`] on a read-only handle, and with
    /// [`Error::StorageFull`], leaving the handle usable, if the disk fills
    /// up before the checkpoint's meta page is written.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// db.transaction(|tx| { tx.create_table("t")?; tx.put("t", b"k", b"v") })?;
    /// db.checkpoint()?; // the data file now holds the commit; the log starts over
    /// assert_eq!(db.info()?.checkpoint_lsn, db.info()?.last_lsn);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn checkpoint(&self) -> Result<()> {
        self.inner.store.checkpoint()
    }

    /// Writes a consistent copy of the database (as of one commit) to
    /// `dest`, a new file (refuses an existing one), while other threads
    /// keep committing.
    ///
    /// The copy is the state as of a checkpoint taken at the start: every
    /// commit acknowledged before the call, and none that began after the
    /// checkpoint. It is a database of its own (a new database id, closed
    /// cleanly, needing no log), written under a temporary name beside
    /// `dest`, synced, and moved there only if nothing is there, so a crash
    /// never leaves a partial copy at `dest`. Commits wait only for that
    /// checkpoint; while the pages are copied, commits go on and only other
    /// checkpoints wait (see `ARCHITECTURE.md`, Backup).
    ///
    /// Errors: [`Error::DestinationExists`] if anything is at `dest`
    /// ([`Error::CannotOpen`] with [`OpenFailure::IsADirectory`](crate::OpenFailure::IsADirectory)
    /// for a directory), [`Error::CannotOpen`] if the copy cannot be
    /// created there (a read-only or missing directory). A read-only handle
    /// can back up, unless it replayed commits from the log into memory
    /// that its data file does not hold yet ([`Error::Unsupported`]).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-backup-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// use strata_engine::Database;
    /// let db = Database::open(dir.join("live.strata"))?;
    /// db.transaction(|tx| { tx.create_table("t")?; tx.put("t", b"k", b"v") })?;
    /// db.backup_to(dir.join("copy.strata"))?;
    ///
    /// let copy = Database::open(dir.join("copy.strata"))?;
    /// assert_eq!(copy.begin_read()?.get("t", b"k")?, Some(b"v".to_vec()));
    /// copy.check()?;
    /// // A backup never replaces a file.
    /// assert!(matches!(
    ///     db.backup_to(dir.join("copy.strata")),
    ///     Err(strata_engine::Error::DestinationExists { .. })
    /// ));
    /// # drop(copy); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn backup_to(&self, dest: impl AsRef<Path>) -> Result<()> {
        let i = &self.inner;
        backup::backup(&i.store, &*i.options.storage, dest.as_ref())
    }

    /// Shrinks the data file to within 1.2x of its live pages and gives
    /// back the log's space beyond its preallocation
    /// ([`Options::log_preallocate`]). Crash-safe: it runs as checkpoints
    /// that move live pages (tree nodes and overflow chains) from the end
    /// of the file into free pages below, and then cut the file's free
    /// tail off; a crash leaves the database as before or after a pass,
    /// with the same contents. Commits wait for one pass at a time, as for
    /// a checkpoint; readers go on. Fails with [`Error::ReadOnly`] on a
    /// read-only handle.
    ///
    /// (Checkpoints already move pages down when more than a quarter of
    /// the file is free; compaction goes further, down to the live pages,
    /// moves overflow chains too, and cuts the log back.)
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-compact-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// use strata_engine::Database;
    /// let db = Database::open(dir.join("db"))?;
    /// db.transaction(|tx| {
    ///     tx.create_table("t")?;
    ///     for i in 0..5000u32 { tx.put("t", &i.to_be_bytes(), &[7; 100])?; }
    ///     Ok(())
    /// })?;
    /// db.checkpoint()?;
    /// db.transaction(|tx| {
    ///     for i in 500..5000u32 { tx.delete("t", &i.to_be_bytes())?; }
    ///     Ok(())
    /// })?;
    /// let report = db.compact()?;
    /// assert!(report.data_after < report.data_before / 4);
    /// assert!(report.log_after <= report.log_before);
    /// db.check()?;
    /// # drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn compact(&self) -> Result<CompactReport> {
        let i = &self.inner;
        let started = std::time::Instant::now();
        let sizes = i.store.compact(i.options.log_preallocate)?;
        let report = CompactReport {
            data_before: sizes.data_before,
            data_after: sizes.data_after,
            log_before: sizes.log_before,
            log_after: sizes.log_after,
        };
        tracing::info!(
            target: "strata::compact",
            data_before = report.data_before,
            data_after = report.data_after,
            log_before = report.log_before,
            log_after = report.log_after,
            elapsed_us = started.elapsed().as_micros() as u64,
            "compacted"
        );
        Ok(report)
    }

    /// Checks the whole database: checksums of every page, key order,
    /// tree shape, overflow chains, and that every page is used exactly
    /// once or free exactly once; and that the extents of the scratch file
    /// of spilled transactions neither overlap nor leak. Returns what it
    /// counted.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// db.transaction(|tx| { tx.create_table("t")?; tx.put("t", b"k", b"v") })?;
    /// let report = db.check()?; // an error names the damaged page
    /// assert_eq!(report.entries, 1);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn check(&self) -> Result<CheckReport> {
        self.inner.store.poison.check()?;
        self.inner.spill.check()?;
        check::run(&self.inner.store)
    }

    /// Whether this handle was opened read-only ([`Options::read_only`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use strata_engine::Database;
    /// let path = dir.path().join("db");
    /// drop(Database::open(&path)?); // create it
    /// let db = Database::open_read_only(&path)?;
    /// assert!(db.is_read_only());
    /// assert!(matches!(db.begin(), Err(strata_engine::Error::ReadOnly)));
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn is_read_only(&self) -> bool {
        self.inner.store.read_only
    }

    /// The options the database was opened with.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use strata_engine::{Database, Durability, Options};
    /// let opts = Options { durability: Durability::Buffered, ..Options::default() };
    /// let db = Database::open_with(dir.path().join("db"), opts)?;
    /// assert_eq!(db.options().durability, Durability::Buffered);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The page size the database was created with.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use strata_engine::{Database, Options};
    /// let path = dir.path().join("db");
    /// let db = Database::open_with(&path, Options { page_size: 8192, ..Options::default() })?;
    /// assert_eq!(db.page_size(), 8192);
    /// drop(db);
    /// // An existing database keeps the page size it was created with.
    /// assert_eq!(Database::open(&path)?.page_size(), 8192);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn page_size(&self) -> usize {
        self.inner.store.page_size
    }

    /// The longest key this database accepts (a quarter of a page: 1024
    /// bytes with the default page size).
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// assert_eq!(db.max_key_len(), 1024); // with the default 4096-byte pages
    /// let mut tx = db.begin()?;
    /// tx.create_table("t")?;
    /// let too_long = vec![b'k'; db.max_key_len() + 1];
    /// assert!(matches!(tx.put("t", &too_long, b""), Err(strata_engine::Error::KeyTooLarge { .. })));
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn max_key_len(&self) -> usize {
        node::max_key_len(self.inner.store.page_size)
    }

    /// The longest value this database accepts.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// assert_eq!(db.max_value_len(), strata_engine::MAX_VALUE_LEN); // 16 MiB
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn max_value_len(&self) -> usize {
        MAX_VALUE_LEN
    }

    /// The path of the data file, as given to open it.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("app.strata");
    /// let db = strata_engine::Database::open(&path)?;
    /// assert_eq!(db.path(), path);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

/// How long the `attempt`-th retry (from 1) waits: 2 ms, doubling, capped at
/// 128 ms, times a pseudo-random factor in [0.5, 1.5) so that the
/// transactions that collided do not collide again in step.
fn backoff(attempt: u32, salt: u64) -> std::time::Duration {
    let base_us = 1000u64 << attempt.min(7);
    let mix = (salt ^ u64::from(attempt)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54; // 0..1024
    std::time::Duration::from_micros(base_us / 2 + base_us * mix / 1024)
}

/// What [`Database::compact`] did: the sizes of the data file and the
/// log before and after, in bytes.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let db = strata_engine::Database::open(dir.path().join("db"))?;
/// let report = db.compact()?;
/// assert!(report.data_after <= report.data_before);
/// println!("log: {} -> {} bytes", report.log_before, report.log_after);
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompactReport {
    /// The data file's length before compaction, once it holds everything
    /// committed (after the checkpoint compaction begins with).
    pub data_before: u64,
    /// The data file's length after.
    pub data_after: u64,
    /// The log file's length before.
    pub log_before: u64,
    /// The log file's length after.
    pub log_after: u64,
}

/// Counters of a database handle since it was opened
/// ([`Database::stats`]).
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = strata_engine::Database::open(dir.path().join("db"))?;
/// let reader = db.begin_read()?;
/// let stats = db.stats();
/// assert_eq!((stats.snapshots_open, stats.deadlocks, stats.waiting_now), (1, 0, 0));
/// drop(reader);
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Transactions that wrote something and committed.
    pub commits: u64,
    /// Syncs of the log. With `Durability::Full` and concurrent
    /// committers, fewer than commits: group commit.
    pub log_syncs: u64,
    /// `commits / log_syncs`.
    pub commits_per_sync: f64,
    /// Lock requests that had to wait.
    pub lock_waits: u64,
    /// Deadlocks found (each with one victim).
    pub deadlocks: u64,
    /// Lock waits that timed out.
    pub lock_timeouts: u64,
    /// Reruns of a closure by [`Database::transaction`].
    pub retries: u64,
    /// Transactions waiting for a lock at this moment.
    pub waiting_now: u64,
    /// Waits refused with [`Error::SelfDeadlock`](crate::Error::SelfDeadlock):
    /// only their own thread could have ended them.
    pub self_deadlocks: u64,
    /// Read-only transactions (snapshots) open at this moment.
    pub snapshots_open: u64,
    /// Memory the versions kept for open snapshots take, in bytes (at most
    /// [`Options::max_snapshot_memory`]).
    pub snapshot_bytes: u64,
    /// Snapshots expired to keep that memory within its bound; each one's
    /// next read fails with [`Error::SnapshotTooOld`](crate::Error::SnapshotTooOld).
    pub snapshots_expired: u64,
    /// Checkpoints that wrote a meta page.
    pub checkpoints: u64,
    /// Sorted runs that transactions spilled to the scratch file, past
    /// `Options::txn_memory_limit`.
    pub spilled_runs: u64,
    /// Pages that commits too large for the log wrote out before their
    /// checkpoint, to bound their memory.
    pub pages_written_early: u64,
    /// Pages of the data file read in place through its mapping
    /// ([`Options::map_data_file`]): the page count as of the last
    /// checkpoint, or 0 when the file is not mapped.
    pub mapped_pages: u64,
}
