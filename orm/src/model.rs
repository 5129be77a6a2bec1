//! Models: what `#[derive(Model)]` implements. A model declares its
//! table, its columns ([`ColumnDef`]), the delete rules of its children
//! and the associations it owns, and reads and changes its fields by
//! column index. The typed column handles queries are written with are
//! in `expr.rs`; how rows and keys are stored, in `layout.rs`.

use crate::error::Result;
use crate::value::{ColumnKind, ColumnType, Value, ValueRef};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One column (field) of a model, as declared.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{ColumnKind, Model};
/// let score = &Post::COLUMNS[3];
/// assert_eq!((score.name, score.type_name, score.kind), ("score", "f64", ColumnKind::Float));
/// assert!(score.index && !score.unique && !score.nullable);
/// assert_eq!(Post::COLUMNS[1].foreign_key, Some("users"));
/// assert_eq!(Post::COLUMNS[1].index_table, Some("posts#author_id"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnDef {
    /// The field's name.
    pub name: &'static str,
    /// The field's Rust type without `Option` ([`ColumnType::TYPE_NAME`]).
    pub type_name: &'static str,
    /// The built-in type whose row bytes and key encoding it uses
    /// ([`ColumnType::STORAGE`]).
    pub storage: &'static str,
    /// Whether its encoding orders its values ([`ColumnType::INDEXABLE`]).
    pub indexable: bool,
    /// The kind of value.
    pub kind: ColumnKind,
    /// Whether the field is an `Option`.
    pub nullable: bool,
    /// Whether it is the primary key.
    pub primary_key: bool,
    /// Whether a unique index enforces distinct values.
    pub unique: bool,
    /// Whether a (non-unique) secondary index covers it.
    pub index: bool,
    /// Maximum length: characters of a string, bytes of a byte vector.
    pub max_len: Option<usize>,
    /// The table of the model this column refers to (a foreign key).
    pub foreign_key: Option<&'static str>,
    /// The name of its index table, `table#column`, when it has one: set
    /// by the derive so that queries need not build it (it is computed
    /// from the names when absent).
    pub index_table: Option<&'static str>,
    /// Its default (`#[strata(default = ...)]`, `default_fn`): what the
    /// model's `Default` gives it, and what rows stored before the column
    /// existed will read (the stored schema records it).
    pub default: Option<DefaultValue>,
    /// Its automatic timestamp (`created_at`, `updated_at`).
    pub stamp: Option<Stamp>,
}

/// A column's default value, computed when asked.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use strata::{Model, Value};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// struct Item {
///     #[strata(primary_key)]
///     id: i64,
///     #[strata(default = 7)]
///     level: i64,
/// }
///
/// let level = Item::COLUMNS[1].default.expect("a default");
/// assert_eq!(level.value(), Value::Int(7));
/// assert_eq!(Item::default().level, 7);
/// ```
#[derive(Clone, Copy)]
pub struct DefaultValue(pub fn() -> Value);

impl DefaultValue {
    /// The value.
    ///
    /// ```
    /// use strata::{DefaultValue, Value};
    /// let d = DefaultValue(|| Value::Text("untitled".into()));
    /// assert_eq!(d.value(), Value::Text("untitled".into()));
    /// ```
    pub fn value(&self) -> Value {
        (self.0)()
    }
}

impl PartialEq for DefaultValue {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Eq for DefaultValue {}

impl std::fmt::Debug for DefaultValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DefaultValue({})", self.value())
    }
}

/// An automatic timestamp of a date-and-time column.
///
/// ```
/// # #[cfg(feature = "chrono")] {
/// use chrono::{DateTime, Utc};
/// use serde::{Deserialize, Serialize};
/// use strata::{Model, Stamp};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// struct Post {
///     #[strata(primary_key)]
///     id: i64,
///     #[strata(created_at)]
///     created: DateTime<Utc>,
///     #[strata(updated_at)]
///     updated: DateTime<Utc>,
/// }
///
/// assert_eq!(Post::COLUMNS[1].stamp, Some(Stamp::Created));
/// assert_eq!(Post::COLUMNS[2].stamp, Some(Stamp::Updated));
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Stamp {
    /// `created_at`: set to the current time when the row is added.
    Created,
    /// `updated_at`: set to the current time when the row is added and
    /// each time it is updated.
    Updated,
}

