//! The database handle: opening and creating files, recovery, commits and
//! checkpoints.
//!
//! FILES
//!
//! A database at `path` is two files: the data file `path` (pages, see
//! `pager.rs`) and the log `path-wal` (see `wal.rs`). A new database is
//! built under `path-creating`, synced, and renamed into place, so a crash
//! during creation leaves either no database or a complete empty one.
//!
//! THE LIFE OF A COMMIT
//!
//! 1. The transaction, holding its locks (`lock_table.rs`), encodes its
//!    private writes as one redo record.
//! 2. Under the commit latch: it takes the next LSN, appends the record's
//!    frames to the log buffer, and applies the record to the shared tree
//!    under the tree latch (the same code recovery runs).
//! 3. Outside any latch: it waits for the log to be written, and with
//!    `Durability::Full` synced (`group_commit.rs`), then releases its
//!    locks.
//! 4. If the log or the dirty pages have grown past their limits, it runs a
//!    checkpoint.
//!
//! A failure after step 2 began leaves memory ahead of the disk, so it
//! poisons the handle: every later call fails until the database is
//! opened again and recovery rebuilds memory from the files.
//!
//! THE LIFE OF A CHECKPOINT (`Inner::checkpoint_locked`)
//!
//! 1. Take the commit latch (commits wait; readers go on) and sync the log.
//! 2. Under the tree latch: if over a quarter of the file is free, move
//!    live pages down (auto-vacuum, `Pager::vacuum_limit`); write changed
//!    table roots into the catalog; write the free list that will hold
//!    afterwards; seal every dirty page.
//! 3. With only a shared latch: write the dirty pages, sync; write the
//!    older meta page (with a new log salt), sync. The meta write is the
//!    commit point.
//! 4. Dirty pages become clean, pending pages free; a free tail of the
//!    file is cut off; the log starts over as a new generation.
//!
//! A crash anywhere before the meta sync leaves the old meta page, whose
//! tree no step overwrote, and the log, which still holds everything.

use crate::base::bytes;
use crate::error::{Error, Location, OpenFailure, Result};
use crate::log::group_commit::{self, LogWriter};
use crate::log::log_record::{self, Op};
use crate::log::wal::{self, DamagedMeta, LOG_HEADER};
use crate::options::{Durability, Options};
use crate::page::file_header;
use crate::page::meta::Meta;
use crate::page::page_cache::PageCache;
use crate::page::page_header::{self, META_PAGES, PageBuf, PageId};
use crate::page::pager::{PageReader, Pager};
use crate::storage::{OpenMode, StorageFile, Vfs};
use crate::tree::btree;
use crate::tree::catalog::{self, TableId, Tables};
use crate::tree::node;
use crate::tree::node::MAX_VALUE_LEN;
use crate::txn::lock_table::LockManager;
use crate::txn::transaction::Transaction;
use parking_lot::{Mutex, RwLock, RwLockWriteGuard};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// An open database. Cheap to clone; every clone is the same handle.
/// Dropping the last clone checkpoints (best effort) and unlocks the file.
#[derive(Clone)]
pub struct Database {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.inner.path)
            .field("page_size", &self.inner.page_size)
            .finish_non_exhaustive()
    }
}

/// What the tree latch protects.
pub(crate) struct State {
    pub pager: Pager,
    pub tables: Tables,
    /// The durable meta page (as of the last checkpoint).
    pub meta: Meta,
    /// The catalog tree's root: the durable meta page's, or the copy that
    /// a checkpoint which failed before its meta page made (the next
    /// checkpoint goes on from it).
    pub catalog_root: PageId,
}

/// Set once a write or sync has failed; checked by every call.
#[derive(Default)]
pub(crate) struct Poison {
    flag: AtomicBool,
    cause: Mutex<Option<String>>,
}

impl Poison {
    /// Whether the handle is poisoned.
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    pub(crate) fn check(&self) -> Result<()> {
        if self.flag.load(Ordering::Acquire) {
            let cause = self.cause.lock().clone().unwrap_or_default();
            return Err(Error::Poisoned { cause });
        }
        Ok(())
    }

    fn set(&self, e: &Error) {
        let mut cause = self.cause.lock();
        if cause.is_none() {
            *cause = Some(e.to_string());
        }
        self.flag.store(true, Ordering::Release);
    }
}

