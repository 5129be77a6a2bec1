//! Joins: pairs of rows across a declared relationship, filtered on both
//! sides and ordered by columns of either.
//!
//! ```text
//! s.query::<Post>()
//!     .join(Post::author)                    // Join<Post, User>
//!     .filter(User::username.eq("ann"))      // a filter on either side
//!     .filter(Post::title.contains("rust"))
//!     .order_by(Post::id.desc())             // an order on either side
//!     .all()?                                // Vec<(Post, User)>
//! ```
//!
//! A join follows a `BelongsTo` (child to parent, `Post::author`) or a
//! `HasMany` / `HasOne` (parent to children, `User::posts`): an inner
//! join, so a row with no partner (a null foreign key, a parent without
//! children) is left out. Joining models that no relationship links does
//! not compile ([`JoinRelation`]).
//!
//! THE PLAN
//!
//! One side drives: its query runs first, and the other side's rows are
//! read by the values of the linking column, through the primary key or
//! the foreign key's index (a `KeyIn` test the planner turns into point
//! reads or index lookups). The right side drives when its filter has a
//! point access path (the primary key, or a unique or indexed column equal
//! to a value) and the left side's does not, or when only the right side
//! is filtered; otherwise the left side drives. [`Join::explain`] shows both plans. The pairs are then sorted
//! (by the requested order, then by the left and the right key) and
//! offset and limit apply.

use super::Core;
use super::plan::Plan;
use crate::error::Result;
use crate::expr::{Column, Expr, KeySet, Order, Pred, SortKey};
use crate::layout::key_of_ref;
use crate::model::Model;
use crate::session::Session;
use crate::value::{ColumnType, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// How a relationship links two models for a join: the left row's column
/// `left` equals the right row's column `right`.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Joined {
    pub(crate) left: usize,
    pub(crate) right: usize,
}

impl Joined {
    /// The link `left.left = right.right` (used by the relationships).
    pub(crate) const fn new(left: usize, right: usize) -> Joined {
        Joined { left, right }
    }
}

/// A relationship a join can follow from rows of `L`: `BelongsTo<L, _>`,
/// `HasMany<L, _>` and `HasOne<L, _>` (`relation.rs`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a relationship from `{L}`",
    label = "no relationship from `{L}`",
    note = "a join follows a relationship declared on the models: `query::<Post>().join(Post::author)`, `query::<User>().join(User::posts)`"
)]
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
/// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-jrel-{}-{:?}", std::process::id(), std::thread::current().id()));
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
/// let pairs = s.query::<Post>().join(Post::author).order_by(Post::id).all()?;
/// assert_eq!(pairs[0].1, ann);
/// let pairs = s.query::<User>().join(User::posts).count()?;
/// assert_eq!(pairs, 3);
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
pub trait JoinRelation<L> {
    /// The model on the other side.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::JoinRelation;
    /// fn right<R: JoinRelation<Post>>(_: R) -> &'static str {
    ///     <R::Right as strata::Model>::NAME
    /// }
    /// assert_eq!(right(Post::author), "User");
    /// ```
    type Right: Model;
    /// How the two sides link.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// // The join follows the relationship's link: posts.author_id = users.id.
    /// let pairs = s.query::<User>().join(User::posts).filter(Post::score.ge(4.0)).all()?;
    /// let names: Vec<&str> = pairs.iter().map(|(u, _)| u.username.as_str()).collect();
    /// assert_eq!(names, ["ann", "bob"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn link(&self) -> Joined;
}

/// Marks a filter or an order on the left model of a join.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
/// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-lside-{}-{:?}", std::process::id(), std::thread::current().id()));
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
/// let pairs = s.query::<Post>().join(Post::author).filter(Post::title.eq("Again")).all()?;
/// assert_eq!(pairs.len(), 1);
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Debug)]
pub struct LeftSide;

/// Marks a filter or an order on the right model of a join.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
/// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-rside-{}-{:?}", std::process::id(), std::thread::current().id()));
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
/// assert_eq!(pairs[0].0.title, "hello there");
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Debug)]
pub struct RightSide;

