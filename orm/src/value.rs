//! Column values and the Rust types a column can have: what filters
//! compare, what the derive reads out of a model's fields, and which
//! values may be compared with a column of a given type ([`ToColumn`]).
//! How values are stored (the key encoding and the row layout) is in
//! `layout.rs`.

use std::cmp::Ordering;
use std::fmt;

/// A column value, as filters compare it and indexes store it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// No value (`None` of a nullable column).
    Null,
    /// A boolean.
    Bool(bool),
    /// Any signed integer column.
    Int(i64),
    /// Any unsigned integer column.
    UInt(u64),
    /// An `f64` column.
    Float(f64),
    /// A `String` column.
    Text(String),
    /// A `Vec<u8>` column.
    Bytes(Vec<u8>),
}

impl Value {
    /// Compares two values the way a filter does: `None` when either is
    /// null, when they are of different kinds, or when a float is NaN.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::UInt(a), Value::UInt(b)) => Some(a.cmp(b)),
            (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
            (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
            (Value::Bytes(a), Value::Bytes(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// An order for sorting query results: nulls first, then by value
    /// (NaN after every other float; `-0.0` equal to `0.0`, as in an index).
    pub(crate) fn sort_cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => Ordering::Less,
            (_, Value::Null) => Ordering::Greater,
            (Value::Float(a), Value::Float(b)) => a
                .partial_cmp(b)
                .unwrap_or_else(|| a.is_nan().cmp(&b.is_nan())),
            _ => self.compare(other).unwrap_or(Ordering::Equal),
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value, borrowed.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::UInt(u) => ValueRef::UInt(*u),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Text(s) => ValueRef::Text(s),
            Value::Bytes(b) => ValueRef::Bytes(b),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "{b:02x?}"),
        }
    }
}

/// A column value borrowed from a row: what filters and orderings read,
/// without copying strings and bytes out of the row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    /// No value.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A float.
    Float(f64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Bytes(&'a [u8]),
}

impl ValueRef<'_> {
    /// Compares with a value the way a filter does (see [`Value::compare`]).
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (ValueRef::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
            (ValueRef::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (ValueRef::UInt(a), Value::UInt(b)) => Some(a.cmp(b)),
            (ValueRef::Float(a), Value::Float(b)) => a.partial_cmp(b),
            (ValueRef::Text(a), Value::Text(b)) => Some((*a).cmp(b.as_str())),
            (ValueRef::Bytes(a), Value::Bytes(b)) => Some((*a).cmp(&b[..])),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, ValueRef::Null)
    }

    /// The owned value.
    pub fn to_value(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::UInt(u) => Value::UInt(u),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Text(s) => Value::Text(s.to_string()),
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
        }
    }
}

/// What kind of value a column holds (its type without `Option`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ColumnKind {
    /// Signed integers.
    Int,
    /// Unsigned integers.
    UInt,
    /// `f64`.
    Float,
    /// `bool`.
    Bool,
    /// `String`.
    Text,
    /// `Vec<u8>`.
    Bytes,
}

/// A Rust type a model field can have. Implemented for the integers,
/// `f64`, `bool`, `String`, `Vec<u8>`, and `Option` of each.
pub trait ColumnType: Clone + Send + Sync + 'static {
    /// The kind of value.
    const KIND: ColumnKind;
    /// Whether the column may be null (`Option<T>`).
    const NULLABLE: bool;
    /// The Rust type's name, as recorded in the stored schema.
    const TYPE_NAME: &'static str;
    /// The type without `Option`: `T` for `T` and for `Option<T>`.
    type Base: ColumnType;
    /// The value of this field.
    fn to_value(&self) -> Value;
    /// The value of this field, borrowed.
    fn value_ref(&self) -> ValueRef<'_>;
    /// The field holding `v`, a value of this column's kind (`None` for a
    /// value of another kind, or out of the type's range).
    fn from_value(v: Value) -> Option<Self>;
}

/// A numeric column type, for `sum` ([`Column::sum`](crate::Column::sum)):
/// the sum of integers is an `i64`, of floats an `f64`.
pub trait Numeric: ColumnType {
    /// The type of a sum of its values.
    type Sum: ColumnType;
}

