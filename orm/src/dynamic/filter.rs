//! Filters over column positions: the public face of the typed path's
//! own predicates (`expr.rs`), for callers that name columns at run time.

use crate::expr::{CmpOp, Pred, TextOp};
use crate::text::{Fold, Like};
use crate::value::{Value, ValueRef};

/// A comparison of a column with a value.
///
/// ```
/// use strata::{Compare, Filter, Value};
/// let adult = Filter::Cmp(1, Compare::Ge, Value::Int(18));
/// assert!(adult.matches(&[Value::Int(1), Value::Int(30)]));
/// assert!(!adult.matches(&[Value::Int(2), Value::Int(12)]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// A filter on the rows of one table, by column position, with the
/// semantics of the typed filters (`orm/DESIGN.md` section 2): SQL's
/// three-valued logic, a value of another kind than the column's compares
/// as unknown, `LIKE` case-sensitive, `ILIKE` on lowercase text.
///
/// ```
/// use strata::{Compare, Filter, Value};
///
/// // gpa > 3.5 AND name ILIKE 'd%'
/// let f = Filter::Cmp(2, Compare::Gt, Value::Float(3.5))
///     .and(Filter::Like { column: 1, pattern: "d%".into(), escape: None, ignore_case: true });
/// let denise = [Value::Int(4), Value::Text("Denise".into()), Value::Float(4.0)];
/// let alice = [Value::Int(1), Value::Text("Alice".into()), Value::Float(3.45)];
/// assert!(f.matches(&denise) && !f.matches(&alice));
/// // NULL > 3.5 is unknown, and so is its negation.
/// let nobody = [Value::Int(5), Value::Text("Nobody".into()), Value::Null];
/// let gt = Filter::Cmp(2, Compare::Gt, Value::Float(3.5));
/// assert!(!gt.clone().matches(&nobody) && !gt.not().matches(&nobody));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Filter {
    /// Every row.
    True,
    /// `column OP value`; a null value is unknown for every row.
    Cmp(usize, Compare, Value),
    /// `column IN (values)`.
    In(usize, Vec<Value>),
    /// `column IS NULL`.
    IsNull(usize),
    /// `column LIKE pattern [ESCAPE escape]`, or `ILIKE` with `ignore_case`.
    Like {
        /// The text column.
        column: usize,
        /// `%` matches any run of characters, `_` one.
        pattern: String,
        /// The escape character, if any.
        escape: Option<char>,
        /// `ILIKE`: both sides lowercased first.
        ignore_case: bool,
    },
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
    /// Not.
    Not(Box<Filter>),
}

