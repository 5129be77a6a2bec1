//! The pager: hands pages to the B+tree, keeps dirty pages in memory until
//! a checkpoint, and decides which page numbers may be reused.
//!
//! NOTES ON THE DESIGN OF THE PAGER
//!
//! The data file always holds one consistent tree: the one the newest valid
//! meta page describes (the *durable* tree). Between checkpoints nothing in
//! it is overwritten. A page the tree wants to change is copied first
//! ([`PageWriter::writable`]): the copy gets a page number the durable
//! meta does not reference, lives in the dirty map, and may be changed in
//! place until the next checkpoint writes it. The original joins the
//! *pending* list; it becomes reusable only once a newer meta page is
//! durable, because until then a crash brings the durable tree back.
//!
//! Every page number in `FIRST_DATA_PAGE..page_count` is, at any moment,
//! in exactly one of these places (checked by `Database::check`):
//!
//! | state | where | reusable by `alloc` |
//! | --- | --- | --- |
//! | reachable, clean | the durable tree, read through the cache | no (copy first) |
//! | reachable, dirty | `dirty` | it is already writable |
//! | reachable, written | `written`: changed, written to its own page number, out of memory | it is writable once read back |
//! | free | `free` | yes, lowest number first |
//! | pending | `pending` | after the next checkpoint |
//! | free-list page | `chain` | after the next checkpoint |
//!
//! WRITTEN PAGES
//!
//! A commit too large for the log (`store/commit.rs`, COMMIT BY CHECKPOINT)
//! changes more pages than memory should hold. When its dirty pages pass a
//! budget, [`Pager::write_back`] seals the dirty leaf and overflow pages,
//! writes them to their own page numbers, and drops them from the pager's
//! memory: they are *written*. Pager invariant 1 allows it (no durable meta
//! page references them, so a crash makes them free pages again). Branch
//! pages stay dirty: they are few, and every insert passes through them.
//!
//! A written page's sealed bytes are what the file holds at its number, so
//! the cache may hold it as it holds a clean page. `write_back` hands it
//! the written pages until they fill [`WRITTEN_CACHE_SHARE`] of its
//! capacity, counted from the last checkpoint, and drops the rest: the
//! reads and writes that follow a big commit then find most of its pages
//! in memory (dropping them all made every first read of one go back to
//! the file and check the page again, which cost the reads after a bulk
//! load of a million keys a tenth of their time, and on a mapped file the
//! batch writes after it a fifth of their instructions: a mapped page is
//! read in place only once it has been checked, and until then its cached
//! copy is read, `read_page`), while the pages others
//! were reading keep the rest of the cache and one huge commit cannot fill
//! it with its own. A written page read back from the file is not cached.
//! When the tree changes a written page again it leaves the cache and
//! becomes dirty again, in place, with no copy and nothing pending (it is
//! not durable); freed, it is free at once. A checkpoint has nothing left
//! to write for it: its sync makes it durable, and its meta page makes it
//! clean.
//!
//! INVARIANTS
//!
//! 1. A page number in `dirty` is not referenced by the durable meta, so a
//!    checkpoint may write it in place.
//! 2. A page in `pending` or `chain` is referenced by the durable meta and
//!    is never written before the next meta page is durable.
//! 3. `page_mut` is only called on a page number returned by `writable` or
//!    `alloc` since the last checkpoint.
//! 4. Clean pages in the cache equal their bytes on disk and have passed
//!    the checksum and structural checks; so do the mapped pages whose
//!    bit is set (`mapped_pages.rs`, invariant 1).
//! 5. A page in `written` is reachable, not in `dirty` or the pinned
//!    pages, and its sealed bytes are in the file at its number; the cache
//!    holds it only with those bytes.
//!
//! STATE TRANSITIONS OF ONE PAGE NUMBER
//!
//! ```text
//!   free --alloc--> dirty --checkpoint--> clean --writable (copy)--> pending
//!    ^                |                                                  |
//!    +----free--------+                        +--------checkpoint-------+
//!    +-----------------------------------------+
//! ```
//!
//! | transition | function |
//! | --- | --- |
//! | free -> dirty | [`PageWriter::alloc`] |
//! | clean -> dirty copy, original -> pending | [`PageWriter::writable`] |
//! | dirty -> written | [`Pager::write_back`] |
//! | written -> dirty | [`PageWriter::writable`] |
//! | dirty -> free, written -> free | [`PageWriter::free`] |
//! | clean -> pending | [`PageWriter::free`] |
//! | page moved to a lower free number (auto-vacuum) | [`PageWriter::relocate`] |
//! | dirty or written -> clean, pending -> free | [`Pager::prepare_checkpoint`], [`Pager::finish_checkpoint`] |

