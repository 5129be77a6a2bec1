//! Typed columns and the filters and orderings built from them.
//!
//! The derive gives every model one [`Column`] constant per field, named
//! like the field (`User::email`); its methods build an [`Expr`], a typed
//! filter over rows of that model only, or an [`Order`]. Underneath, an
//! `Expr` is an untyped [`Pred`] over column indexes, which the planner
//! (`query/plan.rs`) splits into conjuncts and evaluates on borrowed rows with
//! SQL's three-valued logic.

use crate::layout::key_of_ref;
use crate::model::Model;
use crate::text::{Fold, Like};
use crate::value::{ColumnType, ToColumn, Value, ValueRef};
use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::Arc;

/// A typed handle on one column of model `M`, of Rust type `T`. The derive
/// generates one per field as an associated constant named like the field,
/// so `User::email` names the `email` column the way SQLAlchemy's
/// `User.email` does.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::Column;
/// # let (_dir, db) = blog()?;
/// let score: Column<Post, f64> = Post::score; // Copy: use it as often as needed
/// let s = db.read_session()?;
/// let good = s.query::<Post>().filter(score.ge(4.0)).order_by(score.desc()).all()?;
/// assert_eq!(titles(&good), ["Hi", "Hello"]);
/// # Ok::<(), strata::Error>(())
/// ```
pub struct Column<M, T> {
    index: usize,
    _m: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Column<M, T> {}

impl<M, T> std::fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Column({})", self.index)
    }
}

impl<M: Model, T: ColumnType> Column<M, T> {
    /// The handle of column `index` (used by the derive).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Column;
    /// // What the derive generates for the third field of Post:
    /// let title: Column<Post, String> = Column::new(2);
    /// assert_eq!(title.name(), Post::title.name());
    /// ```
    pub const fn new(index: usize) -> Self {
        Column {
            index,
            _m: PhantomData,
        }
    }

    /// Its index in the model's columns.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// assert_eq!(Post::score.index(), 3);
    /// assert_eq!(Post::COLUMNS[Post::score.index()].name, "score");
    /// ```
    pub const fn index(self) -> usize {
        self.index
    }

