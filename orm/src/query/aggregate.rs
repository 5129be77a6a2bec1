//! Aggregates: `count`, `count_distinct`, `sum`, `avg`, `min` and `max`
//! over a column, for the whole result or per group of rows sharing the
//! values of one or more columns, with `having` over the aggregates.
//!
//! ```text
//! s.query::<Post>()
//!     .filter(Post::published.eq(true))
//!     .group_by(Post::author_id)
//!     .having(count().gt(2))
//!     .aggregate((Post::author_id, count(), Post::score.avg()))?
//!   -> Vec<(i64, u64, Option<f64>)>, one per author, by author_id
//! ```
//!
//! RESULTS
//!
//! A select list is a column of the group key, an aggregate, or a tuple of
//! up to six of them; each comes out as its Rust type: the column's type,
//! `u64` for the counts, `Option<i64>` / `Option<f64>` for a sum (of
//! integers / floats), `Option<f64>` for `avg`, `Option<T>` for `min` and
//! `max`. As in SQL, the aggregates skip nulls; `sum`, `avg`, `min` and
//! `max` of no value are `None`; without `group_by` there is one row, even
//! over no rows. Groups come in the order of their key values, ascending,
//! nulls first (the order of an index on the key).
//!
//! HOW GROUPS ARE READ
//!
//! | case | reads |
//! | --- | --- |
//! | no filter, one key column with an index that holds every row, and only that column aggregated (`count()`, `count`, `count_distinct`, `min`, `max` of it) | the index alone, streamed in key order: no row is read (`Grouped::explain` says `scan index on <column> only`) |
//! | otherwise | the rows along the query's access path (the planner's choice for the filter; where that path is an index on the key, the rows come in key order and the groups stream one after the other, and otherwise no order is asked for: reading through an index the filter does not use would cost a point read per row), each decoded only in the columns the filter, the key and the aggregates read; rows that do not come in key order are gathered in a hash map of the groups by encoded key, sorted at the end |
//!
//! A sum of integers is kept in 128 bits and must fit an `i64` at the end
//! (`Error::Overflow` otherwise); a sum of floats is added in the order
//! the rows are read.

use super::{Core, plan::Spec};
use crate::error::{Error, Result};
use crate::expr::{CmpOp, Column, Pred, SortKey};
use crate::layout::{bound_ref, column_index_table, decode_key, encode_key, key_of_ref};
use crate::model::Model;
use crate::session::Session;
use crate::text::Fold;
use crate::value::{ColumnType, Numeric, ToColumn, Value, ValueRef};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::marker::PhantomData;
use std::ops::Bound;

/// What one item of a select list computes.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggKind {
    /// A column of the group key: its value in the group.
    Key(usize),
    /// `count(*)`.
    Count,
    /// `count(column)`: the non-null values.
    CountCol(usize),
    /// `count(DISTINCT column)`.
    CountDistinct(usize),
    /// `sum(column)`.
    Sum(usize),
    /// `avg(column)`.
    Avg(usize),
    /// `min(column)`.
    Min(usize),
    /// `max(column)`.
    Max(usize),
}

impl AggKind {
    fn column(self) -> Option<usize> {
        match self {
            AggKind::Count => None,
            AggKind::Key(c)
            | AggKind::CountCol(c)
            | AggKind::CountDistinct(c)
            | AggKind::Sum(c)
            | AggKind::Avg(c)
            | AggKind::Min(c)
            | AggKind::Max(c) => Some(c),
        }
    }
}

/// An aggregate over rows of `M` giving a `T`: from [`count`], or a
/// column's `count`, `count_distinct`, `sum`, `avg`, `min`, `max`. Compare
/// it with a value to make a [`Having`] test.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn, count};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-agg-{}-{:?}", std::process::id(), std::thread::current().id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let db = Database::open(dir.join("app.strata"))?;
/// # let mut s = db.session()?;
/// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
/// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
/// # }
/// let best = Post::score.max();
/// assert_eq!(s.query::<Post>().aggregate(best)?, Some(5.0));
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
pub struct Agg<M, T> {
    kind: AggKind,
    _m: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Agg<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Agg<M, T> {}

impl<M, T> std::fmt::Debug for Agg<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.kind)
    }
}

