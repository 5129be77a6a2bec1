//! Commits: a transaction's redo record into the log and onto the tree.
//!
//! THE LIFE OF A COMMIT
//!
//! 1. The transaction, holding its locks (`txn/lock_table.rs`), encodes its
//!    private writes as one redo record.
//! 2. Under the commit latch: it takes the next LSN, appends the record's
//!    frames to the log buffer, and applies the record to the shared tree
//!    under the tree latch (the same code recovery runs).
//! 3. Outside any latch: it waits for the log to be written, and with
//!    `Durability::Full` synced (`log/group_commit.rs`), then releases its
//!    locks.
//! 4. If the log or the dirty pages have grown past their limits, it runs a
//!    checkpoint.
//!
//! A failure after step 2 began leaves memory ahead of the disk, so it
//! poisons the handle: every later call fails until the database is
//! opened again and recovery rebuilds memory from the files.
//!
//! Step 2 runs the same code as recovery: [`TreeState::apply`] decodes a
//! record from the log and applies it; a commit applies the operations
//! straight from the transaction ([`TreeState::apply_ops`]).
//!
//! COMMIT BY CHECKPOINT
//!
//! A transaction whose record would be larger than `checkpoint_log_size`
//! is not logged: its changes are applied and a checkpoint follows at
//! once, whose meta page is the commit point (`Store::commit_by_checkpoint`).
//! Its operations come as a stream of chunks ([`OpSource`]), from the
//! transaction's merged write sets when they spilled to disk, so that the
//! transaction is never held in memory whole. Each chunk is applied under
//! the tree latch on its own, with the same LSN, through the same
//! `apply_ops`; between chunks readers go on (the transaction's locks keep
//! them off its keys, as at any commit). When the pages changed pass
//! `write_back_size` bytes, the pager writes the changed leaf and
//! overflow pages to their page numbers and drops them from memory
//! (`page/pager.rs`, WRITTEN PAGES): they are referenced by no durable meta
//! page, so writing them early is safe (pager invariant 1), and the
//! checkpoint only syncs them. The peak memory of a commit of any size is
//! therefore about the write sets' buffers plus `write_back_size` plus a
//! chunk. Any failure, in the apply or in producing a chunk (reading the
//! transaction's spilled runs), poisons the handle, as every failure of a
//! commit does once it has begun to change the tree.

