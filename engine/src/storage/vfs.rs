//! The two traits of the storage seam: [`Vfs`] names files, and
//! [`StorageFile`] is one open file. See the module above for what the
//! engine assumes of the media behind them.

use super::mapping::Mapping;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// How [`Vfs::open`] treats a file that does or does not exist.
///
/// ```
/// use std::path::Path;
/// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
/// let vfs = SimVfs::new(1);
/// let path = Path::new("/d/f");
/// assert!(vfs.open(path, OpenMode::Existing).is_err()); // NotFound
/// vfs.open(path, OpenMode::CreateNew)?;
/// assert!(vfs.open(path, OpenMode::CreateNew).is_err()); // AlreadyExists
/// vfs.open(path, OpenMode::ReadOnly)?;
/// # Ok::<(), std::io::Error>(())
/// ```
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
///
/// ```
/// use std::path::Path;
/// use strata_engine::storage::{OpenMode, RealVfs, StorageFile, Vfs};
/// # let dir = tempfile::tempdir()?;
/// // Writes `bytes` to a new file at `path` durably, through any file system.
/// fn write_durably(vfs: &dyn Vfs, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
///     let f = vfs.open(path, OpenMode::CreateNew)?;
///     f.write_at(bytes, 0)?;
///     f.sync_data()?;
///     vfs.sync_dir(path.parent().expect("a file in a directory"))
/// }
/// write_durably(&RealVfs, &dir.path().join("f"), b"hello")?;
/// assert!(RealVfs.exists(&dir.path().join("f"))?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait Vfs: Send + Sync + std::fmt::Debug + 'static {
    /// Opens `path` according to `mode`. Files that are created get
    /// owner-only permissions where the platform has them.
    ///
    /// Only a regular file is opened, and the call never blocks on what
    /// the path names: a directory fails with `IsADirectory`, and a FIFO,
    /// a socket or a device with a [`NotARegularFile`] (see
    /// [`NotARegularFile::is`]), before anything is read or written.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateTruncate)?;
    /// assert_eq!(f.len()?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>>;

    /// Whether something exists at `path`.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// assert!(!vfs.exists(Path::new("/d/f"))?);
    /// vfs.write_file(Path::new("/d/f"), b"");
    /// assert!(vfs.exists(Path::new("/d/f"))?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn exists(&self, path: &Path) -> io::Result<bool>;

    /// Atomically renames `from` to `to`, replacing `to` if it exists.
    /// Durable only after [`Vfs::sync_dir`] of the directory.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// vfs.write_file(Path::new("/d/new"), b"new");
    /// vfs.write_file(Path::new("/d/old"), b"old");
    /// vfs.rename(Path::new("/d/new"), Path::new("/d/old"))?; // replaces
    /// vfs.sync_dir(Path::new("/d"))?;
    /// assert_eq!(vfs.read_file(Path::new("/d/old")), Some(b"new".to_vec()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Removes the file at `path`.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// vfs.write_file(Path::new("/d/f"), b"");
    /// vfs.remove(Path::new("/d/f"))?;
    /// assert!(!vfs.exists(Path::new("/d/f"))?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn remove(&self, path: &Path) -> io::Result<()>;

    /// Makes the directory entries under `dir` (creations, renames,
    /// removals) durable.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{CrashMode, OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// vfs.sync_dir(Path::new("/d"))?; // the new name survives a crash from now on
    /// let image = vfs.snapshot_durable_image(CrashMode::DropAll);
    /// assert!(image.read_file(Path::new("/d/f")).is_some());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// The path the file at `path` really has, with symbolic links
    /// resolved, so that the log beside it is found whichever name the
    /// database is opened by; `path` itself if nothing is there yet. A
    /// loop of symbolic links is an error. The default returns `path`.
    ///
    /// ```
    /// use strata_engine::storage::{RealVfs, Vfs};
    /// # let dir = tempfile::tempdir()?;
    /// let real = dir.path().join("db");
    /// std::fs::write(&real, b"")?;
    /// # #[cfg(unix)] {
    /// let link = dir.path().join("link");
    /// std::os::unix::fs::symlink(&real, &link)?;
    /// assert_eq!(RealVfs.resolve(&link)?, real.canonicalize()?);
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// vfs.write_file(Path::new("/d/new"), b"new");
    /// vfs.write_file(Path::new("/d/taken"), b"taken");
    /// let e = vfs.rename_no_replace(Path::new("/d/new"), Path::new("/d/taken")).unwrap_err();
    /// assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    /// vfs.rename_no_replace(Path::new("/d/new"), Path::new("/d/free"))?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
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
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, StorageFile, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// assert_eq!(vfs.file_id(Path::new("/d/f"))?, f.file_id()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn file_id(&self, path: &Path) -> io::Result<FileId> {
        let _ = path;
        Err(io::ErrorKind::Unsupported.into())
    }

    /// The paths of the entries of directory `dir` (`dir` joined with each
    /// name), in no particular order. The default lists nothing.
    ///
    /// ```
    /// use strata_engine::storage::{RealVfs, Vfs};
    /// # let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a"), b"")?;
    /// assert_eq!(RealVfs.read_dir(dir.path())?, [dir.path().join("a")]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let _ = dir;
        Ok(Vec::new())
    }
}