use crate::base::hash::FastMap;
use crate::error::{Error, Result};
use crate::page::free_list::{self, FreeListRoot};
use crate::page::mapped_pages::MappedPages;
use crate::page::page_cache::PageCache;
use crate::page::page_header::{self, FIRST_DATA_PAGE, PageBuf, PageId, PageType};
use crate::storage::StorageFile;
use std::collections::BTreeSet;
use std::ops::Deref;
use std::sync::Arc;

/// A page borrowed from the dirty map or the pinned branches, or shared
/// with the cache.
pub(crate) enum PageRef<'a> {
    /// Bytes that are not a page buffer of the pager.
    Borrowed(&'a [u8]),
    /// A buffer of the dirty map or of the pinned branches. Cloning it for
    /// a snapshot is safe: writers change dirty pages only through
    /// `Arc::make_mut`, which copies a buffer that a snapshot shares.
    Held(&'a PageBuf),
    /// A buffer shared with the cache.
    Shared(PageBuf),
}

impl Deref for PageRef<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            PageRef::Borrowed(b) => b,
            PageRef::Held(a) => a,
            PageRef::Shared(a) => a,
        }
    }
}

/// Read access to pages.
pub(crate) trait Pages {
    fn page_size(&self) -> usize;

    /// Page `id`, which must be of one of the `expect` types.
    fn read(&self, id: PageId, expect: &[PageType]) -> Result<PageRef<'_>>;

    /// Whether compaction rewrote overflow chains after epoch `epoch`
    /// ([`Pager::epoch`]): a leaf read in that epoch may then point at a
    /// chain whose pages were freed, and its value must be looked up
    /// again from the root. No commit frees a chain that a reader may
    /// still follow (its lock, or its snapshot's versions, cover that);
    /// compaction moves chains without a commit.
    fn chains_moved_since(&self, epoch: u64) -> bool;
}

/// Write access to pages, copy-on-write.
pub(crate) trait PagesMut: Pages {
    /// A page number holding `id`'s contents that may be changed in place:
    /// `id` itself if it is dirty, otherwise a fresh copy (and `id` becomes
    /// pending).
    fn writable(&mut self, id: PageId, expect: &[PageType]) -> Result<PageId>;

    /// The bytes of a writable page (pager invariant 3).
    fn page_mut(&mut self, id: PageId) -> &mut [u8];

    /// A new zeroed page of type `ty`.
    fn alloc(&mut self, ty: PageType) -> Result<PageId>;

    /// Gives page `id` back.
    fn free(&mut self, id: PageId);

    /// Moves page `id` to the lowest free page number if that is lower,
    /// and returns where it now is (copying it if it is clean).
    fn relocate(&mut self, id: PageId, expect: &[PageType]) -> Result<PageId>;
}

pub(crate) const NODE: &[PageType] = &[PageType::Leaf, PageType::Branch];

/// A `HashMap` keyed by page number.
pub(crate) type IdMap<V> = FastMap<PageId, V>;

/// The written pages the cache takes between two checkpoints: at most
/// its capacity divided by this (WRITTEN PAGES).
pub(crate) const WRITTEN_CACHE_SHARE: usize = 2;

/// The structural check of a leaf or branch page read from the file,
/// which the tree layer supplies (`tree/node.rs`, `validate`): the pager
/// reads pages but does not know the layout of nodes, and runs the check
/// once, when a page enters memory (pager invariant 4).
pub(crate) type NodeCheck = fn(PageId, &[u8]) -> Result<()>;

/// The allocation state and the dirty pages.
#[derive(Debug)]
pub(crate) struct Pager {
    page_size: usize,
    dirty: IdMap<PageBuf>,
    /// Changed pages written to their page numbers and dropped from
    /// memory (WRITTEN PAGES above).
    written: BTreeSet<PageId>,
    /// Written pages handed to the cache since the last checkpoint.
    written_cached: usize,
    free: BTreeSet<PageId>,
    pending: Vec<PageId>,
    chain: Vec<PageId>,
    page_count: PageId,
    /// Clean branch pages kept out of the cache, up to `pin_budget`: the
    /// upper levels every lookup passes through, read under the tree latch
    /// with no lock and no reference count of their own (pager invariant 4
    /// holds for them as for the cache).
    pinned: IdMap<PageBuf>,
    pin_budget: usize,
    /// Counts the times pages could have moved or changed: every writer
    /// and checkpoint. A scan that saw the same epoch may trust the page
    /// ids it remembered (the tree cursor's path, `tree/cursor.rs`).
    epoch: u64,
    /// The epoch in which compaction last rewrote overflow chains: a leaf
    /// read before it may point at a chain that is gone (see
    /// [`Pages::chains_moved_since`]).
    chains_moved: u64,
    check_node: NodeCheck,
    /// Whether clean pages are read through a mapping of the data file
    /// (`Options::map_data_file`).
    map_enabled: bool,
    /// The mapping, while there is one (`mapped_pages.rs`): covers the
    /// clean pages below its end, which are then never in the cache.
    mapped: Option<MappedPages>,
}

