//! Reading rows along an access path: point reads by key, index lookups,
//! and range scans of the table or an index, as owned models
//! ([`read_path`], for iterators) or as borrowed row bytes
//! ([`visit_path`], for everything else), and the borrowed decoding the
//! filter reads them through ([`RefBuf`]).

use super::plan::{Path, Point, Shape};
use crate::error::{Error, Result};
use crate::expr::Pred;
use crate::layout::{
    ColumnPlan, RowLayout, bound_ref, column_index_table, decode_row_refs, decode_whole_key,
    index_entry_row_key, key_of, plan_columns, prefix_end,
};
use crate::model::Model;
use crate::session::Session;
use crate::value::{Value, ValueRef};
use std::ops::Bound;
use std::sync::Arc;

pub(super) type RowIter<'s, M> = Box<dyn Iterator<Item = Result<M>> + 's>;

/// Stored rows, owned.
pub(super) type RawIter<'s> = Box<dyn Iterator<Item = Result<Vec<u8>>> + 's>;

/// The stored rows of `M` on `path`, in the path's order, not yet
/// filtered (for iterators, which cannot be driven by [`visit_path`]'s
/// callback).
pub(super) fn read_path<'s, M: Model>(
    s: &'s Session,
    path: Path,
    reverse: bool,
) -> Result<RawIter<'s>> {
    let by_key = move |k: Value| -> Option<Result<Vec<u8>>> {
        s.db.counted_get();
        s.get_raw(M::TABLE, &key_of(&k)).transpose()
    };
    Ok(match path {
        Path::Keys(mut keys) => {
            if reverse {
                keys.reverse();
            }
            Box::new(keys.into_iter().filter_map(by_key))
        }
        Path::KeyRange(lo, hi) => {
            s.db.counted_scan();
            let scan = s.scan_raw(M::TABLE, bound_ref(&lo), bound_ref(&hi), reverse)?;
            Box::new(scan.map(|kv| Ok(kv?.1)))
        }
        Path::IndexKeys(col, vals) => {
            let table = column_index_table(M::TABLE, &M::COLUMNS[col]);
            let pks = index_lookup::<M>(s, col, vals)?
                .iter()
                .map(|pk| decode_whole_key(pk, &table))
                .collect::<Result<Vec<_>>>()?;
            Box::new(pks.into_iter().filter_map(by_key))
        }
        Path::IndexRange(col, lo, hi) => {
            let c = &M::COLUMNS[col];
            let table = column_index_table(M::TABLE, c);
            s.db.counted_scan();
            let scan = s.scan_raw(&table, bound_ref(&lo), bound_ref(&hi), reverse)?;
            let unique = c.unique;
            Box::new(scan.filter_map(move |kv| {
                let pk = (|| {
                    let (ik, iv) = kv?;
                    decode_whole_key(index_entry_row_key(unique, &ik, &iv), &table)
                })();
                match pk {
                    Ok(k) => by_key(k),
                    Err(e) => Some(Err(e)),
                }
            }))
        }
    })
}

/// The encoded primary keys the index of column `col` of `M` lists for
/// each of `vals`, in that order: one read of a unique index per value,
/// one scan of the value's entries otherwise.
fn index_lookup<M: Model>(s: &Session, col: usize, vals: Vec<Value>) -> Result<Vec<Vec<u8>>> {
    index_lookup_on(s, &Shape::of::<M>(), col, vals)
}

/// [`index_lookup`] over a table of shape `t`.
fn index_lookup_on(
    s: &Session,
    t: &Shape<'_>,
    col: usize,
    vals: Vec<Value>,
) -> Result<Vec<Vec<u8>>> {
    let c = &t.columns[col];
    let table = column_index_table(t.table, c);
    let mut pks: Vec<Vec<u8>> = Vec::new();
    for v in vals {
        let k = key_of(&v);
        if c.unique {
            s.db.counted_get();
            if let Some(pk) = s.get_raw(&table, &k)? {
                pks.push(pk);
            }
        } else {
            let end = prefix_end(&k).map_or(Bound::Unbounded, Bound::Excluded);
            s.db.counted_scan();
            s.scan_with(
                &table,
                Bound::Included(&k),
                bound_ref(&end),
                false,
                &mut |ik, _| {
                    pks.push(ik[k.len()..].to_vec());
                    true
                },
            )?;
        }
    }
    Ok(pks)
}