/// The automatic key `key` as a `T`, an integer type or a newtype of one;
/// `None` for 0, for a key the type cannot hold, or a type that is not an
/// integer (the derive's `set_auto_key`).
#[doc(hidden)]
pub fn __auto_key<T: ColumnType>(key: i64) -> Option<T> {
    if key == 0 {
        return None;
    }
    let v = match T::KIND {
        ColumnKind::Int => Value::Int(key),
        ColumnKind::UInt => Value::UInt(u64::try_from(key).ok()?),
        ColumnKind::I128 => Value::I128(i128::from(key)),
        ColumnKind::U128 => Value::U128(u128::try_from(key).ok()?),
        _ => return None,
    };
    T::from_value(v)
}

impl ColumnDef {
    /// A plain column of type `T`.
    ///
    /// ```
    /// use strata::{ColumnDef, ColumnKind};
    /// let c = ColumnDef::of::<Option<String>>("topic");
    /// assert_eq!((c.kind, c.nullable, c.type_name), (ColumnKind::Text, true, "String"));
    /// ```
    pub const fn of<T: ColumnType>(name: &'static str) -> ColumnDef {
        ColumnDef {
            name,
            type_name: T::TYPE_NAME,
            storage: T::STORAGE,
            indexable: T::INDEXABLE,
            kind: T::KIND,
            nullable: T::NULLABLE,
            primary_key: false,
            unique: false,
            index: false,
            max_len: None,
            foreign_key: None,
            index_table: None,
            default: None,
            stamp: None,
        }
    }

    /// Gives it a default.
    ///
    /// ```
    /// use strata::{ColumnDef, Value};
    /// let level = ColumnDef::of::<i64>("level").default(|| Value::Int(7));
    /// assert_eq!(level.default.map(|d| d.value()), Some(Value::Int(7)));
    /// ```
    pub const fn default(mut self, f: fn() -> Value) -> ColumnDef {
        self.default = Some(DefaultValue(f));
        self
    }

    /// Gives it an automatic timestamp.
    ///
    /// ```
    /// use strata::{ColumnDef, Stamp};
    /// let created = ColumnDef::of::<i64>("created").stamp(Stamp::Created);
    /// assert_eq!(created.stamp, Some(Stamp::Created));
    /// ```
    pub const fn stamp(mut self, stamp: Stamp) -> ColumnDef {
        self.stamp = Some(stamp);
        self
    }

    /// Marks it the primary key.
    ///
    /// ```
    /// use strata::ColumnDef;
    /// assert!(ColumnDef::of::<i64>("id").primary_key().primary_key);
    /// ```
    pub const fn primary_key(mut self) -> ColumnDef {
        self.primary_key = true;
        self
    }

    /// Marks it unique.
    ///
    /// ```
    /// use strata::ColumnDef;
    /// assert!(ColumnDef::of::<String>("email").unique().unique);
    /// ```
    pub const fn unique(mut self) -> ColumnDef {
        self.unique = true;
        self
    }

    /// Gives it a secondary index.
    ///
    /// ```
    /// use strata::ColumnDef;
    /// assert!(ColumnDef::of::<f64>("score").index().index);
    /// ```
    pub const fn index(mut self) -> ColumnDef {
        self.index = true;
        self
    }

    /// Limits its length.
    ///
    /// ```
    /// use strata::ColumnDef;
    /// assert_eq!(ColumnDef::of::<String>("title").max_len(200).max_len, Some(200));
    /// ```
    pub const fn max_len(mut self, n: usize) -> ColumnDef {
        self.max_len = Some(n);
        self
    }