/// The identity of a file, whichever name reaches it: its device and
/// inode numbers on Unix. Opening checks with it that the file it locked
/// is still the one at the path, and checkpoints that the log is still
/// the file at the log's path.
///
/// ```
/// use strata_engine::storage::{FileId, RealVfs, Vfs};
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("f");
/// std::fs::write(&path, b"")?;
/// // The same file by two names has one identity.
/// std::fs::hard_link(&path, dir.path().join("g"))?;
/// assert_eq!(RealVfs.file_id(&path)?, RealVfs.file_id(&dir.path().join("g"))?);
/// assert_ne!(FileId::new(1, 2), FileId::new(1, 3));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    /// The identity of inode `inode` of device `device`.
    ///
    /// ```
    /// use strata_engine::storage::FileId;
    /// assert_eq!(FileId::new(8, 42), FileId::new(8, 42));
    /// ```
    pub fn new(device: u64, inode: u64) -> FileId {
        FileId { device, inode }
    }
}

/// What [`Vfs::open`] fails with, inside an `io::Error`, when the path
/// names neither a regular file nor a directory.
///
/// ```
/// use std::path::Path;
/// use strata_engine::storage::NotARegularFile;
/// let e = NotARegularFile::error(Path::new("/tmp/fifo"), "a FIFO");
/// assert_eq!(e.to_string(), "/tmp/fifo: a FIFO, not a regular file");
/// ```
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
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::NotARegularFile;
    /// let e = NotARegularFile::error(Path::new("/dev/null"), "a character device");
    /// assert!(NotARegularFile::is(&e));
    /// ```
    pub fn error(path: &Path, kind: &'static str) -> io::Error {
        io::Error::other(NotARegularFile {
            path: path.to_path_buf(),
            kind,
        })
    }

    /// Whether `e` is one of these.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::NotARegularFile;
    /// assert!(NotARegularFile::is(&NotARegularFile::error(Path::new("/s"), "a socket")));
    /// assert!(!NotARegularFile::is(&std::io::Error::other("something else")));
    /// ```
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
///
/// ```
/// use std::path::Path;
/// use strata_engine::storage::{OpenMode, SimVfs, StorageFile, Vfs};
/// let vfs = SimVfs::new(1);
/// let f: Box<dyn StorageFile> = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
/// f.write_at(b"hello world", 0)?;
/// f.sync_data()?;
/// let mut buf = [0; 5];
/// f.read_at(&mut buf, 6)?;
/// assert_eq!(&buf, b"world");
/// # Ok::<(), std::io::Error>(())
/// ```
pub trait StorageFile: Send + Sync + std::fmt::Debug {
    /// Fills `buf` from `offset`. Reading past the end of the file fails
    /// with `UnexpectedEof`.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// f.write_at(b"abc", 0)?;
    /// let mut buf = [0; 4];
    /// assert_eq!(f.read_at(&mut buf, 0).unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;

