//! Checkpoints: the changed pages into the data file, then a new meta
//! page, then the log starts over.
//!
//! THE LIFE OF A CHECKPOINT (`Store::checkpoint_locked`)
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
//!
//! THE OPEN FLAG
//!
//! Every meta page says whether commits may follow it in the log
//! (`page/meta.rs`). A checkpoint while the handle is open sets the flag;
//! the closing checkpoint, when the store is dropped, clears it, and is
//! forced to write a meta page if the durable one has it set, since
//! nothing is appended after it. So does the checkpoint that finds the log
//! no longer at its path (`LogWriter::moved`): it makes everything
//! committed durable in the data file, records that nothing follows, and
//! poisons the handle with `Error::LogReplaced`.

use crate::error::{Error, Result};
use crate::log::wal;
use crate::page::meta::Meta;
use crate::page::pager;
use crate::store::shared::{Store, TreeState};
use crate::tree::btree::{self, Reach};
use crate::tree::catalog::TableId;
use parking_lot::RwLockWriteGuard;
use std::io;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Store {
    /// An on-demand checkpoint (and the one at close). Pages freed since
    /// the previous checkpoint are still part of the durable tree until
    /// this one's meta page is written, so the auto-vacuum cannot move live
    /// pages into them yet; when they make enough of the file free, a
    /// second checkpoint moves live pages down and gives the tail back, so
    /// that removals shrink the file at once rather than a checkpoint
    /// later.
    pub(crate) fn checkpoint(&self) -> Result<()> {
        self.checkpoint_vacuuming(true)
    }

    /// [`Store::checkpoint`], leaving the meta page's open flag as `open`
    /// says (THE OPEN FLAG).
    fn checkpoint_vacuuming(&self, open: bool) -> Result<()> {
        let _ck = self.checkpoint_lock.lock();
        self.checkpoint_held_as(false, open)?;
        if self.tree.read().pager.vacuum_limit().is_some() {
            self.checkpoint_held_as(false, open)?;
        }
        Ok(())
    }

    /// A checkpoint, with the checkpoint lock held by the caller.
    /// With `force`, writes a new meta page (and starts a new log
    /// generation) even if nothing changed.
    pub(crate) fn checkpoint_held(&self, force: bool) -> Result<()> {
        self.checkpoint_held_as(force, true)
    }

    /// [`Store::checkpoint_held`], whose meta page gets the open flag
    /// `open`. If the log is no longer the file at its path, the
    /// checkpoint is written with the flag clear and the handle poisoned
    /// (THE OPEN FLAG).
    pub(crate) fn checkpoint_held_as(&self, force: bool, open: bool) -> Result<()> {
        self.checkpoint_with(force, open, None)
    }

    /// [`Store::checkpoint_held_as`]; with `compact`, a compaction pass
    /// (`compact.rs`) that cuts the log back to that many bytes.
    pub(crate) fn checkpoint_with(
        &self,
        force: bool,
        open: bool,
        compact: Option<u64>,
    ) -> Result<()> {
        self.poison.check()?;
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        let _commit = self.commit_latch.lock();
        self.poison.check()?;
        let lsn = self.log.appended();
        self.poisoned(self.log.flush(lsn, true))?;
        let moved = self.log.moved();
        let open = open && moved.is_none();
        let force = force || moved.is_some();
        let written = match self.checkpoint_steps(lsn, force, open, compact) {
            Ok(()) => Ok(()),
            Err(CheckpointError::Clean(e)) => Err(e),
            Err(CheckpointError::Fatal(e)) => self.poisoned(Err(e)),
        };
        match moved {
            // Whether or not the checkpoint went through (a full disk
            // leaves the handle usable otherwise), no commit may follow
            // into a log that no recovery would read.
            Some(e) => {
                self.poison.set(&e);
                self.log.fail(&e.to_string());
                written.and(Err(e))
            }
            None => written,
        }
    }

    /// Checkpoints through `lsn`, with the commit latch held. Every
    /// failure poisons the handle, but one: the disk filling up while the
    /// pages are written, before any sync. Then nothing the durable meta
    /// page references was touched, memory is put back as it was (less the
    /// new free-list pages, more the catalog's changed copy, which the
    /// next checkpoint goes on from), and the handle stays usable.
    pub(crate) fn checkpoint_locked(&self, lsn: u64, force: bool) -> Result<()> {
        match self.checkpoint_steps(lsn, force, true, None) {
            Ok(()) => Ok(()),
            Err(CheckpointError::Clean(e)) => Err(e),
            Err(CheckpointError::Fatal(e)) => self.poisoned(Err(e)),
        }
    }

    fn checkpoint_steps(
        &self,
        lsn: u64,
        force: bool,
        open: bool,
        compact: Option<u64>,
    ) -> Result<(), CheckpointError> {
        let span = tracing::info_span!(
            target: "strata::checkpoint",
            "checkpoint",
            lsn,
            force,
            compact = compact.is_some(),
            pages = tracing::field::Empty,
            bytes = tracing::field::Empty,
        )
        .entered();
        let started = Instant::now();
        let mut st = self.tree.write();
        let vacuum = match compact {
            Some(_) => Some((st.pager.compact_limit(), Reach::All)),
            None => st.pager.vacuum_limit().map(|limit| (limit, Reach::Nodes)),
        };
        let nothing_changed = !force
            && st.meta.open_for_writing == open
            && st.meta.database_id == self.database_id
            && st.meta.checkpoint_lsn == lsn
            && !st.pager.has_changes()
            && st.tables.iter().all(|(_, t)| !t.changed)
            && vacuum.is_none();
        if nothing_changed {
            return Ok(());
        }
        let TreeState {
            pager,
            tables,
            catalog_root: current_catalog,
            ..
        } = &mut *st;
        let catalog_root = {
            let mut w = pager.writer(&self.cache, &*self.data);
            if let Some((limit, reach)) = vacuum {
                let ids: Vec<TableId> = tables.iter().map(|(id, _)| id).collect();
                for id in ids {
                    let root = tables.get(id).map_or(0, |t| t.root);
                    let moved = btree::relocate(&mut w, root, limit, reach)?;
                    tables.set_root(id, moved);
                }
            }
            let root = tables.save(&mut w, *current_catalog)?;
            match vacuum {
                Some((limit, reach)) => btree::relocate(&mut w, root, limit, reach)?,
                None => root,
            }
        };
        if compact.is_some() {
            pager.note_chains_moved();
        }
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
            open_for_writing: open,
            database_id: self.database_id,
        };
        let bytes = (pages.len() * self.page_size) as u64;
        span.record("pages", pages.len());
        span.record("bytes", bytes);
        // Readers may go on while the pages are written.
        let st = RwLockWriteGuard::downgrade(st);
        if let Err(e) = pager::write_pages(&*self.data, self.page_size, &pages) {
            drop(st);
            if matches!(e, Error::StorageFull(_)) {
                // No sync was tried, and only pages the durable meta page
                // does not reference were written (pager invariant 1).
                self.tree.write().pager.abort_checkpoint(plan);
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

        let mut st = self.tree.write();
        // Also replaces the mapping of the data file before it is cut
        // (`page/mapped_pages.rs`, invariant 3).
        st.pager.finish_checkpoint(plan, &self.cache, &*self.data);
        st.tables.saved();
        st.meta = new_meta;
        drop(st);
        self.checkpoints.fetch_add(1, Ordering::Relaxed);
        if new_meta.page_count < old_page_count {
            self.data
                .set_len(u64::from(new_meta.page_count) * ps as u64)?;
        }
        self.log.recycle(new_meta.log_salt, compact)?;
        tracing::info!(
            target: "strata::checkpoint",
            lsn,
            bytes,
            page_count = new_meta.page_count,
            elapsed_us = started.elapsed().as_micros() as u64,
            "checkpoint written"
        );
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

impl Drop for Store {
    fn drop(&mut self) {
        // A clean close leaves nothing to replay, and its meta page says
        // so (the open flag clear). Best effort: a failure here leaves a
        // database that recovery opens just as well, from its log.
        if self.poison.check().is_ok() && !self.read_only {
            let _ = self.checkpoint_vacuuming(false);
        }
    }
}
