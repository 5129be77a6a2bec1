//! `strata sql FILE "SELECT ..."`: read-only SQL (`crate::sql`).

use crate::error::Result;
use crate::open::{Mode, open};
use crate::output::{aligned, cell, print_json, to_json};
use crate::sql::{Answer, run as run_sql};
use serde_json::json;
use std::io::Write;
use std::path::Path;
use strata::Value;

/// Runs `query` and prints its rows or its plan.
pub fn run(out: &mut impl Write, path: &Path, query: &str, as_json: bool) -> Result<()> {
    let db = open(path, Mode::Read)?;
    match run_sql(&db, query)? {
        Answer::Plan(lines) if as_json => print_json(out, &json!({ "plan": lines }))?,
        Answer::Plan(lines) => {
            for l in lines {
                writeln!(out, "{l}")?;
            }
        }
        Answer::Rows { columns, rows } if as_json => {
            let rows: Vec<Vec<_>> = rows
                .iter()
                .map(|r| r.iter().map(to_json).collect())
                .collect();
            print_json(out, &json!({ "columns": columns, "rows": rows }))?;
        }
        Answer::Rows { columns, rows } => {
            let cells: Vec<Vec<String>> =
                rows.iter().map(|r| r.iter().map(cell).collect()).collect();
            // Numbers to the right: by the values' kinds, not their text
            // (a student number "045628" is text).
            let right: Vec<bool> = (0..columns.len())
                .map(|i| {
                    rows.iter().any(|r| !matches!(r[i], Value::Null))
                        && rows.iter().all(|r| {
                            matches!(
                                r[i],
                                Value::Null
                                    | Value::Int(_)
                                    | Value::UInt(_)
                                    | Value::Float(_)
                                    | Value::I128(_)
                                    | Value::U128(_)
                                    | Value::Decimal(..)
                            )
                        })
                })
                .collect();
            aligned(out, &columns, &cells, &right)?;
            writeln!(
                out,
                "({} row{})",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            )?;
        }
    }
    Ok(())
}
