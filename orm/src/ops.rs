//! Operations on the file under a [`Database`]: online backup and
//! compaction, forwarded to the engine (`strata_engine::Database`). Over
//! another store (the etcd backend) they fail with the engine's
//! [`Unsupported`](strata_engine::Error::Unsupported): that store's own
//! tools back it up and compact it.

use crate::error::{Error, Result};
use crate::session::Database;
use std::path::Path;
use strata_engine::CompactReport;

impl Database {
    /// Writes a consistent copy of the database (as of one commit) to
    /// `dest`, a new file (refuses an existing one), while other threads
    /// keep committing: [`strata_engine::Database::backup_to`]. The copy
    /// holds every model's rows, indexes and stored schemas, and opens
    /// like any database.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-orm-backup-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let db = strata::Database::open(dir.join("app.strata"))?;
    /// db.backup_to(dir.join("app-copy.strata"))?;
    /// let copy = strata::Database::open(dir.join("app-copy.strata"))?;
    /// copy.check()?;
    /// # drop(copy); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn backup_to(&self, dest: impl AsRef<Path>) -> Result<()> {
        Ok(self.file_engine("a backup")?.backup_to(dest)?)
    }

    /// Shrinks the data file to within 1.2x of its live pages and gives
    /// back the log's space beyond its preallocation:
    /// [`strata_engine::Database::compact`]. Crash-safe.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-orm-compact-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let db = strata::Database::open(dir.join("app.strata"))?;
    /// let report = db.compact()?;
    /// assert!(report.data_after <= report.data_before);
    /// # drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn compact(&self) -> Result<CompactReport> {
        Ok(self.file_engine("compaction")?.compact()?)
    }

    /// The engine underneath, or `Unsupported` naming `operation`.
    fn file_engine(&self, operation: &'static str) -> Result<&strata_engine::Database> {
        self.engine()
            .ok_or(Error::Engine(strata_engine::Error::Unsupported {
                operation,
                reason: "the database is not a Strata file (another store, such as etcd, is \
                     backed up and compacted with its own tools)"
                    .into(),
            }))
    }
}
