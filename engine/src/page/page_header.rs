//! Pages: the fixed-size unit of the data file, and the header every page
//! shares.
//!
//! Every page but page 0 starts with the same 8 bytes:
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 4 | CRC32 of the page number (4 bytes LE) followed by bytes 4..page_size |
//! | 4 | 1 | page type (see [`PageType`]) |
//! | 5 | 3 | type-specific (zero unless the type says otherwise) |
//!
//! Mixing the page number into the checksum catches a page written to the
//! wrong place as surely as a flipped bit. Page 0 is the file header
//! (`file_header.rs`), pages 1 and 2 are the two meta pages (`meta.rs`).
//!
//! All integers in every on-disk structure are little-endian and fixed
//! width (`base/bytes.rs`).

use crate::base::bytes::get_u32;
use crate::error::{Error, Result};
use crate::storage::StorageFile;
use std::io;
use std::sync::Arc;

/// A page number: the page's byte offset divided by the page size.
pub(crate) type PageId = u32;

/// An immutable or uniquely owned page buffer (`page_size` bytes).
pub(crate) type PageBuf = Arc<[u8]>;

/// The two alternating meta pages.
pub(crate) const META_PAGES: [PageId; 2] = [1, 2];
/// The first page the allocator can hand out.
pub(crate) const FIRST_DATA_PAGE: PageId = 3;

/// Smallest page size a database can be created with.
///
/// ```
/// use strata_engine::{MAX_PAGE_SIZE, MIN_PAGE_SIZE, Options};
/// assert_eq!(Options::default().page_size, MIN_PAGE_SIZE);
/// assert!(MIN_PAGE_SIZE < MAX_PAGE_SIZE);
/// ```
pub const MIN_PAGE_SIZE: usize = 4096;
/// Largest page size a database can be created with (cell offsets are u16).
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use strata_engine::{Database, Error, MAX_PAGE_SIZE, Options};
/// let too_big = Options { page_size: 2 * MAX_PAGE_SIZE, ..Options::default() };
/// assert!(matches!(Database::open_with(dir.path().join("db"), too_big), Err(Error::InvalidOptions(_))));
/// ```
pub const MAX_PAGE_SIZE: usize = 32768;

/// What a page holds, byte 4 of every page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PageType {
    /// B+tree leaf: keys and values (`tree/node.rs`).
    Leaf = 1,
    /// B+tree interior node: separator keys and child pointers (`tree/node.rs`).
    Branch = 2,
    /// Part of a value too large to keep in its leaf (`tree/overflow.rs`).
    Overflow = 3,
    /// Part of the persisted free-page list (`free_list.rs`).
    FreeList = 4,
    /// One of the two meta pages (`meta.rs`).
    Meta = 5,
}

impl PageType {
    pub(crate) fn from_byte(b: u8) -> Option<PageType> {
        Some(match b {
            1 => PageType::Leaf,
            2 => PageType::Branch,
            3 => PageType::Overflow,
            4 => PageType::FreeList,
            5 => PageType::Meta,
            _ => return None,
        })
    }
}

/// A zeroed page buffer of `page_size` bytes, stamped with `ty`.
pub(crate) fn new_page(page_size: usize, ty: PageType) -> Vec<u8> {
    let mut p = vec![0u8; page_size];
    p[4] = ty as u8;
    p
}

/// Like [`new_page`], allocated once as a shared page buffer (a `Vec`
/// would be copied into the `Arc`).
pub(crate) fn new_page_buf(page_size: usize, ty: PageType) -> PageBuf {
    let mut p: PageBuf = std::iter::repeat_n(0u8, page_size).collect();
    if let Some(b) = Arc::get_mut(&mut p).and_then(|p| p.get_mut(4)) {
        *b = ty as u8;
    }
    p
}

/// The checksum of page `id` with contents `page`, as stored in bytes 0..4.
pub(crate) fn page_checksum(id: PageId, page: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&id.to_le_bytes());
    h.update(&page[4..]);
    h.finalize()
}

/// Writes the checksum of page `id` into its first four bytes.
pub(crate) fn seal(id: PageId, page: &mut [u8]) {
    let crc = page_checksum(id, page);
    page[0..4].copy_from_slice(&crc.to_le_bytes());
}

/// Checks the checksum and the page type of a page read from disk.
pub(crate) fn verify(id: PageId, page: &[u8], expect: &[PageType]) -> Result<PageType> {
    let stored = get_u32(page, 0).ok_or_else(|| Error::corrupt_page(id, "short page"))?;
    if stored != page_checksum(id, page) {
        return Err(Error::corrupt_page(id, "checksum mismatch"));
    }
    let ty = PageType::from_byte(page[4])
        .ok_or_else(|| Error::corrupt_page(id, format!("unknown page type {}", page[4])))?;
    if !expect.contains(&ty) {
        return Err(Error::corrupt_page(
            id,
            format!("expected a {expect:?} page, found {ty:?}"),
        ));
    }
    Ok(ty)
}

/// The type byte of a page this process built or validated.
pub(crate) fn page_type(page: &[u8]) -> Option<PageType> {
    PageType::from_byte(page[4])
}

/// Reads page `id` from the file and checks its checksum and that it is a
/// page of the tree area (leaf, branch, overflow or free-list). What a
/// leaf or branch page holds is checked by [`Pager::load`](crate::page::pager::Pager::load).
pub(crate) fn load(file: &dyn StorageFile, page_size: usize, id: PageId) -> Result<PageBuf> {
    let mut buf: PageBuf = std::iter::repeat_n(0u8, page_size).collect();
    let bytes = Arc::make_mut(&mut buf);
    read_exact(file, bytes, u64::from(id) * page_size as u64, id)?;
    verify(
        id,
        bytes,
        &[
            PageType::Leaf,
            PageType::Branch,
            PageType::Overflow,
            PageType::FreeList,
        ],
    )?;
    Ok(buf)
}

/// `read_at`, reporting a read past the end of the file as corruption of
/// page `id`.
pub(crate) fn read_exact(
    file: &dyn StorageFile,
    buf: &mut [u8],
    offset: u64,
    id: PageId,
) -> Result<()> {
    file.read_at(buf, offset).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::corrupt_page(id, "page lies beyond the end of the file")
        } else {
            Error::from(e)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_covers_page_number_and_contents() {
        let mut p = new_page(4096, PageType::Leaf);
        p[100] = 7;
        seal(9, &mut p);
        assert_eq!(verify(9, &p, &[PageType::Leaf]).unwrap(), PageType::Leaf);
        // The same bytes at another page number fail.
        assert!(verify(10, &p, &[PageType::Leaf]).is_err());
        // A flipped bit fails.
        p[100] ^= 1;
        assert!(verify(9, &p, &[PageType::Leaf]).is_err());
        p[100] ^= 1;
        // The wrong type fails.
        assert!(verify(9, &p, &[PageType::Branch]).is_err());
    }
}
