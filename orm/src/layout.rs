//! The ORM's storage mapping: which engine tables a model uses, how column
//! values become keys, and how rows are encoded. Every byte the ORM stores
//! is written and read here; `docs/file-format.md` ("ORM tables") has the
//! same tables, and `orm/DESIGN.md` section 5 the reasons.
//!
//! TABLES
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | `<table>` | primary key | the row |
//! | `<table>#<column>`, unique | column value | primary key |
//! | `<table>#<column>`, not unique | column value, then primary key | empty |
//! | `<through>` | owner key, then target key | empty |
//! | `<through>#rev` | target key, then owner key | empty |
//! | `__strata_schema` | table name (UTF-8, not encoded) | the model's `StoredSchema` (bincode, `schema.rs`) |
//!
//! A column has an index table when it is not the primary key and is
//! unique, indexed or a foreign key. A unique index leaves nulls out (any
//! number of rows may be null); other indexes include them.
//!
//! KEY ENCODING
//!
//! Keys are compared as bytes. Each value is encoded so that byte order is
//! value order, and so that an encoded value ends where its own bytes say
//! (a later value can follow it in a composite key):
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
//! | `i128` | `07`, then the value with its sign bit flipped, 16 bytes big-endian |
//! | `u128` | `08`, then the value, 16 bytes big-endian |
//! | date | `09`, then the days since 1970-01-01 as i32 with its sign bit flipped, big-endian |
//! | date and time | `0A`, then the seconds since 1970-01-01T00:00:00 as i64 with its sign bit flipped, big-endian, then the nanoseconds as u32 big-endian |
//! | decimal | `0B`, then `00` (negative), `01` (zero, nothing more) or `02` (positive); then, for `\|v\| = 0.d1d2...dn * 10^e` with `d1` and `dn` not 0: `e` as i64 with its sign bit flipped, big-endian, then each digit `d` as the byte `d + 1`, then `00`; for a negative value every one of those bytes is inverted (`FF - b`), the final `00` becoming `FF` |
//!
//! A decimal's key is the same for every scale of one value (`1.5`,
//! `1.50`), so a unique index treats them as one value, as SQL does.
//! UUIDs are keyed as bytes (16 of them), enums by name as text and by
//! number as integers, newtypes as what they wrap.
//!
//! ROWS
//!
//! A row is the model's struct encoded by serde with bincode 2
//! (`bincode::config::standard()`: little-endian, variable-length
//! integers): the fields in declaration order, with no names and no
//! header. A row is decoded three ways, each named for what it gives:
//!
//! | decoder | gives | used by |
//! | --- | --- | --- |
//! | [`decode_model`] | the model `M` (serde) | reads that return rows |
//! | [`decode_row_refs`] | borrowed column values, per a [`ColumnPlan`] | filters and orderings, without building `M` |
//! | [`decode_row_values`] | owned column values, per a plan | tests and the fuzz target |
//!
//! Each of them reads a row in the model's declaration order with every
//! column present. A table to which migrations appended columns, or whose
//! model declares the stored columns in another order, is read through a
//! [`RowLayout`] (invariants R1 to R3 there): `decode_model` and
//! `encode_model` take it, filters use [`RowLayout::refs`], and the
//! integrity check and migrations [`RowLayout::values`], built from the
//! stored schema.
//!
//! | field type | bytes ([`FieldLayout`]) |
//! | --- | --- |
//! | `bool` | `00` or `01` |
//! | `u8`, `i8` | 1 byte |
//! | `u16`, `u32`, `u64` | a varint: below 251 one byte; otherwise `FB` and a u16, `FC` and a u32, or `FD` and a u64, little-endian |
//! | `i16`, `i32`, `i64` | zigzag, then a varint |
//! | `f64` | 8 bytes, little-endian |
//! | `f32` | 4 bytes, little-endian |
//! | `u128` | a varint as above, with `FE` and a u128 (little-endian) past the u64 range |
//! | `i128` | zigzag, then a `u128` varint |
//! | `String`, `Vec<u8>` | the length as a varint, then the bytes |
//! | `Option<T>` | `00` for `None`; `01`, then `T` |
//! | `uuid::Uuid` | as `Vec<u8>`: the length 16 (`10`), then the 16 bytes (uuid's serde form for non-human-readable formats) |
//! | `chrono::NaiveDate` | as `String`: the date as chrono's serde writes it, `YYYY-MM-DD` (a sign and more digits outside the years 0 to 9999) |
//! | `chrono::NaiveDateTime` | as `String`: `YYYY-MM-DDTHH:MM:SS`, then `.` and 3, 6 or 9 digits when the fraction is not 0; a leap second is second 60 |
//! | `chrono::DateTime<Utc>` | as `NaiveDateTime`, followed by `Z` |
//! | `rust_decimal::Decimal` | as `String`: `-`, the integer digits, and `.` and as many fraction digits as the scale (rust_decimal's `serde-str` form) |
//! | `serde_json::Value` | as `String`: the compact JSON text (`#[serde(with = "strata::json")]`) |
//! | unit enum, `#[derive(Column)]` | as `String` (by name) or `i64` (by number) |
//! | newtype, `#[derive(Column)]` | as the type it wraps |
//!
//! A column's stored schema names its storage (`StoredColumn::storage`,
//! one of the types of this table), so the integrity check decodes the
//! row without the Rust type, and without the type's feature.
//!
//! A row that does not decode, that would need more than [`DECODE_LIMIT`]
//! bytes, or that leaves bytes over is corrupt.
//!
//! A new column type needs its [`ColumnKind`](crate::ColumnKind) and
//! `ColumnType` impl (`value.rs`), then a key encoding and a
//! [`FieldLayout`] here, and nothing else of the ORM.

use crate::error::{Error, Result};
use crate::model::{ColumnDef, Model};
use crate::row_decoder::{DECODE_LIMIT, RowDecoder};
use crate::value::{Value, ValueRef};
use std::borrow::Cow;
use std::ops::Bound;

// ---- tables ----

/// The table holding the stored schemas.
pub(crate) const SCHEMA_TABLE: &str = "__strata_schema";

/// The table holding the migration log (`migration.rs`).
pub(crate) const MIGRATIONS_TABLE: &str = "__strata_migrations";

/// The name of the index table of `column` of `table`.
pub(crate) fn index_table(table: &str, column: &str) -> String {
    format!("{table}#{column}")
}

/// The index table of column `c` of the model stored in `table`: the name
/// the derive recorded in the column, or else one built from the names.
pub(crate) fn column_index_table(table: &str, c: &ColumnDef) -> Cow<'static, str> {
    match c.index_table {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(index_table(table, c.name)),
    }
}

/// The name of the reverse link table of association table `through`.
pub(crate) fn reverse_table(through: &str) -> String {
    format!("{through}#rev")
}

// ---- keys ----

