//! The device limit: how many 4 KiB writes, each followed by `fdatasync`,
//! the file system of the data directory completes per second. Two
//! loops, in the directory the engines use:
//!
//! - overwrite: over a preallocated file (written with zeros and synced
//!   first), the blocks in turn, so no write changes the file's size (the
//!   pattern of a preallocated log, as Strata's);
//! - append: each write extends the file, so each sync also commits the
//!   file's new size.

use crate::{Out, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Bytes per write.
pub const BLOCK: usize = 4096;
/// Size of the preallocated file of the overwrite loop.
pub const PREALLOCATED: usize = 16 << 20;

fn block(i: u64) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    b[..8].copy_from_slice(&i.to_le_bytes());
    b
}

/// Writes-plus-syncs per second for `seconds`, `op` doing one.
fn measure(seconds: f64, mut op: impl FnMut(u64) -> std::io::Result<()>) -> Result<f64> {
    let limit = Duration::from_secs_f64(seconds);
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < limit || n == 0 {
        op(n)?;
        n += 1;
    }
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// Runs both loops for `seconds` each in `dir`.
pub fn run(dir: &Path, seconds: f64, out: &mut Out) -> Result<()> {
    let path = dir.join("overwrite");
    let mut f = File::create(&path)?;
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..PREALLOCATED / zeros.len() {
        f.write_all(&zeros)?;
    }
    f.sync_all()?;
    let blocks = (PREALLOCATED / BLOCK) as u64;
    let rate = measure(seconds, |i| {
        f.write_all_at(&block(i), (i % blocks) * BLOCK as u64)?;
        f.sync_data()
    })?;
    out.put("overwrite_fdatasync", format!("{rate:.1}"));
    drop(f);
    std::fs::remove_file(&path)?;

    let path = dir.join("append");
    let mut f = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&path)?;
    let rate = measure(seconds, |i| {
        f.write_all(&block(i))?;
        f.sync_data()
    })?;
    out.put("append_fdatasync", format!("{rate:.1}"));
    drop(f);
    std::fs::remove_file(&path)?;
    Ok(())
}