/// What `prepare_checkpoint` decided, applied by `finish_checkpoint` once
/// the new meta page is durable.
pub(crate) struct CheckpointPlan {
    pub free_list: FreeListRoot,
    pub page_count: PageId,
    next_free: BTreeSet<PageId>,
    next_chain: Vec<PageId>,
}

impl Pager {
    /// The pager of a database whose durable meta has `page_count` pages and
    /// the free list at `root`; reads the free list.
    /// `check_node` is the structural check of node pages read from the
    /// file.
    pub(crate) fn open(
        page_size: usize,
        page_count: PageId,
        root: FreeListRoot,
        file: &dyn StorageFile,
        check_node: NodeCheck,
    ) -> Result<Pager> {
        let (free, chain) = free_list::read(file, page_size, page_count, root)?;
        Ok(Pager {
            page_size,
            dirty: IdMap::default(),
            written: BTreeSet::new(),
            written_cached: 0,
            free,
            pending: Vec::new(),
            chain,
            page_count,
            pinned: IdMap::default(),
            pin_budget: 0,
            epoch: 0,
            chains_moved: 0,
            check_node,
            map_enabled: false,
            mapped: None,
        })
    }

    /// Reads page `id` from the file and checks it (pager invariant 4):
    /// its checksum and type, and for a leaf or branch page the tree's
    /// structural check.
    pub(crate) fn load(&self, file: &dyn StorageFile, id: PageId) -> Result<PageBuf> {
        let buf = page_header::load(file, self.page_size, id)?;
        if matches!(
            page_header::page_type(&buf),
            Some(PageType::Leaf | PageType::Branch)
        ) {
            (self.check_node)(id, &buf)?;
        }
        Ok(buf)
    }

    /// Reads clean pages in place through a mapping of `file` from now on,
    /// if it can be mapped (`mapped_pages.rs`).
    pub(crate) fn map_file(&mut self, file: &dyn StorageFile) {
        self.map_enabled = true;
        self.remap(file);
    }

    /// Makes the mapping cover exactly the pages of the durable tree,
    /// `0..page_count`, if it does not already; called with the file at
    /// least that long, and before the file is cut shorter
    /// (`mapped_pages.rs`, invariant 3). Without a mapping afterwards
    /// (the file cannot be mapped, or mapping failed), reads go through
    /// the cache, which is always correct: the mapping only saves work.
    fn remap(&mut self, file: &dyn StorageFile) {
        if !self.map_enabled
            || self.mapped.as_ref().map(MappedPages::pages) == Some(self.page_count)
        {
            return;
        }
        // The old mapping goes first: never one past the end of the file.
        let old = self.mapped.take();
        self.mapped = MappedPages::map(file, self.page_size, self.page_count, old)
            .unwrap_or_else(|e| {
                tracing::warn!(target: "strata::pager", error = %e, "reading pages through the cache: the data file could not be mapped");
                None
            });
    }

    /// Stops reading in place any page the data file no longer holds
    /// (`mapped_pages.rs`, invariant 4): called as every transaction
    /// begins.
    pub(crate) fn trim_mapping(&self, file: &dyn StorageFile) {
        if let Some(m) = &self.mapped {
            m.trim_to_file(file);
        }
    }

    /// How many pages the mapping covers (0 without one).
    pub(crate) fn mapped_pages(&self) -> PageId {
        self.mapped.as_ref().map_or(0, MappedPages::pages)
    }
    /// Sets how many clean branch pages may be pinned (see [`Pager::pin`]).
    pub(crate) fn set_pin_budget(&mut self, pages: usize) {
        self.pin_budget = pages;
    }

    /// Whether [`Pager::pin`] would take another page.
    pub(crate) fn can_pin(&self) -> bool {
        self.pinned.len() < self.pin_budget
    }