    /// Makes it a foreign key to the model stored in `table` (and indexes it).
    ///
    /// ```
    /// use strata::ColumnDef;
    /// let c = ColumnDef::of::<i64>("author_id").foreign_key("users");
    /// assert_eq!(c.foreign_key, Some("users"));
    /// ```
    pub const fn foreign_key(mut self, table: &'static str) -> ColumnDef {
        self.foreign_key = Some(table);
        self
    }

    /// Names its index table (which must be `table#column`, for the
    /// model's table).
    ///
    /// ```
    /// use strata::ColumnDef;
    /// let c = ColumnDef::of::<f64>("score").index().index_table("posts#score");
    /// assert_eq!(c.index_table, Some("posts#score"));
    /// ```
    pub const fn index_table(mut self, name: &'static str) -> ColumnDef {
        self.index_table = Some(name);
        self
    }

    /// Whether an index table exists for it (unique, indexed or a foreign key).
    pub(crate) fn has_index(&self) -> bool {
        !self.primary_key && (self.unique || self.index || self.foreign_key.is_some())
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Compile-time test the derive asserts for a `has_many` / `has_one`:
/// whether the child's column `fk` is a foreign key to `parent_table`.
#[doc(hidden)]
pub const fn __refers_to(
    child: &'static [ColumnDef],
    fk: usize,
    parent_table: &'static str,
) -> bool {
    match child[fk].foreign_key {
        Some(t) => str_eq(t, parent_table),
        None => false,
    }
}

/// Compile-time test the derive asserts for a field without
/// `#[serde(with = ...)]`: whether its type is JSON's, which needs
/// `#[serde(with = "strata::json")]`.
#[doc(hidden)]
pub const fn __is_json(type_name: &str) -> bool {
    str_eq(type_name, "serde_json::Value")
}

/// Compile-time test the derive asserts for a `has_one`.
#[doc(hidden)]
pub const fn __unique(child: &'static [ColumnDef], fk: usize) -> bool {
    child[fk].unique
}

/// Compile-time test the derive asserts for `on_delete = set_null`.
#[doc(hidden)]
pub const fn __nullable(child: &'static [ColumnDef], fk: usize) -> bool {
    child[fk].nullable
}

/// Compile-time test the derive asserts for a `foreign_key` field: its
/// kind of value is that of the parent's primary key.
#[doc(hidden)]
pub const fn __same_kind(
    kind: ColumnKind,
    parent: &'static [ColumnDef],
    parent_key: usize,
) -> bool {
    // An empty parent is the placeholder of a derive that failed and said why.
    parent.is_empty() || kind as u8 == parent[parent_key].kind as u8
}

/// What happens to the children of a deleted parent.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{Model, OnDelete};
/// // User declares has_many(posts, on_delete = cascade) and has_one(profile, ...).
/// assert_eq!(User::DELETE_RULES[0].rule, OnDelete::Cascade);
/// # let (_dir, db) = blog()?;
/// let mut s = db.session()?;
/// let ann = s.get::<User>(1)?.expect("ann");
/// s.delete(&ann)?; // her posts and profile go with her
/// assert_eq!(s.query::<Post>().count()?, 1);
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OnDelete {
    /// Refuse to delete a parent that has children (the default).
    Restrict,
    /// Delete the children too.
    Cascade,
    /// Set the children's foreign key to null (it must be an `Option`).
    SetNull,
}

/// A parent's rule for the children that refer to it, declared with
/// `has_many` or `has_one`.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{DeleteRule, Model, OnDelete};
/// assert_eq!(
///     User::DELETE_RULES[0],
///     DeleteRule { child_table: "posts", column: "author_id", rule: OnDelete::Cascade }
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeleteRule {
    /// The children's table.
    pub child_table: &'static str,
    /// The children's foreign-key column.
    pub column: &'static str,
    /// The rule.
    pub rule: OnDelete,
}

/// A many-to-many association owned by a model: link rows in `through`
/// (owner key, then target key) and `through#rev` (the reverse).
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{AssociationDef, Model};
/// assert_eq!(Post::ASSOCIATIONS, [AssociationDef { through: "post_tags", target: "tags" }]);
/// assert!(Tag::ASSOCIATIONS.is_empty()); // Tag is the target: Post owns the association
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssociationDef {
    /// The association table.
    pub through: &'static str,
    /// The target model's table.
    pub target: &'static str,
}

/// A table of rows of one Rust type. Implement it with
/// `#[derive(Model)]` (see the crate documentation for the attributes);
/// the model must also implement serde's `Serialize` and `Deserialize`,
/// which is how rows are encoded.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{Model, Value};
/// // Generic code over any model: its table, its key, a column by index.
/// fn describe<M: Model>(row: &M) -> String {
///     format!("{} {} in {}", M::NAME, row.key_value(), M::TABLE)
/// }
/// let tag = Tag { id: 2, name: "storage".into() };
/// assert_eq!(describe(&tag), "Tag 2 in tags");
/// assert_eq!(tag.value(1), Value::Text("storage".into()));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Strata model",
    label = "not a model",
    note = "add `#[derive(strata::Model)]` to `{Self}` (with serde's Serialize and Deserialize)"
)]
pub trait Model: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The primary key's type.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// fn key_type<M: Model>() -> &'static str {
    ///     std::any::type_name::<M::Key>()
    /// }
    /// assert_eq!(key_type::<User>(), "i64");
    /// ```
    type Key: ColumnType;
    /// The Rust type's name, for messages.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// assert_eq!(User::NAME, "User");
    /// ```
    const NAME: &'static str;
    /// The table the rows live in.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// assert_eq!((User::TABLE, Post::TABLE), ("users", "posts"));
    /// ```
    const TABLE: &'static str;
    /// The columns, in field order.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// let names: Vec<&str> = User::COLUMNS.iter().map(|c| c.name).collect();
    /// assert_eq!(names, ["id", "username", "email"]);
    /// ```
    const COLUMNS: &'static [ColumnDef];
    /// Index of the primary key in [`Model::COLUMNS`].
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// assert_eq!(User::COLUMNS[User::PRIMARY_KEY].name, "id");
    /// ```
    const PRIMARY_KEY: usize;
    /// Whether the key is an integer assigned on `add` when it is 0.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// assert!(User::AUTO_KEY); // an integer key: 0 means "assign one"
    /// ```
    const AUTO_KEY: bool;
    /// Rules for children, from `has_many` / `has_one`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// let children: Vec<&str> = User::DELETE_RULES.iter().map(|r| r.child_table).collect();
    /// assert_eq!(children, ["posts", "profiles"]);
    /// ```
    const DELETE_RULES: &'static [DeleteRule];
    /// Many-to-many associations this model owns.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// assert_eq!(Post::ASSOCIATIONS[0].through, "post_tags");
    /// ```
    const ASSOCIATIONS: &'static [AssociationDef];

