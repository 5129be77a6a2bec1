//! The report: medians of the runs, one markdown table per group of
//! workloads, and the whole document for `--write`.
//!
//! Every ratio is Strata's figure divided by the other's. For throughput
//! rows above 1 means Strata is faster; for sizes, latencies and memory
//! above 1 means Strata's figure is the larger.

use crate::{Args, DEVICE, ENGINES, Figures, Group, ORM_SIDES, Result, fail, rw, tpcb};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Every child's figures, by group and engine, one entry per run.
#[derive(Debug, Default)]
pub struct Results {
    runs: BTreeMap<(Group, String), Vec<Figures>>,
}

/// A median: a number, or text (such as `n/a`).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// The median of numeric figures.
    Num(f64),
    /// A figure that is not a number.
    Text(String),
}

impl Results {
    /// Records one child's figures.
    pub fn add(&mut self, group: Group, engine: &str, figures: Figures) {
        self.runs
            .entry((group, engine.to_string()))
            .or_default()
            .push(figures);
    }

    fn runs_of(&self, group: Group, engine: &str) -> &[Figures] {
        self.runs
            .get(&(group, engine.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether `engine` ran in `group`.
    pub fn has(&self, group: Group, engine: &str) -> bool {
        !self.runs_of(group, engine).is_empty()
    }

    /// Why `engine` could not run all of `group`, if it could not (an
    /// engine of [`crate::MAY_FAIL`]): the first run's reason.
    pub fn failure(&self, group: Group, engine: &str) -> Option<&str> {
        self.runs_of(group, engine)
            .iter()
            .find_map(|f| f.get("failed"))
            .map(String::as_str)
    }

    /// Whether `engine` ran all of `group` in every run.
    fn passed(&self, group: Group, engine: &str) -> bool {
        self.has(group, engine) && self.failure(group, engine).is_none()
    }

    /// The median over the runs of figure `key`.
    pub fn median(&self, group: Group, engine: &str, key: &str) -> Option<Cell> {
        let values: Vec<&String> = self
            .runs_of(group, engine)
            .iter()
            .filter_map(|f| f.get(key))
            .collect();
        let first = values.first()?;
        let mut nums: Vec<f64> = match values.iter().map(|v| v.parse::<f64>()).collect() {
            Ok(n) => n,
            Err(_) => return Some(Cell::Text((*first).clone())),
        };
        nums.sort_by(f64::total_cmp);
        let mid = nums.len() / 2;
        Some(Cell::Num(if nums.len() % 2 == 1 {
            nums[mid]
        } else {
            (nums[mid - 1] + nums[mid]) / 2.0
        }))
    }

    fn num(&self, group: Group, engine: &str, key: &str) -> Option<f64> {
        match self.median(group, engine, key)? {
            Cell::Num(n) => Some(n),
            Cell::Text(_) => None,
        }
    }

    /// Fails unless every TPC-B and readers-and-writers child passed its
    /// balance checks (and the latter its reader checks) and the ORM
    /// sides found the same rows in every run. A child that could not run
    /// its group (see [`Results::failure`]) is not held to its checks: the
    /// report shows its reason instead.
    pub fn verify(&self) -> Result<()> {
        for ((group, engine), runs) in &self.runs {
            let runs = runs.iter().filter(|f| !f.contains_key("failed"));
            let checks: &[&str] = match group {
                Group::Tpcb => &["balance_check"],
                Group::Rw => &["balance_check", "reader_check"],
                Group::Ops => &["ops.balance_check", "backup_check", "compact_check"],
                _ => &[],
            };
            for f in runs {
                for check in checks {
                    if f.get(*check).map(String::as_str) != Some("passed") {
                        fail!("{check} FAILED for {engine} in {}: {f:?}", group.name());
                    }
                }
            }
        }
        let mut seen: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
        for side in ORM_SIDES {
            for f in self.runs_of(Group::Orm, side) {
                for (k, v) in f.iter().filter(|(k, _)| k.starts_with("check.")) {
                    match seen.get(k.as_str()) {
                        Some((other, w)) if w != v => {
                            fail!("ORM results differ: {k} is {v} for {side} but {w} for {other}")
                        }
                        Some(_) => {}
                        None => {
                            seen.insert(k, (side, v));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// What the report says about the run besides the figures.
#[derive(Clone, Debug)]
pub struct Context {
    /// The parsed command line.
    pub args: Args,
    /// The command line as typed.
    pub command: String,
    /// The machine.
    pub machine: crate::sys::Machine,
    /// When the report was made.
    pub date: String,
    /// The SQLite library's version.
    pub sqlite_version: String,
    /// How long the whole run took.
    pub total_seconds: f64,
    /// The load average when the run started.
    pub load_before: String,
}

/// How a row's figures read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Operations per second.
    Rate,
    /// Megabytes.
    Mb,
    /// Milliseconds.
    Ms,
    /// Peak RSS, given in KiB, shown in MiB.
    Rss,
    /// A plain count.
    Count,
    /// A ratio of two figures of the same engine.
    Ratio,
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn format_num(kind: Kind, v: f64) -> String {
    match kind {
        Kind::Rate | Kind::Count if v >= 100.0 => thousands(v.round() as u64),
        Kind::Count if v.fract() == 0.0 => format!("{v:.0}"),
        Kind::Rate | Kind::Count => format!("{v:.1}"),
        Kind::Mb if v >= 100.0 => format!("{v:.0}"),
        Kind::Mb => format!("{v:.2}"),
        Kind::Ms if v >= 100.0 => format!("{v:.0}"),
        Kind::Ms if v >= 10.0 => format!("{v:.1}"),
        Kind::Ms => format!("{v:.2}"),
        Kind::Rss => format!("{:.1}", v / 1024.0),
        Kind::Ratio => format!("{v:.2}x"),
    }
}

fn format_cell(kind: Kind, c: Option<Cell>) -> String {
    match c {
        Some(Cell::Num(v)) => format_num(kind, v),
        Some(Cell::Text(t)) => t,
        None => "—".into(),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 && a.is_finite() => {
            let r = a / b;
            if r >= 100.0 {
                format!("{r:.0}x")
            } else if r >= 10.0 {
                format!("{r:.1}x")
            } else {
                format!("{r:.2}x")
            }
        }
        _ => "—".into(),
    }
}

/// A markdown table with its columns padded to line up.
fn markdown(header: &[String], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
            .chain(std::iter::once(header[i].chars().count()))
            .max()
            .unwrap_or(3)
            .max(3)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let line = |cells: &[String]| {
        let mut s = String::from("|");
        for (i, w) in widths.iter().enumerate() {
            let c = cells.get(i).map_or("", String::as_str);
            let pad = w - c.chars().count();
            if i == 0 {
                let _ = write!(s, " {c}{} |", " ".repeat(pad));
            } else {
                let _ = write!(s, " {}{c} |", " ".repeat(pad));
            }
        }
        s.push('\n');
        s
    };
    let mut out = line(header);
    out.push('|');
    for (i, w) in widths.iter().enumerate() {
        if i == 0 {
            let _ = write!(out, " {} |", "-".repeat(*w));
        } else {
            let _ = write!(out, " {}: |", "-".repeat(w - 1));
        }
    }
    out.push('\n');
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

fn engine_label(engine: &str) -> String {
    match engine {
        "strata-buffered" => "strata-buffered (not durable)".into(),
        e => e.into(),
    }
}

/// A figure of `engine` in `group`: "n/a" where the engine could not run
/// the workload.
fn engine_cell(r: &Results, group: Group, engine: &str, key: &str, kind: Kind) -> String {
    match r.median(group, engine, key) {
        None if r.failure(group, engine).is_some() => "n/a".into(),
        c => format_cell(kind, c),
    }
}

/// One line per engine of `engines` that could not run all of `group`,
/// with its reason.
fn failure_notes(r: &Results, group: Group, engines: &[&str]) -> String {
    let mut s = String::new();
    for e in engines {
        if let Some(reason) = r.failure(group, e) {
            let _ = writeln!(
                s,
                "\n{e}: n/a from the first workload it could not run on, which failed with: {reason}"
            );
        }
    }
    s
}

/// One row of an engine table: label, figure key, kind, and whether the
/// row has a ratio to the device limit.
struct Row {
    label: String,
    key: String,
    kind: Kind,
    device: bool,
}

fn row(label: impl Into<String>, key: impl Into<String>, kind: Kind, device: bool) -> Row {
    Row {
        label: label.into(),
        key: key.into(),
        kind,
        device,
    }
}

/// A table of `engines` in `group` over `rows`, with Strata's ratio to
/// each peer and, where the row asks, to the overwrite+fdatasync limit.
fn engine_table(r: &Results, group: Group, rows: &[Row]) -> String {
    let engines: Vec<&str> = ENGINES.into_iter().filter(|e| r.has(group, e)).collect();
    let peers: Vec<&str> = engines
        .iter()
        .copied()
        .filter(|e| !e.starts_with("strata"))
        .collect();
    let strata = r.has(group, "strata");
    let device = r.num(Group::Device, DEVICE, "overwrite_fdatasync");
    let mut header = vec!["workload".to_string()];
    header.extend(engines.iter().map(|e| engine_label(e)));
    if strata {
        header.extend(peers.iter().map(|p| format!("strata ÷ {p}")));
        if device.is_some() {
            header.push("strata ÷ device".into());
        }
    }
    let mut out_rows = Vec::new();
    for row in rows {
        let mut cells = vec![row.label.clone()];
        for e in &engines {
            cells.push(engine_cell(r, group, e, &row.key, row.kind));
        }
        if strata {
            let s = r.num(group, "strata", &row.key);
            for p in &peers {
                cells.push(ratio(s, r.num(group, p, &row.key)));
            }
            if device.is_some() {
                cells.push(if row.device {
                    ratio(s, device)
                } else {
                    "—".into()
                });
            }
        }
        out_rows.push(cells);
    }
    markdown(&header, &out_rows) + &failure_notes(r, group, &engines)
}

fn device_table(r: &Results) -> String {
    let rows = [
        ("4 KiB overwrite + fdatasync (ops/s)", "overwrite_fdatasync"),
        ("4 KiB append + fdatasync (ops/s)", "append_fdatasync"),
        ("peak RSS (MiB)", "rss_kb"),
    ];
    let header = vec!["loop".to_string(), "device".to_string()];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(label, key)| {
            let kind = if *key == "rss_kb" {
                Kind::Rss
            } else {
                Kind::Rate
            };
            vec![
                (*label).to_string(),
                format_cell(kind, r.median(Group::Device, DEVICE, key)),
            ]
        })
        .collect();
    markdown(&header, &cells)
}

fn kv_table(r: &Results) -> String {
    engine_table(r, Group::Kv, &kv_rows())
}

/// The key-value group at `--scale-n` keys, as the key-value table.
fn scale_table(r: &Results) -> String {
    engine_table(r, Group::Scale, &kv_rows())
}

/// Each engine's figure at `--scale-n` keys divided by its figure at N,
/// for the engines that ran both: below 1 a rate fell, above 1 a size or
/// the memory grew.
fn scale_ratio_table(r: &Results, n: u64, scale_n: u64) -> Option<String> {
    let engines: Vec<&str> = ENGINES
        .into_iter()
        .filter(|e| r.has(Group::Kv, e) && r.has(Group::Scale, e))
        .collect();
    if engines.is_empty() {
        return None;
    }
    let mut header = vec!["workload".to_string()];
    header.extend(
        engines
            .iter()
            .map(|e| format!("{e}: {} ÷ {}", thousands(scale_n), thousands(n))),
    );
    let rows: Vec<Vec<String>> = kv_rows()
        .iter()
        .map(|row| {
            let mut cells = vec![row.label.clone()];
            for e in &engines {
                cells.push(ratio(
                    r.num(Group::Scale, e, &row.key),
                    r.num(Group::Kv, e, &row.key),
                ));
            }
            cells
        })
        .collect();
    Some(markdown(&header, &rows))
}

/// The rows of the key-value tables.
fn kv_rows() -> Vec<Row> {
    vec![
        row("bulk load (inserts/s)", "bulk_load", Kind::Rate, false),
        row(
            "individual writes (txns/s)",
            "individual_writes",
            Kind::Rate,
            true,
        ),
        row(
            "batch writes (inserts/s)",
            "batch_writes",
            Kind::Rate,
            false,
        ),
        row(
            "random reads, pass 1 (gets/s)",
            "random_reads_1",
            Kind::Rate,
            false,
        ),
        row(
            "random reads, pass 2 (gets/s)",
            "random_reads_2",
            Kind::Rate,
            false,
        ),
        row(
            "random range reads (scans of 10/s)",
            "range_reads",
            Kind::Rate,
            false,
        ),
        row(
            "concurrent random reads, 1 thread (gets/s)",
            "concurrent_reads_1",
            Kind::Rate,
            false,
        ),
        row(
            "concurrent random reads, 2 threads (gets/s)",
            "concurrent_reads_2",
            Kind::Rate,
            false,
        ),
        row(
            "concurrent random reads, 4 threads (gets/s)",
            "concurrent_reads_4",
            Kind::Rate,
            false,
        ),
        row("removals (keys/s)", "removals", Kind::Rate, false),
        row(
            "file size after load (MB)",
            "size_after_load_mb",
            Kind::Mb,
            false,
        ),
        row(
            "file size after removals (MB)",
            "size_after_removals_mb",
            Kind::Mb,
            false,
        ),
        row(
            "file size after compaction (MB)",
            "size_after_compaction_mb",
            Kind::Mb,
            false,
        ),
        row("peak RSS (MiB)", "rss_kb", Kind::Rss, false),
    ]
}

fn ops_table(r: &Results) -> String {
    let rows = [
        ("database (data file) backed up (MB)", "backup_mb", Kind::Mb),
        ("backup time (s)", "backup_s", Kind::Ms),
        ("backup speed (MB/s)", "backup_mb_s", Kind::Rate),
        (
            "longest writer transaction, no backup (ms)",
            "alone.longest_ms",
            Kind::Ms,
        ),
        (
            "longest writer transaction during the backup (ms)",
            "backup.longest_ms",
            Kind::Ms,
        ),
        (
            "checkpoint time, at the same moment (s)",
            "checkpoint_s",
            Kind::Ms,
        ),
        (
            "longest writer transaction during that checkpoint (ms)",
            "checkpoint.longest_ms",
            Kind::Ms,
        ),
        (
            "writer transactions during the backup",
            "backup.during_txns",
            Kind::Count,
        ),
        (
            "writer p99 latency, no backup (ms)",
            "alone.p99_ms",
            Kind::Ms,
        ),
        (
            "writer p99 latency, with the backup (ms)",
            "backup.p99_ms",
            Kind::Ms,
        ),
        ("writer transactions/s, no backup", "alone.tps", Kind::Rate),
        (
            "writer transactions/s, with the backup",
            "backup.tps",
            Kind::Rate,
        ),
        (
            "data file before deleting 90% of the accounts (MB)",
            "compact.data_before_deletes_mb",
            Kind::Mb,
        ),
        (
            "data file after the deletes, before compaction (MB)",
            "compact.data_before_mb",
            Kind::Mb,
        ),
        (
            "data file after compaction (MB)",
            "compact.data_after_mb",
            Kind::Mb,
        ),
        ("live pages after (MB)", "compact.live_mb", Kind::Mb),
        (
            "data file ÷ live pages after",
            "compact.after_per_live",
            Kind::Ratio,
        ),
        (
            "log before compaction (MB)",
            "compact.log_before_mb",
            Kind::Mb,
        ),
        (
            "log after compaction (MB)",
            "compact.log_after_mb",
            Kind::Mb,
        ),
        ("compaction time (s)", "compact_s", Kind::Ms),
        ("peak RSS (MiB)", "rss_kb", Kind::Rss),
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|&(label, key, kind)| {
            vec![
                label.to_string(),
                format_cell(kind, r.median(Group::Ops, "strata", key)),
            ]
        })
        .collect();
    markdown(&["figure".to_string(), "strata".to_string()], &cells)
}

fn big_table(r: &Results) -> String {
    let rows = [
        row(
            "commit of the transaction (s)",
            "big_commit_s",
            Kind::Ms,
            false,
        ),
        row("inserts/s", "big_inserts", Kind::Rate, false),
        row("file size after (MB)", "big_size_mb", Kind::Mb, false),
        row("peak RSS (MiB)", "rss_kb", Kind::Rss, false),
    ];
    engine_table(r, Group::Big, &rows)
}

fn migration_table(r: &Results) -> String {
    let rows = [
        row(
            "load the rows, 100,000 per transaction (ms)",
            "load_ms",
            Kind::Ms,
            false,
        ),
        row(
            "add an Option field and a field with a default: open and first use; \
             ALTER TABLE ADD COLUMN twice (ms)",
            "add_fields_ms",
            Kind::Ms,
            false,
        ),
        row(
            "build an index on an integer column: open and first use; CREATE INDEX (ms)",
            "build_index_ms",
            Kind::Ms,
            false,
        ),
        row(
            "convert a column in every row: open with a step; UPDATE of every row (ms)",
            "convert_ms",
            Kind::Ms,
            false,
        ),
        row(
            "SQLite's table rebuild for a change of a column's type (ms)",
            "rebuild_ms",
            Kind::Ms,
            false,
        ),
        row("peak RSS (MiB)", "rss_kb", Kind::Rss, false),
    ];
    engine_table(r, Group::Migration, &rows)
}

fn tpcb_table(r: &Results) -> String {
    let mut rows = Vec::new();
    for c in tpcb::CLIENTS {
        let s = if c == 1 { "" } else { "s" };
        rows.push(row(
            format!("{c} client{s}: transactions/s"),
            format!("c{c}.tps"),
            Kind::Rate,
            true,
        ));
        rows.push(row(
            format!("{c} client{s}: p50 latency (ms)"),
            format!("c{c}.p50_ms"),
            Kind::Ms,
            false,
        ));
        rows.push(row(
            format!("{c} client{s}: p99 latency (ms)"),
            format!("c{c}.p99_ms"),
            Kind::Ms,
            false,
        ));
    }
    rows.push(row("peak RSS (MiB)", "rss_kb", Kind::Rss, false));
    engine_table(r, Group::Tpcb, &rows)
}

/// Strata's commits per log sync in the part of `group` whose figures
/// start with `prefix`.
fn commits_per_sync(r: &Results, group: Group, prefix: &str) -> String {
    let commits = r.num(group, "strata", &format!("{prefix}.commits"));
    let syncs = r.num(group, "strata", &format!("{prefix}.log_syncs"));
    match (commits, syncs) {
        (Some(c), Some(s)) if s > 0.0 => format!("{:.2}", c / s),
        _ => "—".into(),
    }
}

/// The counters of an engine's column group in the TPC-B counters table:
/// Strata's (`Database::stats`), or Turso's reruns after a conflict of
/// `BEGIN CONCURRENT`.
fn tpcb_counters(engine: &str) -> &'static [(&'static str, &'static str)] {
    if engine == "turso" {
        &[("retries (conflicts)", "retries")]
    } else {
        &[
            ("retries", "retries"),
            ("deadlocks", "deadlocks"),
            ("lock waits", "lock_waits"),
        ]
    }
}

fn strata_counters_table(r: &Results) -> Option<String> {
    let engines: Vec<&str> = ["strata", "strata-buffered", "turso"]
        .into_iter()
        .filter(|e| r.has(Group::Tpcb, e))
        .collect();
    if !engines.iter().any(|e| e.starts_with("strata")) {
        return None;
    }
    // Only `Durability::Full` syncs the log per commit: the buffered
    // mode's syncs are its checkpoints'.
    let mut header = vec!["clients".to_string()];
    for e in &engines {
        for (what, _) in tpcb_counters(e) {
            header.push(format!("{e}: {what}"));
        }
        if *e == "strata" {
            header.push(format!("{e}: commits per log sync"));
        }
    }
    let mut rows = Vec::new();
    for c in tpcb::CLIENTS {
        let mut cells = vec![c.to_string()];
        for e in &engines {
            for (_, key) in tpcb_counters(e) {
                let key = format!("c{c}.{key}");
                cells.push(engine_cell(r, Group::Tpcb, e, &key, Kind::Count));
            }
            if *e == "strata" {
                cells.push(commits_per_sync(r, Group::Tpcb, &format!("c{c}")));
            }
        }
        rows.push(cells);
    }
    Some(markdown(&header, &rows))
}

fn rw_table(r: &Results) -> String {
    // Label, figure, kind, whether it has a ratio to the device, whether
    // it exists only with readers.
    type Figure = (&'static str, &'static str, Kind, bool, bool);
    let rates: [Figure; 4] = [
        ("writer transactions/s", "tps", Kind::Rate, true, false),
        (
            "writer transactions/s, ÷ with 0 long-lived",
            "vs_r0",
            Kind::Ratio,
            false,
            true,
        ),
        ("writer p99 latency (ms)", "p99_ms", Kind::Ms, false, false),
        (
            "gets/s per long-lived reader, while reading",
            "reader_gets",
            Kind::Rate,
            false,
            true,
        ),
    ];
    let sizes: [Figure; 2] = [
        ("files at the end (MB)", "files_mb", Kind::Mb, false, false),
        ("of which log or WAL (MB)", "log_mb", Kind::Mb, false, false),
    ];
    let mut rows = Vec::new();
    for figures in [&rates[..], &sizes[..]] {
        for n in rw::READERS {
            for &(label, key, kind, device, readers_only) in figures {
                if n > 0 || !readers_only {
                    let s = if n == 1 { "" } else { "s" };
                    let label = format!("{n} long-lived reader{s}: {label}");
                    rows.push(row(label, format!("r{n}.{key}"), kind, device));
                }
            }
        }
    }
    rows.push(row(
        "peak RSS, over the three (MiB)",
        "rss_kb",
        Kind::Rss,
        false,
    ));
    engine_table(r, Group::Rw, &rows)
}

fn rw_strata_table(r: &Results) -> Option<String> {
    if !r.has(Group::Rw, "strata") {
        return None;
    }
    let columns = [
        ("lock waits", "lock_waits", Kind::Count),
        ("checkpoints", "checkpoints", Kind::Count),
        ("snapshots expired", "snapshots_expired", Kind::Count),
        (
            "snapshots begun again by readers",
            "reader_renewals",
            Kind::Count,
        ),
        ("snapshot memory at the end (MB)", "snapshot_mb", Kind::Mb),
    ];
    let mut header = vec!["long-lived readers".to_string()];
    header.extend(columns.iter().map(|c| c.0.to_string()));
    header.push("commits per log sync".into());
    let mut rows = Vec::new();
    for n in rw::READERS {
        let p = format!("r{n}");
        let mut cells = vec![n.to_string()];
        for (_, key, kind) in columns {
            cells.push(format_cell(
                kind,
                r.median(Group::Rw, "strata", &format!("{p}.{key}")),
            ));
        }
        cells.push(commits_per_sync(r, Group::Rw, &p));
        rows.push(cells);
    }
    Some(markdown(&header, &rows))
}

/// Turso's writer retries and reader aborts per count of long-lived
/// readers ([`crate::engines::turso`]).
fn rw_turso_table(r: &Results) -> Option<String> {
    if !r.has(Group::Rw, "turso") {
        return None;
    }
    let header = [
        "long-lived readers",
        "writer retries (conflicts)",
        "read transactions aborted on a commit dependency",
    ]
    .map(String::from);
    let rows: Vec<Vec<String>> = rw::READERS
        .iter()
        .map(|n| {
            let mut cells = vec![n.to_string()];
            for key in ["retries", "reader_aborts"] {
                let key = format!("r{n}.{key}");
                cells.push(engine_cell(r, Group::Rw, "turso", &key, Kind::Count));
            }
            cells
        })
        .collect();
    Some(markdown(&header, &rows))
}

/// The line that states the readers-and-writers checks passed.
fn rw_check_line(r: &Results, ctx: &Context) -> String {
    let engines: Vec<&str> = crate::RW_ENGINES
        .into_iter()
        .filter(|e| r.passed(Group::Rw, e))
        .collect();
    if engines.is_empty() {
        return String::new();
    }
    let readers: Vec<String> = rw::READERS.iter().map(u32::to_string).collect();
    format!(
        "Readers-and-writers checks: passed for {} with {} long-lived readers, in each of {} run(s): \
         every read found its row, every balance read in a reader's first snapshot (begun \
         before the writers) was the loaded 0, the teller and branch totals agreed in every \
         snapshot, and the TPC-B balance check passed after each run.\n",
        engines.join(", "),
        readers.join(", "),
        ctx.args.runs
    )
}

fn orm_table(r: &Results, ctx: &Context) -> String {
    let p = crate::orm::OrmParams::new(ctx.args.quick);
    let gpa_rows = r
        .median(Group::Orm, ORM_SIDES[0], "gpa_range_rows")
        .or_else(|| r.median(Group::Orm, ORM_SIDES[2], "gpa_range_rows"));
    let gpa_rows = format_cell(Kind::Count, gpa_rows);
    let rows = [
        row(
            format!(
                "insert {} users, 1,000 per transaction (rows/s)",
                thousands(p.users)
            ),
            "insert_users",
            Kind::Rate,
            false,
        ),
        row(
            "get by primary key (gets/s)",
            "get_by_pk",
            Kind::Rate,
            false,
        ),
        row(
            "first by unique username (lookups/s)",
            "first_by_username",
            Kind::Rate,
            false,
        ),
        row(
            format!(
                "count of users whose email ends with a domain, scanning {} (queries/s)",
                thousands(p.users)
            ),
            "count_email_domain",
            Kind::Rate,
            false,
        ),
        row(
            format!(
                "students with gpa > 3.5, {gpa_rows} of {} (queries/s)",
                thousands(p.students)
            ),
            "gpa_range",
            Kind::Rate,
            false,
        ),
        row(
            format!(
                "{} persons with their {} addresses, eager (queries/s)",
                thousands(p.persons),
                thousands(p.persons * crate::orm::ADDRESSES_PER_PERSON)
            ),
            "eager_persons",
            Kind::Rate,
            false,
        ),
        row(
            format!(
                "posts per author: group by with count and avg over {} posts (queries/s)",
                thousands(p.posts)
            ),
            "group_by_author",
            Kind::Rate,
            false,
        ),
        row(
            "join with a filter on the parent: a person's addresses (queries/s)",
            "join_parent_filter",
            Kind::Rate,
            false,
        ),
        row(
            format!(
                "case-insensitive search: usernames containing a string, scanning {} (queries/s)",
                thousands(p.users)
            ),
            "icontains_search",
            Kind::Rate,
            false,
        ),
        row(
            "a page of 20 users by username, with the total (pages/s)",
            "paginate_users",
            Kind::Rate,
            false,
        ),
        row("peak RSS (MiB)", "rss_kb", Kind::Rss, false),
    ];
    let sides: Vec<&str> = ORM_SIDES
        .into_iter()
        .filter(|s| r.has(Group::Orm, s))
        .collect();
    let label = |s: &str| match s {
        "strata" => "Strata ORM",
        "strata-raw" => "Strata engine API, by hand",
        "turso" => "Turso (SQL)",
        _ => "SQLite (rusqlite)",
    };
    let mut header = vec!["workload".to_string()];
    header.extend(sides.iter().map(|s| label(s).to_string()));
    let has = |s: &str| sides.contains(&s);
    if has("strata") && has("strata-raw") {
        header.push("ORM overhead (by hand ÷ ORM; target ≤ 1.5x)".into());
    }
    if has("strata") && has("sqlite") {
        header.push("Strata ORM ÷ SQLite".into());
    }
    if has("strata") && has("turso") {
        header.push("Strata ORM ÷ Turso".into());
    }
    let mut out_rows = Vec::new();
    for row in &rows {
        let mut cells = vec![row.label.clone()];
        for s in &sides {
            cells.push(engine_cell(r, Group::Orm, s, &row.key, row.kind));
        }
        let orm = r.num(Group::Orm, "strata", &row.key);
        if has("strata") && has("strata-raw") {
            let raw = r.num(Group::Orm, "strata-raw", &row.key);
            cells.push(if row.kind == Kind::Rate {
                let over = matches!((raw, orm), (Some(a), Some(b)) if b > 0.0 && a / b > 1.5);
                let x = ratio(raw, orm);
                if over {
                    format!("{x} (over target)")
                } else {
                    x
                }
            } else {
                ratio(orm, raw)
            });
        }
        for peer in ["sqlite", "turso"] {
            if has("strata") && has(peer) {
                cells.push(ratio(orm, r.num(Group::Orm, peer, &row.key)));
            }
        }
        out_rows.push(cells);
    }
    markdown(&header, &out_rows) + &failure_notes(r, Group::Orm, &sides)
}

/// The line that states the TPC-B balance checks passed.
fn balance_line(r: &Results, ctx: &Context) -> String {
    let engines: Vec<&str> = ENGINES
        .into_iter()
        .filter(|e| r.passed(Group::Tpcb, e))
        .collect();
    if engines.is_empty() {
        return String::new();
    }
    let clients: Vec<String> = tpcb::CLIENTS.iter().map(u32::to_string).collect();
    format!(
        "TPC-B balance check: passed for {} after {} clients, in each of {} run(s): \
         every sum of account, teller and branch balances equals the sum of the history \
         deltas and of the deltas the clients committed.\n",
        engines.join(", "),
        clients.join(", "),
        ctx.args.runs
    )
}

/// The tables, with their headings and notes: what the parent prints.
pub fn tables(r: &Results, ctx: &Context) -> String {
    let a = &ctx.args;
    let mut s = String::new();
    let runs = if a.runs == 1 {
        "Figures are from one run".to_string()
    } else {
        format!("Figures are the medians of {} runs", a.runs)
    };
    let _ = writeln!(
        s,
        "{runs}. Ratios are Strata's figure divided by the other's: above 1 \
         is better for throughput, worse for sizes, latencies and memory. \"device\" is the \
         4 KiB overwrite + fdatasync loop on the same file system.\n"
    );
    if r.has(Group::Device, DEVICE) {
        let _ = writeln!(s, "## Device limit\n\n{}", device_table(r));
    }
    if ENGINES.iter().any(|e| r.has(Group::Kv, e)) {
        let kvp = crate::kv::KvParams::new(a.n, a.quick);
        let _ = writeln!(
            s,
            "## Key-value workloads\n\nN = {} random 24-byte keys with 150-byte values; \
             {} individual writes; {} batches of {}; {} gets per read transaction; \
             the concurrent reads do N gets in all, split over the threads; removals take \
             half the keys in one transaction. File sizes are of every file of the \
             database after a checkpoint (Strata, SQLite) or as committed (redb, LMDB); \
             compaction is Strata's and redb's `compact()` and SQLite's `VACUUM`, n/a where \
             the engine has none. Strata's size includes its log, which a checkpoint rewinds \
             but keeps allocated ({} MiB preallocated, up to about {} MiB after large \
             transactions; compaction cuts it back to the preallocation).\n\n{}",
            thousands(a.n),
            thousands(kvp.individual_writes),
            kvp.batches,
            thousands(kvp.batch_size),
            thousands(crate::kv::READS_PER_TXN),
            strata_engine::Options::default().log_preallocate >> 20,
            strata_engine::Options::default().checkpoint_log_size >> 20,
            kv_table(r)
        );
    }
    if ENGINES.iter().any(|e| r.has(Group::Scale, e)) {
        let _ = writeln!(
            s,
            "## Key-value workloads at N = {}\n\nThe key-value workloads again, the same in \
             every way but N (so the reads do N gets per pass, the removals take N/2 keys): \
             here the data outgrows Strata's {} MiB page cache. Peak RSS is the child \
             process's over the whole group; for Strata and LMDB it counts the data file's \
             pages the process has read through its mapping (shared and clean: the kernel \
             reclaims them without writing). Strata, redb and LMDB run at this size; \
             SQLite (left out to keep a full run within a few hours; it trails Strata \
             on every workload at N) and Turso (whose MVCC journal keeps a \
             transaction's row versions in memory until a checkpoint) do not.\n\n{}",
            thousands(a.scale_n),
            strata_engine::Options::default().cache_size >> 20,
            scale_table(r)
        );
        if let Some(t) = scale_ratio_table(r, a.n, a.scale_n) {
            let _ = writeln!(
                s,
                "Each engine's figure at N = {} divided by its figure at N = {} in the same \
                 run: below 1 a rate fell, above 1 a size or the memory grew.\n\n{t}",
                thousands(a.scale_n),
                thousands(a.n)
            );
        }
    }
    if ENGINES.iter().any(|e| r.has(Group::Tpcb, e)) {
        let scale = tpcb::Scale::new(a.quick);
        let _ = writeln!(
            s,
            "## TPC-B-like (pgbench's default script)\n\n{} branch, {} tellers, {} accounts; \
             {} s per client count; latency is per transaction, from its start to the \
             return of its commit.\n\n{}",
            scale.branches,
            scale.tellers,
            thousands(u64::from(scale.accounts)),
            a.seconds,
            tpcb_table(r)
        );
        if let Some(t) = strata_counters_table(r) {
            let _ = writeln!(
                s,
                "Strata's counters during each client count (`Database::stats`): retries of \
                 deadlock victims by `Database::transaction`, deadlocks, lock waits, and \
                 commits per log sync (group commit).\n\n{t}"
            );
        }
        s.push_str(&balance_line(r, ctx));
        s.push('\n');
    }
    if crate::RW_ENGINES.iter().any(|e| r.has(Group::Rw, e)) {
        let scale = tpcb::Scale::new(a.quick);
        let opts = strata_engine::Options::default();
        let _ = writeln!(
            s,
            "## Readers and writers\n\n{} TPC-B writers for {} s beside {} readers, of which \
             0, 1 or 4 are long-lived, each count on a freshly loaded database ({} accounts). \
             A long-lived reader opens one read transaction before the writers start and \
             keeps it until they stop (Strata `begin_read`; SQLite a connection of its own \
             in `BEGIN` after a first `SELECT`; redb `begin_read`; LMDB a read transaction); \
             the others begin a new one for each batch and hold none while they pause. \
             Every reader reads batches of {} \
             random accounts and every teller and branch, with a pause of {} ms after each \
             batch, so that the readers' own CPU time does not stand for what their open \
             snapshots cost the writers; and every count has the same readers, because \
             threads that merely wake up often made this virtual machine's fsync-bound \
             writers up to twice as fast. \"÷ with 0 long-lived\" is an engine's writer \
             throughput divided by its throughput with no long-lived reader, in the same \
             run (the median of the runs' ratios); a long reader should cost Strata's \
             writers at most 20% (0.80x or more). Gets/s per long-lived reader are over \
             the time spent reading, pauses excluded. Files are measured as the writers \
             left them, the readers still open: SQLite cannot checkpoint its WAL past an \
             open reader, redb and LMDB cannot reuse the pages an open reader sees, and \
             Strata keeps the before-images of changed keys in memory instead, up to \
             `Options::max_snapshot_memory` ({} MiB), past which the oldest snapshot \
             expires and its reader begins a new one.\n\n{}",
            rw::WRITERS,
            a.seconds,
            rw::READER_THREADS,
            thousands(u64::from(scale.accounts)),
            rw::READ_BATCH,
            rw::READ_PAUSE.as_millis(),
            opts.max_snapshot_memory >> 20,
            rw_table(r)
        );
        if let Some(t) = rw_strata_table(r) {
            let _ = writeln!(
                s,
                "Strata during each count of long-lived readers (`Database::stats`), and the \
                 snapshots those readers had to begin again after theirs expired.\n\n{t}"
            );
        }
        if let Some(t) = rw_turso_table(r) {
            let _ = writeln!(
                s,
                "Turso during each count of long-lived readers: writer transactions run again \
                 after a conflict of `BEGIN CONCURRENT`, and read transactions whose `COMMIT` \
                 failed because they had read the write of a transaction that then aborted \
                 (\"Commit dependency aborted\"); those readers roll back and go on. Until its \
                 `COMMIT`, such a reader has read writes that may yet be undone, so the checks \
                 made inside its snapshot (teller and branch totals agree) can fail on Turso \
                 where its `COMMIT` would have reported the abort.\n\n{t}"
            );
        }
        s.push_str(&rw_check_line(r, ctx));
        s.push('\n');
    }
    if ENGINES.iter().any(|e| r.has(Group::Big, e)) {
        let mb = ENGINES
            .iter()
            .find_map(|e| r.median(Group::Big, e, "big_mb"));
        let _ = writeln!(
            s,
            "## One large transaction\n\nOne write transaction of {} MiB of random 24-byte \
             keys with {}-byte values into an empty table, committed (the time includes the \
             puts). Strata's transaction buffer is bounded by `Options::txn_memory_limit` ({} \
             MiB by default): past it the writes spill to a scratch file, and a commit too \
             large for the log goes by checkpoint, writing pages out as it goes. Peak RSS is \
             the child process's.\n\n{}",
            format_cell(Kind::Count, mb),
            crate::kv::BIG_VALUE_LEN,
            strata_engine::Options::default().txn_memory_limit >> 20,
            big_table(r)
        );
    }
    if ENGINES.iter().any(|e| r.has(Group::Migration, e)) {
        let rows = ["strata", "sqlite"]
            .iter()
            .find_map(|e| r.median(Group::Migration, e, "rows"));
        let _ = writeln!(
            s,
            "## Schema migration\n\nA table of {} posts (id, title, author) changes its \
             schema; each change is durable when it returns. Strata opens the file each \
             time (`strata::Database::open`, then the first use of the new model; \
             `open_migrated` for the step), and adds fields without rewriting a row; \
             SQLite runs each change in one `BEGIN IMMEDIATE` transaction on an open \
             connection. The conversion makes an integer column a float, half of it: a \
             `Migration::convert` step on Strata, `UPDATE posts SET score = score * 0.5` on \
             SQLite, whose columns have no fixed type; the table rebuild is what SQLite \
             prescribes for a change of a column's declared type (`CREATE TABLE`, `INSERT \
             ... SELECT`, `DROP TABLE`, `ALTER TABLE ... RENAME`, `CREATE INDEX`).\n\n{}",
            format_cell(Kind::Count, rows),
            migration_table(r)
        );
    }
    if ORM_SIDES.iter().any(|e| r.has(Group::Orm, e)) {
        let _ = writeln!(
            s,
            "## ORM workloads\n\nThe seed's models (User with unique username and email, \
             Student with a name, a student number, a major and an indexed gpa, Person and Address 1:n with an index on \
             address.person_id). Lookups run {} to a read transaction. SQLite and Turso run \
             the same SQL, and load the persons with one `LEFT JOIN` query. \"By hand\" is the same work through \
             Strata's engine API with hand-encoded rows and index tables.\n\n{}",
            thousands(crate::orm::LOOKUPS_PER_TXN as u64),
            orm_table(r, ctx)
        );
    }
    if r.has(Group::Ops, "strata") {
        let accounts = format_cell(Kind::Count, r.median(Group::Ops, "strata", "accounts"));
        let _ = writeln!(
            s,
            "## Operations: online backup and compaction (Strata)\n\nThe TPC-B tables with \
             {accounts} accounts, loaded and checkpointed. {} TPC-B writers (`Durability::Full`) \
             run for {} s alone, then for {} s (or longer, if the backup is) with \
             `Database::backup_to` started a quarter of the way in. The longest writer \
             transaction during the backup is the longest of those that ran while it did: the \
             longest stall the backup caused. A backup begins with a checkpoint, so the writers \
             also ran once with a plain checkpoint at the same moment. The copy opened, \
             passed `check()` and had balanced sums. Then nine accounts in ten were deleted and \
             `Database::compact` ran alone; the data file after it is within 1.2x of its live \
             pages by contract, and every surviving account was still there.\n\n{}",
            crate::ops::WRITERS,
            a.seconds,
            a.seconds,
            ops_table(r)
        );
    }
    s
}

/// The configuration line of Turso, empty in a build without it.
fn turso_configuration() -> String {
    #[cfg(feature = "turso")]
    {
        use crate::engines::turso;
        format!(
            "- turso: crate `turso` {} (pinned), `PRAGMA journal_mode = 'mvcc'` (commits \
             append to a logical log, checkpointed into the database file), `PRAGMA \
             synchronous = FULL` on every connection (a commit returns after the log's \
             fsync), every write transaction `BEGIN CONCURRENT` and run again after a \
             conflict (counted as retries), reads in a plain `BEGIN`, busy timeout {} s, \
             prepared statements cached per connection, default page cache; the same SQL \
             as sqlite, but the key-value table is a rowid table with a unique key index, \
             as Turso refuses `INSERT OR REPLACE` and `DELETE` on `WITHOUT ROWID` tables. \
             `VACUUM` is its experimental one. Not run \
             in the one-large-transaction group: its MVCC journal holds a transaction's \
             rows in memory.\n",
            turso::VERSION,
            turso::BUSY_TIMEOUT.as_secs()
        )
    }
    #[cfg(not(feature = "turso"))]
    String::new()
}

/// The complete markdown document for `--write`.
pub fn document(r: &Results, ctx: &Context, tables: &str) -> String {
    let m = &ctx.machine;
    let a = &ctx.args;
    let mut s = String::new();
    let _ = writeln!(s, "# Strata benchmarks\n");
    let _ = writeln!(
        s,
        "Made by `strata-bench` (package `strata-benches`) on {}, in {:.0} s.\n",
        ctx.date, ctx.total_seconds
    );
    let _ = writeln!(s, "Command: `{}`\n", ctx.command);
    let profile = if cfg!(debug_assertions) {
        "with debug assertions on (not a release build)"
    } else {
        "release build"
    };
    let _ = writeln!(
        s,
        "N = {}, {} run(s), {} s per TPC-B client count{}; {profile}.\n",
        thousands(a.n),
        a.runs,
        a.seconds,
        if a.quick { ", --quick sizes" } else { "" }
    );
    let _ = writeln!(s, "## Machine\n");
    let machine = [
        ("nproc", m.nproc.clone()),
        ("CPU", m.cpu.clone()),
        ("memory", m.memory.clone()),
        ("file system (df -T)", m.file_system.clone()),
        ("kernel (uname -r)", m.kernel.clone()),
        ("rustc", m.rustc.clone()),
        (
            "load average (1, 5, 15 min) at start / end",
            format!("{} / {}", ctx.load_before, m.load),
        ),
        ("scheduling policy", m.scheduling.clone()),
        (
            "peers",
            format!(
                "{}; SQLite {}",
                env!("STRATA_BENCH_CRATES"),
                ctx.sqlite_version
            ),
        ),
    ];
    for (k, v) in machine {
        let _ = writeln!(s, "- {k}: {v}");
    }
    let _ = writeln!(
        s,
        "\n## Configuration\n\n\
         - strata: `Durability::Full`, default `Options` ({} MiB page cache, checkpoint \
         after {} MiB of log); strata-buffered: the same with `Durability::Buffered` \
         (a power failure may lose the last commits).\n\
         - sqlite: WAL journal, `synchronous=FULL`, `BEGIN IMMEDIATE` for writes, busy \
         timeout {} s, prepared statements, default page cache.\n\
         - redb: default durability (`Immediate`) and default cache.\n\
         - lmdb: heed, default flags (synced commits), map size {} GiB.\n\
         {}\
         - Each engine runs in its own process; its peak RSS is that process's \
         `ru_maxrss`.\n",
        strata_engine::Options::default().cache_size >> 20,
        strata_engine::Options::default().checkpoint_log_size >> 20,
        crate::engines::sqlite::BUSY_TIMEOUT.as_secs(),
        crate::engines::lmdb::MAP_SIZE >> 30,
        turso_configuration(),
    );
    s.push_str(tables);
    let _ = writeln!(
        s,
        "\nWhere Strata trails a peer, `docs/profiles.md` has the instruction-count profiles \
         (callgrind) and what they point to."
    );
    let _ = r;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_formats() {
        let mut r = Results::default();
        for v in ["3", "1", "2"] {
            let mut f = Figures::new();
            f.insert("x".into(), v.into());
            f.insert("s".into(), "n/a".into());
            r.add(Group::Kv, "strata", f);
        }
        assert_eq!(r.median(Group::Kv, "strata", "x"), Some(Cell::Num(2.0)));
        assert_eq!(
            r.median(Group::Kv, "strata", "s"),
            Some(Cell::Text("n/a".into()))
        );
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(ratio(Some(3.0), Some(2.0)), "1.50x");
        assert_eq!(ratio(None, Some(2.0)), "—");
    }

    #[test]
    fn readers_and_writers_rows_and_checks() {
        let mut r = Results::default();
        for (engine, vs) in [("strata", "0.950"), ("sqlite", "0.500")] {
            let mut f = Figures::new();
            for (k, v) in [
                ("r0.tps", "1000"),
                ("r1.vs_r0", vs),
                ("balance_check", "passed"),
                ("reader_check", "passed"),
            ] {
                f.insert(k.into(), v.into());
            }
            r.add(Group::Rw, engine, f);
        }
        r.verify().unwrap();
        let table = rw_table(&r);
        let line = |label: &str| {
            let l = table.lines().find(|l| l.contains(label)).unwrap();
            l.split('|').map(str::trim).collect::<Vec<_>>()
        };
        assert_eq!(
            line("1 long-lived reader: writer transactions/s, ÷ with 0 long-lived")[2..5],
            ["0.95x", "0.50x", "1.90x"]
        );
        assert_eq!(
            line("0 long-lived readers: writer transactions/s")[2..4],
            ["1,000", "1,000"]
        );
        assert!(!table.contains("0 long-lived readers: gets/s"));
        let mut f = Figures::new();
        f.insert("balance_check".into(), "passed".into());
        r.add(Group::Rw, "redb", f);
        assert!(r.verify().is_err(), "a run without its reader check fails");
    }

    #[test]
    fn scale_ratios_divide_each_engines_figures_at_the_two_sizes() {
        let mut r = Results::default();
        assert_eq!(scale_ratio_table(&r, 1_000, 10_000), None);
        for (group, engine, reads, rss) in [
            (Group::Kv, "strata", "800", "1024"),
            (Group::Scale, "strata", "600", "4096"),
            (Group::Kv, "lmdb", "1000", "1024"),
            (Group::Scale, "lmdb", "500", "2048"),
            // redb ran at one size only: no column.
            (Group::Scale, "redb", "100", "1024"),
        ] {
            let mut f = Figures::new();
            f.insert("random_reads_1".into(), reads.into());
            f.insert("rss_kb".into(), rss.into());
            r.add(group, engine, f);
        }
        let table = scale_ratio_table(&r, 1_000, 10_000).unwrap();
        let line = |label: &str| {
            let l = table.lines().find(|l| l.contains(label)).unwrap();
            l.split('|').map(str::trim).collect::<Vec<_>>()
        };
        assert_eq!(
            line("workload")[2..4],
            ["strata: 10,000 ÷ 1,000", "lmdb: 10,000 ÷ 1,000"]
        );
        assert_eq!(line("random reads, pass 1")[2..4], ["0.75x", "0.50x"]);
        assert_eq!(line("peak RSS")[2..4], ["4.00x", "2.00x"]);
        assert_eq!(line("removals")[2..4], ["—", "—"]);
        assert!(!table.contains("redb"));
        assert!(scale_table(&r).contains("| redb"));
    }

    #[test]
    fn an_engine_that_could_not_run_shows_n_a_and_why() {
        let mut r = Results::default();
        let mut f = Figures::new();
        f.insert("c1.tps".into(), "500".into());
        f.insert("balance_check".into(), "passed".into());
        r.add(Group::Tpcb, "sqlite", f.clone());
        // Turso failed before its balance check.
        f.remove("balance_check");
        f.insert("failed".into(), "no such function: frobnicate".into());
        r.add(Group::Tpcb, "turso", f);
        r.verify().unwrap();
        assert_eq!(
            r.failure(Group::Tpcb, "turso"),
            Some("no such function: frobnicate")
        );
        let table = tpcb_table(&r);
        let line = |label: &str| {
            let l = table.lines().find(|l| l.contains(label)).unwrap();
            l.split('|').map(str::trim).collect::<Vec<_>>()
        };
        assert_eq!(line("1 client: transactions/s")[2..4], ["500", "500"]);
        assert_eq!(line("4 clients: transactions/s")[2..4], ["—", "n/a"]);
        assert!(
            table.contains("turso: n/a from the first workload it could not run on, which failed with: no such function: frobnicate"),
            "{table}"
        );
        assert!(!table.contains("sqlite: n/a"));
    }
}
