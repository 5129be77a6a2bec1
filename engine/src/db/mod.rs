//! The database handle, the top layer: opening (creating the files,
//! recovering), the public [`Database`](database::Database), and the
//! integrity check.
//!
//! * `options.rs`: [`Options`](options::Options), how to open a database.
//! * `open.rs`: creating, locking and opening the files, and assembling
//!   the handle.
//! * `recovery.rs`: the durable meta page, falling back from a damaged
//!   one, and replaying the log.
//! * `database.rs`: [`Database`](database::Database): transactions,
//!   retries, checkpoints on demand, statistics.
//! * `check.rs`: [`Database::check`](database::Database::check), the
//!   integrity check.
//!
//! Owns: the files' names and their lifecycle, from creation to the
//! closing checkpoint (which the store runs when the last clone of the
//! handle and the last transaction are gone).
//!
//! May use: every layer below (`txn/`, `store/`, `tree/`, `page/`, `log/`,
//! `storage/`, `base/`, `error.rs`).

pub(crate) mod check;
pub(crate) mod database;
pub(crate) mod open;
pub(crate) mod options;
pub(crate) mod recovery;
