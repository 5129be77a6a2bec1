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
use crate::model::{CmpOp, Expr, Model, Order, Pred, TextOp};
use crate::relation::Relation;
use crate::schema::index_table;
use crate::session::{Session, decode_key_value, decode_row};
use crate::value::{Value, decode_key, key_of, prefix_end, text_prefix};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Bound;

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

/// Whether `p` is a range condition on column `col` that a range access
/// path answers exactly.
fn is_range_on(p: &Pred, col: usize) -> bool {
    matches!(p, Pred::Cmp(c, op, _) if *c == col && !matches!(op, CmpOp::Eq | CmpOp::Ne))
        || matches!(p, Pred::Text(c, TextOp::StartsWith, _) if *c == col)
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    b.as_ref().map(|v| &v[..])
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
            let scan = s.kv.scan(M::TABLE, as_ref(&lo), as_ref(&hi), reverse)?;
            Box::new(scan.map(|kv| {
                let (_, v) = kv?;
                decode_row::<M>(&v)
            }))
        }
        Path::IndexKeys(col, vals) => {
            let c = &M::COLUMNS[col];
            let table = index_table(M::TABLE, c.name);
            let mut pks = Vec::new();
            for v in vals {
                let k = key_of(&v);
                if c.unique {
                    s.db.counted_get();
                    if let Some(pk) = s.kv.get(&table, &k)? {
                        pks.push(decode_key_value(&pk, &table)?);
                    }
                } else {
                    let end = prefix_end(&k).map_or(Bound::Unbounded, Bound::Excluded);
                    s.db.counted_scan();
                    for kv in
                        s.kv.scan(&table, Bound::Included(&k), as_ref(&end), false)?
                    {
                        let (ik, _) = kv?;
                        pks.push(decode_key_value(&ik[k.len()..], &table)?);
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
            let table = index_table(M::TABLE, c.name);
            s.db.counted_scan();
            let scan = s.kv.scan(&table, as_ref(&lo), as_ref(&hi), reverse)?;
            let unique = c.unique;
            Box::new(scan.filter_map(move |kv| {
                let pk = (|| {
                    let (ik, iv) = kv?;
                    let pk_bytes = if unique {
                        iv
                    } else {
                        let n = decode_key(&ik).map(|(_, n)| n).unwrap_or(ik.len());
                        ik[n..].to_vec()
                    };
                    decode_key_value(&pk_bytes, &table)
                })();
                match pk {
                    Ok(k) => s.get_by_value::<M>(&k).transpose(),
                    Err(e) => Some(Err(e)),
                }
            }))
        }
    })
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

    /// Matching rows in the requested order, after offset and limit.
    fn run<'s>(&self, s: &'s Session, cap: Option<usize>) -> Result<RowIter<'s, M>> {
        s.db.ensure::<M>()?;
        let (path, plan) = self.spec.plan::<M>();
        let filter = self.spec.filter.clone();
        let rows = read_path::<M>(s, path, plan.reverse)?.filter(move |r| match r {
            Ok(m) => filter.eval(&|c| m.value(c)),
            Err(_) => true,
        });
        let rows: RowIter<'s, M> = if plan.ordered {
            Box::new(rows)
        } else {
            let mut all = rows.collect::<Result<Vec<M>>>()?;
            let order = self.spec.order.clone();
            all.sort_by(|a, b| {
                for &(c, desc) in &order {
                    let o = a.value(c).sort_cmp(&b.value(c));
                    let o = if desc { o.reverse() } else { o };
                    if o.is_ne() {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
            Box::new(all.into_iter().map(Ok))
        };
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
                self.core.run(self.session(), None)?.collect()
            }

            /// The first matching row.
            pub fn first(&self) -> Result<Option<M>> {
                self.core.run(self.session(), Some(1))?.next().transpose()
            }

            /// The only matching row; [`Error::NotExactlyOne`] otherwise.
            pub fn one(&self) -> Result<M> {
                let mut rows = self
                    .core
                    .run(self.session(), Some(2))?
                    .collect::<Result<Vec<M>>>()?;
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
                for r in self.core.run(self.session(), None)? {
                    r?;
                    n += 1;
                }
                Ok(n)
            }

            /// Whether any row matches.
            pub fn exists(&self) -> Result<bool> {
                Ok(self
                    .core
                    .run(self.session(), Some(1))?
                    .next()
                    .transpose()?
                    .is_some())
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

    /// Deletes every matching row (following delete rules); returns how
    /// many.
    pub fn delete(self) -> Result<u64> {
        let rows = self
            .core
            .run(self.session, None)?
            .collect::<Result<Vec<M>>>()?;
        let mut n = 0;
        for m in rows {
            n += u64::from(self.session.delete(&m)?);
        }
        Ok(n)
    }

    /// Applies `change` to every matching row and stores it; returns how
    /// many. The primary key must not change.
    pub fn update(self, mut change: impl FnMut(&mut M)) -> Result<u64> {
        let mut rows = self
            .core
            .run(self.session, None)?
            .collect::<Result<Vec<M>>>()?;
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
            self.session.update(m)?;
        }
        Ok(rows.len() as u64)
    }
}

builder!(QueryMut);
