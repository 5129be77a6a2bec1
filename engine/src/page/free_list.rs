//! The persisted list of free pages: a chain of free-list pages written by
//! each checkpoint.
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 4 | CRC32 (page header) |
//! | 4 | 1 | page type 4 |
//! | 5 | 3 | zero |
//! | 8 | 4 | next free-list page, 0 on the last |
//! | 12 | 4 | number of entries `n` on this page |
//! | 16 | 4n | free page numbers, ascending across the chain |
//!
//! The meta page records the head, the number of chain pages and the total
//! number of entries, so a reader knows exactly how far to follow.

use crate::base::bytes::{get_u32, put_u32};
use crate::error::{Error, Result};
use crate::page::page_header::{self, FIRST_DATA_PAGE, PageId, PageType, load};
use crate::storage::StorageFile;
use std::collections::BTreeSet;

const HEADER: usize = 16;

/// Where a checkpoint left the free list; goes into the meta page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FreeListRoot {
    pub head: PageId,
    pub pages: u32,
    pub entries: u64,
}

/// How many page numbers one free-list page holds.
pub(crate) fn ids_per_page(page_size: usize) -> usize {
    (page_size - HEADER) / 4
}

/// One free-list page holding `ids`, linked to `next`.
pub(crate) fn encode(page_size: usize, next: PageId, ids: &[PageId]) -> Vec<u8> {
    debug_assert!(ids.len() <= ids_per_page(page_size));
    let mut p = page_header::new_page(page_size, PageType::FreeList);
    put_u32(&mut p, 8, next);
    put_u32(&mut p, 12, ids.len() as u32);
    for (i, id) in ids.iter().enumerate() {
        put_u32(&mut p, HEADER + 4 * i, *id);
    }
    p
}

/// Reads the chain at `root`: the free page numbers and the chain's pages.
pub(crate) fn read(
    file: &dyn StorageFile,
    page_size: usize,
    page_count: PageId,
    root: FreeListRoot,
) -> Result<(BTreeSet<PageId>, Vec<PageId>)> {
    let mut free = BTreeSet::new();
    let mut chain = Vec::new();
    let in_range = |id: PageId| (FIRST_DATA_PAGE..page_count).contains(&id);
    let mut next = root.head;
    for _ in 0..root.pages {
        if !in_range(next) {
            return Err(Error::corrupt_page(
                next,
                "free-list chain points outside the file",
            ));
        }
        let id = next;
        if chain.contains(&id) {
            return Err(Error::corrupt_page(id, "free-list chain loops"));
        }
        let p = load(file, page_size, id)?;
        if page_header::page_type(&p) != Some(PageType::FreeList) {
            return Err(Error::corrupt_page(id, "expected a free-list page"));
        }
        chain.push(id);
        next = get_u32(&p, 8).unwrap_or(0);
        let n = get_u32(&p, 12).unwrap_or(u32::MAX) as usize;
        if n > ids_per_page(page_size) {
            return Err(Error::corrupt_page(id, format!("{n} free-list entries")));
        }
        for i in 0..n {
            let e = get_u32(&p, HEADER + 4 * i).unwrap_or(0);
            if !in_range(e) || !free.insert(e) {
                return Err(Error::corrupt_page(
                    id,
                    format!("bad or repeated free page number {e}"),
                ));
            }
        }
    }
    if next != 0 || free.len() as u64 != root.entries {
        return Err(Error::corrupt_page(
            root.head,
            format!(
                "free list holds {} entries in {} pages, the meta page says {} in {}",
                free.len(),
                chain.len(),
                root.entries,
                root.pages
            ),
        ));
    }
    if let Some(&dup) = chain.iter().find(|id| free.contains(id)) {
        return Err(Error::corrupt_page(dup, "free-list page listed as free"));
    }
    Ok((free, chain))
}