/// A filter on one side of a join: an `Expr<L>` or an `Expr<R>`.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
/// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-jfilter-{}-{:?}", std::process::id(), std::thread::current().id()));
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
/// let pairs = s
///     .query::<Post>()
///     .join(Post::author)
///     .filter(Post::title.istarts_with("hello"))
///     .filter(User::username.eq("Ann"))
///     .all()?;
/// assert_eq!(pairs.len(), 1);
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
pub trait JoinFilter<L, R, S> {
    /// Adds it to `join`.
    #[doc(hidden)]
    fn add_to(self, join: &mut Join<'_, L, R>);
}

impl<L: Model, R: Model> JoinFilter<L, R, LeftSide> for Expr<L> {
    fn add_to(self, join: &mut Join<'_, L, R>) {
        join.left.filter(self);
    }
}

impl<L: Model, R: Model> JoinFilter<L, R, RightSide> for Expr<R> {
    fn add_to(self, join: &mut Join<'_, L, R>) {
        join.right.filter(self);
    }
}

/// An ordering on one side of a join: an `Order` or a `Column` of `L` or
/// of `R`.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
/// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-jorder-{}-{:?}", std::process::id(), std::thread::current().id()));
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
/// let pairs = s.query::<Post>().join(Post::author).order_by(User::username.desc()).order_by(Post::id).all()?;
/// assert_eq!(pairs[0].1, bob);
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
pub trait JoinOrder<L, R, S> {
    /// The side (`false` left, `true` right) and the key.
    #[doc(hidden)]
    fn key(self) -> (bool, SortKeyHandle);
}

/// An ordering key, opaque outside the crate.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct SortKeyHandle(SortKey);

impl<L: Model, R: Model> JoinOrder<L, R, LeftSide> for Order<L> {
    fn key(self) -> (bool, SortKeyHandle) {
        (false, SortKeyHandle(self.key))
    }
}

impl<L: Model, R: Model> JoinOrder<L, R, RightSide> for Order<R> {
    fn key(self) -> (bool, SortKeyHandle) {
        (true, SortKeyHandle(self.key))
    }
}

impl<L: Model, R: Model, T: ColumnType> JoinOrder<L, R, LeftSide> for Column<L, T> {
    fn key(self) -> (bool, SortKeyHandle) {
        (false, SortKeyHandle(self.asc().key))
    }
}

impl<L: Model, R: Model, T: ColumnType> JoinOrder<L, R, RightSide> for Column<R, T> {
    fn key(self) -> (bool, SortKeyHandle) {
        (true, SortKeyHandle(self.asc().key))
    }
}

/// A join's plan: which side drives, and each side's plan.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
/// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-jplan-{}-{:?}", std::process::id(), std::thread::current().id()));
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
/// let j = s.query::<Post>().join(Post::author).filter(User::username.eq("bob"));
/// let plan = j.explain();
/// // The user is found by its unique index, then its posts by the foreign key's.
/// assert!(plan.right_first);
/// assert_eq!(plan.to_string(), "right: look up index on username; then left: look up index on author_id");
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinPlan {
    /// Whether the right side's query runs first.
    pub right_first: bool,
    /// The left side's plan (as it runs: with the driving side's values
    /// when the right side drives).
    pub left: Plan,
    /// The right side's plan.
    pub right: Plan,
}

impl fmt::Display for JoinPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.right_first {
            write!(f, "right: {}; then left: {}", self.right, self.left)
        } else {
            write!(f, "left: {}; then right: {}", self.left, self.right)
        }
    }
}

/// Pairs of rows of `L` and `R` across a relationship, from
/// [`Query::join`](super::Query::join).
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
/// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-join-{}-{:?}", std::process::id(), std::thread::current().id()));
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
/// let pairs: Vec<(Post, User)> = s
///     .query::<Post>()
///     .join(Post::author)
///     .filter(User::username.ilike("a%"))
///     .order_by(Post::title)
///     .all()?;
/// let titles: Vec<&str> = pairs.iter().map(|(p, _)| p.title.as_str()).collect();
/// assert_eq!(titles, ["Again", "Hello"]);
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
pub struct Join<'s, L, R> {
    session: &'s Session,
    left: Core<L>,
    right: Core<R>,
    link: Joined,
    /// The ordering keys, each with its side (`true`: right).
    order: Vec<(bool, SortKey)>,
    limit: Option<usize>,
    offset: usize,
}