    /// Writes all of `buf` at `offset`, extending the file if needed.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// f.write_at(b"xy", 10)?; // extends the file
    /// assert_eq!(f.len()?, 12);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;

    /// Makes every byte written so far durable (`fdatasync`).
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{CrashMode, OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// vfs.sync_dir(Path::new("/d"))?;
    /// f.write_at(b"kept", 0)?;
    /// f.sync_data()?;
    /// let image = vfs.snapshot_durable_image(CrashMode::DropAll);
    /// assert_eq!(image.read_file(Path::new("/d/f")), Some(b"kept".to_vec()));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn sync_data(&self) -> io::Result<()>;

    /// Sets the file's length, truncating or zero-extending it.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// f.set_len(4096)?;
    /// assert_eq!(f.len()?, 4096);
    /// f.set_len(0)?;
    /// assert!(f.is_empty()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn set_len(&self, len: u64) -> io::Result<()>;

    /// The file's current length in bytes.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// f.write_at(b"abc", 0)?;
    /// assert_eq!(f.len()?, 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn len(&self) -> io::Result<u64>;

    /// Whether the file is empty.
    ///
    /// ```
    /// use std::path::Path;
    /// use strata_engine::storage::{OpenMode, SimVfs, Vfs};
    /// let vfs = SimVfs::new(1);
    /// let f = vfs.open(Path::new("/d/f"), OpenMode::CreateNew)?;
    /// assert!(f.is_empty()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Takes an exclusive lock on the file, held until the handle is
    /// dropped. Returns `Ok(false)` if another handle (in this process or
    /// another) holds it.
    ///
    /// ```
    /// use strata_engine::storage::{OpenMode, RealVfs, Vfs};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("f");
    /// let a = RealVfs.open(&path, OpenMode::CreateNew)?;
    /// let b = RealVfs.open(&path, OpenMode::Existing)?;
    /// assert!(a.try_lock_exclusive()?);
    /// assert!(!b.try_lock_exclusive()?); // another handle holds it
    /// drop(a);
    /// assert!(b.try_lock_exclusive()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn try_lock_exclusive(&self) -> io::Result<bool>;

    /// Takes a shared lock on the file, held until the handle is dropped:
    /// other shared locks may be held with it, an exclusive one may not.
    /// Returns `Ok(false)` if another handle holds an exclusive lock. The
    /// default takes the exclusive lock.
    ///
    /// ```
    /// use strata_engine::storage::{OpenMode, RealVfs, Vfs};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("f");
    /// let a = RealVfs.open(&path, OpenMode::CreateNew)?;
    /// let b = RealVfs.open(&path, OpenMode::ReadOnly)?;
    /// assert!(a.try_lock_shared()? && b.try_lock_shared()?); // readers together
    /// let c = RealVfs.open(&path, OpenMode::Existing)?;
    /// assert!(!c.try_lock_exclusive()?); // but no writer with them
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn try_lock_shared(&self) -> io::Result<bool> {
        self.try_lock_exclusive()
    }

    /// The identity of this file (see [`Vfs::file_id`]). The default is
    /// `Unsupported`.
    ///
    /// ```
    /// use strata_engine::storage::{OpenMode, RealVfs, Vfs};
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("f");
    /// let f = RealVfs.open(&path, OpenMode::CreateNew)?;
    /// assert_eq!(f.file_id()?, RealVfs.file_id(&path)?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn file_id(&self) -> io::Result<FileId> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// The first `len` bytes of the file mapped read-only, if this file
    /// can be mapped: `Ok(None)` by default, and always on the simulated
    /// disk, whose readers then go through [`StorageFile::read_at`]. The
    /// caller must not read the mapping past the end of the file
    /// (`storage/mapping.rs`, WHAT THE HOLDER PROMISES).
    fn map(&self, len: u64) -> io::Result<Option<Mapping>> {
        let _ = len;
        Ok(None)
    }
}
