//! The key-value group's two big transactions, alone, for comparing
//! versions of the engine by instruction counts and I/O rather than by
//! timings (which a busy machine makes noisy): the bulk load (N random
//! keys of 24 bytes with 150-byte values, one transaction) and the
//! removals (half of them, one transaction), with `Durability::Full` and
//! otherwise default options, as `strata-bench` runs them.
//!
//! ```sh
//! cargo build --release -p strata-benches --example bulk_profile
//! valgrind --tool=callgrind --collect-atstart=no \
//!     --toggle-collect='bulk_profile::load' target/release/examples/bulk_profile load
//! strace -c -f target/release/examples/bulk_profile
//! ```
//!
//! Argument: `load` (the bulk load only), or nothing for all the phases:
//! the load, a checkpoint, a pass of N random reads (in read-only
//! transactions of 1,000 gets, as the benchmark's first pass of reads,
//! which also brings the tree into the cache before the removals, as
//! the benchmark's reads do), then the removals. Each phase runs in its own
//! function (`load`, `reads`, `remove`), so that callgrind can count one
//! alone. Each prints its time, the bytes it read and wrote
//! (`/proc/self/io`), and the process's peak RSS so far.
//!
//! Environment: `N`, the keys loaded (default 1,000,000).

#![deny(unsafe_code)]

use std::path::Path;
use std::time::Instant;
use strata_benches::kv::{key, value};
use strata_benches::rng::Rng;
use strata_benches::{Result, fail};
use strata_engine::{Database, Durability, Options};
use strata_tests::TempDir;

const TABLE: &str = "kv";

fn main() -> Result<()> {
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let n = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000u64);
    let dir = TempDir::new("bulk-profile");
    let db = open(dir.path())?;
    measure("load", || load(&db, n))?;
    db.checkpoint()?;
    match which.as_str() {
        "load" => {}
        "all" => {
            measure("reads", || reads(&db, n))?;
            measure("remove", || remove(&db, n / 2))?;
        }
        other => fail!("unknown argument {other}: load, or nothing"),
    }
    Ok(())
}

fn open(dir: &Path) -> Result<Database> {
    let options = Options {
        durability: Durability::Full,
        ..Options::default()
    };
    let db = Database::open_with(dir.join("db.strata"), options)?;
    let mut tx = db.begin()?;
    tx.create_table(TABLE)?;
    tx.commit()?;
    Ok(db)
}

/// The bulk load: `n` inserts and their commit.
#[inline(never)]
fn load(db: &Database, n: u64) -> Result<()> {
    let mut tx = db.begin()?;
    for i in 0..n {
        tx.put(TABLE, &key(i), &value(i))?;
    }
    tx.commit()?;
    Ok(())
}

/// `n` random gets over keys `0..n`, 1,000 per read-only transaction;
/// checks every value.
#[inline(never)]
fn reads(db: &Database, n: u64) -> Result<()> {
    let mut rng = Rng::new(0x5EED_0004);
    for _ in 0..n.div_ceil(1000) {
        let tx = db.begin_read()?;
        for _ in 0..1000 {
            let i = rng.below(n);
            match tx.get(TABLE, &key(i))? {
                Some(v) if v[..] == value(i)[..] => {}
                _ => fail!("key {i}: missing or wrong"),
            }
        }
        tx.commit()?;
    }
    Ok(())
}

/// The removals: keys `0..n` and their commit.
#[inline(never)]
fn remove(db: &Database, n: u64) -> Result<()> {
    let mut tx = db.begin()?;
    for i in 0..n {
        if !tx.delete(TABLE, &key(i))? {
            fail!("key {i} was not there to remove");
        }
    }
    tx.commit()?;
    Ok(())
}

/// Runs `phase`, then prints its time, its I/O and the peak RSS.
fn measure(name: &str, phase: impl FnOnce() -> Result<()>) -> Result<()> {
    let io = proc_io();
    let (user, sys) = cpu_seconds();
    let t = Instant::now();
    phase()?;
    let took = t.elapsed();
    let (user, sys) = (cpu_seconds().0 - user, cpu_seconds().1 - sys);
    let after = proc_io();
    let delta = |field: &str| {
        let get = |m: &[(String, u64)]| m.iter().find(|(k, _)| k == field).map_or(0, |e| e.1);
        get(&after).saturating_sub(get(&io))
    };
    eprintln!(
        "{name}: {:.3} s (CPU {user:.2} s user, {sys:.2} s system), wrote {:.1} MB (write syscalls {}), \
         read {:.1} MB, storage written {:.1} MB, peak RSS {} MiB",
        took.as_secs_f64(),
        delta("wchar") as f64 / 1e6,
        delta("syscw"),
        delta("rchar") as f64 / 1e6,
        delta("write_bytes") as f64 / 1e6,
        peak_rss_kib() / 1024,
    );
    Ok(())
}

/// The counters of `/proc/self/io` (empty where there is none).
fn proc_io() -> Vec<(String, u64)> {
    let text = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// The CPU time of the process so far, user and system, in seconds
/// (`/proc/self/stat`, in ticks of 1/100 s; 0 where there is none).
fn cpu_seconds() -> (f64, f64) {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command's name, which is in parentheses.
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let field = |i: usize| -> f64 {
        rest.split_whitespace()
            .nth(i)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    // utime and stime: fields 14 and 15 of the line, the 12th and 13th
    // after the name.
    (field(11) / 100.0, field(12) / 100.0)
}

/// `VmHWM` of `/proc/self/status`, in KiB.
fn peak_rss_kib() -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