    /// Its name.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// assert_eq!(User::email.name(), "email");
    /// ```
    pub fn name(self) -> &'static str {
        M::COLUMNS[self.index].name
    }

    fn cmp(self, op: CmpOp, v: Value) -> Expr<M> {
        Expr::new(Pred::Cmp(self.index, op, v))
    }

    /// `column = v`; with `v` null (`None`), `column IS NULL`, as
    /// SQLAlchemy's `column == None` and `filter_by(column=None)`:
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::Model;
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Item { #[strata(primary_key)] id: i64, note: Option<String> }
    /// let wanted: Option<String> = None;
    /// assert_eq!(Item::note.eq(wanted), Item::note.is_null());
    /// ```
    pub fn eq(self, v: impl ToColumn<T>) -> Expr<M> {
        match v.to_column_value() {
            Value::Null => self.is_null(),
            v => self.cmp(CmpOp::Eq, v),
        }
    }

    /// `column != v` (unknown, so not matching, when the column is null);
    /// with `v` null (`None`), `column IS NOT NULL`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let q = s.query::<Post>().filter(Post::topic.ne("rust"));
    /// assert_eq!(titles(&q.all()?), ["Hi"]); // the post without a topic is unknown, not a match
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn ne(self, v: impl ToColumn<T>) -> Expr<M> {
        match v.to_column_value() {
            Value::Null => self.is_not_null(),
            v => self.cmp(CmpOp::Ne, v),
        }
    }

    /// `column < v`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// assert_eq!(titles(&s.query::<Post>().filter(Post::score.lt(4.0)).all()?), ["Again"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn lt(self, v: impl ToColumn<T>) -> Expr<M> {
        self.cmp(CmpOp::Lt, v.to_column_value())
    }

    /// `column <= v`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// assert_eq!(s.query::<Post>().filter(Post::score.le(4.0)).count()?, 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn le(self, v: impl ToColumn<T>) -> Expr<M> {
        self.cmp(CmpOp::Le, v.to_column_value())
    }

    /// `column > v`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let q = s.query::<Post>().filter(Post::score.gt(3.5));
    /// assert_eq!(q.explain().to_string(), "scan index on score");
    /// assert_eq!(titles(&q.all()?), ["Hello", "Hi"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn gt(self, v: impl ToColumn<T>) -> Expr<M> {
        self.cmp(CmpOp::Gt, v.to_column_value())
    }

    /// `column >= v`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// // A narrower integer compares with a wider column: i32 literals with i64 keys.
    /// assert_eq!(s.query::<Post>().filter(Post::id.ge(2)).count()?, 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn ge(self, v: impl ToColumn<T>) -> Expr<M> {
        self.cmp(CmpOp::Ge, v.to_column_value())
    }

    /// `lo <= column <= hi`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let q = s.query::<Post>().filter(Post::score.between(3.0, 4.5));
    /// assert_eq!(titles(&q.all()?), ["Hello"]); // both ends included
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn between(self, lo: impl ToColumn<T>, hi: impl ToColumn<T>) -> Expr<M> {
        self.ge(lo).and(self.le(hi))
    }

    /// `column IN (values)`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let q = s.query::<User>().filter(User::username.in_(["bob", "carol"]));
    /// assert_eq!(q.explain().to_string(), "look up index on username");
    /// assert_eq!(q.count()?, 1);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn in_<V: ToColumn<T>>(self, values: impl IntoIterator<Item = V>) -> Expr<M> {
        Expr::new(Pred::In(
            self.index,
            values.into_iter().map(|v| v.to_column_value()).collect(),
        ))
    }

    /// `column IS NULL`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// assert_eq!(titles(&s.query::<Post>().filter(Post::topic.is_null()).all()?), ["Again"]);
    /// // The same as comparing with None, as SQLAlchemy's `== None`.
    /// assert_eq!(s.query::<Post>().filter(Post::topic.eq(None::<String>)).count()?, 1);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn is_null(self) -> Expr<M> {
        Expr::new(Pred::IsNull(self.index))
    }

    /// `column IS NOT NULL`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// assert_eq!(s.query::<Post>().filter(Post::topic.is_not_null()).count()?, 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn is_not_null(self) -> Expr<M> {
        Expr::new(Pred::IsNull(self.index)).not()
    }

    /// Ascending order on this column.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// // A bare column orders ascending too: order_by(Post::title).
    /// let q = s.query::<Post>().order_by(Post::title.asc());
    /// assert_eq!(titles(&q.all()?), ["Again", "Hello", "Hi"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn asc(self) -> Order<M> {
        Order::new(self.index, false, Fold::None)
    }

    /// Descending order on this column.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let q = s.query::<Post>().order_by(Post::score.desc());
    /// assert_eq!(q.explain().to_string(), "scan index on score backwards");
    /// assert_eq!(titles(&q.all()?), ["Hi", "Hello", "Again"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn desc(self) -> Order<M> {
        Order::new(self.index, true, Fold::None)
    }
}

