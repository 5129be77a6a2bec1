//! The key-value workloads (after redb's benchmark), run against any
//! engine through three small traits.
//!
//! Keys are 24 random bytes and values 150 random bytes, both derived from
//! the key's index `i` with a fixed seed, so any key can be regenerated
//! without keeping them all in memory (which would inflate every engine's
//! peak RSS alike). The first 8 bytes of key `i` are a bijection of `i`,
//! so keys never collide. Reads pick indexes with [`Rng`] and check each
//! value's length and first 8 bytes.
//!
//! Every read transaction serves [`READS_PER_TXN`] gets (or scans), for
//! every engine: a transaction per get would measure transaction start-up,
//! one transaction for everything would hide it.

use crate::rng::{Rng, mix};
use crate::{Out, Result, fail};
use std::path::Path;
use std::time::Instant;

/// Bytes in a key.
pub const KEY_LEN: usize = 24;
/// Bytes in a value.
pub const VALUE_LEN: usize = 150;
/// Gets (or scans) served by each read transaction.
pub const READS_PER_TXN: u64 = 1_000;
/// Entries read by each range scan.
pub const SCAN_LEN: usize = 10;

const KEY_SEED: u64 = 0x5EED_0001;
const VALUE_SEED: u64 = 0x5EED_0002;
const READ_SEED: u64 = 0x5EED_0003;

/// Key number `i`.
pub fn key(i: u64) -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    k[..8].copy_from_slice(&mix(i ^ KEY_SEED).to_be_bytes());
    Rng::new(i.wrapping_add(KEY_SEED)).fill(&mut k[8..]);
    k
}

/// The first 8 bytes of value number `i`, as a little-endian `u64`.
pub fn value_tag(i: u64) -> u64 {
    mix(i ^ VALUE_SEED)
}

/// Value number `i`.
pub fn value(i: u64) -> [u8; VALUE_LEN] {
    let mut v = [0u8; VALUE_LEN];
    v[..8].copy_from_slice(&value_tag(i).to_le_bytes());
    Rng::new(i.wrapping_add(VALUE_SEED)).fill(&mut v[8..]);
    v
}

/// What a read returns: the value's length and its first 8 bytes.
pub fn summary(v: &[u8]) -> (usize, u64) {
    let mut tag = [0u8; 8];
    let n = v.len().min(8);
    tag[..n].copy_from_slice(&v[..n]);
    (v.len(), u64::from_le_bytes(tag))
}

/// Writes inside one write transaction.
pub trait KvWrite {
    /// Stores `value` under `key`.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()>;
    /// Removes `key`; whether it was there.
    fn remove(&mut self, key: &[u8]) -> Result<bool>;
}

/// Reads inside one read transaction.
pub trait KvRead {
    /// The [`summary`] of the value under `key`.
    fn get(&mut self, key: &[u8]) -> Result<Option<(usize, u64)>>;
    /// Reads up to `n` entries from `from` on; returns how many and the
    /// sum of their value lengths.
    fn scan(&mut self, from: &[u8], n: usize) -> Result<(usize, u64)>;
}

/// A handle on one engine's key-value table.
pub trait KvEngine: Send {
    /// Another handle on the same database, for another thread.
    fn handle(&self) -> Result<Box<dyn KvEngine>>;
    /// Runs `f` in one write transaction and commits it.
    fn write(&mut self, f: &mut dyn FnMut(&mut dyn KvWrite) -> Result<()>) -> Result<()>;
    /// Runs `f` in one read transaction.
    fn read(&mut self, f: &mut dyn FnMut(&mut dyn KvRead) -> Result<()>) -> Result<()>;
    /// Brings the files to rest so that their size means something: a
    /// checkpoint where the engine has one.
    fn settle(&mut self) -> Result<()>;
    /// Compacts the database; `false` if the engine has no compaction.
    fn compact(&mut self) -> Result<bool>;
}

/// How much work the key-value group does.
#[derive(Clone, Copy, Debug)]
pub struct KvParams {
    /// Keys loaded in bulk (N).
    pub n: u64,
    /// Transactions of one insert.
    pub individual_writes: u64,
    /// Transactions of `batch_size` inserts.
    pub batches: u64,
    /// Inserts per batch.
    pub batch_size: u64,
}