impl<M, T> Agg<M, T> {
    const fn new(kind: AggKind) -> Self {
        Agg {
            kind,
            _m: PhantomData,
        }
    }
}

/// `count(*)`: the number of rows (of the group).
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, count};
/// # #[derive(Model, Serialize, Deserialize, Clone)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64 }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-agg-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let db = Database::open(dir.join("app.strata"))?;
/// let mut s = db.session()?;
/// for (author, score) in [(1, 4.0), (1, 2.0), (2, 5.0)] {
///     s.add(&mut Post { id: 0, author, score })?;
/// }
/// let per_author: Vec<(i64, u64, Option<f64>)> = s
///     .query::<Post>()
///     .group_by(Post::author)
///     .aggregate((Post::author, count(), Post::score.avg()))?;
/// assert_eq!(per_author, [(1, 2, Some(3.0)), (2, 1, Some(5.0))]);
/// let busy = s.query::<Post>().group_by(Post::author).having(count().gt(1u64)).aggregate(Post::author)?;
/// assert_eq!(busy, [1]);
/// let (n, best) = s.query::<Post>().aggregate((count(), Post::score.max()))?;
/// assert_eq!((n, best), (3, Some(5.0)));
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
pub fn count<M>() -> Agg<M, u64> {
    Agg::new(AggKind::Count)
}

impl<M: Model, T: ColumnType> Column<M, T> {
    /// `count(column)`: the values that are not null.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-countcol-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// // The nulls are not counted.
    /// assert_eq!(s.query::<Post>().aggregate(Post::topic.count())?, 2);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn count(self) -> Agg<M, u64> {
        Agg::new(AggKind::CountCol(self.index()))
    }

    /// `count(DISTINCT column)`: the distinct values that are not null.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-countd-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// assert_eq!(s.query::<Post>().aggregate(Post::author.count_distinct())?, 2);
    /// // "Rust" and "rust" are two values; their lower case is one.
    /// assert_eq!(s.query::<Post>().aggregate(Post::topic.count_distinct())?, 2);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn count_distinct(self) -> Agg<M, u64> {
        Agg::new(AggKind::CountDistinct(self.index()))
    }

    /// `avg(column)`, as an `f64`; `None` over no value.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-avg-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let per_author = s.query::<Post>().group_by(Post::author).aggregate((Post::author, Post::score.avg()))?;
    /// assert_eq!(per_author, [(1, Some(3.0)), (2, Some(5.0))]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn avg(self) -> Agg<M, Option<f64>>
    where
        T: Numeric,
    {
        Agg::new(AggKind::Avg(self.index()))
    }

    /// `sum(column)`: an `i64` for integers, an `f64` for floats; `None`
    /// over no value.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-sum-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// assert_eq!(s.query::<Post>().aggregate((Post::author.sum(), Post::score.sum()))?, (Some(4), Some(11.0)));
    /// assert_eq!(s.query::<Post>().filter(Post::id.gt(9)).aggregate(Post::author.sum())?, None);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn sum(self) -> Agg<M, Option<T::Sum>>
    where
        T: Numeric,
    {
        Agg::new(AggKind::Sum(self.index()))
    }

    /// `min(column)`; `None` over no value.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-min-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// assert_eq!(s.query::<Post>().aggregate(Post::score.min())?, Some(2.0));
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn min(self) -> Agg<M, Option<T::Base>> {
        Agg::new(AggKind::Min(self.index()))
    }

    /// `max(column)`; `None` over no value.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-max-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// assert_eq!(s.query::<Post>().aggregate(Post::topic.max())?, Some("rust".to_string()));
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn max(self) -> Agg<M, Option<T::Base>> {
        Agg::new(AggKind::Max(self.index()))
    }
}

