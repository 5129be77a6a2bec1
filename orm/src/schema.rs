//! The schema of every model, as stored in the file, and the decoding of
//! rows without their Rust type.
//!
//! The table `__strata_schema` maps a model's table name to its
//! [`StoredSchema`] (bincode). A model is checked against it the first
//! time a process uses the model: a difference in any column (name, type,
//! nullability, key, uniqueness, index, length limit, foreign key) is a
//! [`Error::SchemaMismatch`] naming the model and the field. The stored
//! schemas also let the ORM act on tables whose Rust types it does not
//! have at hand: refuse to delete a parent that rows of some other table
//! still refer to, remove many-to-many links, and check every index.
//!
//! TABLES
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | `<table>` | primary key | the row (serde + bincode, standard config) |
//! | `<table>#<column>`, unique | column value | primary key |
//! | `<table>#<column>`, not unique | column value, primary key | empty |
//! | `<through>` | owner key, target key | empty |
//! | `<through>#rev` | target key, owner key | empty |
//!
//! Keys use the order-preserving encoding of `value.rs`. A unique index
//! leaves nulls out (any number of rows may be null); other indexes
//! include them.

use crate::error::{Error, Result};
use crate::model::Model;
use crate::value::{ColumnKind, Value, ValueRef};
use serde::{Deserialize, Serialize};

/// The table holding the stored schemas.
pub(crate) const SCHEMA_TABLE: &str = "__strata_schema";

/// Version of the [`StoredSchema`] encoding.
const SCHEMA_VERSION: u32 = 1;

/// The largest row or schema the ORM decodes (a bound on what hostile
/// length prefixes can make the decoder allocate).
pub(crate) const DECODE_LIMIT: usize = 32 << 20;

pub(crate) fn bincode_config() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<DECODE_LIMIT>,
> {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// One column, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredColumn {
    pub name: String,
    pub type_name: String,
    pub kind: ColumnKind,
    pub nullable: bool,
    pub primary_key: bool,
    pub unique: bool,
    pub index: bool,
    pub max_len: Option<u64>,
    pub foreign_key: Option<String>,
}

impl StoredColumn {
    pub(crate) fn has_index(&self) -> bool {
        !self.primary_key && (self.unique || self.index || self.foreign_key.is_some())
    }
}

/// A model's schema, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredSchema {
    pub version: u32,
    pub model: String,
    pub table: String,
    pub columns: Vec<StoredColumn>,
    /// (through table, target table) of the associations it owns.
    pub associations: Vec<(String, String)>,
}

