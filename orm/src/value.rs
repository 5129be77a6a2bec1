//! Column values and the Rust types a column can have: what filters
//! compare, what the derive reads out of a model's fields, and which
//! values may be compared with a column of a given type ([`ToColumn`]).
//! How values are stored (the key encoding and the row layout) is in
//! `layout.rs`.
//!
//! A field's type is a [`ColumnType`]: a [`ColumnValue`] (the integers,
//! `f32`, `f64`, `bool`, `String`, `Vec<u8>`, the date, time, UUID,
//! decimal and JSON types of `types.rs` behind their features, unit enums
//! and newtypes with `#[derive(strata::Column)]`, and any type that
//! implements [`ColumnValue`]), or an `Option` of one.

use std::cmp::Ordering;
use std::fmt;

/// A column value, as filters compare it and indexes store it.
///
/// ```
/// use strata::{ColumnType, Value};
/// assert_eq!(42i32.to_value(), Value::Int(42));
/// assert_eq!(Some("ann".to_string()).to_value(), Value::Text("ann".into()));
/// assert_eq!(None::<f64>.to_value(), Value::Null);
/// assert_eq!(Value::Text("ann".into()).to_string(), "\"ann\"");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// No value (`None` of a nullable column).
    Null,
    /// A boolean.
    Bool(bool),
    /// Any signed integer column up to 64 bits.
    Int(i64),
    /// Any unsigned integer column up to 64 bits.
    UInt(u64),
    /// An `f64` or `f32` column.
    Float(f64),
    /// A `String` column.
    Text(String),
    /// A `Vec<u8>` column.
    Bytes(Vec<u8>),
    /// An `i128` column.
    I128(i128),
    /// A `u128` column.
    U128(u128),
    /// A date: days since 1970-01-01 in the proleptic Gregorian calendar.
    Date(i32),
    /// A date and time without a zone (a UTC instant for zoned types):
    /// seconds since 1970-01-01T00:00:00, and nanoseconds (below 2 * 10^9,
    /// leap seconds included).
    DateTime(i64, u32),
    /// A decimal number: mantissa and scale (`mantissa * 10^-scale`).
    Decimal(i128, u32),
}

impl Value {
    /// Compares two values the way a filter does: `None` when either is
    /// null, when they are of different kinds, or when a float is NaN.
    ///
    /// ```
    /// use std::cmp::Ordering;
    /// use strata::Value;
    /// assert_eq!(Value::Int(1).compare(&Value::Int(2)), Some(Ordering::Less));
    /// assert_eq!(Value::Null.compare(&Value::Int(2)), None); // SQL's unknown
    /// assert_eq!(Value::Int(1).compare(&Value::Text("1".into())), None); // other kinds
    /// ```
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        self.as_ref().compare_ref(other.as_ref())
    }

    /// An order for sorting query results: nulls first, then by value
    /// (NaN after every other float; `-0.0` equal to `0.0`, as in an index).
    /// Values of different kinds compare equal.
    ///
    /// ```
    /// use strata::Value;
    /// let mut v = vec![Value::Float(2.0), Value::Null, Value::Float(f64::NAN), Value::Float(-1.0)];
    /// v.sort_by(Value::sort_cmp);
    /// assert_eq!(v[0], Value::Null); // nulls first
    /// assert_eq!(v[1], Value::Float(-1.0));
    /// assert!(matches!(v[3], Value::Float(x) if x.is_nan())); // NaN last
    /// ```
    pub fn sort_cmp(&self, other: &Value) -> Ordering {
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
    ///
    /// ```
    /// use strata::{Value, ValueRef};
    /// let v = Value::Text("ann".into());
    /// assert_eq!(v.as_ref(), ValueRef::Text("ann"));
    /// ```
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::UInt(u) => ValueRef::UInt(*u),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Text(s) => ValueRef::Text(s),
            Value::Bytes(b) => ValueRef::Bytes(b),
            Value::I128(i) => ValueRef::I128(*i),
            Value::U128(u) => ValueRef::U128(*u),
            Value::Date(d) => ValueRef::Date(*d),
            Value::DateTime(s, n) => ValueRef::DateTime(*s, *n),
            Value::Decimal(m, e) => ValueRef::Decimal(*m, *e),
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
            Value::I128(i) => write!(f, "{i}"),
            Value::U128(u) => write!(f, "{u}"),
            Value::Date(d) => {
                let (y, m, day) = civil_from_days(i64::from(*d));
                write!(f, "{y:04}-{m:02}-{day:02}")
            }
            Value::DateTime(secs, nanos) => {
                let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
                let t = secs.rem_euclid(86_400);
                write!(
                    f,
                    "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
                    t / 3600,
                    t / 60 % 60,
                    t % 60
                )?;
                if *nanos != 0 {
                    write!(f, ".{nanos:09}")?;
                }
                Ok(())
            }
            Value::Decimal(m, scale) => {
                let digits = m.unsigned_abs().to_string();
                let scale = *scale as usize;
                let sign = if *m < 0 { "-" } else { "" };
                if scale == 0 {
                    write!(f, "{sign}{digits}")
                } else if digits.len() > scale {
                    let (int, frac) = digits.split_at(digits.len() - scale);
                    write!(f, "{sign}{int}.{frac}")
                } else {
                    write!(f, "{sign}0.{digits:0>scale$}")
                }
            }
        }
    }
}

