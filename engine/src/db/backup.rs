//! Online backup: a consistent copy of the database, as of one commit,
//! written while other threads keep committing (`Database::backup_to`).
//!
//! THE COPY
//!
//! 1. Refuse a destination that exists (a directory is `CannotOpen`,
//!    anything else `DestinationExists`), and create the copy under a
//!    fresh temporary name beside it (`<dest>-creating-<16 hex digits>`,
//!    as `create.rs` does for a new database).
//! 2. Take the checkpoint lock and checkpoint (a writable handle): the
//!    data file then holds every commit up to the checkpoint's LSN, as the
//!    durable meta page describes it.
//! 3. Still holding the checkpoint lock, copy pages `0..page_count` of the
//!    data file. Nothing writes a page of the durable tree while the
//!    checkpoint lock is held: commits change pages only in memory
//!    (copy-on-write, pager invariants 1 and 2), and the only other writers
//!    of the data file, checkpoints and commits by checkpoint (whose early
//!    page writes go to pages the durable meta does not reference), take
//!    the checkpoint lock. A free page may be copied half written; nothing
//!    reads a free page.
//! 4. Write both meta pages of the copy from the durable one, with a new
//!    database id (the copy is another database: the original's log must
//!    never be taken for its), a new log salt and the open flag clear (the
//!    copy needs no log: `page/meta.rs`, THE OPEN FLAG).
//! 5. Release the lock, sync the copy, move it to the destination without
//!    replacing anything (`Vfs::rename_no_replace`), and sync the
//!    directory. A crash before that leaves only a temporary file, never
//!    a half copy at the destination.
//!
//! WHO WAITS
//!
//! Commits wait only for the checkpoint of step 2, as for any checkpoint.
//! During the copy they go on: they append to the log and change the tree
//! in memory. What waits for the copy is another checkpoint: a commit that
//! finds the log over its threshold only tries the checkpoint lock and
//! goes on, so the log grows past `checkpoint_log_size` until the copy
//! ends; and a transaction too large for the log, which commits by
//! checkpoint, waits for the whole copy.
//!
//! A read-only handle never checkpoints and no writer can open the file
//! meanwhile (the locks exclude each other), so its data file holds still:
//! it copies the durable tree as it is. If it replayed commits from the log
//! into memory, those are not in the data file, and the backup is refused
//! (`Unsupported`) rather than silently older than what the handle reads.

use crate::db::files;
use crate::error::{Error, OpenFailure, Result};
use crate::log::wal;
use crate::page::meta::{self, Meta};
use crate::page::page_header::META_PAGES;
use crate::storage::{OpenMode, StorageFile, Vfs};
use crate::store::shared::Store;
use std::io;
use std::path::Path;
use std::time::Instant;

/// Bytes copied per read and write.
const CHUNK: usize = 1 << 20;

/// Writes a consistent copy of `store`'s database to `dest` (THE COPY).
pub(crate) fn backup(store: &Store, vfs: &dyn Vfs, dest: &Path) -> Result<()> {
    store.poison.check()?;
    let started = Instant::now();
    refuse_existing(vfs, dest)?;
    let tmp = files::temporary(dest);
    let f = vfs
        .open(&tmp, OpenMode::CreateNew)
        .map_err(|e| files::open_error(dest, e))?;
    let done = copy(store, &*f).and_then(|pages| {
        f.sync_data()?;
        Ok(pages)
    });
    drop(f);
    let pages = match done.and_then(|pages| move_into_place(vfs, &tmp, dest).map(|()| pages)) {
        Ok(pages) => pages,
        Err(e) => {
            // Best effort: a file left here is a leftover like a crash's.
            let _ = vfs.remove(&tmp);
            return Err(e);
        }
    };
    vfs.sync_dir(&files::parent_dir(dest))?;
    tracing::info!(
        target: "strata::backup",
        pages,
        bytes = u64::from(pages) * store.page_size as u64,
        elapsed_us = started.elapsed().as_micros() as u64,
        "backup written"
    );
    Ok(())
}

/// Refuses a destination that exists: a directory as `CannotOpen`,
/// anything else as `DestinationExists`.
fn refuse_existing(vfs: &dyn Vfs, dest: &Path) -> Result<()> {
    if !vfs.exists(dest)? {
        return Ok(());
    }
    match vfs.open(dest, OpenMode::ReadOnly) {
        Err(e) if files::open_failure(&e) == Some(OpenFailure::IsADirectory) => {
            Err(files::open_error(dest, e))
        }
        _ => Err(Error::DestinationExists {
            path: dest.to_path_buf(),
        }),
    }
}

/// Steps 2 to 4: the pages of the durable tree, with new meta pages, into
/// `out`. Returns the number of pages.
fn copy(store: &Store, out: &dyn StorageFile) -> Result<u32> {
    let _ck = store.checkpoint_lock.lock();
    if !store.read_only {
        store.checkpoint_held(false)?;
    }
    let durable = {
        let st = store.tree.read();
        if store.read_only && st.pager.has_changes() {
            return Err(Error::Unsupported {
                operation: "a backup from a read-only handle",
                reason: "the handle replayed commits from the log that are not in the data \
                         file yet; open the database writable once (which checkpoints them), \
                         or back up from a writable handle"
                    .into(),
            });
        }
        st.meta
    };
    let ps = store.page_size;
    let total = u64::from(durable.page_count) * ps as u64;
    let mut buf = vec![0u8; CHUNK.max(ps)];
    let mut off = 0u64;
    while off < total {
        let n = (total - off).min(buf.len() as u64) as usize;
        store.data.read_at(&mut buf[..n], off)?;
        out.write_at(&buf[..n], off)?;
        off += n as u64;
    }
    let copy = Meta {
        log_salt: wal::new_salt(),
        open_for_writing: false,
        database_id: meta::new_database_id(),
        ..durable
    };
    for sequence in [durable.sequence + 1, durable.sequence + 2] {
        let m = Meta { sequence, ..copy };
        debug_assert!(META_PAGES.contains(&m.slot()));
        out.write_at(&m.encode(ps), u64::from(m.slot()) * ps as u64)?;
    }
    Ok(durable.page_count)
}

/// Step 5: the copy to `dest`, only if nothing is there.
fn move_into_place(vfs: &dyn Vfs, tmp: &Path, dest: &Path) -> Result<()> {
    match vfs.rename_no_replace(tmp, dest) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(Error::DestinationExists {
            path: dest.to_path_buf(),
        }),
        Err(e) => Err(e.into()),
    }
}
