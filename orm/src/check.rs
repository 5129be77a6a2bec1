//! The ORM's integrity check: rows against their schemas, indexes against
//! rows, foreign keys and links against the rows they name.

use crate::error::{Error, Result};
use crate::schema::{StoredSchema, decode_row, index_table, reverse_table};
use crate::session::Database;
use crate::value::{Value, key_of};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

fn corrupt(table: &str, detail: String) -> Error {
    Error::Corrupt {
        table: table.to_string(),
        detail,
    }
}

/// Checks every model's table; returns the number of rows checked.
pub(crate) fn run(db: &Database) -> Result<u64> {
    let schemas: Vec<StoredSchema> = db.inner.schemas.read().values().cloned().collect();
    let tx = db.inner.store.begin_read()?;
    let all = (Bound::Unbounded, Bound::Unbounded);
    let mut rows = 0;
    for s in &schemas {
        let key_col = s.key_column();
        // The index entries the rows call for, per indexed column.
        let mut expected: Vec<BTreeMap<Vec<u8>, Vec<u8>>> = vec![BTreeMap::new(); s.columns.len()];
        for kv in tx.scan(&s.table, all.0, all.1, false)? {
            let (k, v) = kv?;
            rows += 1;
            let values =
                decode_row(s, &v).map_err(|e| corrupt(&s.table, format!("row {k:02x?}: {e}")))?;
            if key_of(&values[key_col]) != k {
                return Err(corrupt(
                    &s.table,
                    format!("row {k:02x?} holds another primary key"),
                ));
            }
            for (i, c) in s.columns.iter().enumerate() {
                let v = &values[i];
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
                if !c.has_index() || (c.unique && v.is_null()) {
                    continue;
                }
                let entry = if c.unique {
                    (key_of(v), k.clone())
                } else {
                    let mut ik = key_of(v);
                    ik.extend_from_slice(&k);
                    (ik, Vec::new())
                };
                if expected[i].insert(entry.0, entry.1).is_some() {
                    return Err(corrupt(
                        &s.table,
                        format!("{} repeats a unique value", c.name),
                    ));
                }
            }
        }
        for (i, c) in s.columns.iter().enumerate().filter(|(_, c)| c.has_index()) {
            let it = index_table(&s.table, &c.name);
            let actual = tx
                .scan(&it, all.0, all.1, false)?
                .collect::<strata_engine::Result<BTreeMap<Vec<u8>, Vec<u8>>>>()?;
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
        for (through, target) in &s.associations {
            let fwd: BTreeSet<Vec<u8>> = tx
                .scan(through, all.0, all.1, false)?
                .map(|kv| kv.map(|(k, _)| k))
                .collect::<strata_engine::Result<_>>()?;
            let rev = reverse_table(through);
            let back: BTreeSet<Vec<u8>> = tx
                .scan(&rev, all.0, all.1, false)?
                .map(|kv| kv.map(|(k, _)| k))
                .collect::<strata_engine::Result<_>>()?;
            if fwd.len() != back.len() {
                return Err(corrupt(
                    through,
                    format!("{} links one way, {} the other", fwd.len(), back.len()),
                ));
            }
            for link in &fwd {
                let (a, n) = crate::value::decode_key(link)
                    .ok_or_else(|| corrupt(through, "bad link".into()))?;
                let (b, m) = crate::value::decode_key(&link[n..])
                    .ok_or_else(|| corrupt(through, "bad link".into()))?;
                if n + m != link.len() {
                    return Err(corrupt(through, "bad link".into()));
                }
                let mut reverse = key_of(&b);
                reverse.extend_from_slice(&link[..n]);
                if !back.contains(&reverse) {
                    return Err(corrupt(through, "a link lacks its reverse".into()));
                }
                if tx.get(&s.table, &key_of(&a))?.is_none()
                    || tx.get(target, &key_of(&b))?.is_none()
                {
                    return Err(corrupt(through, "a link names a missing row".into()));
                }
            }
        }
    }
    tx.commit()?;
    Ok(rows)
}
