//! Settings a database is opened with.

use crate::error::{Error, Result};
use crate::page::file_header;
use crate::storage::{RealVfs, Vfs};
use crate::store::durability::Durability;
use std::sync::Arc;

/// How to open a database. Build one with struct update syntax:
///
/// ```
/// use strata_engine::{Durability, Options};
/// let opts = Options { durability: Durability::Buffered, ..Options::default() };
/// # let _ = opts;
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    /// When a commit counts as done. Default [`Durability::Full`].
    pub durability: Durability,
    /// Page size for a new database, a power of two from 4096 to 32768.
    /// An existing database keeps the page size it was created with.
    /// Default 4096.
    pub page_size: usize,
    /// Bytes of clean pages kept in memory. The cache holds only pages
    /// actually read, so this is a ceiling, not an allocation. Default
    /// 512 MiB (redb's default is 1 GiB; LMDB uses all the free memory the
    /// operating system will give its mapping).
    pub cache_size: usize,
    /// Read clean pages in place through a read-only mapping of the data
    /// file, as LMDB does, rather than copying them into the cache:
    /// `cache_size` then bounds only the pages beyond the mapping. Each
    /// page is still checked (checksum, structure) before its bytes are
    /// trusted, the first time with `pread`. Has no effect on storage
    /// that cannot be mapped (the simulated disk). Another process that
    /// ignores the file's lock and truncates it underneath can crash this
    /// one with SIGBUS (see `UNSAFE.md`). Default `true`.
    pub map_data_file: bool,
    /// A checkpoint runs when the log grows past this many bytes.
    /// Default 32 MiB.
    pub checkpoint_log_size: u64,
    /// A checkpoint runs when pages changed since the last one take more
    /// than this many bytes of memory. Default 256 MiB.
    pub checkpoint_dirty_size: usize,
    /// Bytes of log file written (with zeros) when the log is created, so
    /// that commits overwrite allocated blocks rather than append. The log
    /// then grows 1 MiB or more at a time, zeros ahead, up to about
    /// `checkpoint_log_size`, and keeps that size: a checkpoint rewinds the
    /// log, it never deletes it. Default 1 MiB.
    pub log_preallocate: u64,
    /// Create the database if the file does not exist. Default `true`.
    /// Ignored with `read_only`.
    pub create: bool,
    /// Open for reading only. Default `false`.
    ///
    /// Both files are opened read-only, so a database whose files the
    /// process may not write (permissions, a read-only mount, a backup
    /// copy) can be read. Nothing is ever written to either file:
    /// [`Database::begin`](crate::Database::begin),
    /// [`Database::transaction`](crate::Database::transaction) and
    /// [`Database::checkpoint`](crate::Database::checkpoint) fail with
    /// [`Error::ReadOnly`]; [`Database::begin_read`](crate::Database::begin_read)
    /// and [`Database::check`](crate::Database::check) work. The database
    /// must exist. If an unclean shutdown left transactions in the log,
    /// they are replayed into memory, exactly as a writable open would
    /// replay them, and kept there (as changed pages, for the life of the
    /// handle) without being written back: the next writable open does
    /// that. Several read-only handles may have a database open at once,
    /// in one process or several; a read-only handle and a writable one
    /// exclude each other ([`Error::Locked`]). (The simulated file system
    /// has only exclusive locks.)
    pub read_only: bool,
    /// How long a transaction waits for a lock before it fails with
    /// [`Error::LockTimeout`]. Default 5 seconds.
    pub lock_timeout: std::time::Duration,
    /// How many times [`Database::transaction`](crate::Database::transaction)
    /// reruns a transaction that lost a deadlock or timed out. Default 10.
    pub max_retries: u32,
    /// The most memory the versions that open snapshots (read-only
    /// transactions) read may take: the before-images of the keys
    /// writers changed since the oldest open snapshot began. Past it, the
    /// oldest snapshots expire, and their next read fails with
    /// [`Error::SnapshotTooOld`]. Default 64 MiB.
    pub max_snapshot_memory: usize,
    /// The file system: [`RealVfs`] by default; tests pass a
    /// [`SimVfs`](crate::storage::SimVfs).
    pub storage: Arc<dyn Vfs>,
    /// Bytes of memory a transaction's private writes may hold (keys,
    /// values and their index). Past it, the writes are sorted and spilled
    /// to a scratch file beside the database (`<path>-spill`, never synced,
    /// unnamed while in use), so a transaction far larger than memory can
    /// commit; a commit too large for the log also writes changed pages out
    /// when they pass this many bytes. Default 64 MiB.
    pub txn_memory_limit: usize,
    /// The most bytes of keys and values one transaction may write, in
    /// memory and spilled together; past it a write fails with
    /// [`Error::TransactionTooLarge`](crate::Error::TransactionTooLarge)
    /// and the transaction is rolled back. Default `u64::MAX` (no limit).
    pub max_transaction_size: u64,
    /// Open even if the database's log cannot be used: missing, shorter
    /// than its header, with a damaged header, or another database's
    /// ([`Error::LogUnusable`], or `Corruption` at log offset 0). The
    /// database then opens as of its last checkpoint, and a writable open
    /// replaces whatever is at the log's path with a new, empty log.
    /// Default `false`.
    ///
    /// **This loses data** when the database was not closed cleanly:
    /// every transaction committed after its last checkpoint is gone (the
    /// error without this option says whether any may be, as
    /// `commits_at_risk`). Use it only when the database's own log is gone
    /// for good. A log that is the database's own is still replayed, and a
    /// log whose frames are damaged still fails with `Corruption`. With
    /// [`read_only`](Options::read_only), nothing is replaced: the handle
    /// reads the last checkpoint.
    pub recover_without_log: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Full,
            page_size: 4096,
            cache_size: 512 << 20,
            map_data_file: true,
            checkpoint_log_size: 32 << 20,
            checkpoint_dirty_size: 256 << 20,
            log_preallocate: 1 << 20,
            create: true,
            read_only: false,
            lock_timeout: std::time::Duration::from_secs(5),
            max_retries: 10,
            max_snapshot_memory: 64 << 20,
            storage: Arc::new(RealVfs),
            txn_memory_limit: 64 << 20,
            max_transaction_size: u64::MAX,
            recover_without_log: false,
        }
    }
}

impl Options {
    pub(crate) fn validate(&self) -> Result<()> {
        if !file_header::valid_page_size(self.page_size) {
            return Err(Error::InvalidOptions(format!(
                "page_size {} is not a power of two from 4096 to 32768",
                self.page_size
            )));
        }
        if self.log_preallocate > 1 << 40 {
            return Err(Error::InvalidOptions(format!(
                "log_preallocate {} is over 1 TiB",
                self.log_preallocate
            )));
        }
        Ok(())
    }
}