/// A test on a group's aggregates, for [`Grouped::having`]: an aggregate
/// compared with a value, combined with `and`, `or`, `not`, with SQL's
/// three-valued logic (a comparison with a null aggregate is unknown).
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn, count};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-having-{}-{:?}", std::process::id(), std::thread::current().id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let db = Database::open(dir.join("app.strata"))?;
/// # let mut s = db.session()?;
/// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
/// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
/// # }
/// let busy = s
///     .query::<Post>()
///     .group_by(Post::author)
///     .having(count().ge(2u64).or(Post::score.avg().gt(4.5)))
///     .aggregate(Post::author)?;
/// assert_eq!(busy, [1, 2]);
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Having<M> {
    pred: HavingPred,
    _m: PhantomData<fn() -> M>,
}

#[derive(Clone, Debug)]
enum HavingPred {
    Cmp(AggKind, CmpOp, Value),
    And(Box<HavingPred>, Box<HavingPred>),
    Or(Box<HavingPred>, Box<HavingPred>),
    Not(Box<HavingPred>),
}

impl HavingPred {
    fn kinds(&self, out: &mut Vec<AggKind>) {
        match self {
            HavingPred::Cmp(k, ..) => out.push(*k),
            HavingPred::And(a, b) | HavingPred::Or(a, b) => {
                a.kinds(out);
                b.kinds(out);
            }
            HavingPred::Not(a) => a.kinds(out),
        }
    }

    /// As a predicate over slots: `slot(kind)` is the slot of each kind.
    fn to_pred(&self, slot: &impl Fn(AggKind) -> usize) -> Pred {
        match self {
            HavingPred::Cmp(k, op, v) => Pred::Cmp(slot(*k), *op, v.clone()),
            HavingPred::And(a, b) => {
                Pred::And(Box::new(a.to_pred(slot)), Box::new(b.to_pred(slot)))
            }
            HavingPred::Or(a, b) => Pred::Or(Box::new(a.to_pred(slot)), Box::new(b.to_pred(slot))),
            HavingPred::Not(a) => Pred::Not(Box::new(a.to_pred(slot))),
        }
    }
}

impl<M> Having<M> {
    fn new(pred: HavingPred) -> Self {
        Having {
            pred,
            _m: PhantomData,
        }
    }

    /// Both.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-hand-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let h = count().ge(2u64).and(Post::score.max().lt(5.0));
    /// assert_eq!(s.query::<Post>().group_by(Post::author).having(h).aggregate(Post::author)?, [1]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn and(self, other: Having<M>) -> Having<M> {
        Having::new(HavingPred::And(Box::new(self.pred), Box::new(other.pred)))
    }

    /// Either.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-hor-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let h = count().ge(2u64).or(Post::score.max().ge(5.0));
    /// assert_eq!(s.query::<Post>().group_by(Post::author).having(h).aggregate(Post::author)?, [1, 2]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn or(self, other: Having<M>) -> Having<M> {
        Having::new(HavingPred::Or(Box::new(self.pred), Box::new(other.pred)))
    }

    /// Not.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-hnot-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let h = count().ge(2u64).not();
    /// assert_eq!(s.query::<Post>().group_by(Post::author).having(h).aggregate(Post::author)?, [2]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Having<M> {
        Having::new(HavingPred::Not(Box::new(self.pred)))
    }
}

impl<M, T> Agg<M, T> {
    fn cmp(self, op: CmpOp, v: Value) -> Having<M> {
        Having::new(HavingPred::Cmp(self.kind, op, v))
    }

