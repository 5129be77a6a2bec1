//! Queries: filters, orderings, limits, and the planner that answers them
//! from the primary key or an index where it can.
//!
//! THE PLANNER
//!
//! A query's filter is split into its top-level conjuncts (`a AND b AND
//! ...`). From those it picks one access path, in this order of
//! preference:
//!
//! 1. primary key equal to a value, or in a list: point reads;
//! 2. a unique or indexed column equal to a value, or in a list: index
//!    lookups (unique columns first);
//! 3. a range (`<`, `<=`, `>`, `>=`, `between`, or `starts_with` on a
//!    text key) on the primary key: one scan of the key range;
//! 4. a range, or `starts_with`, on an indexed column: one scan of the
//!    index range;
//! 5. otherwise the whole table, in key order; or, when the query is
//!    ordered by one indexed column, the whole index in that order.
//!
//! The whole filter is then evaluated on every row read, so the access
//! path only ever narrows what is read, never decides what matches. When
//! the path yields rows in the order the query asks for (key order for an
//! ordering on the key, index order for the indexed column the path
//! scans), rows stream and `limit` stops the scan early; otherwise all
//! matching rows are sorted in memory. [`Query::explain`] shows the
//! choice.

use crate::error::{Error, Result};
use crate::expr::{CmpOp, Expr, Order, Pred, TextOp};
use crate::layout::{
    ColumnPlan, bound_ref, column_index_table, decode_model, decode_row_refs, decode_whole_key,
    index_entry_row_key, key_of, plan_columns, prefix_end, text_prefix,
};
use crate::model::Model;
use crate::session::Session;
use crate::value::{Value, ValueRef};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Bound;

impl Session {
    /// A query over the rows of `M`.
    pub fn query<M: Model>(&self) -> Query<'_, M> {
        Query::new(self)
    }

    /// A query over the rows of `M` that can also update or delete them.
    pub fn query_mut<M: Model>(&mut self) -> QueryMut<'_, M> {
        QueryMut::new(self)
    }
}

/// A relationship that can be loaded for many parents at once, for
/// [`Query::all_with`]. The relationships of `relation.rs` implement it.
pub trait Relation<P> {
    /// What is loaded for one parent.
    type Loaded;
    /// Loads it for each of `parents`, in order, with a bounded number of
    /// scans.
    fn load_all(&self, session: &Session, parents: &[P]) -> Result<Vec<Self::Loaded>>;
}

/// How a query reads its rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Point reads by primary key.
    PrimaryKey,
    /// One scan of a range of the primary key (the whole table if
    /// unbounded).
    PrimaryKeyRange {
        /// Whether the range is bounded at all.
        bounded: bool,
    },
    /// Point lookups in the index of a column.
    IndexLookup(&'static str),
    /// One scan of a range of the index of a column.
    IndexRange(&'static str),
}

/// The plan of a query, as [`Query::explain`] gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// How rows are read.
    pub access: Access,
    /// Whether the rows come out in the requested order without a sort.
    pub ordered: bool,
    /// Whether the scan runs backwards (a descending order).
    pub reverse: bool,
    /// Whether some rows read may be filtered out (the filter is more than
    /// the access path).
    pub filtered: bool,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.access {
            Access::PrimaryKey => write!(f, "get by primary key")?,
            Access::PrimaryKeyRange { bounded: true } => write!(f, "scan primary key range")?,
            Access::PrimaryKeyRange { bounded: false } => write!(f, "scan whole table")?,
            Access::IndexLookup(c) => write!(f, "look up index on {c}")?,
            Access::IndexRange(c) => write!(f, "scan index on {c}")?,
        }
        if self.reverse {
            write!(f, " backwards")?;
        }
        if self.filtered {
            write!(f, ", filter")?;
        }
        if !self.ordered {
            write!(f, ", sort")?;
        }
        Ok(())
    }
}

/// What a query asks for, apart from the session.
#[derive(Clone, Debug)]
struct Spec {
    filter: Pred,
    order: Vec<(usize, bool)>,
    limit: Option<usize>,
    offset: usize,
}

/// A range of encoded keys.
type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The access path chosen, with what it needs to run.
#[derive(Clone, Debug)]
enum Path {
    Keys(Vec<Value>),
    KeyRange(Bound<Vec<u8>>, Bound<Vec<u8>>),
    IndexKeys(usize, Vec<Value>),
    IndexRange(usize, Bound<Vec<u8>>, Bound<Vec<u8>>),
}

