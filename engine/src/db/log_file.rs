//! The log beside the data file: what opening does with the file it finds
//! at the log's path, and making a new log.
//!
//! WHAT OPENING DOES WITH THE LOG
//!
//! The durable meta page says whether the database may need its log
//! (`page/meta.rs`): *closed* (no open flag) means nothing follows its
//! checkpoint; *open*, a meta page of format version 2 (which has no
//! flag), or a meta page that recovery fell back to because the other one
//! is damaged, means commits may follow it, in the log only. The log's
//! header names the database it belongs to (`log/wal.rs`). Opening,
//! holding the data file's lock, looks at the file at `<path>-wal`:
//!
//! | the file at the log's path | meta page closed | commits may follow |
//! | --- | --- | --- |
//! | the database's own log (its header names the meta page's id; any log when the meta page names none) | replay it | replay it |
//! | nothing | new log | `LogUnusable { Missing }` |
//! | shorter than a log header | new log | `LogUnusable { Truncated }` (format version 2: new log, as version 2 did) |
//! | a log that names no database (written by format version 2) | new log | `LogUnusable { OtherDatabase }` |
//! | another database's log | `LogUnusable { OtherDatabase }`, commits not at risk (read-only: no log) | `LogUnusable { OtherDatabase }` |
//! | a damaged header (magic, checksum, version 0) | `Corruption` at log offset 0 | the same |
//! | a newer log format | `NewerLogFormat` | the same |
//! | not a regular file, or not openable | `CannotOpen` naming the log | the same |
//!
//! With `Options::recover_without_log`, every `LogUnusable` and
//! `Corruption` above becomes "new log": the database opens as of its
//! checkpoint. Never another database's log overwritten, nor a database
//! opened short of commits its own log holds, unless the caller asks.
//!
//! A *new log* is written whole under a temporary name (`files.rs`),
//! synced, renamed over `<path>-wal` and its directory synced, so that a
//! log at the path always has a whole header, and it names the database.
//! It is made before the checkpoint that ends a writable open sets the
//! open flag, so that the flag is never set without a log that holds what
//! follows. When the durable meta page says commits may follow (the
//! caller's option, or a format-version-2 database getting its id), a
//! checkpoint with the flag clear comes first ([`LogPlan::close_first`]):
//! a crash from then on finds a closed meta page, which needs no log, and
//! the checkpoint after the new log writes the other meta page, so that
//! neither meta page depends on the old log's frames. A read-only open
//! makes no log: "new log" means it reads none.
//!
//! A database of format version 2 keeps its log until it has been
//! replayed: then a checkpoint gives the database its id, with the flag
//! clear, and a new log naming it replaces the old one.
//!
//! WHAT THIS CANNOT SEE
//!
//! The database's own log, replaced while no handle had it open by an
//! older copy of itself: with the meta page open, a log with no frame of
//! the meta page's generation is also what the real log holds between a
//! checkpoint and the next commit, so it reads as "nothing committed
//! since". (A copy newer than the data file is refused, `log/wal.rs`,
//! FALLING BACK; a replacement while the handle is open is noticed at the
//! next checkpoint, `store/checkpoint.rs`.)

use crate::db::files::{self, log_path, open_error};
use crate::db::options::Options;
use crate::db::recovery::Durable;
use crate::error::{Error, LogProblem, Result};
use crate::log::group_commit;
use crate::log::wal::{self, LOG_HEADER};
use crate::page::meta::Meta;
use crate::storage::{OpenMode, StorageFile, Vfs};
use std::io;
use std::path::Path;

/// What opening does with the log (the table above).
pub(crate) struct LogPlan {
    /// The database's own log, to replay and go on writing.
    pub replay: Option<Box<dyn StorageFile>>,
    /// A writable open puts a new log, naming the database, in place of
    /// the file at the log's path (after replaying `replay`, if any).
    pub replace: bool,
    /// Before that, a checkpoint with the open flag clear: the durable meta
    /// page says commits may follow it, and the new log will not hold them.
    pub close_first: bool,
}

impl LogPlan {
    fn new_log(close_first: bool) -> LogPlan {
        LogPlan {
            replay: None,
            replace: true,
            close_first,
        }
    }
}

/// What is at the log's path, measured against the meta page.
enum Found {
    Own(Box<dyn StorageFile>),
    Missing,
    Truncated,
    /// A log that names no database (written by format version 2).
    Unnamed,
    Other,
    Damaged(Error),
}

