//! `strata migrate FILE --status`: the file's schema history, read-only.
//!
//! Migrations are code: the application lists its models and steps in a
//! `Migrations` and runs them with `Database::migrate` or
//! `Database::open_migrated` (`orm/src/migration.rs`). The command line has
//! none of the application's models, so it cannot migrate; what it can
//! show is what the file records:
//!
//! - the migration log (`Database::schema_history`), oldest first: each
//!   applied step's version and name, and each automatic change, with when
//!   it committed;
//! - the file's migration version, the highest version in that log (0 when
//!   nothing was applied), which the application's `Migrations` compares
//!   with its own to decide what is pending;
//! - for every stored model, the version of its stored schema's encoding,
//!   as `stats` shows it.
//!
//! Without `--status` the command refuses, saying where migrations run.

use crate::bail;
use crate::error::Result;
use crate::open::{Mode, open};
use crate::output::{aligned, print_json, table};
use serde_json::{Value as Json, json};
use std::io::Write;
use std::path::Path;
use strata::{AppliedMigration, Value};

/// The one-line refusal of `migrate` without `--status`.
pub const NOT_HERE: &str = "migrations run from the application's code (`Database::migrate` \
with its `Migrations`): this command has no models to migrate to; \
`strata migrate FILE --status` shows the file's history";

/// Prints the schema history of the file at `path` if `status` is set;
/// refuses otherwise ([`NOT_HERE`]).
pub fn run(out: &mut impl Write, path: &Path, status: bool, as_json: bool) -> Result<()> {
    if !status {
        bail!("{NOT_HERE}");
    }
    let db = open(path, Mode::Read)?;
    let history = db.schema_history()?;
    let tables = db.tables();
    let migration_version = history.iter().map(|h| h.version).max().unwrap_or(0);
    let schema_version = tables.iter().map(|t| t.version).max();
    if as_json {
        let applied: Vec<Json> = history
            .iter()
            .map(|h| {
                json!({
                    "version": h.version,
                    "name": h.name,
                    "applied_at": h.applied_at,
                    "applied_at_utc": utc(h),
                })
            })
            .collect();
        let models: Vec<Json> = tables
            .iter()
            .map(|t| json!({"table": t.table, "model": t.model, "schema_version": t.version}))
            .collect();
        print_json(
            out,
            &json!({
                "migration_version": migration_version,
                "schema_version": schema_version,
                "applied": applied,
                "tables": models,
            }),
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<18} {migration_version} (the highest applied step's; 0 with none)",
        "migration version"
    )?;
    writeln!(
        out,
        "{:<18} {}",
        "schema version",
        schema_version.map_or("none stored".into(), |v| format!(
            "{v} (the stored schemas' encoding)"
        ))
    )?;
    writeln!(out)?;
    if history.is_empty() {
        writeln!(out, "no migrations applied")?;
    } else {
        let rows: Vec<Vec<String>> = history
            .iter()
            .map(|h| vec![h.version.to_string(), utc(h), h.name.clone()])
            .collect();
        let headers = ["version", "applied (UTC)", "name"].map(String::from);
        aligned(out, &headers, &rows, &[true, false, false])?;
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = tables
        .iter()
        .map(|t| vec![t.table.clone(), t.model.clone(), t.version.to_string()])
        .collect();
    table(
        out,
        &["table", "model", "schema version"].map(String::from),
        &rows,
    )?;
    Ok(())
}

/// When `h` committed, as `YYYY-MM-DDTHH:MM:SSZ`.
fn utc(h: &AppliedMigration) -> String {
    let secs = i64::try_from(h.applied_at).unwrap_or(i64::MAX);
    format!("{}Z", Value::DateTime(secs, 0))
}