/// Byte bounds for `column OP v` over keys that start with the encoding of
/// the column value (exact keys, or value then primary key).
fn bounds_for(op: CmpOp, v: &Value) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let k = key_of(v);
    let after = |k: &[u8]| prefix_end(k).map_or(Bound::Unbounded, Bound::Included);
    let before_end = |k: &[u8]| prefix_end(k).map_or(Bound::Unbounded, Bound::Excluded);
    match op {
        CmpOp::Eq => (Bound::Included(k.clone()), before_end(&k)),
        CmpOp::Gt => (after(&k), Bound::Unbounded),
        CmpOp::Ge => (Bound::Included(k), Bound::Unbounded),
        CmpOp::Lt => (Bound::Unbounded, Bound::Excluded(k)),
        CmpOp::Le => (Bound::Unbounded, before_end(&k)),
        CmpOp::Ne => (Bound::Unbounded, Bound::Unbounded),
    }
}

/// The tighter of two lower bounds (`upper` false) or upper bounds.
fn tighter(a: Bound<Vec<u8>>, b: Bound<Vec<u8>>, upper: bool) -> Bound<Vec<u8>> {
    match (&a, &b) {
        (Bound::Unbounded, _) => b,
        (_, Bound::Unbounded) => a,
        (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
            let a_wins = if upper { x < y } else { x > y };
            if x == y {
                // Same bytes: Excluded is the tighter.
                if matches!(a, Bound::Excluded(_)) {
                    a
                } else {
                    b
                }
            } else if a_wins {
                a
            } else {
                b
            }
        }
    }
}

/// Non-null values only: keys of nulls are `00`, every other value starts
/// higher.
fn not_null_floor() -> Bound<Vec<u8>> {
    Bound::Included(vec![0x01])
}

/// The values of the first conjunct `col = v` or `col IN (...)`.
fn point_values(conj: &[&Pred], col: usize) -> Option<Vec<Value>> {
    conj.iter().find_map(|p| match p {
        Pred::Cmp(c, CmpOp::Eq, v) if *c == col => Some(vec![v.clone()]),
        Pred::In(c, vs) if *c == col => Some(vs.clone()),
        _ => None,
    })
}

/// The key range that every range conjunct on `col` (`<`, `<=`, `>`,
/// `>=`, `starts_with`) narrows together, nulls left out; `None` when
/// there is no such conjunct.
fn key_range(conj: &[&Pred], col: usize) -> Option<KeyBounds> {
    let mut lo = Bound::Unbounded;
    let mut hi = Bound::Unbounded;
    let mut any = false;
    for p in conj {
        let (l, h) = match p {
            Pred::Cmp(c, op, v) if *c == col && *op != CmpOp::Ne && *op != CmpOp::Eq => {
                bounds_for(*op, v)
            }
            Pred::Text(c, TextOp::StartsWith, s) if *c == col => {
                let p = text_prefix(s);
                let end = prefix_end(&p).map_or(Bound::Unbounded, Bound::Excluded);
                (Bound::Included(p), end)
            }
            _ => continue,
        };
        any = true;
        lo = tighter(lo, l, false);
        hi = tighter(hi, h, true);
    }
    any.then(|| (tighter(lo, not_null_floor(), false), hi))
}

/// Values in the order of their keys, each key once.
fn sorted_keys(mut vs: Vec<Value>) -> Vec<Value> {
    vs.sort_by_key(key_of);
    vs.dedup_by(|a, b| key_of(a) == key_of(b));
    vs
}

/// The indexed columns of `M`, unique ones first, then in field order.
fn indexed_columns<M: Model>() -> Vec<usize> {
    let mut v: Vec<usize> = (0..M::COLUMNS.len())
        .filter(|&i| M::COLUMNS[i].has_index())
        .collect();
    v.sort_by_key(|&i| !M::COLUMNS[i].unique); // unique first
    v
}

/// A plan: rows in the requested order (`Some(reverse)`) or sorted after.
fn plan_of(access: Access, ordered: Option<bool>, filtered: bool) -> Plan {
    Plan {
        access,
        ordered: ordered.is_some(),
        reverse: ordered.unwrap_or(false),
        filtered,
    }
}

