//! The database handle, the top layer: opening (creating the files,
//! recovering), the public [`Database`](database::Database), and the
//! integrity check.
//!
//! * `options.rs`: [`Options`](options::Options), how to open a database.
//! * `open.rs`: opening: finding or creating the data file, locking it,
//!   recovering, settling the log, and assembling the handle; opens that
//!   race.
//! * `files.rs`: the files' names, temporary files and their leftovers.
//! * `create.rs`: creating a database's data file, atomically.
//! * `log_file.rs`: what opening does with the file at the log's path,
//!   and making a new log.
//! * `recovery.rs`: the durable meta page, falling back from a damaged
//!   one, and replaying the log.
//! * `database.rs`: [`Database`](database::Database): transactions,
//!   retries, checkpoints on demand, statistics.
//! * `backup.rs`: [`Database::backup_to`](database::Database::backup_to),
//!   a consistent copy of the database while commits go on.
//! * `check.rs`: [`Database::check`](database::Database::check), the
//!   integrity check.
//! * `info.rs`: [`Database::info`](database::Database::info), what the
//!   handle knows of its file, for tools.
//!
//! Owns: the files' names and their lifecycle, from creation to the
//! closing checkpoint (which the store runs when the last clone of the
//! handle and the last transaction are gone).
//!
//! May use: every layer below (`txn/`, `store/`, `tree/`, `page/`, `log/`,
//! `storage/`, `base/`, `error.rs`).

pub(crate) mod backup;
pub(crate) mod check;
pub(crate) mod create;
pub(crate) mod database;
pub(crate) mod files;
pub(crate) mod info;
pub(crate) mod log_file;
pub(crate) mod open;
pub(crate) mod options;
pub(crate) mod recovery;
