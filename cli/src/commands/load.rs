//! `strata load FILE --table T [--input PATH]`: rows from JSON lines
//! (one object per line, by field name, as `dump --table T` writes
//! them) into a model's table, in one transaction, each checked as a
//! typed `add` would check it: types and lengths, the primary key, unique
//! values, foreign keys. The first refused line stops the load and
//! nothing is written. A field left out is null (an integer key left out,
//! or 0, is assigned); bytes are hex text; dates, times, decimals and
//! 128-bit integers are text.

use crate::bail;
use crate::error::{CliError, Result};
use crate::open::{Mode, open};
use crate::output::{print_json, progress, unhex};
use serde_json::{Value as Json, json};
use std::io::{BufRead, Write};
use std::path::Path;
use strata::{ColumnKind, ColumnSchema, TableSchema, Value};

/// Loads the lines of `input` into `table`; returns how many rows.
pub fn run(
    out: &mut impl Write,
    path: &Path,
    table: &str,
    input: impl BufRead,
    as_json: bool,
) -> Result<()> {
    let db = open(path, Mode::Write)?;
    let Some(t) = db.table(table) else {
        bail!("no table {table}");
    };
    let lines: Vec<String> = input.lines().collect::<std::io::Result<_>>()?;
    let bar = progress(lines.len() as u64, &format!("loading {}", t.table));
    let mut s = db.session()?;
    let mut n = 0u64;
    for (i, line) in lines.iter().enumerate() {
        bar.inc(1);
        if line.trim().is_empty() {
            continue;
        }
        let at = |e: String| CliError(format!("line {}: {e}", i + 1));
        let values = row(&t, line).map_err(at)?;
        s.insert_values(&t, values).map_err(|e| at(e.to_string()))?;
        n += 1;
    }
    s.commit()?;
    bar.finish_and_clear();
    if as_json {
        print_json(out, &json!({"table": t.table, "rows": n}))?;
    } else {
        writeln!(out, "loaded {n} rows into {}", t.table)?;
    }
    Ok(())
}

/// The values of one JSON line, in field order.
fn row(t: &TableSchema, line: &str) -> std::result::Result<Vec<Value>, String> {
    let Json::Object(mut obj) = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?
    else {
        return Err("not a JSON object".into());
    };
    let values = t
        .columns
        .iter()
        .map(|c| value(c, obj.remove(&c.name).unwrap_or(Json::Null)))
        .collect::<std::result::Result<_, _>>()?;
    if let Some(extra) = obj.keys().next() {
        return Err(format!("{} has no field {extra}", t.model));
    }
    Ok(values)
}

/// A JSON value as a value of column `c`.
fn value(c: &ColumnSchema, j: Json) -> std::result::Result<Value, String> {
    let v = match (&j, c.kind) {
        (Json::Null, _) => Value::Null,
        (Json::Bool(b), _) => Value::Bool(*b),
        (Json::Number(n), _) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Int(i),
            (_, Some(u), _) => Value::UInt(u),
            (_, _, Some(f)) => Value::Float(f),
            _ => return Err(format!("{}: bad number {n}", c.name)),
        },
        (Json::String(s), ColumnKind::Bytes) => {
            Value::Bytes(unhex(s).ok_or_else(|| format!("{}: bytes are hex text", c.name))?)
        }
        (Json::String(s), ColumnKind::Float) => Value::Float(
            s.parse()
                .map_err(|_| format!("{}: {s:?} is not a number", c.name))?,
        ),
        (Json::String(s), _) => Value::Text(s.clone()),
        _ => return Err(format!("{}: {j} is not a value of {}", c.name, c.type_name)),
    };
    c.coerce(v)
        .ok_or_else(|| format!("{}: {j} is not a value of {}", c.name, c.type_name))
}
