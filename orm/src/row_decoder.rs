//! The row decoder: serde's `Deserializer` over the bytes of a stored row,
//! which `layout::decode_model` builds a model with. The bytes are
//! bincode 2's (`bincode::config::standard()`), as `layout.rs` (ROWS)
//! lays them out; rows are still written by bincode.
//!
//! WHY NOT BINCODE'S OWN
//!
//! Reading a row is the commonest thing the ORM does, and most of its cost
//! after the engine's read. bincode's serde decoder reads a `String` into a
//! zeroed `Vec<u8>` the bytes are then copied over (a `calloc` that
//! clears it, then a `memcpy`), and counts every byte it reads against its
//! limit. This one checks the text's UTF-8 where it lies and copies it
//! once into the `String`, and needs no limit for text and bytes: a length
//! past the row's end is an error before anything is allocated. Lengths
//! of sequences and maps, whose elements may take no bytes, are bounded by
//! `DECODE_LIMIT`.
//!
//! SAME BYTES, SAME ANSWERS
//!
//! It accepts exactly the encodings bincode's decoder accepts, and refuses
//! the same ones (a boolean or an option tag other than 0 and 1, a varint
//! marker wider than its type, text that is not UTF-8, a `char` that is
//! not one, a row cut short), so a row decodes to the same value, or to
//! an error, through either: `tests` below hold the two to each other on
//! every column type and on arbitrary bytes. One difference: bincode
//! refuses a sequence whose elements would take more than `DECODE_LIMIT`
//! in memory before it reads them (five million `i64`s, 40 MB, in a 5 MB
//! row); this decoder reads them when the row holds them. Like bincode's,
//! it tells serde it is not human-readable (uuid and chrono read their
//! compact forms) and refuses `deserialize_any`.
//!
//! | serde type | bytes |
//! | --- | --- |
//! | `bool` | `00` or `01` |
//! | `u8`, `i8` | 1 byte |
//! | `u16` ... `u128` | varint: below `FB` the value; `FB` u16, `FC` u32, `FD` u64, `FE` u128, little-endian, no wider than the type |
//! | `i16` ... `i128` | zigzag (0, -1, 1, -2, ...), then a varint |
//! | `f32`, `f64` | 4 or 8 bytes, little-endian |
//! | `char` | its UTF-8 bytes |
//! | `str`, bytes | length (varint), then the bytes |
//! | `Option` | `00`, or `01` then the value |
//! | unit, unit struct | nothing |
//! | newtype struct | the value |
//! | seq, map | length (varint), then the elements (keys and values in turn) |
//! | tuple, struct | the fields in order |
//! | enum | variant index (u32 varint), then the variant's fields |

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::fmt;

/// Why a row does not decode.
#[derive(Debug)]
pub(crate) struct DecodeError(String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, DecodeError>;

fn fail<T>(why: impl Into<String>) -> Result<T> {
    Err(DecodeError(why.into()))
}

/// The largest row or schema the ORM decodes through bincode (a bound on
/// what hostile length prefixes can make it allocate; `layout.rs`), and
/// the most elements of a sequence or map this decoder reads.
pub(crate) const DECODE_LIMIT: usize = 32 << 20;

/// The varint markers: a u16, u32, u64 or u128 follows.
const U16: u8 = 0xFB;
const U32: u8 = 0xFC;
const U64: u8 = 0xFD;
const U128: u8 = 0xFE;

/// The decoder of one row: the bytes not read yet.
pub(crate) struct RowDecoder<'de> {
    bytes: &'de [u8],
}

impl<'de> RowDecoder<'de> {
    pub(crate) fn new(bytes: &'de [u8]) -> RowDecoder<'de> {
        RowDecoder { bytes }
    }

    /// How many bytes are left unread.
    pub(crate) fn left(&self) -> usize {
        self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'de [u8]> {
        if n > self.bytes.len() {
            return fail(format!("the row ends {} bytes early", n - self.bytes.len()));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// An unsigned varint whose marker is at most `widest` (the marker of
    /// the widest integer the type holds).
    #[inline]
    fn uvar(&mut self, widest: u8) -> Result<u128> {
        let b = self.byte()?;
        if b < U16 {
            return Ok(u128::from(b));
        }
        if b > widest {
            return fail(format!("varint marker {b:#04x} too wide for its type"));
        }
        Ok(match b {
            U16 => u128::from(u16::from_le_bytes(self.array()?)),
            U32 => u128::from(u32::from_le_bytes(self.array()?)),
            U64 => u128::from(u64::from_le_bytes(self.array()?)),
            _ => u128::from_le_bytes(self.array()?),
        })
    }

    /// A zigzag-encoded signed varint, as [`RowDecoder::uvar`].
    fn ivar(&mut self, widest: u8) -> Result<i128> {
        let n = self.uvar(widest)?;
        let half = (n >> 1) as i128;
        Ok(if n & 1 == 0 { half } else { !half })
    }

    /// A length: a u64 varint that fits a `usize`.
    fn len(&mut self) -> Result<usize> {
        usize::try_from(self.uvar(U64)?).or_else(|_| fail("a length past usize"))
    }

    /// A length of a sequence or map, bounded: its elements may take no
    /// bytes at all.
    fn count(&mut self) -> Result<usize> {
        let n = self.len()?;
        if n > DECODE_LIMIT {
            return fail(format!("{n} elements: more than the decoder's limit"));
        }
        Ok(n)
    }

    fn str(&mut self) -> Result<&'de str> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).or_else(|e| fail(format!("text is not UTF-8: {e}")))
    }

    fn bytes(&mut self) -> Result<&'de [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    /// An option's or a boolean's byte, 0 or 1.
    fn flag(&mut self, what: &str) -> Result<bool> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => fail(format!("{what} byte {b:#04x}, not 0 or 1")),
        }
    }

