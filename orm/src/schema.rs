//! The schema of every model, as stored in the file.
//!
//! The table `__strata_schema` maps a model's table name to its
//! [`StoredSchema`] (bincode; the layout of every table is in `layout.rs`).
//! A model is checked against it the first time a process uses the model:
//! a difference in any column (name, type, nullability, key, uniqueness,
//! index, length limit, foreign key) is a [`Error::SchemaMismatch`] naming
//! the model and the field. The stored schemas also let the ORM act on
//! tables whose Rust types it does not have at hand: refuse to delete a
//! parent that rows of some other table still refer to, remove
//! many-to-many links (`relation.rs`), and decode and check every row and
//! index (`check.rs`).

use crate::error::{Error, Result};
use crate::layout::{ColumnPlan, RowLayout, SCHEMA_TABLE, bincode_config, encode_row_value};
use crate::layout::{decode_key, key_of};
use crate::model::{Model, Stamp};
use crate::value::{ColumnKind, Value};
use serde::{Deserialize, Serialize};

/// Version of the [`StoredSchema`] encoding this build writes. Version 1
/// (the columns without `storage`, `default` and `stamp`) and version 2
/// (without `min_columns`: every row holds every column) are still read.
const SCHEMA_VERSION: u32 = 3;

/// Where a column of a migrated schema takes its values from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Source {
    /// The stored column at `at`, its bytes copied (after a `Some` tag
    /// when `wrap`: the column became an `Option`).
    Old { at: usize, wrap: bool },
    /// One value for every stored row: `None`, or the column's default.
    Fill(Value),
}

/// One difference a migration makes by itself, for the log and messages.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    pub field: String,
    pub what: String,
}

/// How stored columns become declared ones ([`StoredSchema::diff`]).
#[derive(Debug)]
pub(crate) struct Diff {
    /// The schema to store: the declared columns in stored order, the
    /// new ones appended (`layout::RowLayout`, R1).
    pub target: StoredSchema,
    /// For each column of `target`, in order.
    pub sources: Vec<Source>,
    pub changes: Vec<Change>,
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
    /// The built-in type whose row bytes and key encoding the column uses
    /// (`layout.rs`), without `Option`. Version 2.
    pub storage: String,
    /// The key encoding (`layout.rs`) of the column's default, if it has
    /// one. Version 2.
    pub default: Option<Vec<u8>>,
    /// The automatic timestamp the column takes, if any. Version 2.
    pub stamp: Option<Stamp>,
}

/// A column as version 1 stored it.
#[derive(Deserialize)]
struct StoredColumnV1 {
    name: String,
    type_name: String,
    kind: ColumnKind,
    nullable: bool,
    primary_key: bool,
    unique: bool,
    index: bool,
    max_len: Option<u64>,
    foreign_key: Option<String>,
}

/// A schema as version 1 stored it.
#[derive(Deserialize)]
struct StoredSchemaV1 {
    _version: u32,
    model: String,
    table: String,
    columns: Vec<StoredColumnV1>,
    associations: Vec<(String, String)>,
}

/// A schema as version 2 stored it: every row holds every column.
#[derive(Deserialize)]
struct StoredSchemaV2 {
    _version: u32,
    model: String,
    table: String,
    columns: Vec<StoredColumn>,
    associations: Vec<(String, String)>,
}

impl StoredSchemaV1 {
    /// The same schema as this build keeps it: the storage of a version-1
    /// column is its type (every version-1 type is a built-in one).
    fn upgrade(self) -> StoredSchema {
        StoredSchema {
            min_columns: self.columns.len() as u32,
            version: SCHEMA_VERSION,
            model: self.model,
            table: self.table,
            columns: self
                .columns
                .into_iter()
                .map(|c| StoredColumn {
                    storage: base_type(&c.type_name, c.nullable).to_string(),
                    name: c.name,
                    type_name: c.type_name,
                    kind: c.kind,
                    nullable: c.nullable,
                    primary_key: c.primary_key,
                    unique: c.unique,
                    index: c.index,
                    max_len: c.max_len,
                    foreign_key: c.foreign_key,
                    default: None,
                    stamp: None,
                })
                .collect(),
            associations: self.associations,
        }
    }
}

impl StoredSchemaV2 {
    fn upgrade(self) -> StoredSchema {
        StoredSchema {
            version: SCHEMA_VERSION,
            min_columns: self.columns.len() as u32,
            model: self.model,
            table: self.table,
            columns: self.columns,
            associations: self.associations,
        }
    }
}

