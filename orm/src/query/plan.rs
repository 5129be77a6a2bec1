//! The planner: which access path answers a query's filter and order.
//!
//! A query's filter is split into its top-level conjuncts (`a AND b AND
//! ...`). From those it picks one access path, in this order of
//! preference:
//!
//! 1. primary key equal to a value, or in a list: point reads;
//! 2. a unique or indexed column equal to a value, or in a list: index
//!    lookups (unique columns first);
//! 3. a range (`<`, `<=`, `>`, `>=`, `between`, or `starts_with` or a
//!    case-sensitive `like` whose pattern starts with literal text, on a
//!    text key) on the primary key: one scan of the key range;
//! 4. a range, `starts_with` or such a `like`, on an indexed column: one
//!    scan of the index range;
//! 5. otherwise the whole table, in key order; or, when the query is
//!    ordered by one indexed column, the whole index in that order.
//!
//! The access path narrows what is read; the filter is then evaluated on
//! every row read, unless the path answers it exactly (the plan is not
//! `filtered` and no compared value is null or NaN). When the path yields
//! rows in the order the query asks for (key order for an ordering on the
//! key, index order for the indexed column the path scans), rows stream
//! and `limit` stops the scan early; otherwise all matching rows are
//! sorted in memory. [`Query::explain`](super::Query::explain) shows the
//! choice.

use crate::expr::{CmpOp, Pred, SortKey, TextOp};
use crate::layout::{RowLayout, key_of, prefix_end, text_prefix};
use crate::model::{ColumnDef, Model};
use crate::text::Fold;
use crate::value::Value;
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

/// How a query reads its rows.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::Access;
/// # let (_dir, db) = blog()?;
/// let s = db.read_session()?;
/// assert_eq!(s.query::<Post>().filter(Post::id.eq(1)).explain().access, Access::PrimaryKey);
/// assert_eq!(s.query::<Post>().filter(Post::author_id.eq(1)).explain().access, Access::IndexLookup("author_id"));
/// assert_eq!(s.query::<Post>().filter(Post::score.gt(1.0)).explain().access, Access::IndexRange("score"));
/// assert_eq!(s.query::<Post>().explain().access, Access::PrimaryKeyRange { bounded: false });
/// # Ok::<(), strata::Error>(())
/// ```
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

/// The plan of a query, as [`Query::explain`](super::Query::explain) gives it.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// # let (_dir, db) = blog()?;
/// let s = db.read_session()?;
/// let plan = s.query::<Post>().filter(Post::score.gt(1.0)).filter(Post::topic.is_null()).explain();
/// assert!(plan.ordered && !plan.reverse && plan.filtered);
/// assert_eq!(plan.to_string(), "scan index on score, filter");
/// # Ok::<(), strata::Error>(())
/// ```
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
pub(crate) struct Spec {
    pub(crate) filter: Pred,
    pub(crate) order: Vec<SortKey>,
    pub(crate) limit: Option<usize>,
    pub(crate) offset: usize,
}

/// What the planner and the readers need of a table: its name, its
/// columns, and which one is the primary key. A model gives it at compile
/// time ([`Shape::of`]); a stored schema at run time (`dynamic/`), for
/// tables whose Rust type the program does not have.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape<'a> {
    pub(crate) table: &'a str,
    pub(crate) columns: &'a [ColumnDef],
    pub(crate) key: usize,
    /// How the rows are laid out when not as the columns' plain serde
    /// encoding in this order (`layout.rs`, [`RowLayout`]).
    pub(crate) layout: Option<&'a Arc<RowLayout>>,
}

impl Shape<'static> {
    /// The shape of model `M`, read as plain serde rows.
    pub(crate) fn of<M: Model>() -> Shape<'static> {
        Shape {
            table: M::TABLE,
            columns: M::COLUMNS,
            key: M::PRIMARY_KEY,
            layout: None,
        }
    }
}

impl<'a> Shape<'a> {
    /// The same shape, its rows laid out as `layout` says.
    pub(crate) fn laid_out<'b>(self, layout: Option<&'b Arc<RowLayout>>) -> Shape<'b>
    where
        'a: 'b,
    {
        Shape { layout, ..self }
    }
}