impl StoredSchema {
    /// The schema model `M` declares.
    pub(crate) fn of<M: Model>() -> StoredSchema {
        StoredSchema {
            version: SCHEMA_VERSION,
            model: M::NAME.to_string(),
            table: M::TABLE.to_string(),
            columns: M::COLUMNS
                .iter()
                .map(|c| StoredColumn {
                    name: c.name.to_string(),
                    type_name: c.type_name.to_string(),
                    kind: c.kind,
                    nullable: c.nullable,
                    primary_key: c.primary_key,
                    unique: c.unique,
                    index: c.index,
                    max_len: c.max_len.map(|n| n as u64),
                    foreign_key: c.foreign_key.map(str::to_string),
                })
                .collect(),
            associations: M::ASSOCIATIONS
                .iter()
                .map(|a| (a.through.to_string(), a.target.to_string()))
                .collect(),
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        bincode::serde::encode_to_vec(self, bincode_config()).unwrap_or_default()
    }

    pub(crate) fn decode(bytes: &[u8], table: &str) -> Result<StoredSchema> {
        let bad = |detail: String| Error::Corrupt {
            table: SCHEMA_TABLE.to_string(),
            detail: format!("schema of {table}: {detail}"),
        };
        let (s, _): (StoredSchema, usize) =
            bincode::serde::decode_from_slice(bytes, bincode_config())
                .map_err(|e| bad(e.to_string()))?;
        if s.version != SCHEMA_VERSION {
            return Err(bad(format!(
                "schema version {} is not {SCHEMA_VERSION}",
                s.version
            )));
        }
        if s.columns.iter().filter(|c| c.primary_key).count() != 1 {
            return Err(bad("not exactly one primary key".into()));
        }
        Ok(s)
    }

    /// The first difference between the stored columns and `declared`,
    /// as a schema-mismatch error.
    pub(crate) fn compare(&self, declared: &StoredSchema) -> Result<()> {
        let mismatch = |field: &str, detail: String| Error::SchemaMismatch {
            model: declared.model.clone(),
            field: field.to_string(),
            detail,
        };
        for (i, d) in declared.columns.iter().enumerate() {
            let Some(s) = self.columns.iter().find(|s| s.name == d.name) else {
                return Err(mismatch(
                    &d.name,
                    "the stored schema has no such field".into(),
                ));
            };
            let at = self.columns.iter().position(|s| s.name == d.name);
            if at != Some(i) {
                return Err(mismatch(
                    &d.name,
                    format!("stored at position {}, declared at {i}", at.unwrap_or(0)),
                ));
            }
            if s != d {
                return Err(mismatch(
                    &d.name,
                    format!("stored as {}, declared as {}", describe(s), describe(d)),
                ));
            }
        }
        if let Some(s) = self
            .columns
            .iter()
            .find(|s| !declared.columns.iter().any(|d| d.name == s.name))
        {
            return Err(mismatch(&s.name, "stored, but no longer declared".into()));
        }
        Ok(())
    }

    /// The primary key column.
    pub(crate) fn key_column(&self) -> usize {
        self.columns.iter().position(|c| c.primary_key).unwrap_or(0)
    }
}

fn describe(c: &StoredColumn) -> String {
    let mut s = c.type_name.clone();
    if c.primary_key {
        s.push_str(" primary key");
    }
    if c.unique {
        s.push_str(" unique");
    }
    if c.index {
        s.push_str(" indexed");
    }
    if let Some(n) = c.max_len {
        s.push_str(&format!(" max {n}"));
    }
    if let Some(t) = &c.foreign_key {
        s.push_str(&format!(" -> {t}"));
    }
    s
}

/// The name of the index table of `column` of `table`.
pub(crate) fn index_table(table: &str, column: &str) -> String {
    format!("{table}#{column}")
}

/// The name of the reverse link table of association table `through`.
pub(crate) fn reverse_table(through: &str) -> String {
    format!("{through}#rev")
}

/// Decodes a row stored by the serde + bincode encoding into its column
/// values, from the stored schema alone (for tables whose Rust type is not
/// at hand: the integrity check).
pub(crate) fn decode_row(
    schema: &StoredSchema,
    row: &[u8],
) -> std::result::Result<Vec<Value>, String> {
    let mut r = Reader { b: row, at: 0 };
    let values = schema
        .columns
        .iter()
        .map(|c| {
            if c.nullable {
                match r.byte()? {
                    0 => return Ok(Value::Null),
                    1 => {}
                    t => return Err(format!("column {}: bad option tag {t}", c.name)),
                }
            }
            let base = match (c.nullable, c.type_name.strip_prefix("Option<")) {
                (true, Some(inner)) => inner.strip_suffix('>').unwrap_or(inner),
                _ => c.type_name.as_str(),
            };
            r.value(base).map_err(|e| format!("column {}: {e}", c.name))
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if r.at != row.len() {
        return Err(format!("{} bytes left over", row.len() - r.at));
    }
    Ok(values)
}

/// How a column's value is laid out in a row (its Rust type, `Option`
/// aside), decided once per query instead of once per value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    U8,
    I8,
    /// `u16`, `u32`, `u64`: a bincode varint.
    UVar,
    /// `i16`, `i32`, `i64`: a zigzag varint.
    IVar,
    F64,
    Text,
    Bytes,
}

impl Kind {
    /// The kind of a column of Rust type `ty` (`Option<..>` unwrapped when
    /// `nullable`); `None` for a type no model can have.
    pub(crate) fn of(ty: &str, nullable: bool) -> Option<Kind> {
        let base = match (nullable, ty.strip_prefix("Option<")) {
            (true, Some(inner)) => inner.strip_suffix('>').unwrap_or(inner),
            _ => ty,
        };
        Some(match base {
            "bool" => Kind::Bool,
            "u8" => Kind::U8,
            "i8" => Kind::I8,
            "u16" | "u32" | "u64" => Kind::UVar,
            "i16" | "i32" | "i64" => Kind::IVar,
            "f64" => Kind::F64,
            "String" => Kind::Text,
            "Vec<u8>" => Kind::Bytes,
            _ => return None,
        })
    }
}

/// How [`decode_planned`] reads one column: its kind, whether it is
/// nullable, and whether the caller reads it. A column nobody reads is
/// skipped over (its text is not even checked for UTF-8) and given as
/// `ValueRef::Null`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ColumnPlan {
    pub(crate) kind: Kind,
    pub(crate) nullable: bool,
    pub(crate) needed: bool,
}

/// The plan of every column of `columns`, each needed when `needed(i)`.
pub(crate) fn plan_columns(
    columns: &[crate::model::ColumnDef],
    needed: impl Fn(usize) -> bool,
) -> std::result::Result<Vec<ColumnPlan>, String> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(ColumnPlan {
                kind: Kind::of(c.type_name, c.nullable).ok_or_else(|| {
                    format!("column {}: unknown column type {}", c.name, c.type_name)
                })?,
                nullable: c.nullable,
                needed: needed(i),
            })
        })
        .collect()
}