impl<'s, L: Model, R: Model> Join<'s, L, R> {
    pub(super) fn new(session: &'s Session, left: Core<L>, link: Joined) -> Self {
        let mut left = left;
        let limit = left.spec.limit.take();
        let offset = std::mem::take(&mut left.spec.offset);
        let order = std::mem::take(&mut left.spec.order)
            .into_iter()
            .map(|k| (false, k))
            .collect();
        Join {
            session,
            left,
            right: Core::new(),
            link,
            order,
            limit,
            offset,
        }
    }

    /// Keeps the pairs whose row on the side of `e` matches it.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-jfilt2-{}-{:?}", std::process::id(), std::thread::current().id()));
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
    /// let n = s.query::<User>().join(User::posts).filter(Post::title.icontains("HELLO")).count()?;
    /// assert_eq!(n, 2);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn filter<S>(mut self, e: impl JoinFilter<L, R, S>) -> Self {
        e.add_to(&mut self);
        self
    }

    /// Orders the pairs by a column of either side (after any earlier
    /// orderings).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-jord2-{}-{:?}", std::process::id(), std::thread::current().id()));
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
    /// let first = s.query::<Post>().join(Post::author).order_by(Post::title).first()?;
    /// assert_eq!(first.map(|(p, _)| p.title), Some("Again".to_string()));
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn order_by<S>(mut self, order: impl JoinOrder<L, R, S>) -> Self {
        let (right, SortKeyHandle(k)) = order.key();
        self.order.push((right, k));
        self
    }

    /// At most `n` pairs.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-jlimit-{}-{:?}", std::process::id(), std::thread::current().id()));
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
    /// let pairs = s.query::<Post>().join(Post::author).order_by(Post::id).limit(2).all()?;
    /// assert_eq!(pairs.len(), 2);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` pairs.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-joffset-{}-{:?}", std::process::id(), std::thread::current().id()));
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
    /// let pairs = s.query::<Post>().join(Post::author).order_by(Post::id).offset(2).all()?;
    /// assert_eq!(pairs[0].1, bob);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn offset(mut self, n: usize) -> Self {
        self.offset = n;
        self
    }

    /// Which side drives, and how each side reads its rows.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-jexplain-{}-{:?}", std::process::id(), std::thread::current().id()));
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
    /// let j = s.query::<Post>().join(Post::author).filter(Post::title.eq("Hello"));
    /// assert!(!j.explain().right_first);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn explain(&self) -> JoinPlan {
        let right_first = self.right_first();
        let (mut left, mut right) = (self.left.clone(), self.right.clone());
        // The driven side is read by the values of its linking column.
        let probe = || Pred::KeyIn(0, Arc::new(KeySet::default()));
        if right_first {
            left.spec.filter = and(left.spec.filter, with_column(probe(), self.link.left));
        } else {
            right.spec.filter = and(right.spec.filter, with_column(probe(), self.link.right));
        }
        JoinPlan {
            right_first,
            left: left.spec.plan::<L>().1,
            right: right.spec.plan::<R>().1,
        }
    }

    /// Whether the right side drives: its filter finds its rows by point
    /// reads and the left side's does not, or it has a filter and the
    /// left side has none (the filter on the parent of "a join with a
    /// filter on the parent").
    fn right_first(&self) -> bool {
        use super::plan::Access;
        let point = |a: &Access| matches!(a, Access::PrimaryKey | Access::IndexLookup(_));
        let (lp, rp) = (self.left.spec.plan::<L>().1, self.right.spec.plan::<R>().1);
        let filtered = |f: &Pred| *f != Pred::True;
        (point(&rp.access) && !point(&lp.access))
            || (!point(&lp.access)
                && filtered(&self.right.spec.filter)
                && !filtered(&self.left.spec.filter))
    }

    /// Every pair, in order, after offset and limit.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-jall-{}-{:?}", std::process::id(), std::thread::current().id()));
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
    /// assert_eq!(s.query::<User>().join(User::posts).all()?.len(), 3);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn all(&self) -> Result<Vec<(L, R)>> {
        let mut pairs = self.pairs()?;
        self.sort(&mut pairs);
        let end = self
            .limit
            .map_or(pairs.len(), |l| self.offset.saturating_add(l));
        Ok(pairs.into_iter().take(end).skip(self.offset).collect())
    }

    /// The first pair, in order.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-jfirst-{}-{:?}", std::process::id(), std::thread::current().id()));
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
    /// let none = s.query::<Post>().join(Post::author).filter(User::username.eq("cy")).first()?;
    /// assert!(none.is_none());
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn first(&self) -> Result<Option<(L, R)>> {
        let mut pairs = self.pairs()?;
        self.sort(&mut pairs);
        Ok(pairs.into_iter().nth(self.offset))
    }

    /// The number of pairs (after offset and limit).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-jcount-{}-{:?}", std::process::id(), std::thread::current().id()));
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
    /// assert_eq!(s.query::<Post>().join(Post::author).filter(User::username.eq("Ann")).count()?, 2);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn count(&self) -> Result<u64> {
        let n = self.pairs()?.len().saturating_sub(self.offset);
        Ok(self.limit.map_or(n, |l| n.min(l)) as u64)
    }

    /// Every pair, unordered.
    fn pairs(&self) -> Result<Vec<(L, R)>> {
        let s = self.session;
        s.ensure::<L>()?;
        s.ensure::<R>()?;
        let link = self.link;
        let (lefts, rights) = if self.right_first() {
            let rights = self.right.collect(s, None)?;
            let mut left = self.left.clone();
            left.spec.filter = and(left.spec.filter, keys_in(link.left, &rights, link.right));
            (left.collect(s, None)?, rights)
        } else {
            let lefts = self.left.collect(s, None)?;
            let mut right = self.right.clone();
            right.spec.filter = and(right.spec.filter, keys_in(link.right, &lefts, link.left));
            (lefts, right.collect(s, None)?)
        };
        let mut by_key: HashMap<Vec<u8>, Vec<R>> = HashMap::new();
        for r in rights {
            let k = key_of_ref(r.value_ref(link.right));
            by_key.entry(k).or_default().push(r);
        }
        let mut pairs = Vec::new();
        for l in lefts {
            let v = l.value_ref(link.left);
            if v.is_null() {
                continue;
            }
            if let Some(rs) = by_key.get(&key_of_ref(v)) {
                for r in rs {
                    pairs.push((l.clone(), r.clone()));
                }
            }
        }
        Ok(pairs)
    }

    /// Sorts `pairs` by the requested order, then by the left key and the
    /// right key (a total order: each pair once).
    fn sort(&self, pairs: &mut [(L, R)]) {
        let value = |p: &(L, R), right: bool, k: &SortKey| -> Value {
            if right {
                k.value(p.1.value_ref(k.column))
            } else {
                k.value(p.0.value_ref(k.column))
            }
        };
        pairs.sort_by(|a, b| {
            for (right, k) in &self.order {
                let o = value(a, *right, k).sort_cmp(&value(b, *right, k));
                let o = if k.desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            a.0.key_value()
                .sort_cmp(&b.0.key_value())
                .then_with(|| a.1.key_value().sort_cmp(&b.1.key_value()))
        });
    }
}

/// `a AND b`.
fn and(a: Pred, b: Pred) -> Pred {
    match a {
        Pred::True => b,
        a => Pred::And(Box::new(a), Box::new(b)),
    }
}

/// `KeyIn(column)` with the set of `p`'s values.
fn with_column(p: Pred, column: usize) -> Pred {
    match p {
        Pred::KeyIn(_, set) => Pred::KeyIn(column, set),
        p => p,
    }
}

/// `column IN (the values of column `of` in `rows`)`.
fn keys_in<M: Model>(column: usize, rows: &[M], of: usize) -> Pred {
    let set = KeySet::new(rows.iter().map(|r| r.value(of)));
    Pred::KeyIn(column, Arc::new(set))
}
