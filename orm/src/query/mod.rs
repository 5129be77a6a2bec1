//! Queries: filters, orderings, limits and offsets over the rows of one
//! model, answered from the primary key or an index where they can be.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `mod.rs` | `Session::query`, [`Query`] and [`QueryMut`] and their builder methods, and running a plan: filter, order, offset, limit |
//! | `plan.rs` | the planner: the access path of a query, and [`Plan`] as `explain` shows it |
//! | `access.rs` | reading rows along an access path, and the borrowed row decoding of orderings, selected columns, and filters on rows not laid out as declared |
//! | `raw_filter.rs` | the filter compiled once per query, run on each row's stored bytes |
//! | `aggregate.rs` | `count`, `sum`, `avg`, `min`, `max` over groups: [`Query::group_by`], [`Query::aggregate`] |
//! | `join.rs` | [`Query::join`]: pairs of rows across a relationship |
//! | `page.rs` | [`Query::paginate`] and [`Page`] |
//! | `slow.rs` | reporting a query slower than the handle's threshold, with its plan, as a `strata::query` event |

mod access;
mod aggregate;
mod join;
mod page;
mod plan;
mod raw_filter;
mod slow;

pub use aggregate::{Agg, AggKind, Aggregate, GroupKey, Grouped, Having, count};
pub use join::{
    Join, JoinFilter, JoinOrder, JoinPlan, JoinRelation, Joined, LeftSide, RightSide, SortKeyHandle,
};
pub use page::Page;
pub use plan::{Access, Plan};

use access::{RefBuf, RowIter, read_path, visit_path, visit_path_on};
use plan::{Path, orderable};
pub(crate) use plan::{Shape, Spec};
use raw_filter::RawFilter;

use crate::error::{Error, Result};
use crate::expr::{Column, Expr, Order, Pred};
use crate::layout::{bound_ref, column_index_table, decode_model};
use crate::model::Model;
use crate::session::Session;
use crate::value::{ColumnType, ToColumn, Value, ValueRef};
use std::borrow::Cow;
use std::marker::PhantomData;
use std::time::Instant;

impl Session {
    /// A query over the rows of `M`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let q = s.query::<Post>().filter(Post::author_id.eq(1)).order_by(Post::title);
    /// assert_eq!(titles(&q.all()?), ["Again", "Hello"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn query<M: Model>(&self) -> Query<'_, M> {
        Query::new(self)
    }

    /// A query over the rows of `M` that can also update or delete them.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// let n = s.query_mut::<Post>().filter(Post::topic.is_null()).set(Post::topic, Some("misc".to_string()))?;
    /// assert_eq!(n, 1);
    /// s.commit()?;
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn query_mut<M: Model>(&mut self) -> QueryMut<'_, M> {
        QueryMut::new(self)
    }
}

/// A relationship that can be loaded for many parents at once, for
/// [`Query::all_with`]. The relationships of `relation.rs` implement it.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::Relation;
/// # let (_dir, db) = blog()?;
/// let s = db.read_session()?;
/// let users = s.query::<User>().all()?;
/// // One pass over the foreign key's index for every user.
/// let posts = User::posts.load_all(&s, &users)?;
/// assert_eq!(posts.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
/// # Ok::<(), strata::Error>(())
/// ```
pub trait Relation<P> {
    /// What is loaded for one parent.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Relation;
    /// fn loaded<R: Relation<User>>(_: R) -> &'static str {
    ///     std::any::type_name::<R::Loaded>()
    /// }
    /// assert!(loaded(User::profile).starts_with("core::option::Option<"));
    /// assert!(loaded(User::posts).starts_with("alloc::vec::Vec<"));
    /// ```
    type Loaded;
    /// Loads it for each of `parents`, in order, with a bounded number of
    /// scans.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Relation;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let posts = s.query::<Post>().all()?;
    /// let authors = Post::author.load_all(&s, &posts)?; // each distinct author read once
    /// let names: Vec<String> = authors.into_iter().map(|a| a.expect("an author").username).collect();
    /// assert_eq!(names, ["ann", "ann", "bob"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn load_all(&self, session: &Session, parents: &[P]) -> Result<Vec<Self::Loaded>>;
}

