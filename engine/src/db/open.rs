//! Opening a database: finding or creating its data file, locking it,
//! recovering, settling its log, and assembling the handle.
//!
//! FILES
//!
//! A database at `path` is two files: the data file `path` (pages, see
//! `page/pager.rs`) and the log `path-wal` (see `log/wal.rs`); new ones
//! are written under temporary names first (`files.rs`).
//!
//! OPENING
//!
//! | step | what | where |
//! | --- | --- | --- |
//! | 1 | open the file at the path; if there is none (and `create` is set), create the database and open again | [`open_data_file`], `create.rs` |
//! | 2 | lock it: exclusively, or shared when read-only; another holder gives `Locked` | [`open_data_file`] |
//! | 3 | check that the file locked is still the one at the path, else go back to 1 | [`open_data_file`] |
//! | 4 | read the header and the durable meta page | `recovery.rs` |
//! | 5 | decide what to do with the file at the log's path; check a fall back from a damaged meta page against it | `log_file.rs`, `recovery.rs` |
//! | 6 | load the free list and the catalog; replay the log into memory | [`load_tree`], `recovery.rs` |
//! | 7 | writable: make a new log if step 5 said so; remove leftovers; sync the directory | [`settle_log`], `log_file.rs` |
//! | 8 | writable: checkpoint, forced, with the meta page's open flag set | `store/checkpoint.rs` |
//!
//! Step 8 makes the replayed transactions durable in the data file and
//! starts a new log generation before anything is appended (`log/wal.rs`,
//! RECOVERY), and from its meta page on, the log is needed
//! (`page/meta.rs`, THE DATABASE ID AND THE OPEN FLAG). A read-only open
//! stops after step 6 and writes nothing.
//!
//! RACES
//!
//! Any number of threads and processes may open the same path at once,
//! whether a database is there yet or not. Outside the lock, an opener
//! writes nothing but a temporary file of its own, which it moves to the
//! path only if nothing is there (`create.rs`): so exactly one database is
//! created, a file at the path is always a whole database, and none is
//! ever replaced. Every opener then opens that file and tries its lock;
//! one holds it, and the others get `Locked` (or the lock, later, once the
//! holder has closed). Only the holder touches the log, which it creates
//! or replaces only under the lock (steps 5 and 7). Step 3 makes sure the
//! file locked is the database at the path, not one unlinked or replaced
//! in between, whose commits no later open would see. So every handle
//! that opens works on the one file at the path, under its lock, and a
//! commit it acknowledges is in that file or its log.

use crate::db::create;
use crate::db::database::{Database, Inner};
use crate::db::files::{self, log_path, open_error};
use crate::db::log_file::{self, NoLog};
use crate::db::options::Options;
use crate::db::recovery::{self, Durable};
use crate::error::{Error, Result};
use crate::log::group_commit::LogWriter;
use crate::log::wal::LOG_HEADER;
use crate::page::meta::{self, Meta};
use crate::page::page_cache::PageCache;
use crate::page::page_header::PageId;
use crate::page::pager::Pager;
use crate::storage::{OpenMode, StorageFile, Vfs};
use crate::store::poison::Poison;
use crate::store::shared::{Store, TreeState};
use crate::store::versions::Versions;
use crate::tree::btree;
use crate::tree::catalog::Tables;
use crate::tree::node;
use crate::txn::lock_table::LockManager;
use crate::txn::spill::{self, Spill};
use parking_lot::{Mutex, RwLock};
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// How many times steps 1 to 3 go round before opening gives up on a
/// path whose file keeps changing under it.
const OPEN_ATTEMPTS: usize = 16;