impl Spec {
    /// The access path, in the order of preference of the module
    /// documentation.
    fn plan<M: Model>(&self) -> (Path, Plan) {
        let conj = self.filter.conjuncts();
        let indexed = indexed_columns::<M>();
        self.point_plan::<M>(&conj, &indexed)
            .or_else(|| self.range_plan::<M>(&conj, &indexed))
            .unwrap_or_else(|| self.scan_plan::<M>())
    }

    /// Does the requested order match a scan of `col`? And which way?
    fn order_on(&self, col: usize) -> Option<bool> {
        match self.order.as_slice() {
            [(c, desc)] if *c == col => Some(*desc),
            [] => Some(false),
            _ => None,
        }
    }

    /// Point reads: the primary key, or an indexed column, `=` or `IN`.
    fn point_plan<M: Model>(&self, conj: &[&Pred], indexed: &[usize]) -> Option<(Path, Plan)> {
        let pk = M::PRIMARY_KEY;
        let filtered = conj.len() > 1;
        if let Some(keys) = point_values(conj, pk) {
            let ordered = if self.order.is_empty()
                || matches!(self.order.as_slice(), [(c, false)] if *c == pk)
            {
                Some(false)
            } else {
                None
            };
            return Some((
                Path::Keys(sorted_keys(keys)),
                plan_of(Access::PrimaryKey, ordered, filtered),
            ));
        }
        indexed.iter().find_map(|&c| {
            let vals = point_values(conj, c)?;
            let ordered = self.order.is_empty().then_some(false);
            Some((
                Path::IndexKeys(c, sorted_keys(vals)),
                plan_of(Access::IndexLookup(M::COLUMNS[c].name), ordered, filtered),
            ))
        })
    }

    /// One range scan: of the primary key, or of an indexed column.
    fn range_plan<M: Model>(&self, conj: &[&Pred], indexed: &[usize]) -> Option<(Path, Plan)> {
        let pk = M::PRIMARY_KEY;
        // Only range comparisons are the access path itself.
        let filtered = |col: usize| !conj.iter().all(|p| is_range_on(p, col));
        if let Some((lo, hi)) = key_range(conj, pk) {
            let access = Access::PrimaryKeyRange { bounded: true };
            return Some((
                Path::KeyRange(lo, hi),
                plan_of(access, self.order_on(pk), filtered(pk)),
            ));
        }
        indexed.iter().find_map(|&c| {
            let (lo, hi) = key_range(conj, c)?;
            let access = Access::IndexRange(M::COLUMNS[c].name);
            Some((
                Path::IndexRange(c, lo, hi),
                plan_of(access, self.order_on(c), filtered(c)),
            ))
        })
    }

    /// No usable conjunct: the whole index of the one ordering column if
    /// it has every row, else the whole table.
    fn scan_plan<M: Model>(&self) -> (Path, Plan) {
        let pk = M::PRIMARY_KEY;
        let filtered = self.filter != Pred::True;
        if let [(c, desc)] = self.order.as_slice() {
            let col = &M::COLUMNS[*c];
            // A unique index leaves nulls out: only usable if none can exist.
            if *c != pk && col.has_index() && !(col.unique && col.nullable) {
                return (
                    Path::IndexRange(*c, Bound::Unbounded, Bound::Unbounded),
                    plan_of(Access::IndexRange(col.name), Some(*desc), filtered),
                );
            }
        }
        let access = Access::PrimaryKeyRange { bounded: false };
        (
            Path::KeyRange(Bound::Unbounded, Bound::Unbounded),
            plan_of(access, self.order_on(pk), filtered),
        )
    }
}

/// Whether `v` has a place in the order of keys that agrees with how
/// filters compare it: not null, not NaN.
fn orderable(v: &Value) -> bool {
    !v.is_null() && !matches!(v, Value::Float(f) if f.is_nan())
}

/// Whether `p` is a range condition on column `col` that a range access
/// path answers exactly.
fn is_range_on(p: &Pred, col: usize) -> bool {
    matches!(p, Pred::Cmp(c, op, _) if *c == col && !matches!(op, CmpOp::Eq | CmpOp::Ne))
        || matches!(p, Pred::Text(c, TextOp::StartsWith, _) if *c == col)
}