/// The rows a query reads, before ordering and limits: the access path,
/// and the test of each row it reads.
struct Rows<'q> {
    path: Path,
    reverse: bool,
    test: RowTest<'q>,
}

/// The filter still to evaluate on the rows a path reads (none when the
/// path answers it exactly), compiled to run on their bytes where the
/// rows are laid out as declared, and a buffer that decodes the columns
/// a query reads besides (ordering keys, selected columns).
struct RowTest<'q> {
    filter: Option<&'q Pred>,
    raw: Option<RawFilter>,
    buf: RefBuf,
}

impl<'q> RowTest<'q> {
    /// The test of `filter` (when there is one) on rows of shape `t`, with
    /// a buffer for `columns`.
    fn new(t: &Shape<'_>, filter: Option<&'q Pred>, columns: &[usize]) -> Result<RowTest<'q>> {
        let raw = match filter {
            Some(f) => RawFilter::new(t, f)?,
            None => None,
        };
        // Without a compiled filter, the buffer evaluates it.
        let read = match raw {
            Some(_) => &Pred::True,
            None => filter.unwrap_or(&Pred::True),
        };
        Ok(RowTest {
            filter,
            raw,
            buf: RefBuf::on(t, read, columns)?,
        })
    }

    /// Whether stored row `row` matches the filter.
    #[inline]
    fn keep(&mut self, row: &[u8]) -> Result<bool> {
        match (self.filter, &mut self.raw) {
            (None, _) => Ok(true),
            (Some(_), Some(raw)) => raw.matches(row),
            (Some(filter), None) => self.buf.read(row, |cols| filter.eval(&|c| cols[c])),
        }
    }
}

/// Shared by [`Query`] and [`QueryMut`]: building, planning, running.
pub(crate) struct Core<M> {
    spec: Spec,
    /// `distinct()`: `values` leaves out repeated values.
    distinct: bool,
    _m: PhantomData<fn() -> M>,
}

impl<M> Clone for Core<M> {
    fn clone(&self) -> Self {
        Core {
            spec: self.spec.clone(),
            distinct: self.distinct,
            _m: PhantomData,
        }
    }
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
            distinct: false,
            _m: PhantomData,
        }
    }

    /// The spec with every relationship test's subquery run (`has`,
    /// `any`): what the planner and the filter work from.
    fn resolved(&self, s: &Session) -> Result<Cow<'_, Spec>> {
        if !self.spec.filter.has_sub() {
            return Ok(Cow::Borrowed(&self.spec));
        }
        let mut spec = self.spec.clone();
        spec.filter = spec.filter.resolve(&mut |sub| sub.run(s))?;
        Ok(Cow::Owned(spec))
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
        s.ensure::<M>()?;
        let spec = self.resolved(s)?;
        let layout = s.row_layout::<M>();
        visit_spec(
            s,
            &Shape::of::<M>().laid_out(layout.as_ref()),
            &spec,
            cap,
            f,
        )
    }

    /// How many rows match, after offset and limit ([`count_spec`]).
    pub(crate) fn count(&self, s: &Session) -> Result<u64> {
        s.ensure::<M>()?;
        let spec = self.resolved(s)?;
        let layout = s.row_layout::<M>();
        count_spec(s, &Shape::of::<M>().laid_out(layout.as_ref()), &spec)
    }

    /// Calls `f` with columns `columns` of each matching row (the others
    /// null), in the access path's order, ignoring offset and limit, until
    /// it returns `false`; returns whether that order is the requested one
    /// (the path delivers it without a sort).
    pub(crate) fn visit_columns(
        &self,
        s: &Session,
        columns: &[usize],
        f: &mut dyn FnMut(&[ValueRef<'_>]) -> Result<bool>,
    ) -> Result<bool> {
        s.ensure::<M>()?;
        let spec = self.resolved(s)?;
        let layout = s.row_layout::<M>();
        let shape = Shape::of::<M>().laid_out(layout.as_ref());
        let began = Instant::now();
        let (rows, ordered) = rows(&shape, &spec, columns)?;
        let mut test = rows.test;
        let (mut read, mut matched) = (0, 0);
        visit_path::<M>(s, rows.path, rows.reverse, 0, &mut |row| {
            read += 1;
            if !test.keep(row)? {
                return Ok(true);
            }
            matched += 1;
            test.buf.read(row, &mut *f)?
        })?;
        slow::report(s, &shape, &spec, began, read, matched);
        Ok(ordered)
    }
}

/// Calls `f` with the stored bytes of each row of the table of shape `t`
/// that `spec` (its subqueries run) matches, in the requested order,
/// after offset and limit (and at most `cap`), until it returns `false`:
/// [`Core::visit`] once the model is known to match its stored schema.
pub(crate) fn visit_spec(
    s: &Session,
    t: &Shape<'_>,
    spec: &Spec,
    cap: Option<usize>,
    f: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    let began = Instant::now();
    let limit = limit_of(spec, cap);
    if limit == 0 {
        return Ok(());
    }
    let columns: Vec<usize> = spec.order.iter().map(|k| k.column).collect();
    let (rows, ordered) = rows(t, spec, &columns)?;
    let (mut read, mut returned) = (0, 0);
    let mut counted = |row: &[u8]| {
        returned += 1;
        f(row)
    };
    if ordered {
        visit_in_order(s, t, spec, rows, limit, &mut read, &mut counted)?;
    } else {
        visit_sorted(s, t, spec, rows, limit, &mut read, &mut counted)?;
    }
    slow::report(s, t, spec, began, read, returned);
    Ok(())
}

/// The rows `spec` reads from a table of shape `t`, with a buffer that
/// decodes the filter's columns and `columns`, and whether they come in
/// the requested order.
fn rows<'q>(t: &Shape<'_>, spec: &'q Spec, columns: &[usize]) -> Result<(Rows<'q>, bool)> {
    let (path, plan) = spec.plan_on(t);
    let filter = &spec.filter;
    let exact = answers_exactly(spec, &plan);
    let rows = Rows {
        path,
        reverse: plan.reverse,
        test: RowTest::new(t, (!exact).then_some(filter), columns)?,
    };
    Ok((rows, plan.ordered))
}