impl KvParams {
    /// The benchmark's sizes, or the `--quick` ones.
    pub fn new(n: u64, quick: bool) -> KvParams {
        if quick {
            KvParams {
                n,
                individual_writes: 200,
                batches: 10,
                batch_size: 100,
            }
        } else {
            KvParams {
                n,
                individual_writes: 2_000,
                batches: 100,
                batch_size: 1_000,
            }
        }
    }
}

/// `count` random gets over keys `0..total`, [`READS_PER_TXN`] per read
/// transaction; checks every value.
fn random_gets(e: &mut dyn KvEngine, total: u64, count: u64, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed);
    let mut done = 0;
    while done < count {
        let batch = READS_PER_TXN.min(count - done);
        e.read(&mut |r| {
            for _ in 0..batch {
                let i = rng.below(total);
                match r.get(&key(i))? {
                    Some((VALUE_LEN, tag)) if tag == value_tag(i) => {}
                    Some((len, _)) => fail!("key {i}: wrong value ({len} bytes)"),
                    None => fail!("key {i} is missing"),
                }
            }
            Ok(())
        })?;
        done += batch;
    }
    Ok(())
}

fn size_mb(dir: &Path) -> Result<f64> {
    Ok(crate::sys::dir_size(dir)? as f64 / 1e6)
}

/// Runs the key-value workloads on `e`, whose files are all in `dir`,
/// writing each figure to `out`.
pub fn run(e: &mut dyn KvEngine, p: KvParams, dir: &Path, out: &mut Out) -> Result<()> {
    let n = p.n;

    // 1. Bulk load: N inserts in one transaction.
    let t = Instant::now();
    e.write(&mut |w| {
        for i in 0..n {
            w.put(&key(i), &value(i))?;
        }
        Ok(())
    })?;
    out.rate("bulk_load", n, t.elapsed());
    e.settle()?;
    out.put("size_after_load_mb", format!("{:.2}", size_mb(dir)?));
    let mut next = n;

    // 2. Individual writes.
    let t = Instant::now();
    for _ in 0..p.individual_writes {
        let i = next;
        e.write(&mut |w| w.put(&key(i), &value(i)))?;
        next += 1;
    }
    out.rate("individual_writes", p.individual_writes, t.elapsed());

    // 3. Batch writes.
    let t = Instant::now();
    for _ in 0..p.batches {
        let first = next;
        e.write(&mut |w| {
            for i in first..first + p.batch_size {
                w.put(&key(i), &value(i))?;
            }
            Ok(())
        })?;
        next += p.batch_size;
    }
    out.rate("batch_writes", p.batches * p.batch_size, t.elapsed());
    let total = next;

    // 4. Random reads: N gets, twice.
    for pass in 1..=2 {
        let t = Instant::now();
        random_gets(e, total, n, READ_SEED + pass)?;
        out.rate(&format!("random_reads_{pass}"), n, t.elapsed());
    }

    // 5. Random range reads: N/2 scans of 10 entries.
    let scans = (n / 2).max(1);
    let mut rng = Rng::new(READ_SEED + 10);
    let mut entries = 0u64;
    let t = Instant::now();
    let mut done = 0;
    while done < scans {
        let batch = READS_PER_TXN.min(scans - done);
        e.read(&mut |r| {
            for _ in 0..batch {
                let i = rng.below(total);
                let (got, bytes) = r.scan(&key(i), SCAN_LEN)?;
                if got == 0 || bytes != (got * VALUE_LEN) as u64 {
                    fail!("scan from key {i}: {got} entries, {bytes} value bytes");
                }
                entries += got as u64;
            }
            Ok(())
        })?;
        done += batch;
    }
    out.rate("range_reads", scans, t.elapsed());
    out.put("range_reads_entries", entries);

    // 6. Concurrent random reads: N gets in all, split over the threads,
    // each with its own handle.
    for threads in [1u64, 2, 4] {
        let mut handles = (0..threads)
            .map(|_| e.handle())
            .collect::<Result<Vec<_>>>()?;
        let per_thread = n.div_ceil(threads);
        let t = Instant::now();
        std::thread::scope(|s| -> Result<()> {
            let joins: Vec<_> = handles
                .iter_mut()
                .enumerate()
                .map(|(j, h)| {
                    s.spawn(move || random_gets(&mut **h, total, per_thread, 100 + j as u64))
                })
                .collect();
            for j in joins {
                j.join().map_err(|_| "a reader thread panicked")??;
            }
            Ok(())
        })?;
        out.rate(
            &format!("concurrent_reads_{threads}"),
            per_thread * threads,
            t.elapsed(),
        );
    }

    // 7. Removals: half the keys in one transaction.
    let half = total / 2;
    let t = Instant::now();
    e.write(&mut |w| {
        for i in 0..half {
            if !w.remove(&key(i))? {
                fail!("key {i} was not there to remove");
            }
        }
        Ok(())
    })?;
    out.rate("removals", half, t.elapsed());
    e.settle()?;
    out.put("size_after_removals_mb", format!("{:.2}", size_mb(dir)?));

    // 8. Compaction, where the engine has one.
    let t = Instant::now();
    if e.compact()? {
        let took = t.elapsed();
        e.settle()?;
        out.put("size_after_compaction_mb", format!("{:.2}", size_mb(dir)?));
        out.put("compaction_s", format!("{:.2}", took.as_secs_f64()));
    } else {
        out.put("size_after_compaction_mb", "n/a");
        out.put("compaction_s", "n/a");
    }

    // The survivors are all there.
    random_gets_from(e, half, total, READ_SEED + 20)?;
    Ok(())
}

