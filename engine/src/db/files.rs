//! A database's files: their names, the temporary files that new ones
//! are written under and the leftovers of those, and the error for a file
//! that cannot be opened.
//!
//! | name | what it is |
//! | --- | --- |
//! | `<path>` | the data file |
//! | `<path>-wal` | the log |
//! | `<path>-creating-<16 hex digits>` | a new data file being written, before it is moved to `<path>` (`create.rs`) |
//! | `<path>-wal-creating-<16 hex digits>` | a new log being written, before it is moved to `<path>-wal` (`log_file.rs`) |
//! | `<path>-creating` | the one temporary name format version 2 used for a new data file |
//!
//! Temporary names are unique (a random 64-bit number), so that openers
//! racing to create the same database never write, truncate or rename one
//! another's files. A crash can leave one behind; such leftovers are
//! removed by a writable open holding the database's lock ([`leftovers`]),
//! whenever it creates a log or finds the database as it was created.

use crate::error::{Error, OpenFailure};
use crate::storage::{NotARegularFile, Vfs};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

/// `e`, from opening the file at `path`: [`Error::CannotOpen`] naming
/// `path` if it is one of the reasons [`OpenFailure`] names, else as any
/// I/O error.
pub(crate) fn open_error(path: &Path, e: io::Error) -> Error {
    match open_failure(&e) {
        Some(reason) => Error::CannotOpen {
            path: path.to_path_buf(),
            reason,
        },
        None => e.into(),
    }
}

/// The reason `e` gives for a file not opening, if [`OpenFailure`] names
/// it.
pub(crate) fn open_failure(e: &io::Error) -> Option<OpenFailure> {
    if NotARegularFile::is(e) {
        return Some(OpenFailure::NotARegularFile);
    }
    OpenFailure::of(e)
}

/// The log of the data file at `path`: `<path>-wal`.
pub(crate) fn log_path(path: &Path) -> PathBuf {
    with_suffix(path, "-wal")
}

/// The directory `path` is in, `.` for a bare name.
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A fresh temporary name for a new file that will become `path`:
/// `<path>-creating-<16 hex digits>`.
pub(crate) fn temporary(path: &Path) -> PathBuf {
    with_suffix(
        path,
        &format!("-creating-{:016x}", crate::log::wal::new_salt()),
    )
}

/// The temporary files a crash may have left beside the database at
/// `path` (see the table above), to be removed by an open that holds the
/// database's lock.
pub(crate) fn leftovers(vfs: &dyn Vfs, path: &Path) -> Vec<PathBuf> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Vec::new();
    };
    let entries = vfs.read_dir(&parent_dir(path)).unwrap_or_default();
    entries
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| is_leftover(name, n))
        })
        .collect()
}

/// Whether `entry` is the name of a temporary file of database `name`.
fn is_leftover(name: &str, entry: &str) -> bool {
    let Some(rest) = entry.strip_prefix(name) else {
        return false;
    };
    if rest == "-creating" {
        return true; // format version 2's one name
    }
    let rest = rest.strip_prefix("-wal").unwrap_or(rest);
    rest.strip_prefix("-creating-")
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p: OsString = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_unique_and_recognised() {
        let a = temporary(Path::new("/d/db"));
        let b = temporary(Path::new("/d/db"));
        assert_ne!(a, b);
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(is_leftover("db", name), "{name}");
        let log = temporary(&log_path(Path::new("/d/db")));
        assert!(is_leftover(
            "db",
            log.file_name().unwrap().to_str().unwrap()
        ));
        assert!(is_leftover("db", "db-creating"));
        for other in [
            "db",
            "db-wal",
            "db-creating-",
            "db-creating-0123",
            "db-wal-creating",
            "db-creating-0123456789abcdefg",
            "db-creating-0123456789abcdef-wal",
            "dbx-creating-0123456789abcdef",
            "other-creating-0123456789abcdef",
        ] {
            assert!(!is_leftover("db", other), "{other}");
        }
    }
}