/// The (year, month, day) of day `z` since 1970-01-01, proleptic
/// Gregorian (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Day number since 1970-01-01 of a (year, month, day), proleptic
/// Gregorian (Howard Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A column value borrowed from a row: what filters and orderings read,
/// without copying strings and bytes out of the row.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{Model, ValueRef};
/// let user = User { id: 1, username: "ann".into(), email: "ann@example.com".into() };
/// // Borrowed from the row: no copy of the text.
/// assert_eq!(user.value_ref(User::email.index()), ValueRef::Text("ann@example.com"));
/// ```
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
    /// A 128-bit signed integer.
    I128(i128),
    /// A 128-bit unsigned integer.
    U128(u128),
    /// A date (see [`Value::Date`]).
    Date(i32),
    /// A date and time (see [`Value::DateTime`]).
    DateTime(i64, u32),
    /// A decimal (see [`Value::Decimal`]).
    Decimal(i128, u32),
}

impl ValueRef<'_> {
    /// Compares with a value the way a filter does (see [`Value::compare`]).
    ///
    /// ```
    /// use std::cmp::Ordering;
    /// use strata::{Value, ValueRef};
    /// assert_eq!(ValueRef::Text("b").compare(&Value::Text("a".into())), Some(Ordering::Greater));
    /// assert_eq!(ValueRef::Null.compare(&Value::Null), None);
    /// ```
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        self.compare_ref(other.as_ref())
    }

    fn compare_ref(&self, other: ValueRef<'_>) -> Option<Ordering> {
        use ValueRef as V;
        match (*self, other) {
            (V::Bool(a), V::Bool(b)) => Some(a.cmp(&b)),
            (V::Int(a), V::Int(b)) => Some(a.cmp(&b)),
            (V::UInt(a), V::UInt(b)) => Some(a.cmp(&b)),
            (V::Float(a), V::Float(b)) => a.partial_cmp(&b),
            (V::Text(a), V::Text(b)) => Some(a.cmp(b)),
            (V::Bytes(a), V::Bytes(b)) => Some(a.cmp(b)),
            (V::I128(a), V::I128(b)) => Some(a.cmp(&b)),
            (V::U128(a), V::U128(b)) => Some(a.cmp(&b)),
            (V::Date(a), V::Date(b)) => Some(a.cmp(&b)),
            (V::DateTime(a, x), V::DateTime(b, y)) => Some((a, x).cmp(&(b, y))),
            (V::Decimal(a, x), V::Decimal(b, y)) => Some(decimal_cmp(a, x, b, y)),
            _ => None,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self, ValueRef::Null)
    }

    /// The owned value.
    ///
    /// ```
    /// use strata::{Value, ValueRef};
    /// assert_eq!(ValueRef::Bytes(b"\x01").to_value(), Value::Bytes(vec![1]));
    /// ```
    pub fn to_value(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::UInt(u) => Value::UInt(u),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Text(s) => Value::Text(s.to_string()),
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
            ValueRef::I128(i) => Value::I128(i),
            ValueRef::U128(u) => Value::U128(u),
            ValueRef::Date(d) => Value::Date(d),
            ValueRef::DateTime(s, n) => Value::DateTime(s, n),
            ValueRef::Decimal(m, e) => Value::Decimal(m, e),
        }
    }
}