/// A range of encoded keys.
type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// The access path chosen, with what it needs to run.
#[derive(Clone, Debug)]
pub(crate) enum Path {
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
        Pred::KeyIn(c, set) if *c == col => Some(set.values.clone()),
        // Not run yet (`explain`): the values are the subquery's.
        Pred::Sub(sub) if sub.column() == col => Some(Vec::new()),
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
            // `LIKE 'abc%...'`: every match starts with `abc`.
            Pred::Text(c, TextOp::Like(like), _) if *c == col => {
                let (prefix, _) = like.literal_prefix();
                if prefix.is_empty() {
                    continue;
                }
                let p = text_prefix(&prefix);
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

/// The indexed columns of `columns`, unique ones first, then in field order.
fn indexed_columns(columns: &[ColumnDef]) -> Vec<usize> {
    let mut v: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].has_index())
        .collect();
    v.sort_by_key(|&i| !columns[i].unique); // unique first
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

/// A query for at most one row: its whole filter is `column = v` on the
/// primary key or on a unique column, `v` has a place among the keys, and
/// there is no offset. The planner would choose the point read of the
/// key or of the unique index (preferences 1 and 2) and leave nothing to
/// filter; a point lookup takes that path without building the plan, the
/// filter's test or a list of keys ([`Spec::point`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Point<'q> {
    /// The column compared: the primary key, or a column with a unique index.
    pub(crate) column: usize,
    /// The value it is compared with.
    pub(crate) value: &'q Value,
}

impl Spec {
    /// The point lookup this query is, if it is one ([`Point`]).
    pub(crate) fn point(&self, t: &Shape<'_>) -> Option<Point<'_>> {
        let Pred::Cmp(column, CmpOp::Eq, value) = &self.filter else {
            return None;
        };
        let c = t.columns.get(*column)?;
        let keyed = *column == t.key || (c.unique && c.has_index());
        (keyed && self.offset == 0 && orderable(value)).then_some(Point {
            column: *column,
            value,
        })
    }

    /// The access path, in the order of preference of the module
    /// documentation.
    pub(super) fn plan<M: Model>(&self) -> (Path, Plan) {
        self.plan_on(&Shape::of::<M>())
    }

    /// The access path over a table of shape `t` (a model's, or a stored
    /// schema's).
    pub(crate) fn plan_on(&self, t: &Shape<'_>) -> (Path, Plan) {
        let conj = self.filter.conjuncts();
        let indexed = indexed_columns(t.columns);
        self.point_plan(t, &conj, &indexed)
            .or_else(|| self.range_plan(t, &conj, &indexed))
            .unwrap_or_else(|| self.scan_plan(t))
    }

    /// Does the requested order match a scan of `col`? And which way?
    fn order_on(&self, col: usize) -> Option<bool> {
        match self.order.as_slice() {
            [k] if k.column == col && k.fold == Fold::None => Some(k.desc),
            [] => Some(false),
            _ => None,
        }
    }

    /// Point reads: the primary key, or an indexed column, `=` or `IN`.
    fn point_plan(&self, t: &Shape<'_>, conj: &[&Pred], indexed: &[usize]) -> Option<(Path, Plan)> {
        let pk = t.key;
        let filtered = conj.len() > 1;
        if let Some(keys) = point_values(conj, pk) {
            let ordered = if self.order.is_empty() || self.order_on(pk) == Some(false) {
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
                plan_of(Access::IndexLookup(t.columns[c].name), ordered, filtered),
            ))
        })
    }

    /// One range scan: of the primary key, or of an indexed column.
    fn range_plan(&self, t: &Shape<'_>, conj: &[&Pred], indexed: &[usize]) -> Option<(Path, Plan)> {
        let pk = t.key;
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
            let access = Access::IndexRange(t.columns[c].name);
            Some((
                Path::IndexRange(c, lo, hi),
                plan_of(access, self.order_on(c), filtered(c)),
            ))
        })
    }

    /// No usable conjunct: the whole index of the one ordering column if
    /// it has every row, else the whole table.
    fn scan_plan(&self, t: &Shape<'_>) -> (Path, Plan) {
        let pk = t.key;
        let filtered = self.filter != Pred::True;
        if let [k] = self.order.as_slice()
            && k.fold == Fold::None
        {
            let (c, col) = (k.column, &t.columns[k.column]);
            // A unique index leaves nulls out: only usable if none can exist.
            if c != pk && col.has_index() && !(col.unique && col.nullable) {
                return (
                    Path::IndexRange(c, Bound::Unbounded, Bound::Unbounded),
                    plan_of(Access::IndexRange(col.name), Some(k.desc), filtered),
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
pub(super) fn orderable(v: &Value) -> bool {
    !v.is_null() && !matches!(v, Value::Float(f) if f.is_nan())
}

/// Whether `p` is a range condition on column `col` that a range access
/// path answers exactly.
fn is_range_on(p: &Pred, col: usize) -> bool {
    matches!(p, Pred::Cmp(c, op, _) if *c == col && !matches!(op, CmpOp::Eq | CmpOp::Ne))
        || matches!(p, Pred::Text(c, TextOp::StartsWith, _) if *c == col)
        || matches!(p, Pred::Text(c, TextOp::Like(like), _) if *c == col && like.literal_prefix().1)
}
