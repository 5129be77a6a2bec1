//! `strata stats FILE`: what the file holds, in the way of `mdb_stat`:
//! format, pages, sizes, tables and rows, the last checkpoint, and the
//! stored schemas' version.

use crate::error::{CliError, Result};
use crate::open::{Mode, open};
use crate::output::{print_json, table};
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Prints the file's statistics.
pub fn run(out: &mut impl Write, path: &Path, as_json: bool) -> Result<()> {
    let db = open(path, Mode::Read)?;
    let engine = db
        .engine()
        .ok_or_else(|| CliError::new("not an engine database"))?;
    let info = engine.info()?;
    // The page accounting needs the walk the check makes.
    let report = engine.check()?;
    let file_size = std::fs::metadata(path)?.len();
    let mut log = path.as_os_str().to_owned();
    log.push("-wal");
    let log_size = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let s = db.read_session()?;
    let mut models = Vec::new();
    for t in db.tables() {
        models.push((
            t.table.clone(),
            t.model.clone(),
            s.rows(&t).count()?,
            t.version,
        ));
    }
    let schema_version = models.iter().map(|m| m.3).max();
    if as_json {
        let tables: Vec<_> = models
            .iter()
            .map(|(t, m, n, _)| json!({"table": t, "model": m, "rows": n}))
            .collect();
        print_json(
            out,
            &json!({
                "format_version": info.format_version,
                "page_size": info.page_size,
                "pages": report.page_count,
                "used_pages": report.used_pages,
                "free_pages": report.free_pages,
                "file_bytes": file_size,
                "log_bytes": log_size,
                "engine_tables": info.tables.len(),
                "entries": report.entries,
                "checkpoint_lsn": info.checkpoint_lsn,
                "last_lsn": info.last_lsn,
                "schema_version": schema_version,
                "tables": tables,
            }),
        )?;
        return Ok(());
    }
    let lines = [
        ("format version", info.format_version.to_string()),
        ("page size", info.page_size.to_string()),
        (
            "pages",
            format!(
                "{} ({} used, {} free)",
                report.page_count, report.used_pages, report.free_pages
            ),
        ),
        ("file size", format!("{file_size} bytes")),
        ("log size", format!("{log_size} bytes")),
        (
            "engine tables",
            format!("{} ({} entries)", info.tables.len(), report.entries),
        ),
        (
            "last checkpoint",
            format!(
                "LSN {} (last commit LSN {})",
                info.checkpoint_lsn, info.last_lsn
            ),
        ),
        (
            "schema version",
            schema_version.map_or("none stored".into(), |v| v.to_string()),
        ),
    ];
    for (k, v) in lines {
        writeln!(out, "{k:<16} {v}")?;
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = models
        .into_iter()
        .map(|(t, m, n, _)| vec![t, m, n.to_string()])
        .collect();
    table(out, &["table".into(), "model".into(), "rows".into()], &rows)?;
    Ok(())
}