/// Bytes of a value in the big transaction: with a 24-byte key, the
/// largest entry that a 4 KiB page of Strata's keeps in its leaf (a
/// quarter page), so that the figure measures the transaction, not
/// overflow pages.
pub const BIG_VALUE_LEN: usize = 1000;

/// Value number `i` of the big transaction.
pub fn big_value(i: u64) -> Vec<u8> {
    let mut v = vec![0u8; BIG_VALUE_LEN];
    v[..8].copy_from_slice(&value_tag(i).to_le_bytes());
    Rng::new(i.wrapping_add(VALUE_SEED)).fill(&mut v[8..]);
    v
}

/// The big group: one transaction of `mb` MiB of random 24-byte keys with
/// [`BIG_VALUE_LEN`]-byte values, committed; its time, its size on disk,
/// and (printed by the child after this) the process's peak RSS. Then a
/// sample of the keys is read back and checked.
pub fn run_big(e: &mut dyn KvEngine, mb: u64, dir: &Path, out: &mut Out) -> Result<()> {
    let n = (mb << 20).div_ceil((KEY_LEN + BIG_VALUE_LEN) as u64);
    out.put("big_mb", mb);
    out.put("big_keys", n);
    let t = Instant::now();
    e.write(&mut |w| {
        for i in 0..n {
            w.put(&key(i), &big_value(i))?;
        }
        Ok(())
    })?;
    let took = t.elapsed();
    out.put("big_commit_s", format!("{:.1}", took.as_secs_f64()));
    out.rate("big_inserts", n, took);
    out.put(
        "big_mb_per_s",
        format!("{:.1}", mb as f64 / took.as_secs_f64().max(1e-9)),
    );
    e.settle()?;
    out.put("big_size_mb", format!("{:.0}", size_mb(dir)?));
    let mut rng = Rng::new(READ_SEED + 30);
    e.read(&mut |r| {
        for _ in 0..READS_PER_TXN.min(n) {
            let i = rng.below(n);
            match r.get(&key(i))? {
                Some((BIG_VALUE_LEN, tag)) if tag == value_tag(i) => {}
                other => fail!("after the big transaction, key {i}: {other:?}"),
            }
        }
        Ok(())
    })
}

/// Like [`random_gets`] over keys `lo..hi`: after the removals.
fn random_gets_from(e: &mut dyn KvEngine, lo: u64, hi: u64, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed);
    e.read(&mut |r| {
        for _ in 0..READS_PER_TXN.min(hi - lo) {
            let i = lo + rng.below(hi - lo);
            match r.get(&key(i))? {
                Some((VALUE_LEN, tag)) if tag == value_tag(i) => {}
                other => fail!("after removals, key {i}: {other:?}"),
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_and_values_tagged() {
        let keys: std::collections::HashSet<_> = (0..10_000).map(key).collect();
        assert_eq!(keys.len(), 10_000);
        assert_eq!(summary(&value(42)), (VALUE_LEN, value_tag(42)));
    }
}
