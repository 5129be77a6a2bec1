//! Fuzzing entry point: **not part of the API**, hidden from the docs, and
//! free to change with any release.
//!
//! The fuzz target `orm_decode` in `fuzz/` and the regression test
//! `orm/tests/fuzz_regressions.rs` both call [`decode`], so that every input
//! a fuzzer ever found is re-run by the ordinary `cargo test`. It takes
//! arbitrary bytes and panics only on a bug: a panic inside a decoder, or
//! two decoders of the same bytes that disagree.

use crate::layout::{self, decode_key, decode_model, decode_row_refs, decode_row_values, key_of};
use crate::model::Model;
use crate::schema::StoredSchema;
use crate::value::{Value, ValueRef};
use serde::{Deserialize, Serialize};

/// A model with a column of every type the ORM stores, each plain and
/// nullable where that is allowed.
#[derive(crate::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "fuzz_all_types")]
pub struct AllTypes {
    /// The primary key.
    #[strata(primary_key)]
    pub id: i64,
    /// Each other column type.
    pub a_bool: bool,
    #[allow(missing_docs)]
    pub a_u8: u8,
    #[allow(missing_docs)]
    pub a_i8: i8,
    #[allow(missing_docs)]
    pub a_u16: u16,
    #[allow(missing_docs)]
    pub a_i16: i16,
    #[allow(missing_docs)]
    pub a_u32: u32,
    #[allow(missing_docs)]
    #[strata(index)]
    pub a_i32: i32,
    #[allow(missing_docs)]
    pub a_u64: u64,
    #[allow(missing_docs)]
    pub a_f64: f64,
    #[allow(missing_docs)]
    #[strata(unique, max_len = 64)]
    pub a_string: String,
    #[allow(missing_docs)]
    pub a_bytes: Vec<u8>,
    #[allow(missing_docs)]
    pub maybe_i64: Option<i64>,
    #[allow(missing_docs)]
    pub maybe_f64: Option<f64>,
    #[allow(missing_docs)]
    pub maybe_string: Option<String>,
    #[allow(missing_docs)]
    pub maybe_bytes: Option<Vec<u8>>,
    #[allow(missing_docs)]
    pub maybe_bool: Option<bool>,
}

/// Whether two values are the same, NaN equal to NaN.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// Fuzz target `orm_decode`. The first byte picks the decoder:
///
/// * 0: the rest is a stored schema; decoded, compared with [`AllTypes`]'s,
///   and if it decodes, the bytes after it are a row decoded against it;
/// * 1: the rest is a row of [`AllTypes`], decoded three ways (serde, the
///   integrity check's decoder driven by the stored schema, and the borrowed
///   decoder of filters driven by the model's columns), which must agree;
/// * 2: the rest is a sequence of encoded key values, decoded one after
///   another; each must re-encode to its own bytes (floats aside, whose
///   encoding folds `-0.0` and NaNs);
/// * anything else: the key decoders on the whole rest.
pub fn decode(input: &[u8]) {
    let Some((&sel, rest)) = input.split_first() else {
        return;
    };
    match sel % 4 {
        0 => fuzz_schema(rest),
        1 => fuzz_row(rest),
        2 => fuzz_keys(rest),
        _ => {
            let _ = layout::decode_whole_key(rest, "fuzz");
            let _ = decode_key(rest);
        }
    }
}

/// Selector 0: a stored schema, then a row decoded against it.
fn fuzz_schema(b: &[u8]) {
    // A length-prefixed schema, then a row for it.
    let n = b
        .first()
        .map_or(0, |&n| usize::from(n) * 4)
        .min(b.len().saturating_sub(1));
    let (schema_bytes, row) = if b.is_empty() {
        (&b[..0], &b[..0])
    } else {
        b[1..].split_at(n)
    };
    for bytes in [schema_bytes, &b[1.min(b.len())..]] {
        let Ok(s) = StoredSchema::decode(bytes, "fuzz") else {
            continue;
        };
        let declared = StoredSchema::of::<AllTypes>();
        let _ = s.diff(&declared, None);
        let _ = declared.diff(&s, None);
        let _ = s.layout_for(&declared);
        let _ = s.key_column();
        for c in &s.columns {
            let _ = c.has_index();
            let _ = layout::index_table(&s.table, &c.name);
        }
        for (through, _) in &s.associations {
            let _ = layout::reverse_table(through);
        }
        if let Ok(layout) = s.layout() {
            let _ = layout.values(row);
            let _ = layout.spans(row);
        }
        // A round trip of what decoded.
        let again = StoredSchema::decode(&s.encode(), "fuzz");
        assert_eq!(again.ok().as_ref(), Some(&s), "schema does not round-trip");
    }
}

