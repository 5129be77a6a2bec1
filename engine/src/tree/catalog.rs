//! The catalog: the names of the tables and where their trees start.
//!
//! On disk the catalog is itself a B+tree (root in the meta page) keyed by
//! table name:
//!
//! | OFFSET | SIZE | DESCRIPTION (value of a catalog entry) |
//! | --- | --- | --- |
//! | 0 | 4 | table id (stable; the log names tables by id) |
//! | 4 | 4 | root page of the table's tree, 0 if empty |
//!
//! In memory it is loaded whole into [`Tables`]. A commit changes roots in
//! memory only; a checkpoint writes the entries of the tables whose root
//! changed back into the catalog tree.

use crate::base::hash::FastMap;
use crate::error::{Error, Result};
use crate::page::page_header::{FIRST_DATA_PAGE, PageId};
use crate::page::pager::{Pages, PagesMut};
use crate::tree::btree;
use crate::tree::cursor::Cursor;

/// A table's stable number.
pub(crate) type TableId = u32;

/// The longest table name, in bytes.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = strata_engine::Database::open(dir.path().join("db"))?;
/// let mut tx = db.begin()?;
/// tx.create_table(&"t".repeat(strata_engine::MAX_TABLE_NAME))?;
/// let too_long = "t".repeat(strata_engine::MAX_TABLE_NAME + 1);
/// assert!(matches!(tx.create_table(&too_long), Err(strata_engine::Error::InvalidTableName { .. })));
/// # Ok::<(), strata_engine::Error>(())
/// ```
pub const MAX_TABLE_NAME: usize = 255;

/// One table.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub name: String,
    pub root: PageId,
    /// The root changed since the last checkpoint wrote this entry.
    pub changed: bool,
    /// The LSN of the transaction that created the table, or 0 for one
    /// that existed when the database was opened: snapshots older than it
    /// do not see the table (`store/versions.rs`).
    pub created_lsn: u64,
}

/// Every table, by name and by id.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tables {
    by_name: FastMap<String, TableId>,
    by_id: FastMap<TableId, Table>,
}

/// Refuses names that cannot be table names.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.len() > MAX_TABLE_NAME {
        "longer than 255 bytes"
    } else {
        return Ok(());
    };
    Err(Error::InvalidTableName {
        name: name.to_string(),
        reason,
    })
}

impl Tables {
    /// Loads the catalog tree at `root`, through a cursor. `page_count`
    /// and `next_id` come from the same meta page and bound what an entry
    /// may say.
    pub(crate) fn load(
        r: &impl Pages,
        root: PageId,
        page_count: PageId,
        next_id: TableId,
    ) -> Result<Tables> {
        let mut tables = Tables::default();
        let mut cursor = Cursor::new(false);
        let mut buf = Vec::new();
        while let Some(e) = cursor.next(r, root)? {
            let name = cursor.bytes(e.key.clone());
            let value = cursor.value(r, root, &e, &mut buf)?;
            let bad =
                |what: &str| Error::corrupt_page(root, format!("catalog entry {name:?}: {what}"));
            let name = std::str::from_utf8(name).map_err(|_| bad("name is not UTF-8"))?;
            check_name(name).map_err(|_| bad("invalid name"))?;
            let (id, table_root) = match value[..] {
                [a, b, c, d, e, f, g, h] => (
                    u32::from_le_bytes([a, b, c, d]),
                    u32::from_le_bytes([e, f, g, h]),
                ),
                _ => return Err(bad("value is not 8 bytes")),
            };
            if id == 0 || id >= next_id || tables.by_id.contains_key(&id) {
                return Err(bad("bad or repeated table id"));
            }
            if table_root != 0 && !(FIRST_DATA_PAGE..page_count).contains(&table_root) {
                return Err(bad("root page out of range"));
            }
            tables.insert(id, name.to_string(), table_root, false, 0);
        }
        Ok(tables)
    }

    pub(crate) fn insert(
        &mut self,
        id: TableId,
        name: String,
        root: PageId,
        changed: bool,
        created_lsn: u64,
    ) {
        self.by_name.insert(name.clone(), id);
        self.by_id.insert(
            id,
            Table {
                name,
                root,
                changed,
                created_lsn,
            },
        );
    }

    pub(crate) fn id(&self, name: &str) -> Option<TableId> {
        self.by_name.get(name).copied()
    }

    pub(crate) fn get(&self, id: TableId) -> Option<&Table> {
        self.by_id.get(&id)
    }

    pub(crate) fn set_root(&mut self, id: TableId, root: PageId) {
        if let Some(t) = self.by_id.get_mut(&id)
            && t.root != root
        {
            t.root = root;
            t.changed = true;
        }
    }

    /// Every table, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (TableId, &Table)> {
        self.by_id.iter().map(|(id, t)| (*id, t))
    }

    /// Writes the changed entries into the catalog tree at `root`; returns
    /// the new root. Entries stay marked changed until [`Tables::saved`].
    pub(crate) fn save(&self, w: &mut impl PagesMut, mut root: PageId) -> Result<PageId> {
        let mut changed: Vec<(&TableId, &Table)> =
            self.by_id.iter().filter(|(_, t)| t.changed).collect();
        changed.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        for (id, t) in changed {
            let mut v = [0u8; 8];
            v[0..4].copy_from_slice(&id.to_le_bytes());
            v[4..8].copy_from_slice(&t.root.to_le_bytes());
            root = btree::insert(w, root, t.name.as_bytes(), &v, None)?;
        }
        Ok(root)
    }

    /// The checkpoint that saved the entries is durable.
    pub(crate) fn saved(&mut self) {
        for t in self.by_id.values_mut() {
            t.changed = false;
        }
    }
}