    /// Keeps clean branch page `id`, as loaded by [`Pager::load`], out of
    /// the cache and in memory for as long as it is clean, if the budget
    /// allows (the tree's `btree::pin_branches` chooses the pages: the
    /// upper levels every lookup passes through).
    pub(crate) fn pin(&mut self, id: PageId, page: PageBuf) {
        if self.can_pin() {
            self.pinned.insert(id, page);
        }
    }

    pub(crate) fn page_size(&self) -> usize {
        self.page_size
    }

    pub(crate) fn page_count(&self) -> PageId {
        self.page_count
    }

    pub(crate) fn dirty_bytes(&self) -> usize {
        self.dirty.len() * self.page_size
    }

    /// Auto-vacuum: when more than a quarter of the file is free (now or
    /// after the next checkpoint) and some of it is free now, the page
    /// number above which a checkpoint should move live pages down, so
    /// that it can cut the free tail off. Moving needs pages free now:
    /// pages freed since the last checkpoint are still part of the durable
    /// tree.
    pub(crate) fn vacuum_limit(&self) -> Option<PageId> {
        let free = (self.free.len() + self.pending.len() + self.chain.len()) as PageId;
        if self.page_count < 64 || free * 4 <= self.page_count {
            return None;
        }
        let live = self.page_count - free;
        // Slack for the parents that moving a child copies.
        let limit = live + live / 32 + 16;
        // Worth it only if a free page lies below the limit and a page
        // (live or not) above it.
        let low_free = self.free.first().is_some_and(|&f| f < limit);
        (low_free && self.page_count > limit).then_some(limit)
    }

    /// Pages reachable from the tree (the catalog, every table and
    /// overflow chain), counted as what is neither free, pending nor a
    /// free-list page.
    pub(crate) fn live_pages(&self) -> PageId {
        let unused = self.free.len() + self.pending.len() + self.chain.len();
        self.page_count - FIRST_DATA_PAGE - unused as PageId
    }

    /// Compaction (`Database::compact`): the page number above which
    /// every live page should move, leaving room below it for the live
    /// pages, the parents that moving a child copies (1/64 of them, a
    /// generous bound on the branch pages), and a free-list page.
    pub(crate) fn compact_limit(&self) -> PageId {
        let live = self.live_pages();
        FIRST_DATA_PAGE + live + live / 64 + 2
    }

    /// The in-memory copy of page `id` if it changed since the last
    /// checkpoint.
    pub(crate) fn dirty_page(&self, id: PageId) -> Option<&PageBuf> {
        self.dirty.get(&id)
    }

    /// Pages changed since the last checkpoint and written out early
    /// (for the integrity check).
    pub(crate) fn written(&self) -> &BTreeSet<PageId> {
        &self.written
    }

    /// Whether anything changed since the last checkpoint: pages in
    /// memory or written out.
    pub(crate) fn has_changes(&self) -> bool {
        !self.dirty.is_empty() || !self.written.is_empty()
    }

    /// Writes the dirty leaf and overflow pages to their page numbers
    /// and drops them from memory, handing the cache its share of them:
    /// they become written (WRITTEN PAGES above). Branch pages stay dirty.
    /// Returns how many it wrote.
    pub(crate) fn write_back(
        &mut self,
        cache: &PageCache,
        file: &dyn StorageFile,
    ) -> Result<usize> {
        let mut ids: Vec<PageId> = self
            .dirty
            .iter()
            .filter(|(_, buf)| page_header::page_type(buf) != Some(PageType::Branch))
            .map(|(&id, _)| id)
            .collect();
        ids.sort_unstable();
        let mut pages = Vec::with_capacity(ids.len());
        for id in ids {
            let mut buf = self.dirty.remove(&id).expect("listed above");
            page_header::seal(id, Arc::make_mut(&mut buf));
            if let Some(m) = &self.mapped {
                m.forget(id); // mapped_pages.rs, invariant 2
            }
            pages.push((id, buf));
        }
        let written = write_pages(file, self.page_size, &pages).map(|()| pages.len());
        let share = cache.capacity() / WRITTEN_CACHE_SHARE;
        // Written or not, they stay accounted for: a failure poisons the
        // handle, and nothing more is read through this pager.
        for (id, buf) in pages {
            if written.is_ok() {
                debug_assert!(
                    cache.get(id).is_none() && !self.pinned.contains_key(&id),
                    "pager invariant 5: a written page has no clean copy"
                );
                if self.written_cached < share {
                    // Its sealed bytes, as the file now holds them.
                    cache.insert(id, buf);
                    self.written_cached += 1;
                }
                self.written.insert(id);
            } else {
                self.dirty.insert(id, buf);
            }
        }
        written
    }