    /// The value of column `column`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::{Model, Value};
    /// let post = Post { id: 1, author_id: 1, title: "Hello".into(), score: 4.0, topic: None };
    /// assert_eq!(post.value(Post::score.index()), Value::Float(4.0));
    /// assert_eq!(post.value(Post::topic.index()), Value::Null);
    /// ```
    fn value(&self, column: usize) -> Value;

    /// Sets column `column` to `value`; `false`, changing nothing, if the
    /// value is not of the column's type (or out of its range).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::{Model, Value};
    /// let mut post = Post { id: 1, author_id: 1, title: "Hello".into(), score: 4.0, topic: None };
    /// assert!(post.set_value(Post::score.index(), Value::Float(4.5)));
    /// assert!(!post.set_value(Post::score.index(), Value::Text("high".into()))); // wrong kind
    /// assert_eq!(post.score, 4.5);
    /// ```
    fn set_value(&mut self, column: usize, value: Value) -> bool;

    /// The value of column `column`, borrowed.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::{Model, ValueRef};
    /// let user = User { id: 1, username: "ann".into(), email: "ann@example.com".into() };
    /// assert_eq!(user.value_ref(User::username.index()), ValueRef::Text("ann"));
    /// ```
    fn value_ref(&self, column: usize) -> ValueRef<'_>;

