//! Queries: filters, orderings, limits and offsets over the rows of one
//! model, answered from the primary key or an index where they can be.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `mod.rs` | `Session::query`, [`Query`] and [`QueryMut`] and their builder methods, and running a plan: filter, order, offset, limit |
//! | `plan.rs` | the planner: the access path of a query, and [`Plan`] as `explain` shows it |
//! | `access.rs` | reading rows along an access path, and the borrowed row decoding filters use |

mod access;
mod plan;

pub use plan::{Access, Plan};

use access::{RefBuf, RowIter, read_path, visit_path};
use plan::{Path, Spec, orderable};

use crate::error::{Error, Result};
use crate::expr::{Expr, Order, Pred};
use crate::layout::decode_model;
use crate::model::Model;
use crate::session::Session;
use crate::value::Value;
use std::marker::PhantomData;

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
        s.ensure::<M>()?;
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
        s.ensure::<M>()?;
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
