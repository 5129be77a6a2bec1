//! The log, the layer above storage: what a commit writes, and what
//! recovery reads back.
//!
//! * `log_record.rs`: the redo record of one transaction (create table,
//!   put, delete).
//! * `wal.rs`: the log file: its header, checksummed frames, generations
//!   and their salts, and the recovery scan.
//! * `group_commit.rs`: [`LogWriter`](group_commit::LogWriter), which
//!   appends frames and lets concurrent committers share writes and syncs.
//!
//! Owns: the bytes of the log file (`<path>-wal`), and when they are
//! durable.
//!
//! May use: `storage/`, `base/`, `error.rs`. Not pages, not the tree: a
//! record names tables by id and keys by their bytes, and what applying it
//! means is the store's business (`store/commit.rs`).

pub(crate) mod group_commit;
pub(crate) mod log_record;
pub(crate) mod wal;
