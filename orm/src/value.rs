//! Column values, the Rust types a column can have, and the
//! order-preserving encoding of values into keys.
//!
//! KEY ENCODING
//!
//! Primary keys and index entries are engine keys, compared as bytes. Each
//! value is encoded so that byte order is value order, and so that an
//! encoded value ends where its own bytes say (a later value can follow it
//! in a composite key):
//!
//! | value | bytes |
//! | --- | --- |
//! | null | `00` (before every other value) |
//! | bool | `01`, then `00` or `01` |
//! | signed integer | `02`, then the value as i64 with its sign bit flipped, big-endian |
//! | unsigned integer | `03`, then the value as u64, big-endian |
//! | float (not NaN) | `04`, then the bits, big-endian: sign bit flipped if positive, all bits flipped if negative (`-0.0` is written as `0.0`) |
//! | text | `05`, then the UTF-8 bytes with each `00` written `00 FF`, then `00 00` |
//! | bytes | `06`, then the bytes escaped as for text, then `00 00` |

use crate::error::{Error, Result};
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
    /// The value of this field.
    fn to_value(&self) -> Value;
    /// The value of this field, borrowed.
    fn value_ref(&self) -> ValueRef<'_>;
}

macro_rules! column_type {
    ($($t:ty => $kind:ident, $variant:ident, $conv:ty, |$s:ident| $borrow:expr);* $(;)?) => {$(
        impl ColumnType for $t {
            const KIND: ColumnKind = ColumnKind::$kind;
            const NULLABLE: bool = false;
            const TYPE_NAME: &'static str = stringify!($t);
            fn to_value(&self) -> Value {
                Value::$variant(<$conv>::from(self.clone()))
            }
            fn value_ref(&self) -> ValueRef<'_> {
                let $s = self;
                ValueRef::$variant($borrow)
            }
        }
        impl ColumnType for Option<$t> {
            const KIND: ColumnKind = ColumnKind::$kind;
            const NULLABLE: bool = true;
            const TYPE_NAME: &'static str = concat!("Option<", stringify!($t), ">");
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
        }
    )*};
}

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

// ---- the key encoding ----

const NULL: u8 = 0x00;
const BOOL: u8 = 0x01;
const INT: u8 = 0x02;
const UINT: u8 = 0x03;
const FLOAT: u8 = 0x04;
const TEXT: u8 = 0x05;
const BYTES: u8 = 0x06;

fn escaped(out: &mut Vec<u8>, mut bytes: &[u8]) {
    // Copy the runs between zero bytes whole.
    while let Some(z) = bytes.iter().position(|&b| b == 0) {
        out.extend_from_slice(&bytes[..=z]);
        out.push(0xFF);
        bytes = &bytes[z + 1..];
    }
    out.extend_from_slice(bytes);
}

/// Appends the order-preserving encoding of `v` to `out`. NaN has no
/// place in the order and is refused by the callers before this.
pub(crate) fn encode_key(v: ValueRef<'_>, out: &mut Vec<u8>) {
    match v {
        ValueRef::Null => out.push(NULL),
        ValueRef::Bool(b) => out.extend_from_slice(&[BOOL, u8::from(b)]),
        ValueRef::Int(i) => {
            out.push(INT);
            out.extend_from_slice(&((i as u64) ^ (1 << 63)).to_be_bytes());
        }
        ValueRef::UInt(u) => {
            out.push(UINT);
            out.extend_from_slice(&u.to_be_bytes());
        }
        ValueRef::Float(f) => {
            out.push(FLOAT);
            // -0.0 equals 0.0: one key for both.
            let bits = if f == 0.0 { 0 } else { f.to_bits() };
            let sortable = if bits >> 63 == 0 {
                bits ^ (1 << 63)
            } else {
                !bits
            };
            out.extend_from_slice(&sortable.to_be_bytes());
        }
        ValueRef::Text(s) => {
            out.push(TEXT);
            escaped(out, s.as_bytes());
            out.extend_from_slice(&[0, 0]);
        }
        ValueRef::Bytes(b) => {
            out.push(BYTES);
            escaped(out, b);
            out.extend_from_slice(&[0, 0]);
        }
    }
}

/// The encoding of one value.
pub(crate) fn key_of(v: &Value) -> Vec<u8> {
    key_of_ref(v.as_ref())
}

/// The encoding of one borrowed value.
pub(crate) fn key_of_ref(v: ValueRef<'_>) -> Vec<u8> {
    // One allocation of the right size: a tag and 8 bytes for numbers; a
    // tag, the bytes (escapes aside) and the terminator for text.
    let cap = match v {
        ValueRef::Text(s) => s.len() + 3,
        ValueRef::Bytes(b) => b.len() + 3,
        _ => 9,
    };
    let mut out = Vec::with_capacity(cap);
    encode_key(v, &mut out);
    out
}

/// For a text value, the encoding of every string that starts with
/// `prefix`, up to but not including the terminator: the range
/// `[p, p ++ FF)` holds exactly those strings.
pub(crate) fn text_prefix(prefix: &str) -> Vec<u8> {
    let mut out = vec![TEXT];
    escaped(&mut out, prefix.as_bytes());
    out
}