    /// Free, pending and free-list page numbers (for the integrity check).
    pub(crate) fn unreachable_sets(&self) -> (&BTreeSet<PageId>, &[PageId], &[PageId]) {
        (&self.free, &self.pending, &self.chain)
    }

    pub(crate) fn reader<'a>(
        &'a self,
        cache: &'a PageCache,
        file: &'a dyn StorageFile,
    ) -> PageReader<'a> {
        PageReader {
            pager: self,
            cache,
            file,
        }
    }

    /// See the field.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Records that compaction rewrote overflow chains in this epoch.
    pub(crate) fn note_chains_moved(&mut self) {
        self.chains_moved = self.epoch;
    }

    pub(crate) fn writer<'a>(
        &'a mut self,
        cache: &'a PageCache,
        file: &'a dyn StorageFile,
    ) -> PageWriter<'a> {
        self.epoch += 1;
        PageWriter {
            pager: self,
            cache,
            file,
        }
    }

    /// Writes the free list that will hold after this checkpoint into new
    /// dirty pages, seals every dirty page, and returns the plan plus the
    /// dirty pages in page order, ready to be written.
    ///
    /// The free-list pages are taken only from `free` or the end of the
    /// file, never from `pending` or `chain` (pager invariant 2).
    pub(crate) fn prepare_checkpoint(
        &mut self,
        cache: &PageCache,
    ) -> (CheckpointPlan, Vec<(PageId, PageBuf)>) {
        self.epoch += 1;
        let per_page = free_list::ids_per_page(self.page_size);
        let mut next_free: BTreeSet<PageId> = self.free.clone();
        next_free.extend(self.pending.iter().copied());
        next_free.extend(self.chain.iter().copied());
        let mut page_count = self.page_count;
        let mut next_chain = Vec::new();
        let mut candidates = self.free.iter().copied();
        while next_chain.len() < next_free.len().div_ceil(per_page) {
            let id = match candidates.next() {
                Some(id) => {
                    next_free.remove(&id);
                    id
                }
                None => {
                    page_count += 1;
                    page_count - 1
                }
            };
            next_chain.push(id);
        }
        // Give back a free tail of the file.
        while page_count > FIRST_DATA_PAGE && next_free.remove(&(page_count - 1)) {
            page_count -= 1;
        }
        let entries: Vec<PageId> = next_free.iter().copied().collect();
        for (i, &id) in next_chain.iter().enumerate() {
            let next = next_chain.get(i + 1).copied().unwrap_or(0);
            let chunk = &entries
                [(i * per_page).min(entries.len())..((i + 1) * per_page).min(entries.len())];
            let page = free_list::encode(self.page_size, next, chunk);
            cache.remove(id);
            self.dirty.insert(id, Arc::from(page));
        }
        let plan = CheckpointPlan {
            free_list: FreeListRoot {
                head: next_chain.first().copied().unwrap_or(0),
                pages: next_chain.len() as u32,
                entries: entries.len() as u64,
            },
            page_count,
            next_free,
            next_chain,
        };
        let mut pages: Vec<(PageId, PageBuf)> = Vec::with_capacity(self.dirty.len());
        for (&id, buf) in self.dirty.iter_mut() {
            page_header::seal(id, Arc::make_mut(buf));
            if let Some(m) = &self.mapped {
                m.forget(id); // mapped_pages.rs, invariant 2
            }
            pages.push((id, buf.clone()));
        }
        pages.sort_unstable_by_key(|(id, _)| *id);
        (plan, pages)
    }

    /// Called when the checkpoint of `plan` failed before its meta page
    /// was written: forgets the free-list pages `prepare_checkpoint` made,
    /// whose page numbers are still free (or past the page count), so that
    /// the pager is as it was and a later checkpoint can run. The dirty
    /// pages stay dirty (sealing them changed only their checksums).
    pub(crate) fn abort_checkpoint(&mut self, plan: CheckpointPlan) {
        for id in plan.next_chain {
            self.dirty.remove(&id);
        }
    }

    /// Called once the meta page of `plan` is durable: dirty pages become
    /// clean (into the cache, or read through the mapping, which now
    /// covers the new page count), pending pages become free. Called
    /// before the file is cut to the new page count.
    pub(crate) fn finish_checkpoint(
        &mut self,
        plan: CheckpointPlan,
        cache: &PageCache,
        file: &dyn StorageFile,
    ) {
        self.epoch += 1;
        debug_assert!(
            self.written.last().is_none_or(|&id| id < plan.page_count),
            "pager invariant 1: written pages are never truncated"
        );
        // Clean now: in the cache, or read in place, or read from the file
        // when next needed.
        self.written.clear();
        self.written_cached = 0;
        let mut dirty = Vec::new();
        for (id, buf) in self.dirty.drain() {
            debug_assert!(
                id < plan.page_count,
                "pager invariant 1: dirty pages are never truncated"
            );
            if page_header::page_type(&buf) == Some(PageType::Branch)
                && self.pinned.len() < self.pin_budget
            {
                self.pinned.insert(id, buf);
            } else {
                dirty.push((id, buf));
            }
        }
        self.free = plan.next_free;
        self.chain = plan.next_chain;
        self.pending.clear();
        self.page_count = plan.page_count;
        self.remap(file);
        // What this checkpoint wrote is what the file now holds, sealed by
        // this process: read in place from now on, with no `pread` and no
        // second check (`mapped_pages.rs`, invariant 1). The pages a big
        // commit wrote out early are left to be checked at their first
        // read: marking them all would have the reads that follow such a
        // commit touch its whole mapping at once, where a read with `pread`
        // leaves the mapping alone until the page is read again.
        let mapped = self.mapped.as_ref();
        for (id, buf) in dirty {
            match mapped.filter(|m| m.covers(id)) {
                Some(m) => m.set_checked(id),
                None => cache.insert(id, buf),
            }
        }
    }
}

