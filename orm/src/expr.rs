//! Typed columns and the filters and orderings built from them.
//!
//! The derive gives every model one [`Column`] constant per field, named
//! like the field (`User::email`); its methods build an [`Expr`], a typed
//! filter over rows of that model only, or an [`Order`]. Underneath, an
//! `Expr` is an untyped [`Pred`] over column indexes, which the planner
//! (`query/plan.rs`) splits into conjuncts and evaluates on borrowed rows with
//! SQL's three-valued logic.

use crate::model::Model;
use crate::value::{ColumnType, ToColumn, Value, ValueRef};
use std::marker::PhantomData;

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
    pub fn ne(self, v: impl ToColumn<T>) -> Expr<M> {
        match v.to_column_value() {
            Value::Null => self.is_not_null(),
            v => self.cmp(CmpOp::Ne, v),
        }
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
