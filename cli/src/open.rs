//! Opening a file for a subcommand. Reading subcommands open it
//! read-only (`Options::read_only`): nothing is written to the data file
//! or its log, and several readers may share it; while an application
//! holds it open for writing, the open fails with the engine's `Locked`,
//! whose message says so. Writing subcommands (`load`) open it writable,
//! and never create it.

use crate::error::{CliError, Result};
use std::path::Path;
use strata::Database;
use strata::engine::Options;

/// How a subcommand opens the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Reads only: shares the file with other readers.
    Read,
    /// Writes: the file must exist, and no other handle may hold it.
    Write,
}

/// The ORM over the database at `path`.
pub fn open(path: &Path, mode: Mode) -> Result<Database> {
    let options = Options {
        read_only: mode == Mode::Read,
        create: false,
        ..Options::default()
    };
    Database::open_with(path, options).map_err(|e| CliError(format!("{}: {e}", path.display())))
}
