//! The tree, the layer above pages: ordered keys and values in B+trees,
//! one per table, and the catalog that names them.
//!
//! * `node.rs`: the slotted layout of leaf and branch pages, and their
//!   structural check (which the pager runs on every page it reads).
//! * `overflow.rs`: chains of overflow pages for large values.
//! * `btree.rs`: get, insert, delete and relocate; the balance rules and
//!   the tree's invariants.
//! * `cursor.rs`: [`Cursor`](cursor::Cursor), the one way to walk a
//!   tree's entries in order, in either direction, holding no latch
//!   between leaves.
//! * `catalog.rs`: table names, ids and roots, in memory and as a B+tree
//!   on disk.
//!
//! Owns: what leaf, branch and overflow pages hold, and the shape of
//! every tree.
//!
//! May use: `page/` (through the `Pages` and `PagesMut` traits of
//! `page/pager.rs`), `storage/` (only to pin branch pages at open),
//! `base/`, `error.rs`. Never the log: a tree is changed by whoever holds
//! it, and what is durable is decided above.

pub(crate) mod btree;
pub(crate) mod catalog;
pub(crate) mod cursor;
pub(crate) mod node;
pub(crate) mod overflow;
