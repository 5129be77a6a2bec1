//! The store, the layer between the tree and transactions: the one
//! committed state every transaction of a handle shares, and the two ways
//! it changes, commit and checkpoint.
//!
//! * `shared.rs`: [`Store`](shared::Store), the parts of a handle below
//!   its transactions (the data file, the log writer, the page cache, the
//!   tree latch over the pager and the catalog, the commit latch), and the
//!   reads transactions make through it.
//! * `commit.rs`: appending a transaction's redo record and applying it
//!   to the tree (the same code recovery runs), and waiting until it is
//!   durable.
//! * `checkpoint.rs`: writing the changed pages and a new meta page, and
//!   starting the log over.
//! * `compact.rs`: compaction, passes of checkpoints that move live
//!   pages and overflow chains down and cut the file's free tail off.
//! * `versions.rs`: snapshots, and the before-images of changed keys
//!   that read-only transactions read the live tree through.
//! * `poison.rs`: the flag a failed write or sync sets, which every call
//!   checks.
//! * `durability.rs`: [`Durability`](durability::Durability), when a
//!   commit counts as done.
//!
//! Owns: the latches that order commits, checkpoints and tree reads (see
//! ARCHITECTURE.md, Latches), and the write-ahead rule: no page reaches
//! the data file before the log records of its changes are durable.
//!
//! May use: `tree/`, `page/`, `log/`, `storage/`, `base/`, `error.rs`.
//! Knows nothing of locks or of a transaction's private writes: a
//! transaction hands it a finished redo record.

pub(crate) mod checkpoint;
pub(crate) mod commit;
pub(crate) mod compact;
pub(crate) mod durability;
pub(crate) mod poison;
pub(crate) mod shared;
pub(crate) mod versions;