/// Compares `a * 10^-x` with `b * 10^-y` exactly: the one with the smaller
/// scale is brought to the other's; when that overflows, its magnitude is
/// past anything the other can hold, and the sign decides.
pub(crate) fn decimal_cmp(a: i128, x: u32, b: i128, y: u32) -> Ordering {
    let scaled = |m: i128, by: u32| 10i128.checked_pow(by).and_then(|p| m.checked_mul(p));
    match x.cmp(&y) {
        Ordering::Equal => a.cmp(&b),
        Ordering::Less => match scaled(a, y - x) {
            Some(a) => a.cmp(&b),
            None => a.signum().cmp(&0),
        },
        Ordering::Greater => match scaled(b, x - y) {
            Some(b) => a.cmp(&b),
            None => 0.cmp(&b.signum()),
        },
    }
}

/// What kind of value a column holds (its type without `Option`). The
/// stored schema records it; a foreign key must have its parent key's.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{ColumnKind, ColumnType, Model};
/// assert_eq!(Post::COLUMNS[Post::score.index()].kind, ColumnKind::Float);
/// assert_eq!(<Option<String> as ColumnType>::KIND, ColumnKind::Text);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ColumnKind {
    /// Signed integers up to 64 bits.
    Int,
    /// Unsigned integers up to 64 bits.
    UInt,
    /// `f64`, `f32`.
    Float,
    /// `bool`.
    Bool,
    /// `String`, and text encodings (enums by name, JSON).
    Text,
    /// `Vec<u8>`, and byte encodings (UUIDs).
    Bytes,
    /// `i128`.
    I128,
    /// `u128`.
    U128,
    /// A date.
    Date,
    /// A date and time.
    DateTime,
    /// A decimal.
    Decimal,
}

impl ColumnKind {
    /// Whether values of this kind are integers (an automatic key).
    ///
    /// ```
    /// use strata::ColumnKind;
    /// assert!(ColumnKind::Int.is_integer());
    /// assert!(!ColumnKind::Text.is_integer());
    /// ```
    pub const fn is_integer(self) -> bool {
        matches!(
            self,
            ColumnKind::Int | ColumnKind::UInt | ColumnKind::I128 | ColumnKind::U128
        )
    }
}

