//! The engine's one error type, grouped by what the caller should do.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// A `Result` whose error is the engine's [`Error`].
///
/// ```
/// fn balance(db: &strata_engine::Database, who: &[u8]) -> strata_engine::Result<Option<Vec<u8>>> {
///     db.begin_read()?.get("accounts", who)
/// }
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = strata_engine::Database::open(dir.path().join("db"))?;
/// # db.transaction(|tx| tx.create_table("accounts"))?;
/// assert_eq!(balance(&db, b"alice")?, None);
/// # Ok::<(), strata_engine::Error>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in the files a corruption was found.
///
/// ```
/// use strata_engine::{Error, Location};
/// let e = Error::Corruption { location: Location::Page(3), detail: "bad checksum".into() };
/// assert_eq!(Location::Page(3).to_string(), "page 3");
/// assert!(e.to_string().contains("page 3"));
/// assert_eq!(Location::Log { offset: 4096 }.to_string(), "log frame at offset 4096");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// The data file's header (page 0).
    Header,
    /// A page of the data file, by page number.
    Page(u32),
    /// A frame of the write-ahead log, by byte offset in the log file.
    Log {
        /// Byte offset of the frame in the log file.
        offset: u64,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Header => write!(f, "file header"),
            Location::Page(p) => write!(f, "page {p}"),
            Location::Log { offset } => write!(f, "log frame at offset {offset}"),
        }
    }
}

/// Why a database's file could not be opened ([`Error::CannotOpen`]).
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use strata_engine::{Database, Error, OpenFailure};
/// match Database::open(dir.path()) {
///     Err(Error::CannotOpen { reason, .. }) => assert_eq!(reason, OpenFailure::IsADirectory),
///     other => panic!("expected CannotOpen, got {other:?}"),
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenFailure {
    /// No file is there (and `Options::create` is off, or the handle is
    /// read-only), or a directory on the way does not exist.
    NotFound,
    /// The path names a directory.
    IsADirectory,
    /// A component of the path, other than the last, is not a directory.
    NotADirectory,
    /// Symbolic links on the way form a loop (or nest too deeply).
    SymlinkLoop,
    /// The process may not open the file as asked: for example a
    /// writable open of a file it may only read. A read-only open
    /// ([`Options::read_only`](crate::Options::read_only)) may work.
    PermissionDenied,
    /// A writable open of a file on a read-only file system. A read-only
    /// open may work.
    ReadOnlyFilesystem,
    /// The path names a FIFO, a socket or a device: refused at once,
    /// without reading from it or waiting on it.
    NotARegularFile,
}

impl OpenFailure {
    /// The failure `e` reports, if it is one of these.
    pub(crate) fn of(e: &io::Error) -> Option<OpenFailure> {
        Some(match e.kind() {
            io::ErrorKind::NotFound => OpenFailure::NotFound,
            io::ErrorKind::IsADirectory => OpenFailure::IsADirectory,
            io::ErrorKind::NotADirectory => OpenFailure::NotADirectory,
            io::ErrorKind::PermissionDenied => OpenFailure::PermissionDenied,
            io::ErrorKind::ReadOnlyFilesystem => OpenFailure::ReadOnlyFilesystem,
            // `ErrorKind::FilesystemLoop` is not stable yet: ELOOP by name.
            k if format!("{k:?}") == "FilesystemLoop" => OpenFailure::SymlinkLoop,
            _ => return None,
        })
    }
}

impl fmt::Display for OpenFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpenFailure::NotFound => "no such file",
            OpenFailure::IsADirectory => "it is a directory",
            OpenFailure::NotADirectory => "a component of the path is not a directory",
            OpenFailure::SymlinkLoop => "symbolic links form a loop",
            OpenFailure::PermissionDenied => {
                "permission denied (a read-only open, Options::read_only, may work)"
            }
            OpenFailure::ReadOnlyFilesystem => {
                "read-only file system (a read-only open, Options::read_only, may work)"
            }
            OpenFailure::NotARegularFile => {
                "it is not a regular file (a FIFO, a socket or a device)"
            }
        })
    }
}