/// Text operations, for `String` and `Option<String>` columns. The
/// case-insensitive ones fold case as `text.rs` says (Rust's Unicode
/// lowercase mapping).
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::TextColumn; // the text tests are methods of this trait
/// # let (_dir, db) = blog()?;
/// let s = db.read_session()?;
/// let q = s.query::<User>().filter(User::email.ends_with("@example.com"));
/// assert_eq!(q.one()?.username, "ann");
/// # Ok::<(), strata::Error>(())
/// ```
pub trait TextColumn<M> {
    /// The column starts with `prefix`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::TextColumn;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let q = s.query::<User>().filter(User::username.starts_with("b"));
    /// assert_eq!(q.explain().to_string(), "scan index on username"); // a prefix is a range
    /// assert_eq!(q.one()?.username, "bob");
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn starts_with(self, prefix: &str) -> Expr<M>;
    /// The column ends with `suffix`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::TextColumn;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// assert_eq!(s.query::<User>().filter(User::email.ends_with(".org")).one()?.username, "bob");
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn ends_with(self, suffix: &str) -> Expr<M>;
    /// The column contains `needle`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::TextColumn;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// assert_eq!(titles(&s.query::<Post>().filter(Post::title.contains("ll")).all()?), ["Hello"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn contains(self, needle: &str) -> Expr<M>;
    /// `column LIKE pattern`, case-sensitive: `%` matches any run of
    /// characters, `_` one character.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::TextColumn;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// assert_eq!(titles(&s.query::<Post>().filter(Post::title.like("H_%")).all()?), ["Hello", "Hi"]);
    /// assert_eq!(s.query::<Post>().filter(Post::title.like("h%")).count()?, 0); // case matters
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn like(self, pattern: &str) -> Expr<M>;
    /// `column LIKE pattern ESCAPE escape`: `escape` before `%`, `_` or
    /// itself matches that character.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::TextColumn;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// s.add(&mut Post { id: 0, author_id: 1, title: "100% Rust".into(), score: 1.0, topic: None })?;
    /// let q = s.query::<Post>().filter(Post::title.like_escape("%!%%", '!')); // a literal %
    /// assert_eq!(titles(&q.all()?), ["100% Rust"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn like_escape(self, pattern: &str, escape: char) -> Expr<M>;
    /// `column ILIKE pattern`: [`TextColumn::like`] ignoring case.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone)]
    /// # struct User { #[strata(primary_key)] id: i64, email: String }
    /// let gmail = User::email.ilike("%@GMAIL.com");
    /// # let _ = gmail;
    /// ```
    fn ilike(self, pattern: &str) -> Expr<M>;
    /// `column ILIKE pattern ESCAPE escape`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-ilikeesc-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// // `\_` and `\%` match the characters themselves.
    /// assert_eq!(names(s.query::<User>().filter(User::name.ilike_escape("A\\_B\\%", '\\')))?, ["a_b%"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn ilike_escape(self, pattern: &str, escape: char) -> Expr<M>;
    /// The column starts with `prefix`, ignoring case.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-istarts-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.istarts_with("a")))?, ["Ann", "a_b%"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn istarts_with(self, prefix: &str) -> Expr<M>;
    /// The column ends with `suffix`, ignoring case.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-iends-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.iends_with("OB")))?, ["bob"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn iends_with(self, suffix: &str) -> Expr<M>;
    /// The column contains `needle`, ignoring case.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-icont-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// // Case folds beyond ASCII too.
    /// assert_eq!(names(s.query::<User>().filter(User::name.icontains("émi")))?, ["Émile"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn icontains(self, needle: &str) -> Expr<M>;
    /// `lower(column)`, to compare or order by.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// let ann = User::name.lower().eq("ann");
    /// let by_name = User::name.lower().asc();
    /// # let _ = (ann, by_name);
    /// ```
    fn lower(self) -> Folded<M>;
    /// `upper(column)`, to compare or order by.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-upper-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.upper().eq("BOB")))?, ["bob"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn upper(self) -> Folded<M>;
}

macro_rules! text_column {
    ($t:ty) => {
        impl<M: Model> TextColumn<M> for Column<M, $t> {
            fn starts_with(self, prefix: &str) -> Expr<M> {
                text(self.index, TextOp::StartsWith, prefix.to_string())
            }
            fn ends_with(self, suffix: &str) -> Expr<M> {
                text(self.index, TextOp::EndsWith, suffix.to_string())
            }
            fn contains(self, needle: &str) -> Expr<M> {
                text(self.index, TextOp::Contains, needle.to_string())
            }
            fn like(self, pattern: &str) -> Expr<M> {
                text(
                    self.index,
                    TextOp::Like(Like::new(pattern, None)),
                    String::new(),
                )
            }
            fn like_escape(self, pattern: &str, escape: char) -> Expr<M> {
                let like = Like::new(pattern, Some(escape));
                text(self.index, TextOp::Like(like), String::new())
            }
            fn ilike(self, pattern: &str) -> Expr<M> {
                let like = Like::new(&Fold::Lower.apply(pattern), None);
                folded(
                    self.index,
                    text(self.index, TextOp::Like(like), String::new()),
                )
            }
            fn ilike_escape(self, pattern: &str, escape: char) -> Expr<M> {
                let like = Like::new(&Fold::Lower.apply(pattern), Some(escape));
                folded(
                    self.index,
                    text(self.index, TextOp::Like(like), String::new()),
                )
            }
            fn istarts_with(self, prefix: &str) -> Expr<M> {
                let p = Fold::Lower.apply(prefix).into_owned();
                folded(self.index, text(self.index, TextOp::StartsWith, p))
            }
            fn iends_with(self, suffix: &str) -> Expr<M> {
                let p = Fold::Lower.apply(suffix).into_owned();
                folded(self.index, text(self.index, TextOp::EndsWith, p))
            }
            fn icontains(self, needle: &str) -> Expr<M> {
                let p = Fold::Lower.apply(needle).into_owned();
                folded(self.index, text(self.index, TextOp::Contains, p))
            }
            fn lower(self) -> Folded<M> {
                Folded::new(self.index, Fold::Lower)
            }
            fn upper(self) -> Folded<M> {
                Folded::new(self.index, Fold::Upper)
            }
        }
    };
}