/// A Rust type a column holds, `Option` aside: the public trait through
/// which any type becomes a column. It says how the type is stored (one of
/// the built-in storages, [`ColumnValue::STORAGE`]: the row bytes its
/// serde form must produce, and the key encoding), whether that encoding
/// orders values as the type does ([`ColumnValue::INDEXABLE`]), and how it
/// compares (as its [`Value`]).
///
/// `#[derive(strata::Column)]` implements it for unit enums and newtypes;
/// by hand, for a type whose serde form is one of the storages:
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use strata::{ColumnKind, ColumnValue, Value, ValueRef};
///
/// /// Stored as its text, ordered as text.
/// #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
/// #[serde(transparent)]
/// struct Email(String);
///
/// impl ColumnValue for Email {
///     const KIND: ColumnKind = ColumnKind::Text;
///     const TYPE_NAME: &'static str = "Email";
///     const STORAGE: &'static str = "String";
///     const INDEXABLE: bool = true;
///     fn value_ref(&self) -> ValueRef<'_> {
///         ValueRef::Text(&self.0)
///     }
///     fn from_value(v: Value) -> Option<Self> {
///         match v {
///             Value::Text(s) => Some(Email(s)),
///             _ => None,
///         }
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a column type",
    label = "not a column type",
    note = "a model field is an integer, f32, f64, bool, String, Vec<u8>, a type of an enabled feature (chrono, uuid, decimal, json), a type with `#[derive(strata::Column)]`, or a type implementing `strata::ColumnValue`; or an Option of one"
)]
pub trait ColumnValue: Clone + Send + Sync + 'static {
    /// The kind of value.
    ///
    /// ```
    /// use strata::{ColumnKind, ColumnValue};
    /// assert_eq!(<u16 as ColumnValue>::KIND, ColumnKind::UInt);
    /// assert_eq!(<Vec<u8> as ColumnValue>::KIND, ColumnKind::Bytes);
    /// ```
    const KIND: ColumnKind;
    /// The Rust type's name, as the stored schema records it.
    ///
    /// ```
    /// use strata::ColumnValue;
    /// assert_eq!(<i32 as ColumnValue>::TYPE_NAME, "i32");
    /// ```
    const TYPE_NAME: &'static str;
    /// The built-in type whose row bytes and key encoding this type uses
    /// (`"i64"`, `"String"`, ...; `layout.rs` lists them); its serde form
    /// must write exactly those bytes (a newtype with `#[serde(transparent)]`
    /// does).
    ///
    /// ```
    /// use strata::{Column, ColumnValue};
    /// #[derive(Column, Clone, Copy, Debug, PartialEq)]
    /// struct UserId(i64);
    /// // A newtype is stored as what it wraps.
    /// assert_eq!(<UserId as ColumnValue>::STORAGE, "i64");
    /// ```
    const STORAGE: &'static str;
    /// Whether the encoding orders values as the type does, so that the
    /// type can be a key, `unique`, `index` or a foreign key.
    ///
    /// ```
    /// use strata::ColumnValue;
    /// assert!(<String as ColumnValue>::INDEXABLE);
    /// ```
    const INDEXABLE: bool;
    /// The value, borrowed where it can be.
    ///
    /// ```
    /// use strata::{ColumnValue, ValueRef};
    /// assert_eq!(ColumnValue::value_ref(&"ann".to_string()), ValueRef::Text("ann"));
    /// ```
    fn value_ref(&self) -> ValueRef<'_>;
    /// The value.
    ///
    /// ```
    /// use strata::{ColumnValue, Value};
    /// assert_eq!(ColumnValue::to_value(&7u8), Value::UInt(7));
    /// ```
    fn to_value(&self) -> Value {
        self.value_ref().to_value()
    }
    /// The field holding `v`, a value of this type's kind (`None` for a
    /// value of another kind, or out of the type's range).
    ///
    /// ```
    /// use strata::{ColumnValue, Value};
    /// assert_eq!(<u8 as ColumnValue>::from_value(Value::UInt(7)), Some(7));
    /// assert_eq!(<u8 as ColumnValue>::from_value(Value::UInt(300)), None); // out of range
    /// assert_eq!(<u8 as ColumnValue>::from_value(Value::Int(7)), None); // another kind
    /// ```
    fn from_value(v: Value) -> Option<Self>;
}

