//! Operations under load (group `ops`, Strata only): how long an online
//! backup takes and how long it holds the writers back, and what a
//! compaction gives back once most rows are deleted.
//!
//! BACKUP
//!
//! The TPC-B tables are loaded with N accounts (`--n`, 1,000,000 by
//! default) and checkpointed. [`WRITERS`] TPC-B clients
//! (`Durability::Full`) then run for `--seconds` twice: alone, and with
//! `Database::backup_to` started a quarter of the way in (they go on for a
//! quarter of the time after it returns, and at least `--seconds` in all).
//! Reported: the copy's size, the backup's time and speed, the writers'
//! longest transaction with no backup beside them and among the
//! transactions that ran while the backup did (the longest writer stall
//! it caused), how many ran meanwhile, and the writers' rates. A backup
//! begins with a checkpoint, which commits wait for as for any checkpoint,
//! so the writers also run once more with a plain `Database::checkpoint`
//! at the same moment, for comparison. The copy
//! must open, pass `check()` and have balanced TPC-B sums (a state as of
//! one commit); the source must pass the TPC-B balance check after both
//! runs.
//!
//! COMPACTION
//!
//! Then nine accounts in ten are deleted, in transactions of
//! [`DELETE_BATCH`], and checkpointed, and `Database::compact` runs with
//! nothing beside it. Reported: its time; the data file before the
//! deletes, before the compaction (checkpoints already move pages down
//! once a quarter of the file is free, so part of the space may be back
//! by then) and after it; the log before and after; the live pages
//! (`check()`'s used pages); and the data file over its live pages
//! afterwards (at most 1.2, by `compact`'s contract).
//! Every surviving account must still be there, and `check()` must pass.

use crate::engines::strata::{StrataTpcb, tpcb_sums};
use crate::tpcb::{self, Clients, Scale, Table};
use crate::{Out, Result, fail};
use std::path::Path;
use std::time::{Duration, Instant};
use strata_engine::{Database, Durability, Options};

/// TPC-B clients beside the backup.
pub const WRITERS: u32 = 4;
/// Accounts deleted per transaction before the compaction.
pub const DELETE_BATCH: u32 = 100_000;

fn mb(bytes: u64) -> String {
    format!("{:.2}", bytes as f64 / 1e6)
}

fn ms(us: u32) -> String {
    format!("{:.2}", f64::from(us) / 1000.0)
}

/// Runs the backup and the compaction on a database of `n` accounts in
/// `dir`, the writers for `seconds` each time, writing the figures to
/// `out`.
pub fn run(dir: &Path, n: u64, seconds: f64, out: &mut Out) -> Result<()> {
    let scale = Scale {
        accounts: u32::try_from(n)?,
        tellers: 10,
        branches: 1,
    };
    out.put("accounts", scale.accounts);
    let t = Instant::now();
    let engine = StrataTpcb::load(dir, Durability::Full, scale)?;
    out.put("load_s", format!("{:.2}", t.elapsed().as_secs_f64()));
    let db = engine.database();
    tpcb::check_fresh(&engine)?;

    let mut clients = Clients::default();
    let alone = clients.burst(&engine, scale, WRITERS, seconds)?;
    alone.report("alone", out);
    out.put(
        "alone.longest_ms",
        ms(alone.latencies_us.last().copied().unwrap_or(0)),
    );

    // A plain checkpoint at the same moment, for comparison: the backup
    // begins with one (`engine/src/db/backup.rs`), and commits wait for it.
    let ws = Writers {
        engine: &engine,
        scale,
        seconds,
    };
    ws.beside(
        &mut clients,
        "checkpoint",
        out,
        &mut || Ok(db.checkpoint()?),
    )?;
    let copy = dir.join("copy.strata");
    let took = ws.beside(
        &mut clients,
        "backup",
        out,
        &mut || Ok(db.backup_to(&copy)?),
    )?;
    let copied = std::fs::metadata(&copy)?.len();
    out.put("backup_mb", mb(copied));
    let speed = copied as f64 / 1e6 / took.as_secs_f64().max(1e-9);
    out.put("backup_mb_s", format!("{speed:.1}"));
    clients.check_balances(&engine, "ops", out)?;
    check_copy(&copy)?;
    out.put("backup_check", "passed");
    std::fs::remove_file(&copy)?;

    compaction(db, scale, out)
}