fn text<M>(c: usize, op: TextOp, s: String) -> Expr<M> {
    Expr::new(Pred::Text(c, op, s))
}

/// `inner`, a test of column `c`, on the column's lowercase mapping.
fn folded<M>(c: usize, inner: Expr<M>) -> Expr<M> {
    Expr::new(Pred::Folded(c, Fold::Lower, Box::new(inner.pred)))
}

text_column!(String);
text_column!(Option<String>);

/// `lower(column)` or `upper(column)` of a text column of `M`, from
/// [`TextColumn::lower`] and [`TextColumn::upper`]: compared with text, or
/// ordered by. The planner reads the whole table for its tests (no index
/// holds folded text), and sorts in memory for its orderings.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model, TextColumn};
/// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// # struct User { #[strata(primary_key)] id: i64, name: String }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-folded-{}-{:?}", std::process::id(), std::thread::current().id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let db = Database::open(dir.join("app.strata"))?;
/// # let mut s = db.session()?;
/// # for name in ["Ann", "bob", "Émile", "a_b%"] {
/// #     s.add(&mut User { id: 0, name: name.into() })?;
/// # }
/// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
/// let sorted = names(s.query::<User>().order_by(User::name.lower()))?;
/// assert_eq!(sorted, ["a_b%", "Ann", "bob", "Émile"]);
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
pub struct Folded<M> {
    column: usize,
    fold: Fold,
    _m: PhantomData<fn() -> M>,
}

impl<M> Clone for Folded<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Folded<M> {}

impl<M> std::fmt::Debug for Folded<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}(Column({}))", self.fold, self.column)
    }
}

impl<M> Folded<M> {
    fn new(column: usize, fold: Fold) -> Self {
        Folded {
            column,
            fold,
            _m: PhantomData,
        }
    }

    fn wrap(self, inner: Pred) -> Expr<M> {
        Expr::new(Pred::Folded(self.column, self.fold, Box::new(inner)))
    }

    fn cmp(self, op: CmpOp, v: &str) -> Expr<M> {
        self.wrap(Pred::Cmp(self.column, op, Value::Text(v.to_string())))
    }

    /// `f(column) = v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-feq-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.lower().eq("ann")))?, ["Ann"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn eq(self, v: &str) -> Expr<M> {
        self.cmp(CmpOp::Eq, v)
    }

    /// `f(column) != v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-fne-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.lower().ne("ann")))?, ["bob", "Émile", "a_b%"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn ne(self, v: &str) -> Expr<M> {
        self.cmp(CmpOp::Ne, v)
    }

    /// `f(column) < v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-flt-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.lower().lt("b")))?, ["Ann", "a_b%"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn lt(self, v: &str) -> Expr<M> {
        self.cmp(CmpOp::Lt, v)
    }

    /// `f(column) <= v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-fle-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.lower().le("bob")))?, ["Ann", "bob", "a_b%"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn le(self, v: &str) -> Expr<M> {
        self.cmp(CmpOp::Le, v)
    }

    /// `f(column) > v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-fgt-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.lower().gt("bob")))?, ["Émile"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn gt(self, v: &str) -> Expr<M> {
        self.cmp(CmpOp::Gt, v)
    }

    /// `f(column) >= v`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-fge-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.lower().ge("bob")))?, ["bob", "Émile"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn ge(self, v: &str) -> Expr<M> {
        self.cmp(CmpOp::Ge, v)
    }

    /// `f(column) IN (values)`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-fin-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.lower().in_(["ann", "bob"])))?, ["Ann", "bob"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn in_<'v>(self, values: impl IntoIterator<Item = &'v str>) -> Expr<M> {
        let vs = values.into_iter().map(|v| Value::Text(v.to_string()));
        self.wrap(Pred::In(self.column, vs.collect()))
    }

    /// `f(column) LIKE pattern` (case-sensitive on the mapped text).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-flike-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().filter(User::name.upper().like("A%")))?, ["Ann", "a_b%"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn like(self, pattern: &str) -> Expr<M> {
        let like = TextOp::Like(Like::new(pattern, None));
        self.wrap(Pred::Text(self.column, like, String::new()))
    }

    /// Ascending order on `f(column)`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-fasc-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().order_by(User::name.upper().asc()))?, ["Ann", "a_b%", "bob", "Émile"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn asc(self) -> Order<M> {
        Order::new(self.column, false, self.fold)
    }

    /// Descending order on `f(column)`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-fdesc-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # for name in ["Ann", "bob", "Émile", "a_b%"] {
    /// #     s.add(&mut User { id: 0, name: name.into() })?;
    /// # }
    /// # let names = |q: strata::Query<'_, User>| -> strata::Result<Vec<String>> { q.values(User::name) };
    /// assert_eq!(names(s.query::<User>().order_by(User::name.lower().desc()))?, ["Émile", "bob", "Ann", "a_b%"]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn desc(self) -> Order<M> {
        Order::new(self.column, true, self.fold)
    }
}

