//! The real file system, through `std::fs`.
//!
//! Every error names its file: an `io::Error` from here reads
//! `<path>: <what the system said>`, with the system's `ErrorKind` kept.
//!
//! Opening never blocks and never opens what is not a regular file. The
//! path's type is looked at first (a FIFO, a socket or a device is refused
//! without being opened), and the open itself uses `O_NONBLOCK` (a FIFO put
//! there in between does not wait for a writer) and `O_NOCTTY` (a terminal
//! does not become the process's); the opened file's own type is then
//! checked before anything else is done with it. `O_NONBLOCK` stays set on
//! the handle and has no effect on a regular file's reads and writes.

use super::mapping::Mapping;
use super::vfs::{FileId, NotARegularFile, OpenMode, StorageFile, Vfs};
use std::fs::{File, FileType, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// The operating system's file system.
///
/// ```
/// use std::sync::Arc;
/// use strata_engine::storage::RealVfs;
/// use strata_engine::{Database, Options};
/// # let dir = tempfile::tempdir().unwrap();
/// // The default: Options::default().storage is the real file system.
/// let db = Database::open_with(dir.path().join("db"), Options { storage: Arc::new(RealVfs), ..Options::default() })?;
/// # drop(db);
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct RealVfs;

/// `e`, with `path` at the head of its message and its kind kept.
fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// What a non-regular file is, for the error naming it; `None` for a
/// regular file or a directory (which `open` reports as such).
fn special_kind(t: FileType) -> Option<&'static str> {
    if t.is_file() || t.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO");
        }
        if t.is_socket() {
            return Some("a socket");
        }
        if t.is_char_device() {
            return Some("a character device");
        }
        if t.is_block_device() {
            return Some("a block device");
        }
    }
    Some("not a regular file")
}

/// Refuses `path` if it names something other than a regular file or a
/// directory: looked at by path, so nothing is opened.
fn refuse_special(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) => match special_kind(m.file_type()) {
            Some(kind) => Err(NotARegularFile::error(path, kind)),
            None => Ok(()),
        },
        // The open reports what is wrong, with its own error.
        Err(_) => Ok(()),
    }
}

#[cfg(unix)]
fn file_id_of(m: &std::fs::Metadata) -> io::Result<FileId> {
    use std::os::unix::fs::MetadataExt;
    Ok(FileId::new(m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id_of(_m: &std::fs::Metadata) -> io::Result<FileId> {
    // No stable inode number elsewhere: the checks that need it are off.
    Err(io::ErrorKind::Unsupported.into())
}

impl Vfs for RealVfs {
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<Box<dyn StorageFile>> {
        let mut opts = OpenOptions::new();
        opts.read(true);
        match mode {
            OpenMode::Existing => {
                opts.write(true);
            }
            OpenMode::ReadOnly => {}
            OpenMode::CreateTruncate => {
                opts.write(true).create(true).truncate(true);
            }
            OpenMode::CreateNew => {
                opts.write(true).create_new(true);
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // The database holds the application's data: owner-only.
            opts.mode(0o600);
            opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
        }
        if mode != OpenMode::CreateNew {
            refuse_special(path)?;
        }
        let file = opts.open(path).map_err(|e| at(path, e))?;
        let t = file.metadata().map_err(|e| at(path, e))?.file_type();
        if t.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!("{} is a directory", path.display()),
            ));
        }
        if let Some(kind) = special_kind(t) {
            return Err(NotARegularFile::error(path, kind));
        }
        Ok(Box::new(RealFile {
            file,
            path: path.to_path_buf(),
        }))
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        path.try_exists().map_err(|e| at(path, e))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to).map_err(|e| at(from, e))
    }

    /// A hard link to `to`, which the system refuses if anything is there,
    /// then the removal of `from`. A file system without hard links (FAT,
    /// some network and FUSE file systems) falls back to a check and a
    /// rename, which two processes racing to create the same database
    /// there could both pass.
    fn rename_no_replace(&self, from: &Path, to: &Path) -> io::Result<()> {
        match std::fs::hard_link(from, to) {
            Ok(()) => match std::fs::remove_file(from) {
                // Someone cleaning up leftovers was first: the link stands.
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(at(from, e)),
                _ => Ok(()),
            },
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(at(to, e)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied
                ) && from.exists() =>
            {
                if to.try_exists().map_err(|e| at(to, e))? {
                    return Err(at(to, io::ErrorKind::AlreadyExists.into()));
                }
                self.rename(from, to)
            }
            Err(e) => Err(at(from, e)),
        }
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path).map_err(|e| at(path, e))
    }

    fn resolve(&self, path: &Path) -> io::Result<PathBuf> {
        match std::fs::canonicalize(path) {
            Ok(p) => Ok(p),
            // Nothing there yet, or a link to nothing: follow the links by
            // hand, to the name the file would be created under.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut p = path.to_path_buf();
                // A loop makes `canonicalize` fail with ELOOP, not NotFound;
                // the bound only keeps a link changed meanwhile from
                // spinning here (the open then reports what it finds).
                for _ in 0..40 {
                    match std::fs::symlink_metadata(&p) {
                        Ok(m) if m.file_type().is_symlink() => {
                            let target = std::fs::read_link(&p).map_err(|e| at(&p, e))?;
                            p = match p.parent() {
                                Some(dir) => dir.join(target),
                                None => target,
                            };
                        }
                        _ => break,
                    }
                }
                Ok(p)
            }
            Err(e) => Err(at(path, e)),
        }
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        #[cfg(unix)]
        {
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| at(dir, e))
        }
        #[cfg(not(unix))]
        {
            // Other platforms give no way to sync a directory; their
            // metadata journaling is relied on instead.
            let _ = dir;
            Ok(())
        }
    }

    fn file_id(&self, path: &Path) -> io::Result<FileId> {
        file_id_of(&std::fs::metadata(path).map_err(|e| at(path, e))?)
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        std::fs::read_dir(dir)
            .and_then(|entries| entries.map(|e| e.map(|e| e.path())).collect())
            .map_err(|e| at(dir, e))
    }
}

