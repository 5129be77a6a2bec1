//! Values too large for a leaf live in a chain of overflow pages.
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 4 | CRC32 (page header) |
//! | 4 | 1 | page type 3 |
//! | 5 | 3 | zero |
//! | 8 | 4 | next page of the chain, 0 on the last |
//! | 12 | 4 | value bytes on this page `n` |
//! | 16 | n | value bytes |
//!
//! The leaf cell records the chain's first page and the value's total
//! length, so a reader knows how many pages to expect and stops there:
//! a damaged chain cannot make it loop or read more than the value.

use crate::base::bytes::{put_u32, u32_at};
use crate::error::{Error, Result};
use crate::page::page_header::{PageId, PageType};
use crate::page::pager::{Pages, PagesMut};

const HEADER: usize = 16;

fn per_page(page_size: usize) -> usize {
    page_size - HEADER
}

/// Number of overflow pages a value of `len` bytes takes.
pub(crate) fn pages_for(page_size: usize, len: usize) -> usize {
    len.div_ceil(per_page(page_size))
}

/// Stores `value` in a new chain and returns its first page.
pub(crate) fn write(w: &mut impl PagesMut, value: &[u8]) -> Result<PageId> {
    let per = per_page(w.page_size());
    let chunks: Vec<&[u8]> = value.chunks(per).collect();
    let mut ids = Vec::with_capacity(chunks.len());
    for _ in &chunks {
        ids.push(w.alloc(PageType::Overflow)?);
    }
    for (i, chunk) in chunks.iter().enumerate() {
        let next = ids.get(i + 1).copied().unwrap_or(0);
        let p = w.page_mut(ids[i]);
        put_u32(p, 8, next);
        put_u32(p, 12, chunk.len() as u32);
        p[HEADER..HEADER + chunk.len()].copy_from_slice(chunk);
    }
    Ok(ids[0])
}

/// Calls `each(page, bytes)` for every page of the chain at `first`
/// holding a value of `len` bytes, checking the chain's shape.
fn walk(
    r: &impl Pages,
    first: PageId,
    len: u32,
    mut each: impl FnMut(PageId, &[u8]),
) -> Result<()> {
    let per = per_page(r.page_size());
    let expect = pages_for(r.page_size(), len as usize);
    let mut id = first;
    let mut left = len as usize;
    for i in 0..expect {
        let p = r.read(id, &[PageType::Overflow])?;
        let next = u32_at(&p, 8);
        let n = u32_at(&p, 12) as usize;
        let want = left.min(per);
        if n != want || (i + 1 == expect) != (next == 0) {
            return Err(Error::corrupt_page(
                id,
                format!("overflow page holds {n} bytes, expected {want}; chain link {next}"),
            ));
        }
        each(id, &p[HEADER..HEADER + n]);
        left -= n;
        id = next;
    }
    Ok(())
}

/// Appends the value stored in the chain at `first` to `out`.
pub(crate) fn read(r: &impl Pages, first: PageId, len: u32, out: &mut Vec<u8>) -> Result<()> {
    out.reserve(len as usize);
    walk(r, first, len, |_, bytes| out.extend_from_slice(bytes))
}

/// The page numbers of the chain at `first` (for freeing and checking).
pub(crate) fn chain(r: &impl Pages, first: PageId, len: u32) -> Result<Vec<PageId>> {
    let mut ids = Vec::new();
    walk(r, first, len, |id, _| ids.push(id))?;
    Ok(ids)
}

/// Frees the chain at `first`.
pub(crate) fn free(w: &mut impl PagesMut, first: PageId, len: u32) -> Result<()> {
    for id in chain(w, first, len)? {
        w.free(id);
    }
    Ok(())
}