const NULL: u8 = 0x00;
const BOOL: u8 = 0x01;
const INT: u8 = 0x02;
const UINT: u8 = 0x03;
const FLOAT: u8 = 0x04;
const TEXT: u8 = 0x05;
const BYTES: u8 = 0x06;
const I128: u8 = 0x07;
const U128: u8 = 0x08;
const DATE: u8 = 0x09;
const DATETIME: u8 = 0x0A;
const DECIMAL: u8 = 0x0B;

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
        ValueRef::I128(i) => {
            out.push(I128);
            out.extend_from_slice(&((i as u128) ^ (1 << 127)).to_be_bytes());
        }
        ValueRef::U128(u) => {
            out.push(U128);
            out.extend_from_slice(&u.to_be_bytes());
        }
        ValueRef::Date(d) => {
            out.push(DATE);
            out.extend_from_slice(&((d as u32) ^ (1 << 31)).to_be_bytes());
        }
        ValueRef::DateTime(secs, nanos) => {
            out.push(DATETIME);
            out.extend_from_slice(&((secs as u64) ^ (1 << 63)).to_be_bytes());
            out.extend_from_slice(&nanos.to_be_bytes());
        }
        ValueRef::Decimal(m, scale) => {
            out.push(DECIMAL);
            encode_decimal(m, scale, out);
        }
    }
}

/// The decimal part of a key (after its tag): see the module's table.
fn encode_decimal(m: i128, scale: u32, out: &mut Vec<u8>) {
    if m == 0 {
        out.push(1);
        return;
    }
    let digits = m.unsigned_abs().to_string();
    let digits = digits.trim_end_matches('0');
    // |m| = 0.digits * 10^(len of the whole digits), then the scale.
    let e = m.unsigned_abs().to_string().len() as i64 - i64::from(scale);
    let neg = m < 0;
    let flip = |b: u8| if neg { 0xFF - b } else { b };
    out.push(if neg { 0 } else { 2 });
    for b in ((e as u64) ^ (1 << 63)).to_be_bytes() {
        out.push(flip(b));
    }
    for d in digits.bytes() {
        out.push(flip(d - b'0' + 1));
    }
    out.push(flip(0));
}

/// The decimal at the start of `b` (after its tag): mantissa, scale, and
/// the encoding's length.
fn decode_decimal(b: &[u8]) -> Option<((i128, u32), usize)> {
    let neg = match *b.first()? {
        0 => true,
        1 => return Some(((0, 0), 1)),
        2 => false,
        _ => return None,
    };
    let flip = |x: u8| if neg { 0xFF - x } else { x };
    let e: [u8; 8] = b.get(1..9)?.try_into().ok()?;
    let e = (u64::from_be_bytes(e.map(flip)) ^ (1 << 63)) as i64;
    let mut m: i128 = 0;
    let mut n: i64 = 0;
    let mut at = 9;
    loop {
        match flip(*b.get(at)?) {
            0 => break,
            d @ 1..=10 => {
                m = m.checked_mul(10)?.checked_add(i128::from(d - 1))?;
                n += 1;
            }
            _ => return None,
        }
        at += 1;
    }
    // value = m * 10^(e - n)
    let (m, scale) = if e >= n {
        (
            m.checked_mul(10i128.checked_pow(u32::try_from(e - n).ok()?)?)?,
            0,
        )
    } else {
        (m, u32::try_from(n - e).ok()?)
    };
    Some(((if neg { -m } else { m }, scale), at + 1))
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
        ValueRef::Decimal(..) => 52,
        _ => 17,
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

/// The `[lo, hi)` bounds of every key starting with `prefix`.
pub(crate) fn prefix_bounds(prefix: &[u8]) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    (
        Bound::Included(prefix.to_vec()),
        prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded),
    )
}

/// A bound of owned bytes, borrowed.
pub(crate) fn bound_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    b.as_ref().map(|v| &v[..])
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
        I128 => {
            let b: [u8; 16] = b.get(1..17)?.try_into().ok()?;
            Some((
                Value::I128((u128::from_be_bytes(b) ^ (1 << 127)) as i128),
                17,
            ))
        }
        U128 => {
            let b: [u8; 16] = b.get(1..17)?.try_into().ok()?;
            Some((Value::U128(u128::from_be_bytes(b)), 17))
        }
        DATE => {
            let b: [u8; 4] = b.get(1..5)?.try_into().ok()?;
            Some((Value::Date((u32::from_be_bytes(b) ^ (1 << 31)) as i32), 5))
        }
        DATETIME => {
            let secs = (u64::from_be_bytes(fixed(8)?) ^ (1 << 63)) as i64;
            let nanos: [u8; 4] = b.get(9..13)?.try_into().ok()?;
            Some((Value::DateTime(secs, u32::from_be_bytes(nanos)), 13))
        }
        DECIMAL => {
            let ((m, scale), n) = decode_decimal(&b[1..])?;
            Some((Value::Decimal(m, scale), 1 + n))
        }
        tag @ (TEXT | BYTES) => {
            let (raw, len) = unescaped(b)?;
            let v = if tag == TEXT {
                Value::Text(String::from_utf8(raw).ok()?)
            } else {
                Value::Bytes(raw)
            };
            Some((v, len))
        }
        _ => None,
    }
}