macro_rules! column_type {
    ($($t:ty => $kind:ident, $variant:ident, $conv:ty, |$s:ident| $borrow:expr);* $(;)?) => {$(
        impl ColumnType for $t {
            const KIND: ColumnKind = ColumnKind::$kind;
            const NULLABLE: bool = false;
            const TYPE_NAME: &'static str = stringify!($t);
            type Base = $t;
            fn to_value(&self) -> Value {
                Value::$variant(<$conv>::from(self.clone()))
            }
            fn value_ref(&self) -> ValueRef<'_> {
                let $s = self;
                ValueRef::$variant($borrow)
            }
            fn from_value(v: Value) -> Option<Self> {
                match v {
                    Value::$variant(x) => <$t>::try_from(x).ok(),
                    _ => None,
                }
            }
        }
        impl ColumnType for Option<$t> {
            const KIND: ColumnKind = ColumnKind::$kind;
            const NULLABLE: bool = true;
            const TYPE_NAME: &'static str = concat!("Option<", stringify!($t), ">");
            type Base = $t;
            fn to_value(&self) -> Value {
                match self {
                    Some(v) => v.to_value(),
                    None => Value::Null,
                }
            }
            fn value_ref(&self) -> ValueRef<'_> {
                match self {
                    Some(v) => v.value_ref(),
                    None => ValueRef::Null,
                }
            }
            fn from_value(v: Value) -> Option<Self> {
                match v {
                    Value::Null => Some(None),
                    v => <$t>::from_value(v).map(Some),
                }
            }
        }
    )*};
}

macro_rules! numeric {
    ($sum:ty: $($t:ty),*) => {$(
        impl Numeric for $t {
            type Sum = $sum;
        }
        impl Numeric for Option<$t> {
            type Sum = $sum;
        }
    )*};
}

numeric!(i64: i8, i16, i32, i64, u8, u16, u32, u64);
numeric!(f64: f64);

column_type! {
    i8 => Int, Int, i64, |s| i64::from(*s);
    i16 => Int, Int, i64, |s| i64::from(*s);
    i32 => Int, Int, i64, |s| i64::from(*s);
    i64 => Int, Int, i64, |s| *s;
    u8 => UInt, UInt, u64, |s| u64::from(*s);
    u16 => UInt, UInt, u64, |s| u64::from(*s);
    u32 => UInt, UInt, u64, |s| u64::from(*s);
    u64 => UInt, UInt, u64, |s| *s;
    f64 => Float, Float, f64, |s| *s;
    bool => Bool, Bool, bool, |s| *s;
    String => Text, Text, String, |s| s.as_str();
    Vec<u8> => Bytes, Bytes, Vec<u8>, |s| s.as_slice();
}

/// A value that can be compared with a column of type `T` in a query:
/// `T` itself, `&str` for text, a narrower integer for a wider one, and a
/// plain value for an `Option` column.
pub trait ToColumn<T> {
    /// The value to compare with.
    fn to_column_value(&self) -> Value;
}

impl<T: ColumnType> ToColumn<T> for T {
    fn to_column_value(&self) -> Value {
        self.to_value()
    }
}

impl ToColumn<String> for &str {
    fn to_column_value(&self) -> Value {
        Value::Text((*self).to_string())
    }
}

impl ToColumn<Option<String>> for &str {
    fn to_column_value(&self) -> Value {
        Value::Text((*self).to_string())
    }
}

impl ToColumn<Vec<u8>> for &[u8] {
    fn to_column_value(&self) -> Value {
        Value::Bytes(self.to_vec())
    }
}

macro_rules! widen {
    ($($from:ty => $($to:ty),*);* $(;)?) => {$($(
        impl ToColumn<$to> for $from {
            fn to_column_value(&self) -> Value {
                <$to as ColumnType>::to_value(&<$to>::from(*self))
            }
        }
        impl ToColumn<Option<$to>> for $from {
            fn to_column_value(&self) -> Value {
                <$to as ColumnType>::to_value(&<$to>::from(*self))
            }
        }
    )*)*};
}

widen! {
    i8 => i16, i32, i64;
    i16 => i32, i64;
    i32 => i64;
    u8 => u16, u32, u64, i16, i32, i64;
    u16 => u32, u64, i32, i64;
    u32 => u64, i64;
}

macro_rules! some {
    ($($t:ty),*) => {$(
        impl ToColumn<Option<$t>> for $t {
            fn to_column_value(&self) -> Value {
                self.to_value()
            }
        }
    )*};
}

some!(
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    f64,
    bool,
    String,
    Vec<u8>
);