    /// `aggregate = v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-heq-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let g = s.query::<Post>().group_by(Post::author);
    /// assert_eq!(g.having(count().eq(2u64)).aggregate(Post::author)?, [1]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn eq(self, v: impl ToColumn<T>) -> Having<M> {
        self.cmp(CmpOp::Eq, v.to_column_value())
    }

    /// `aggregate != v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-hne-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let g = s.query::<Post>().group_by(Post::author);
    /// assert_eq!(g.having(count().ne(2u64)).aggregate(Post::author)?, [2]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn ne(self, v: impl ToColumn<T>) -> Having<M> {
        self.cmp(CmpOp::Ne, v.to_column_value())
    }

    /// `aggregate < v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-hlt-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let g = s.query::<Post>().group_by(Post::author);
    /// assert_eq!(g.having(count().lt(2u64)).aggregate(Post::author)?, [2]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn lt(self, v: impl ToColumn<T>) -> Having<M> {
        self.cmp(CmpOp::Lt, v.to_column_value())
    }

    /// `aggregate <= v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-hle-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let g = s.query::<Post>().group_by(Post::author);
    /// assert_eq!(g.having(count().le(1u64)).aggregate(Post::author)?, [2]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn le(self, v: impl ToColumn<T>) -> Having<M> {
        self.cmp(CmpOp::Le, v.to_column_value())
    }

    /// `aggregate > v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-hgt-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let g = s.query::<Post>().group_by(Post::author);
    /// assert_eq!(g.having(count().gt(1u64)).aggregate(Post::author)?, [1]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn gt(self, v: impl ToColumn<T>) -> Having<M> {
        self.cmp(CmpOp::Gt, v.to_column_value())
    }

    /// `aggregate >= v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-hge-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let g = s.query::<Post>().group_by(Post::author);
    /// assert_eq!(g.having(count().ge(1u64)).aggregate(Post::author)?, [1, 2]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn ge(self, v: impl ToColumn<T>) -> Having<M> {
        self.cmp(CmpOp::Ge, v.to_column_value())
    }
}

/// The columns of a group key: one column, or a tuple of columns.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn, count};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-gkey-{}-{:?}", std::process::id(), std::thread::current().id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let db = Database::open(dir.join("app.strata"))?;
/// # let mut s = db.session()?;
/// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
/// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
/// # }
/// let pairs = s
///     .query::<Post>()
///     .group_by((Post::author, Post::topic))
///     .aggregate((Post::author, Post::topic, count()))?;
/// assert_eq!(pairs[0], (1, None, 1));
/// assert_eq!(pairs.len(), 3);
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
pub trait GroupKey<M> {
    /// Their indexes.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::GroupKey;
    /// assert_eq!(GroupKey::<Post>::columns(&Post::author_id), [1]);
    /// assert_eq!(GroupKey::<Post>::columns(&(Post::author_id, Post::topic)), [1, 4]);
    /// ```
    fn columns(&self) -> Vec<usize>;
}

impl<M: Model, T: ColumnType> GroupKey<M> for Column<M, T> {
    fn columns(&self) -> Vec<usize> {
        vec![self.index()]
    }
}

macro_rules! group_key_tuple {
    ($($t:ident $v:ident),*) => {
        impl<M: Model, $($t: ColumnType),*> GroupKey<M> for ($(Column<M, $t>,)*) {
            fn columns(&self) -> Vec<usize> {
                let ($($v,)*) = self;
                vec![$($v.index()),*]
            }
        }
    };
}

group_key_tuple!(A a, B b);
group_key_tuple!(A a, B b, C c);
group_key_tuple!(A a, B b, C c, D d);

/// A select list of [`Grouped::aggregate`]: a key column, an [`Agg`], or
/// a tuple of up to six of them, each giving its Rust type.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn, count};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-aggtrait-{}-{:?}", std::process::id(), std::thread::current().id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let db = Database::open(dir.join("app.strata"))?;
/// # let mut s = db.session()?;
/// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
/// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
/// # }
/// let (n, total, lowest): (u64, Option<f64>, Option<f64>) =
///     s.query::<Post>().aggregate((count(), Post::score.sum(), Post::score.min()))?;
/// assert_eq!((n, total, lowest), (3, Some(11.0), Some(2.0)));
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
pub trait Aggregate<M> {
    /// One result row.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::{Aggregate, count};
    /// fn out<A: Aggregate<Post>>(_: &A) -> &'static str {
    ///     std::any::type_name::<A::Out>()
    /// }
    /// assert_eq!(out(&(count(), Post::score.max())), "(u64, core::option::Option<f64>)");
    /// ```
    type Out;
    /// What each item computes, in order.
    #[doc(hidden)]
    fn kinds(&self, out: &mut Vec<AggKind>);
    /// A result row from the items' values, in order.
    #[doc(hidden)]
    fn out(values: &mut dyn Iterator<Item = Value>) -> Option<Self::Out>;
}