/// The bytes of an escaped text or bytes value at the start of `b` (after
/// its tag), and the encoding's length up to and including `00 00`.
fn unescaped(b: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut raw = Vec::new();
    let mut i = 1;
    loop {
        match (b.get(i)?, b.get(i + 1)) {
            (0, Some(0)) => return Some((raw, i + 2)),
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
}

/// Decodes a whole key holding one value (a primary key, as an index
/// entry or a link names it); `table` is where it was read, for the error.
pub(crate) fn decode_whole_key(k: &[u8], table: &str) -> Result<Value> {
    match decode_key(k) {
        Some((v, n)) if n == k.len() => Ok(v),
        _ => Err(Error::Corruption {
            table: table.to_string(),
            detail: "a key does not decode".into(),
        }),
    }
}

/// The key of an index entry for value `v` of a row with encoded primary
/// key `row_key`: the value alone in a unique index, the value then the
/// row's key otherwise.
pub(crate) fn index_key(v: ValueRef<'_>, unique: bool, row_key: &[u8]) -> Vec<u8> {
    let mut k = key_of_ref(v);
    if !unique {
        k.extend_from_slice(row_key);
    }
    k
}

/// The encoded primary key an index entry names: its value in a unique
/// index, what follows the column value in its key otherwise (the whole
/// key, leaving nothing, when the column value does not decode).
pub(crate) fn index_entry_row_key<'a>(unique: bool, key: &'a [u8], value: &'a [u8]) -> &'a [u8] {
    if unique {
        value
    } else {
        &key[decode_key(key).map_or(key.len(), |(_, n)| n)..]
    }
}

/// The key of a link from encoded key `from` to encoded key `to`, in an
/// association table (owner, then target) or its reverse.
pub(crate) fn link_key(from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(from.len() + to.len());
    k.extend_from_slice(from);
    k.extend_from_slice(to);
    k
}

// ---- rows ----

/// The bincode configuration of rows and stored schemas.
pub(crate) fn bincode_config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<DECODE_LIMIT>,
> {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// The row of `m`, laid out as `layout` says (serde's encoding when
/// there is none).
pub(crate) fn encode_model<M: Model>(layout: Option<&RowLayout>, m: &M) -> Result<Vec<u8>> {
    let corrupt = |detail: String| Error::Corruption {
        table: M::TABLE.to_string(),
        detail: format!("cannot encode a row: {detail}"),
    };
    let bytes =
        bincode::serde::encode_to_vec(m, bincode_config()).map_err(|e| corrupt(e.to_string()))?;
    match layout {
        Some(l) if !l.in_order => l.stored_bytes(&bytes).map_err(corrupt),
        _ => Ok(bytes),
    }
}

/// The model a stored row of `M` holds, laid out as `layout` says. A row
/// in declared order that is whole decodes by serde alone; an older,
/// shorter row or one in another order is first put in declared order.
pub(crate) fn decode_model<M: Model>(layout: Option<&RowLayout>, bytes: &[u8]) -> Result<M> {
    let Some(l) = layout else {
        return decode_serde(bytes);
    };
    if l.in_order
        && let Ok(m) = decode_serde::<M>(bytes)
    {
        return Ok(m);
    }
    let declared = l.declared_bytes(bytes).map_err(|e| Error::Corruption {
        table: M::TABLE.to_string(),
        detail: format!("row does not decode: {e}"),
    })?;
    decode_serde(&declared)
}

/// The model whose serde encoding is exactly `bytes`, read by the row
/// decoder (`row_decoder.rs`: bincode's format, without its copies).
fn decode_serde<M: Model>(bytes: &[u8]) -> Result<M> {
    let mut de = RowDecoder::new(bytes);
    let m = M::deserialize(&mut de).map_err(|e| Error::Corruption {
        table: M::TABLE.to_string(),
        detail: format!("row does not decode: {e}"),
    })?;
    if de.left() != 0 {
        return Err(Error::Corruption {
            table: M::TABLE.to_string(),
            detail: "row has trailing bytes".into(),
        });
    }
    Ok(m)
}

/// How a column's value is laid out in a row (its Rust type, `Option`
/// aside), decided once per query instead of once per value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldLayout {
    Bool,
    U8,
    I8,
    /// `u16`, `u32`, `u64`: a bincode varint.
    UVar,
    /// `i16`, `i32`, `i64`: a zigzag varint.
    IVar,
    /// `u128`: a bincode varint up to 128 bits.
    U128,
    /// `i128`: zigzag, then a 128-bit varint.
    I128,
    F32,
    F64,
    Text,
    Bytes,
    /// A date as chrono writes it (text).
    Date,
    /// A date and time as chrono writes it (text), with a `Z` or without.
    DateTime,
    /// A decimal as rust_decimal writes it (text).
    Decimal,
}

impl FieldLayout {
    /// The layout of a column stored as Rust type `ty` (its storage,
    /// `Option<..>` unwrapped when `nullable`); `None` for a type no model
    /// can have.
    pub(crate) fn of(ty: &str, nullable: bool) -> Option<FieldLayout> {
        let base = match (nullable, ty.strip_prefix("Option<")) {
            (true, Some(inner)) => inner.strip_suffix('>').unwrap_or(inner),
            _ => ty,
        };
        Some(match base {
            "bool" => FieldLayout::Bool,
            "u8" => FieldLayout::U8,
            "i8" => FieldLayout::I8,
            "u16" | "u32" | "u64" => FieldLayout::UVar,
            "i16" | "i32" | "i64" => FieldLayout::IVar,
            "u128" => FieldLayout::U128,
            "i128" => FieldLayout::I128,
            "f32" => FieldLayout::F32,
            "f64" => FieldLayout::F64,
            "String" => FieldLayout::Text,
            "Vec<u8>" => FieldLayout::Bytes,
            "NaiveDate" => FieldLayout::Date,
            "NaiveDateTime" | "DateTime<Utc>" => FieldLayout::DateTime,
            "Decimal" => FieldLayout::Decimal,
            _ => return None,
        })
    }
}

/// How the row decoders read one column: its layout, whether it is
/// nullable, and whether the caller reads it. A column nobody reads is
/// skipped over (its text is not even checked for UTF-8) and given as
/// `ValueRef::Null`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ColumnPlan {
    pub(crate) layout: FieldLayout,
    pub(crate) nullable: bool,
    pub(crate) needed: bool,
}

impl ColumnPlan {
    /// The plan of column `name` of Rust type `ty`.
    pub(crate) fn new(
        name: &str,
        ty: &str,
        nullable: bool,
        needed: bool,
    ) -> std::result::Result<ColumnPlan, String> {
        Ok(ColumnPlan {
            layout: FieldLayout::of(ty, nullable)
                .ok_or_else(|| format!("column {name}: unknown column type {ty}"))?,
            nullable,
            needed,
        })
    }
}

impl ColumnPlan {
    /// The same plan, for a column that is nullable or not.
    pub(crate) fn nullable(mut self, nullable: bool) -> ColumnPlan {
        self.nullable = nullable;
        self
    }
}

/// The plan of every column of `columns`, each needed when `needed(i)`.
pub(crate) fn plan_columns(
    columns: &[ColumnDef],
    needed: impl Fn(usize) -> bool,
) -> std::result::Result<Vec<ColumnPlan>, String> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            ColumnPlan::new(c.name, c.storage, false, needed(i)).map(|p| p.nullable(c.nullable))
        })
        .collect()
}

/// Decodes `row` into borrowed column values, appended to `out` (cleared
/// first): what a filter reads, without deserialising the row or copying
/// its strings. The columns the plan does not need come out as
/// `ValueRef::Null`. The whole row is still walked, so a row too short or
/// too long is still an error.
pub(crate) fn decode_row_refs<'a>(
    plan: &[ColumnPlan],
    row: &'a [u8],
    out: &mut Vec<ValueRef<'a>>,
) -> std::result::Result<(), String> {
    out.clear();
    walk(plan, plan.len(), row, &mut |_, _, v| out.push(v))
}

/// Walks the columns of `row` as `plan` lays them out, calling `f` with
/// each column's position, byte range (its `Option` tag included) and
/// value (null where the plan does not need it). The row may end after
/// any column from the `min`-th on (rows written before columns were
/// appended to the table, invariant R1 of [`RowLayout`]); anywhere else,
/// or with bytes left over, it is corrupt.
fn walk<'a>(
    plan: &[ColumnPlan],
    min: usize,
    row: &'a [u8],
    f: &mut dyn FnMut(usize, std::ops::Range<usize>, ValueRef<'a>),
) -> std::result::Result<(), String> {
    let mut r = Reader { b: row, at: 0 };
    for (i, c) in plan.iter().enumerate() {
        if i >= min && r.at == row.len() {
            return Ok(());
        }
        let start = r.at;
        if c.nullable {
            match r.byte()? {
                0 => {
                    f(i, start..r.at, ValueRef::Null);
                    continue;
                }
                1 => {}
                t => return Err(format!("column {i}: bad option tag {t}")),
            }
        }
        let v = r
            .planned(c.layout, c.needed)
            .map_err(|e| format!("column {i}: {e}"))?;
        f(i, start..r.at, v);
    }
    if r.at != row.len() {
        return Err(format!("{} bytes left over", row.len() - r.at));
    }
    Ok(())
}

/// The layout of a table's rows when it is not exactly its model's serde
/// encoding: columns appended to the table after rows were written, or
/// declared in another order than they are stored. This is the one place
/// that knows it; every decoder of rows goes through it (or through the
/// plain serde fast path when a model has none).
///
/// A table's stored schema lists its columns in stored order: the order
/// of their bytes in a row. A migration appends a new column at the end,
/// whatever its place in the struct, so that no stored row is rewritten.
///
/// R1. Every row holds the first `min` stored columns, and then any
///     number of the following ones, in order: an old row is a prefix of
///     today's layout. (Bincode values are self-delimiting, so the decoder
///     sees where a row ends; every value takes at least one byte.)
/// R2. A stored column at `p >= min` has a fill: the row bytes of what a
///     row that ends before it holds there (`None`, or the default the
///     column had when it was appended).
/// R3. Declared column `j` is stored column `order[j]`; every stored
///     column is declared (a dropped field is rewritten away by its step).
#[derive(Debug)]
pub(crate) struct RowLayout {
    /// Every stored column, in stored order, each needed.
    plan: Vec<ColumnPlan>,
    /// The stored columns every row holds (R1).
    min: usize,
    /// The fill of each stored column, empty below `min` (R2).
    fill: Vec<Vec<u8>>,
    /// Declared column `j` is stored column `order[j]` (R3).
    order: Vec<usize>,
    /// Stored column `p` is declared column `back[p]`.
    back: Vec<usize>,
    /// The plan of the declared columns, in declared order.
    declared: Vec<ColumnPlan>,
    /// `order` is the identity: a full row is the model's serde encoding.
    in_order: bool,
}

