//! [`Database::info`]: what a handle knows about its file without
//! walking it, for tools (`strata stats`, `strata dump`). The integrity
//! check ([`Database::check`]) is the one that walks every page.

use crate::base::bytes::get_u32;
use crate::db::database::Database;
use crate::error::Result;
use crate::page::file_header::HEADER_LEN;
use crate::page::page_header;

/// What [`Database::info`] reports.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let db = strata_engine::Database::open(dir.path().join("db"))?;
/// let info = db.info()?;
/// assert_eq!(info.page_size, 4096);
/// assert!(info.tables.is_empty());
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// The format version in the file's header (`docs/file-format.md`):
    /// a version-2 file keeps 2 after it is opened by this build.
    pub format_version: u32,
    /// The page size the database was created with.
    pub page_size: usize,
    /// Pages in the file as of the committed state (the file may be
    /// longer by pages a checkpoint has yet to reuse).
    pub page_count: u64,
    /// The LSN of the last transaction the data file holds: the last
    /// checkpoint's.
    pub checkpoint_lsn: u64,
    /// The LSN of the last transaction committed (equal to
    /// `checkpoint_lsn` when the log holds nothing since).
    pub last_lsn: u64,
    /// Every committed table, by name, sorted.
    pub tables: Vec<String>,
}

impl Database {
    /// The file's format version, page counts, LSNs and tables, as the
    /// handle holds them: no page is walked, one header is read.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-info-doc-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let db = strata_engine::Database::open(dir.join("info.strata"))?;
    /// let mut tx = db.begin()?;
    /// tx.create_table("accounts")?;
    /// tx.commit()?;
    /// let info = db.info()?;
    /// assert_eq!(info.tables, ["accounts"]);
    /// assert_eq!(info.format_version, strata_engine::FORMAT_VERSION);
    /// assert!(info.last_lsn >= info.checkpoint_lsn);
    /// # drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn info(&self) -> Result<Info> {
        let store = &self.inner.store;
        let mut head = vec![0u8; HEADER_LEN];
        page_header::read_exact(&*store.data, &mut head, 0, 0)?;
        let st = store.tree.read();
        let mut tables: Vec<String> = st.tables.iter().map(|(_, t)| t.name.clone()).collect();
        tables.sort();
        Ok(Info {
            // The header was checked at open; a short read failed above.
            format_version: get_u32(&head, 8).unwrap_or(0),
            page_size: store.page_size,
            page_count: u64::from(st.pager.page_count()),
            checkpoint_lsn: st.meta.checkpoint_lsn,
            last_lsn: st.lsn,
            tables,
        })
    }
}