impl<M: Model, T: ColumnType> Aggregate<M> for Column<M, T> {
    type Out = T;
    fn kinds(&self, out: &mut Vec<AggKind>) {
        out.push(AggKind::Key(self.index()));
    }
    fn out(values: &mut dyn Iterator<Item = Value>) -> Option<T> {
        T::from_value(values.next()?)
    }
}

impl<M, T: ColumnType> Aggregate<M> for Agg<M, T> {
    type Out = T;
    fn kinds(&self, out: &mut Vec<AggKind>) {
        out.push(self.kind);
    }
    fn out(values: &mut dyn Iterator<Item = Value>) -> Option<T> {
        T::from_value(values.next()?)
    }
}

macro_rules! aggregate_tuple {
    ($($t:ident $v:ident),*) => {
        impl<M, $($t: Aggregate<M>),*> Aggregate<M> for ($($t,)*) {
            type Out = ($($t::Out,)*);
            fn kinds(&self, out: &mut Vec<AggKind>) {
                let ($($v,)*) = self;
                $($v.kinds(out);)*
            }
            fn out(values: &mut dyn Iterator<Item = Value>) -> Option<Self::Out> {
                Some(($($t::out(values)?,)*))
            }
        }
    };
}

aggregate_tuple!(A a, B b);
aggregate_tuple!(A a, B b, C c);
aggregate_tuple!(A a, B b, C c, D d);
aggregate_tuple!(A a, B b, C c, D d, E e);
aggregate_tuple!(A a, B b, C c, D d, E e, F f);

/// A query's rows grouped by key columns, from
/// [`Query::group_by`](super::Query::group_by).
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn, count};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-grouped-{}-{:?}", std::process::id(), std::thread::current().id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let db = Database::open(dir.join("app.strata"))?;
/// # let mut s = db.session()?;
/// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
/// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
/// # }
/// let by_author = s.query::<Post>().group_by(Post::author);
/// assert_eq!(by_author.aggregate((Post::author, count()))?, [(1, 2), (2, 1)]);
/// assert_eq!(by_author.explain(&(Post::author, count())), "scan index on author only");
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
pub struct Grouped<'q, M> {
    session: &'q Session,
    core: Core<M>,
    keys: Vec<usize>,
    having: Option<HavingPred>,
}

impl<'q, M: Model> Grouped<'q, M> {
    pub(super) fn new(session: &'q Session, core: Core<M>, keys: Vec<usize>) -> Self {
        Grouped {
            session,
            core,
            keys,
            having: None,
        }
    }