pub(crate) struct Inner {
    pub path: PathBuf,
    /// Opened with `Options::read_only`: nothing is ever written.
    pub read_only: bool,
    pub options: Options,
    pub page_size: usize,
    pub data: Box<dyn StorageFile>,
    pub log: LogWriter,
    pub cache: PageCache,
    pub state: RwLock<State>,
    /// Orders commits: LSN assignment, log append and tree apply happen
    /// together under it. Checkpoints hold it to keep commits out.
    pub commit_latch: Mutex<()>,
    checkpoint_lock: Mutex<()>,
    pub poison: Poison,
    pub locks: LockManager,
    pub next_txn: AtomicU64,
    pub next_table_id: AtomicU32,
    /// Transactions that wrote something and committed.
    pub commits: AtomicU64,
    /// Reruns by `Database::transaction`.
    pub retries: AtomicU64,
    /// LSN of the last transaction applied to the tree.
    pub applied_lsn: AtomicU64,
}

fn log_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

fn creating_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-creating");
    PathBuf::from(p)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates an empty database at `path`: log first, then the data file
/// under a temporary name, renamed into place once synced.
fn create(vfs: &dyn Vfs, path: &Path, options: &Options) -> Result<()> {
    group_commit::create_log(vfs, &log_path(path), options.log_preallocate)?;
    let tmp = creating_path(path);
    let f = vfs.open(&tmp, OpenMode::CreateTruncate)?;
    let ps = options.page_size;
    let salt = wal::new_salt();
    let mut m0 = Meta::empty(salt);
    let mut m1 = Meta::empty(salt);
    m0.sequence = 0; // slot 1
    m1.sequence = 1; // slot 2, the newer
    let mut bytes = file_header::encode(ps);
    bytes.extend_from_slice(&m0.encode(ps));
    bytes.extend_from_slice(&m1.encode(ps));
    f.write_at(&bytes, 0)?;
    f.sync_data()?;
    drop(f);
    vfs.rename(&tmp, path)?;
    vfs.sync_dir(&parent_dir(path))?;
    Ok(())
}

/// `e`, from opening the file at `path`: [`Error::CannotOpen`] if it is
/// one of the reasons [`OpenFailure`] names, else as any I/O error.
fn open_error(path: PathBuf, e: io::Error) -> Error {
    match OpenFailure::of(&e) {
        Some(reason) => Error::CannotOpen { path, reason },
        None => e.into(),
    }
}

/// Reads both meta pages and returns the newest valid one, and what the
/// other one claims if it is damaged (for `wal::recover`, which decides
/// whether falling back to the valid one is safe). A meta page that counts
/// more pages than the file holds is not valid: every page up to its page
/// count was written and synced before it (a checkpoint gives back a free
/// tail of the file before it writes the meta page).
fn read_meta(file: &dyn StorageFile, page_size: usize) -> Result<(Meta, Option<DamagedMeta>)> {
    let mut best: Option<Meta> = None;
    // Why each invalid meta page is invalid, and whether it only counts
    // more pages than the file holds (its checksum held).
    let mut failures: Vec<(PageId, String, bool)> = Vec::new();
    let mut damaged: Option<(PageId, Vec<u8>)> = None;
    let file_len = file.len()?;
    for id in META_PAGES {
        let mut buf = vec![0u8; page_size];
        let got = page_header::read_exact(file, &mut buf, u64::from(id) * page_size as u64, id)
            .and_then(|()| Meta::decode(id, &buf));
        let got = match got {
            Ok(m) if u64::from(m.page_count) * page_size as u64 > file_len => Err((
                format!(
                    "meta page {id} counts {} pages, more than the file holds",
                    m.page_count
                ),
                true,
            )),
            Ok(m) => Ok(m),
            Err(e @ Error::Io(_)) => return Err(e),
            Err(Error::Corruption { detail, .. }) => Err((detail, false)),
            Err(e) => Err((e.to_string(), false)),
        };
        match got {
            Ok(m) if best.is_none_or(|b| m.sequence > b.sequence) => best = Some(m),
            Ok(_) => {}
            Err((detail, beyond)) => {
                failures.push((id, detail, beyond));
                damaged = Some((id, buf));
            }
        }
    }
    // With neither valid, the one whose bytes are damaged is named: the
    // other may only be the older one, left behind by a checkpoint that
    // cut the file.
    let best = best.ok_or_else(
        || match failures.iter().find(|f| !f.2).or(failures.first()) {
            Some((id, detail, _)) => Error::Corruption {
                location: Location::Page(*id),
                detail: format!("no valid meta page ({detail})"),
            },
            None => Error::corrupt_page(META_PAGES[0], "no valid meta page"),
        },
    )?;
    let damaged = damaged.map(|(page, buf)| DamagedMeta {
        page,
        claims_newer: bytes::get_u64(&buf, 8) == best.sequence.checked_add(1),
        salt: bytes::get_u64(&buf, 56).unwrap_or(0),
    });
    Ok((best, damaged))
}