impl RowLayout {
    /// The layout of stored columns `plan` whose rows hold at least `min`
    /// of them, with fills `fill` (row bytes, one per column, empty below
    /// `min`), read by a model whose column `j` is stored column
    /// `order[j]`.
    pub(crate) fn new(
        plan: Vec<ColumnPlan>,
        min: usize,
        fill: Vec<Vec<u8>>,
        order: Vec<usize>,
    ) -> std::result::Result<RowLayout, String> {
        let n = plan.len();
        if min == 0 || min > n || fill.len() != n || order.len() != n {
            return Err(format!("a row layout of {n} columns, {min} in every row"));
        }
        let mut back = vec![usize::MAX; n];
        for (j, &p) in order.iter().enumerate() {
            match back.get_mut(p) {
                Some(b) if *b == usize::MAX => *b = j,
                _ => {
                    return Err(format!(
                        "declared column {j} has no stored column of its own"
                    ));
                }
            }
        }
        for (p, f) in fill.iter().enumerate().skip(min) {
            // R2: the fill is one whole value of its column.
            let mut n = 0;
            walk(&plan[p..=p], 1, f, &mut |_, _, _| n += 1)
                .map_err(|e| format!("stored column {p}: its fill: {e}"))?;
        }
        Ok(RowLayout {
            declared: order.iter().map(|&p| plan[p]).collect(),
            in_order: order.iter().enumerate().all(|(j, &p)| j == p),
            plan,
            min,
            fill,
            order,
            back,
        })
    }

    /// Whether the model reads every row as plain serde would: columns in
    /// declared order and every row whole.
    pub(crate) fn is_plain(&self) -> bool {
        self.in_order && self.min == self.plan.len()
    }

    /// The stored plan with column `p` needed when declared column
    /// `back[p]` is: what [`RowLayout::refs`] takes.
    pub(crate) fn stored_plan(&self, needed: impl Fn(usize) -> bool) -> Vec<ColumnPlan> {
        let mut plan = self.plan.clone();
        for (p, c) in plan.iter_mut().enumerate() {
            c.needed = needed(self.back[p]);
        }
        plan
    }

    /// The fill of stored column `p` (R2), decoded as `plan` reads it.
    fn fill_ref(&self, plan: &[ColumnPlan], p: usize) -> std::result::Result<ValueRef<'_>, String> {
        let mut v = ValueRef::Null;
        walk(&plan[p..=p], 1, &self.fill[p], &mut |_, _, x| v = x)?;
        Ok(v)
    }

    /// The values of `row`'s columns in declared order, appended to `out`
    /// (cleared first); `plan` is [`RowLayout::stored_plan`]'s. Columns
    /// the row ends before give their fills.
    pub(crate) fn refs<'a>(
        &'a self,
        plan: &[ColumnPlan],
        row: &'a [u8],
        out: &mut Vec<ValueRef<'a>>,
    ) -> std::result::Result<(), String> {
        out.clear();
        walk(plan, self.min, row, &mut |_, _, v| out.push(v))?;
        for p in out.len()..plan.len() {
            out.push(if plan[p].needed {
                self.fill_ref(plan, p)?
            } else {
                ValueRef::Null
            });
        }
        if !self.in_order {
            let stored = std::mem::take(out);
            out.extend(self.order.iter().map(|&p| stored[p]));
        }
        Ok(())
    }

    /// Every stored column's value in `row`, in stored order, fills
    /// included: what the integrity check and migrations read.
    pub(crate) fn values(&self, row: &[u8]) -> std::result::Result<Vec<Value>, String> {
        let mut out = Vec::with_capacity(self.plan.len());
        walk(&self.plan, self.min, row, &mut |_, _, v| {
            out.push(v.to_value())
        })?;
        for p in out.len()..self.plan.len() {
            out.push(self.fill_ref(&self.plan, p)?.to_value());
        }
        Ok(out)
    }

    /// The byte range of each stored column that `row` holds (its `Option`
    /// tag included): at least `min` of them (R1).
    pub(crate) fn spans(
        &self,
        row: &[u8],
    ) -> std::result::Result<Vec<std::ops::Range<usize>>, String> {
        let mut out = Vec::with_capacity(self.plan.len());
        walk(&self.plan, self.min, row, &mut |_, span, _| out.push(span))?;
        Ok(out)
    }

    /// The bytes of stored column `p` in `row`, whose spans are `spans`:
    /// its own, or its fill.
    pub(crate) fn column<'a>(
        &'a self,
        row: &'a [u8],
        spans: &[std::ops::Range<usize>],
        p: usize,
    ) -> &'a [u8] {
        match spans.get(p) {
            Some(s) => &row[s.clone()],
            None => &self.fill[p],
        }
    }

    /// `row` as its model's serde encoding: the declared columns in
    /// declared order, fills for those the row ends before.
    fn declared_bytes(&self, row: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let spans = self.spans(row)?;
        let mut out = Vec::with_capacity(row.len() + 8);
        for &p in &self.order {
            out.extend_from_slice(self.column(row, &spans, p));
        }
        Ok(out)
    }

    /// `bytes`, a model's serde encoding, as a stored row: every column,
    /// in stored order.
    fn stored_bytes(&self, bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
        let mut spans = Vec::with_capacity(self.declared.len());
        walk(
            &self.declared,
            self.declared.len(),
            bytes,
            &mut |_, s, _| spans.push(s),
        )?;
        let mut out = Vec::with_capacity(bytes.len());
        for &j in &self.back {
            out.extend_from_slice(&bytes[spans[j].clone()]);
        }
        Ok(out)
    }
}

/// Decodes `row` into owned column values, every column read.
pub(crate) fn decode_row_values(
    plan: &[ColumnPlan],
    row: &[u8],
) -> std::result::Result<Vec<Value>, String> {
    let mut refs = Vec::with_capacity(plan.len());
    decode_row_refs(plan, row, &mut refs)?;
    Ok(refs.iter().map(ValueRef::to_value).collect())
}

/// Encodes column values into a row, as serde and bincode would encode
/// the model holding them (the inverse of [`decode_row_values`]), for
/// rows written without their Rust type (`dynamic/load.rs`). Each value
/// must be of its column's storage and within its range: an `i32`
/// column takes a `Value::Int` that fits 32 bits, a nullable column
/// `Value::Null` too.
pub(crate) fn encode_row_values(
    columns: &[ColumnDef],
    values: &[Value],
) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (c, v) in columns.iter().zip(values) {
        encode_row_value(c.storage, c.nullable, v, &mut out)
            .map_err(|e| format!("column {}: {e}", c.name))?;
    }
    Ok(out)
}