    fn char(&mut self) -> Result<char> {
        let first = *self
            .bytes
            .first()
            .ok_or_else(|| DecodeError("the row ends early".into()))?;
        let width = match first {
            0x00..=0x7F => 1,
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return fail(format!("char starting {first:#04x}")),
        };
        let bytes = self.take(width)?;
        std::str::from_utf8(bytes)
            .ok()
            .and_then(|s| s.chars().next())
            .ok_or_else(|| DecodeError(format!("char bytes {bytes:02x?}")))
    }
}

/// `n` as an integer of type `T`. It always fits: the varint's marker
/// was bounded by the type's width.
fn fit<T: TryFrom<i128>>(n: i128) -> Result<T> {
    T::try_from(n).or_else(|_| fail("an integer out of its type's range"))
}

macro_rules! unsigned {
    ($method:ident, $visit:ident, $ty:ty, $widest:expr) => {
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            let n = self.uvar($widest)?;
            v.$visit(<$ty>::try_from(n).or_else(|_| fail("an integer out of its type's range"))?)
        }
    };
}

macro_rules! signed {
    ($method:ident, $visit:ident, $ty:ty, $widest:expr) => {
        fn $method<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
            let n = self.ivar($widest)?;
            v.$visit(fit::<$ty>(n)?)
        }
    };
}

