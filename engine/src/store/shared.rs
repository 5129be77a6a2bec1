//! The store: what every transaction of a handle shares.

use crate::error::{Error, Result};
use crate::log::group_commit::LogWriter;
use crate::page::meta::Meta;
use crate::page::page_cache::PageCache;
use crate::page::page_header::PageId;
use crate::page::pager::{PageReader, Pager};
use crate::storage::StorageFile;
use crate::store::durability::Durability;
use crate::store::poison::Poison;
use crate::store::versions::{Snapshot, Versions};
use crate::tree::catalog::{TableId, Tables};
use parking_lot::{Mutex, RwLock};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// What the tree latch protects: the pages and the catalog, as the
/// committed transactions left them, and the durable meta page.
pub(crate) struct TreeState {
    pub pager: Pager,
    pub tables: Tables,
    /// The durable meta page (as of the last checkpoint).
    pub meta: Meta,
    /// The catalog tree's root: the durable meta page's, or the copy that
    /// a checkpoint which failed before its meta page made (the next
    /// checkpoint goes on from it).
    pub catalog_root: PageId,
    /// The LSN of the last transaction applied to the tree: what a
    /// snapshot registered now reads (`versions.rs`, invariant 3).
    pub lsn: u64,
}

/// The committed state of an open database and the means to change it:
/// the parts of a handle below its transactions. The latches are taken in
/// the order checkpoint lock, commit latch, tree latch; the log writer's
/// and the cache's own mutexes are innermost.
pub(crate) struct Store {
    /// Opened with `Options::read_only`: nothing is ever written.
    pub read_only: bool,
    pub page_size: usize,
    /// When a commit counts as done.
    pub durability: Durability,
    /// A commit checkpoints when the log has grown past this many bytes
    /// (`Options::checkpoint_log_size`); a transaction whose record alone
    /// is larger commits by checkpoint.
    pub checkpoint_log_size: u64,
    /// A commit checkpoints when the dirty pages take more than this many
    /// bytes (`Options::checkpoint_dirty_size`).
    pub checkpoint_dirty_size: usize,
    pub data: Box<dyn StorageFile>,
    pub log: LogWriter,
    pub cache: PageCache,
    /// The tree latch.
    pub tree: RwLock<TreeState>,
    /// Orders commits: LSN assignment, log append and tree apply happen
    /// together under it. Checkpoints and the integrity check hold it to
    /// keep commits out.
    pub commit_latch: Mutex<()>,
    /// One checkpoint at a time.
    pub checkpoint_lock: Mutex<()>,
    pub poison: Poison,
    pub next_table_id: AtomicU32,
    /// Transactions that wrote something and committed.
    pub commits: AtomicU64,
    /// LSN of the last transaction applied to the tree.
    pub applied_lsn: AtomicU64,
    /// The versions snapshots read, and the open snapshots.
    pub versions: Versions,
    /// Checkpoints that wrote a meta page, since the handle opened.
    pub checkpoints: AtomicU64,
    /// A commit by checkpoint writes changed pages out early when they
    /// take more than this many bytes of memory (`Options::txn_memory_limit`).
    pub write_back_size: usize,
    /// Pages written out early by commits by checkpoint (`Stats`).
    pub pages_written_early: AtomicU64,
    /// The database's id, written into every meta page (`page/meta.rs`).
    pub database_id: u64,
}

impl Store {
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
        let st = self.tree.read();
        let root = st.tables.get(id).map_or(0, |t| t.root);
        let r = st.pager.reader(&self.cache, &*self.data);
        f(&r, root, st.pager.epoch())
    }

    /// The id of committed table `name`, if it exists.
    pub(crate) fn table_id(&self, name: &str) -> Option<TableId> {
        self.tree.read().tables.id(name)
    }

    /// The id of table `name` if it existed at snapshot LSN `lsn`.
    pub(crate) fn table_id_at(&self, name: &str, lsn: u64) -> Option<TableId> {
        let st = self.tree.read();
        let id = st.tables.id(name)?;
        st.tables
            .get(id)
            .is_some_and(|t| t.created_lsn <= lsn)
            .then_some(id)
    }

    /// Compares the data file's length with its mapping, for a
    /// transaction that begins (`page/mapped_pages.rs`, invariant 4).
    pub(crate) fn trim_mapping(&self) {
        self.tree.read().pager.trim_mapping(&*self.data);
    }

    /// Opens a snapshot of the committed state as it is now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let st = self.tree.read();
        // Under the tree latch: no commit is applied between reading the
        // LSN and registering (`versions.rs`, invariant 3).
        self.versions.open(st.lsn)
    }

    /// A new table id. Ids are not given back (a rolled-back creation
    /// leaves a gap); the counter stops at the last id rather than wrap
    /// to 0, which is never a table id.
    pub(crate) fn new_table_id(&self) -> Result<TableId> {
        self.next_table_id
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1))
            .map_err(|_| Error::InvalidOptions("table ids exhausted".into()))
    }
}