/// Calls `f` with the stored row point lookup `p` names in the table of
/// shape `t`, if there is one; returns the rows read (0 or 1). The key is
/// encoded straight from the compared value; a lookup by a unique column
/// reads the row's key in the index and then the row, each borrowed where
/// it lies (the key is not copied out of the index).
pub(super) fn visit_point(
    s: &Session,
    t: &Shape<'_>,
    p: Point<'_>,
    f: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<u64> {
    let key = key_of(p.value);
    let mut read = 0;
    let mut row = |row: &[u8]| {
        read += 1;
        f(row).map(|()| true)
    };
    if p.column == t.key {
        get_row(s, t.table, &key, &mut row)?;
        return Ok(read);
    }
    let index = column_index_table(t.table, &t.columns[p.column]);
    let mut found = Ok(true);
    s.db.counted_get();
    s.get_with(&index, &key, &mut |pk| {
        found = get_row(s, t.table, pk, &mut row);
    })?;
    found?;
    Ok(read)
}

/// Calls `f` with the stored row of `table` under primary key `key`, if there
/// is one; returns what `f` does (`true` when there is no row).
fn get_row(
    s: &Session,
    table: &str,
    key: &[u8],
    f: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<bool> {
    let mut go = Ok(true);
    s.db.counted_get();
    s.get_with(table, key, &mut |row| go = f(row))?;
    go
}

/// Calls `each` with the entries of `table` between the bounds, borrowed,
/// until it returns `false` or fails.
fn scan_entries(
    s: &Session,
    table: &str,
    (lo, hi): (&Bound<Vec<u8>>, &Bound<Vec<u8>>),
    reverse: bool,
    skip: usize,
    mut each: impl FnMut(&[u8], &[u8]) -> Result<bool>,
) -> Result<()> {
    // An error inside the scan's callback waits here until the scan returns.
    let mut failed: Option<Error> = None;
    s.db.counted_scan();
    s.scan_with_skip(
        table,
        (bound_ref(lo), bound_ref(hi)),
        reverse,
        skip as u64,
        &mut |k, v| match each(k, v) {
            Ok(go) => go,
            Err(e) => {
                failed = Some(e);
                false
            }
        },
    )?;
    failed.map_or(Ok(()), Err)
}

/// Calls `f` with each stored row of `M` on `path`, in the path's order,
/// not yet filtered, until it returns `false`. Rows are borrowed where the
/// store lends them.
///
/// The first `skip` rows are passed over without being read where the
/// path allows it (an index entry names its row without it): an offset
/// the filter has no say in (the path answers it exactly).
pub(super) fn visit_path<M: Model>(
    s: &Session,
    path: Path,
    reverse: bool,
    skip: usize,
    f: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    visit_path_on(s, &Shape::of::<M>(), path, reverse, skip, f)
}

/// [`visit_path`] over a table of shape `t`. Generic over `f`, so that a
/// scan calls the caller's test of each row directly from its own
/// callback (one indirect call per row, not two).
pub(crate) fn visit_path_on<F>(
    s: &Session,
    t: &Shape<'_>,
    path: Path,
    reverse: bool,
    mut skip: usize,
    f: &mut F,
) -> Result<()>
where
    F: FnMut(&[u8]) -> Result<bool> + ?Sized,
{
    match path {
        Path::Keys(mut keys) => {
            if reverse {
                keys.reverse();
            }
            for k in keys {
                if !get_row(s, t.table, &key_of(&k), &mut |row| {
                    if skip > 0 {
                        skip -= 1;
                        return Ok(true);
                    }
                    f(row)
                })? {
                    break;
                }
            }
            Ok(())
        }
        Path::KeyRange(lo, hi) => {
            scan_entries(s, t.table, (&lo, &hi), reverse, skip, |_, row| f(row))
        }
        Path::IndexKeys(col, vals) => {
            let pks = index_lookup_on(s, t, col, vals)?;
            for pk in pks.iter().skip(skip) {
                if !get_row(s, t.table, pk, &mut |row| f(row))? {
                    break;
                }
            }
            Ok(())
        }
        Path::IndexRange(col, lo, hi) => {
            let c = &t.columns[col];
            let table = column_index_table(t.table, c);
            scan_entries(s, &table, (&lo, &hi), reverse, skip, |ik, iv| {
                let pk = index_entry_row_key(c.unique, ik, iv);
                let mut go = Ok(true);
                s.db.counted_get();
                match s.get_with(t.table, pk, &mut |row| go = f(row)) {
                    Ok(true) => go,
                    Ok(false) => Err(Error::Corruption {
                        table: table.to_string(),
                        detail: "an index entry names a missing row".into(),
                    }),
                    Err(e) => Err(e),
                }
            })
        }
    }
}

/// A buffer for a row's borrowed column values, kept empty between rows so
/// that its allocation can serve rows of any lifetime, and the plan of the
/// row's columns: only the columns a query reads are decoded.
pub(crate) struct RefBuf {
    cols: Vec<ValueRef<'static>>,
    /// In declared order; in stored order when there is a layout.
    plan: Vec<ColumnPlan>,
    /// The table the rows are of, for errors.
    table: String,
    /// How the rows are laid out, when not as plain serde (`layout.rs`).
    layout: Option<Arc<RowLayout>>,
}

impl RefBuf {
    /// A buffer for rows of `M` that decodes the columns `filter` reads,
    /// and `columns`.
    pub(super) fn new<M: Model>(s: &Session, filter: &Pred, columns: &[usize]) -> Result<RefBuf> {
        let layout = s.row_layout::<M>();
        RefBuf::on(&Shape::of::<M>().laid_out(layout.as_ref()), filter, columns)
    }

    /// [`RefBuf::new`] for rows of a table of shape `t`.
    pub(crate) fn on(t: &Shape<'_>, filter: &Pred, columns: &[usize]) -> Result<RefBuf> {
        let mut needed = vec![false; t.columns.len()];
        filter.mark_columns(&mut needed);
        for &c in columns {
            if let Some(n) = needed.get_mut(c) {
                *n = true;
            }
        }
        let plan = match t.layout {
            Some(l) => l.stored_plan(|i| needed[i]),
            None => plan_columns(t.columns, |i| needed[i]).map_err(|detail| Error::Corruption {
                table: t.table.to_string(),
                detail,
            })?,
        };
        Ok(RefBuf {
            cols: Vec::with_capacity(plan.len()),
            plan,
            table: t.table.to_string(),
            layout: t.layout.cloned(),
        })
    }

    /// Calls `f` with the columns of `row`, a stored row of the buffer's
    /// table, borrowed (the columns the buffer was not made for are null).
    pub(crate) fn read<T>(
        &mut self,
        row: &[u8],
        f: impl FnOnce(&[ValueRef<'_>]) -> T,
    ) -> Result<T> {
        let mut cols: Vec<ValueRef<'_>> = std::mem::take(&mut self.cols);
        let decoded = match &self.layout {
            Some(l) => l.refs(&self.plan, row, &mut cols),
            None => decode_row_refs(&self.plan, row, &mut cols),
        };
        let out = decoded
            .map(|()| f(&cols))
            .map_err(|detail| Error::Corruption {
                table: self.table.clone(),
                detail,
            });
        cols.clear();
        // An empty vector changes element lifetime in place (no allocation).
        self.cols = cols.into_iter().map(|_| ValueRef::Null).collect();
        out
    }
}