/// Whether the access path alone answers `spec`'s filter: the plan
/// leaves nothing to filter, and no compared value is null or NaN (those
/// compare false with everything, yet have places among the keys).
fn answers_exactly(spec: &Spec, plan: &Plan) -> bool {
    !plan.filtered
        && spec
            .filter
            .conjuncts()
            .iter()
            .all(|p| p.values().all(orderable))
}

/// How many rows of the table of shape `t` `spec` (its subqueries run)
/// matches, after offset and limit. When a range of the table or of an
/// index answers the filter exactly, its entries are counted by the store
/// without reading a row (whole leaves at a time where it can); otherwise
/// the matching rows are read along the cheapest path, unsorted.
pub(crate) fn count_spec(s: &Session, t: &Shape<'_>, spec: &Spec) -> Result<u64> {
    let (path, plan) = spec.plan_on(t);
    let bounds = match &path {
        _ if !answers_exactly(spec, &plan) => None,
        Path::KeyRange(lo, hi) => Some((Cow::Borrowed(t.table), lo, hi)),
        Path::IndexRange(col, lo, hi) => {
            Some((column_index_table(t.table, &t.columns[*col]), lo, hi))
        }
        Path::Keys(_) | Path::IndexKeys(..) => None,
    };
    let skipped = |n: u64| {
        let n = n.saturating_sub(spec.offset as u64);
        spec.limit.map_or(n, |l| n.min(l as u64))
    };
    if let Some((table, lo, hi)) = bounds {
        s.db.counted_scan();
        return Ok(skipped(s.count_entries(
            &table,
            bound_ref(lo),
            bound_ref(hi),
        )?));
    }
    let mut unordered = Cow::Borrowed(spec);
    unordered.to_mut().order.clear();
    let mut n = 0;
    visit_spec(s, t, &unordered, None, &mut |_| {
        n += 1;
        Ok(true)
    })?;
    Ok(n)
}

/// At most how many rows `spec` gives: its limit, and at most `cap`.
fn limit_of(spec: &Spec, cap: Option<usize>) -> usize {
    match (spec.limit, cap) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(usize::MAX),
    }
}