type RowIter<'s, M> = Box<dyn Iterator<Item = Result<M>> + 's>;

/// Rows of `M` from `path`, in the path's order, not yet filtered.
fn read_path<'s, M: Model>(s: &'s Session, path: Path, reverse: bool) -> Result<RowIter<'s, M>> {
    Ok(match path {
        Path::Keys(keys) => {
            let mut keys = keys;
            if reverse {
                keys.reverse();
            }
            Box::new(
                keys.into_iter()
                    .filter_map(move |k| s.get_by_value::<M>(&k).transpose()),
            )
        }
        Path::KeyRange(lo, hi) => {
            s.db.counted_scan();
            let scan =
                s.kv.scan(M::TABLE, bound_ref(&lo), bound_ref(&hi), reverse)?;
            Box::new(scan.map(|kv| {
                let (_, v) = kv?;
                decode_model::<M>(&v)
            }))
        }
        Path::IndexKeys(col, vals) => {
            let table = column_index_table(M::TABLE, &M::COLUMNS[col]);
            let pks = index_lookup::<M>(s, col, vals)?
                .iter()
                .map(|pk| decode_whole_key(pk, &table))
                .collect::<Result<Vec<_>>>()?;
            Box::new(
                pks.into_iter()
                    .filter_map(move |k| s.get_by_value::<M>(&k).transpose()),
            )
        }
        Path::IndexRange(col, lo, hi) => {
            let c = &M::COLUMNS[col];
            let table = column_index_table(M::TABLE, c);
            s.db.counted_scan();
            let scan = s.kv.scan(&table, bound_ref(&lo), bound_ref(&hi), reverse)?;
            let unique = c.unique;
            Box::new(scan.filter_map(move |kv| {
                let pk = (|| {
                    let (ik, iv) = kv?;
                    decode_whole_key(index_entry_row_key(unique, &ik, &iv), &table)
                })();
                match pk {
                    Ok(k) => s.get_by_value::<M>(&k).transpose(),
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
    let c = &M::COLUMNS[col];
    let table = column_index_table(M::TABLE, c);
    let mut pks: Vec<Vec<u8>> = Vec::new();
    for v in vals {
        let k = key_of(&v);
        if c.unique {
            s.db.counted_get();
            if let Some(pk) = s.kv.get(&table, &k)? {
                pks.push(pk);
            }
        } else {
            let end = prefix_end(&k).map_or(Bound::Unbounded, Bound::Excluded);
            s.db.counted_scan();
            s.kv.scan_with(
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

/// Calls `f` with the stored row of `M` under primary key `key`, if there
/// is one; returns what `f` does (`true` when there is no row).
fn get_row<M: Model>(
    s: &Session,
    key: &[u8],
    f: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<bool> {
    let mut go = Ok(true);
    s.db.counted_get();
    s.kv.get_with(M::TABLE, key, &mut |row| go = f(row))?;
    go
}

/// Calls `each` with the entries of `table` between the bounds, borrowed,
/// until it returns `false` or fails.
fn scan_entries(
    s: &Session,
    table: &str,
    (lo, hi): (&Bound<Vec<u8>>, &Bound<Vec<u8>>),
    reverse: bool,
    mut each: impl FnMut(&[u8], &[u8]) -> Result<bool>,
) -> Result<()> {
    // An error inside the scan's callback waits here until the scan returns.
    let mut failed: Option<Error> = None;
    s.db.counted_scan();
    s.kv.scan_with(
        table,
        bound_ref(lo),
        bound_ref(hi),
        reverse,
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
fn visit_path<M: Model>(
    s: &Session,
    path: Path,
    reverse: bool,
    f: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    match path {
        Path::Keys(mut keys) => {
            if reverse {
                keys.reverse();
            }
            for k in keys {
                if !get_row::<M>(s, &key_of(&k), f)? {
                    break;
                }
            }
            Ok(())
        }
        Path::KeyRange(lo, hi) => scan_entries(s, M::TABLE, (&lo, &hi), reverse, |_, row| f(row)),
        Path::IndexKeys(col, vals) => {
            for pk in index_lookup::<M>(s, col, vals)? {
                if !get_row::<M>(s, &pk, f)? {
                    break;
                }
            }
            Ok(())
        }
        Path::IndexRange(col, lo, hi) => {
            let c = &M::COLUMNS[col];
            let table = column_index_table(M::TABLE, c);
            scan_entries(s, &table, (&lo, &hi), reverse, |ik, iv| {
                let pk = index_entry_row_key(c.unique, ik, iv);
                let mut go = Ok(true);
                s.db.counted_get();
                match s.kv.get_with(M::TABLE, pk, &mut |row| go = f(row)) {
                    Ok(true) => go,
                    Ok(false) => Err(Error::Corruption {
                        table: table.to_string(),
                        detail: "an index entry names a missing row".into(),
                    }),
                    Err(e) => Err(e.into()),
                }
            })
        }
    }
}

/// A buffer for a row's borrowed column values, kept empty between rows so
/// that its allocation can serve rows of any lifetime, and the plan of the
/// row's columns: only the columns a query reads are decoded.
struct RefBuf {
    cols: Vec<ValueRef<'static>>,
    plan: Vec<ColumnPlan>,
}

impl RefBuf {
    /// A buffer for rows of `M` that decodes the columns `filter` and
    /// `order` read.
    fn new<M: Model>(filter: &Pred, order: &[(usize, bool)]) -> Result<RefBuf> {
        let mut needed = vec![false; M::COLUMNS.len()];
        filter.mark_columns(&mut needed);
        for &(c, _) in order {
            if let Some(n) = needed.get_mut(c) {
                *n = true;
            }
        }
        let plan = plan_columns(M::COLUMNS, |i| needed[i]).map_err(|detail| Error::Corruption {
            table: M::TABLE.to_string(),
            detail,
        })?;
        Ok(RefBuf {
            cols: Vec::with_capacity(plan.len()),
            plan,
        })
    }

    /// Calls `f` with the columns of `row`, a stored row of `M`, borrowed
    /// (the columns the buffer was not made for are null).
    fn with<M: Model, T>(&mut self, row: &[u8], f: impl FnOnce(&[ValueRef<'_>]) -> T) -> Result<T> {
        let mut cols: Vec<ValueRef<'_>> = std::mem::take(&mut self.cols);
        let out = decode_row_refs(&self.plan, row, &mut cols)
            .map(|()| f(&cols))
            .map_err(|detail| Error::Corruption {
                table: M::TABLE.to_string(),
                detail,
            });
        cols.clear();
        // An empty vector changes element lifetime in place (no allocation).
        self.cols = cols.into_iter().map(|_| ValueRef::Null).collect();
        out
    }
}

/// The rows a query reads, before ordering and limits: the access path,
/// the filter still to evaluate on them (none when the path answers it
/// exactly), and the buffer the filter reads the rows through.
struct Rows<'q> {
    path: Path,
    reverse: bool,
    filter: Option<&'q Pred>,
    buf: RefBuf,
}

/// Shared by [`Query`] and [`QueryMut`]: building, planning, running.
struct Core<M> {
    spec: Spec,
    _m: PhantomData<fn() -> M>,
}

impl<M: Model> Core<M> {
    fn new() -> Self {
        Core {
            spec: Spec {
                filter: Pred::True,
                order: Vec::new(),
                limit: None,
                offset: 0,
            },
            _m: PhantomData,
        }
    }

    fn filter(&mut self, e: Expr<M>) {
        let f = std::mem::replace(&mut self.spec.filter, Pred::True);
        self.spec.filter = match f {
            Pred::True => e.pred,
            f => Pred::And(Box::new(f), Box::new(e.pred)),
        };
    }

    /// At most how many rows to give: the limit, and at most `cap`.
    fn limit(&self, cap: Option<usize>) -> usize {
        match (self.spec.limit, cap) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(usize::MAX),
        }
    }

    /// Calls `f` with the stored bytes of each matching row, in the
    /// requested order, after offset and limit (and at most `cap`), until
    /// it returns `false`. The filter reads the rows without deserialising
    /// them: only rows `f` keeps need decoding.
    fn visit(
        &self,
        s: &Session,
        cap: Option<usize>,
        f: &mut dyn FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        s.db.ensure::<M>()?;
        let (path, plan) = self.spec.plan::<M>();
        let limit = self.limit(cap);
        if limit == 0 {
            return Ok(());
        }
        let filter = &self.spec.filter;
        // The access path alone answers the filter when the plan leaves
        // nothing to filter, unless a compared value is null or NaN: those
        // compare false with everything, yet have places among the keys.
        let exact = !plan.filtered && filter.conjuncts().iter().all(|p| p.values().all(orderable));
        let rows = Rows {
            path,
            reverse: plan.reverse,
            filter: (!exact).then_some(filter),
            buf: RefBuf::new::<M>(filter, &self.spec.order)?,
        };
        if plan.ordered {
            self.visit_in_order(s, rows, limit, f)
        } else {
            self.visit_sorted(s, rows, limit, f)
        }
    }

    /// [`Core::visit`] when the access path gives the requested order:
    /// rows stream, and the scan stops at the limit.
    fn visit_in_order(
        &self,
        s: &Session,
        mut rows: Rows<'_>,
        limit: usize,
        f: &mut dyn FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        let (mut skip, mut left) = (self.spec.offset, limit);
        let filter = rows.filter;
        let buf = &mut rows.buf;
        visit_path::<M>(s, rows.path, rows.reverse, &mut |row| {
            if let Some(filter) = filter
                && !buf.with::<M, _>(row, |cols| filter.eval(&|c| cols[c]))?
            {
                return Ok(true);
            }
            if skip > 0 {
                skip -= 1;
                return Ok(true);
            }
            left -= 1;
            Ok(f(row)? && left > 0)
        })
    }

    /// [`Core::visit`] otherwise: every match is read, then sorted by the
    /// ordering columns (read once per row).
    fn visit_sorted(
        &self,
        s: &Session,
        mut rows: Rows<'_>,
        limit: usize,
        f: &mut dyn FnMut(&[u8]) -> Result<bool>,
    ) -> Result<()> {
        let mut matches: Vec<(Vec<Value>, Vec<u8>)> = Vec::new();
        let order = &self.spec.order;
        let filter = rows.filter;
        let buf = &mut rows.buf;
        visit_path::<M>(s, rows.path, rows.reverse, &mut |row| {
            let keys = buf.with::<M, _>(row, |cols| {
                filter
                    .is_none_or(|filter| filter.eval(&|c| cols[c]))
                    .then(|| order.iter().map(|&(c, _)| cols[c].to_value()).collect())
            })?;
            if let Some(keys) = keys {
                matches.push((keys, row.to_vec()));
            }
            Ok(true)
        })?;
        matches.sort_by(|a, b| {
            for (i, &(_, desc)) in order.iter().enumerate() {
                let o = a.0[i].sort_cmp(&b.0[i]);
                let o = if desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        for (_, row) in matches.iter().skip(self.spec.offset).take(limit) {
            if !f(row)? {
                break;
            }
        }
        Ok(())
    }

    /// Matching rows, decoded, after offset and limit (and at most `cap`).
    fn collect(&self, s: &Session, cap: Option<usize>) -> Result<Vec<M>> {
        let mut out = Vec::new();
        self.visit(s, cap, &mut |row| {
            out.push(decode_model::<M>(row)?);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Matching rows in the requested order, after offset and limit, as a
    /// stream when the access path gives that order.
    fn run<'s>(&self, s: &'s Session, cap: Option<usize>) -> Result<RowIter<'s, M>> {
        s.db.ensure::<M>()?;
        let (path, plan) = self.spec.plan::<M>();
        if !plan.ordered {
            return Ok(Box::new(self.collect(s, cap)?.into_iter().map(Ok)));
        }
        let filter = self.spec.filter.clone();
        let rows = read_path::<M>(s, path, plan.reverse)?.filter(move |r| match r {
            Ok(m) => filter.eval(&|c| m.value_ref(c)),
            Err(_) => true,
        });
        let rows: RowIter<'s, M> = Box::new(rows);
        Ok(Box::new(rows.skip(self.spec.offset).take(self.limit(cap))))
    }
}

macro_rules! builder {
    ($ty:ident) => {
        impl<'s, M: Model> $ty<'s, M> {
            /// Keeps only rows matching `e` (and every earlier filter).
            pub fn filter(mut self, e: Expr<M>) -> Self {
                self.core.filter(e);
                self
            }

            /// Orders the rows by `order` (after any earlier orderings).
            pub fn order_by(mut self, order: impl Into<Order<M>>) -> Self {
                let o = order.into();
                self.core.spec.order.push((o.column, o.desc));
                self
            }

            /// At most `n` rows.
            pub fn limit(mut self, n: usize) -> Self {
                self.core.spec.limit = Some(n);
                self
            }

            /// Skips the first `n` rows.
            pub fn offset(mut self, n: usize) -> Self {
                self.core.spec.offset = n;
                self
            }

            /// How the query will read its rows.
            pub fn explain(&self) -> Plan {
                self.core.spec.plan::<M>().1
            }

            /// Every matching row.
            pub fn all(&self) -> Result<Vec<M>> {
                self.core.collect(self.session(), None)
            }

            /// The first matching row.
            pub fn first(&self) -> Result<Option<M>> {
                Ok(self.core.collect(self.session(), Some(1))?.pop())
            }

            /// The only matching row; [`Error::NotExactlyOne`] otherwise.
            pub fn one(&self) -> Result<M> {
                let mut rows = self.core.collect(self.session(), Some(2))?;
                match rows.len() {
                    1 => Ok(rows.remove(0)),
                    found => Err(Error::NotExactlyOne {
                        model: M::NAME,
                        found,
                    }),
                }
            }

            /// The number of matching rows (after offset and limit).
            pub fn count(&self) -> Result<u64> {
                let mut n = 0;
                self.core.visit(self.session(), None, &mut |_| {
                    n += 1;
                    Ok(true)
                })?;
                Ok(n)
            }

            /// Whether any row matches.
            pub fn exists(&self) -> Result<bool> {
                let mut found = false;
                self.core.visit(self.session(), Some(1), &mut |_| {
                    found = true;
                    Ok(false)
                })?;
                Ok(found)
            }

            /// Every matching row, each with what `relation` loads for it,
            /// loaded for the whole result at once (a bounded number of
            /// index passes, not one per row).
            pub fn all_with<R: Relation<M>>(&self, relation: R) -> Result<Vec<(M, R::Loaded)>> {
                let rows = self.all()?;
                let loaded = relation.load_all(self.session(), &rows)?;
                Ok(rows.into_iter().zip(loaded).collect())
            }
        }
    };
}

/// A read query over rows of `M`, from [`Session::query`]. Build it with
/// `filter`, `order_by`, `limit`, `offset`; run it with `all`, `first`,
/// `one`, `count`, `exists` or `iter`.
pub struct Query<'s, M> {
    session: &'s Session,
    core: Core<M>,
}

impl<'s, M: Model> Query<'s, M> {
    pub(crate) fn new(session: &'s Session) -> Self {
        Query {
            session,
            core: Core::new(),
        }
    }

    fn session(&self) -> &'s Session {
        self.session
    }

    /// The matching rows one at a time: read as they are needed when the
    /// access path gives the requested order, sorted in memory otherwise.
    pub fn iter(&self) -> Result<impl Iterator<Item = Result<M>> + 's> {
        self.core.run(self.session, None)
    }
}

builder!(Query);

/// A query that can also change what it matches, from
/// [`Session::query_mut`].
pub struct QueryMut<'s, M> {
    session: &'s mut Session,
    core: Core<M>,
}

impl<'s, M: Model> QueryMut<'s, M> {
    pub(crate) fn new(session: &'s mut Session) -> Self {
        QueryMut {
            session,
            core: Core::new(),
        }
    }

    fn session(&self) -> &Session {
        self.session
    }

    /// The matching rows, read before any is changed, and the session to
    /// change them through (`update` here, `delete` in `relation.rs`).
    pub(crate) fn into_rows(self) -> Result<(&'s mut Session, Vec<M>)> {
        let rows = self.core.collect(self.session, None)?;
        Ok((self.session, rows))
    }

    /// Applies `change` to every matching row and stores it; returns how
    /// many. The primary key must not change.
    pub fn update(self, mut change: impl FnMut(&mut M)) -> Result<u64> {
        let (session, mut rows) = self.into_rows()?;
        // Every change first, so that a changed key is refused before any
        // row is written.
        for m in &mut rows {
            let key = m.key_value();
            change(m);
            if m.key_value() != key {
                return Err(Error::KeyChanged { model: M::NAME });
            }
        }
        for m in &rows {
            session.update(m)?;
        }
        Ok(rows.len() as u64)
    }
}

builder!(QueryMut);
