//! Transactions, the layer above the store: what one transaction sees and
//! may do, and how transactions are kept apart.
//!
//! * `lock_table.rs`: [`LockManager`](lock_table::LockManager), strict
//!   two-phase locking of tables, keys and names, with deadlock detection.
//! * `write_set.rs`: a transaction's private writes to one table: in
//!   memory, and in sorted runs once they outgrow the memory limit.
//! * `spill.rs`: [`Spill`](spill::Spill), the runs and the scratch file
//!   they live in.
//! * `transaction.rs`: [`Transaction`](transaction::Transaction): reads,
//!   writes, the locks each takes, escalation, commit and rollback.
//! * `range.rs`: [`Range`](range::Range), a range read: the tree's cursors
//!   merged with the transaction's own writes.
//!
//! Owns: every transaction's private state and its locks.
//!
//! May use: `store/` (the committed state: tree reads, the commit path),
//! `storage/` (the scratch file of spilled writes),
//! `tree/` (B+tree reads and cursors over the pages the store lends),
//! `log/` (the redo record a commit hands the store), `base/`,
//! `error.rs`.

pub(crate) mod lock_table;
pub(crate) mod range;
pub(crate) mod spill;
pub(crate) mod transaction;
pub(crate) mod write_set;