/// Selector 1: a row of [`AllTypes`], whose three decoders must agree.
fn fuzz_row(b: &[u8]) {
    let typed = decode_model::<AllTypes>(None, b);
    let stored_plan = StoredSchema::of::<AllTypes>()
        .row_plan()
        .expect("every column type of AllTypes has a layout");
    let untyped = decode_row_values(&stored_plan, b);
    let plan = layout::plan_columns(AllTypes::COLUMNS, |_| true).expect("plan AllTypes");
    let mut refs = Vec::new();
    let borrowed = decode_row_refs(&plan, b, &mut refs);
    assert_eq!(
        untyped.is_ok(),
        borrowed.is_ok(),
        "the owned and borrowed row decoders disagree: {untyped:?} / {borrowed:?}"
    );
    if let Ok(m) = &typed {
        let values = untyped.unwrap_or_else(|e| {
            panic!("serde decodes the row but the schema-driven decoder does not: {e}")
        });
        for (i, v) in values.iter().enumerate() {
            assert!(
                same(&m.value(i), v),
                "column {i}: {:?} vs {v:?}",
                m.value(i)
            );
            assert!(
                same(&refs[i].to_value(), v),
                "column {i}: borrowed {:?}",
                refs[i]
            );
        }
        // What decoded encodes and decodes to itself.
        let bytes = layout::encode_model(None, m).expect("encode a decoded row");
        let again = decode_model::<AllTypes>(None, &bytes).expect("decode an encoded row");
        for i in 0..AllTypes::COLUMNS.len() {
            assert!(
                same(&again.value(i), &m.value(i)),
                "column {i} does not round-trip"
            );
        }
        // The row's key and index entries encode.
        let _ = key_of(&m.key_value());
    } else if let Ok(values) = untyped {
        // The schema-driven decoder may accept what serde refuses only
        // where serde is stricter: text that is not UTF-8 is refused by
        // both, so nothing but a wider integer remains.
        assert_eq!(values.len(), AllTypes::COLUMNS.len());
    }
}

/// Selector 2: encoded key values, each re-encoding to its own bytes.
fn fuzz_keys(mut b: &[u8]) {
    while !b.is_empty() {
        let Some((v, n)) = decode_key(b) else {
            return;
        };
        assert!(
            n > 0 && n <= b.len(),
            "decode_key consumed {n} of {}",
            b.len()
        );
        if !matches!(v, Value::Float(_)) {
            assert_eq!(
                key_of(&v),
                &b[..n],
                "key value {v:?} does not re-encode to its bytes"
            );
        }
        let as_ref: ValueRef<'_> = v.as_ref();
        assert!(same(&as_ref.to_value(), &v));
        b = &b[n..];
    }
}

/// The seed corpus of fuzz target `orm_decode`: a few valid inputs of each
/// kind, by name.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let row = AllTypes {
        id: -5,
        a_bool: true,
        a_u8: 200,
        a_i8: -3,
        a_u16: 60000,
        a_i16: -300,
        a_u32: 70000,
        a_i32: -70000,
        a_u64: u64::MAX,
        a_f64: 1.5,
        a_string: "h\u{e9}llo".into(),
        a_bytes: vec![0, 1, 255],
        maybe_i64: Some(i64::MIN),
        maybe_f64: None,
        maybe_string: Some(String::new()),
        maybe_bytes: None,
        maybe_bool: Some(false),
    };
    let row_bytes = layout::encode_model(None, &row).expect("encode");
    let schema = StoredSchema::of::<AllTypes>().encode();
    let with = |sel: u8, b: &[u8]| {
        let mut v = vec![sel];
        v.extend_from_slice(b);
        v
    };
    let mut schema_then_row = vec![0u8, schema.len().div_ceil(4) as u8];
    let mut padded = schema.clone();
    padded.resize(schema.len().div_ceil(4) * 4, 0);
    schema_then_row.extend_from_slice(&padded);
    schema_then_row.extend_from_slice(&row_bytes);
    let mut keys = Vec::new();
    for v in [
        Value::Null,
        Value::Bool(true),
        Value::Int(-7),
        Value::UInt(9),
        Value::Float(-2.5),
        Value::Text("a\0b".into()),
        Value::Bytes(vec![0, 0, 1]),
    ] {
        keys.extend_from_slice(&key_of(&v));
    }
    vec![
        ("schema", with(0, &schema)),
        ("schema-and-row", schema_then_row),
        ("row", with(1, &row_bytes)),
        ("keys", with(2, &keys)),
        ("one-key", with(3, &key_of(&Value::Text("x".into())))),
    ]
}
