//! `strata check FILE`: the engine's integrity check (checksums, tree
//! shape, page accounting), then the ORM's (every row decodes against its
//! stored schema, every index holds exactly its rows' entries, every
//! foreign key and link names a row), all from the file alone.

use crate::error::{CliError, Result};
use crate::open::{Mode, open};
use crate::output::{print_json, spinner};
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Checks the file; an error names the first fault found.
pub fn run(out: &mut impl Write, path: &Path, as_json: bool) -> Result<()> {
    let db = open(path, Mode::Read)?;
    let bar = spinner("checking");
    let engine = db
        .engine()
        .ok_or_else(|| CliError::new("not an engine database"))?;
    let fault = |e: String| CliError(format!("{}: check failed: {e}", path.display()));
    let report = engine.check().map_err(|e| fault(e.to_string()))?;
    let rows = db.check().map_err(|e| fault(e.to_string()))?;
    bar.finish_and_clear();
    if as_json {
        print_json(
            out,
            &json!({
                "ok": true,
                "tables": report.tables,
                "entries": report.entries,
                "pages": report.page_count,
                "used_pages": report.used_pages,
                "free_pages": report.free_pages,
                "rows_checked": rows,
                "models": db.tables().len(),
            }),
        )?;
    } else {
        writeln!(
            out,
            "ok: {} pages ({} used, {} free), {} tables, {} entries; {} rows of {} models match their schemas, indexes and foreign keys",
            report.page_count,
            report.used_pages,
            report.free_pages,
            report.tables,
            report.entries,
            rows,
            db.tables().len()
        )?;
    }
    Ok(())
}
