//! The two traits of the storage seam: [`Vfs`] names files, and
//! [`StorageFile`] is one open file. See the module above for what the
//! engine assumes of the media behind them.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

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
    ///
    /// Only a regular file is opened, and the call never blocks on what
    /// the path names: a directory fails with `IsADirectory`, and a FIFO,
    /// a socket or a device with a [`NotARegularFile`] (see
    /// [`NotARegularFile::is`]), before anything is read or written.
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

    /// Moves the file at `from` to `to` only if nothing is at `to`;
    /// otherwise fails with `AlreadyExists` and leaves both as they were.
    /// Two callers racing to the same `to` cannot both succeed, and
    /// neither replaces a file another has put there. A crash may leave
    /// both names (the real file system links, then unlinks `from`), and
    /// the names are durable only after [`Vfs::sync_dir`]. The default
    /// checks and then renames, which is not atomic: a file system that
    /// others may write must override it.
    fn rename_no_replace(&self, from: &Path, to: &Path) -> io::Result<()> {
        if self.exists(to)? {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{}: already exists", to.display()),
            ));
        }
        self.rename(from, to)
    }

    /// The identity of the file at `path`, symbolic links followed:
    /// equal to [`StorageFile::file_id`] of a handle exactly when the path
    /// leads to that handle's file. `NotFound` if nothing is there. The
    /// default is `Unsupported`, which turns off the checks that use it.
    fn file_id(&self, path: &Path) -> io::Result<FileId> {
        let _ = path;
        Err(io::ErrorKind::Unsupported.into())
    }

    /// The paths of the entries of directory `dir` (`dir` joined with each
    /// name), in no particular order. The default lists nothing.
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let _ = dir;
        Ok(Vec::new())
    }
}

/// The identity of a file, whichever name reaches it: its device and
/// inode numbers on Unix. Opening checks with it that the file it locked
/// is still the one at the path, and checkpoints that the log is still
/// the file at the log's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    /// The identity of inode `inode` of device `device`.
    pub fn new(device: u64, inode: u64) -> FileId {
        FileId { device, inode }
    }
}

/// What [`Vfs::open`] fails with, inside an `io::Error`, when the path
/// names neither a regular file nor a directory.
#[derive(Debug)]
pub struct NotARegularFile {
    /// The path opened.
    pub path: PathBuf,
    /// What is there: `"a FIFO"`, `"a socket"`, `"a character device"`,
    /// `"a block device"`, or `"not a regular file"`.
    pub kind: &'static str,
}

impl NotARegularFile {
    /// The error to return for `path`, where `kind` is.
    pub fn error(path: &Path, kind: &'static str) -> io::Error {
        io::Error::other(NotARegularFile {
            path: path.to_path_buf(),
            kind,
        })
    }

    /// Whether `e` is one of these.
    pub fn is(e: &io::Error) -> bool {
        e.get_ref()
            .is_some_and(|inner| inner.downcast_ref::<NotARegularFile>().is_some())
    }
}

impl fmt::Display for NotARegularFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}, not a regular file",
            self.path.display(),
            self.kind
        )
    }
}

impl std::error::Error for NotARegularFile {}

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

    /// The identity of this file (see [`Vfs::file_id`]). The default is
    /// `Unsupported`.
    fn file_id(&self) -> io::Result<FileId> {
        Err(io::ErrorKind::Unsupported.into())
    }
}