impl Database {
    /// Opens the database at `path` with default options, creating it if
    /// it does not exist.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use strata_engine::Database;
    /// let path = dir.path().join("app.strata");
    /// let db = Database::open(&path)?; // creates app.strata and app.strata-wal
    /// // One handle at a time: clone it rather than opening the file again.
    /// assert!(matches!(Database::open(&path), Err(strata_engine::Error::Locked)));
    /// drop(db);
    /// let db = Database::open(&path)?; // reopened once the first is dropped
    /// # drop(db);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Database> {
        Database::open_with(path, Options::default())
    }

    /// Opens the database at `path` for reading only
    /// ([`Options::read_only`]), with the other options at their defaults.
    /// The database must exist.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use strata_engine::Database;
    /// let path = dir.path().join("db");
    /// let db = Database::open(&path)?;
    /// db.transaction(|tx| { tx.create_table("t")?; tx.put("t", b"k", b"v") })?;
    /// drop(db);
    /// // Several read-only handles at once, none writing to the files.
    /// let a = Database::open_read_only(&path)?;
    /// let b = Database::open_read_only(&path)?;
    /// assert_eq!(a.begin_read()?.get("t", b"k")?, b.begin_read()?.get("t", b"k")?);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
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
    /// beside the file it leads to. Any number of threads and processes
    /// may open the same path at once: one creates the database if it is
    /// new, one holds it, and the others get [`Error::Locked`].
    ///
    /// Errors: [`Error::Locked`] if another handle has it open,
    /// [`Error::CannotOpen`] if a file cannot be opened (no file with
    /// `create` off or with `read_only`, a directory, a FIFO, a socket or a
    /// device, a loop of symbolic links, a writable open of a file the
    /// process may only read, ...), [`Error::LogUnusable`] if the log is
    /// missing or another database's where the data file needs its own,
    /// [`Error::NotAStrataFile`], [`Error::NewerFormat`],
    /// [`Error::NewerLogFormat`], [`Error::OlderFormat`],
    /// [`Error::Corruption`], [`Error::StorageFull`], [`Error::Io`].
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use std::time::Duration;
    /// use strata_engine::{Database, Durability, Error, Options};
    /// let options = Options {
    ///     durability: Durability::Buffered,
    ///     lock_timeout: Duration::from_millis(500),
    ///     ..Options::default()
    /// };
    /// let db = Database::open_with(dir.path().join("db"), options)?;
    /// # drop(db);
    /// // With `create` off, a missing file is an error rather than a new database.
    /// let missing = Database::open_with(dir.path().join("nothing"), Options { create: false, ..Options::default() });
    /// assert!(matches!(missing, Err(Error::CannotOpen { .. })));
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Database> {
        options.validate()?;
        let given = path.as_ref().to_path_buf();
        let _span = tracing::info_span!(
            target: "strata::open",
            "open",
            path = %given.display(),
            read_only = options.read_only
        )
        .entered();
        let vfs = options.storage.clone();
        // The files' real names: the log lives beside the data file.
        let path = vfs.resolve(&given).map_err(|e| open_error(&given, e))?;
        let data = open_data_file(&*vfs, &given, &path, &options)?;
        let durable = recovery::durable_meta(&*data)?;
        let mut plan = log_file::plan(&*vfs, &path, &durable, &options)?;
        if let (Some(damaged), Some(log)) = (durable.damaged, &plan.replay) {
            recovery::check_fallback(&**log, &durable.meta, damaged)?;
        }
        let Durable {
            page_size, meta, ..
        } = durable;
        let cache = PageCache::new(options.cache_size / page_size);
        let mut tree = load_tree(&*data, &cache, page_size, meta, &options)?;
        let next_table_id = AtomicU32::new(meta.next_table_id);
        // The log: replay what the data file does not hold yet.
        let log_file = plan.replay.take().unwrap_or_else(|| Box::new(NoLog));
        let recovered = recovery::replay(&*log_file, &meta, |lsn, record, offset| {
            tree.apply(&cache, &*data, record, offset, lsn, &next_table_id)
        })?;
        let allocated = log_file.len()?;
        tracing::info!(
            target: "strata::open",
            checkpoint_lsn = meta.checkpoint_lsn,
            replayed = recovered.last_lsn - meta.checkpoint_lsn,
            last_lsn = recovered.last_lsn,
            log_end = recovered.end,
            pages = meta.page_count,
            "recovered"
        );
        let mut store = Store {
            read_only: options.read_only,
            page_size,
            durability: options.durability,
            checkpoint_log_size: options.checkpoint_log_size,
            checkpoint_dirty_size: options.checkpoint_dirty_size,
            log: LogWriter::new(
                log_file,
                recovered.end,
                recovered.last_lsn,
                allocated,
                log_keep(&options),
                meta.log_salt,
            ),
            data,
            cache,
            tree: RwLock::new(tree),
            commit_latch: Mutex::new(()),
            checkpoint_lock: Mutex::new(()),
            poison: Poison::default(),
            next_table_id,
            commits: AtomicU64::new(0),
            applied_lsn: AtomicU64::new(recovered.last_lsn),
            versions: Versions::new(options.max_snapshot_memory),
            checkpoints: AtomicU64::new(0),
            write_back_size: options.txn_memory_limit,
            pages_written_early: AtomicU64::new(0),
            // A database of format version 2 gets its id at its first
            // writable open's checkpoint.
            database_id: match meta.database_id {
                0 => meta::new_database_id(),
                id => id,
            },
        };
        if !options.read_only {
            // A scratch file a crash left named (`txn/spill.rs`, THE
            // SCRATCH FILE) holds nothing anyone needs. Best effort: a
            // leftover is only wasted space.
            let _ = vfs.remove(&spill::scratch_path(&path));
            settle_log(&mut store, &vfs, &path, &meta, &plan, &options)?;
            // Make what opening found durable before anything is appended
            // (`log/wal.rs`, RECOVERY), with a checkpoint that writes a
            // new meta page, with the open flag, and starts a new log
            // generation. The log bytes replayed may have been only in the
            // operating system's cache, and so may the meta page itself (a
            // checkpoint whose meta page's sync failed, followed by a
            // reopen in the same boot): a power failure would take either
            // away, but keep a commit appended and synced after them. And
            // leftovers must not outlive the generation they belong to. A
            // read-only handle writes nothing: what it replayed stays in
            // memory, and the next writable open does this.
            let _ck = store.checkpoint_lock.lock();
            store.checkpoint_held(true)?;
        }
        let spill = Spill::new(
            vfs.clone(),
            &path,
            options.txn_memory_limit,
            options.max_transaction_size,
        );
        Ok(Database {
            inner: Arc::new(Inner {
                store: Arc::new(store),
                locks: Arc::new(LockManager::new(options.lock_timeout)),
                spill: Arc::new(spill),
                path: given,
                retries: AtomicU64::new(0),
                options,
            }),
        })
    }
}