    /// Keeps the groups passing `test` (and every earlier one).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-ghaving-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let one = s.query::<Post>().group_by(Post::author).having(count().eq(1u64)).aggregate(Post::author)?;
    /// assert_eq!(one, [2]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn having(mut self, test: Having<M>) -> Self {
        self.having = Some(match self.having.take() {
            None => test.pred,
            Some(h) => HavingPred::And(Box::new(h), Box::new(test.pred)),
        });
        self
    }

    /// One result row per group (of those `having` keeps), in the order
    /// of the group keys; see the module documentation.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-gagg-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let rows = s
    ///     .query::<Post>()
    ///     .filter(Post::score.gt(1.0))
    ///     .group_by(Post::author)
    ///     .aggregate((Post::author, count(), Post::score.max()))?;
    /// assert_eq!(rows, [(1, 2, Some(4.0)), (2, 1, Some(5.0))]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn aggregate<A: Aggregate<M>>(&self, select: A) -> Result<Vec<A::Out>> {
        self.aggregate_all(select)
    }

    /// How the groups are read: `scan index on <column> only` when the
    /// key's index alone answers, else the query's plan (whose `sort`
    /// here means the groups are gathered in a map).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn, count};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(index)] author: i64, score: f64, topic: Option<String> }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-gexplain-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for (author, score, topic) in [(1, 4.0, Some("Rust")), (1, 2.0, None), (2, 5.0, Some("rust"))] {
    /// #     s.add(&mut Post { id: 0, author, score, topic: topic.map(String::from) })?;
    /// # }
    /// let g = s.query::<Post>().group_by(Post::author);
    /// // Only the key and count(): the index on the key answers alone.
    /// assert_eq!(g.explain(&(Post::author, count())), "scan index on author only");
    /// // Another column, and no filter: the whole table is read, and the
    /// // groups are gathered by key.
    /// assert_eq!(g.explain(&(Post::author, Post::score.avg())), "scan whole table");
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn explain(&self, select: &impl Aggregate<M>) -> String {
        let mut kinds = Vec::new();
        select.kinds(&mut kinds);
        match self.index_only(&kinds) {
            Some(c) => format!("scan index on {} only", M::COLUMNS[c].name),
            None => self.spec().plan::<M>().1.to_string(),
        }
    }

    /// The query's spec: ordered by the group key when the filter's own
    /// access path gives that order (an index on the key serving the
    /// filter), so that the groups stream in key order at no cost.
    /// Otherwise unordered: reading rows in key order through an index the
    /// filter does not use costs a point read per row (7.7x slower than a
    /// table scan at 100,000 rows in the benchmark), and the hash map of
    /// groups sorts them by key at the end anyway.
    fn spec(&self) -> Spec {
        let unordered = self.core.spec.clone();
        let mut ordered = unordered.clone();
        ordered.order = self
            .keys
            .iter()
            .map(|&column| SortKey {
                column,
                desc: false,
                fold: Fold::None,
            })
            .collect();
        let (_, by_filter) = unordered.plan::<M>();
        let (_, by_key) = ordered.plan::<M>();
        if by_key.ordered && by_key.access == by_filter.access {
            ordered
        } else {
            unordered
        }
    }

    /// The key column whose index alone answers `kinds`, if one does.
    fn index_only(&self, kinds: &[AggKind]) -> Option<usize> {
        let [c] = self.keys[..] else { return None };
        let col = &M::COLUMNS[c];
        let only_key = kinds.iter().all(|k| k.column().is_none_or(|x| x == c))
            && self
                .having_kinds()
                .iter()
                .all(|k| k.column().is_none_or(|x| x == c));
        (self.core.spec.filter == Pred::True
            && col.has_index()
            && !(col.unique && col.nullable)
            && only_key)
            .then_some(c)
    }

    fn having_kinds(&self) -> Vec<AggKind> {
        let mut out = Vec::new();
        if let Some(h) = &self.having {
            h.kinds(&mut out);
        }
        out
    }

    pub(super) fn aggregate_all<A: Aggregate<M>>(&self, select: A) -> Result<Vec<A::Out>> {
        let s = self.session;
        s.ensure::<M>()?;
        let mut selected = Vec::new();
        select.kinds(&mut selected);
        // Every aggregate computed: the select list's, then the having's.
        let mut kinds = selected.clone();
        for k in self.having_kinds() {
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        let having = self
            .having
            .as_ref()
            .map(|h| h.to_pred(&|k| kinds.iter().position(|x| *x == k).unwrap_or(0)));
        let mut groups = Groups::new(&kinds, having, selected.len());
        if let Some(c) = self.index_only(&kinds) {
            self.scan_index(s, c, &mut groups)?;
        } else {
            let mut core = self.core.clone();
            core.spec = self.spec();
            let mut columns: Vec<usize> = kinds.iter().filter_map(|k| k.column()).collect();
            columns.extend(&self.keys);
            let keys = &self.keys;
            let mut key = Vec::new();
            core.visit_columns(s, &columns, &mut |cols| {
                key.clear();
                for &k in keys {
                    encode_key(cols[k], &mut key);
                }
                groups.add(&key, |c| cols[c]);
                Ok(true)
            })?;
        }
        groups.finish::<M, A>(self.keys.is_empty())
    }

    /// Groups from the index of key column `c` alone: each entry is one
    /// row, and its key starts with the column's encoded value.
    fn scan_index(&self, s: &Session, c: usize, groups: &mut Groups) -> Result<()> {
        let table = column_index_table(M::TABLE, &M::COLUMNS[c]);
        let mut bad = false;
        let mut last: Option<(Vec<u8>, Value)> = None;
        s.db.counted_scan();
        s.scan_with(
            &table,
            bound_ref(&Bound::Unbounded),
            bound_ref(&Bound::Unbounded),
            false,
            &mut |k, _| {
                let Some((v, n)) = decode_key(k) else {
                    bad = true;
                    return false;
                };
                if last.as_ref().is_none_or(|(e, _)| e[..] != k[..n]) {
                    last = Some((k[..n].to_vec(), v));
                }
                if let Some((enc, v)) = &last {
                    groups.add(enc, |_| v.as_ref());
                }
                true
            },
        )?;
        if bad {
            return Err(Error::Corruption {
                table: table.to_string(),
                detail: "an entry's key is not an encoded value".into(),
            });
        }
        Ok(())
    }
}