impl<M> From<Folded<M>> for Order<M> {
    fn from(f: Folded<M>) -> Order<M> {
        f.asc()
    }
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A text test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TextOp {
    StartsWith,
    EndsWith,
    Contains,
    /// A compiled `LIKE` pattern (the string of the predicate is unused).
    Like(Like),
}

/// An untyped predicate over a row's column values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Pred {
    True,
    Cmp(usize, CmpOp, Value),
    In(usize, Vec<Value>),
    IsNull(usize),
    Text(usize, TextOp, String),
    /// A test of column `c` (`Cmp`, `In` or `Text` on `c`) on the text of
    /// `c` mapped by the fold; unknown when `c` is null.
    Folded(usize, Fold, Box<Pred>),
    /// The column's encoded value is in the set: a relationship test
    /// (`has`, `any`), once its subquery has run. Never unknown: false on
    /// a null (SQL's `EXISTS`).
    KeyIn(usize, Arc<KeySet>),
    /// A relationship test whose subquery has yet to run (`query/`
    /// resolves it into `KeyIn` before the query reads a row).
    Sub(Arc<dyn SubQuery>),
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
}

impl Pred {
    /// Evaluates the predicate on a row, given a way to read its columns.
    /// Comparisons with null are false (SQL's unknown, then NOT unknown
    /// is unknown too: `Not` of a comparison with null is false).
    pub(crate) fn eval<'a>(&self, col: &impl Fn(usize) -> ValueRef<'a>) -> bool {
        self.eval3(col) == Some(true)
    }

    /// The three-valued result of a test of one column (every predicate
    /// but `And`, `Or` and `Not`) on that column's value `v`: `None` for
    /// SQL's unknown.
    pub(crate) fn eval_column(&self, v: ValueRef<'_>) -> Option<bool> {
        self.eval3(&|_| v)
    }

    fn eval3<'a, F: Fn(usize) -> ValueRef<'a> + ?Sized>(&self, col: &F) -> Option<bool> {
        use std::cmp::Ordering::*;
        match self {
            Pred::True => Some(true),
            Pred::Cmp(c, op, v) => {
                let ord = col(*c).compare(v)?;
                Some(match op {
                    CmpOp::Eq => ord == Equal,
                    CmpOp::Ne => ord != Equal,
                    CmpOp::Lt => ord == Less,
                    CmpOp::Le => ord != Greater,
                    CmpOp::Gt => ord == Greater,
                    CmpOp::Ge => ord != Less,
                })
            }
            // `x IN ()` is false, even for a null x. Otherwise a null x is
            // unknown; a match is true; a miss is unknown if some listed
            // value does not compare (a null: x might have been it), and
            // false only if every one compared unequal.
            Pred::In(_, vs) if vs.is_empty() => Some(false),
            Pred::In(c, vs) => {
                let x = col(*c);
                if x.is_null() {
                    return None;
                }
                let mut unknown = false;
                for v in vs {
                    match x.compare(v) {
                        Some(Equal) => return Some(true),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                (!unknown).then_some(false)
            }
            Pred::IsNull(c) => Some(col(*c).is_null()),
            Pred::Text(c, op, s) => match col(*c) {
                ValueRef::Text(t) => Some(match op {
                    TextOp::StartsWith => t.starts_with(s.as_str()),
                    TextOp::EndsWith => t.ends_with(s.as_str()),
                    TextOp::Contains => contains(t, s),
                    TextOp::Like(like) => like.matches(t),
                }),
                _ => None,
            },
            Pred::Folded(c, fold, inner) => match col(*c) {
                ValueRef::Text(t) => {
                    if let Some(b) = ascii_fold_match(*fold, inner, *c, t) {
                        return Some(b);
                    }
                    let mapped = fold.apply(t);
                    eval_mapped(inner, *c, &mapped, &|i| col(i))
                }
                _ => None,
            },
            Pred::KeyIn(c, set) => Some(set.contains(col(*c))),
            // Resolved before any row is read; an unresolved test matches
            // nothing rather than everything.
            Pred::Sub(_) => Some(false),
            Pred::And(a, b) => match (a.eval3(col), b.eval3(col)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Pred::Or(a, b) => match (a.eval3(col), b.eval3(col)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Pred::Not(a) => a.eval3(col).map(|b| !b),
        }
    }

    /// The values a comparison or membership test compares with (none
    /// for other predicates).
    pub(crate) fn values(&self) -> impl Iterator<Item = &Value> {
        let vals: &[Value] = match self {
            Pred::Cmp(_, _, v) => std::slice::from_ref(v),
            Pred::In(_, vs) => vs,
            _ => &[],
        };
        vals.iter()
    }

    /// Sets `needed[c]` for every column `c` the predicate reads.
    pub(crate) fn mark_columns(&self, needed: &mut [bool]) {
        let mut mark = |c: usize| {
            if let Some(n) = needed.get_mut(c) {
                *n = true;
            }
        };
        match self {
            Pred::True => {}
            Pred::Cmp(c, ..)
            | Pred::In(c, _)
            | Pred::IsNull(c)
            | Pred::Text(c, ..)
            | Pred::Folded(c, ..)
            | Pred::KeyIn(c, _) => mark(*c),
            Pred::Sub(sub) => mark(sub.column()),
            Pred::And(a, b) | Pred::Or(a, b) => {
                a.mark_columns(needed);
                b.mark_columns(needed);
            }
            Pred::Not(a) => a.mark_columns(needed),
        }
    }

    /// Whether a relationship test's subquery is still to run.
    pub(crate) fn has_sub(&self) -> bool {
        match self {
            Pred::Sub(_) => true,
            Pred::And(a, b) | Pred::Or(a, b) => a.has_sub() || b.has_sub(),
            Pred::Not(a) | Pred::Folded(_, _, a) => a.has_sub(),
            _ => false,
        }
    }

    /// The predicate with every subquery replaced by the set `run` gives.
    pub(crate) fn resolve<E>(
        self,
        run: &mut impl FnMut(&dyn SubQuery) -> Result<KeySet, E>,
    ) -> Result<Pred, E> {
        Ok(match self {
            Pred::Sub(sub) => Pred::KeyIn(sub.column(), Arc::new(run(&*sub)?)),
            Pred::And(a, b) => Pred::And(Box::new(a.resolve(run)?), Box::new(b.resolve(run)?)),
            Pred::Or(a, b) => Pred::Or(Box::new(a.resolve(run)?), Box::new(b.resolve(run)?)),
            Pred::Not(a) => Pred::Not(Box::new(a.resolve(run)?)),
            p => p,
        })
    }

    /// The top-level conjuncts.
    pub(crate) fn conjuncts(&self) -> Vec<&Pred> {
        match self {
            Pred::And(a, b) => {
                let mut v = a.conjuncts();
                v.extend(b.conjuncts());
                v
            }
            Pred::True => Vec::new(),
            p => vec![p],
        }
    }
}

/// Whether `hay` contains `needle`: a plain search for the short text of
/// rows (the standard searcher's set-up costs more than it saves there).
fn contains(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    match n.split_first() {
        None => true,
        Some(_) if h.len() > 256 => hay.contains(needle),
        Some((&first, rest)) => h
            .iter()
            .enumerate()
            .take((h.len() + 1).saturating_sub(n.len()))
            .any(|(i, &b)| b == first && h[i + 1..i + n.len()] == *rest),
    }
}

/// A case-insensitive `starts_with`, `ends_with` or `contains`
/// (`Folded(c, Lower, Text(c, op, needle))`, the needle in lower case)
/// on ASCII text, without folding the text into a new string: ASCII
/// text lowers byte by byte, so comparing bytes ignoring ASCII case is
/// exact. `None` leaves every other case to the general path (text
/// beyond ASCII may lower into ASCII: the Kelvin sign becomes `k`).
fn ascii_fold_match(fold: Fold, inner: &Pred, c: usize, hay: &str) -> Option<bool> {
    let Pred::Text(ic, op, needle) = inner else {
        return None;
    };
    // A needle with a capital never matches lowered text: the general path
    // says so.
    let lowered = |n: &str| n.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase());
    if fold != Fold::Lower || *ic != c || !lowered(needle) || !hay.is_ascii() {
        return None;
    }
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some(last) = h.len().checked_sub(n.len()) else {
        return Some(false);
    };
    // `at` is where the needle would start; the needle is in lower case.
    let lowered_at = |at: usize| {
        h[at..at + n.len()]
            .iter()
            .zip(n)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    };
    Some(match op {
        TextOp::StartsWith => lowered_at(0),
        TextOp::EndsWith => lowered_at(last),
        TextOp::Contains => match n.first() {
            None => true,
            Some(&first) => {
                (0..=last).any(|at| h[at].to_ascii_lowercase() == first && lowered_at(at))
            }
        },
        TextOp::Like(_) => return None,
    })
}

/// `inner` on a row whose column `c` reads `mapped` instead; through
/// `dyn`, so that a fold inside a fold does not instantiate `eval3`
/// without end.
fn eval_mapped<'m>(
    inner: &Pred,
    c: usize,
    mapped: &'m str,
    col: &dyn Fn(usize) -> ValueRef<'m>,
) -> Option<bool> {
    let f = |i| {
        if i == c {
            ValueRef::Text(mapped)
        } else {
            col(i)
        }
    };
    inner.eval3(&f as &dyn Fn(usize) -> ValueRef<'m>)
}

/// A typed filter on rows of `M`: build with the column methods, combine
/// with [`Expr::and`], [`Expr::or`] and [`Expr::not`].
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{Expr, TextColumn};
/// # let (_dir, db) = blog()?;
/// // A filter is a value: build it apart, pass it to any query of the model.
/// let popular: Expr<Post> = Post::score.ge(4.0).and(Post::topic.is_not_null());
/// let s = db.read_session()?;
/// assert_eq!(titles(&s.query::<Post>().filter(popular.clone()).all()?), ["Hello", "Hi"]);
/// assert_eq!(s.query::<Post>().filter(popular.not()).count()?, 1);
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Expr<M> {
    pub(crate) pred: Pred,
    _m: PhantomData<fn() -> M>,
}

impl<M> Expr<M> {
    pub(crate) fn new(pred: Pred) -> Self {
        Expr {
            pred,
            _m: PhantomData,
        }
    }

    /// Both.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let q = s.query::<Post>().filter(Post::author_id.eq(1).and(Post::score.gt(3.0)));
    /// assert_eq!(titles(&q.all()?), ["Hello"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn and(self, other: Expr<M>) -> Expr<M> {
        Expr::new(Pred::And(Box::new(self.pred), Box::new(other.pred)))
    }

    /// Either.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let q = s.query::<Post>().filter(Post::score.lt(3.0).or(Post::score.gt(4.5)));
    /// assert_eq!(titles(&q.all()?), ["Again", "Hi"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn or(self, other: Expr<M>) -> Expr<M> {
        Expr::new(Pred::Or(Box::new(self.pred), Box::new(other.pred)))
    }

    /// Not.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// // NOT (topic = 'rust'): the post without a topic is unknown either way.
    /// let q = s.query::<Post>().filter(Post::topic.eq("rust").not());
    /// assert_eq!(titles(&q.all()?), ["Hi"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Expr<M> {
        Expr::new(Pred::Not(Box::new(self.pred)))
    }
}

