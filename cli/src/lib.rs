//! The `strata` command: look inside a Strata database file from the
//! shell. `cli/README.md` lists the subcommands with examples.
//!
//! | module | what it holds |
//! | --- | --- |
//! | `commands/` | one module per subcommand |
//! | `sql/` | read-only SQL over the ORM's tables: `sqlparser`'s tree onto the schema-driven path |
//! | `open.rs` | opening a file read-only (readers) or writable (`load`) |
//! | `output.rs` | aligned tables, JSON, progress bars on terminals only |
//! | `error.rs` | the one-line error |
//!
//! The library half holds what the binary runs, so that tests can drive
//! the SQL front end in process (the differential test against SQLite).

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod commands;
pub mod error;
pub mod open;
pub mod output;
pub mod sql;
