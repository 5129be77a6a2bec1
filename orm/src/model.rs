//! Models and typed columns: what `#[derive(Model)]` implements, and the
//! column handles queries are written with.

use crate::error::Result;
use crate::session::Session;
use crate::value::{ColumnKind, ColumnType, ToColumn, Value, ValueRef};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// One column (field) of a model, as declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnDef {
    /// The field's name.
    pub name: &'static str,
    /// The field's Rust type, e.g. `Option<String>`.
    pub type_name: &'static str,
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
}

impl ColumnDef {
    /// A plain column of type `T`.
    pub const fn of<T: ColumnType>(name: &'static str) -> ColumnDef {
        ColumnDef {
            name,
            type_name: T::TYPE_NAME,
            kind: T::KIND,
            nullable: T::NULLABLE,
            primary_key: false,
            unique: false,
            index: false,
            max_len: None,
            foreign_key: None,
            index_table: None,
        }
    }

    /// Marks it the primary key.
    pub const fn primary_key(mut self) -> ColumnDef {
        self.primary_key = true;
        self
    }

    /// Marks it unique.
    pub const fn unique(mut self) -> ColumnDef {
        self.unique = true;
        self
    }

    /// Gives it a secondary index.
    pub const fn index(mut self) -> ColumnDef {
        self.index = true;
        self
    }

    /// Limits its length.
    pub const fn max_len(mut self, n: usize) -> ColumnDef {
        self.max_len = Some(n);
        self
    }

    /// Makes it a foreign key to the model stored in `table` (and indexes it).
    pub const fn foreign_key(mut self, table: &'static str) -> ColumnDef {
        self.foreign_key = Some(table);
        self
    }

    /// Names its index table (which must be `table#column`, for the
    /// model's table).
    pub const fn index_table(mut self, name: &'static str) -> ColumnDef {
        self.index_table = Some(name);
        self
    }

    /// Whether an index table exists for it (unique, indexed or a foreign key).
    pub(crate) fn has_index(&self) -> bool {
        !self.primary_key && (self.unique || self.index || self.foreign_key.is_some())
    }

