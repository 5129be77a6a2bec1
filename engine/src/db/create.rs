//! Creating a database: its data file, written whole under a temporary
//! name and moved into place only if nothing is there yet.
//!
//! CREATING
//!
//! 1. Write page 0 and both meta pages into a file opened create-new under
//!    a fresh temporary name (`files.rs`), and sync it. The meta pages
//!    describe the empty database, with a new random database id, and are
//!    closed (no open flag, `page/meta.rs`): nothing can follow them in a
//!    log that does not exist yet.
//! 2. Move it to `<path>` with [`Vfs::rename_no_replace`]. If another
//!    opener created the database first, the move fails and the temporary
//!    file is removed: this opener then opens theirs, like any existing
//!    database. So a file at the path is always a complete database, and
//!    no creation ever replaces one, let alone one that another handle has
//!    locked.
//! 3. Sync the directory.
//!
//! The log is not created here: the open that follows creates it, under
//! the database's lock (`log_file.rs`), since a closed meta page with no
//! log beside it loses nothing. Creating nothing outside the lock but
//! files of its own is what lets any number of threads and processes
//! open the same new path at once (`open.rs`, OPENING).
//!
//! A crash before the move is durable leaves no database and the next open
//! creates it; after, the database is complete and empty. Either may leave
//! the temporary file, which the next writable open that finds the
//! database as created (or creates a log) removes (`files.rs`).

use crate::db::files;
use crate::error::{Error, Result};
use crate::log::wal;
use crate::page::file_header;
use crate::page::meta::{self, Meta};
use crate::storage::{OpenMode, StorageFile, Vfs};
use std::io;
use std::path::Path;

/// Creates an empty database at `path` with pages of `page_size` bytes,
/// unless one is there by the time it is ready to move into place. `Ok`
/// in both cases: the caller then opens what is at the path.
pub(crate) fn create(vfs: &dyn Vfs, path: &Path, page_size: usize) -> Result<()> {
    let tmp = files::temporary(path);
    let f = vfs.open(&tmp, OpenMode::CreateNew)?;
    let written = write_empty(&*f, page_size);
    drop(f);
    let moved = written.and_then(|()| Ok(vfs.rename_no_replace(&tmp, path)?));
    match moved {
        Ok(()) => {}
        // Another opener created the database first, or, having created
        // it, removed this file as a leftover: either way, theirs is there.
        Err(Error::Io(e)) if lost_the_race(&e) => {
            let _ = vfs.remove(&tmp);
            return Ok(());
        }
        Err(e) => {
            // Best effort: a file left here is a leftover like a crash's.
            let _ = vfs.remove(&tmp);
            return Err(e);
        }
    }
    vfs.sync_dir(&files::parent_dir(path))?;
    Ok(())
}

fn lost_the_race(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::AlreadyExists | io::ErrorKind::NotFound
    )
}

/// Writes page 0 and the two meta pages of an empty database, and syncs.
fn write_empty(f: &dyn StorageFile, page_size: usize) -> Result<()> {
    let salt = wal::new_salt();
    let id = meta::new_database_id();
    let mut m0 = Meta::empty(salt, id);
    let mut m1 = Meta::empty(salt, id);
    m0.sequence = 0; // slot 1
    m1.sequence = 1; // slot 2, the newer
    let mut bytes = file_header::encode(page_size);
    bytes.extend_from_slice(&m0.encode(page_size));
    bytes.extend_from_slice(&m1.encode(page_size));
    f.write_at(&bytes, 0)?;
    f.sync_data()?;
    Ok(())
}