/// The writers of the backup runs.
struct Writers<'e> {
    engine: &'e StrataTpcb,
    scale: Scale,
    seconds: f64,
}

impl Writers<'_> {
    /// Runs the writers for `seconds`, with `op` started a quarter of the
    /// way in (and for a quarter of that time at least after it returns).
    /// Writes the writers' figures under `prefix` (`.tps`, `.p99_ms`, ...),
    /// with `{prefix}_s` (the time `op` took), `{prefix}.during_txns` and
    /// `{prefix}.longest_ms` (the transactions that ran while `op` did, and
    /// the longest of them). Returns the time `op` took.
    fn beside(
        &self,
        clients: &mut Clients,
        prefix: &str,
        out: &mut Out,
        op: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Duration> {
        let quarter = Duration::from_secs_f64(self.seconds / 4.0);
        let mut window = None;
        let burst =
            clients.burst_beside(self.engine, self.scale, WRITERS, self.seconds, &mut || {
                std::thread::sleep(quarter);
                let began = Instant::now();
                op()?;
                window = Some((began, Instant::now()));
                std::thread::sleep(quarter);
                Ok(())
            })?;
        let Some((began, ended)) = window else {
            fail!("{prefix} did not run");
        };
        burst.report(prefix, out);
        out.put(
            &format!("{prefix}_s"),
            format!("{:.3}", (ended - began).as_secs_f64()),
        );
        let during: Vec<u32> = burst.during(began, ended).collect();
        out.put(&format!("{prefix}.during_txns"), during.len());
        out.put(
            &format!("{prefix}.longest_ms"),
            ms(during.iter().copied().max().unwrap_or(0)),
        );
        Ok(ended - began)
    }
}

/// Fails unless the copy at `path` opens, passes `check()`, and has
/// balanced sums.
fn check_copy(path: &Path) -> Result<()> {
    let options = Options {
        read_only: true,
        create: false,
        ..Options::default()
    };
    let copy = Database::open_with(path, options)?;
    copy.check()?;
    let s = tpcb_sums(&copy)?;
    if s.accounts != s.history || s.tellers != s.history || s.branches != s.history {
        fail!("the backup is not the database as of one commit: {s:?}");
    }
    Ok(())
}

/// Deletes nine accounts in ten, then compacts (COMPACTION above).
fn compaction(db: &Database, scale: Scale, out: &mut Out) -> Result<()> {
    let accounts = Table::Accounts.name();
    db.checkpoint()?;
    out.put(
        "compact.data_before_deletes_mb",
        mb(std::fs::metadata(db.path())?.len()),
    );
    for start in (1..=scale.accounts).step_by(DELETE_BATCH as usize) {
        let mut tx = db.begin()?;
        for a in start..=scale.accounts.min(start + DELETE_BATCH - 1) {
            if a % 10 != 0 && !tx.delete(accounts, &tpcb::id_key(a))? {
                fail!("account {a} was not there to delete");
            }
        }
        tx.commit()?;
    }
    db.checkpoint()?;
    let t = Instant::now();
    let r = db.compact()?;
    out.put("compact_s", format!("{:.3}", t.elapsed().as_secs_f64()));
    let live = db.check()?.used_pages * db.info()?.page_size as u64;
    out.put("compact.data_before_mb", mb(r.data_before));
    out.put("compact.data_after_mb", mb(r.data_after));
    out.put("compact.log_before_mb", mb(r.log_before));
    out.put("compact.log_after_mb", mb(r.log_after));
    out.put("compact.live_mb", mb(live));
    out.put(
        "compact.after_per_live",
        format!("{:.3}", r.data_after as f64 / live.max(1) as f64),
    );
    let tx = db.begin_read()?;
    let left = tx.range(accounts, ..)?.count() as u32;
    if left != scale.accounts / 10 {
        fail!(
            "{left} accounts after the compaction, not {}",
            scale.accounts / 10
        );
    }
    out.put("compact_check", "passed");
    Ok(())
}