/// The smallest byte string greater than every string starting with `p`:
/// `p` with its last non-FF byte incremented, or `None` if there is none.
pub(crate) fn prefix_end(p: &[u8]) -> Option<Vec<u8>> {
    let mut end = p.to_vec();
    while let Some(last) = end.pop() {
        if last != 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Decodes the value at the start of `b`; returns it and its length.
/// `None` if `b` does not start with a valid encoding.
pub(crate) fn decode_key(b: &[u8]) -> Option<(Value, usize)> {
    let fixed = |n: usize| -> Option<[u8; 8]> { b.get(1..1 + n)?.try_into().ok() };
    match *b.first()? {
        NULL => Some((Value::Null, 1)),
        BOOL => match b.get(1)? {
            0 => Some((Value::Bool(false), 2)),
            1 => Some((Value::Bool(true), 2)),
            _ => None,
        },
        INT => Some((
            Value::Int((u64::from_be_bytes(fixed(8)?) ^ (1 << 63)) as i64),
            9,
        )),
        UINT => Some((Value::UInt(u64::from_be_bytes(fixed(8)?)), 9)),
        FLOAT => {
            let s = u64::from_be_bytes(fixed(8)?);
            let bits = if s >> 63 == 1 { s ^ (1 << 63) } else { !s };
            Some((Value::Float(f64::from_bits(bits)), 9))
        }
        tag @ (TEXT | BYTES) => {
            let mut raw = Vec::new();
            let mut i = 1;
            loop {
                match (b.get(i)?, b.get(i + 1)) {
                    (0, Some(0)) => break,
                    (0, Some(0xFF)) => {
                        raw.push(0);
                        i += 2;
                    }
                    (0, _) => return None,
                    (&c, _) => {
                        raw.push(c);
                        i += 1;
                    }
                }
            }
            let v = if tag == TEXT {
                Value::Text(String::from_utf8(raw).ok()?)
            } else {
                Value::Bytes(raw)
            };
            Some((v, i + 2))
        }
        _ => None,
    }
}

/// Refuses NaN where a value must have a place in an order.
pub(crate) fn check_orderable(
    v: ValueRef<'_>,
    model: &'static str,
    column: &'static str,
) -> Result<()> {
    match v {
        ValueRef::Float(f) if f.is_nan() => Err(Error::NotANumber { model, column }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<u64>().prop_map(Value::UInt),
            any::<f64>()
                .prop_filter("not NaN", |f| !f.is_nan())
                .prop_map(Value::Float),
            ".*".prop_map(Value::Text),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(Value::Bytes),
        ]
    }

    proptest! {
        #[test]
        fn encoding_preserves_order_and_round_trips(a in any_value(), b in any_value(), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
            let (ka, kb) = (key_of(&a), key_of(&b));
            if std::mem::discriminant(&a) == std::mem::discriminant(&b) {
                let want = a.sort_cmp(&b);
                prop_assert_eq!(ka.cmp(&kb), want);
            }
            // Self-delimiting: decoding stops at the value's end, whatever follows.
            let mut with_tail = ka.clone();
            with_tail.extend_from_slice(&tail);
            let (back, len) = decode_key(&with_tail).unwrap();
            prop_assert_eq!(len, ka.len());
            prop_assert!(back.sort_cmp(&a) == Ordering::Equal);
        }

        #[test]
        fn composite_keys_sort_by_first_value_then_second(a in ".*", b in ".*", x in any::<i64>(), y in any::<i64>()) {
            let mut k1 = key_of(&Value::Text(a.clone()));
            encode_key(ValueRef::Int(x), &mut k1);
            let mut k2 = key_of(&Value::Text(b.clone()));
            encode_key(ValueRef::Int(y), &mut k2);
            prop_assert_eq!(k1.cmp(&k2), (a, x).cmp(&(b, y)));
        }

        #[test]
        fn text_prefix_range_holds_exactly_the_prefixed(p in "[a\\x00b]{0,3}", s in "[a\\x00b]{0,5}") {
            let lo = text_prefix(&p);
            let k = key_of(&Value::Text(s.clone()));
            let inside = k >= lo && prefix_end(&lo).is_none_or(|hi| k < hi);
            prop_assert_eq!(inside, s.starts_with(&p));
        }

        #[test]
        fn decoding_garbage_never_panics(b in proptest::collection::vec(any::<u8>(), 0..32)) {
            let _ = decode_key(&b);
        }
    }

    #[test]
    fn signed_and_float_order() {
        let ints = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        for w in ints.windows(2) {
            assert!(key_of(&Value::Int(w[0])) < key_of(&Value::Int(w[1])));
        }
        assert_eq!(key_of(&Value::Float(-0.0)), key_of(&Value::Float(0.0)));
        let floats = [f64::NEG_INFINITY, -2.5, 0.0, 0.5, 3.5, f64::INFINITY];
        for w in floats.windows(2) {
            assert!(
                key_of(&Value::Float(w[0])) < key_of(&Value::Float(w[1])),
                "{w:?}"
            );
        }
        assert!(key_of(&Value::Null) < key_of(&Value::Int(i64::MIN)));
    }
}
