//! The ORM's integrity check, [`Database::check`]: rows against their
//! schemas, indexes against rows, foreign keys and links against the rows
//! they name. It reads only the stored schemas and the tables, never a
//! model's Rust type, so it covers every table in the file.
//!
//! For each stored schema, in one read transaction:
//!
//! 1. every row decodes from the schema alone (`layout::RowLayout::values`:
//!    it holds at least the schema's `min_columns`, invariant R1), lies under the encoding of its own primary key, holds no NaN in an
//!    indexed column, no string over its `max_len`, and no foreign key
//!    naming a missing parent;
//! 2. every index table holds exactly the entries its rows call for;
//! 3. every link of an association has its reverse, both directions hold
//!    as many links, and both ends of every link exist.

use crate::error::{Error, Result};
use crate::kv::KvTxn;
use crate::layout::{decode_key, index_key, index_table, key_of, link_key, reverse_table};
use crate::schema::{StoredColumn, StoredSchema};
use crate::session::Database;
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

impl Database {
    /// The engine's integrity check, then the ORM's: every row decodes
    /// against its stored schema, and every index holds exactly the entries
    /// of its rows. Returns the number of rows checked.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let rows = db.check()?; // every page, row, index entry and link
    /// assert_eq!(rows, 8); // 2 users, 3 posts, 2 tags, 1 profile
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn check(&self) -> Result<u64> {
        if let Some(e) = &self.inner.engine {
            e.check()?;
        }
        let schemas: Vec<StoredSchema> = self.inner.schemas.read().values().cloned().collect();
        let tx = self.inner.store.begin_read()?;
        let mut rows = 0;
        for s in &schemas {
            let expected = check_rows(&*tx, s, &mut rows)?;
            check_indexes(&*tx, s, &expected)?;
            check_links(&*tx, s)?;
        }
        tx.commit()?;
        Ok(rows)
    }
}

fn corrupt(table: &str, detail: String) -> Error {
    Error::Corruption {
        table: table.to_string(),
        detail,
    }
}

/// The entries of an index table, key to value.
type Entries = BTreeMap<Vec<u8>, Vec<u8>>;

/// Every entry of `table`.
fn scan_all(tx: &dyn KvTxn, table: &str) -> Result<Entries> {
    Ok(tx
        .scan(table, Bound::Unbounded, Bound::Unbounded, false)?
        .collect::<strata_engine::Result<Entries>>()?)
}

/// Checks every row of `s`'s table, counting them in `rows`; returns the
/// index entries the rows call for, per column.
fn check_rows(tx: &dyn KvTxn, s: &StoredSchema, rows: &mut u64) -> Result<Vec<Entries>> {
    // A type this build cannot decode is an error of each row, not of
    // the schema: an empty table still passes.
    let layout = s.layout();
    let key_col = s.key_column();
    let mut expected: Vec<Entries> = vec![BTreeMap::new(); s.columns.len()];
    for kv in tx.scan(&s.table, Bound::Unbounded, Bound::Unbounded, false)? {
        let (k, v) = kv?;
        *rows += 1;
        let values = layout
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|layout| layout.values(&v))
            .map_err(|e| corrupt(&s.table, format!("row {k:02x?}: {e}")))?;
        if key_of(&values[key_col]) != k {
            return Err(corrupt(
                &s.table,
                format!("row {k:02x?} holds another primary key"),
            ));
        }
        for (i, c) in s.columns.iter().enumerate() {
            check_value(tx, s, c, &k, &values[i])?;
            if !c.has_index() || (c.unique && values[i].is_null()) {
                continue;
            }
            let entry = index_key(values[i].as_ref(), c.unique, &k);
            let value = if c.unique { k.clone() } else { Vec::new() };
            if expected[i].insert(entry, value).is_some() {
                return Err(corrupt(
                    &s.table,
                    format!("{} repeats a unique value", c.name),
                ));
            }
        }
    }
    Ok(expected)
}

/// Checks value `v` of column `c` of the row under key `k`: no NaN where
/// it is indexed, no text over its limit, no foreign key naming no row.
fn check_value(
    tx: &dyn KvTxn,
    s: &StoredSchema,
    c: &StoredColumn,
    k: &[u8],
    v: &Value,
) -> Result<()> {
    if let Value::Float(f) = v
        && f.is_nan()
        && (c.primary_key || c.has_index())
    {
        return Err(corrupt(
            &s.table,
            format!("row {k:02x?}: NaN in indexed column {}", c.name),
        ));
    }
    if let (Some(max), Value::Text(t)) = (c.max_len, v)
        && t.chars().count() as u64 > max
    {
        return Err(corrupt(
            &s.table,
            format!("row {k:02x?}: {} longer than {max}", c.name),
        ));
    }
    if let (Some(parent), false) = (&c.foreign_key, v.is_null())
        && tx.get(parent, &key_of(v))?.is_none()
    {
        return Err(corrupt(
            &s.table,
            format!("row {k:02x?}: {} = {v} names no row of {parent}", c.name),
        ));
    }
    Ok(())
}

/// Compares every index table of `s` with the entries its rows call for.
fn check_indexes(tx: &dyn KvTxn, s: &StoredSchema, expected: &[Entries]) -> Result<()> {
    for (i, c) in s.columns.iter().enumerate().filter(|(_, c)| c.has_index()) {
        let it = index_table(&s.table, &c.name);
        let actual = scan_all(tx, &it)?;
        if actual != expected[i] {
            let extra = actual
                .iter()
                .filter(|(k, v)| expected[i].get(*k) != Some(v))
                .count();
            let missing = expected[i]
                .iter()
                .filter(|(k, v)| actual.get(*k) != Some(v))
                .count();
            return Err(corrupt(
                &it,
                format!("index has {extra} entries no row calls for and lacks {missing}"),
            ));
        }
    }
    Ok(())
}

/// Checks both link tables of every association `s` owns.
fn check_links(tx: &dyn KvTxn, s: &StoredSchema) -> Result<()> {
    for (through, target) in &s.associations {
        let fwd: BTreeSet<Vec<u8>> = scan_all(tx, through)?.into_keys().collect();
        let back: BTreeSet<Vec<u8>> = scan_all(tx, &reverse_table(through))?.into_keys().collect();
        if fwd.len() != back.len() {
            return Err(corrupt(
                through,
                format!("{} links one way, {} the other", fwd.len(), back.len()),
            ));
        }
        for link in &fwd {
            check_link(tx, &s.table, through, target, link, &back)?;
        }
    }
    Ok(())
}

/// Checks one link of `through`, from a row of `table` to a row of
/// `target`: it splits into two keys, has its reverse in `back`, and both
/// rows exist.
fn check_link(
    tx: &dyn KvTxn,
    table: &str,
    through: &str,
    target: &str,
    link: &[u8],
    back: &BTreeSet<Vec<u8>>,
) -> Result<()> {
    let bad = || corrupt(through, "bad link".into());
    let (a, n) = decode_key(link).ok_or_else(bad)?;
    let (b, m) = decode_key(&link[n..]).ok_or_else(bad)?;
    if n + m != link.len() {
        return Err(bad());
    }
    if !back.contains(&link_key(&key_of(&b), &link[..n])) {
        return Err(corrupt(through, "a link lacks its reverse".into()));
    }
    if tx.get(table, &key_of(&a))?.is_none() || tx.get(target, &key_of(&b))?.is_none() {
        return Err(corrupt(through, "a link names a missing row".into()));
    }
    Ok(())
}
