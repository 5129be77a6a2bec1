//! Compaction: the data file cut down to about its live pages, and the
//! log back to its preallocated size (`Database::compact`).
//!
//! THE PASSES
//!
//! 1. A checkpoint, so that every page freed since the last one is free
//!    now (until then it belongs to the durable tree, and nothing may
//!    move into it).
//! 2. Compaction passes, each one checkpoint (`checkpoint_steps` with
//!    `compact`): every tree node and every overflow chain with a page at
//!    or above `Pager::compact_limit` (the live pages, plus 1/64 of them
//!    and 2 for the parents that moving a child copies) moves to the lowest
//!    free page numbers; the checkpoint writes them, its meta page makes
//!    the move durable, and the free tail of the file is cut off. A parent
//!    below the limit that is copied leaves its old number pending, free
//!    only after that pass, so a pass can run out of free pages below the
//!    limit; the next pass goes on from there. Passes stop when the file is
//!    within the limit (and the log within its size), when one gains
//!    nothing, or after `MAX_PASSES`.
//! 3. The last pass starts a new log generation like any checkpoint and
//!    cuts the log back to the preallocated size (`LogWriter::recycle`).
//!
//! CRASH SAFETY
//!
//! Every pass is an ordinary checkpoint: pages move copy-on-write into
//! pages the durable meta page does not reference (pager invariant 1),
//! the meta page is the commit point, and the file is cut only after it
//! is durable, below every page it references. Cutting the log happens
//! after the meta page of a new generation is durable, when no frame in
//! the log is needed; it is not synced, and a longer log after a crash is
//! harmless. So a crash at any point recovers the state before or after a
//! pass, with the same contents: compaction changes where pages are, never
//! what the tree holds.
//!
//! WHO WAITS
//!
//! Compaction holds the checkpoint lock throughout, so no other checkpoint
//! runs (a commit that finds the log over its threshold leaves it to the
//! next one; a commit too large for the log waits). Each pass holds the
//! commit latch while it relocates and writes, like any checkpoint: commits
//! wait for one pass at a time, and readers go on.

use crate::error::Result;
use crate::store::shared::Store;

/// Compaction gives up after this many passes (two are usual: the second
/// fills the holes the first one's copied parents left).
const MAX_PASSES: usize = 6;

/// The files' sizes before and after a compaction, in bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    pub data_before: u64,
    pub data_after: u64,
    pub log_before: u64,
    pub log_after: u64,
}

impl Store {
    /// Compacts the data file and cuts the log back to `log_keep` bytes
    /// (THE PASSES above).
    pub(crate) fn compact(&self, log_keep: u64) -> Result<Sizes> {
        let _ck = self.checkpoint_lock.lock();
        self.poison.check()?;
        let log_before = self.log.file_len()?;
        // The data file's size once it holds everything committed: before
        // this checkpoint, a new database's pages may be only in the log.
        self.checkpoint_held(false)?;
        let data_before = self.data.len()?;
        for _ in 0..MAX_PASSES {
            let (before, limit) = {
                let st = self.tree.read();
                (st.pager.page_count(), st.pager.compact_limit())
            };
            // A pass over a file already compact only moves its free-list
            // page about; it runs for the log alone.
            if before <= limit && self.log.file_len()? <= log_keep {
                break;
            }
            self.checkpoint_with(true, true, Some(log_keep))?;
            if self.tree.read().pager.page_count() >= before {
                break;
            }
        }
        Ok(Sizes {
            data_before,
            data_after: self.data.len()?,
            log_before,
            log_after: self.log.file_len()?,
        })
    }
}