/// A Rust type a model field can have: a [`ColumnValue`], or an `Option`
/// of one.
///
/// ```
/// use strata::{ColumnType, Value};
/// // Every ColumnValue is a ColumnType, and so is an Option of one.
/// fn nullable<T: ColumnType>() -> bool {
///     T::NULLABLE
/// }
/// assert!(!nullable::<i64>() && nullable::<Option<i64>>());
/// assert_eq!(<Option<i64> as ColumnType>::from_value(Value::Null), Some(None));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a column type",
    label = "not a column type",
    note = "a model field is an integer, f32, f64, bool, String, Vec<u8>, a type of an enabled feature (chrono, uuid, decimal, json), a type with `#[derive(strata::Column)]`, or a type implementing `strata::ColumnValue`; or an Option of one"
)]
pub trait ColumnType: Clone + Send + Sync + 'static {
    /// The kind of value.
    ///
    /// ```
    /// use strata::{ColumnKind, ColumnType};
    /// assert_eq!(<Option<bool> as ColumnType>::KIND, ColumnKind::Bool);
    /// ```
    const KIND: ColumnKind;
    /// Whether the column may be null (`Option<T>`).
    ///
    /// ```
    /// use strata::ColumnType;
    /// assert!(<Option<String> as ColumnType>::NULLABLE);
    /// ```
    const NULLABLE: bool;
    /// The Rust type's name without `Option`, as recorded in the stored
    /// schema (which writes `Option<..>` around it when nullable).
    ///
    /// ```
    /// use strata::ColumnType;
    /// assert_eq!(<Option<String> as ColumnType>::TYPE_NAME, "String");
    /// ```
    const TYPE_NAME: &'static str;
    /// The storage of the type without `Option` ([`ColumnValue::STORAGE`]).
    ///
    /// ```
    /// use strata::ColumnType;
    /// assert_eq!(<Option<f32> as ColumnType>::STORAGE, "f32");
    /// ```
    const STORAGE: &'static str;
    /// Whether it may be indexed ([`ColumnValue::INDEXABLE`]).
    ///
    /// ```
    /// use strata::ColumnType;
    /// assert!(<Option<i64> as ColumnType>::INDEXABLE);
    /// ```
    const INDEXABLE: bool;
    /// The type without `Option`: `T` for `T` and for `Option<T>`.
    ///
    /// ```
    /// use strata::ColumnType;
    /// fn base<T: ColumnType>() -> &'static str {
    ///     std::any::type_name::<T::Base>()
    /// }
    /// assert_eq!(base::<Option<i64>>(), "i64");
    /// assert_eq!(base::<i64>(), "i64");
    /// ```
    type Base: ColumnType;
    /// The value of this field.
    ///
    /// ```
    /// use strata::{ColumnType, Value};
    /// assert_eq!(ColumnType::to_value(&Some(2.5f64)), Value::Float(2.5));
    /// ```
    fn to_value(&self) -> Value;
    /// The value of this field, borrowed.
    ///
    /// ```
    /// use strata::{ColumnType, ValueRef};
    /// assert_eq!(ColumnType::value_ref(&None::<String>), ValueRef::Null);
    /// ```
    fn value_ref(&self) -> ValueRef<'_>;
    /// The field holding `v`, a value of this column's kind (`None` for a
    /// value of another kind, or out of the type's range).
    ///
    /// ```
    /// use strata::{ColumnType, Value};
    /// assert_eq!(<Option<String> as ColumnType>::from_value(Value::Text("x".into())), Some(Some("x".into())));
    /// assert_eq!(<String as ColumnType>::from_value(Value::Null), None); // not nullable
    /// ```
    fn from_value(v: Value) -> Option<Self>;
}

impl<T: ColumnValue> ColumnType for T {
    const KIND: ColumnKind = T::KIND;
    const NULLABLE: bool = false;
    const TYPE_NAME: &'static str = T::TYPE_NAME;
    const STORAGE: &'static str = T::STORAGE;
    const INDEXABLE: bool = T::INDEXABLE;
    type Base = T;
    fn to_value(&self) -> Value {
        ColumnValue::to_value(self)
    }
    fn value_ref(&self) -> ValueRef<'_> {
        ColumnValue::value_ref(self)
    }
    fn from_value(v: Value) -> Option<Self> {
        <T as ColumnValue>::from_value(v)
    }
}

impl<T: ColumnValue> ColumnType for Option<T> {
    const KIND: ColumnKind = T::KIND;
    const NULLABLE: bool = true;
    const TYPE_NAME: &'static str = T::TYPE_NAME;
    const STORAGE: &'static str = T::STORAGE;
    const INDEXABLE: bool = T::INDEXABLE;
    type Base = T;
    fn to_value(&self) -> Value {
        match self {
            Some(v) => ColumnValue::to_value(v),
            None => Value::Null,
        }
    }
    fn value_ref(&self) -> ValueRef<'_> {
        match self {
            Some(v) => ColumnValue::value_ref(v),
            None => ValueRef::Null,
        }
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => <T as ColumnValue>::from_value(v).map(Some),
        }
    }
}