/// An ordering on one column of `M`: [`Column::asc`] or [`Column::desc`],
/// or on its folded text ([`Folded::asc`]).
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{Order, TextColumn};
/// # let (_dir, db) = blog()?;
/// let newest_first: Order<Post> = Post::id.desc();
/// let s = db.read_session()?;
/// assert_eq!(titles(&s.query::<Post>().order_by(newest_first).all()?), ["Hi", "Again", "Hello"]);
/// // Several orderings sort by each in turn; lower() orders by folded text.
/// let q = s.query::<User>().order_by(User::username.lower().desc());
/// assert_eq!(q.first()?.map(|u| u.username), Some("bob".into()));
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order<M> {
    pub(crate) key: SortKey,
    _m: PhantomData<fn() -> M>,
}

impl<M> Order<M> {
    pub(crate) fn new(column: usize, desc: bool, fold: Fold) -> Self {
        Order {
            key: SortKey { column, desc, fold },
            _m: PhantomData,
        }
    }
}

/// One key of an ordering: a column, which way, and its text's fold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SortKey {
    pub(crate) column: usize,
    pub(crate) desc: bool,
    pub(crate) fold: Fold,
}

impl SortKey {
    /// The key's value in a row whose column reads `v`.
    pub(crate) fn value(&self, v: ValueRef<'_>) -> Value {
        match (self.fold, v) {
            (Fold::None, v) | (_, v @ ValueRef::Null) => v.to_value(),
            (fold, ValueRef::Text(t)) => Value::Text(fold.apply(t).into_owned()),
            (_, v) => v.to_value(),
        }
    }
}