    /// Sets an automatically assigned key; `false`, changing nothing, if
    /// the key's type cannot hold it.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// let mut tag = Tag { id: 0, name: "new".into() };
    /// assert!(tag.set_auto_key(7)); // what `add` does with the next key of the table
    /// assert_eq!(tag.id, 7);
    /// ```
    fn set_auto_key(&mut self, key: i64) -> bool;

    /// Sets nullable column `column` to `None`; `false` if it is not
    /// nullable.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Model;
    /// let mut post = Post { id: 1, author_id: 1, title: "Hello".into(), score: 4.0, topic: Some("rust".into()) };
    /// assert!(post.set_null(Post::topic.index()));
    /// assert_eq!(post.topic, None);
    /// assert!(!post.set_null(Post::title.index())); // not an Option
    /// ```
    fn set_null(&mut self, column: usize) -> bool;

    /// Applies the cascading delete rules to this row's children, before
    /// the row itself is deleted (`session` is the [`Session`](crate::Session)
    /// deleting it).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// // Called by Session::delete; a program deletes the parent and the rules follow.
    /// let mut s = db.session()?;
    /// let bob = s.get::<User>(2)?.expect("bob");
    /// s.delete(&bob)?;
    /// assert_eq!(titles(&s.query::<Post>().all()?), ["Hello", "Again"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn delete_children<S: ReferentialActions>(&self, session: &mut S) -> Result<()>;

    /// Checks, changing nothing, that the children a cascade would delete
    /// can be deleted in turn (no restricting grandchildren).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::{Error, Model};
    /// #[derive(Model, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
    /// struct Comment {
    ///     #[strata(primary_key)]
    ///     id: i64,
    ///     #[strata(foreign_key = Post)] // no rule on Post: restrict
    ///     post_id: i64,
    /// }
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// s.add(&mut Comment { id: 0, post_id: 1 })?;
    /// // Deleting ann would cascade to post 1, which a comment restricts:
    /// // refused before anything is deleted.
    /// let ann = s.get::<User>(1)?.expect("ann");
    /// assert!(matches!(s.delete(&ann), Err(Error::Restricted { .. })));
    /// assert_eq!(s.query::<Post>().count()?, 3);
    /// # Ok::<(), strata::Error>(())
    /// ```
    fn check_cascade<S: ReferentialActions>(
        &self,
        session: &S,
        seen: &mut Vec<(&'static str, Value)>,
    ) -> Result<()>;

    /// The primary key's value.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::{Model, Value};
    /// let tag = Tag { id: 2, name: "storage".into() };
    /// assert_eq!(tag.key_value(), Value::Int(2));
    /// ```
    fn key_value(&self) -> Value {
        self.value(Self::PRIMARY_KEY)
    }
}

/// What a model's delete rules do to the rows that refer to it, as the
/// derive's `delete_children` and `check_cascade` call it: the referential
/// actions of SQL. [`Session`](crate::Session) implements it
/// (`relation.rs`); the model's hooks are generic over it so that models
/// need not know sessions.
#[doc(hidden)]
pub trait ReferentialActions {
    /// Applies rule `rule` to the children of `parent` in `C` through
    /// column `fk`.
    fn apply_delete_rule<C: Model>(
        &mut self,
        fk: usize,
        parent: &Value,
        rule: OnDelete,
    ) -> Result<()>;

    /// Checks that the children of `parent` in `C` through column `fk`,
    /// which a cascade would delete, can be deleted: none is restricted,
    /// down the whole cascade. `seen` holds the rows already checked, so a
    /// cycle of references ends.
    fn check_cascade_of<C: Model>(
        &self,
        fk: usize,
        parent: &Value,
        seen: &mut Vec<(&'static str, Value)>,
    ) -> Result<()>;
}
