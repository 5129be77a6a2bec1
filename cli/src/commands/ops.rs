//! `strata backup FILE DEST` and `strata compact FILE`: the engine's
//! consistent copy and its compaction, from the shell.
//!
//! A backup opens the file read-only, so other readers go on; only when
//! the read-only handle cannot copy (an unclean shutdown left commits in
//! the log, which a read-only open keeps in memory) does it open the file
//! writable, which recovers them into the data file first. A file an
//! application holds open is `Locked`: from inside the application,
//! `Database::backup_to` copies while it runs. Compaction opens the file
//! writable.

use crate::error::{CliError, Result};
use crate::open::{Mode, open};
use crate::output::{print_json, spinner};
use serde_json::json;
use std::io::Write;
use std::path::Path;

/// Copies the database at `path` to `dest`, which must not exist.
pub fn backup(out: &mut impl Write, path: &Path, dest: &Path, as_json: bool) -> Result<()> {
    let bar = spinner("backing up");
    let failed = |e: strata::Error| {
        CliError(format!(
            "{}: backup to {} failed: {e}",
            path.display(),
            dest.display()
        ))
    };
    let first = open(path, Mode::Read)?.backup_to(dest);
    match first {
        Err(strata::Error::Engine(strata::engine::Error::Unsupported { .. })) => {
            open(path, Mode::Write)?.backup_to(dest).map_err(failed)?
        }
        other => other.map_err(failed)?,
    }
    bar.finish_and_clear();
    let bytes = std::fs::metadata(dest)?.len();
    if as_json {
        print_json(out, &json!({"source": path, "copy": dest, "bytes": bytes}))?;
    } else {
        writeln!(
            out,
            "copied {} to {} ({bytes} bytes)",
            path.display(),
            dest.display()
        )?;
    }
    Ok(())
}

/// Compacts the database at `path` in place.
pub fn compact(out: &mut impl Write, path: &Path, as_json: bool) -> Result<()> {
    let db = open(path, Mode::Write)?;
    let bar = spinner("compacting");
    let r = db
        .compact()
        .map_err(|e| CliError(format!("{}: compaction failed: {e}", path.display())))?;
    bar.finish_and_clear();
    if as_json {
        print_json(
            out,
            &json!({
                "data_before": r.data_before, "data_after": r.data_after,
                "log_before": r.log_before, "log_after": r.log_after,
            }),
        )?;
    } else {
        writeln!(
            out,
            "data file {} -> {} bytes, log {} -> {} bytes",
            r.data_before, r.data_after, r.log_before, r.log_after
        )?;
    }
    Ok(())
}