impl<M: Model, T: ColumnType> From<Column<M, T>> for Order<M> {
    fn from(c: Column<M, T>) -> Order<M> {
        c.asc()
    }
}

/// A set of column values, as their key encodings: what a relationship
/// test's subquery found.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct KeySet {
    keys: HashSet<Vec<u8>>,
    /// The values, in key order, each once (for point reads).
    pub(crate) values: Vec<Value>,
}

impl KeySet {
    /// The set of `values` (nulls left out).
    pub(crate) fn new(values: impl IntoIterator<Item = Value>) -> KeySet {
        let mut pairs: Vec<(Vec<u8>, Value)> = values
            .into_iter()
            .filter(|v| !v.is_null())
            .map(|v| (crate::layout::key_of(&v), v))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|a, b| a.0 == b.0);
        KeySet {
            keys: pairs.iter().map(|p| p.0.clone()).collect(),
            values: pairs.into_iter().map(|p| p.1).collect(),
        }
    }

    fn contains(&self, v: ValueRef<'_>) -> bool {
        !v.is_null() && self.keys.contains(&key_of_ref(v))
    }
}

/// A relationship test's subquery over another model (`query/related.rs`
/// implements it): run once per query, it gives the set of values of
/// `column()` (of the outer model) that pass.
pub(crate) trait SubQuery: Send + Sync + std::fmt::Debug {
    /// The outer model's column the set is of.
    fn column(&self) -> usize;
    /// Runs the subquery.
    fn run(&self, s: &crate::session::Session) -> crate::error::Result<KeySet>;
}