/// Appends the row bytes of `v` as a column stored as `storage` (and
/// `Option` when `nullable`) lays it out: the inverse of the row decoders,
/// for the values a migration writes (defaults, conversions).
pub(crate) fn encode_row_value(
    storage: &str,
    nullable: bool,
    v: &Value,
    out: &mut Vec<u8>,
) -> std::result::Result<(), String> {
    if nullable {
        if v.is_null() {
            out.push(0);
            return Ok(());
        }
        out.push(1);
    }
    let layout =
        FieldLayout::of(storage, false).ok_or_else(|| format!("unknown column type {storage}"))?;
    let misfit = || format!("{v} does not fit a column of type {storage}");
    let bounded = |max: u128, u: u128| if u <= max { Ok(u) } else { Err(misfit()) };
    match (layout, v) {
        (FieldLayout::Bool, Value::Bool(b)) => out.push(u8::from(*b)),
        (FieldLayout::U8, Value::UInt(u)) => out.push(u8::try_from(*u).map_err(|_| misfit())?),
        (FieldLayout::I8, Value::Int(i)) => {
            out.push(i8::try_from(*i).map_err(|_| misfit())?.to_le_bytes()[0]);
        }
        (FieldLayout::UVar, Value::UInt(u)) => {
            let max = match storage {
                "u16" => u128::from(u16::MAX),
                "u32" => u128::from(u32::MAX),
                _ => u128::from(u64::MAX),
            };
            put_varint(out, bounded(max, u128::from(*u))?);
        }
        (FieldLayout::IVar, Value::Int(i)) => {
            let (lo, hi) = match storage {
                "i16" => (i64::from(i16::MIN), i64::from(i16::MAX)),
                "i32" => (i64::from(i32::MIN), i64::from(i32::MAX)),
                _ => (i64::MIN, i64::MAX),
            };
            if !(lo..=hi).contains(i) {
                return Err(misfit());
            }
            put_varint(out, u128::from(((*i << 1) ^ (*i >> 63)) as u64));
        }
        (FieldLayout::U128, Value::U128(u)) => put_varint(out, *u),
        (FieldLayout::I128, Value::I128(i)) => put_varint(out, ((*i << 1) ^ (*i >> 127)) as u128),
        (FieldLayout::F64, Value::Float(f)) => out.extend_from_slice(&f.to_le_bytes()),
        (FieldLayout::F32, Value::Float(f)) => out.extend_from_slice(&(*f as f32).to_le_bytes()),
        (FieldLayout::Text, Value::Text(t)) => put_bytes(out, t.as_bytes()),
        (FieldLayout::Bytes, Value::Bytes(b)) => put_bytes(out, b),
        (FieldLayout::Date, Value::Date(d)) => {
            put_bytes(out, format_date(i64::from(*d)).as_bytes())
        }
        (FieldLayout::DateTime, Value::DateTime(secs, nanos)) => {
            let mut t = format_datetime(*secs, *nanos);
            if storage == "DateTime<Utc>" {
                t.push('Z');
            }
            put_bytes(out, t.as_bytes());
        }
        (FieldLayout::Decimal, Value::Decimal(m, scale)) => {
            put_bytes(out, format_decimal(*m, *scale).as_bytes());
        }
        _ => return Err(misfit()),
    }
    Ok(())
}

/// bincode's variable-length unsigned integer.
fn put_varint(out: &mut Vec<u8>, u: u128) {
    if u < 251 {
        out.push(u as u8);
    } else if let Ok(x) = u16::try_from(u) {
        out.push(251);
        out.extend_from_slice(&x.to_le_bytes());
    } else if let Ok(x) = u32::try_from(u) {
        out.push(252);
        out.extend_from_slice(&x.to_le_bytes());
    } else if let Ok(x) = u64::try_from(u) {
        out.push(253);
        out.extend_from_slice(&x.to_le_bytes());
    } else {
        out.push(254);
        out.extend_from_slice(&u.to_le_bytes());
    }
}

/// A length, then the bytes.
fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u128);
    out.extend_from_slice(b);
}

/// A date as chrono's serde writes it (the inverse of [`parse_date`]).
fn format_date(days: i64) -> String {
    let (y, m, d) = crate::value::civil_from_days(days);
    if (0..=9999).contains(&y) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:+05}-{m:02}-{d:02}")
    }
}

/// A date and time as chrono's serde writes it, without the zone (the
/// inverse of [`parse_datetime`]).
fn format_datetime(secs: i64, nanos: u32) -> String {
    let (secs, leap, nanos) = if nanos >= 1_000_000_000 {
        (secs, 1, nanos - 1_000_000_000)
    } else {
        (secs, 0, nanos)
    };
    let t = secs.rem_euclid(86_400);
    let mut s = format!(
        "{}T{:02}:{:02}:{:02}",
        format_date(secs.div_euclid(86_400)),
        t / 3600,
        t / 60 % 60,
        t % 60 + leap
    );
    if nanos == 0 {
    } else if nanos % 1_000_000 == 0 {
        s.push_str(&format!(".{:03}", nanos / 1_000_000));
    } else if nanos % 1_000 == 0 {
        s.push_str(&format!(".{:06}", nanos / 1_000));
    } else {
        s.push_str(&format!(".{nanos:09}"));
    }
    s
}

/// A decimal as rust_decimal writes it (the inverse of [`parse_decimal`]).
fn format_decimal(m: i128, scale: u32) -> String {
    let digits = m.unsigned_abs().to_string();
    let scale = scale as usize;
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    let sign = if m < 0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

#[cold]
fn short() -> String {
    "row ends early".to_string()
}

/// A cursor over a row's bytes.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let s = self
            .b
            .get(self.at..self.at.checked_add(n).ok_or("length overflow")?)
            .ok_or("row ends early")?;
        self.at += n;
        Ok(s)
    }

    #[inline]
    fn byte(&mut self) -> std::result::Result<u8, String> {
        match self.b.get(self.at) {
            Some(&b) => {
                self.at += 1;
                Ok(b)
            }
            None => Err(short()),
        }
    }

    /// bincode's variable-length unsigned integer.
    #[inline]
    fn varint(&mut self) -> std::result::Result<u64, String> {
        let fixed = |r: &mut Self, n: usize| -> std::result::Result<u64, String> {
            let mut buf = [0u8; 8];
            buf[..n].copy_from_slice(r.take(n)?);
            Ok(u64::from_le_bytes(buf))
        };
        match self.byte()? {
            b @ 0..=250 => Ok(u64::from(b)),
            251 => fixed(self, 2),
            252 => fixed(self, 4),
            253 => fixed(self, 8),
            b => Err(format!("varint tag {b} out of range")),
        }
    }

    /// Passes over a varint as [`Reader::varint`] reads it, without
    /// assembling its value.
    #[inline]
    fn skip_varint(&mut self) -> std::result::Result<(), String> {
        let width = match self.byte()? {
            0..=250 => 0,
            251 => 2,
            252 => 4,
            253 => 8,
            b => return Err(format!("varint tag {b} out of range")),
        };
        self.take(width).map(|_| ())
    }

    fn signed(&mut self) -> std::result::Result<i64, String> {
        let z = self.varint()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    /// bincode's variable-length unsigned integer, up to 128 bits.
    fn varint128(&mut self) -> std::result::Result<u128, String> {
        if self.b.get(self.at) == Some(&254) {
            self.at += 1;
            let b: [u8; 16] = self.take(16)?.try_into().map_err(|_| short())?;
            return Ok(u128::from_le_bytes(b));
        }
        Ok(u128::from(self.varint()?))
    }

    /// Text of the row, a length then UTF-8 bytes.
    fn text(&mut self) -> std::result::Result<&'a str, String> {
        utf8(self.body()?)
    }

    /// One value laid out as `layout`; with `needed` false, skipped over
    /// and given as null.
    #[inline]
    fn planned(
        &mut self,
        layout: FieldLayout,
        needed: bool,
    ) -> std::result::Result<ValueRef<'a>, String> {
        Ok(match layout {
            FieldLayout::Bool => match self.byte()? {
                0 => ValueRef::Bool(false),
                1 => ValueRef::Bool(true),
                b => return Err(format!("bad bool {b}")),
            },
            FieldLayout::U8 => ValueRef::UInt(u64::from(self.byte()?)),
            FieldLayout::I8 => ValueRef::Int(i64::from(self.byte()? as i8)),
            FieldLayout::UVar => ValueRef::UInt(self.varint()?),
            FieldLayout::IVar => ValueRef::Int(self.signed()?),
            FieldLayout::F64 => {
                let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| "short f64")?;
                ValueRef::Float(f64::from_le_bytes(b))
            }
            FieldLayout::F32 => {
                let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| "short f32")?;
                ValueRef::Float(f64::from(f32::from_le_bytes(b)))
            }
            FieldLayout::U128 => ValueRef::U128(self.varint128()?),
            FieldLayout::I128 => {
                let z = self.varint128()?;
                ValueRef::I128(((z >> 1) as i128) ^ -((z & 1) as i128))
            }
            FieldLayout::Date | FieldLayout::DateTime | FieldLayout::Decimal if !needed => {
                self.text()?;
                ValueRef::Null
            }
            FieldLayout::Date | FieldLayout::DateTime | FieldLayout::Decimal => {
                text_value(layout, self.text()?)?
            }
            FieldLayout::Text | FieldLayout::Bytes => {
                let b = self.body()?;
                match (layout, needed) {
                    (_, false) => ValueRef::Null,
                    (FieldLayout::Text, true) => ValueRef::Text(utf8(b)?),
                    _ => ValueRef::Bytes(b),
                }
            }
        })
    }

    /// The bytes of a text or byte string: a length, then the bytes.
    #[inline]
    fn body(&mut self) -> std::result::Result<&'a [u8], String> {
        let n = usize::try_from(self.varint()?).map_err(|_| "length overflow")?;
        self.take(n)
    }
}