/// Reads pages: dirty map first, then the pinned pages, then the mapping
/// or the cache, then the file.
pub(crate) struct PageReader<'a> {
    pager: &'a Pager,
    cache: &'a PageCache,
    file: &'a dyn StorageFile,
}

/// Reads and changes pages.
pub(crate) struct PageWriter<'a> {
    pager: &'a mut Pager,
    cache: &'a PageCache,
    file: &'a dyn StorageFile,
}

fn read_page<'a>(
    pager: &'a Pager,
    cache: &PageCache,
    file: &dyn StorageFile,
    id: PageId,
    expect: &[PageType],
) -> Result<PageRef<'a>> {
    if id < FIRST_DATA_PAGE || id >= pager.page_count {
        return Err(Error::corrupt_page(
            id,
            format!(
                "reference to a page outside the tree area (page count {})",
                pager.page_count
            ),
        ));
    }
    let page = if let Some(buf) = pager.dirty.get(&id) {
        PageRef::Held(buf)
    } else if let Some(buf) = pager.pinned.get(&id) {
        PageRef::Held(buf)
    } else if let Some(m) = pager.mapped.as_ref().filter(|m| m.covers(id)) {
        match m.checked(id) {
            Some(bytes) => PageRef::Borrowed(bytes),
            // Written back by this process and kept, sealed, in the cache
            // (WRITTEN PAGES): its bytes are the file's, as in an unmapped
            // file. Left unchecked, so that a big commit's pages are read
            // in place only once they have passed the check.
            None if let Some(buf) = cache.get(id) => PageRef::Shared(buf),
            None => {
                // Checked once, read with `pread` (mapped_pages.rs, TRUST).
                let buf = pager.load(file, id)?;
                m.set_checked(id);
                PageRef::Shared(buf)
            }
        }
    } else if let Some(buf) = cache.get(id) {
        PageRef::Shared(buf)
    } else if pager.written.contains(&id) {
        // Past the cache's share: see WRITTEN PAGES.
        PageRef::Shared(pager.load(file, id)?)
    } else {
        let buf = pager.load(file, id)?;
        cache.insert(id, buf.clone());
        PageRef::Shared(buf)
    };
    match page_header::page_type(&page) {
        Some(ty) if expect.contains(&ty) => Ok(page),
        found => Err(Error::corrupt_page(
            id,
            format!("expected a {expect:?} page, found {found:?}"),
        )),
    }
}

impl Pages for PageReader<'_> {
    fn page_size(&self) -> usize {
        self.pager.page_size
    }

    fn chains_moved_since(&self, epoch: u64) -> bool {
        self.pager.chains_moved > epoch
    }

    fn read(&self, id: PageId, expect: &[PageType]) -> Result<PageRef<'_>> {
        read_page(self.pager, self.cache, self.file, id, expect)
    }
}