/// One aggregate's running state.
#[derive(Clone, Debug)]
enum Acc {
    Key(Option<Value>),
    Count(u64),
    Distinct(HashSet<Vec<u8>>),
    SumInt(Option<i128>),
    SumFloat(Option<f64>),
    Avg(f64, u64),
    Min(Option<Value>),
    Max(Option<Value>),
}

impl Acc {
    fn new(kind: AggKind) -> Acc {
        match kind {
            AggKind::Key(_) => Acc::Key(None),
            AggKind::Count | AggKind::CountCol(_) => Acc::Count(0),
            AggKind::CountDistinct(_) => Acc::Distinct(HashSet::new()),
            AggKind::Sum(_) => Acc::SumInt(None),
            AggKind::Avg(_) => Acc::Avg(0.0, 0),
            AggKind::Min(_) => Acc::Min(None),
            AggKind::Max(_) => Acc::Max(None),
        }
    }

    fn add(&mut self, kind: AggKind, v: ValueRef<'_>) {
        match self {
            Acc::Key(k) => {
                if k.is_none() {
                    *k = Some(v.to_value());
                }
            }
            Acc::Count(n) if kind == AggKind::Count => *n += 1,
            // Every other aggregate skips nulls.
            _ if v.is_null() => {}
            Acc::Count(n) => *n += 1,
            Acc::Distinct(set) => {
                set.insert(key_of_ref(v));
            }
            Acc::SumInt(sum) => match v {
                ValueRef::Int(i) => *sum = Some(sum.unwrap_or(0) + i128::from(i)),
                ValueRef::UInt(u) => *sum = Some(sum.unwrap_or(0) + i128::from(u)),
                ValueRef::Float(f) => *self = Acc::SumFloat(Some(f)),
                _ => {}
            },
            Acc::SumFloat(sum) => {
                if let ValueRef::Float(f) = v {
                    *sum = Some(sum.unwrap_or(0.0) + f);
                }
            }
            Acc::Avg(sum, n) => {
                *sum += match v {
                    ValueRef::Int(i) => i as f64,
                    ValueRef::UInt(u) => u as f64,
                    ValueRef::Float(f) => f,
                    _ => return,
                };
                *n += 1;
            }
            Acc::Min(m) => {
                if m.as_ref().is_none_or(|m| v.to_value().sort_cmp(m).is_lt()) {
                    *m = Some(v.to_value());
                }
            }
            Acc::Max(m) => {
                if m.as_ref().is_none_or(|m| v.to_value().sort_cmp(m).is_gt()) {
                    *m = Some(v.to_value());
                }
            }
        }
    }