impl<M> Expr<M> {
    /// A relationship test: the rows whose column `sub.column()` is in
    /// the set `sub` finds.
    pub(crate) fn related(sub: Arc<dyn SubQuery>) -> Expr<M> {
        Expr::new(Pred::Sub(sub))
    }
}

impl PartialEq for dyn SubQuery {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(self, other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The general path: fold the text, then test it.
    fn general(fold: Fold, op: &TextOp, hay: &str, needle: &str) -> bool {
        let t = fold.apply(hay);
        match op {
            TextOp::StartsWith => t.starts_with(needle),
            TextOp::EndsWith => t.ends_with(needle),
            TextOp::Contains => contains(&t, needle),
            TextOp::Like(_) => unreachable!(),
        }
    }

    #[test]
    fn the_ascii_fast_path_of_folded_tests_agrees_with_folding() {
        // Every string of up to 3 characters over a small alphabet with
        // both cases, a non-ASCII letter and the Kelvin sign (which lowers
        // into ASCII), as text and as needle.
        let alphabet = ['a', 'A', 'b', 'B', '_', 'é', '\u{212A}', 'k'];
        let mut words = vec![String::new()];
        for len in 1..=3 {
            let mut next = Vec::new();
            for w in words.iter().filter(|w| w.chars().count() == len - 1) {
                for ch in alphabet {
                    next.push(format!("{w}{ch}"));
                }
            }
            words.extend(next);
        }
        let mut fast = 0;
        for op in [TextOp::StartsWith, TextOp::EndsWith, TextOp::Contains] {
            for needle in &words {
                let inner = Pred::Text(0, op.clone(), needle.clone());
                for hay in &words {
                    let want = general(Fold::Lower, &op, hay, needle);
                    if let Some(got) = ascii_fold_match(Fold::Lower, &inner, 0, hay) {
                        fast += 1;
                        assert_eq!(got, want, "{op:?} {hay:?} {needle:?}");
                    }
                    let whole = Pred::Folded(0, Fold::Lower, Box::new(inner.clone()));
                    let got = whole.eval3(&|_| ValueRef::Text(hay));
                    assert_eq!(got, Some(want), "eval3 {op:?} {hay:?} {needle:?}");
                }
            }
        }
        assert!(fast > 10_000, "the fast path ran {fast} times");
    }
}
