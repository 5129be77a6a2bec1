//! Clean pages read in place from a read-only mapping of the data file.
//!
//! LMDB reaches a page by adding its offset to the address of its mapping;
//! Strata's page cache costs a shard mutex, a table lookup and a reference
//! count on every hit, and on a miss a `pread`, an allocation and an
//! insertion. With the data file mapped, a read of a clean page that was
//! already checked is a bounds check, one relaxed atomic load and a slice
//! of the mapping: no lock, no count, no copy, and no second copy of the
//! file in memory (the operating system's page cache is the only one).
//!
//! TRUST
//!
//! Mapped bytes are trusted only once checked: the first read of a page
//! number reads it with `pread` (`Pager::load`: checksum, type, and the
//! tree's structural check for nodes), and only then sets the page's bit
//! in `checked`. The bit is cleared before this process writes the page
//! number again. A page damaged on disk before its first read is caught
//! by its checksum there, as with the cache. Reading the first time with
//! `pread` rather than through the mapping also means that a file cut
//! short underneath by another process gives `Corruption` on every page
//! not yet read, not SIGBUS.
//!
//! WHO HOLDS WHAT
//!
//! The mapping belongs to the pager, which lives under the tree latch.
//! Every reader that borrows a mapped page holds the shared tree latch for
//! as long as it holds the borrow (a page a cursor keeps past the latch is
//! copied, `tree/cursor.rs`); replacing the mapping takes `&mut Pager`, the
//! exclusive latch, so no borrow outlives the mapping it came from.
//!
//! INVARIANTS
//!
//! 1. A set bit means the file's bytes at that page number passed
//!    `Pager::load`'s checks after this process last wrote them, or are
//!    the sealed page this process itself wrote there from its dirty map
//!    and a checkpoint made durable (`Pager::finish_checkpoint`: the
//!    pages a checkpoint writes are read in place at once, as the cache
//!    kept them before the mapping).
//! 2. The pager clears a page's bit before writing the page number
//!    (`Pager::prepare_checkpoint`, `Pager::write_back`), under the
//!    exclusive tree latch; those page numbers are dirty until the
//!    checkpoint ends, so no reader sets their bits again from the old
//!    bytes (readers find dirty pages in the dirty map).
//! 3. The mapping never reaches past the end of the file: it is made no
//!    longer than the file (`StorageFile::map`), grows only to pages the
//!    file already holds, and a checkpoint that shrinks the file replaces
//!    it with a shorter one, under the exclusive tree latch, before the
//!    file is cut (`store/checkpoint.rs`).
//! 4. Pages at or past `usable` are never read through the mapping.
//!    Another process ignoring the lock may cut the file; as SQLite does
//!    for its memory-mapped I/O, every transaction begins by comparing the
//!    file's length with the mapping (`MappedPages::trim_to_file`, one
//!    `fstat`), and lowers `usable` to the pages the file still holds, so
//!    the pages cut off are read with `pread` again and give `Corruption`
//!    or `Io`, not SIGBUS. A cut in the middle of a transaction that
//!    then reads a page it had already read in place can still raise
//!    SIGBUS: that window is the price of reading in place (`UNSAFE.md`).

use crate::page::page_header::PageId;
use crate::storage::{Mapping, StorageFile};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The first `pages` pages of the data file, mapped, with a bit per page
/// saying whether its bytes were checked.
#[derive(Debug)]
pub(crate) struct MappedPages {
    map: Mapping,
    page_size: usize,
    pages: PageId,
    /// The pages the file was last seen to hold, at most `pages`
    /// (invariant 4).
    usable: AtomicU32,
    checked: Box<[AtomicU64]>,
}

impl MappedPages {
    /// Maps the first `pages` pages of `file`, keeping the bits of `old`
    /// for the pages both cover (invariant 1 is about the file, not the
    /// mapping). `None` if the file cannot be mapped (the simulated disk),
    /// is shorter than that (invariant 3), or `pages` is 0.
    pub(crate) fn map(
        file: &dyn StorageFile,
        page_size: usize,
        pages: PageId,
        old: Option<MappedPages>,
    ) -> std::io::Result<Option<MappedPages>> {
        let Some(map) = file.map(u64::from(pages) * page_size as u64)? else {
            return Ok(None);
        };
        let words = (pages as usize).div_ceil(64);
        let mut checked: Box<[AtomicU64]> = (0..words).map(|_| AtomicU64::new(0)).collect();
        if let Some(old) = old {
            for (new, old) in checked.iter_mut().zip(old.checked.iter()) {
                *new.get_mut() = old.load(Ordering::Relaxed);
            }
            if let Some(last) = checked.last_mut() {
                // Bits past `pages` (of pages the old mapping held).
                let tail = pages as usize % 64;
                if tail != 0 {
                    *last.get_mut() &= (1u64 << tail) - 1;
                }
            }
        }
        Ok(Some(MappedPages {
            map,
            page_size,
            pages,
            usable: AtomicU32::new(pages),
            checked,
        }))
    }