impl Filter {
    /// Both.
    ///
    /// ```
    /// use strata::{Compare, Filter, Value};
    /// let f = Filter::Cmp(0, Compare::Gt, Value::Int(1)).and(Filter::IsNull(1));
    /// assert!(f.matches(&[Value::Int(2), Value::Null]));
    /// assert!(!f.matches(&[Value::Int(2), Value::Int(0)]));
    /// ```
    pub fn and(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::True, f) | (f, Filter::True) => f,
            (a, b) => Filter::And(Box::new(a), Box::new(b)),
        }
    }

    /// Either.
    ///
    /// ```
    /// use strata::{Compare, Filter, Value};
    /// let f = Filter::Cmp(0, Compare::Eq, Value::Int(1)).or(Filter::Cmp(0, Compare::Eq, Value::Int(3)));
    /// assert!(f.matches(&[Value::Int(3)]) && !f.matches(&[Value::Int(2)]));
    /// ```
    pub fn or(self, other: Filter) -> Filter {
        Filter::Or(Box::new(self), Box::new(other))
    }

    /// Not.
    ///
    /// ```
    /// use strata::{Filter, Value};
    /// let f = Filter::In(0, vec![Value::Int(1), Value::Int(2)]).not();
    /// assert!(f.matches(&[Value::Int(3)]) && !f.matches(&[Value::Int(1)]));
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }

    /// Whether `row` (every column of the table, in order) matches: the
    /// filter is true on it, not false nor unknown.
    ///
    /// ```
    /// use strata::{Filter, Value};
    /// let f = Filter::Like { column: 0, pattern: "a%".into(), escape: None, ignore_case: true };
    /// assert!(f.matches(&[Value::Text("Ann".into())]));
    /// assert!(!f.matches(&[Value::Null])); // unknown is not a match
    /// ```
    pub fn matches(&self, row: &[Value]) -> bool {
        self.to_pred()
            .eval(&|c| row.get(c).map_or(ValueRef::Null, Value::as_ref))
    }

    /// The same filter with every column position `c` replaced by
    /// `to(c)`: a filter written over joined rows, moved onto one table's.
    ///
    /// ```
    /// use strata::{Compare, Filter, Value};
    /// // A filter on column 4 of a joined row (two columns of one table, then
    /// // three of another) is a filter on column 2 of the second table.
    /// let joined = Filter::Cmp(4, Compare::Eq, Value::Int(7));
    /// let on_second = joined.map_columns(&|c| c - 2);
    /// assert_eq!(on_second, Filter::Cmp(2, Compare::Eq, Value::Int(7)));
    /// ```
    pub fn map_columns(self, to: &dyn Fn(usize) -> usize) -> Filter {
        let map = |f: Box<Filter>| Box::new(f.map_columns(to));
        match self {
            Filter::True => Filter::True,
            Filter::Cmp(c, op, v) => Filter::Cmp(to(c), op, v),
            Filter::In(c, vs) => Filter::In(to(c), vs),
            Filter::IsNull(c) => Filter::IsNull(to(c)),
            Filter::Like {
                column,
                pattern,
                escape,
                ignore_case,
            } => Filter::Like {
                column: to(column),
                pattern,
                escape,
                ignore_case,
            },
            Filter::And(a, b) => Filter::And(map(a), map(b)),
            Filter::Or(a, b) => Filter::Or(map(a), map(b)),
            Filter::Not(a) => Filter::Not(map(a)),
        }
    }

    /// The largest column position the filter reads.
    pub(crate) fn max_column(&self) -> Option<usize> {
        match self {
            Filter::True => None,
            Filter::Cmp(c, ..) | Filter::In(c, _) | Filter::IsNull(c) => Some(*c),
            Filter::Like { column, .. } => Some(*column),
            Filter::And(a, b) | Filter::Or(a, b) => a.max_column().max(b.max_column()),
            Filter::Not(a) => a.max_column(),
        }
    }

    /// The typed path's predicate.
    pub(crate) fn to_pred(&self) -> Pred {
        match self {
            Filter::True => Pred::True,
            Filter::Cmp(c, op, v) => Pred::Cmp(*c, cmp_op(*op), v.clone()),
            Filter::In(c, vs) => Pred::In(*c, vs.clone()),
            Filter::IsNull(c) => Pred::IsNull(*c),
            Filter::Like {
                column,
                pattern,
                escape,
                ignore_case: false,
            } => like(*column, pattern, *escape),
            Filter::Like {
                column,
                pattern,
                escape,
                ignore_case: true,
            } => Pred::Folded(
                *column,
                Fold::Lower,
                Box::new(like(*column, &Fold::Lower.apply(pattern), *escape)),
            ),
            Filter::And(a, b) => Pred::And(Box::new(a.to_pred()), Box::new(b.to_pred())),
            Filter::Or(a, b) => Pred::Or(Box::new(a.to_pred()), Box::new(b.to_pred())),
            Filter::Not(a) => Pred::Not(Box::new(a.to_pred())),
        }
    }
}

fn like(column: usize, pattern: &str, escape: Option<char>) -> Pred {
    Pred::Text(
        column,
        TextOp::Like(Like::new(pattern, escape)),
        String::new(),
    )
}

fn cmp_op(op: Compare) -> CmpOp {
    match op {
        Compare::Eq => CmpOp::Eq,
        Compare::Ne => CmpOp::Ne,
        Compare::Lt => CmpOp::Lt,
        Compare::Le => CmpOp::Le,
        Compare::Gt => CmpOp::Gt,
        Compare::Ge => CmpOp::Ge,
    }
}
