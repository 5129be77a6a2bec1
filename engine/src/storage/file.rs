//! The real file system, through `std::fs`.

use super::vfs::{OpenMode, StorageFile, Vfs};
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::Path;

/// The operating system's file system.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealVfs;

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
        }
        let file = opts.open(path)?;
        if file.metadata()?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!("{} is a directory", path.display()),
            ));
        }
        Ok(Box::new(RealFile { file }))
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        path.try_exists()
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn resolve(&self, path: &Path) -> io::Result<std::path::PathBuf> {
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
                            let target = std::fs::read_link(&p)?;
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
            Err(e) => Err(e),
        }
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        #[cfg(unix)]
        {
            File::open(dir)?.sync_all()
        }
        #[cfg(not(unix))]
        {
            // Other platforms give no way to sync a directory; their
            // metadata journaling is relied on instead.
            let _ = dir;
            Ok(())
        }
    }
}

#[derive(Debug)]
struct RealFile {
    file: File,
}

impl StorageFile for RealFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
        }
        #[cfg(windows)]
        {
            let mut done = 0;
            while done < buf.len() {
                let n = std::os::windows::fs::FileExt::seek_read(
                    &self.file,
                    &mut buf[done..],
                    offset + done as u64,
                )?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
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
        }
        #[cfg(windows)]
        {
            let mut done = 0;
            while done < buf.len() {
                let n = std::os::windows::fs::FileExt::seek_write(
                    &self.file,
                    &buf[done..],
                    offset + done as u64,
                )?;
                if n == 0 {
                    return Err(io::ErrorKind::WriteZero.into());
                }
                done += n;
            }
            Ok(())
        }
    }

    fn sync_data(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    fn try_lock_exclusive(&self) -> io::Result<bool> {
        match self.file.try_lock() {
            Ok(()) => Ok(true),
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    fn try_lock_shared(&self) -> io::Result<bool> {
        match self.file.try_lock_shared() {
            Ok(()) => Ok(true),
            Err(TryLockError::WouldBlock) => Ok(false),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }
}