impl<'de> de::Deserializer<'de> for &mut RowDecoder<'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        fail("a row names no types: deserialize_any is not supported")
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_bool(self.flag("bool")?)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_i8(self.byte()? as i8)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_u8(self.byte()?)
    }

    unsigned!(deserialize_u16, visit_u16, u16, U16);
    unsigned!(deserialize_u32, visit_u32, u32, U32);
    unsigned!(deserialize_u64, visit_u64, u64, U64);
    unsigned!(deserialize_u128, visit_u128, u128, U128);
    signed!(deserialize_i16, visit_i16, i16, U16);
    signed!(deserialize_i32, visit_i32, i32, U32);
    signed!(deserialize_i64, visit_i64, i64, U64);
    signed!(deserialize_i128, visit_i128, i128, U128);

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_f32(f32::from_le_bytes(self.array()?))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_f64(f64::from_le_bytes(self.array()?))
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_char(self.char()?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_borrowed_str(self.str()?)
    }

    /// The text copied once, from the row, into the `String` the visitor
    /// takes.
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_string(self.str()?.to_owned())
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_borrowed_bytes(self.bytes()?)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_byte_buf(self.bytes()?.to_vec())
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        if self.flag("option")? {
            v.visit_some(self)
        } else {
            v.visit_none()
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        v.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> Result<V::Value> {
        v.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let len = self.count()?;
        v.visit_seq(Elements { de: self, len })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value> {
        v.visit_seq(Elements { de: self, len })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value> {
        v.visit_seq(Elements { de: self, len })
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value> {
        let len = self.count()?;
        v.visit_map(Elements { de: self, len })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        v.visit_seq(Elements {
            de: self,
            len: fields.len(),
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        v.visit_enum(self)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        fail("a row names no fields: deserialize_identifier is not supported")
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        fail("a row cannot skip a value: deserialize_ignored_any is not supported")
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

/// The elements of a sequence, tuple, struct or map: `len` of them left.
struct Elements<'a, 'de> {
    de: &'a mut RowDecoder<'de>,
    len: usize,
}

impl<'de> Elements<'_, 'de> {
    /// The next element (of a map, the next key), if any is left.
    fn next<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.len == 0 {
            return Ok(None);
        }
        self.len -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }
}

impl<'de> de::SeqAccess<'de> for Elements<'_, 'de> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        self.next(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len)
    }
}

impl<'de> de::MapAccess<'de> for Elements<'_, 'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        self.next(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len)
    }
}

impl<'de> de::EnumAccess<'de> for &mut RowDecoder<'de> {
    type Error = DecodeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let index = u32::try_from(self.uvar(U32)?).or_else(|_| fail("a variant past u32"))?;
        let value = seed.deserialize(index.into_deserializer())?;
        Ok((value, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut RowDecoder<'de> {
    type Error = DecodeError;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value> {
        v.visit_seq(Elements { de: self, len })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value> {
        v.visit_seq(Elements {
            de: self,
            len: fields.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{DECODE_LIMIT, RowDecoder};
    use proptest::prelude::*;
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    enum Shape {
        Empty,
        Round(f64),
        Box { w: u32, h: i16 },
        Pair(i8, String),
    }

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    struct Unit;

    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    struct Wrapped(u64);

    /// Every kind of value serde and the column types write.
    #[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
    struct Row {
        flag: bool,
        a: u8,
        b: i8,
        c: u16,
        d: i16,
        e: u32,
        f: i32,
        g: u64,
        h: i64,
        i: u128,
        j: i128,
        k: f32,
        l: f64,
        m: char,
        text: String,
        bytes: Vec<u8>,
        maybe: Option<String>,
        number: Option<i64>,
        shape: Shape,
        pair: (i32, String),
        map: BTreeMap<String, i64>,
        unit: Unit,
        wrapped: Wrapped,
        blob: Blob,
    }

    /// Bytes as serde's bytes (as uuid writes itself), not a sequence.
    #[derive(Debug, Clone, PartialEq)]
    struct Blob(Vec<u8>);

    impl Serialize for Blob {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }

    impl<'de> Deserialize<'de> for Blob {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Blob, D::Error> {
            struct Bytes;
            impl serde::de::Visitor<'_> for Bytes {
                type Value = Blob;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, b: &[u8]) -> Result<Blob, E> {
                    Ok(Blob(b.to_vec()))
                }
                fn visit_byte_buf<E>(self, b: Vec<u8>) -> Result<Blob, E> {
                    Ok(Blob(b))
                }
            }
            d.deserialize_byte_buf(Bytes)
        }
    }

    fn shape() -> impl Strategy<Value = Shape> {
        prop_oneof![
            Just(Shape::Empty),
            any::<f64>().prop_map(Shape::Round),
            (any::<u32>(), any::<i16>()).prop_map(|(w, h)| Shape::Box { w, h }),
            (any::<i8>(), ".{0,4}").prop_map(|(a, b)| Shape::Pair(a, b)),
        ]
    }

    prop_compose! {
        fn row()(
            (flag, a, b, c, d, e, f, g) in (any::<bool>(), any::<u8>(), any::<i8>(), any::<u16>(), any::<i16>(), any::<u32>(), any::<i32>(), any::<u64>()),
            (h, i, j, k, l, m) in (any::<i64>(), any::<u128>(), any::<i128>(), any::<f32>(), any::<f64>(), any::<char>()),
            (text, bytes, maybe, number) in (".{0,300}", proptest::collection::vec(any::<u8>(), 0..300), proptest::option::of(".{0,8}"), proptest::option::of(any::<i64>())),
            (shape, pair, map, wrapped, blob) in (shape(), (any::<i32>(), ".{0,4}"), proptest::collection::btree_map(".{0,4}", any::<i64>(), 0..4), any::<u64>(), proptest::collection::vec(any::<u8>(), 0..20)),
        ) -> Row {
            Row { flag, a, b, c, d, e, f, g, h, i, j, k, l, m, text, bytes, maybe, number, shape, pair, map, unit: Unit, wrapped: Wrapped(wrapped), blob: Blob(blob) }
        }
    }

    fn bincode_config() -> impl bincode::config::Config {
        bincode::config::standard().with_limit::<DECODE_LIMIT>()
    }

    /// What bincode's decoder and the row decoder make of `bytes`: the
    /// value and the bytes used, or that it failed.
    fn both<T: for<'de> Deserialize<'de> + std::fmt::Debug>(
        bytes: &[u8],
    ) -> (Option<String>, Option<String>) {
        let theirs = bincode::serde::decode_from_slice::<T, _>(bytes, bincode_config())
            .ok()
            .map(|(v, used)| format!("{v:?} {used}"));
        let mut de = RowDecoder::new(bytes);
        let ours = T::deserialize(&mut de)
            .ok()
            .map(|v| format!("{v:?} {}", bytes.len() - de.left()));
        (theirs, ours)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            crate::test_support::proptest_cases(256)
        ))]

        #[test]
        fn rows_decode_as_bincode_decodes_them(r in row()) {
            let bytes = bincode::serde::encode_to_vec(&r, bincode_config()).unwrap();
            let (theirs, ours) = both::<Row>(&bytes);
            prop_assert!(ours.is_some());
            prop_assert_eq!(theirs, ours);
        }

        #[test]
        fn damaged_rows_fail_or_decode_as_bincode_does(
            r in row(),
            at in any::<prop::sample::Index>(),
            flip in 1u8..,
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = bincode::serde::encode_to_vec(&r, bincode_config()).unwrap();
            let i = at.index(bytes.len());
            bytes[i] ^= flip;
            let (theirs, ours) = both::<Row>(&bytes);
            prop_assert_eq!(theirs, ours);
            bytes.truncate(cut.index(bytes.len()));
            let (theirs, ours) = both::<Row>(&bytes);
            prop_assert_eq!(theirs, ours);
        }

        #[test]
        fn arbitrary_bytes_fail_or_decode_as_bincode_does(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let (theirs, ours) = both::<(u16, i32, Option<bool>, char, String, Shape, u128, Blob)>(&bytes);
            prop_assert_eq!(theirs, ours);
        }
    }
}
