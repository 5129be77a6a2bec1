//! Opening a database: creating its files, locking them, recovering, and
//! assembling the handle.
//!
//! FILES
//!
//! A database at `path` is two files: the data file `path` (pages, see
//! `page/pager.rs`) and the log `path-wal` (see `log/wal.rs`). A new
//! database is built under `path-creating`, synced, and renamed into
//! place, so a crash during creation leaves either no database or a
//! complete empty one.
//!
//! OPENING
//!
//! 1. Create the database if no file is at the path (and `create` is set).
//! 2. Open the data file and lock it: exclusively, or shared when
//!    read-only.
//! 3. Recover (`recovery.rs`): the durable meta page, the free list and
//!    the catalog, and the log replayed into memory.
//! 4. A writable open then checkpoints, forced: the replayed transactions
//!    become durable in the data file and a new log generation starts
//!    before anything is appended (`log/wal.rs`, RECOVERY).

use crate::db::database::{Database, Inner};
use crate::db::options::Options;
use crate::db::recovery;
use crate::error::{Error, OpenFailure, Result};
use crate::log::group_commit::{self, LogWriter};
use crate::log::wal::{self, LOG_HEADER};
use crate::page::file_header;
use crate::page::meta::Meta;
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
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64};

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
        // The files' real names: the log lives beside the data file.
        let path = vfs
            .resolve(&given)
            .map_err(|e| open_error(given.clone(), e))?;
        create_if_missing(&*vfs, &given, &path, &options)?;
        let data = open_data_file(&*vfs, &given, &path, options.read_only)?;
        let (page_size, meta) = recovery::durable_meta(&*vfs, &*data, &log_path(&path))?;
        let cache = PageCache::new(options.cache_size / page_size);
        let mut tree = load_tree(&*data, &cache, page_size, meta, &options)?;
        let next_table_id = AtomicU32::new(meta.next_table_id);
        // The log: replay what the data file does not hold yet.
        let log_file = open_log(&*vfs, &path, &options)?;
        let recovered = recovery::replay(&*log_file, &meta, |lsn, record, offset| {
            tree.apply(&cache, &*data, record, offset, lsn, &next_table_id)
        })?;
        let allocated = log_file.len()?;
        let keep = options.log_preallocate.max(options.checkpoint_log_size);
        let store = Store {
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
                keep,
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
        };
        // Make what opening found durable before anything is appended
        // (`log/wal.rs`, RECOVERY), with a checkpoint that writes a new
        // meta page and starts a new log generation. The log bytes
        // replayed may have been only in the operating system's cache, and
        // so may the meta page itself (a checkpoint whose meta page's sync
        // failed, followed by a reopen in the same boot): a power failure
        // would take either away, but keep a commit appended and synced
        // after them. And leftovers must not outlive the generation they
        // belong to. A read-only handle writes nothing: what it replayed
        // stays in memory, and the next writable open does this.
        if !options.read_only {
            // A scratch file a crash left named (`txn/spill.rs`, THE
            // SCRATCH FILE) holds nothing anyone needs. Best effort: a
            // leftover is only wasted space.
            let _ = vfs.remove(&spill::scratch_path(&path));
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

/// `e`, from opening the file at `path`: [`Error::CannotOpen`] if it is
/// one of the reasons [`OpenFailure`] names, else as any I/O error.
fn open_error(path: PathBuf, e: io::Error) -> Error {
    match OpenFailure::of(&e) {
        Some(reason) => Error::CannotOpen { path, reason },
        None => e.into(),
    }
}

/// Step 1: creates the database at `path` (given as `given`) if no file
/// is there and `options` allow it.
fn create_if_missing(vfs: &dyn Vfs, given: &Path, path: &Path, options: &Options) -> Result<()> {
    if vfs
        .exists(path)
        .map_err(|e| open_error(given.to_path_buf(), e))?
    {
        return Ok(());
    }
    if !options.create || options.read_only {
        return Err(Error::CannotOpen {
            path: given.to_path_buf(),
            reason: OpenFailure::NotFound,
        });
    }
    create(vfs, path, options).map_err(|e| match e {
        Error::Io(io) => match OpenFailure::of(&io) {
            Some(reason) => Error::CannotOpen {
                path: given.to_path_buf(),
                reason,
            },
            None => Error::Io(io),
        },
        e => e,
    })
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

/// Step 2: the data file, locked: shared when `read_only`, else
/// exclusively. Another holder gives [`Error::Locked`].
fn open_data_file(
    vfs: &dyn Vfs,
    given: &Path,
    path: &Path,
    read_only: bool,
) -> Result<Box<dyn StorageFile>> {
    let at = |e| open_error(given.to_path_buf(), e);
    let data = if read_only {
        let f = vfs.open(path, OpenMode::ReadOnly).map_err(at)?;
        f.try_lock_shared()?.then_some(f)
    } else {
        let f = vfs.open(path, OpenMode::Existing).map_err(at)?;
        f.try_lock_exclusive()?.then_some(f)
    };
    data.ok_or(Error::Locked)
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

/// The log file beside the data file at `path`. A writable open creates
/// it if it is missing or shorter than its header; a read-only open
/// reads such a log as empty ([`NoLog`]).
fn open_log(vfs: &dyn Vfs, path: &Path, options: &Options) -> Result<Box<dyn StorageFile>> {
    let lp = log_path(path);
    if options.read_only {
        return match vfs.open(&lp, OpenMode::ReadOnly) {
            Ok(f) if f.len()? >= LOG_HEADER => Ok(f),
            // Nothing to replay, and nothing is ever appended.
            Ok(_) => Ok(Box::new(NoLog)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Box::new(NoLog)),
            Err(e) => Err(open_error(lp, e)),
        };
    }
    match vfs.open(&lp, OpenMode::Existing) {
        Ok(f) if f.len()? >= LOG_HEADER => Ok(f),
        Ok(_) => group_commit::create_log(vfs, &lp, options.log_preallocate),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let f = group_commit::create_log(vfs, &lp, options.log_preallocate)?;
            vfs.sync_dir(&parent_dir(path))?;
            Ok(f)
        }
        Err(e) => Err(open_error(lp, e)),
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
