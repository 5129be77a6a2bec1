//! `strata dump FILE [--table T] [--format jsonl|csv]`: rows through the
//! stored schema, one JSON object per line (or CSV with a header line);
//! engine tables that hold no model's rows (link tables, tables written
//! with the engine alone) as hex keys and values.
//!
//! Without `--table`, every model's rows come first, each line
//! `{"table": ..., "row": {...}}`, then the link and engine-only tables,
//! `{"table": ..., "key": "hex", "value": "hex"}`. Index tables and the
//! stored schemas are left out: `load` and the ORM rebuild them.

use crate::bail;
use crate::error::{CliError, Result};
use crate::open::{Mode, open};
use crate::output::{cell, hex, progress, to_json};
use serde_json::{Map, Value as Json, json};
use std::io::Write;
use std::path::Path;
use strata::{Database, TableSchema, Value};

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line (one table only).
    Csv,
}

/// Dumps one table, or every table.
pub fn run(out: &mut impl Write, path: &Path, table: Option<&str>, format: Format) -> Result<()> {
    let db = open(path, Mode::Read)?;
    match table {
        Some(name) => match db.table(name) {
            Some(t) => model_rows(out, &db, &t, format, false),
            None if raw_tables(&db)?.iter().any(|r| r == name) => {
                raw_rows(out, &db, name, format, false)
            }
            None => bail!("no table {name}"),
        },
        None if format == Format::Csv => {
            bail!("--format csv dumps one table: name it with --table")
        }
        None => {
            for t in db.tables() {
                model_rows(out, &db, &t, format, true)?;
            }
            for r in raw_tables(&db)? {
                raw_rows(out, &db, &r, format, true)?;
            }
            Ok(())
        }
    }
}

/// The engine tables that hold no model's rows and are not derived from
/// them (indexes, the stored schemas).
fn raw_tables(db: &Database) -> Result<Vec<String>> {
    let engine = db
        .engine()
        .ok_or_else(|| CliError::new("not an engine database"))?;
    let models = db.tables();
    let derived = |name: &str| {
        name == "__strata_schema"
            || models.iter().any(|t| {
                t.table == name
                    || t.columns
                        .iter()
                        .any(|c| c.has_index() && format!("{}#{}", t.table, c.name) == name)
            })
    };
    Ok(engine
        .info()?
        .tables
        .into_iter()
        .filter(|n| !derived(n))
        .collect())
}

/// CSV quoting: a field with a comma, a quote or a line break is quoted,
/// its quotes doubled.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_line(out: &mut impl Write, fields: impl Iterator<Item = String>) -> Result<()> {
    let fields: Vec<String> = fields.map(|f| csv_field(&f)).collect();
    writeln!(out, "{}", fields.join(","))?;
    Ok(())
}

fn model_rows(
    out: &mut impl Write,
    db: &Database,
    t: &TableSchema,
    format: Format,
    tagged: bool,
) -> Result<()> {
    let s = db.read_session()?;
    let q = s.rows(t);
    let bar = progress(q.count()?, &format!("dumping {}", t.table));
    if format == Format::Csv {
        csv_line(out, t.columns.iter().map(|c| c.name.clone()))?;
    }
    q.visit(&mut |row: Vec<Value>| {
        bar.inc(1);
        let written = match format {
            Format::Csv => csv_line(
                out,
                row.iter().map(|v| {
                    if matches!(v, Value::Null) {
                        String::new()
                    } else {
                        cell(v)
                    }
                }),
            ),
            Format::Jsonl => {
                let obj: Map<String, Json> = t
                    .columns
                    .iter()
                    .zip(&row)
                    .map(|(c, v)| (c.name.clone(), to_json(v)))
                    .collect();
                let line = if tagged {
                    json!({"table": t.table, "row": obj})
                } else {
                    Json::Object(obj)
                };
                writeln!(out, "{line}").map_err(CliError::from)
            }
        };
        written.map_err(|e| strata::Error::Corruption {
            table: t.table.clone(),
            detail: format!("writing the dump: {e}"),
        })?;
        Ok(true)
    })?;
    bar.finish_and_clear();
    Ok(())
}

fn raw_rows(
    out: &mut impl Write,
    db: &Database,
    table: &str,
    format: Format,
    tagged: bool,
) -> Result<()> {
    let engine = db
        .engine()
        .ok_or_else(|| CliError::new("not an engine database"))?;
    let tx = engine.begin_read()?;
    if format == Format::Csv {
        csv_line(out, ["key".to_string(), "value".to_string()].into_iter())?;
    }
    for kv in tx.range(table, ..)? {
        let (k, v) = kv?;
        match format {
            Format::Csv => csv_line(out, [hex(&k), hex(&v)].into_iter())?,
            Format::Jsonl if tagged => writeln!(
                out,
                "{}",
                json!({"table": table, "key": hex(&k), "value": hex(&v)})
            )?,
            Format::Jsonl => writeln!(out, "{}", json!({"key": hex(&k), "value": hex(&v)}))?,
        }
    }
    Ok(())
}