/// Whether `layout` is stored as a length and then bytes (text, bytes, and
/// the types written as text).
fn is_sized(layout: FieldLayout) -> bool {
    matches!(
        layout,
        FieldLayout::Text
            | FieldLayout::Bytes
            | FieldLayout::Date
            | FieldLayout::DateTime
            | FieldLayout::Decimal
    )
}

/// The text of a row, checked for UTF-8.
#[inline]
fn utf8(b: &[u8]) -> std::result::Result<&str, String> {
    std::str::from_utf8(b).map_err(|_| "text is not UTF-8".to_string())
}

/// The value of a date, date and time or decimal written as text `t`.
fn text_value(layout: FieldLayout, t: &str) -> std::result::Result<ValueRef<'static>, String> {
    Ok(match layout {
        FieldLayout::Date => {
            ValueRef::Date(parse_date(t).ok_or_else(|| format!("bad date {t:?}"))?)
        }
        FieldLayout::DateTime => {
            let (secs, nanos) =
                parse_datetime(t).ok_or_else(|| format!("bad date and time {t:?}"))?;
            ValueRef::DateTime(secs, nanos)
        }
        _ => {
            let (m, scale) = parse_decimal(t).ok_or_else(|| format!("bad decimal {t:?}"))?;
            ValueRef::Decimal(m, scale)
        }
    })
}

/// Where a column's value lies in a row, found by [`locate`]: the bytes
/// after its `Option` tag, and after the length of a value stored with
/// one ([`value_at`] reads them), or null.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Span {
    Null,
    At(usize, usize),
}

/// Finds the columns `plan` needs in `row`, a whole row laid out as
/// `plan` (every column present), into `spans` (one per column; the
/// others are left as they were), without decoding them: no text is
/// checked for UTF-8 and no date parsed. The rest of the row is walked as
/// [`decode_row_refs`] walks it, so a row too short, too long or with a
/// bad tag is an error as there.
///
/// The walk a filter runs on every row of a scan takes a short way on the
/// bytes ([`locate_quickly`]); only a row it cannot place (a corrupt one,
/// or a column it leaves to the reader) is walked again by
/// [`locate_checked`], which names what is wrong.
#[inline]
pub(crate) fn locate(
    plan: &[ColumnPlan],
    row: &[u8],
    spans: &mut [Span],
) -> std::result::Result<(), String> {
    match locate_quickly(plan, row, spans) {
        Some(()) => Ok(()),
        None => locate_checked(plan, row, spans),
    }
}

/// [`locate`] without an account of what is wrong: `None` for a row that
/// does not walk and for the layouts it leaves to [`locate_checked`]
/// (`u128`, `i128`). Where it gives `Some`, the checked walk gives `Ok`
/// with the same spans; it writes the spans the checked walk writes.
#[inline]
fn locate_quickly(plan: &[ColumnPlan], row: &[u8], spans: &mut [Span]) -> Option<()> {
    if plan.len() != spans.len() {
        return None;
    }
    let mut at = 0;
    for (c, span) in plan.iter().zip(spans.iter_mut()) {
        if c.nullable {
            let tag = *row.get(at)?;
            at += 1;
            match tag {
                0 => {
                    *span = Span::Null;
                    continue;
                }
                1 => {}
                _ => return None,
            }
        }
        let (from, to) = match c.layout {
            FieldLayout::UVar | FieldLayout::IVar => (at, varint_at(row, at)?.1),
            // As `is_sized`, spelt out so that the match is one jump.
            FieldLayout::Text
            | FieldLayout::Bytes
            | FieldLayout::Date
            | FieldLayout::DateTime
            | FieldLayout::Decimal => {
                let (n, from) = varint_at(row, at)?;
                (from, from.checked_add(usize::try_from(n).ok()?)?)
            }
            FieldLayout::Bool if *row.get(at)? > 1 => return None,
            FieldLayout::Bool | FieldLayout::U8 | FieldLayout::I8 => (at, at + 1),
            FieldLayout::F32 => (at, at + 4),
            FieldLayout::F64 => (at, at + 8),
            FieldLayout::U128 | FieldLayout::I128 => return None,
        };
        if to > row.len() {
            return None;
        }
        if c.needed {
            *span = Span::At(from, to);
        }
        at = to;
    }
    (at == row.len()).then_some(())
}

/// The bincode varint at `at` of `row` ([`Reader::varint`]) and where it
/// ends; `None` when it does not fit or has a bad tag.
#[inline]
fn varint_at(row: &[u8], at: usize) -> Option<(u64, usize)> {
    let width = match *row.get(at)? {
        b @ 0..=250 => return Some((u64::from(b), at + 1)),
        251 => 2,
        252 => 4,
        253 => 8,
        _ => return None,
    };
    let b = row.get(at + 1..at + 1 + width)?;
    let mut buf = [0u8; 8];
    buf[..width].copy_from_slice(b);
    Some((u64::from_le_bytes(buf), at + 1 + width))
}