#[derive(Debug)]
struct RealFile {
    file: File,
    /// The name it was opened by, for errors.
    path: PathBuf,
}

impl RealFile {
    fn at(&self, e: io::Error) -> io::Error {
        at(&self.path, e)
    }
}

impl StorageFile for RealFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
                .map_err(|e| self.at(e))
        }
        #[cfg(windows)]
        {
            let mut done = 0;
            while done < buf.len() {
                let n = std::os::windows::fs::FileExt::seek_read(
                    &self.file,
                    &mut buf[done..],
                    offset + done as u64,
                )
                .map_err(|e| self.at(e))?;
                if n == 0 {
                    return Err(self.at(io::ErrorKind::UnexpectedEof.into()));
                }
                done += n;
            }
            Ok(())
        }
    }

    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::write_all_at(&self.file, buf, offset)
                .map_err(|e| self.at(e))
        }
        #[cfg(windows)]
        {
            let mut done = 0;
            while done < buf.len() {
                let n = std::os::windows::fs::FileExt::seek_write(
                    &self.file,
                    &buf[done..],
                    offset + done as u64,
                )
                .map_err(|e| self.at(e))?;
                if n == 0 {
                    return Err(self.at(io::ErrorKind::WriteZero.into()));
                }
                done += n;
            }
            Ok(())
        }
    }

    fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data().map_err(|e| self.at(e))
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len).map_err(|e| self.at(e))
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata().map_err(|e| self.at(e))?.len())
    }

    fn try_lock_exclusive(&self) -> io::Result<bool> {
        match self.file.try_lock() {
            Ok(()) => Ok(true),
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(e)) => Err(self.at(e)),
        }
    }

    fn try_lock_shared(&self) -> io::Result<bool> {
        match self.file.try_lock_shared() {
            Ok(()) => Ok(true),
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(e)) => Err(self.at(e)),
        }
    }

    fn file_id(&self) -> io::Result<FileId> {
        file_id_of(&self.file.metadata().map_err(|e| self.at(e))?)
    }

    #[allow(unsafe_code)]
    fn map(&self, len: u64) -> io::Result<Option<Mapping>> {
        if len == 0 || self.len()? < len {
            // Nothing to map, or a mapping that would reach past the end.
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| self.at(io::ErrorKind::FileTooLarge.into()))?;
        // SAFETY: `Mmap::map` is unsafe because the mapped bytes can change
        // or vanish underneath the returned slice if the file is written
        // or shrunk by someone else. Within Strata: the file was at least
        // `len` bytes long just above, and the only holder of mappings,
        // the pager, replaces its mapping under the tree latch before a
        // checkpoint shrinks the file (`page/mapped_pages.rs`, invariant
        // 3), so no mapped byte past the end of the file is ever read. The
        // bytes of a page change only when this process writes a page
        // number that no reader can reach through the mapping (pager
        // invariant 1: only dirty pages are written, and readers find
        // those in the dirty map), and every page is checked before its
        // bytes are trusted (invariant 1 of `mapped_pages.rs`). Other
        // processes are kept out by the exclusive (or, read-only, shared)
        // lock on the file; one that ignores that advisory lock and
        // truncates the file can fault this one, as with LMDB
        // (`UNSAFE.md`).
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(&self.file) }
            .map_err(|e| self.at(e))?;
        Ok(Some(Mapping::new(map)))
    }
}