    fn value<M: Model>(&self, kind: AggKind) -> Result<Value> {
        Ok(match self {
            Acc::Key(v) => v.clone().unwrap_or(Value::Null),
            Acc::Count(n) => Value::UInt(*n),
            Acc::Distinct(set) => Value::UInt(set.len() as u64),
            Acc::SumInt(None) | Acc::SumFloat(None) => Value::Null,
            Acc::SumInt(Some(s)) => Value::Int(i64::try_from(*s).map_err(|_| Error::Overflow {
                model: M::NAME,
                column: kind.column().map_or("", |c| M::COLUMNS[c].name),
            })?),
            Acc::SumFloat(Some(f)) => Value::Float(*f),
            Acc::Avg(_, 0) => Value::Null,
            Acc::Avg(sum, n) => Value::Float(sum / *n as f64),
            Acc::Min(m) | Acc::Max(m) => m.clone().unwrap_or(Value::Null),
        })
    }
}

/// The groups being gathered: each group's running aggregates, in the
/// order the groups began, sorted by encoded key at the end (which is the
/// key values' order). A row of the last group (every row but a group's
/// first when they stream in key order) finds it without a lookup; any
/// other row finds its group through a hash map by encoded key.
struct Groups {
    kinds: Vec<AggKind>,
    having: Option<Pred>,
    selected: usize,
    slots: HashMap<Vec<u8>, usize, BuildHasherDefault<KeyHasher>>,
    groups: Vec<(Vec<u8>, Vec<Acc>)>,
}

/// FNV-1a over a group's encoded key: short keys, hashed once per row, so
/// a simple hash beats SipHash here (the keys come from the file, and a
/// collision costs time, never a wrong answer).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

impl Groups {
    fn new(kinds: &[AggKind], having: Option<Pred>, selected: usize) -> Groups {
        Groups {
            kinds: kinds.to_vec(),
            having,
            selected,
            slots: HashMap::default(),
            groups: Vec::new(),
        }
    }

    /// Adds a row of the group whose encoded key is `key`; aggregate `i`
    /// reads `value(c)` of its column `c` (`value` is not called for
    /// `count()`).
    fn add<'v>(&mut self, key: &[u8], value: impl Fn(usize) -> ValueRef<'v>) {
        let last = self.groups.len().wrapping_sub(1);
        let slot = match self.groups.last() {
            Some((k, _)) if k[..] == *key => last,
            _ => self.slot(key),
        };
        let accs = &mut self.groups[slot].1;
        for (acc, &kind) in accs.iter_mut().zip(&self.kinds) {
            acc.add(kind, kind.column().map_or(ValueRef::Null, &value));
        }
    }

    /// The index of the group of `key`, begun if it is new.
    fn slot(&mut self, key: &[u8]) -> usize {
        match self.slots.get(key) {
            Some(&slot) => slot,
            None => {
                let accs = self.kinds.iter().map(|&k| Acc::new(k)).collect();
                self.groups.push((key.to_vec(), accs));
                self.slots.insert(key.to_vec(), self.groups.len() - 1);
                self.groups.len() - 1
            }
        }
    }

    /// The result rows, in key order; one row over no rows when `whole`
    /// (no `group_by`).
    fn finish<M: Model, A: Aggregate<M>>(mut self, whole: bool) -> Result<Vec<A::Out>> {
        if whole && self.groups.is_empty() {
            let accs = self.kinds.iter().map(|&k| Acc::new(k)).collect();
            self.groups.push((Vec::new(), accs));
        }
        self.groups.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::with_capacity(self.groups.len());
        for (_, accs) in &self.groups {
            let values = accs
                .iter()
                .zip(&self.kinds)
                .map(|(a, &k)| a.value::<M>(k))
                .collect::<Result<Vec<Value>>>()?;
            if let Some(h) = &self.having
                && !h.eval(&|i| values[i].as_ref())
            {
                continue;
            }
            let row = A::out(&mut values.into_iter().take(self.selected)).ok_or_else(|| {
                Error::Corruption {
                    table: M::TABLE.to_string(),
                    detail: "an aggregate's value does not fit its type".into(),
                }
            })?;
            out.push(row);
        }
        Ok(out)
    }
}