/// [`locate`] with what is wrong with a row that does not walk.
#[cold]
fn locate_checked(
    plan: &[ColumnPlan],
    row: &[u8],
    spans: &mut [Span],
) -> std::result::Result<(), String> {
    if plan.len() != spans.len() {
        return Err(format!("{} columns located of {}", spans.len(), plan.len()));
    }
    let mut r = Reader { b: row, at: 0 };
    for (i, (c, span)) in plan.iter().zip(spans.iter_mut()).enumerate() {
        if c.nullable {
            match r.byte()? {
                0 => {
                    *span = Span::Null;
                    continue;
                }
                1 => {}
                t => return Err(format!("column {i}: bad option tag {t}")),
            }
        }
        let from = r.at;
        let from = match c.layout {
            // An integer's first byte gives its width: nothing to decode.
            FieldLayout::UVar | FieldLayout::IVar => {
                r.skip_varint().map_err(|e| format!("column {i}: {e}"))?;
                from
            }
            l if is_sized(l) => {
                let b = r.body().map_err(|e| format!("column {i}: {e}"))?;
                r.at - b.len()
            }
            l => {
                r.planned(l, false)
                    .map_err(|e| format!("column {i}: {e}"))?;
                from
            }
        };
        if c.needed {
            *span = Span::At(from, r.at);
        }
    }
    if r.at != row.len() {
        return Err(format!("{} bytes left over", row.len() - r.at));
    }
    Ok(())
}

/// The value of column `i`, laid out as `layout`, at `span` of `row` (from
/// [`locate`]), decoded and checked as [`decode_row_refs`] would.
pub(crate) fn value_at(
    i: usize,
    layout: FieldLayout,
    row: &[u8],
    span: Span,
) -> std::result::Result<ValueRef<'_>, String> {
    let Span::At(from, to) = span else {
        return Ok(ValueRef::Null);
    };
    let b = row.get(from..to).ok_or_else(short)?;
    let v = match layout {
        FieldLayout::Text => utf8(b).map(ValueRef::Text),
        FieldLayout::Bytes => Ok(ValueRef::Bytes(b)),
        FieldLayout::Date | FieldLayout::DateTime | FieldLayout::Decimal => {
            utf8(b).and_then(|t| text_value(layout, t))
        }
        _ => Reader { b, at: 0 }.planned(layout, true),
    };
    v.map_err(|e| format!("column {i}: {e}"))
}

/// Days since 1970-01-01 of a date as chrono's serde writes it:
/// `[+-]YYYY-MM-DD` (at least four year digits).
pub(crate) fn parse_date(t: &str) -> Option<i32> {
    let (days, rest) = parse_date_prefix(t)?;
    rest.is_empty()
        .then_some(days)
        .and_then(|d| i32::try_from(d).ok())
}

fn parse_date_prefix(t: &str) -> Option<(i64, &str)> {
    let (sign, t) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => (1, t),
    };
    let dash = t.find('-')?;
    if dash < 4 {
        return None;
    }
    let year: i64 = digits(&t[..dash])?;
    let month: u32 = digits(t.get(dash + 1..dash + 3)?)?;
    if t.as_bytes().get(dash + 3) != Some(&b'-') {
        return None;
    }
    let day: u32 = digits(t.get(dash + 4..dash + 6)?)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some((
        crate::value::days_from_civil(sign * year, month, day),
        &t[dash + 6..],
    ))
}

/// Seconds and nanoseconds since 1970-01-01T00:00:00 of a date and time as
/// chrono's serde writes it: a date, `T`, `HH:MM:SS`, an optional fraction
/// of 1 to 9 digits, and an optional `Z`. Second 60 (a leap second) is
/// second 59 with a billion nanoseconds more, as chrono keeps it.
pub(crate) fn parse_datetime(t: &str) -> Option<(i64, u32)> {
    let (days, rest) = parse_date_prefix(t)?;
    let rest = rest.strip_prefix('T')?;
    let rest = rest.strip_suffix('Z').unwrap_or(rest);
    let (hms, frac) = match rest.split_once('.') {
        Some((hms, frac)) => (hms, frac),
        None => (rest, ""),
    };
    let b = hms.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s): (i64, i64, i64) = (
        digits(&hms[0..2])?,
        digits(&hms[3..5])?,
        digits(&hms[6..8])?,
    );
    if h > 23 || m > 59 || s > 60 || frac.len() > 9 || (rest.contains('.') && frac.is_empty()) {
        return None;
    }
    let mut nanos: u32 = if frac.is_empty() { 0 } else { digits(frac)? };
    for _ in frac.len()..9 {
        nanos *= 10;
    }
    let (s, nanos) = if s == 60 {
        (59, nanos + 1_000_000_000)
    } else {
        (s, nanos)
    };
    Some((days.checked_mul(86_400)? + h * 3600 + m * 60 + s, nanos))
}

/// Mantissa and scale of a decimal as rust_decimal writes it: an optional
/// `-`, digits, and an optional `.` with digits.
pub(crate) fn parse_decimal(t: &str) -> Option<(i128, u32)> {
    let (neg, t) = match t.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, t),
    };
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() || (t.contains('.') && frac.is_empty()) {
        return None;
    }
    let m: i128 = digits(&format!("{int}{frac}"))?;
    Some((if neg { -m } else { m }, u32::try_from(frac.len()).ok()?))
}

