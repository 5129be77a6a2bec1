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
//! | 52 | 4 | flags: bit 0 = open for writing (below); bits 1..31 zero |
//! | 56 | 8 | log salt: the generation of the log that continues this checkpoint |
//! | 64 | 8 | database id: random, never 0, chosen when the database is created (format version 2: zero) |
//! | 72 | .. | zero |
//!
//! THE DATABASE ID AND THE OPEN FLAG (format version 3)
//!
//! The database id ties the log to the data file: the log's header
//! carries it too (`log/wal.rs`), so opening can tell the database's own
//! log from another database's that was put at its path. Every meta page
//! of a database carries the same id.
//!
//! The open flag says whether commits may follow this checkpoint in the
//! log. The checkpoint that every writable open runs sets it, and so does
//! every checkpoint while the handle is open; the closing checkpoint of a
//! clean close clears it, and nothing is appended to the log after that.
//! So a meta page without the flag is the whole database: its log may be
//! missing or hold only frames of earlier generations without anything
//! being lost. A meta page with the flag needs its own log, since commits
//! after its checkpoint may be only there (`db/log_file.rs` decides what
//! opening does with the log it finds).
//!
//! Meta pages written by format version 2 have zeros in both fields: id
//! 0 names no database, and such a page is read as needing its log
//! ([`Meta::commits_may_follow`]). A writable open gives the database an
//! id at its first checkpoint.
use crate::base::bytes::{get_u32, get_u64, put_u32, put_u64};
use crate::error::{Error, Result};
use crate::page::free_list::FreeListRoot;
use crate::page::page_header::{self, FIRST_DATA_PAGE, META_PAGES, PageId, PageType};

/// A new database id: random, and never 0, which names no database.
pub(crate) fn new_database_id() -> u64 {
    loop {
        let id = crate::log::wal::new_salt();
        if id != 0 {
            return id;
        }
    }
}

/// Bit 0 of the flags: commits may follow this checkpoint in the log.
const FLAG_OPEN: u32 = 1;

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
    /// Commits may follow this checkpoint in the log (bit 0 of the flags).
    pub open_for_writing: bool,
    /// The database's id; 0 in a meta page of format version 2.
    pub database_id: u64,
}

impl Meta {
    /// The meta of a new, empty database `database_id`, closed, whose log
    /// generation has salt `log_salt`.
    pub(crate) fn empty(log_salt: u64, database_id: u64) -> Meta {
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
            open_for_writing: false,
            database_id,
        }
    }

    /// Whether commits may exist after this checkpoint, in the log only:
    /// the open flag is set, or the page predates it (format version 2).
    pub(crate) fn commits_may_follow(&self) -> bool {
        self.open_for_writing || self.database_id == 0
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
        put_u32(&mut p, 52, u32::from(self.open_for_writing));
        put_u64(&mut p, 56, self.log_salt);
        put_u64(&mut p, 64, self.database_id);
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
            open_for_writing: field32(52)? & FLAG_OPEN != 0,
            database_id: field64(64)?,
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
        let mut m = Meta::empty(42, 7);
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

    #[test]
    fn the_open_flag_and_the_database_id() {
        let mut m = Meta::empty(42, 0x1D);
        assert!(!m.commits_may_follow());
        m.open_for_writing = true;
        let p = m.encode(4096);
        assert_eq!((p[52], &p[64..72]), (1, &0x1Du64.to_le_bytes()[..]));
        let back = Meta::decode(1, &p).unwrap();
        assert_eq!(back, m);
        assert!(back.commits_may_follow());
        // A version-2 meta page: zeros in both fields, read as needing its
        // log.
        let v2 = Meta::empty(42, 0);
        assert_eq!(Meta::decode(1, &v2.encode(4096)).unwrap(), v2);
        assert!(v2.commits_may_follow());
    }
}