    /// How many pages the mapping holds.
    pub(crate) fn pages(&self) -> PageId {
        self.pages
    }

    /// Whether page `id` lies in the mapping.
    #[inline]
    pub(crate) fn covers(&self, id: PageId) -> bool {
        id < self.pages
    }

    /// The bytes of page `id` if they were checked (invariant 1) and the
    /// file still holds them (invariant 4).
    #[inline]
    pub(crate) fn checked(&self, id: PageId) -> Option<&[u8]> {
        if id >= self.usable.load(Ordering::Relaxed) {
            return None;
        }
        let (word, bit) = (id as usize / 64, id % 64);
        if self.checked.get(word)?.load(Ordering::Relaxed) & (1 << bit) == 0 {
            return None;
        }
        let at = id as usize * self.page_size;
        self.map.bytes().get(at..at + self.page_size)
    }

    /// Records that page `id`'s bytes in the file passed the checks.
    pub(crate) fn set_checked(&self, id: PageId) {
        if let Some(w) = self.checked.get(id as usize / 64) {
            w.fetch_or(1 << (id % 64), Ordering::Relaxed);
        }
    }

    /// Stops reading in place the pages `file` no longer holds, if
    /// another process cut it (invariant 4); all of them if its length
    /// cannot be read. Never raises `usable` again: a mapping is replaced
    /// only by `Pager::remap`, which makes a new one no longer than the file.
    pub(crate) fn trim_to_file(&self, file: &dyn StorageFile) {
        let held = file
            .len()
            .map_or(0, |len| len / self.page_size as u64)
            .min(u64::from(self.pages)) as PageId;
        self.usable.fetch_min(held, Ordering::Relaxed);
    }

    /// Forgets that page `id` was checked, before it is written
    /// (invariant 2).
    pub(crate) fn forget(&self, id: PageId) {
        if let Some(w) = self.checked.get(id as usize / 64) {
            w.fetch_and(!(1 << (id % 64)), Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{OpenMode, RealVfs, SimVfs, Vfs};

    /// Bits are kept for the pages both mappings cover and only for
    /// those; a page is readable only once checked; the mapping never
    /// reaches past the end of the file (invariants 1 and 3).
    #[test]
    fn bits_survive_remapping_and_the_mapping_stays_inside_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = RealVfs
            .open(&dir.path().join("f"), OpenMode::CreateNew)
            .unwrap();
        let ps = 4096;
        file.write_at(&vec![7u8; 100 * ps], 0).unwrap();
        assert!(MappedPages::map(&*file, ps, 101, None).unwrap().is_none());
        let m = MappedPages::map(&*file, ps, 100, None).unwrap().unwrap();
        assert_eq!(m.pages(), 100);
        assert!(m.checked(5).is_none());
        for id in [5, 63, 64, 70, 99] {
            m.set_checked(id);
        }
        m.forget(63);
        assert_eq!(m.checked(5).map(|p| (p.len(), p[0])), Some((ps, 7)));
        assert!(m.checked(63).is_none());
        assert!(!m.covers(100));
        // Shorter: page 70 and 99 fall outside, and their bits go.
        let m = MappedPages::map(&*file, ps, 66, Some(m)).unwrap().unwrap();
        assert!(m.checked(5).is_some() && m.checked(64).is_some());
        file.write_at(&vec![8u8; 100 * ps], 0).unwrap();
        // Longer again: the bits of 70 and 99 did not come back.
        let m = MappedPages::map(&*file, ps, 100, Some(m)).unwrap().unwrap();
        assert!(m.checked(70).is_none() && m.checked(99).is_none());
        assert_eq!(
            m.checked(64).map(|p| p[0]),
            Some(8),
            "shared: sees the writes"
        );
        // Cut underneath: the pages past the new end are no longer read in
        // place, and do not come back when the file grows again.
        m.set_checked(80);
        m.set_checked(95);
        file.set_len(90 * ps as u64).unwrap();
        m.trim_to_file(&*file);
        assert!(m.checked(64).is_some() && m.checked(95).is_none());
        assert!(m.checked(80).is_some(), "still inside the file");
        file.set_len(50 * ps as u64).unwrap();
        m.trim_to_file(&*file);
        assert!(m.checked(64).is_none() && m.checked(5).is_some());
        file.set_len(100 * ps as u64).unwrap();
        m.trim_to_file(&*file);
        assert!(m.checked(64).is_none());
        // The simulated disk maps nothing.
        let sim = SimVfs::new(1);
        let f = sim
            .open(std::path::Path::new("/f"), OpenMode::CreateNew)
            .unwrap();
        f.write_at(&vec![0u8; ps], 0).unwrap();
        assert!(MappedPages::map(&*f, ps, 1, None).unwrap().is_none());
    }
}