impl Pages for PageWriter<'_> {
    fn page_size(&self) -> usize {
        self.pager.page_size
    }

    fn chains_moved_since(&self, epoch: u64) -> bool {
        self.pager.chains_moved > epoch
    }

    fn read(&self, id: PageId, expect: &[PageType]) -> Result<PageRef<'_>> {
        read_page(self.pager, self.cache, self.file, id, expect)
    }
}

impl PagesMut for PageWriter<'_> {
    fn writable(&mut self, id: PageId, expect: &[PageType]) -> Result<PageId> {
        if self.pager.dirty.contains_key(&id) {
            // Still check the type: the reference came from a page.
            self.read(id, expect)?;
            return Ok(id);
        }
        if self.pager.written.contains(&id) {
            // Not durable: dirty again in place, no copy.
            let buf = match self.read(id, expect)? {
                PageRef::Shared(buf) => buf,
                mapped => Arc::from(&*mapped),
            };
            // The cache holds only what the file does (pager invariant 5).
            self.cache.remove(id);
            self.pager.written.remove(&id);
            self.pager.dirty.insert(id, buf);
            return Ok(id);
        }
        let copy: PageBuf = Arc::from(&*self.read(id, expect)?);
        let new = self.take_page_number();
        self.pager.dirty.insert(new, copy);
        self.pager.pending.push(id);
        self.forget_clean(id);
        Ok(new)
    }

    fn page_mut(&mut self, id: PageId) -> &mut [u8] {
        let buf = self.pager.dirty.get_mut(&id).expect(
            "pager invariant 3: page_mut only on pages made writable since the last checkpoint",
        );
        Arc::make_mut(buf)
    }

    fn alloc(&mut self, ty: PageType) -> Result<PageId> {
        let id = self.take_page_number();
        self.pager
            .dirty
            .insert(id, page_header::new_page_buf(self.pager.page_size, ty));
        Ok(id)
    }

    fn relocate(&mut self, id: PageId, expect: &[PageType]) -> Result<PageId> {
        match self.pager.free.first() {
            Some(&low) if low < id => {}
            _ => return Ok(id),
        }
        // Checks the range and the type, dirty or clean.
        self.read(id, expect)?;
        let written = match self.pager.written.contains(&id) {
            true => Some(Arc::from(&*self.read(id, expect)?)),
            false => None,
        };
        let buf = match self.pager.dirty.remove(&id).or(written) {
            // Never durable (pager invariant 1): move it; the old number is free
            // at once.
            Some(buf) => {
                if self.pager.written.remove(&id) {
                    self.cache.remove(id);
                }
                self.pager.free.insert(id);
                buf
            }
            // Durable: copy it; the original is pending.
            None => {
                let clean: PageBuf = Arc::from(&*self.read(id, expect)?);
                self.pager.pending.push(id);
                self.forget_clean(id);
                clean
            }
        };
        let low = self.take_page_number();
        self.pager.dirty.insert(low, buf);
        Ok(low)
    }

    fn free(&mut self, id: PageId) {
        if self.pager.dirty.remove(&id).is_some() {
            // Never durable (pager invariant 1): reusable at once.
            self.pager.free.insert(id);
        } else if self.pager.written.remove(&id) {
            // Likewise; and the cache may hold it (pager invariant 5).
            self.cache.remove(id);
            self.pager.free.insert(id);
        } else {
            self.pager.pending.push(id);
            self.forget_clean(id);
        }
    }
}

impl PageWriter<'_> {
    /// Drops the clean copy of a durable page that no longer belongs to the
    /// tree (copied or freed).
    fn forget_clean(&mut self, id: PageId) {
        self.cache.remove(id);
        self.pager.pinned.remove(&id);
    }

    fn take_page_number(&mut self) -> PageId {
        let id = match self.pager.free.pop_first() {
            Some(id) => id,
            None => {
                self.pager.page_count += 1;
                self.pager.page_count - 1
            }
        };
        // A stale copy of a reused number must not shadow the new page.
        self.cache.remove(id);
        id
    }
}