/// Everything that can go wrong in the engine.
///
/// The variants fall into six groups, by what the caller should do:
///
/// | group | variants | what to do |
/// | --- | --- | --- |
/// | retry | [`Deadlock`](Error::Deadlock), [`LockTimeout`](Error::LockTimeout), [`Conflict`](Error::Conflict) | run the transaction again ([`Error::is_retryable`]) |
/// | start over | [`SnapshotTooOld`](Error::SnapshotTooOld) | begin a new read-only transaction |
/// | bad input | [`KeyTooLarge`](Error::KeyTooLarge), [`ValueTooLarge`](Error::ValueTooLarge), [`NoSuchTable`](Error::NoSuchTable), [`InvalidTableName`](Error::InvalidTableName), [`InvalidOptions`](Error::InvalidOptions), [`ReadOnly`](Error::ReadOnly), [`SelfDeadlock`](Error::SelfDeadlock), [`DestinationExists`](Error::DestinationExists), [`Unsupported`](Error::Unsupported) | fix the call |
/// | the file | [`Corruption`](Error::Corruption), [`NotAStrataFile`](Error::NotAStrataFile), [`NewerFormat`](Error::NewerFormat), [`OlderFormat`](Error::OlderFormat), [`Locked`](Error::Locked), [`CannotOpen`](Error::CannotOpen), [`LogUnusable`](Error::LogUnusable), [`NewerLogFormat`](Error::NewerLogFormat) | restore, upgrade, close the other handle, fix the path, or put the right log back |
/// | I/O | [`Io`](Error::Io), [`StorageFull`](Error::StorageFull) | look at the device, or free space; the database stays consistent |
/// | resources | [`TransactionTooLarge`](Error::TransactionTooLarge), [`OutOfMemory`](Error::OutOfMemory) | make the transaction smaller, or give the process more memory |
/// | poisoned | [`Poisoned`](Error::Poisoned), [`LogReplaced`](Error::LogReplaced) | drop every handle and open the database again |
/// | another store | [`Unavailable`](Error::Unavailable), [`OutcomeUnknown`](Error::OutcomeUnknown), [`CommitTooLarge`](Error::CommitTooLarge) | wait for the store, find out whether the work is done, or split it |
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use strata_engine::{Database, Error};
/// let db = Database::open(dir.path().join("db"))?;
/// let mut tx = db.begin()?;
/// match tx.put("no such table", b"k", b"v") {
///     Err(Error::NoSuchTable(name)) => assert_eq!(name, "no such table"),
///     other => panic!("expected NoSuchTable, got {other:?}"),
/// }
/// // What to do follows from the group: retry these, fix the input for that one.
/// assert!(Error::Deadlock.is_retryable() && !Error::NoSuchTable(String::new()).is_retryable());
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// The transaction was chosen as the victim of a deadlock and rolled
    /// back. Retryable.
    Deadlock,
    /// The transaction waited longer than `Options::lock_timeout` for a
    /// lock and was rolled back. Retryable.
    LockTimeout,

    /// A key is longer than the database's limit.
    KeyTooLarge {
        /// Length of the key given.
        len: usize,
        /// The largest key length allowed.
        max: usize,
    },
    /// A value is longer than the database's limit.
    ValueTooLarge {
        /// Length of the value given.
        len: usize,
        /// The largest value length allowed.
        max: usize,
    },
    /// No table has this name.
    NoSuchTable(String),
    /// A table name that cannot be used.
    InvalidTableName {
        /// The name given.
        name: String,
        /// Why it cannot be used.
        reason: &'static str,
    },
    /// An option is out of its range.
    InvalidOptions(String),
    /// A transaction would wait for a lock that another transaction of
    /// the same thread holds, or for one that only a transaction stuck
    /// behind this thread's wait could release: the wait could never end,
    /// so it fails at once. Not retryable (running it again on the same
    /// thread would wait again): end the other transaction first, or run
    /// the two on different threads. The transaction is rolled back.
    SelfDeadlock {
        /// The lock that would have been waited for.
        resource: String,
    },
    /// A read-only transaction's snapshot is too old: the versions it
    /// reads were dropped to keep their memory within
    /// `Options::max_snapshot_memory`, because writers changed more data
    /// than that while it was open. Not retryable as such: begin a new
    /// read-only transaction, which reads a newer snapshot.
    SnapshotTooOld {
        /// The LSN the snapshot read at.
        lsn: u64,
    },
    /// A write was attempted through a read-only transaction or a
    /// read-only database handle ([`Options::read_only`](crate::Options::read_only)):
    /// `put`, `delete` or `create_table` on a read-only transaction, or
    /// `begin`, `transaction` or `checkpoint` on a read-only handle.
    ReadOnly,
    /// A backup's destination ([`Database::backup_to`](crate::Database::backup_to))
    /// already exists: a backup never replaces a file. Nothing was written
    /// there.
    DestinationExists {
        /// The destination, as given.
        path: PathBuf,
    },
    /// The operation cannot be done by this handle or store: for example
    /// a backup from a read-only handle that holds commits replayed from
    /// the log in memory only, or a backup or compaction of a store that
    /// is not a Strata file (the ORM's etcd backend).
    Unsupported {
        /// The operation asked for.
        operation: &'static str,
        /// Why it cannot be done, and what to do instead.
        reason: String,
    },

    /// Bytes read back from the files fail a checksum or a structural
    /// check. Nothing is returned from a corrupt page.
    Corruption {
        /// Where the corruption was found.
        location: Location,
        /// What is wrong there.
        detail: String,
    },
    /// The file exists but is not a Strata database.
    NotAStrataFile,
    /// The file was written by a newer Strata whose format this version
    /// cannot read.
    NewerFormat {
        /// The format version found in the file.
        found: u32,
        /// The newest format version this build reads.
        supported: u32,
    },
    /// The file was written by an older Strata in a format this version no
    /// longer reads (see `docs/file-format.md`, "Versions").
    OlderFormat {
        /// The format version found in the file.
        found: u32,
        /// The oldest format version this build reads.
        oldest: u32,
    },
    /// Another handle, in this process or another, has the database open.
    Locked,
    /// Opening the database failed on one of its files (the data file, or
    /// the log beside it), or a backup could not create its destination
    /// ([`Database::backup_to`](crate::Database::backup_to)), for a reason
    /// [`OpenFailure`] names. Nothing was written.
    CannotOpen {
        /// The file, as given to open it (the log's real path for the log).
        path: PathBuf,
        /// Why it could not be opened.
        reason: OpenFailure,
    },

    /// An operating-system I/O error. The database on disk stays
    /// consistent; if the error hit a write or a sync, the handle is now
    /// poisoned.
    Io(Arc<io::Error>),
    /// The device is full, or the user's disk quota is used up
    /// (`ErrorKind::StorageFull`, `ErrorKind::QuotaExceeded`). The database
    /// on disk stays consistent. When a commit gets it, the transaction
    /// was rolled back before anything of it was written (a put or delete
    /// that gets it spilling to the scratch file rolls its transaction
    /// back too), and a checkpoint
    /// that gets it before its meta page is written changed nothing: in
    /// both cases the handle stays usable, and the same call succeeds once
    /// space is freed. Anywhere else (a sync, the meta page, a transaction
    /// larger than `Options::checkpoint_log_size`, creating the files) it
    /// poisons the handle like any other failed write.
    StorageFull(Arc<io::Error>),

    /// An earlier write or sync failed, so this handle can no longer vouch
    /// for what is on disk. Every call fails with this until the database
    /// is opened again, which recovers from the log.
    Poisoned {
        /// The error that poisoned the handle.
        cause: String,
    },

    // Errors of stores other than the engine that the ORM can stand on
    // (its etcd backend: orm/src/etcd/).
    /// An optimistic transaction's reads changed before it committed, so
    /// it did not commit. Retryable.
    Conflict,
    /// The store could not be reached, or could not answer (no quorum),
    /// within its time limit. Nothing of a transaction that gets it was
    /// committed; try again later.
    Unavailable {
        /// What failed.
        detail: String,
    },
    /// A commit was sent but the store could not be asked whether it
    /// applied: the transaction may or may not have committed.
    OutcomeUnknown {
        /// What failed.
        detail: String,
    },
    /// A transaction needs more operations or bytes than the store accepts
    /// in one commit. Nothing was committed; split the work.
    CommitTooLarge {
        /// What is over which limit.
        detail: String,
    },
    /// A transaction's private writes passed
    /// [`Options::max_transaction_size`](crate::Options::max_transaction_size).
    /// The transaction was rolled back (every later call on it returns this
    /// error); the handle stays usable. Split the work into smaller
    /// transactions, or raise the limit.
    TransactionTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Memory for a transaction's buffers could not be allocated: the
    /// operating system refused `requested` bytes (an address-space or
    /// memory limit). Outside a commit the transaction was rolled back and
    /// the handle stays usable; during a commit's apply the handle is
    /// poisoned, as after any failure there.
    OutOfMemory {
        /// The size of the allocation that failed, in bytes.
        requested: usize,
    },
    /// Opening refused to use the data file without its log: the file at
    /// the log's path is missing, shorter than a log header, or the log of
    /// another database. Nothing was written to either file.
    ///
    /// With `commits_at_risk`, the data file's meta page says the database
    /// was not closed cleanly, so transactions committed after its last
    /// checkpoint may exist only in its own log: put that log back at
    /// `path` (beside the data file, named after it), or, if it is gone for
    /// good, open with [`Options::recover_without_log`](crate::Options::recover_without_log),
    /// which loses them. Without it, the database was closed cleanly (or is
    /// about to be created) and needs nothing from a log, but the file at
    /// `path` is another database's log, which opening would overwrite:
    /// move it away.
    LogUnusable {
        /// The log's path.
        path: PathBuf,
        /// What is wrong with the file there.
        problem: LogProblem,
        /// Whether commits since the last checkpoint may be lost without
        /// the database's own log.
        commits_at_risk: bool,
    },
    /// The log was written by a newer Strata whose log format this
    /// version cannot read. Nothing was written.
    NewerLogFormat {
        /// The log's path.
        path: PathBuf,
        /// The log format version found in its header.
        found: u32,
        /// The newest log format version this build reads.
        supported: u32,
    },
    /// The file at the log's path is no longer the log this handle writes:
    /// it was deleted, renamed or replaced while the database was open.
    /// Returned by the checkpoint that noticed it, which first made
    /// everything committed durable in the data file (and recorded that
    /// nothing follows it in the log); the handle is poisoned with it, so
    /// no commit goes to a log that no recovery would read. Reopen the
    /// database.
    LogReplaced {
        /// The log's path.
        path: PathBuf,
    },
}

