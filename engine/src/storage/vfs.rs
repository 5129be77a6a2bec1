//! The two traits of the storage seam: [`Vfs`] names files, and
//! [`StorageFile`] is one open file. See the module above for what the
//! engine assumes of the media behind them.

use std::io;
use std::path::Path;

/// How [`Vfs::open`] treats a file that does or does not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Open an existing file for reading and writing; fail with
    /// `NotFound` if it does not exist.
    Existing,
    /// Open an existing file for reading only.
    ReadOnly,
    /// Create the file, or truncate it to zero length if it exists.
    CreateTruncate,
    /// Create the file; fail with `AlreadyExists` if it exists.
    CreateNew,
}

/// A file system, as far as the engine needs one.
///
/// Implementations must be cheap to share between threads; the engine keeps
/// one in an `Arc` for the life of a database handle.
pub trait Vfs: Send + Sync + std::fmt::Debug + 'static {
    /// Opens `path` according to `mode`. Files that are created get
    /// owner-only permissions where the platform has them.
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>>;

    /// Whether something exists at `path`.
    fn exists(&self, path: &Path) -> io::Result<bool>;

    /// Atomically renames `from` to `to`, replacing `to` if it exists.
    /// Durable only after [`Vfs::sync_dir`] of the directory.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Removes the file at `path`.
    fn remove(&self, path: &Path) -> io::Result<()>;

    /// Makes the directory entries under `dir` (creations, renames,
    /// removals) durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// The path the file at `path` really has, with symbolic links
    /// resolved, so that the log beside it is found whichever name the
    /// database is opened by; `path` itself if nothing is there yet. A
    /// loop of symbolic links is an error. The default returns `path`.
    fn resolve(&self, path: &Path) -> io::Result<std::path::PathBuf> {
        Ok(path.to_path_buf())
    }
}

/// One open file: positional reads and writes, length, sync, and an
/// exclusive advisory lock.
pub trait StorageFile: Send + Sync + std::fmt::Debug {
    /// Fills `buf` from `offset`. Reading past the end of the file fails
    /// with `UnexpectedEof`.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;

    /// Writes all of `buf` at `offset`, extending the file if needed.
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;

    /// Makes every byte written so far durable (`fdatasync`).
    fn sync_data(&self) -> io::Result<()>;

    /// Sets the file's length, truncating or zero-extending it.
    fn set_len(&self, len: u64) -> io::Result<()>;

    /// The file's current length in bytes.
    fn len(&self) -> io::Result<u64>;

    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Takes an exclusive lock on the file, held until the handle is
    /// dropped. Returns `Ok(false)` if another handle (in this process or
    /// another) holds it.
    fn try_lock_exclusive(&self) -> io::Result<bool>;

    /// Takes a shared lock on the file, held until the handle is dropped:
    /// other shared locks may be held with it, an exclusive one may not.
    /// Returns `Ok(false)` if another handle holds an exclusive lock. The
    /// default takes the exclusive lock.
    fn try_lock_shared(&self) -> io::Result<bool> {
        self.try_lock_exclusive()
    }
}