/// `ty` without `Option<..>` when `nullable`.
fn base_type(ty: &str, nullable: bool) -> &str {
    match (nullable, ty.strip_prefix("Option<")) {
        (true, Some(inner)) => inner.strip_suffix('>').unwrap_or(inner),
        _ => ty,
    }
}

impl StoredColumn {
    pub(crate) fn has_index(&self) -> bool {
        !self.primary_key && (self.unique || self.index || self.foreign_key.is_some())
    }

    /// What a row written before this column was appended holds in it
    /// (`layout::RowLayout`, R2): `None`, or its default, as row bytes.
    pub(crate) fn fill(&self) -> std::result::Result<Vec<u8>, String> {
        let value = if self.nullable {
            Value::Null
        } else {
            self.default
                .as_deref()
                .and_then(decode_key)
                .map(|(v, _)| v)
                .ok_or_else(|| format!("appended column {} has no default", self.name))?
        };
        let mut out = Vec::new();
        encode_row_value(&self.storage, self.nullable, &value, &mut out)
            .map_err(|e| format!("column {}: {e}", self.name))?;
        Ok(out)
    }
}

/// A model's schema, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredSchema {
    pub version: u32,
    pub model: String,
    pub table: String,
    /// In stored order: the order of their bytes in a row, which is the
    /// declaration order of the model that created the table, followed by
    /// the columns migrations appended.
    pub columns: Vec<StoredColumn>,
    /// (through table, target table) of the associations it owns.
    pub associations: Vec<(String, String)>,
    /// How many of `columns` every row holds; a row may end after any
    /// later one (`layout::RowLayout`, R1). Version 3.
    pub min_columns: u32,
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
                    // As version 1 wrote it: `Option<..>` around a nullable one.
                    type_name: if c.nullable {
                        format!("Option<{}>", c.type_name)
                    } else {
                        c.type_name.to_string()
                    },
                    storage: c.storage.to_string(),
                    default: c.default.map(|d| key_of(&d.value())),
                    stamp: c.stamp,
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
            min_columns: M::COLUMNS.len() as u32,
        }
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        bincode::serde::encode_to_vec(self, bincode_config()).unwrap_or_default()
    }

    pub(crate) fn decode(bytes: &[u8], table: &str) -> Result<StoredSchema> {
        let bad = |detail: String| Error::Corruption {
            table: SCHEMA_TABLE.to_string(),
            detail: format!("schema of {table}: {detail}"),
        };
        // The version comes first, whatever follows.
        let (version, _): (u32, usize) = bincode::serde::decode_from_slice(bytes, bincode_config())
            .map_err(|e| bad(e.to_string()))?;
        let s = match version {
            1 => {
                let (s, _): (StoredSchemaV1, usize) =
                    bincode::serde::decode_from_slice(bytes, bincode_config())
                        .map_err(|e| bad(e.to_string()))?;
                s.upgrade()
            }
            2 => {
                let (s, _): (StoredSchemaV2, usize) =
                    bincode::serde::decode_from_slice(bytes, bincode_config())
                        .map_err(|e| bad(e.to_string()))?;
                s.upgrade()
            }
            SCHEMA_VERSION => {
                let (s, _): (StoredSchema, usize) =
                    bincode::serde::decode_from_slice(bytes, bincode_config())
                        .map_err(|e| bad(e.to_string()))?;
                s
            }
            v => {
                return Err(bad(format!(
                    "schema version {v} is not 1, 2 or {SCHEMA_VERSION}"
                )));
            }
        };
        if s.columns.iter().filter(|c| c.primary_key).count() != 1 {
            return Err(bad("not exactly one primary key".into()));
        }
        if s.min_columns == 0 || s.min_columns as usize > s.columns.len() {
            return Err(bad(format!(
                "{} of its {} columns in every row",
                s.min_columns,
                s.columns.len()
            )));
        }
        Ok(s)
    }

    /// Whether a model declaring `declared` reads this table's rows as
    /// they are: the same columns, in any order (`layout::RowLayout`).
    pub(crate) fn reads_as(&self, declared: &StoredSchema) -> bool {
        self.columns.len() == declared.columns.len()
            && declared
                .columns
                .iter()
                .all(|d| self.columns.iter().any(|s| s == d))
    }

    /// How the stored columns become `declared`'s, if every difference is
    /// one a migration makes by itself (orm/DESIGN.md, "Schema
    /// evolution"): fields added as an `Option` or with a default (appended
    /// to the stored columns), a field made an `Option`, indexes and unique constraints
    /// added or dropped, `max_len` relaxed, defaults and timestamps
    /// changed. Anything else is a `SchemaMismatch` naming the field and
    /// the step to write; `versions` (the file's, the program's) go into
    /// the message when known.
    pub(crate) fn diff(
        &self,
        declared: &StoredSchema,
        versions: Option<(u32, u32)>,
    ) -> Result<Diff> {
        let model = declared.model.as_str();
        let next = versions.map_or("N".to_string(), |(f, c)| (f.max(c) + 1).to_string());
        let refuse = |field: &str, detail: String| Error::SchemaMismatch {
            model: model.to_string(),
            field: field.to_string(),
            detail,
        };
        let mut diff = Diff {
            target: self.clone(),
            sources: Vec::with_capacity(declared.columns.len()),
            changes: Vec::new(),
        };
        let mut change = |field: &str, what: String| {
            diff.changes.push(Change {
                field: field.to_string(),
                what,
            })
        };
        let mut sources = Vec::with_capacity(declared.columns.len());
        for d in &declared.columns {
            let Some(i) = self.columns.iter().position(|s| s.name == d.name) else {
                if d.nullable {
                    change(
                        &d.name,
                        "a new Option field, read as None in stored rows".into(),
                    );
                    sources.push(Source::Fill(Value::Null));
                } else if let Some((v, _)) = d.default.as_deref().and_then(decode_key) {
                    change(
                        &d.name,
                        format!("a new field, read as its default {v} in stored rows"),
                    );
                    sources.push(Source::Fill(v));
                } else {
                    return Err(refuse(
                        &d.name,
                        format!(
                            "the stored schema has no such field, and a new field that is not an \
                             Option needs a default: make it an Option, give it \
                             #[strata(default = ...)], or fill it in a step: \
                             .step({next}, \"fill {f}\", |m| m.add_field::<{model}>(\"{f}\", |row| ...))",
                            f = d.name
                        ),
                    ));
                }
                continue;
            };
            let s = &self.columns[i];
            let same_type = s.storage == d.storage
                && s.type_name
                    .trim_start_matches("Option<")
                    .trim_end_matches('>')
                    == d.type_name
                        .trim_start_matches("Option<")
                        .trim_end_matches('>')
                && s.kind == d.kind;
            if !same_type || s.primary_key != d.primary_key || (s.nullable && !d.nullable) {
                return Err(refuse(
                    &d.name,
                    format!(
                        "stored as {}, declared as {}: convert it in a step: \
                         .step({next}, \"convert {f}\", |m| m.convert::<{model}>(\"{f}\", |old| ...))",
                        describe(s),
                        describe(d),
                        f = d.name
                    ),
                ));
            }
            let tighter = match (s.max_len, d.max_len) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(a), Some(b)) => b < a,
            };
            if tighter || s.foreign_key != d.foreign_key {
                return Err(refuse(
                    &d.name,
                    format!(
                        "stored as {}, declared as {}: a tighter limit or a changed foreign key \
                         must be checked against the rows in a step: \
                         .step({next}, \"check {f}\", |m| m.convert::<{model}>(\"{f}\", |old| Ok(old)))",
                        describe(s),
                        describe(d),
                        f = d.name
                    ),
                ));
            }
            if !s.nullable && d.nullable {
                change(&d.name, "made an Option".into());
            }
            if (s.unique, s.index) != (d.unique, d.index) {
                change(&d.name, format!("{} became {}", describe(s), describe(d)));
            } else if s != d && s.nullable == d.nullable {
                change(&d.name, "its default, timestamp or max_len changed".into());
            }
            sources.push(Source::Old {
                at: i,
                wrap: !s.nullable && d.nullable,
            });
        }
        if let Some(s) = self
            .columns
            .iter()
            .find(|s| !declared.columns.iter().any(|d| d.name == s.name))
        {
            let newer = versions.map_or(String::new(), |(f, c)| {
                format!(" (the file is at migration version {f}, this program at {c})")
            });
            return Err(refuse(
                &s.name,
                format!(
                    "stored, but no longer declared{newer}: if a newer program wrote it, open \
                     the file with that program; to drop the field write a step \
                     .step({next}, \"drop {f}\", |m| m.drop_field(\"{t}\", \"{f}\")), or to \
                     rename it .step({next}, \"rename {f}\", |m| m.rename_field(\"{t}\", \"{f}\", \"new_name\"))",
                    f = s.name,
                    t = self.table
                ),
            ));
        }
        // Kept columns stay where their bytes are; new ones go after them.
        let at = |d: &StoredColumn| declared.columns.iter().position(|x| x.name == d.name);
        let mut order: Vec<usize> = self
            .columns
            .iter()
            .filter_map(|s| declared.columns.iter().position(|d| d.name == s.name))
            .collect();
        order.extend((0..declared.columns.len()).filter(|&j| {
            !self
                .columns
                .iter()
                .any(|s| s.name == declared.columns[j].name)
        }));
        debug_assert!(declared.columns.iter().all(|d| at(d).is_some()));
        diff.target = StoredSchema {
            version: SCHEMA_VERSION,
            model: declared.model.clone(),
            table: declared.table.clone(),
            columns: order.iter().map(|&j| declared.columns[j].clone()).collect(),
            associations: declared.associations.clone(),
            min_columns: self.min_columns,
        };
        diff.sources = order.into_iter().map(|j| sources[j].clone()).collect();
        Ok(diff)
    }

    /// The primary key column.
    pub(crate) fn key_column(&self) -> usize {
        self.columns.iter().position(|c| c.primary_key).unwrap_or(0)
    }

    /// How to decode the table's rows from this schema alone, every column
    /// read, in stored order.
    pub(crate) fn row_plan(&self) -> std::result::Result<Vec<ColumnPlan>, String> {
        self.columns
            .iter()
            .map(|c| {
                ColumnPlan::new(&c.name, &c.storage, false, true).map(|p| p.nullable(c.nullable))
            })
            .collect()
    }

    /// The layout of the table's rows, read in stored order: what the
    /// integrity check and migrations decode rows with.
    pub(crate) fn layout(&self) -> std::result::Result<RowLayout, String> {
        self.layout_in((0..self.columns.len()).collect())
    }

    /// The layout a model declaring `declared` (which [`Self::reads_as`]
    /// this schema) reads the rows with; `None` when its serde encoding
    /// is the row (same order, every row whole).
    pub(crate) fn layout_for(
        &self,
        declared: &StoredSchema,
    ) -> std::result::Result<Option<RowLayout>, String> {
        let order = declared
            .columns
            .iter()
            .map(|d| {
                self.columns
                    .iter()
                    .position(|s| s.name == d.name)
                    .ok_or_else(|| format!("column {} is not stored", d.name))
            })
            .collect::<std::result::Result<Vec<usize>, String>>()?;
        let layout = self.layout_in(order)?;
        Ok((!layout.is_plain()).then_some(layout))
    }

    fn layout_in(&self, order: Vec<usize>) -> std::result::Result<RowLayout, String> {
        let min = self.min_columns as usize;
        let fill = self
            .columns
            .iter()
            .enumerate()
            .map(|(p, c)| if p < min { Ok(Vec::new()) } else { c.fill() })
            .collect::<std::result::Result<Vec<_>, String>>()?;
        RowLayout::new(self.row_plan()?, min, fill, order)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-1 column: name, type, kind, nullable, key, unique, index,
    /// max_len, foreign key.
    type V1Column = (
        String,
        String,
        ColumnKind,
        bool,
        bool,
        bool,
        bool,
        Option<u64>,
        Option<String>,
    );

    /// A version-1 schema, as the previous build wrote it.
    #[derive(Serialize)]
    struct V1 {
        version: u32,
        model: String,
        table: String,
        columns: Vec<V1Column>,
        associations: Vec<(String, String)>,
    }

    #[test]
    fn a_version_1_schema_reads_as_the_same_columns() {
        let v1 = V1 {
            version: 1,
            model: "User".into(),
            table: "users".into(),
            columns: vec![
                (
                    "id".into(),
                    "i64".into(),
                    ColumnKind::Int,
                    false,
                    true,
                    false,
                    false,
                    None,
                    None,
                ),
                (
                    "nick".into(),
                    "Option<String>".into(),
                    ColumnKind::Text,
                    true,
                    false,
                    true,
                    false,
                    Some(80),
                    None,
                ),
            ],
            associations: vec![],
        };
        let bytes = bincode::serde::encode_to_vec(&v1, bincode_config()).unwrap();
        let s = StoredSchema::decode(&bytes, "users").unwrap();
        assert_eq!(s.version, SCHEMA_VERSION);
        assert_eq!(s.columns[1].storage, "String");
        assert_eq!(s.columns[1].type_name, "Option<String>");
        assert_eq!(
            (s.columns[1].default.clone(), s.columns[1].stamp),
            (None, None)
        );
        assert!(s.row_plan().is_ok());
        // Written again, it is version 2, and reads back equal.
        assert_eq!(StoredSchema::decode(&s.encode(), "users").unwrap(), s);
        // A version this build does not know is refused.
        let mut v3 = bytes.clone();
        v3[0] = 3;
        assert!(StoredSchema::decode(&v3, "users").is_err());
    }
}