impl Error {
    /// Whether running the same transaction again may succeed
    /// (deadlock victim, lock timeout, or an optimistic conflict).
    ///
    /// ```
    /// use strata_engine::Error;
    /// assert!(Error::Deadlock.is_retryable());
    /// assert!(Error::LockTimeout.is_retryable());
    /// assert!(!Error::ReadOnly.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Deadlock | Error::LockTimeout | Error::Conflict)
    }

    /// Whether this error reports damaged or foreign file contents.
    ///
    /// ```
    /// use strata_engine::{Error, Location};
    /// let e = Error::Corruption { location: Location::Page(7), detail: "bad checksum".into() };
    /// assert!(e.is_corruption());
    /// assert!(!Error::Locked.is_corruption());
    /// ```
    pub fn is_corruption(&self) -> bool {
        matches!(self, Error::Corruption { .. })
    }

    pub(crate) fn corrupt_page(page: u32, detail: impl Into<String>) -> Error {
        Error::Corruption {
            location: Location::Page(page),
            detail: detail.into(),
        }
    }

    pub(crate) fn corrupt_log(offset: u64, detail: impl Into<String>) -> Error {
        Error::Corruption {
            location: Location::Log { offset },
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Deadlock => write!(f, "transaction aborted to break a deadlock; retry it"),
            Error::LockTimeout => write!(f, "lock wait timed out; retry the transaction"),
            Error::KeyTooLarge { len, max } => {
                write!(f, "key of {len} bytes exceeds the limit of {max} bytes")
            }
            Error::ValueTooLarge { len, max } => {
                write!(f, "value of {len} bytes exceeds the limit of {max} bytes")
            }
            Error::NoSuchTable(name) => write!(f, "no table named {name:?}"),
            Error::InvalidTableName { name, reason } => {
                write!(f, "invalid table name {name:?}: {reason}")
            }
            Error::InvalidOptions(why) => write!(f, "invalid options: {why}"),
            Error::ReadOnly => write!(f, "cannot write through a read-only transaction or handle"),
            Error::DestinationExists { path } => write!(
                f,
                "{} already exists; a backup never replaces a file: choose a new path",
                path.display()
            ),
            Error::Unsupported { operation, reason } => {
                write!(f, "{operation} is not supported here: {reason}")
            }
            Error::SelfDeadlock { resource } => write!(
                f,
                "waiting for {resource} could never end: it is held by another transaction of \
                 this thread (or by one waiting behind it); end that transaction first or use \
                 another thread"
            ),
            Error::SnapshotTooOld { lsn } => write!(
                f,
                "the snapshot at LSN {lsn} is too old: writers changed more than \
                 Options::max_snapshot_memory since it began; begin a new read-only transaction"
            ),
            Error::Corruption { location, detail } => {
                write!(f, "database corruption at {location}: {detail}")
            }
            Error::NotAStrataFile => write!(f, "the file is not a Strata database"),
            Error::NewerFormat { found, supported } => write!(
                f,
                "the file has format version {found}, newer than the version {supported} this build reads"
            ),
            Error::OlderFormat { found, oldest } => write!(
                f,
                "the file has format version {found}, older than the oldest version {oldest} this build reads; \
                 read it with the Strata that wrote it and copy the data into a new file"
            ),
            Error::Locked => write!(f, "the database is locked by another handle or process"),
            Error::CannotOpen { path, reason } => {
                write!(
                    f,
                    "cannot open the database at {}: {reason}",
                    path.display()
                )
            }
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::StorageFull(e) => write!(f, "no space left for the database: {e}"),
            Error::Poisoned { cause } => write!(
                f,
                "the database handle is poisoned by an earlier failure ({cause}); reopen it"
            ),
            Error::Conflict => write!(
                f,
                "the transaction's reads changed before it committed; retry it"
            ),
            Error::Unavailable { detail } => write!(f, "the store is unavailable: {detail}"),
            Error::OutcomeUnknown { detail } => write!(
                f,
                "the commit's outcome is unknown (it may or may not have committed): {detail}"
            ),
            Error::CommitTooLarge { detail } => write!(
                f,
                "the transaction is too large to commit at once, and nothing was committed: {detail}"
            ),
            Error::TransactionTooLarge { limit } => write!(
                f,
                "the transaction's writes passed the limit of {limit} bytes; it was rolled back"
            ),
            Error::OutOfMemory { requested } => {
                write!(
                    f,
                    "out of memory: an allocation of {requested} bytes failed"
                )
            }
            Error::LogUnusable {
                path,
                problem,
                commits_at_risk: true,
            } => write!(
                f,
                "the database's log {} {problem}, and the database was not closed cleanly: \
                 transactions committed after its last checkpoint may exist only in its log. \
                 Put its log back at that path, or open with Options::recover_without_log to \
                 go on without them (they are lost)",
                path.display()
            ),
            Error::LogUnusable {
                path,
                problem,
                commits_at_risk: false,
            } => write!(
                f,
                "the file at the database's log path {} {problem}; the database needs nothing \
                 from it (it was closed cleanly, or is new), but opening would overwrite it: \
                 move it away (or open with Options::recover_without_log, which overwrites it)",
                path.display()
            ),
            Error::NewerLogFormat {
                path,
                found,
                supported,
            } => write!(
                f,
                "the log {} has log format version {found}, newer than the version {supported} \
                 this build reads",
                path.display()
            ),
            Error::LogReplaced { path } => write!(
                f,
                "the log {} was deleted, renamed or replaced while the database was open; \
                 everything committed was checkpointed into the data file, and this handle \
                 takes no more commits: reopen the database",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) | Error::StorageFull(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
                Error::StorageFull(Arc::new(e))
            }
            _ => Error::Io(Arc::new(e)),
        }
    }
}

/// What is wrong with the log beside a data file ([`Error::LogUnusable`]).
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use strata_engine::{Database, Error, LogProblem};
/// let (a, b) = (dir.path().join("a"), dir.path().join("b"));
/// drop(Database::open(&a)?);
/// drop(Database::open(&b)?);
/// // b's log put where a's belongs: opening a would overwrite it, so it refuses.
/// std::fs::copy(dir.path().join("b-wal"), dir.path().join("a-wal")).unwrap();
/// match Database::open(&a) {
///     Err(Error::LogUnusable { problem, commits_at_risk, .. }) => {
///         assert_eq!(problem, LogProblem::OtherDatabase);
///         assert!(!commits_at_risk); // a was closed cleanly
///     }
///     other => panic!("expected LogUnusable, got {other:?}"),
/// }
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogProblem {
    /// No file is at the log's path.
    Missing,
    /// The file is shorter than a log header.
    Truncated,
    /// The file is the log of another database: its header names another
    /// database id than the data file's meta page.
    OtherDatabase,
}

impl fmt::Display for LogProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogProblem::Missing => "is missing",
            LogProblem::Truncated => "is shorter than a log header",
            LogProblem::OtherDatabase => "is the log of another database",
        })
    }
}