/// Decodes a row of the model with columns `columns` into borrowed column
/// values, appended to `out` (cleared first): what a filter reads, without
/// deserialising the row or copying its strings.
pub(crate) fn decode_refs<'a>(
    columns: &[crate::model::ColumnDef],
    row: &'a [u8],
    out: &mut Vec<ValueRef<'a>>,
) -> std::result::Result<(), String> {
    let plan = plan_columns(columns, |_| true)?;
    decode_planned(&plan, row, out)
}

/// Like [`decode_refs`], with the columns' layout decided beforehand; the
/// columns the plan does not need come out as `ValueRef::Null`. The whole
/// row is still walked, so a row too short or too long is still an error.
pub(crate) fn decode_planned<'a>(
    plan: &[ColumnPlan],
    row: &'a [u8],
    out: &mut Vec<ValueRef<'a>>,
) -> std::result::Result<(), String> {
    out.clear();
    let mut r = Reader { b: row, at: 0 };
    for (i, c) in plan.iter().enumerate() {
        if c.nullable {
            match r.byte()? {
                0 => {
                    out.push(ValueRef::Null);
                    continue;
                }
                1 => {}
                t => return Err(format!("column {i}: bad option tag {t}")),
            }
        }
        let v = r
            .planned(c.kind, c.needed)
            .map_err(|e| format!("column {i}: {e}"))?;
        out.push(v);
    }
    if r.at != row.len() {
        return Err(format!("{} bytes left over", row.len() - r.at));
    }
    Ok(())
}

#[cold]
fn short() -> String {
    "row ends early".to_string()
}

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

    fn signed(&mut self) -> std::result::Result<i64, String> {
        let z = self.varint()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    fn value(&mut self, ty: &str) -> std::result::Result<Value, String> {
        Ok(self.value_ref(ty)?.to_value())
    }

    /// One value of kind `kind`; with `needed` false, skipped over and
    /// given as null.
    #[inline]
    fn planned(&mut self, kind: Kind, needed: bool) -> std::result::Result<ValueRef<'a>, String> {
        Ok(match kind {
            Kind::Bool => match self.byte()? {
                0 => ValueRef::Bool(false),
                1 => ValueRef::Bool(true),
                b => return Err(format!("bad bool {b}")),
            },
            Kind::U8 => ValueRef::UInt(u64::from(self.byte()?)),
            Kind::I8 => ValueRef::Int(i64::from(self.byte()? as i8)),
            Kind::UVar => ValueRef::UInt(self.varint()?),
            Kind::IVar => ValueRef::Int(self.signed()?),
            Kind::F64 => {
                let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| "short f64")?;
                ValueRef::Float(f64::from_le_bytes(b))
            }
            Kind::Text | Kind::Bytes => {
                let n = usize::try_from(self.varint()?).map_err(|_| "length overflow")?;
                let b = self.take(n)?;
                match (kind, needed) {
                    (_, false) => ValueRef::Null,
                    (Kind::Text, true) => {
                        ValueRef::Text(std::str::from_utf8(b).map_err(|_| "text is not UTF-8")?)
                    }
                    _ => ValueRef::Bytes(b),
                }
            }
        })
    }

    fn value_ref(&mut self, ty: &str) -> std::result::Result<ValueRef<'a>, String> {
        let kind = Kind::of(ty, false).ok_or_else(|| format!("unknown column type {ty}"))?;
        self.planned(kind, true)
    }
}