use crate::error::{Error, Result};
use crate::log::log_record::{self, Op};
use crate::page::page_cache::PageCache;
use crate::storage::StorageFile;
use crate::store::durability::Durability;
use crate::store::shared::{Store, TreeState};
use crate::store::versions::Recorder;
use crate::tree::btree::{self, Old};
use crate::tree::catalog::{self, TableId, Tables};
use crate::tree::node::{self, MAX_VALUE_LEN};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// A transaction's operations in redo order, produced a chunk at a time: it
/// calls its argument on each chunk, and passes on the first error.
pub(crate) type OpSource<'a> =
    dyn FnMut(&mut dyn FnMut(&[Op<'_>]) -> Result<()>) -> Result<()> + 'a;

/// Bytes of encoded operations per chunk when a transaction held in memory
/// commits by checkpoint.
const CHUNK_BYTES: usize = 4 << 20;

impl Store {
    /// Steps 1 and 2 of a commit: returns the LSN to wait for, or `None`
    /// if the transaction is durable already (committed by checkpoint).
    pub(crate) fn append_and_apply(&self, ops: &[Op<'_>]) -> Result<Option<u64>> {
        let size: usize = ops.iter().map(log_record::encoded_len).sum();
        if size as u64 > self.checkpoint_log_size {
            self.commit_by_checkpoint(&mut |sink: &mut dyn FnMut(&[Op<'_>]) -> Result<()>| {
                let mut rest = ops;
                while !rest.is_empty() {
                    // Operations up to CHUNK_BYTES, and at least one.
                    let (mut n, mut bytes) = (0, 0);
                    while n < rest.len() && (n == 0 || bytes < CHUNK_BYTES) {
                        bytes += log_record::encoded_len(&rest[n]);
                        n += 1;
                    }
                    sink(&rest[..n])?;
                    rest = &rest[n..];
                }
                Ok(())
            })?;
            return Ok(None);
        }
        let _latch = self.commit_latch.lock();
        self.poison.check()?;
        // The log grows first (`log/group_commit.rs`, GROWTH): on a full disk
        // that fails before anything of this transaction is appended or
        // applied, so the caller rolls it back and the handle stays usable.
        match self.log.reserve(size) {
            Err(e @ Error::StorageFull(_)) => return Err(e),
            r => self.poisoned(r)?,
        }
        let lsn = self.log.appended() + 1;
        let appended = self.log.append_ops(lsn, ops, size);
        self.poisoned(appended)?;
        let applied = self.apply_committed(ops, lsn);
        self.poisoned(applied)?;
        // Published after the apply: whoever reads the changes from now
        // on sees an LSN at least this one (see `wait_durable`).
        self.applied_lsn.store(lsn, Ordering::Release);
        Ok(Some(lsn))
    }

    /// Step 3 of a commit: waits until transaction `lsn` is written, and
    /// with `Durability::Full` synced, and counts the commit.
    pub(crate) fn wait_durable(&self, lsn: u64, count: bool) -> Result<()> {
        let flushed = self.log.flush(lsn, self.durability == Durability::Full);
        if flushed.is_ok() && count {
            self.commits.fetch_add(1, Ordering::Relaxed);
        }
        self.poisoned(flushed)
    }

    /// Commits a transaction too large for the log, its operations coming
    /// from `ops` in chunks (see COMMIT BY CHECKPOINT above). Returns once
    /// the commit is durable.
    pub(crate) fn commit_large(&self, ops: &mut OpSource<'_>) -> Result<()> {
        self.commit_by_checkpoint(ops)
    }

    /// Commits a transaction too large for the log: rather than write its
    /// changes twice (the log, then the pages at the checkpoint its size
    /// would trigger anyway), apply them and checkpoint at once. The meta
    /// page written names this transaction's LSN, so that write is its
    /// commit point; a crash before it leaves the old meta page and an
    /// untouched tree, and the transaction was never acknowledged.
    fn commit_by_checkpoint(&self, ops: &mut OpSource<'_>) -> Result<()> {
        let _ck = self.checkpoint_lock.lock();
        let _latch = self.commit_latch.lock();
        self.poison.check()?;
        let lsn = self.log.appended() + 1;
        let applied = self.apply_chunked(ops, lsn);
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
        // not replay it (`log/wal.rs`, FALLING BACK). A second meta page,
        // written at once, makes both meta pages hold it. The commit is
        // durable already: a failure here only poisons the handle.
        let r = self.checkpoint_locked(lsn, true);
        let _ = self.poisoned(r);
        Ok(())
    }

    /// Applies committed transaction `lsn` to the tree under the tree
    /// latch, keeping the before-images of what it changes while any
    /// snapshot is open (`versions.rs`, invariant 1).
    fn apply_committed(&self, ops: &[Op<'_>], lsn: u64) -> Result<()> {
        let mut st = self.tree.write();
        let (applied, recorder) = self.apply_recorded(&mut st, ops, lsn, self.versions.recorder());
        if let Some(rec) = recorder {
            // Still under the tree latch that applied the changes.
            self.versions.record(lsn, rec);
        }
        st.lsn = lsn;
        drop(st);
        applied
    }

    /// Applies commit by checkpoint `lsn`, its operations coming from
    /// `ops` in chunks, each under a tree latch of its own (readers and
    /// snapshots that begin meanwhile go on between them). The snapshots'
    /// LSN moves to `lsn` only once every chunk is in, and every chunk's
    /// versions are kept, even with no snapshot open, for the ones that
    /// begin meanwhile (`versions.rs`, CHUNKED COMMITS).
    fn apply_chunked(&self, ops: &mut OpSource<'_>, lsn: u64) -> Result<()> {
        self.versions.begin_chunked(lsn);
        let applied = ops(&mut |chunk: &[Op<'_>]| self.apply_chunk(chunk, lsn));
        let mut st = self.tree.write();
        if applied.is_ok() {
            st.lsn = lsn;
        }
        self.versions.end_chunked();
        drop(st);
        applied
    }

    /// Applies `ops` of commit `lsn` to the latched tree, handing the
    /// before-images to `recorder` if there is one, and gives it back for
    /// the caller to keep (`versions.rs`).
    fn apply_recorded(
        &self,
        st: &mut TreeState,
        ops: &[Op<'_>],
        lsn: u64,
        mut recorder: Option<Recorder>,
    ) -> (Result<()>, Option<Recorder>) {
        let applied = st.apply_ops(
            &self.cache,
            &*self.data,
            ops,
            0,
            lsn,
            &self.next_table_id,
            recorder.as_mut(),
        );
        (applied, recorder)
    }

    /// Applies one chunk of commit by checkpoint `lsn` under the tree
    /// latch, then writes changed pages out if they take more than
    /// `write_back_size` bytes of memory.
    fn apply_chunk(&self, ops: &[Op<'_>], lsn: u64) -> Result<()> {
        let mut st = self.tree.write();
        let recorder = self.versions.chunk_recorder();
        let (applied, recorder) = self.apply_recorded(&mut st, ops, lsn, recorder);
        if let Some(rec) = recorder {
            self.versions.record_chunk(lsn, rec);
        }
        applied?;
        if st.pager.dirty_bytes() > self.write_back_size {
            let n = st.pager.write_back(&self.cache, &*self.data)?;
            self.pages_written_early
                .fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Checkpoints if the log or the dirty pages have outgrown their
    /// limits. The commit that called it is already durable, so a failure
    /// here only poisons the handle.
    pub(crate) fn maybe_checkpoint(&self) {
        let dirty = self.tree.read().pager.dirty_bytes();
        if self.log.end() <= self.checkpoint_log_size && dirty <= self.checkpoint_dirty_size {
            return;
        }
        // Another thread checkpointing does the work for both.
        if let Some(_ck) = self.checkpoint_lock.try_lock() {
            let _ = self.checkpoint_held(false);
        }
    }
}

impl TreeState {
    /// Applies one redo record to the tree: at commit, and in recovery.
    /// `offset` names the record in errors.
    pub(crate) fn apply(
        &mut self,
        cache: &PageCache,
        file: &dyn StorageFile,
        record: &[u8],
        offset: u64,
        lsn: u64,
        next_table_id: &AtomicU32,
    ) -> Result<()> {
        let ops = log_record::decode(record, offset)?;
        self.apply_ops(cache, file, &ops, offset, lsn, next_table_id, None)?;
        self.lsn = lsn;
        Ok(())
    }

    /// Applies transaction `lsn`'s changes to the tree, in order: at
    /// commit straight from the transaction, in recovery from the decoded
    /// record. With a `recorder`, the value each put or delete replaces is
    /// handed to it first, for the open snapshots (`versions.rs`). The
    /// caller moves [`TreeState::lsn`] once the whole transaction is in.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply_ops(
        &mut self,
        cache: &PageCache,
        file: &dyn StorageFile,
        ops: &[Op<'_>],
        offset: u64,
        lsn: u64,
        next_table_id: &AtomicU32,
        mut recorder: Option<&mut Recorder>,
    ) -> Result<()> {
        let page_size = self.pager.page_size();
        let TreeState { pager, tables, .. } = self;
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
                    tables.insert(id, name.to_string(), 0, true, lsn);
                    next_table_id.fetch_max(id + 1, Ordering::Relaxed);
                }
                Op::Put { table, key, value } => {
                    if key.len() > node::max_key_len(page_size) || value.len() > MAX_VALUE_LEN {
                        return Err(bad("key or value over the limits".into()));
                    }
                    let root = root_of(tables, table)?;
                    let mut keep = keep_before(recorder.as_deref_mut(), table, key);
                    let root = btree::insert(&mut w, root, key, value, old(&mut keep))?;
                    tables.set_root(table, root);
                }
                Op::Delete { table, key } => {
                    let root = root_of(tables, table)?;
                    let mut keep = keep_before(recorder.as_deref_mut(), table, key);
                    let (root, _) = btree::delete(&mut w, root, key, old(&mut keep))?;
                    tables.set_root(table, root);
                }
            }
        }
        Ok(())
    }
}

/// What hands `recorder`, if it still wants before-images, the value
/// `key` of `table` held before a change (the tree finds it on the
/// change's way down: `btree::Old`).
fn keep_before<'a>(
    recorder: Option<&'a mut Recorder>,
    table: TableId,
    key: &'a [u8],
) -> Option<impl FnMut(Option<&[u8]>) + 'a> {
    let rec = recorder.filter(|r| r.wants())?;
    Some(move |before: Option<&[u8]>| rec.push(table, key, before.map(Arc::from)))
}

/// `keep` as the tree takes it.
fn old(keep: &mut Option<impl FnMut(Option<&[u8]>)>) -> Old<'_> {
    keep.as_mut().map(|f| f as &mut dyn FnMut(Option<&[u8]>))
}