/// The other meta page is damaged, so recovery would start from `meta`,
/// which may be older than it: refuses if that would lose what the damaged
/// page's checkpoint made durable (`wal.rs`, FALLING BACK). Runs before any
/// page `meta` references is read.
fn check_fallback(
    vfs: &dyn Vfs,
    log_path: &Path,
    file_len: u64,
    page_size: usize,
    meta: &Meta,
    damaged: DamagedMeta,
) -> Result<()> {
    if u64::from(meta.page_count) * page_size as u64 > file_len {
        return Err(Error::corrupt_page(
            damaged.page,
            format!(
                "meta page {} is damaged, and the data file is shorter than the other meta \
                 page's {} pages: a newer checkpoint cut the file, so the other meta page \
                 cannot be used",
                damaged.page, meta.page_count
            ),
        ));
    }
    let log = match vfs.open(log_path, OpenMode::ReadOnly) {
        Ok(f) => wal::read_all(&*f)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    wal::check_generation(&log, meta.checkpoint_lsn, meta.log_salt, Some(damaged))
}

impl Database {
    /// Opens the database at `path` with default options, creating it if
    /// it does not exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Database> {
        Database::open_with(path, Options::default())
    }

    /// Opens the database at `path` for reading only
    /// ([`Options::read_only`]), with the other options at their defaults.
    /// The database must exist.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Database> {
        let options = Options {
            read_only: true,
            ..Options::default()
        };
        Database::open_with(path, options)
    }

    /// Opens the database at `path`, creating it if it does not exist and
    /// `options.create` is set. Replays the log of an unclean shutdown.
    /// A symbolic link at `path` is followed, and the log is looked for
    /// beside the file it leads to.
    ///
    /// Errors: [`Error::Locked`] if another handle has it open,
    /// [`Error::CannotOpen`] if a file cannot be opened (no file with
    /// `create` off or with `read_only`, a directory, a loop of symbolic
    /// links, a writable open of a file the process may only read, ...),
    /// [`Error::NotAStrataFile`], [`Error::NewerFormat`],
    /// [`Error::OlderFormat`], [`Error::Corruption`],
    /// [`Error::StorageFull`], [`Error::Io`].
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Database> {
        options.validate()?;
        let given = path.as_ref().to_path_buf();
        let vfs = options.storage.clone();
        let read_only = options.read_only;
        let at = |p: &Path| {
            let p = p.to_path_buf();
            move |e: io::Error| open_error(p, e)
        };
        // The files' real names: the log lives beside the data file.
        let path = vfs.resolve(&given).map_err(at(&given))?;
        if !vfs.exists(&path).map_err(at(&given))? {
            if !options.create || read_only {
                return Err(Error::CannotOpen {
                    path: given,
                    reason: OpenFailure::NotFound,
                });
            }
            create(&*vfs, &path, &options).map_err(|e| match e {
                Error::Io(io) => match OpenFailure::of(&io) {
                    Some(reason) => Error::CannotOpen {
                        path: given.clone(),
                        reason,
                    },
                    None => Error::Io(io),
                },
                e => e,
            })?;
        }
        let data = if read_only {
            let f = vfs.open(&path, OpenMode::ReadOnly).map_err(at(&given))?;
            f.try_lock_shared()?.then_some(f)
        } else {
            let f = vfs.open(&path, OpenMode::Existing).map_err(at(&given))?;
            f.try_lock_exclusive()?.then_some(f)
        };
        let data = data.ok_or(Error::Locked)?;
        let file_len = data.len()?;
        let mut head = vec![0u8; file_header::HEADER_LEN.min(file_len as usize)];
        data.read_at(&mut head, 0)?;
        let page_size = file_header::decode(&head)?;
        let (meta, damaged_meta) = read_meta(&*data, page_size)?;
        if let Some(damaged) = damaged_meta {
            check_fallback(&*vfs, &log_path(&path), file_len, page_size, &meta, damaged)?;
        }
        let pager = Pager::open(
            page_size,
            meta.page_count,
            meta.free_list,
            &*data,
            node::validate,
        )?;
        let cache = PageCache::new(options.cache_size / page_size);
        let tables = Tables::load(
            &pager.reader(&cache, &*data),
            meta.catalog_root,
            meta.page_count,
            meta.next_table_id,
        )?;
        let mut pager = pager;
        let roots: Vec<PageId> = std::iter::once(meta.catalog_root)
            .chain(tables.iter().map(|(_, t)| t.root))
            .collect();
        // An eighth of the cache may hold the trees' upper levels pinned.
        pager.set_pin_budget(options.cache_size / 8 / page_size);
        btree::pin_branches(&mut pager, &roots, &*data)?;
        let mut state = State {
            pager,
            tables,
            meta,
            catalog_root: meta.catalog_root,
        };
        let next_table_id = AtomicU32::new(meta.next_table_id);

        // The log: replay what the data file does not hold yet.
        let lp = log_path(&path);
        let log_file = if read_only {
            match vfs.open(&lp, OpenMode::ReadOnly) {
                Ok(f) if f.len()? >= LOG_HEADER => f,
                // Nothing to replay, and nothing is ever appended.
                Ok(_) => Box::new(NoLog),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Box::new(NoLog),
                Err(e) => return Err(open_error(lp, e)),
            }
        } else {
            match vfs.open(&lp, OpenMode::Existing) {
                Ok(f) if f.len()? >= LOG_HEADER => f,
                Ok(_) => group_commit::create_log(&*vfs, &lp, options.log_preallocate)?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let f = group_commit::create_log(&*vfs, &lp, options.log_preallocate)?;
                    vfs.sync_dir(&parent_dir(&path))?;
                    f
                }
                Err(e) => return Err(open_error(lp, e)),
            }
        };
        let recovered = if log_file.len()? < LOG_HEADER {
            wal::Recovered {
                last_lsn: meta.checkpoint_lsn,
                end: LOG_HEADER,
                leftovers: false,
            }
        } else {
            wal::recover(
                &*log_file,
                meta.checkpoint_lsn,
                meta.log_salt,
                |_lsn, record, offset| state.apply(&cache, &*data, record, offset, &next_table_id),
            )?
        };
        let allocated = log_file.len()?;
        let keep = options.log_preallocate.max(options.checkpoint_log_size);
        let inner = Inner {
            log: LogWriter::new(
                log_file,
                recovered.end,
                recovered.last_lsn,
                allocated,
                keep,
                meta.log_salt,
            ),
            path: given,
            read_only,
            page_size,
            data,
            cache,
            state: RwLock::new(state),
            commit_latch: Mutex::new(()),
            checkpoint_lock: Mutex::new(()),
            poison: Poison::default(),
            locks: LockManager::new(options.lock_timeout),
            next_txn: AtomicU64::new(1),
            next_table_id,
            commits: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            applied_lsn: AtomicU64::new(recovered.last_lsn),
            options,
        };
        // Make what opening found durable before anything is appended
        // (`wal.rs`, RECOVERY), with a checkpoint that writes a new meta
        // page and starts a new log generation. The log bytes replayed may
        // have been only in the operating system's cache, and so may the
        // meta page itself (a checkpoint whose meta page's sync failed,
        // followed by a reopen in the same boot): a power failure would
        // take either away, but keep a commit appended and synced after
        // them. And leftovers must not outlive the generation they belong
        // to. A read-only handle writes nothing: what it replayed stays in
        // memory, and the next writable open does this.
        if !read_only {
            let _ck = inner.checkpoint_lock.lock();
            inner.checkpoint_held(true)?;
        }
        Ok(Database {
            inner: Arc::new(inner),
        })
    }

    /// Starts a read-write transaction. Any number may run at once, from
    /// any threads; locks keep them serializable (see the crate docs).
    /// Fails with [`Error::ReadOnly`] on a read-only handle.
    pub fn begin(&self) -> Result<Transaction> {
        self.inner.poison.check()?;
        if self.inner.read_only {
            return Err(Error::ReadOnly);
        }
        Ok(Transaction::new(self.inner.clone(), false))
    }

    /// Starts a read-only transaction: it takes only shared locks, and
    /// every write through it fails with [`Error::ReadOnly`].
    pub fn begin_read(&self) -> Result<Transaction> {
        self.inner.poison.check()?;
        Ok(Transaction::new(self.inner.clone(), true))
    }

    /// Runs `f` in a read-write transaction and commits it. If the
    /// transaction loses a deadlock or times out waiting for a lock, it is
    /// rolled back and run again, with a growing randomised pause, up to
    /// `Options::max_retries` times; any other error is returned at once
    /// (and the transaction rolled back). A panic in `f` rolls it back too.
    ///
    /// `f` may run more than once, so it should not have effects outside
    /// the transaction that it cannot repeat.
    pub fn transaction<T>(&self, mut f: impl FnMut(&mut Transaction) -> Result<T>) -> Result<T> {
        let mut attempt = 0u32;
        loop {
            let mut tx = self.begin()?;
            let result = f(&mut tx).and_then(|v| tx.commit().map(|()| v));
            match result {
                Err(e) if e.is_retryable() && attempt < self.inner.options.max_retries => {
                    attempt += 1;
                    self.inner.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(backoff(
                        attempt,
                        self.inner.next_txn.load(Ordering::Relaxed),
                    ));
                }
                other => return other,
            }
        }
    }

    /// Counters since the database was opened.
    pub fn stats(&self) -> Stats {
        let i = &self.inner;
        let commits = i.commits.load(Ordering::Relaxed);
        let syncs = i.log.syncs();
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
            lock_timeouts: i.locks.stats.timeouts.load(Ordering::Relaxed),
            retries: i.retries.load(Ordering::Relaxed),
            waiting_now: i.locks.waiting() as u64,
        }
    }

    /// Writes every change since the last checkpoint into the data file
    /// and starts the log over. Commits wait meanwhile; readers do not.
    /// Fails with [`Error::ReadOnly`] on a read-only handle, and with
    /// [`Error::StorageFull`], leaving the handle usable, if the disk fills
    /// up before the checkpoint's meta page is written.
    pub fn checkpoint(&self) -> Result<()> {
        self.inner.checkpoint()
    }

    /// Checks the whole database: checksums of every page, key order,
    /// tree shape, overflow chains, and that every page is used exactly
    /// once or free exactly once. Returns what it counted.
    pub fn check(&self) -> Result<crate::check::CheckReport> {
        self.inner.poison.check()?;
        crate::check::run(&self.inner)
    }

    /// Whether this handle was opened read-only ([`Options::read_only`]).
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// The options the database was opened with.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// The page size the database was created with.
    pub fn page_size(&self) -> usize {
        self.inner.page_size
    }

    /// The longest key this database accepts (a quarter of a page: 1024
    /// bytes with the default page size).
    pub fn max_key_len(&self) -> usize {
        node::max_key_len(self.inner.page_size)
    }

    /// The longest value this database accepts.
    pub fn max_value_len(&self) -> usize {
        MAX_VALUE_LEN
    }

    /// The path of the data file, as given to open it.
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