    /// The name of its index table, for a column of the model stored in
    /// `table`.
    pub(crate) fn index_name(&self, table: &str) -> std::borrow::Cow<'static, str> {
        match self.index_table {
            Some(name) => std::borrow::Cow::Borrowed(name),
            None => std::borrow::Cow::Owned(crate::schema::index_table(table, self.name)),
        }
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Strata model",
    label = "not a model",
    note = "add `#[derive(strata::Model)]` to `{Self}` (with serde's Serialize and Deserialize)"
)]
pub trait Model: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The primary key's type.
    type Key: ColumnType;
    /// The Rust type's name, for messages.
    const NAME: &'static str;
    /// The table the rows live in.
    const TABLE: &'static str;
    /// The columns, in field order.
    const COLUMNS: &'static [ColumnDef];
    /// Index of the primary key in [`Model::COLUMNS`].
    const PRIMARY_KEY: usize;
    /// Whether the key is an integer assigned on `add` when it is 0.
    const AUTO_KEY: bool;
    /// Rules for children, from `has_many` / `has_one`.
    const DELETE_RULES: &'static [DeleteRule];
    /// Many-to-many associations this model owns.
    const ASSOCIATIONS: &'static [AssociationDef];

    /// The value of column `column`.
    fn value(&self, column: usize) -> Value;

    /// The value of column `column`, borrowed.
    fn value_ref(&self, column: usize) -> ValueRef<'_>;

    /// Sets an automatically assigned key; `false`, changing nothing, if
    /// the key's type cannot hold it.
    fn set_auto_key(&mut self, key: i64) -> bool;

    /// Sets nullable column `column` to `None`; `false` if it is not
    /// nullable.
    fn set_null(&mut self, column: usize) -> bool;

    /// Applies the cascading delete rules to this row's children, before
    /// the row itself is deleted.
    fn delete_children(&self, session: &mut Session) -> Result<()>;

    /// Checks, changing nothing, that the children a cascade would delete
    /// can be deleted in turn (no restricting grandchildren).
    fn check_cascade(&self, session: &Session, seen: &mut Vec<(&'static str, Value)>)
    -> Result<()>;

    /// The primary key's value.
    fn key_value(&self) -> Value {
        self.value(Self::PRIMARY_KEY)
    }
}

/// A typed handle on one column of model `M`, of Rust type `T`. The derive
/// generates one per field as an associated constant named like the field,
/// so `User::email` names the `email` column the way SQLAlchemy's
/// `User.email` does.
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
    pub const fn new(index: usize) -> Self {
        Column {
            index,
            _m: PhantomData,
        }
    }

    /// Its index in the model's columns.
    pub const fn index(self) -> usize {
        self.index
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        M::COLUMNS[self.index].name
    }

    fn cmp(self, op: CmpOp, v: Value) -> Expr<M> {
        Expr::new(Pred::Cmp(self.index, op, v))
    }

    /// `column = v`.
    pub fn eq(self, v: impl ToColumn<T>) -> Expr<M> {
        self.cmp(CmpOp::Eq, v.to_column_value())
    }

    /// `column != v` (false when the column is null).
    pub fn ne(self, v: impl ToColumn<T>) -> Expr<M> {
        self.cmp(CmpOp::Ne, v.to_column_value())
    }

    /// `column < v`.
    pub fn lt(self, v: impl ToColumn<T>) -> Expr<M> {
        self.cmp(CmpOp::Lt, v.to_column_value())
    }

    /// `column <= v`.
    pub fn le(self, v: impl ToColumn<T>) -> Expr<M> {
        self.cmp(CmpOp::Le, v.to_column_value())
    }

    /// `column > v`.
    pub fn gt(self, v: impl ToColumn<T>) -> Expr<M> {
        self.cmp(CmpOp::Gt, v.to_column_value())
    }

    /// `column >= v`.
    pub fn ge(self, v: impl ToColumn<T>) -> Expr<M> {
        self.cmp(CmpOp::Ge, v.to_column_value())
    }

    /// `lo <= column <= hi`.
    pub fn between(self, lo: impl ToColumn<T>, hi: impl ToColumn<T>) -> Expr<M> {
        self.ge(lo).and(self.le(hi))
    }

    /// `column IN (values)`.
    pub fn in_<V: ToColumn<T>>(self, values: impl IntoIterator<Item = V>) -> Expr<M> {
        Expr::new(Pred::In(
            self.index,
            values.into_iter().map(|v| v.to_column_value()).collect(),
        ))
    }

    /// `column IS NULL`.
    pub fn is_null(self) -> Expr<M> {
        Expr::new(Pred::IsNull(self.index))
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Expr<M> {
        Expr::new(Pred::IsNull(self.index)).not()
    }

    /// Ascending order on this column.
    pub fn asc(self) -> Order<M> {
        Order {
            column: self.index,
            desc: false,
            _m: PhantomData,
        }
    }

    /// Descending order on this column.
    pub fn desc(self) -> Order<M> {
        Order {
            column: self.index,
            desc: true,
            _m: PhantomData,
        }
    }
}

/// Text operations, for `String` and `Option<String>` columns.
pub trait TextColumn<M> {
    /// The column starts with `prefix`.
    fn starts_with(self, prefix: &str) -> Expr<M>;
    /// The column ends with `suffix`.
    fn ends_with(self, suffix: &str) -> Expr<M>;
    /// The column contains `needle`.
    fn contains(self, needle: &str) -> Expr<M>;
}

macro_rules! text_column {
    ($t:ty) => {
        impl<M: Model> TextColumn<M> for Column<M, $t> {
            fn starts_with(self, prefix: &str) -> Expr<M> {
                Expr::new(Pred::Text(
                    self.index,
                    TextOp::StartsWith,
                    prefix.to_string(),
                ))
            }
            fn ends_with(self, suffix: &str) -> Expr<M> {
                Expr::new(Pred::Text(self.index, TextOp::EndsWith, suffix.to_string()))
            }
            fn contains(self, needle: &str) -> Expr<M> {
                Expr::new(Pred::Text(self.index, TextOp::Contains, needle.to_string()))
            }
        }
    };
}

text_column!(String);
text_column!(Option<String>);

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextOp {
    StartsWith,
    EndsWith,
    Contains,
}

/// An untyped predicate over a row's column values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Pred {
    True,
    Cmp(usize, CmpOp, Value),
    In(usize, Vec<Value>),
    IsNull(usize),
    Text(usize, TextOp, String),
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

    fn eval3<'a>(&self, col: &impl Fn(usize) -> ValueRef<'a>) -> Option<bool> {
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
            Pred::In(c, vs) => {
                let x = col(*c);
                if x.is_null() {
                    return None;
                }
                Some(vs.iter().any(|v| x.compare(v) == Some(Equal)))
            }
            Pred::IsNull(c) => Some(col(*c).is_null()),
            Pred::Text(c, op, s) => match col(*c) {
                ValueRef::Text(t) => Some(match op {
                    TextOp::StartsWith => t.starts_with(s.as_str()),
                    TextOp::EndsWith => t.ends_with(s.as_str()),
                    TextOp::Contains => t.contains(s.as_str()),
                }),
                _ => None,
            },
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
            Pred::Cmp(c, ..) | Pred::In(c, _) | Pred::IsNull(c) | Pred::Text(c, ..) => mark(*c),
            Pred::And(a, b) | Pred::Or(a, b) => {
                a.mark_columns(needed);
                b.mark_columns(needed);
            }
            Pred::Not(a) => a.mark_columns(needed),
        }
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

/// A typed filter on rows of `M`: build with the column methods, combine
/// with [`Expr::and`], [`Expr::or`] and [`Expr::not`].
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
    pub fn and(self, other: Expr<M>) -> Expr<M> {
        Expr::new(Pred::And(Box::new(self.pred), Box::new(other.pred)))
    }

    /// Either.
    pub fn or(self, other: Expr<M>) -> Expr<M> {
        Expr::new(Pred::Or(Box::new(self.pred), Box::new(other.pred)))
    }

    /// Not.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Expr<M> {
        Expr::new(Pred::Not(Box::new(self.pred)))
    }
}

/// An ordering on one column of `M`: [`Column::asc`] or [`Column::desc`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order<M> {
    pub(crate) column: usize,
    pub(crate) desc: bool,
    _m: PhantomData<fn() -> M>,
}

impl<M: Model, T: ColumnType> From<Column<M, T>> for Order<M> {
    fn from(c: Column<M, T>) -> Order<M> {
        c.asc()
    }
}