/// The length the log is cut back to after a checkpoint, if it grew.
fn log_keep(options: &Options) -> u64 {
    options.log_preallocate.max(options.checkpoint_log_size)
}

/// Steps 1 to 3: the data file at `path` (given as `given`), created if
/// missing and allowed, locked (shared when read-only, else exclusively),
/// and still the file at the path once locked.
fn open_data_file(
    vfs: &dyn Vfs,
    given: &Path,
    path: &Path,
    options: &Options,
) -> Result<Box<dyn StorageFile>> {
    let at = |e| open_error(given, e);
    for _ in 0..OPEN_ATTEMPTS {
        let mode = if options.read_only {
            OpenMode::ReadOnly
        } else {
            OpenMode::Existing
        };
        let f = match vfs.open(path, mode) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !options.create || options.read_only {
                    return Err(at(e));
                }
                log_file::check_before_creating(vfs, path, options)?;
                create::create(vfs, path, options.page_size).map_err(|e| match e {
                    Error::Io(io) => match files::open_failure(&io) {
                        Some(reason) => Error::CannotOpen {
                            path: given.to_path_buf(),
                            reason,
                        },
                        None => Error::Io(io),
                    },
                    e => e,
                })?;
                continue;
            }
            Err(e) => return Err(at(e)),
        };
        let locked = if options.read_only {
            f.try_lock_shared()?
        } else {
            f.try_lock_exclusive()?
        };
        if !locked {
            return Err(Error::Locked);
        }
        if still_at(vfs, path, &*f) {
            return Ok(f);
        }
    }
    Err(io::Error::other(format!(
        "{}: the file at the path changed {OPEN_ATTEMPTS} times while it was being opened",
        given.display()
    ))
    .into())
}

