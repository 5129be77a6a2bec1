//! The two meta pages (pages 1 and 2): the root of everything durable.
//!
//! A checkpoint writes the older of the two, so the newer one survives a
//! torn meta write. On open, the valid page with the higher sequence
//! number wins.
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 4 | CRC32 (page header) |
//! | 4 | 1 | page type 5 |
//! | 5 | 3 | zero |
//! | 8 | 8 | sequence number, +1 per checkpoint |
//! | 16 | 8 | checkpoint LSN: every transaction up to it is in the tree |
//! | 24 | 4 | catalog root page (0 = no tables) |
//! | 28 | 4 | page count: pages `0..page_count` are in use or free |
//! | 32 | 4 | free-list head page (0 = empty) |
//! | 36 | 4 | free-list pages in the chain |
//! | 40 | 8 | free-list entries |
//! | 48 | 4 | next table id |
//! | 52 | 4 | zero |
//! | 56 | 8 | log salt: the generation of the log that continues this checkpoint |
//! | 64 | .. | zero |

use crate::base::bytes::{get_u32, get_u64, put_u32, put_u64};
use crate::error::{Error, Result};
use crate::page::free_list::FreeListRoot;
use crate::page::page_header::{self, FIRST_DATA_PAGE, META_PAGES, PageId, PageType};

/// The contents of a meta page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub sequence: u64,
    pub checkpoint_lsn: u64,
    pub catalog_root: PageId,
    pub page_count: PageId,
    pub free_list: FreeListRoot,
    pub next_table_id: u32,
    pub log_salt: u64,
}

impl Meta {
    /// The meta of a new, empty database whose log has salt `log_salt`.
    pub(crate) fn empty(log_salt: u64) -> Meta {
        Meta {
            sequence: 0,
            checkpoint_lsn: 0,
            catalog_root: 0,
            page_count: FIRST_DATA_PAGE,
            free_list: FreeListRoot {
                head: 0,
                pages: 0,
                entries: 0,
            },
            next_table_id: 1,
            log_salt,
        }
    }

    /// The meta page this meta is written to.
    pub(crate) fn slot(&self) -> PageId {
        META_PAGES[(self.sequence % 2) as usize]
    }

    /// Encodes and seals the page for [`Meta::slot`].
    pub(crate) fn encode(&self, page_size: usize) -> Vec<u8> {
        let mut p = page_header::new_page(page_size, PageType::Meta);
        put_u64(&mut p, 8, self.sequence);
        put_u64(&mut p, 16, self.checkpoint_lsn);
        put_u32(&mut p, 24, self.catalog_root);
        put_u32(&mut p, 28, self.page_count);
        put_u32(&mut p, 32, self.free_list.head);
        put_u32(&mut p, 36, self.free_list.pages);
        put_u64(&mut p, 40, self.free_list.entries);
        put_u32(&mut p, 48, self.next_table_id);
        put_u64(&mut p, 56, self.log_salt);
        page_header::seal(self.slot(), &mut p);
        p
    }

    /// Decodes meta page `id`, checking its checksum and that its fields
    /// are consistent with each other.
    pub(crate) fn decode(id: PageId, p: &[u8]) -> Result<Meta> {
        page_header::verify(id, p, &[PageType::Meta])?;
        let bad = |what: &str| Error::corrupt_page(id, what.to_string());
        let field32 = |o| get_u32(p, o).ok_or_else(|| bad("short meta page"));
        let field64 = |o| get_u64(p, o).ok_or_else(|| bad("short meta page"));
        let m = Meta {
            sequence: field64(8)?,
            checkpoint_lsn: field64(16)?,
            catalog_root: field32(24)?,
            page_count: field32(28)?,
            free_list: FreeListRoot {
                head: field32(32)?,
                pages: field32(36)?,
                entries: field64(40)?,
            },
            next_table_id: field32(48)?,
            log_salt: field64(56)?,
        };
        if m.slot() != id {
            return Err(bad("sequence number does not belong to this meta page"));
        }
        let in_tree = |p: PageId| (FIRST_DATA_PAGE..m.page_count).contains(&p);
        if m.page_count < FIRST_DATA_PAGE
            || (m.catalog_root != 0 && !in_tree(m.catalog_root))
            || (m.free_list.pages != 0 && !in_tree(m.free_list.head))
            || (m.free_list.pages == 0) != (m.free_list.head == 0)
            || u64::from(m.free_list.pages) + m.free_list.entries > u64::from(m.page_count)
        {
            return Err(bad("meta fields out of range"));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_alternates_slots() {
        let mut m = Meta::empty(42);
        m.sequence = 7;
        m.checkpoint_lsn = 99;
        m.page_count = 50;
        m.catalog_root = 12;
        let p = m.encode(4096);
        assert_eq!(m.slot(), 2);
        assert_eq!(Meta::decode(2, &p).unwrap(), m);
        // The same bytes claimed as the other slot are refused.
        assert!(Meta::decode(1, &p).is_err());
        let mut q = p.clone();
        q[30] ^= 1;
        assert!(Meta::decode(2, &q).is_err());
    }
}