/// A numeric column type, for `sum` and `avg`
/// ([`Column::sum`](crate::Column::sum)): the sum of integers is an
/// `i64`, of floats an `f64`.
///
/// ```
/// use strata::Numeric;
/// fn total<T: Numeric>() -> &'static str {
///     std::any::type_name::<T::Sum>()
/// }
/// assert_eq!(total::<u8>(), "i64");
/// assert_eq!(total::<Option<f32>>(), "f64");
/// ```
pub trait Numeric: ColumnType {
    /// The type of a sum of its values.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// // The sum of an f64 column is an f64; of any integer column, an i64.
    /// let (total, ids): (Option<f64>, Option<i64>) = s.query::<Post>().aggregate((Post::score.sum(), Post::id.sum()))?;
    /// assert_eq!((total, ids), (Some(11.0), Some(6)));
    /// # Ok::<(), strata::Error>(())
    /// ```
    type Sum: ColumnType;
}

macro_rules! column_value {
    ($($t:ty => $kind:ident, $variant:ident, $conv:ty, |$s:ident| $borrow:expr);* $(;)?) => {$(
        impl ColumnValue for $t {
            const KIND: ColumnKind = ColumnKind::$kind;
            const TYPE_NAME: &'static str = stringify!($t);
            const STORAGE: &'static str = stringify!($t);
            const INDEXABLE: bool = true;
            fn value_ref(&self) -> ValueRef<'_> {
                let $s = self;
                ValueRef::$variant($borrow)
            }
            fn to_value(&self) -> Value {
                Value::$variant(<$conv>::from(self.clone()))
            }
            fn from_value(v: Value) -> Option<Self> {
                match v {
                    Value::$variant(x) => <$t>::try_from(x).ok(),
                    _ => None,
                }
            }
        }
    )*};
}

column_value! {
    i8 => Int, Int, i64, |s| i64::from(*s);
    i16 => Int, Int, i64, |s| i64::from(*s);
    i32 => Int, Int, i64, |s| i64::from(*s);
    i64 => Int, Int, i64, |s| *s;
    u8 => UInt, UInt, u64, |s| u64::from(*s);
    u16 => UInt, UInt, u64, |s| u64::from(*s);
    u32 => UInt, UInt, u64, |s| u64::from(*s);
    u64 => UInt, UInt, u64, |s| *s;
    i128 => I128, I128, i128, |s| *s;
    u128 => U128, U128, u128, |s| *s;
    f64 => Float, Float, f64, |s| *s;
    bool => Bool, Bool, bool, |s| *s;
    String => Text, Text, String, |s| s.as_str();
    Vec<u8> => Bytes, Bytes, Vec<u8>, |s| s.as_slice();
}

/// `f32` widens to `f64` exactly, so it compares and sorts as one.
impl ColumnValue for f32 {
    const KIND: ColumnKind = ColumnKind::Float;
    const TYPE_NAME: &'static str = "f32";
    const STORAGE: &'static str = "f32";
    const INDEXABLE: bool = true;
    fn value_ref(&self) -> ValueRef<'_> {
        ValueRef::Float(f64::from(*self))
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            // Only a value an f32 holds exactly (NaN aside).
            Value::Float(f) if f64::from(f as f32) == f || f.is_nan() => Some(f as f32),
            _ => None,
        }
    }
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
numeric!(f64: f32, f64);

/// A value that can be compared with a column of type `T` in a query:
/// `T` itself, `&str` for text, a narrower integer for a wider one, and a
/// plain value for an `Option` column.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// # let (_dir, db) = blog()?;
/// let s = db.read_session()?;
/// // A String column takes &str; an Option column a plain value; an i64 one an i32.
/// assert_eq!(s.query::<User>().filter(User::username.eq("ann")).count()?, 1);
/// assert_eq!(s.query::<Post>().filter(Post::topic.eq("rust")).count()?, 1);
/// assert_eq!(s.query::<Post>().filter(Post::author_id.eq(2i32)).count()?, 1);
/// # Ok::<(), strata::Error>(())
/// ```
pub trait ToColumn<T> {
    /// The value to compare with.
    ///
    /// ```
    /// use strata::{ToColumn, Value};
    /// assert_eq!(ToColumn::<i64>::to_column_value(&3i32), Value::Int(3));
    /// assert_eq!(ToColumn::<String>::to_column_value(&"ann"), Value::Text("ann".into()));
    /// ```
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
    f32 => f64;
}

impl<T: ColumnValue> ToColumn<Option<T>> for T {
    fn to_column_value(&self) -> Value {
        ColumnValue::to_value(self)
    }
}
