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

impl Spec {
    fn plan<M: Model>(&self) -> (Path, Plan) {
        let conj = self.filter.conjuncts();
        let pk = M::PRIMARY_KEY;
        let point = |col: usize| -> Option<Vec<Value>> {
            conj.iter().find_map(|p| match p {
                Pred::Cmp(c, CmpOp::Eq, v) if *c == col => Some(vec![v.clone()]),
                Pred::In(c, vs) if *c == col => Some(vs.clone()),
                _ => None,
            })
        };
        let range = |col: usize| -> Option<KeyBounds> {
            let mut lo = Bound::Unbounded;
            let mut hi = Bound::Unbounded;
            let mut any = false;
            for p in &conj {
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
        };
        let sorted_keys = |mut vs: Vec<Value>| {
            vs.sort_by_key(key_of);
            vs.dedup_by(|a, b| key_of(a) == key_of(b));
            vs
        };
        let indexed: Vec<usize> = {
            let mut v: Vec<usize> = (0..M::COLUMNS.len())
                .filter(|&i| M::COLUMNS[i].has_index())
                .collect();
            v.sort_by_key(|&i| !M::COLUMNS[i].unique); // unique first
            v
        };
        let single = |p: &Pred| self.filter == *p;
        // Does the requested order match a scan of `col`? And which way?
        let order_on = |col: usize| match self.order.as_slice() {
            [(c, desc)] if *c == col => Some(*desc),
            [] => Some(false),
            _ => None,
        };
        let plan = |access: Access, ordered: Option<bool>, filtered: bool| Plan {
            access,
            ordered: ordered.is_some(),
            reverse: ordered.unwrap_or(false),
            filtered,
        };

        if let Some(keys) = point(pk) {
            let filtered = conj.len() > 1;
            let ordered = if self.order.is_empty()
                || matches!(self.order.as_slice(), [(c, false)] if *c == pk)
            {
                Some(false)
            } else {
                None
            };
            return (
                Path::Keys(sorted_keys(keys)),
                plan(Access::PrimaryKey, ordered, filtered),
            );
        }
        for &c in &indexed {
            if let Some(vals) = point(c) {
                let filtered = conj.len() > 1;
                let ordered = self.order.is_empty().then_some(false);
                return (
                    Path::IndexKeys(c, sorted_keys(vals)),
                    plan(Access::IndexLookup(M::COLUMNS[c].name), ordered, filtered),
                );
            }
        }
        if let Some((lo, hi)) = range(pk) {
            // Only range comparisons are the access path itself.
            let filtered = !conj.iter().all(|p| is_range_on(p, pk));
            return (
                Path::KeyRange(lo, hi),
                plan(
                    Access::PrimaryKeyRange { bounded: true },
                    order_on(pk),
                    filtered,
                ),
            );
        }
        for &c in &indexed {
            if let Some((lo, hi)) = range(c) {
                let filtered = !conj.iter().all(|p| is_range_on(p, c));
                return (
                    Path::IndexRange(c, lo, hi),
                    plan(
                        Access::IndexRange(M::COLUMNS[c].name),
                        order_on(c),
                        filtered,
                    ),
                );
            }
        }
        let filtered = !single(&Pred::True);
        // No filter to use: read in the requested order if an index has it.
        if let [(c, desc)] = self.order.as_slice() {
            let col = &M::COLUMNS[*c];
            // A unique index leaves nulls out: only usable if none can exist.
            if *c != pk && col.has_index() && !(col.unique && col.nullable) {
                return (
                    Path::IndexRange(*c, Bound::Unbounded, Bound::Unbounded),
                    plan(Access::IndexRange(col.name), Some(*desc), filtered),
                );
            }
        }
        (
            Path::KeyRange(Bound::Unbounded, Bound::Unbounded),
            plan(
                Access::PrimaryKeyRange { bounded: false },
                order_on(pk),
                filtered,
            ),
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
            let c = &M::COLUMNS[col];
            let table = column_index_table(M::TABLE, c);
            let mut pks = Vec::new();
            for v in vals {
                let k = key_of(&v);
                if c.unique {
                    s.db.counted_get();
                    if let Some(pk) = s.kv.get(&table, &k)? {
                        pks.push(decode_whole_key(&pk, &table)?);
                    }
                } else {
                    let end = prefix_end(&k).map_or(Bound::Unbounded, Bound::Excluded);
                    s.db.counted_scan();
                    for kv in
                        s.kv.scan(&table, Bound::Included(&k), bound_ref(&end), false)?
                    {
                        let (ik, _) = kv?;
                        pks.push(decode_whole_key(&ik[k.len()..], &table)?);
                    }
                }
            }
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

/// Calls `f` with each stored row of `M` on `path`, in the path's order,
/// not yet filtered, until it returns `false`. Rows are borrowed where the
/// store lends them.
fn visit_path<M: Model>(
    s: &Session,
    path: Path,
    reverse: bool,
    f: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    // Errors inside a scan's callback wait here until the scan returns.
    let mut failed: Option<Error> = None;
    let pass = |r: Result<bool>, failed: &mut Option<Error>| match r {
        Ok(go) => go,
        Err(e) => {
            *failed = Some(e);
            false
        }
    };
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
        }
        Path::KeyRange(lo, hi) => {
            s.db.counted_scan();
            s.kv.scan_with(
                M::TABLE,
                bound_ref(&lo),
                bound_ref(&hi),
                reverse,
                &mut |_, row| pass(f(row), &mut failed),
            )?;
        }
        Path::IndexKeys(col, vals) => {
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
            for pk in pks {
                if !get_row::<M>(s, &pk, f)? {
                    break;
                }
            }
        }
        Path::IndexRange(col, lo, hi) => {
            let c = &M::COLUMNS[col];
            let table = column_index_table(M::TABLE, c);
            let unique = c.unique;
            s.db.counted_scan();
            s.kv.scan_with(
                &table,
                bound_ref(&lo),
                bound_ref(&hi),
                reverse,
                &mut |ik, iv| {
                    let pk = index_entry_row_key(unique, ik, iv);
                    let mut go = Ok(true);
                    s.db.counted_get();
                    let r = match s.kv.get_with(M::TABLE, pk, &mut |row| go = f(row)) {
                        Ok(true) => go,
                        Ok(false) => Err(Error::Corruption {
                            table: table.to_string(),
                            detail: "an index entry names a missing row".into(),
                        }),
                        Err(e) => Err(e.into()),
                    };
                    pass(r, &mut failed)
                },
            )?;
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
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
        let filter = &self.spec.filter;
        let limit = match (self.spec.limit, cap) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(usize::MAX),
        };
        if limit == 0 {
            return Ok(());
        }
        // The access path alone answers the filter when the plan leaves
        // nothing to filter, unless a compared value is null or NaN: those
        // compare false with everything, yet have places among the keys.
        let exact = !plan.filtered && filter.conjuncts().iter().all(|p| p.values().all(orderable));
        let mut buf = RefBuf::new::<M>(filter, &self.spec.order)?;
        let mut skip = self.spec.offset;
        let mut left = limit;
        if plan.ordered {
            return visit_path::<M>(s, path, plan.reverse, &mut |row| {
                if !exact && !buf.with::<M, _>(row, |cols| filter.eval(&|c| cols[c]))? {
                    return Ok(true);
                }
                if skip > 0 {
                    skip -= 1;
                    return Ok(true);
                }
                left -= 1;
                Ok(f(row)? && left > 0)
            });
        }
        // Sort the matches by the ordering columns, read once per row.
        let mut rows: Vec<(Vec<Value>, Vec<u8>)> = Vec::new();
        let order = &self.spec.order;
        visit_path::<M>(s, path, plan.reverse, &mut |row| {
            let keys = buf.with::<M, _>(row, |cols| {
                (exact || filter.eval(&|c| cols[c]))
                    .then(|| order.iter().map(|&(c, _)| cols[c].to_value()).collect())
            })?;
            if let Some(keys) = keys {
                rows.push((keys, row.to_vec()));
            }
            Ok(true)
        })?;
        rows.sort_by(|a, b| {
            for (i, &(_, desc)) in order.iter().enumerate() {
                let o = a.0[i].sort_cmp(&b.0[i]);
                let o = if desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        for (_, row) in rows.iter().skip(skip).take(left) {
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
        let limit = match (self.spec.limit, cap) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b).unwrap_or(usize::MAX),
        };
        Ok(Box::new(rows.skip(self.spec.offset).take(limit)))
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