/// [`Core::visit`] when the access path gives the requested order:
/// rows stream, and the scan stops at the limit. Counts the rows read
/// from the path in `read`.
fn visit_in_order(
    s: &Session,
    t: &Shape<'_>,
    spec: &Spec,
    rows: Rows<'_>,
    limit: usize,
    read: &mut u64,
    f: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    let (mut skip, mut left) = (spec.offset, limit);
    let mut test = rows.test;
    // With nothing to filter, the offset is passed over unread.
    let unread = if test.filter.is_none() {
        std::mem::take(&mut skip)
    } else {
        0
    };
    visit_path_on(s, t, rows.path, rows.reverse, unread, &mut |row| {
        *read += 1;
        if !test.keep(row)? {
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
/// ordering keys (read once per row). Counts the rows read from the path
/// in `read`.
fn visit_sorted(
    s: &Session,
    t: &Shape<'_>,
    spec: &Spec,
    rows: Rows<'_>,
    limit: usize,
    read: &mut u64,
    f: &mut dyn FnMut(&[u8]) -> Result<bool>,
) -> Result<()> {
    let mut matches: Vec<(Vec<Value>, Vec<u8>)> = Vec::new();
    let order = &spec.order;
    let mut test = rows.test;
    visit_path_on(s, t, rows.path, rows.reverse, 0, &mut |row| {
        *read += 1;
        if test.keep(row)? {
            let keys = test.buf.read(row, |cols| {
                order.iter().map(|k| k.value(cols[k.column])).collect()
            })?;
            matches.push((keys, row.to_vec()));
        }
        Ok(true)
    })?;
    matches.sort_by(|a, b| {
        for (i, k) in order.iter().enumerate() {
            let o = a.0[i].sort_cmp(&b.0[i]);
            let o = if k.desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
    for (_, row) in matches.iter().skip(spec.offset).take(limit) {
        if !f(row)? {
            break;
        }
    }
    Ok(())
}

impl<M: Model> Core<M> {
    /// Matching rows, decoded, after offset and limit (and at most `cap`).
    fn collect(&self, s: &Session, cap: Option<usize>) -> Result<Vec<M>> {
        let mut out = Vec::new();
        s.ensure::<M>()?;
        let layout = s.row_layout::<M>();
        self.visit(s, cap, &mut |row| {
            out.push(decode_model::<M>(layout.as_deref(), row)?);
            Ok(true)
        })?;
        Ok(out)
    }

    /// Matching rows in the requested order, after offset and limit, as a
    /// stream when the access path gives that order.
    fn run<'s>(&self, s: &'s Session, cap: Option<usize>) -> Result<RowIter<'s, M>> {
        s.ensure::<M>()?;
        let spec = self.resolved(s)?.into_owned();
        let (path, plan) = spec.plan::<M>();
        if !plan.ordered {
            return Ok(Box::new(self.collect(s, cap)?.into_iter().map(Ok)));
        }
        let limit = limit_of(&spec, cap);
        let layout = s.row_layout::<M>();
        let shape = Shape::of::<M>().laid_out(layout.as_ref());
        let mut raw = RawFilter::new(&shape, &spec.filter)?;
        let mut buf = RefBuf::on(&shape, &spec.filter, &[])?;
        let Spec { filter, offset, .. } = spec;
        // The filter reads the stored bytes, as `visit` does: only the
        // rows that match are decoded.
        let rows = read_path::<M>(s, path, plan.reverse)?.filter_map(move |r| {
            let row = match r {
                Ok(row) => row,
                Err(e) => return Some(Err(e)),
            };
            let matched = match &mut raw {
                Some(raw) => raw.matches(&row),
                None => buf.read(&row, |cols| filter.eval(&|c| cols[c])),
            };
            match matched {
                Ok(true) => Some(decode_model::<M>(layout.as_deref(), &row)),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            }
        });
        let rows: RowIter<'s, M> = Box::new(rows);
        Ok(Box::new(rows.skip(offset).take(limit)))
    }

    /// The value of `column` in each matching row, in the requested order,
    /// after offset and limit; with `distinct`, each value once (where it
    /// first comes).
    fn values<T: ColumnType>(&self, s: &Session, column: usize) -> Result<Vec<T>> {
        let mut buf = RefBuf::new::<M>(s, &Pred::True, &[column])?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        self.visit(s, None, &mut |row| {
            let v = buf.read(row, |cols| cols[column].to_value())?;
            if self.distinct && !seen.insert(crate::layout::key_of(&v)) {
                return Ok(true);
            }
            out.push(T::from_value(v).ok_or_else(|| Error::Corruption {
                table: M::TABLE.to_string(),
                detail: format!("{} holds a value of another type", M::COLUMNS[column].name),
            })?);
            Ok(true)
        })?;
        Ok(out)
    }
}

macro_rules! builder {
    ($ty:ident) => {
        impl<'s, M: Model> $ty<'s, M> {
            /// Keeps only rows matching `e` (and every earlier filter).
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// // Each filter narrows the last: author_id = 1 AND score > 3.
            /// let q = s.query::<Post>().filter(Post::author_id.eq(1)).filter(Post::score.gt(3.0));
            /// assert_eq!(titles(&q.all()?), ["Hello"]);
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn filter(mut self, e: Expr<M>) -> Self {
                self.core.filter(e);
                self
            }

            /// Orders the rows by `order` (after any earlier orderings).
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// let q = s.query::<Post>().order_by(Post::author_id.desc()).order_by(Post::title);
            /// assert_eq!(titles(&q.all()?), ["Hi", "Again", "Hello"]);
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn order_by(mut self, order: impl Into<Order<M>>) -> Self {
                self.core.spec.order.push(order.into().key);
                self
            }

            /// Leaves repeated values out of [`values`](Self::values), as
            /// SQL's `SELECT DISTINCT column`. Whole rows are distinct
            /// already (each has its own key), so `all` and the other
            /// readers are unchanged.
            ///
            /// ```
            /// # use serde::{Deserialize, Serialize};
            /// # use strata::{Database, Model, TextColumn, count};
            /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
            /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
            /// # let dir = std::env::temp_dir().join(format!("strata-doc-distinct-{}-{:?}", std::process::id(), std::thread::current().id()));
            /// # std::fs::create_dir_all(&dir).unwrap();
            /// # let db = Database::open(dir.join("app.strata"))?;
            /// # let mut s = db.session()?;
            /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
            /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
            /// # }
            /// let authors = s.query::<Post>().order_by(Post::author).distinct().values(Post::author)?;
            /// assert_eq!(authors, [1, 2]);
            /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn distinct(mut self) -> Self {
                self.core.distinct = true;
                self
            }

            /// Keeps the rows after key `last` in the key's order (before
            /// it when ordered by the key descending): keyset pagination,
            /// `WHERE id > :last ORDER BY id LIMIT n`, which reads from
            /// `last` on instead of skipping an offset. Orders by the key
            /// when no order is given.
            ///
            /// ```
            /// # use serde::{Deserialize, Serialize};
            /// # use strata::{Database, Model};
            /// # #[derive(Model, Serialize, Deserialize, Clone)]
            /// # struct Item { #[strata(primary_key)] id: i64 }
            /// # let dir = std::env::temp_dir().join(format!("strata-doc-after-{}", std::process::id()));
            /// # std::fs::create_dir_all(&dir).unwrap();
            /// # let db = Database::open(dir.join("app.strata"))?;
            /// # let mut s = db.session()?;
            /// # for _ in 0..5 { s.add(&mut Item { id: 0 })?; }
            /// let page = s.query::<Item>().limit(2).all()?;
            /// let next = s.query::<Item>().after(page[1].id).limit(2).all()?;
            /// assert_eq!(next.iter().map(|i| i.id).collect::<Vec<_>>(), [3, 4]);
            /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn after(mut self, last: impl ToColumn<M::Key>) -> Self {
                let pk = M::PRIMARY_KEY;
                if self.core.spec.order.is_empty() {
                    self.core
                        .spec
                        .order
                        .push(Column::<M, M::Key>::new(pk).asc().key);
                }
                let desc = self
                    .core
                    .spec
                    .order
                    .iter()
                    .any(|k| k.column == pk && k.desc);
                let key = Column::<M, M::Key>::new(pk);
                self.filter(if desc { key.lt(last) } else { key.gt(last) })
            }

            /// At most `n` rows.
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// let top = s.query::<Post>().order_by(Post::score.desc()).limit(2).all()?;
            /// assert_eq!(titles(&top), ["Hi", "Hello"]);
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn limit(mut self, n: usize) -> Self {
                self.core.spec.limit = Some(n);
                self
            }

            /// Skips the first `n` rows.
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// let rest = s.query::<Post>().order_by(Post::score.desc()).offset(1).all()?;
            /// assert_eq!(titles(&rest), ["Hello", "Again"]);
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn offset(mut self, n: usize) -> Self {
                self.core.spec.offset = n;
                self
            }

            /// How the query will read its rows.
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// let q = s.query::<User>().filter(User::email.eq("bob@example.org"));
            /// assert_eq!(q.explain().to_string(), "look up index on email"); // nothing is read
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn explain(&self) -> Plan {
                self.core.spec.plan::<M>().1
            }

            /// The value of `column` in every matching row, in order (see
            /// [`distinct`](Self::distinct)): `SELECT column FROM ...`.
            ///
            /// ```
            /// # use serde::{Deserialize, Serialize};
            /// # use strata::{Database, Model, TextColumn, count};
            /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
            /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
            /// # let dir = std::env::temp_dir().join(format!("strata-doc-values-{}-{:?}", std::process::id(), std::thread::current().id()));
            /// # std::fs::create_dir_all(&dir).unwrap();
            /// # let db = Database::open(dir.join("app.strata"))?;
            /// # let mut s = db.session()?;
            /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
            /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
            /// # }
            /// let scores = s.query::<Post>().order_by(Post::score).values(Post::score)?;
            /// assert_eq!(scores, [2.0, 4.0, 5.0]);
            /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn values<T: ColumnType>(&self, column: Column<M, T>) -> Result<Vec<T>> {
                self.core.values(self.session(), column.index())
            }

            /// One page of the matching rows, as Flask-SQLAlchemy's
            /// `paginate(page=, per_page=)`: pages count from 1 (0 is
            /// taken as 1), and the page knows the total (one more pass,
            /// counting). The query's own limit and offset are ignored.
            ///
            /// ```
            /// # use serde::{Deserialize, Serialize};
            /// # use strata::{Database, Model, TextColumn, count};
            /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
            /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
            /// # let dir = std::env::temp_dir().join(format!("strata-doc-paginate-{}-{:?}", std::process::id(), std::thread::current().id()));
            /// # std::fs::create_dir_all(&dir).unwrap();
            /// # let db = Database::open(dir.join("app.strata"))?;
            /// # let mut s = db.session()?;
            /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
            /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
            /// # }
            /// let page = s.query::<Post>().order_by(Post::id).paginate(2, 2)?;
            /// assert_eq!((page.items.len(), page.total, page.pages), (1, 3, 2));
            /// assert!(page.has_prev && !page.has_next);
            /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn paginate(&self, page: usize, per_page: usize) -> Result<Page<M>> {
                page::paginate(&self.core, self.session(), page, per_page)
            }

            /// Groups the matching rows by `key` (a column, or a tuple of
            /// columns), for [`Grouped::aggregate`].
            ///
            /// ```
            /// # use serde::{Deserialize, Serialize};
            /// # use strata::{Database, Model, TextColumn, count};
            /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
            /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
            /// # let dir = std::env::temp_dir().join(format!("strata-doc-groupby-{}-{:?}", std::process::id(), std::thread::current().id()));
            /// # std::fs::create_dir_all(&dir).unwrap();
            /// # let db = Database::open(dir.join("app.strata"))?;
            /// # let mut s = db.session()?;
            /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
            /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
            /// # }
            /// let per_author = s.query::<Post>().group_by(Post::author).aggregate((Post::author, count()))?;
            /// assert_eq!(per_author, [(1, 2), (2, 1)]);
            /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn group_by<K: aggregate::GroupKey<M>>(self, key: K) -> Grouped<'s, M> {
                Grouped::new(self.session, self.core, key.columns())
            }

            /// Aggregates over every matching row, as one group:
            /// `s.query::<Post>().aggregate((count(), Post::score.avg()))`.
            ///
            /// ```
            /// # use serde::{Deserialize, Serialize};
            /// # use strata::{Database, Model, TextColumn, count};
            /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
            /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
            /// # let dir = std::env::temp_dir().join(format!("strata-doc-qagg-{}-{:?}", std::process::id(), std::thread::current().id()));
            /// # std::fs::create_dir_all(&dir).unwrap();
            /// # let db = Database::open(dir.join("app.strata"))?;
            /// # let mut s = db.session()?;
            /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
            /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
            /// # }
            /// let (n, avg) = s.query::<Post>().filter(Post::author.eq(1)).aggregate((count(), Post::score.avg()))?;
            /// assert_eq!((n, avg), (2, Some(3.0)));
            /// // Over no rows: one row still, with a count of 0 and no average.
            /// let (n, avg) = s.query::<Post>().filter(Post::author.eq(9)).aggregate((count(), Post::score.avg()))?;
            /// assert_eq!((n, avg), (0, None));
            /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn aggregate<A: Aggregate<M>>(&self, select: A) -> Result<A::Out> {
                let mut rows = Grouped::new(self.session(), self.core.clone(), Vec::new())
                    .aggregate_all(select)?;
                // Without group_by there is always one row, over no rows too.
                rows.pop().ok_or(Error::NotExactlyOne {
                    model: M::NAME,
                    found: 0,
                })
            }

            /// Every matching row.
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// assert_eq!(titles(&s.query::<Post>().all()?), ["Hello", "Again", "Hi"]); // key order
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn all(&self) -> Result<Vec<M>> {
                self.core.collect(self.session(), None)
            }

            /// The first matching row.
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// let low = s.query::<Post>().order_by(Post::score).first()?;
            /// assert_eq!(low.map(|p| p.title), Some("Again".into()));
            /// assert_eq!(s.query::<Post>().filter(Post::score.gt(9.0)).first()?, None);
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn first(&self) -> Result<Option<M>> {
                Ok(self.core.collect(self.session(), Some(1))?.pop())
            }

            /// The only matching row; [`Error::NotExactlyOne`] otherwise.
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// use strata::Error;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// let bob = s.query::<User>().filter(User::username.eq("bob")).one()?;
            /// assert_eq!(bob.id, 2);
            /// let many = s.query::<Post>().filter(Post::author_id.eq(1)).one();
            /// assert!(matches!(many, Err(Error::NotExactlyOne { found: 2, .. })));
            /// # Ok::<(), strata::Error>(())
            /// ```
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
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// assert_eq!(s.query::<Post>().count()?, 3);
            /// assert_eq!(s.query::<Post>().filter(Post::author_id.eq(1)).limit(1).count()?, 1);
            /// # Ok::<(), strata::Error>(())
            /// ```
            pub fn count(&self) -> Result<u64> {
                self.core.count(self.session())
            }

            /// Whether any row matches.
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// assert!(s.query::<User>().filter(User::username.eq("ann")).exists()?); // stops at the first row
            /// assert!(!s.query::<User>().filter(User::username.eq("zoe")).exists()?);
            /// # Ok::<(), strata::Error>(())
            /// ```
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
            ///
            /// ```
            /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
            /// # let (_dir, db) = blog()?;
            /// let s = db.read_session()?;
            /// let before = db.stats().scans;
            /// let users = s.query::<User>().order_by(User::username).all_with(User::posts)?;
            /// let counts: Vec<(String, usize)> = users.into_iter().map(|(u, posts)| (u.username, posts.len())).collect();
            /// assert_eq!(counts, [("ann".to_string(), 2), ("bob".to_string(), 1)]);
            /// assert_eq!(db.stats().scans - before, 2); // the users, then the posts' index once
            /// # Ok::<(), strata::Error>(())
            /// ```
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
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{Query, TextColumn};
/// # let (_dir, db) = blog()?;
/// let s = db.read_session()?;
/// // A query is a value: build it, explain it, run it in any of several ways.
/// let q: Query<'_, Post> = s.query::<Post>().filter(Post::title.starts_with("H")).order_by(Post::score.desc());
/// assert_eq!(q.count()?, 2);
/// assert_eq!(q.first()?.map(|p| p.title), Some("Hi".into()));
/// assert_eq!(titles(&q.all()?), ["Hi", "Hello"]);
/// # Ok::<(), strata::Error>(())
/// ```
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
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let mut total = 0.0;
    /// for post in s.query::<Post>().order_by(Post::score).iter()? {
    ///     total += post?.score; // rows read as they are needed, along the index
    /// }
    /// assert_eq!(total, 11.0);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn iter(&self) -> Result<impl Iterator<Item = Result<M>> + 's> {
        self.core.run(self.session, None)
    }

    /// Pairs of each matching row with the rows `relation` links it to
    /// (an inner join), to filter and order on either side: see [`Join`].
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-qjoin-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # let mut ann = User { id: 0, username: "Ann".into() };
    /// # let mut bob = User { id: 0, username: "bob".into() };
    /// # s.add(&mut ann)?;
    /// # s.add(&mut bob)?;
    /// # for (author_id, title) in [(ann.id, "Hello"), (ann.id, "Again"), (bob.id, "hello there")] {
    /// #     s.add(&mut Post { id: 0, author_id, title: title.into() })?;
    /// # }
    /// let pairs = s.query::<Post>().join(Post::author).filter(User::username.eq("bob")).all()?;
    /// assert_eq!(pairs, [(Post { id: 3, author_id: bob.id, title: "hello there".into() }, bob.clone())]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn join<J: JoinRelation<M>>(self, relation: J) -> Join<'s, M, J::Right> {
        Join::new(self.session, self.core, relation.link())
    }

    /// The values of column `column` of every matching row, in the
    /// access path's order (for relationship tests).
    pub(crate) fn column_values(&self, column: usize) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        self.core
            .visit_columns(self.session, &[column], &mut |cols| {
                out.push(cols[column].to_value());
                Ok(true)
            })?;
        Ok(out)
    }
}

builder!(Query);

/// A query that can also change what it matches, from
/// [`Session::query_mut`].
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::QueryMut;
/// # let (_dir, db) = blog()?;
/// let mut s = db.session()?;
/// let q: QueryMut<'_, Post> = s.query_mut::<Post>().filter(Post::score.lt(3.0));
/// assert_eq!(q.delete()?, 1);
/// assert_eq!(s.query::<Post>().count()?, 2);
/// # Ok::<(), strata::Error>(())
/// ```
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

    /// Sets `column` to `value` in every matching row, as SQL's `UPDATE
    /// ... SET column = value WHERE ...` (and SQLAlchemy's
    /// `query.update({column: value})`); returns how many rows. Each row
    /// is updated as [`Session::update`] does: unique values and foreign
    /// keys are checked, indexes kept in step; it stops at the first
    /// refusal, the rows before it updated. The primary key cannot be set.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model};
    /// # #[derive(Model, Serialize, Deserialize, Clone)]
    /// # struct Item { #[strata(primary_key)] id: i64, #[strata(index)] grp: i64, done: bool }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-set-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// let mut s = db.session()?;
    /// for grp in [1, 1, 2] {
    ///     s.add(&mut Item { id: 0, grp, done: false })?;
    /// }
    /// let n = s.query_mut::<Item>().filter(Item::grp.eq(1)).set(Item::done, true)?;
    /// assert_eq!(n, 2);
    /// assert_eq!(s.query::<Item>().filter(Item::done.eq(true)).count()?, 2);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn set<T: ColumnType>(self, column: Column<M, T>, value: impl ToColumn<T>) -> Result<u64> {
        let value = value.to_column_value();
        let c = column.index();
        // A value `ToColumn` made for the column always fits it.
        self.update(|m| {
            let fits = m.set_value(c, value.clone());
            debug_assert!(fits, "a ToColumn value fits its column");
        })
    }

    /// Applies `change` to every matching row and stores it; returns how
    /// many. The primary key must not change.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// let n = s.query_mut::<Post>().filter(Post::author_id.eq(1)).update(|p| p.score *= 2.0)?;
    /// assert_eq!(n, 2);
    /// assert_eq!(s.get::<Post>(1)?.map(|p| p.score), Some(8.0));
    /// # Ok::<(), strata::Error>(())
    /// ```
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
