//! The key-value group's reads, alone, for comparing read paths by
//! timings and instruction counts (issue 17): random gets (1,000 per
//! read-only transaction), scans of 10 entries from a random key, and the
//! gets again on 2 and 4 threads at once, over a database of N random
//! 24-byte keys with 150-byte values loaded in one transaction and
//! checkpointed, with default options, as `strata-bench` runs them.
//!
//! ```sh
//! cargo build --release -p strata-benches --example read_profile
//! N=10000000 target/release/examples/read_profile load /tmp/reads.strata
//! target/release/examples/read_profile read /tmp/reads.strata
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='read_profile::gets' \
//!     target/release/examples/read_profile read /tmp/reads.strata
//! ```
//!
//! `load PATH` creates the database at PATH (which must not exist) and
//! loads it; `read PATH` opens it and runs the reads; with no argument
//! both run on a temporary database. Loading once and reading with two
//! builds of the engine in turn compares them on the same file. Each read
//! phase is a function of its own (`gets`, `scans`, `threads`), so that
//! callgrind can count one alone; each prints its rate, its CPU time, the
//! bytes it read (`/proc/self/io`) and the peak RSS so far.
//!
//! Environment: `N`, the keys loaded (default 1,000,000); `GETS`, the
//! gets (and scans) of each phase (default 1,000,000); `PASSES`, how
//! many times the phases run (default 2: the first also warms the
//! caches); `MAP=0` turns `Options::map_data_file` off.

#![deny(unsafe_code)]

use std::path::Path;
use std::time::Instant;
use strata_benches::kv::{SCAN_LEN, key, value, value_tag};
use strata_benches::rng::Rng;
use strata_benches::{Result, fail};
use strata_engine::{Database, Durability, Options};
use strata_tests::TempDir;

const TABLE: &str = "kv";

use strata_tests::env_count as env;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "all".into());
    let n = env("N", 1_000_000);
    match (which.as_str(), args.next()) {
        ("load", Some(path)) => load_into(Path::new(&path), n),
        ("read", Some(path)) => read_from(Path::new(&path)),
        ("all", None) => {
            let dir = TempDir::new("read-profile");
            let path = dir.path().join("db.strata");
            load_into(&path, n)?;
            read_from(&path)
        }
        _ => fail!("usage: read_profile [load PATH | read PATH]"),
    }
}

fn options() -> Options {
    Options {
        durability: Durability::Full,
        // MAP=0 reads through the page cache (the read path before the
        // mapping), for comparing the two in one build.
        map_data_file: env("MAP", 1) != 0,
        ..Options::default()
    }
}

fn load_into(path: &Path, n: u64) -> Result<()> {
    let db = Database::open_with(path, options())?;
    let mut tx = db.begin()?;
    tx.create_table(TABLE)?;
    tx.commit()?;
    measure("load", n, || load(&db, n))?;
    measure("checkpoint", 1, || Ok(db.checkpoint()?))?;
    // The keys loaded, for `read`.
    let mut tx = db.begin()?;
    tx.create_table("n")?;
    tx.put("n", b"n", &n.to_le_bytes())?;
    tx.commit()?;
    db.checkpoint()?;
    Ok(())
}

fn read_from(path: &Path) -> Result<()> {
    let db = Database::open_with(path, options())?;
    let n = {
        let tx = db.begin_read()?;
        let Some(v) = tx.get("n", b"n")? else {
            fail!("no key count in {}", path.display())
        };
        tx.commit()?;
        u64::from_le_bytes(v[..8].try_into().map_err(|_| "bad key count")?)
    };
    let count = env("GETS", 1_000_000);
    eprintln!("{n} keys, {count} reads a phase");
    for pass in 0..env("PASSES", 2) {
        eprintln!("pass {pass}");
        measure("gets", count, || gets(&db, n, count, pass))?;
        measure("scans", count, || scans(&db, n, count, pass))?;
        measure("gets, 2 threads", count, || threads(&db, n, count, 2))?;
        measure("gets, 4 threads", count, || threads(&db, n, count, 4))?;
    }
    Ok(())
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

/// `count` random gets over keys `0..n`, 1,000 per read-only
/// transaction; checks every value.
#[inline(never)]
fn gets(db: &Database, n: u64, count: u64, seed: u64) -> Result<()> {
    let mut rng = Rng::new(0x5EED_0004 + seed);
    for _ in 0..count.div_ceil(1000) {
        let tx = db.begin_read()?;
        for _ in 0..1000 {
            let i = rng.below(n);
            let tag = tx.get_with(TABLE, &key(i), |v| {
                v.map(|v| u64::from_le_bytes(v[..8].try_into().unwrap_or_default()))
            })?;
            if tag != Some(value_tag(i)) {
                fail!("key {i}: missing or wrong");
            }
        }
        tx.commit()?;
    }
    Ok(())
}

/// `count` scans of [`SCAN_LEN`] entries from a random key, 1,000 per
/// read-only transaction.
#[inline(never)]
fn scans(db: &Database, n: u64, count: u64, seed: u64) -> Result<()> {
    let mut rng = Rng::new(0x5EED_0005 + seed);
    let mut bytes = 0u64;
    for _ in 0..count.div_ceil(1000) {
        let tx = db.begin_read()?;
        for _ in 0..1000 {
            let from = key(rng.below(n));
            let mut range = tx.range(TABLE, &from[..]..)?;
            for _ in 0..SCAN_LEN {
                let Some(item) = range.next_ref() else { break };
                bytes += item?.1.len() as u64;
            }
        }
        tx.commit()?;
    }
    if bytes == 0 {
        fail!("the scans read nothing");
    }
    Ok(())
}

/// `count` random gets in all, split over `t` threads running at once
/// (the rate printed is the total over the threads).
#[inline(never)]
fn threads(db: &Database, n: u64, count: u64, t: u64) -> Result<()> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..t)
            .map(|k| s.spawn(move || gets(db, n, count / t, 100 + k)))
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().map_err(|_| "a reader panicked")?)
    })
}

/// Runs `phase` of `ops` operations, then prints its rate, its CPU time,
/// its I/O and the peak RSS.
fn measure(name: &str, ops: u64, phase: impl FnOnce() -> Result<()>) -> Result<()> {
    let io = proc_io();
    let cpu = cpu_seconds();
    let t = Instant::now();
    phase()?;
    let took = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let read = proc_io().saturating_sub(io);
    eprintln!(
        "{name}: {:.0}/s ({took:.3} s, CPU {cpu:.2} s), read {:.1} MB, peak RSS {} MiB, load {}",
        ops as f64 / took,
        read as f64 / 1e6,
        peak_rss_kib() / 1024,
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim(),
    );
    Ok(())
}

/// `rchar` of `/proc/self/io` (0 where there is none).
fn proc_io() -> u64 {
    let text = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("rchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The CPU time of the process so far, user and system, in seconds
/// (`/proc/self/stat`, in ticks of 1/100 s; 0 where there is none).
fn cpu_seconds() -> f64 {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let field = |i: usize| -> f64 {
        rest.split_whitespace()
            .nth(i)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0)
    };
    (field(11) + field(12)) / 100.0
}

/// `VmHWM` of `/proc/self/status`, in KiB.
fn peak_rss_kib() -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