/// Writes sealed pages, in page order, joining runs of consecutive page
/// numbers into writes of up to 1 MiB.
pub(crate) fn write_pages(
    file: &dyn StorageFile,
    page_size: usize,
    pages: &[(PageId, PageBuf)],
) -> Result<()> {
    let max_run = (1 << 20) / page_size;
    let mut buf = Vec::with_capacity(max_run.min(pages.len()) * page_size);
    let mut i = 0;
    while i < pages.len() {
        let start = pages[i].0;
        buf.clear();
        let mut j = i;
        while j < pages.len() && j - i < max_run && pages[j].0 == start + (j - i) as PageId {
            buf.extend_from_slice(&pages[j].1);
            j += 1;
        }
        file.write_at(&buf, u64::from(start) * page_size as u64)?;
        i = j;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{OpenMode, RealVfs, SimVfs, Vfs};
    use std::path::Path;

    /// On a mapped file, a written page the cache kept is read from the
    /// cache until it is checked, not from the file again with `pread`
    /// and a second check; one the cache did not keep is read from the
    /// file and checked (WRITTEN PAGES, `mapped_pages.rs` invariant 1).
    /// Shown by damaging both pages' bytes in the file after they were
    /// written: the kept one reads as written, the other is refused.
    #[test]
    fn a_mapped_file_reads_its_written_pages_from_the_cache_until_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = RealVfs
            .open(&dir.path().join("db"), OpenMode::CreateNew)
            .unwrap();
        let file = &*file;
        let empty = FreeListRoot {
            head: 0,
            pages: 0,
            entries: 0,
        };
        let ps = 4096;
        let check = |_: PageId, _: &[u8]| Ok(());
        let mut pager = Pager::open(ps, FIRST_DATA_PAGE, empty, file, check).unwrap();
        pager.map_file(file);
        let cache = PageCache::new(256);
        let share = cache.capacity() / WRITTEN_CACHE_SHARE;
        let ids: Vec<PageId> = {
            let mut w = pager.writer(&cache, file);
            (0..share + 1)
                .map(|_| w.alloc(PageType::Leaf).unwrap())
                .collect()
        };
        assert_eq!(pager.write_back(&cache, file).unwrap(), share + 1);
        // The mapping now covers the written pages, none of them checked.
        pager.map_file(file);
        assert!(pager.mapped_pages() > *ids.last().unwrap());
        let (kept, dropped) = (ids[0], ids[share]);
        assert!(cache.get(kept).is_some() && cache.get(dropped).is_none());
        for id in [kept, dropped] {
            file.write_at(&vec![0xA5; ps], u64::from(id) * ps as u64)
                .unwrap();
        }
        let r = pager.reader(&cache, file);
        let page = r.read(kept, NODE).unwrap();
        assert_eq!(page_header::page_type(&page), Some(PageType::Leaf));
        assert!(matches!(page, PageRef::Shared(_)), "from the cache");
        assert!(r.read(dropped, NODE).is_err(), "read and checked");
    }

    /// Written pages: the cache takes its share of them and no more; one
    /// changed again or freed leaves it; one past the share is read from
    /// the file without entering it (WRITTEN PAGES, pager invariant 5).
    #[test]
    fn the_cache_takes_its_share_of_the_written_pages() {
        let vfs = SimVfs::new(1);
        let file = vfs.open(Path::new("/db"), OpenMode::CreateNew).unwrap();
        let file = &*file;
        let empty = FreeListRoot {
            head: 0,
            pages: 0,
            entries: 0,
        };
        let mut pager = Pager::open(4096, FIRST_DATA_PAGE, empty, file, |_, _| Ok(())).unwrap();
        let cache = PageCache::new(256);
        let share = cache.capacity() / WRITTEN_CACHE_SHARE;
        let n = share + 10;
        let ids: Vec<PageId> = {
            let mut w = pager.writer(&cache, file);
            (0..n).map(|_| w.alloc(PageType::Leaf).unwrap()).collect()
        };
        assert_eq!(pager.write_back(&cache, file).unwrap(), n);
        let (cached, dropped) = ids.split_at(share);
        assert!(cached.iter().all(|&id| cache.get(id).is_some()));
        assert!(dropped.iter().all(|&id| cache.get(id).is_none()));
        assert_eq!(pager.written().len(), n);

        {
            let mut w = pager.writer(&cache, file);
            // Past the share: read from the file, and not cached.
            w.read(dropped[0], NODE).unwrap();
            assert!(cache.get(dropped[0]).is_none());
            // Changed again: dirty in place, and out of the cache.
            assert_eq!(w.writable(cached[0], NODE).unwrap(), cached[0]);
            assert!(cache.get(cached[0]).is_none());
            // Freed: free at once, and out of the cache.
            w.free(cached[1]);
            assert!(cache.get(cached[1]).is_none());
        }
        assert!(pager.dirty_page(cached[0]).is_some());
        assert!(!pager.written().contains(&cached[0]));
        assert!(!pager.written().contains(&cached[1]));
        assert!(pager.unreachable_sets().0.contains(&cached[1]));
    }
}
