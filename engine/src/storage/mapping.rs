//! A read-only mapping of the start of a file.
//!
//! The pager reads clean pages of the data file in place through it
//! (`page/mapped_pages.rs`), as LMDB does, instead of copying them into
//! a cache of its own. Only the real file system maps (`file.rs`); the
//! simulated disk keeps its bytes in its own buffers and maps nothing, so
//! the crash suites read every page through `read_at` and the page cache.
//!
//! WHAT THE HOLDER PROMISES
//!
//! A mapped byte may be read only while the file is at least as long as
//! the mapping: reading past the end of a file that shrank raises SIGBUS.
//! Strata never shrinks the data file while a mapping of it reaches past
//! the new end (the pager replaces the mapping first, under the tree
//! latch, which every reader of the mapping holds). Another process
//! ignoring the exclusive lock on the file could; see `UNSAFE.md`.

/// The first `len` bytes of a file, mapped read-only and shared.
pub struct Mapping(memmap2::Mmap);

impl Mapping {
    pub(crate) fn new(map: memmap2::Mmap) -> Mapping {
        Mapping(map)
    }

    /// The mapped bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mapping({} bytes)", self.0.len())
    }
}