/// Step 3: whether `file` is still the file at `path` (it may have been
/// unlinked, or replaced by a rename, since it was opened). An error that
/// tells neither (no identities on this file system, a failed call) counts
/// as yes: the lock is held, and the calls after this one fail if the
/// file system does.
fn still_at(vfs: &dyn Vfs, path: &Path, file: &dyn StorageFile) -> bool {
    match (vfs.file_id(path), file.file_id()) {
        (Ok(there), Ok(mine)) => there == mine,
        (Err(e), _) => e.kind() != io::ErrorKind::NotFound,
        _ => true,
    }
}

/// Step 7, for a writable handle: puts the new log in place if the plan
/// says so, removes what crashed creations left behind, makes both files'
/// names durable, and watches the log's path from now on
/// (`log/group_commit.rs`, WATCHING THE PATH).
fn settle_log(
    store: &mut Store,
    vfs: &Arc<dyn Vfs>,
    path: &Path,
    meta: &Meta,
    plan: &log_file::LogPlan,
    options: &Options,
) -> Result<()> {
    let lp = log_path(path);
    if plan.replace {
        if plan.close_first {
            // The durable meta page says commits may follow it, and the
            // new log will not hold them (`log_file.rs`).
            let _ck = store.checkpoint_lock.lock();
            store.checkpoint_held_as(true, false)?;
        }
        remove_leftovers(&**vfs, path);
        let file = log_file::create(&**vfs, &lp, options.log_preallocate, store.database_id)?;
        let allocated = file.len()?;
        let salt = store.tree.read().meta.log_salt;
        let last = store.log.appended();
        store.log = LogWriter::new(file, LOG_HEADER, last, allocated, log_keep(options), salt);
    } else {
        if meta.sequence <= 1 {
            // As created: a crashed creation may have left a file here.
            remove_leftovers(&**vfs, path);
        }
        // Both files' names are durable before the open flag says the
        // log is needed, even if the sync that made them (an earlier open
        // of this boot creating them) failed.
        vfs.sync_dir(&files::parent_dir(path))?;
    }
    store.log.watch(vfs.clone(), lp);
    Ok(())
}

/// Removes the temporary files of crashed creations beside the database
/// at `path` (`files.rs`). Best effort: one left is only a few pages,
/// removed by a later open.
fn remove_leftovers(vfs: &dyn Vfs, path: &Path) {
    for p in files::leftovers(vfs, path) {
        let _ = vfs.remove(&p);
    }
}

/// The tree as the durable meta page `meta` describes it: the pager with
/// its free list, the catalog loaded, and the trees' upper levels pinned.
fn load_tree(
    data: &dyn StorageFile,
    cache: &PageCache,
    page_size: usize,
    meta: Meta,
    options: &Options,
) -> Result<TreeState> {
    let mut pager = Pager::open(
        page_size,
        meta.page_count,
        meta.free_list,
        data,
        node::validate,
    )?;
    if options.map_data_file {
        pager.map_file(data);
    }
    let tables = Tables::load(
        &pager.reader(cache, data),
        meta.catalog_root,
        meta.page_count,
        meta.next_table_id,
    )?;
    let roots: Vec<PageId> = std::iter::once(meta.catalog_root)
        .chain(tables.iter().map(|(_, t)| t.root))
        .collect();
    // An eighth of the cache may hold the trees' upper levels pinned.
    pager.set_pin_budget(options.cache_size / 8 / page_size);
    btree::pin_branches(&mut pager, &roots, data)?;
    Ok(TreeState {
        pager,
        tables,
        meta,
        catalog_root: meta.catalog_root,
        lsn: meta.checkpoint_lsn,
    })
}