/// A run of ASCII digits, parsed.
fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Ordering;

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
            any::<i128>().prop_map(Value::I128),
            any::<u128>().prop_map(Value::U128),
            any::<i32>().prop_map(Value::Date),
            (any::<i64>(), 0u32..2_000_000_000).prop_map(|(s, n)| Value::DateTime(s, n)),
            (any::<i128>(), 0u32..40).prop_map(|(m, e)| Value::Decimal(m, e)),
            // Small decimals, where equal values of different scales meet.
            (-1000i128..1000, 0u32..4).prop_map(|(m, e)| Value::Decimal(m, e)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            crate::test_support::proptest_cases(256)
        ))]

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

    /// Columns of every layout `locate_quickly` places or leaves to the
    /// checked walk, nullable or not, needed or not.
    fn any_plan() -> impl Strategy<Value = Vec<ColumnPlan>> {
        let layout = prop::sample::select(vec![
            FieldLayout::Bool,
            FieldLayout::U8,
            FieldLayout::I8,
            FieldLayout::UVar,
            FieldLayout::IVar,
            FieldLayout::U128,
            FieldLayout::I128,
            FieldLayout::F32,
            FieldLayout::F64,
            FieldLayout::Text,
            FieldLayout::Bytes,
            FieldLayout::Date,
        ]);
        let column =
            (layout, any::<bool>(), any::<bool>()).prop_map(|(layout, nullable, needed)| {
                ColumnPlan {
                    layout,
                    nullable,
                    needed,
                }
            });
        proptest::collection::vec(column, 0..5)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            crate::test_support::proptest_cases(4000)
        ))]

        /// The short way of `locate` places a row exactly as the checked
        /// walk does, and gives up on every row the checked walk refuses.
        /// Rows are runs of pieces that are values of some layout (option
        /// tags, varints of each width, text) or are not (bad tags, cut
        /// varints), so that most plans meet rows that walk and rows that
        /// almost do.
        #[test]
        fn locating_quickly_agrees_with_the_checked_walk(
            plan in any_plan(),
            pieces in proptest::collection::vec(
                prop::sample::select(vec![
                    vec![0u8],
                    vec![1],
                    vec![2],
                    vec![250],
                    vec![251, 7, 0],
                    vec![252, 1, 0, 0, 0],
                    vec![253, 0, 0, 0, 0, 0, 0, 0, 1],
                    vec![254],
                    vec![255],
                    vec![251, 7],
                    vec![3, b'a', b'b', b'c'],
                    vec![0, 0, 0, 0],
                    vec![2, 0xFF, 0xFE],
                ]),
                0..6,
            ),
        ) {
            let row = pieces.concat();
            let mut quick = vec![Span::Null; plan.len()];
            let mut checked = vec![Span::At(7, 7); plan.len()];
            let q = locate_quickly(&plan, &row, &mut quick);
            let c = locate_checked(&plan, &row, &mut checked);
            if q.is_some() {
                prop_assert!(c.is_ok());
                for (i, p) in plan.iter().enumerate() {
                    if p.needed || checked[i] == Span::Null {
                        prop_assert_eq!(quick[i], checked[i]);
                    }
                }
            }
            let some_layout_left = plan.iter().any(|p| matches!(p.layout, FieldLayout::U128 | FieldLayout::I128));
            if c.is_ok() && !some_layout_left {
                prop_assert!(q.is_some());
            }
        }
    }

    #[test]
    fn row_values_written_by_a_migration_read_back() {
        let cases: Vec<(&str, bool, Value)> = vec![
            ("bool", false, Value::Bool(true)),
            ("u8", false, Value::UInt(200)),
            ("i8", false, Value::Int(-3)),
            ("u32", true, Value::UInt(70_000)),
            ("i64", false, Value::Int(-1 << 40)),
            ("u128", false, Value::U128(u128::MAX)),
            ("i128", false, Value::I128(-5)),
            ("f64", false, Value::Float(2.5)),
            ("f32", false, Value::Float(0.5)),
            ("String", true, Value::Text("héllo".into())),
            ("String", true, Value::Null),
            ("Vec<u8>", false, Value::Bytes(vec![0, 1, 2])),
            ("NaiveDate", false, Value::Date(-800_000)),
            ("NaiveDate", false, Value::Date(19_000)),
            (
                "NaiveDateTime",
                false,
                Value::DateTime(1_700_000_000, 5_000),
            ),
            ("DateTime<Utc>", false, Value::DateTime(-1, 1_250_000_000)),
            ("Decimal", false, Value::Decimal(-1250, 2)),
            ("Decimal", false, Value::Decimal(7, 3)),
        ];
        for (storage, nullable, v) in cases {
            let mut row = Vec::new();
            encode_row_value(storage, nullable, &v, &mut row).unwrap();
            let plan = [ColumnPlan::new("c", storage, false, true)
                .unwrap()
                .nullable(nullable)];
            let back = decode_row_values(&plan, &row).unwrap();
            assert_eq!(back, vec![v.clone()], "{storage}");
            let layout = RowLayout::new(plan.to_vec(), 1, vec![Vec::new()], vec![0]).unwrap();
            assert_eq!(layout.spans(&row).unwrap(), vec![0..row.len()]);
        }
        assert!(encode_row_value("u8", false, &Value::UInt(300), &mut Vec::new()).is_err());
        assert!(encode_row_value("i64", false, &Value::Text("x".into()), &mut Vec::new()).is_err());
    }

    #[test]
    fn a_row_layout_reads_old_short_rows_and_other_orders() {
        let col = |ty: &str, nullable: bool| {
            ColumnPlan::new("c", ty, false, true)
                .unwrap()
                .nullable(nullable)
        };
        // Stored: id i64, title String, then appended views Option<i64>
        // and score i32 (default 7); declared: id, views, title, score.
        let plan = vec![
            col("i64", false),
            col("String", false),
            col("i64", true),
            col("i32", false),
        ];
        let mut seven = Vec::new();
        encode_row_value("i32", false, &Value::Int(7), &mut seven).unwrap();
        let layout = RowLayout::new(
            plan,
            2,
            vec![vec![], vec![], vec![0], seven],
            vec![0, 2, 1, 3],
        )
        .unwrap();
        let mut old = Vec::new();
        encode_row_value("i64", false, &Value::Int(5), &mut old).unwrap();
        encode_row_value("String", false, &Value::Text("hi".into()), &mut old).unwrap();
        let values = layout.values(&old).unwrap();
        assert_eq!(
            values,
            vec![
                Value::Int(5),
                Value::Text("hi".into()),
                Value::Null,
                Value::Int(7)
            ]
        );
        let mut refs = Vec::new();
        layout
            .refs(&layout.stored_plan(|_| true), &old, &mut refs)
            .unwrap();
        let declared: Vec<Value> = refs.iter().map(ValueRef::to_value).collect();
        assert_eq!(
            declared,
            vec![
                Value::Int(5),
                Value::Null,
                Value::Text("hi".into()),
                Value::Int(7)
            ]
        );
        // Declared order and back: what a typed read sees and a write stores.
        let bytes = layout.declared_bytes(&old).unwrap();
        let mut whole = old.clone();
        whole.extend_from_slice(&[0, 14]);
        assert_eq!(layout.stored_bytes(&bytes).unwrap(), whole);
        assert_eq!(layout.spans(&whole).unwrap().len(), 4);
        // A row that ends before min_columns, or inside a column, is corrupt.
        assert!(layout.values(&old[..1]).is_err());
        assert!(layout.values(&whole[..whole.len() - 1]).is_ok());
        assert!(layout.values(&old[..old.len() - 1]).is_err());
        // A fill must be one whole value.
        let bad = RowLayout::new(
            vec![col("i64", false), col("i64", true)],
            1,
            vec![vec![], vec![]],
            vec![0, 1],
        );
        assert!(bad.is_err());
    }

    #[test]
    fn decimals_of_one_value_share_a_key() {
        let k = |m, e| key_of(&Value::Decimal(m, e));
        assert_eq!(k(15, 1), k(150, 2));
        assert_eq!(k(-15, 1), k(-1_500_000, 6));
        assert_eq!(k(0, 0), k(0, 9));
        assert!(k(-100, 0) < k(-2, 0) && k(-2, 0) < k(-15, 1) && k(-15, 1) < k(0, 0));
        assert!(k(0, 0) < k(1, 28) && k(1, 28) < k(12, 1) && k(12, 1) < k(125, 2));
        assert_eq!(
            decode_key(&k(150, 2)).map(|(v, _)| v),
            Some(Value::Decimal(15, 1))
        );
    }

    #[test]
    fn chrono_text_parses() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1969-12-31"), Some(-1));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(
            parse_date("+12345-06-07").map(|d| d > 3_000_000),
            Some(true)
        );
        assert!(parse_date("-0044-03-15").is_some_and(|d| d < -700_000));
        assert_eq!(parse_datetime("1970-01-01T00:00:01Z"), Some((1, 0)));
        assert_eq!(
            parse_datetime("1970-01-01T00:00:00.5"),
            Some((0, 500_000_000))
        );
        assert_eq!(
            parse_datetime("1970-01-01T00:00:00.000001Z"),
            Some((0, 1_000))
        );
        assert_eq!(
            parse_datetime("1969-12-31T23:59:60.25Z"),
            Some((-1, 1_250_000_000))
        );
        for bad in [
            "1970-1-01",
            "1970-01-01T00:00",
            "1970-01-01T24:00:00",
            "x",
            "1970-01-01T00:00:00.",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
        assert_eq!(parse_decimal("-12.50"), Some((-1250, 2)));
        assert_eq!(parse_decimal("7"), Some((7, 0)));
        assert_eq!(parse_decimal("1."), None);
        assert_eq!(parse_decimal(".5"), None);
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