/// Counters of a database handle since it was opened
/// ([`Database::stats`]).
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
}

impl State {
    /// Applies one redo record to the tree: at commit, and in recovery.
    /// `offset` names the record in errors.
    pub(crate) fn apply(
        &mut self,
        cache: &PageCache,
        file: &dyn StorageFile,
        record: &[u8],
        offset: u64,
        next_table_id: &AtomicU32,
    ) -> Result<()> {
        let ops = log_record::decode(record, offset)?;
        self.apply_ops(cache, file, &ops, offset, next_table_id)
    }

    /// Applies a transaction's changes to the tree, in order: at commit
    /// straight from the transaction, in recovery from the decoded record.
    pub(crate) fn apply_ops(
        &mut self,
        cache: &PageCache,
        file: &dyn StorageFile,
        ops: &[Op<'_>],
        offset: u64,
        next_table_id: &AtomicU32,
    ) -> Result<()> {
        let page_size = self.pager.page_size();
        let State { pager, tables, .. } = self;
        let mut w = pager.writer(cache, file);
        let bad = |what: String| Error::corrupt_log(offset, what);
        let root_of = |tables: &Tables, id: TableId| {
            tables
                .get(id)
                .map(|t| t.root)
                .ok_or_else(|| bad(format!("no table with id {id}")))
        };
        for &op in ops {
            match op {
                Op::CreateTable { id, name } => {
                    if catalog::check_name(name).is_err()
                        || tables.id(name).is_some()
                        || tables.get(id).is_some()
                        || id == 0
                        || id == u32::MAX
                    {
                        return Err(bad(format!("cannot create table {name:?} with id {id}")));
                    }
                    tables.insert(id, name.to_string(), 0, true);
                    next_table_id.fetch_max(id + 1, Ordering::Relaxed);
                }
                Op::Put { table, key, value } => {
                    if key.len() > node::max_key_len(page_size) || value.len() > MAX_VALUE_LEN {
                        return Err(bad("key or value over the limits".into()));
                    }
                    let root = btree::insert(&mut w, root_of(tables, table)?, key, value)?;
                    tables.set_root(table, root);
                }
                Op::Delete { table, key } => {
                    let (root, _) = btree::delete(&mut w, root_of(tables, table)?, key)?;
                    tables.set_root(table, root);
                }
            }
        }
        Ok(())
    }
}

impl Inner {
    /// Records `e` as the reason the handle is poisoned and passes it on.
    pub(crate) fn poisoned<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            self.poison.set(e);
            self.log.fail(&e.to_string());
        }
        r
    }

    /// Runs `f` on the tree of table `id` under the shared tree latch,
    /// with the pages to read it through, its root, and the pager's epoch
    /// (see `tree/cursor.rs`).
    #[inline]
    pub(crate) fn read_tree<T>(
        &self,
        id: TableId,
        f: impl FnOnce(&PageReader<'_>, PageId, u64) -> Result<T>,
    ) -> Result<T> {
        let st = self.state.read();
        let root = st.tables.get(id).map_or(0, |t| t.root);
        let r = st.pager.reader(&self.cache, &*self.data);
        f(&r, root, st.pager.epoch())
    }

    /// Commits a transaction's changes: log append and tree apply under the
    /// commit latch, then the wait for durability.
    /// Steps 1 and 2 of a commit: returns the LSN to wait for, or `None`
    /// if the transaction is durable already (committed by checkpoint).
    pub(crate) fn append_and_apply(&self, ops: &[Op<'_>]) -> Result<Option<u64>> {
        let size: usize = ops.iter().map(log_record::encoded_len).sum();
        if size as u64 > self.options.checkpoint_log_size {
            self.commit_by_checkpoint(ops)?;
            return Ok(None);
        }
        let _latch = self.commit_latch.lock();
        self.poison.check()?;
        // The log grows first (`group_commit.rs`, GROWTH): on a full disk
        // that fails before anything of this transaction is appended or
        // applied, so the caller rolls it back and the handle stays usable.
        match self.log.reserve(size) {
            Err(e @ Error::StorageFull(_)) => return Err(e),
            r => self.poisoned(r)?,
        }
        let lsn = self.log.appended() + 1;
        let appended = self.log.append_ops(lsn, ops, size);
        self.poisoned(appended)?;
        let mut st = self.state.write();
        let applied = st.apply_ops(&self.cache, &*self.data, ops, 0, &self.next_table_id);
        drop(st);
        self.poisoned(applied)?;
        // Published after the apply: whoever reads the changes from now
        // on sees an LSN at least this one (see `wait_durable`).
        self.applied_lsn.store(lsn, Ordering::Release);
        Ok(Some(lsn))
    }

    /// Step 3 of a commit: waits until transaction `lsn` is written, and
    /// with `Durability::Full` synced, and counts the commit.
    pub(crate) fn wait_durable(&self, lsn: u64, count: bool) -> Result<()> {
        let flushed = self
            .log
            .flush(lsn, self.options.durability == Durability::Full);
        if flushed.is_ok() && count {
            self.commits.fetch_add(1, Ordering::Relaxed);
        }
        self.poisoned(flushed)
    }

    /// Commits a transaction too large for the log: rather than write its
    /// changes twice (the log, then the pages at the checkpoint its size
    /// would trigger anyway), apply them and checkpoint at once. The meta
    /// page written names this transaction's LSN, so that write is its
    /// commit point; a crash before it leaves the old meta page and an
    /// untouched tree, and the transaction was never acknowledged.
    fn commit_by_checkpoint(&self, ops: &[Op<'_>]) -> Result<()> {
        let _ck = self.checkpoint_lock.lock();
        let _latch = self.commit_latch.lock();
        self.poison.check()?;
        let lsn = self.log.appended() + 1;
        let mut st = self.state.write();
        let applied = st.apply_ops(&self.cache, &*self.data, ops, 0, &self.next_table_id);
        drop(st);
        self.poisoned(applied)?;
        // The LSN is taken without a frame: the checkpoint's meta records it.
        self.log.skip(lsn);
        self.poisoned(self.log.flush(lsn, true))?;
        let r = self.checkpoint_locked(lsn, true);
        self.poisoned(r)?;
        self.applied_lsn.store(lsn, Ordering::Release);
        self.commits.fetch_add(1, Ordering::Relaxed);
        // This transaction has no log frames, so a recovery that had to
        // fall back from a damaged newest meta page to the older one could
        // not replay it (`wal.rs`, FALLING BACK). A second meta page,
        // written at once, makes both meta pages hold it. The commit is
        // durable already: a failure here only poisons the handle.
        let r = self.checkpoint_locked(lsn, true);
        let _ = self.poisoned(r);
        Ok(())
    }

    /// Checkpoints if the log or the dirty pages have outgrown their
    /// limits. The commit that called it is already durable, so a failure
    /// here only poisons the handle.
    pub(crate) fn maybe_checkpoint(&self) {
        let dirty = self.state.read().pager.dirty_bytes();
        if self.log.end() <= self.options.checkpoint_log_size
            && dirty <= self.options.checkpoint_dirty_size
        {
            return;
        }
        // Another thread checkpointing does the work for both.
        if let Some(_ck) = self.checkpoint_lock.try_lock() {
            let _ = self.checkpoint_held(false);
        }
    }

    /// An on-demand checkpoint (and the one at close). Pages freed since
    /// the previous checkpoint are still part of the durable tree until
    /// this one's meta page is written, so the auto-vacuum cannot move live
    /// pages into them yet; when they make enough of the file free, a
    /// second checkpoint moves live pages down and gives the tail back, so
    /// that removals shrink the file at once rather than a checkpoint
    /// later.
    pub(crate) fn checkpoint(&self) -> Result<()> {
        let _ck = self.checkpoint_lock.lock();
        self.checkpoint_held(false)?;
        if self.state.read().pager.vacuum_limit().is_some() {
            self.checkpoint_held(false)?;
        }
        Ok(())
    }

    /// A checkpoint, with the checkpoint lock held by the caller.
    /// With `force`, writes a new meta page (and starts a new log
    /// generation) even if nothing changed.
    fn checkpoint_held(&self, force: bool) -> Result<()> {
        self.poison.check()?;
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        let _commit = self.commit_latch.lock();
        self.poison.check()?;
        let lsn = self.log.appended();
        self.poisoned(self.log.flush(lsn, true))?;
        self.checkpoint_locked(lsn, force)
    }

    /// Checkpoints through `lsn`, with the commit latch held. Every
    /// failure poisons the handle, but one: the disk filling up while the
    /// pages are written, before any sync. Then nothing the durable meta
    /// page references was touched, memory is put back as it was (less the
    /// new free-list pages, more the catalog's changed copy, which the
    /// next checkpoint goes on from), and the handle stays usable.
    fn checkpoint_locked(&self, lsn: u64, force: bool) -> Result<()> {
        match self.checkpoint_steps(lsn, force) {
            Ok(()) => Ok(()),
            Err(CheckpointError::Clean(e)) => Err(e),
            Err(CheckpointError::Fatal(e)) => self.poisoned(Err(e)),
        }
    }

    fn checkpoint_steps(&self, lsn: u64, force: bool) -> Result<(), CheckpointError> {
        let mut st = self.state.write();
        let vacuum = st.pager.vacuum_limit();
        let nothing_changed = !force
            && st.meta.checkpoint_lsn == lsn
            && st.pager.dirty_bytes() == 0
            && st.tables.iter().all(|(_, t)| !t.changed)
            && vacuum.is_none();
        if nothing_changed {
            return Ok(());
        }
        let State {
            pager,
            tables,
            catalog_root: current_catalog,
            ..
        } = &mut *st;
        let catalog_root = {
            let mut w = pager.writer(&self.cache, &*self.data);
            if let Some(limit) = vacuum {
                let ids: Vec<TableId> = tables.iter().map(|(id, _)| id).collect();
                for id in ids {
                    let root = tables.get(id).map_or(0, |t| t.root);
                    let moved = btree::relocate(&mut w, root, limit)?;
                    tables.set_root(id, moved);
                }
            }
            let root = tables.save(&mut w, *current_catalog)?;
            match vacuum {
                Some(limit) => btree::relocate(&mut w, root, limit)?,
                None => root,
            }
        };
        *current_catalog = catalog_root;
        let old_page_count = pager.page_count();
        let (plan, pages) = pager.prepare_checkpoint(&self.cache);
        let new_meta = Meta {
            sequence: st.meta.sequence + 1,
            checkpoint_lsn: lsn,
            catalog_root,
            page_count: plan.page_count,
            free_list: plan.free_list,
            next_table_id: self.next_table_id.load(Ordering::Relaxed),
            log_salt: wal::new_salt(),
        };
        // Readers may go on while the pages are written.
        let st = RwLockWriteGuard::downgrade(st);
        if let Err(e) = self.write_pages(&pages) {
            drop(st);
            if matches!(e, Error::StorageFull(_)) {
                // No sync was tried, and only pages the durable meta page
                // does not reference were written (invariant 1).
                self.state.write().pager.abort_checkpoint(plan);
                return Err(CheckpointError::Clean(e));
            }
            return Err(CheckpointError::Fatal(e));
        }
        self.data.sync_data()?;
        let ps = self.page_size;
        self.data
            .write_at(&new_meta.encode(ps), u64::from(new_meta.slot()) * ps as u64)?;
        self.data.sync_data()?;
        drop(st);
        drop(pages);

        let mut st = self.state.write();
        st.pager.finish_checkpoint(plan, &self.cache);
        st.tables.saved();
        st.meta = new_meta;
        drop(st);
        if new_meta.page_count < old_page_count {
            self.data
                .set_len(u64::from(new_meta.page_count) * ps as u64)?;
        }
        Ok(self.log.recycle(new_meta.log_salt)?)
    }

    /// Writes sealed pages, joining runs of consecutive page numbers into
    /// writes of up to 1 MiB.
    fn write_pages(&self, pages: &[(PageId, PageBuf)]) -> Result<()> {
        let ps = self.page_size;
        let max_run = (1 << 20) / ps;
        let mut buf = Vec::with_capacity(max_run * ps);
        let mut i = 0;
        while i < pages.len() {
            let start = pages[i].0;
            buf.clear();
            let mut j = i;
            while j < pages.len() && j - i < max_run && pages[j].0 == start + (j - i) as PageId {
                buf.extend_from_slice(&pages[j].1);
                j += 1;
            }
            self.data.write_at(&buf, u64::from(start) * ps as u64)?;
            i = j;
        }
        Ok(())
    }
}

/// How a checkpoint failed.
enum CheckpointError {
    /// Before anything the durable meta page references was touched or
    /// any sync tried, with memory put back: the handle stays usable.
    Clean(Error),
    /// Anything else: the handle must be poisoned.
    Fatal(Error),
}

impl From<Error> for CheckpointError {
    fn from(e: Error) -> Self {
        CheckpointError::Fatal(e)
    }
}

impl From<io::Error> for CheckpointError {
    fn from(e: io::Error) -> Self {
        CheckpointError::Fatal(e.into())
    }
}

/// The log of a read-only handle whose log file is missing or shorter
/// than its header: empty, and never written.
#[derive(Debug)]
struct NoLog;

impl StorageFile for NoLog {
    fn read_at(&self, buf: &mut [u8], _offset: u64) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        Err(io::ErrorKind::UnexpectedEof.into())
    }

    fn write_at(&self, _buf: &[u8], _offset: u64) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the database is open read-only",
        ))
    }

    fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }

    fn set_len(&self, _len: u64) -> io::Result<()> {
        self.write_at(&[], 0)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(0)
    }

    fn try_lock_exclusive(&self) -> io::Result<bool> {
        Ok(true)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // A clean close leaves nothing to replay. Best effort: a failure
        // here leaves a database that recovery opens just as well.
        if self.poison.check().is_ok() && !self.read_only {
            let _ = self.checkpoint();
        }
    }
}
