//! Pages, the layer between the file and the tree: the fixed-size unit of
//! the data file, what every page shares, the two kinds of special pages,
//! and the pager that hands pages to the tree copy-on-write.
//!
//! * `page_header.rs`: the header every page shares, page types, the
//!   checksum rule, and reading one page from the file.
//! * `file_header.rs`: page 0, the file header and format version.
//! * `meta.rs`: pages 1 and 2, the alternating meta pages.
//! * `free_list.rs`: the persisted list of free pages.
//! * `page_cache.rs`: the bounded cache of clean pages.
//! * `mapped_pages.rs`: clean pages read in place from a read-only
//!   mapping of the data file, checked once each.
//! * `pager.rs`: copy-on-write allocation, dirty pages, free and pending
//!   pages, and the checkpoint plan; the [`Pages`](pager::Pages) and
//!   [`PagesMut`](pager::PagesMut) traits the tree reads and writes
//!   through.
//!
//! Owns: everything about a page but what a leaf or branch page holds
//! (the tree layer's, which gives the pager its structural check, see
//! [`NodeCheck`](pager::NodeCheck)).
//!
//! May use: `storage/`, `base/`, `error.rs`. Never the log: the pager does
//! not know that a log exists (the database handle orders log and page
//! writes, the write-ahead rule, at checkpoints).

pub(crate) mod file_header;
pub(crate) mod free_list;
pub(crate) mod mapped_pages;
pub(crate) mod meta;
pub(crate) mod page_cache;
pub(crate) mod page_header;
pub(crate) mod pager;