/// What to do with the log of the data file at `path`, whose durable
/// state is `durable` (the table above).
pub(crate) fn plan(
    vfs: &dyn Vfs,
    path: &Path,
    durable: &Durable,
    options: &Options,
) -> Result<LogPlan> {
    let meta = &durable.meta;
    let lp = log_path(path);
    let at_risk = meta.commits_may_follow() || durable.damaged.is_some();
    let refuse = |problem| Error::LogUnusable {
        path: lp.clone(),
        problem,
        commits_at_risk: at_risk,
    };
    Ok(match examine(vfs, &lp, meta, options.read_only)? {
        Found::Own(f) => {
            // A format-version-2 database's log, or any log beside such a
            // meta page: replayed, then replaced by one naming the database.
            let unnamed = meta.database_id == 0;
            LogPlan {
                replay: Some(f),
                replace: unnamed,
                close_first: unnamed,
            }
        }
        Found::Truncated if meta.database_id == 0 => LogPlan::new_log(true),
        _ if options.recover_without_log => LogPlan::new_log(at_risk),
        Found::Missing | Found::Truncated | Found::Unnamed if !at_risk => LogPlan::new_log(false),
        // Nothing to lose, and a read-only handle overwrites nothing.
        Found::Other if !at_risk && options.read_only => LogPlan::new_log(false),
        Found::Missing => return Err(refuse(LogProblem::Missing)),
        Found::Truncated => return Err(refuse(LogProblem::Truncated)),
        Found::Unnamed | Found::Other => return Err(refuse(LogProblem::OtherDatabase)),
        Found::Damaged(e) => return Err(e),
    })
}

/// Opens what is at the log's path `lp` and reads its header.
fn examine(vfs: &dyn Vfs, lp: &Path, meta: &Meta, read_only: bool) -> Result<Found> {
    let mode = if read_only {
        OpenMode::ReadOnly
    } else {
        OpenMode::Existing
    };
    let f = match vfs.open(lp, mode) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Missing),
        Err(e) => return Err(open_error(lp, e)),
    };
    if f.len()? < LOG_HEADER {
        return Ok(Found::Truncated);
    }
    let mut h = [0u8; LOG_HEADER as usize];
    f.read_at(&mut h, 0)?;
    Ok(match wal::decode_header(&h) {
        Err(Error::NewerFormat { found, supported }) => {
            return Err(Error::NewerLogFormat {
                path: lp.to_path_buf(),
                found,
                supported,
            });
        }
        Err(e) => Found::Damaged(e),
        Ok(h) if meta.database_id == 0 || h.database_id == meta.database_id => Found::Own(f),
        Ok(h) if h.database_id == 0 => Found::Unnamed,
        Ok(_) => Found::Other,
    })
}

/// Before a new database is created at `path`: refuses if the log of
/// another database is at its log's path, which the first open would
/// refuse to use and must not overwrite (unless `recover_without_log`).
/// Anything else there is for the open under the lock to judge.
pub(crate) fn check_before_creating(vfs: &dyn Vfs, path: &Path, options: &Options) -> Result<()> {
    if options.recover_without_log {
        return Ok(());
    }
    let lp = log_path(path);
    let Ok(f) = vfs.open(&lp, OpenMode::ReadOnly) else {
        return Ok(());
    };
    let mut h = [0u8; LOG_HEADER as usize];
    let names_a_database =
        f.read_at(&mut h, 0).is_ok() && wal::decode_header(&h).is_ok_and(|h| h.database_id != 0);
    // Another opener may have just created the database and then its log:
    // then the database is there now, and opening goes on to it.
    if names_a_database && !vfs.exists(path)? {
        return Err(Error::LogUnusable {
            path: lp,
            problem: LogProblem::OtherDatabase,
            commits_at_risk: false,
        });
    }
    Ok(())
}

/// Puts a new, empty log of database `database_id` at `lp`, in place of
/// whatever is there, and opens it: written under a temporary name,
/// synced, renamed into place, the directory synced (the module notes).
pub(crate) fn create(
    vfs: &dyn Vfs,
    lp: &Path,
    preallocate: u64,
    database_id: u64,
) -> Result<Box<dyn StorageFile>> {
    let tmp = files::temporary(lp);
    let f = vfs
        .open(&tmp, OpenMode::CreateNew)
        .map_err(|e| open_error(lp, e))?;
    let written = group_commit::write_new_log(&*f, preallocate, database_id);
    drop(f);
    if let Err(e) = written.and_then(|()| Ok(vfs.rename(&tmp, lp)?)) {
        // Best effort: a file left here is a leftover like a crash's.
        let _ = vfs.remove(&tmp);
        return Err(e);
    }
    vfs.sync_dir(&files::parent_dir(lp))?;
    vfs.open(lp, OpenMode::Existing)
        .map_err(|e| open_error(lp, e))
}

/// The log of a handle that reads none: a read-only handle whose log is
/// missing or holds nothing it needs, or a writable one before its new log
/// is made. Empty, and never written.
#[derive(Debug)]
pub(crate) struct NoLog;

impl StorageFile for NoLog {
    fn read_at(&self, buf: &mut [u8], _offset: u64) -> io::Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        Err(io::ErrorKind::UnexpectedEof.into())
    }

    fn write_at(&self, _buf: &[u8], _offset: u64) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the database has no log to write",
        ))
    }

    fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }

    fn set_len(&self, _len: u64) -> io::Result<()> {
        self.write_at(&[], 0)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(0)
    }

    fn try_lock_exclusive(&self) -> io::Result<bool> {
        Ok(true)
    }
}
