//! The TPC-B-like workload: pgbench's default ("tpcb-like") script.
//!
//! Scale 1 is 1 branch, 10 tellers and 100,000 accounts, and an empty
//! history. Each transaction picks `aid`, `tid`, `bid` and `delta`
//! uniformly (`delta` in -5000..=5000) and runs:
//!
//! ```text
//! UPDATE accounts SET abalance = abalance + :delta WHERE aid = :aid;
//! SELECT abalance FROM accounts WHERE aid = :aid;
//! UPDATE tellers SET tbalance = tbalance + :delta WHERE tid = :tid;
//! UPDATE branches SET bbalance = bbalance + :delta WHERE bid = :bid;
//! INSERT INTO history (tid, bid, aid, delta, mtime) VALUES (...);
//! ```
//!
//! Key-value engines store the same rows in four tables, keyed by the
//! big-endian id (history: the client's number, then its sequence number),
//! with the row as value: balance (i64), the parent id (u32) and pgbench's
//! blank filler (84 bytes for accounts and tellers, 88 for branches).
//!
//! Latency is measured per transaction, from its start to the return of
//! its commit (with retries, for Strata, included). After each client
//! count, the sums of the account, teller and branch balances must each
//! equal the sum of the history deltas, and that must equal the sum of the
//! deltas the clients saw committed: otherwise the run fails.

use crate::rng::Rng;
use crate::{Out, Result, fail};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

/// Client counts, in the order they run.
pub const CLIENTS: [u32; 4] = [1, 4, 8, 16];

/// The size of the database.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    /// Accounts (100,000 at scale 1).
    pub accounts: u32,
    /// Tellers (10).
    pub tellers: u32,
    /// Branches (1).
    pub branches: u32,
}

impl Scale {
    /// Scale 1, or a small database for `--quick`.
    pub fn new(quick: bool) -> Scale {
        Scale {
            accounts: if quick { 1_000 } else { 100_000 },
            tellers: 10,
            branches: 1,
        }
    }
}

/// Filler bytes of an account or teller row (pgbench's `char(84)`).
pub const FILLER: usize = 84;
/// Filler bytes of a branch row (`char(88)`).
pub const BRANCH_FILLER: usize = 88;

/// One transaction's parameters.
#[derive(Clone, Copy, Debug)]
pub struct Txn {
    /// Account id, from 1.
    pub aid: u32,
    /// Teller id, from 1.
    pub tid: u32,
    /// Branch id, from 1.
    pub bid: u32,
    /// The amount, in -5000..=5000.
    pub delta: i64,
    /// The client's number (unique over the whole run).
    pub client: u32,
    /// The client's sequence number of this transaction.
    pub seq: u64,
    /// Microseconds since the Unix epoch.
    pub mtime: u64,
}

impl Txn {
    /// The history row's key for key-value engines.
    pub fn history_key(&self) -> [u8; 12] {
        let mut k = [0u8; 12];
        k[..4].copy_from_slice(&self.client.to_be_bytes());
        k[4..].copy_from_slice(&self.seq.to_be_bytes());
        k
    }

    /// The history row for key-value engines: tid, bid, aid (u32 each),
    /// delta (i64), mtime (u64), little-endian.
    pub fn history_value(&self) -> [u8; 28] {
        let mut v = [0u8; 28];
        v[..4].copy_from_slice(&self.tid.to_le_bytes());
        v[4..8].copy_from_slice(&self.bid.to_le_bytes());
        v[8..12].copy_from_slice(&self.aid.to_le_bytes());
        v[12..20].copy_from_slice(&self.delta.to_le_bytes());
        v[20..].copy_from_slice(&self.mtime.to_le_bytes());
        v
    }
}

/// The key of row `id` in a key-value table.
pub fn id_key(id: u32) -> [u8; 4] {
    id.to_be_bytes()
}

/// A new row: balance 0, `parent`, and `filler` blanks.
pub fn new_row(parent: u32, filler: usize) -> Vec<u8> {
    let mut v = vec![b' '; 12 + filler];
    v[..8].copy_from_slice(&0i64.to_le_bytes());
    v[8..12].copy_from_slice(&parent.to_le_bytes());
    v
}

/// The balance of a row.
pub fn balance(row: &[u8]) -> Result<i64> {
    match row.get(..8) {
        Some(b) => Ok(i64::from_le_bytes(b.try_into()?)),
        None => fail!("a row of {} bytes has no balance", row.len()),
    }
}

/// Adds `delta` to the balance of `row`, in place.
pub fn add_to_balance(row: &mut [u8], delta: i64) -> Result<()> {
    let b = balance(row)? + delta;
    row[..8].copy_from_slice(&b.to_le_bytes());
    Ok(())
}

/// The delta of a history row.
pub fn history_delta(v: &[u8]) -> Result<i64> {
    match v.get(12..20) {
        Some(b) => Ok(i64::from_le_bytes(b.try_into()?)),
        None => fail!("a history row of {} bytes", v.len()),
    }
}

/// Every row of a scale, for loading: `(kind, id, parent, filler)`.
pub fn rows(scale: Scale) -> impl Iterator<Item = (Table, u32, u32, usize)> {
    let per_branch = |n: u32| n.div_ceil(scale.branches).max(1);
    let (acc, tel) = (per_branch(scale.accounts), per_branch(scale.tellers));
    (1..=scale.branches)
        .map(|b| (Table::Branches, b, 0, BRANCH_FILLER))
        .chain((1..=scale.tellers).map(move |t| (Table::Tellers, t, (t - 1) / tel + 1, FILLER)))
        .chain((1..=scale.accounts).map(move |a| (Table::Accounts, a, (a - 1) / acc + 1, FILLER)))
}

/// The four tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// `accounts`.
    Accounts,
    /// `tellers`.
    Tellers,
    /// `branches`.
    Branches,
    /// `history`.
    History,
}

impl Table {
    /// The table's name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Accounts => "accounts",
            Table::Tellers => "tellers",
            Table::Branches => "branches",
            Table::History => "history",
        }
    }
}

/// The sums checked after a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    /// Sum of account balances.
    pub accounts: i64,
    /// Sum of teller balances.
    pub tellers: i64,
    /// Sum of branch balances.
    pub branches: i64,
    /// Sum of history deltas.
    pub history: i64,
    /// History rows.
    pub history_rows: u64,
}

/// One client's connection or handle.
pub trait Client {
    /// Runs one transaction; returns the account balance it selected.
    fn run(&mut self, t: &Txn) -> Result<i64>;
}

/// An engine loaded with the TPC-B tables.
pub trait Engine: Sync {
    /// A new client (its own connection or handle), made on the thread
    /// that uses it.
    fn client(&self) -> Result<Box<dyn Client + '_>>;
    /// The sums, read in one read transaction.
    fn sums(&self) -> Result<Sums>;
    /// Engine counters to report per client count (cumulative; the
    /// driver reports the difference).
    fn counters(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
}

/// What one client thread did.
#[derive(Default)]
struct ClientResult {
    /// Each transaction's start and latency in microseconds.
    transactions: Vec<(Instant, u32)>,
    deltas: i64,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1000.0
}

fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// What the clients of one burst did.
#[derive(Debug)]
pub struct Burst {
    /// Every transaction's latency in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// Every transaction's start and latency in microseconds, client by
    /// client.
    pub transactions: Vec<(Instant, u32)>,
    /// From the clients' start to their stop.
    pub elapsed: Duration,
}

impl Burst {
    /// The latencies, in microseconds, of the transactions that ran at
    /// some moment from `from` to `to`.
    pub fn during(&self, from: Instant, to: Instant) -> impl Iterator<Item = u32> + '_ {
        let ran = move |&&(start, us): &&(Instant, u32)| {
            start < to && start + Duration::from_micros(u64::from(us)) > from
        };
        self.transactions.iter().filter(ran).map(|&(_, us)| us)
    }

    /// Transactions per second.
    pub fn tps(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Writes `{prefix}.tps`, `.txns`, `.p50_ms` and `.p99_ms`.
    pub fn report(&self, prefix: &str, out: &mut Out) {
        let lat = &self.latencies_us;
        out.rate(&format!("{prefix}.tps"), lat.len() as u64, self.elapsed);
        out.put(&format!("{prefix}.txns"), lat.len());
        out.put(
            &format!("{prefix}.p50_ms"),
            format!("{:.3}", percentile(lat, 0.50)),
        );
        out.put(
            &format!("{prefix}.p99_ms"),
            format!("{:.3}", percentile(lat, 0.99)),
        );
    }
}

/// Writes the differences of an engine's counters ([`Engine::counters`])
/// as `{prefix}.{name}`.
pub fn report_counters(
    prefix: &str,
    before: &[(&'static str, f64)],
    after: &[(&'static str, f64)],
    out: &mut Out,
) {
    for ((name, b), (_, a)) in before.iter().zip(after) {
        out.put(&format!("{prefix}.{name}"), format!("{:.2}", a - b));
    }
}

/// Fails unless the freshly loaded `engine` has every sum at zero.
pub fn check_fresh(engine: &dyn Engine) -> Result<()> {
    let sums = engine.sums()?;
    if sums != Sums::default() {
        fail!("the freshly loaded database has sums {sums:?}");
    }
    Ok(())
}

/// The clients of one database over successive bursts: each client gets
/// a number unique over them all (its history keys start with it), and
/// the deltas they committed add up for the balance check.
#[derive(Debug, Default)]
pub struct Clients {
    /// Clients started so far; the next one is numbered one more.
    started: u32,
    committed_deltas: i64,
}

impl Clients {
    /// Runs `clients` client threads against `engine` for `seconds`, each
    /// with its own connection or handle, made before the clock starts.
    pub fn burst(
        &mut self,
        engine: &dyn Engine,
        scale: Scale,
        clients: u32,
        seconds: f64,
    ) -> Result<Burst> {
        self.burst_beside(engine, scale, clients, seconds, &mut || Ok(()))
    }

    /// As [`Clients::burst`], running `beside` on this thread once the
    /// clients' clock has started; they run for `seconds` or until
    /// `beside` returns, whichever is later.
    pub fn burst_beside(
        &mut self,
        engine: &dyn Engine,
        scale: Scale,
        clients: u32,
        seconds: f64,
        beside: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Burst> {
        let stop = AtomicBool::new(false);
        let barrier = Barrier::new(clients as usize + 1);
        let results = Mutex::new(Vec::new());
        let elapsed = std::thread::scope(|s| -> Result<Duration> {
            let mut joins = Vec::new();
            for _ in 0..clients {
                self.started += 1;
                let id = self.started;
                let (stop, barrier, results) = (&stop, &barrier, &results);
                joins.push(s.spawn(move || -> Result<()> {
                    let client = engine.client();
                    barrier.wait();
                    let r = run_client(client?.as_mut(), scale, id, stop)?;
                    results.lock().map_err(|_| "results lock poisoned")?.push(r);
                    Ok(())
                }));
            }
            barrier.wait();
            let t = Instant::now();
            let besides = beside();
            let rest = Duration::from_secs_f64(seconds).saturating_sub(t.elapsed());
            if besides.is_ok() {
                std::thread::sleep(rest);
            }
            stop.store(true, Ordering::Relaxed);
            let mut first_err = None;
            for j in joins {
                let r = j.join().map_err(|_| "a client thread panicked")?;
                if let Err(e) = r {
                    first_err.get_or_insert(e);
                }
            }
            match first_err {
                Some(e) => Err(e),
                None => besides.map(|()| t.elapsed()),
            }
        })?;
        let results = results.into_inner().map_err(|_| "results lock poisoned")?;
        let transactions: Vec<(Instant, u32)> = results
            .iter()
            .flat_map(|r| r.transactions.iter().copied())
            .collect();
        let mut latencies_us: Vec<u32> = transactions.iter().map(|&(_, us)| us).collect();
        latencies_us.sort_unstable();
        self.committed_deltas += results.iter().map(|r| r.deltas).sum::<i64>();
        Ok(Burst {
            latencies_us,
            transactions,
            elapsed,
        })
    }

    /// The balance check: the sums of the account, teller and branch
    /// balances must each equal the sum of the history deltas, and that
    /// the sum of the deltas the clients committed. Writes
    /// `{prefix}.balance_check` and `{prefix}.history_rows`.
    pub fn check_balances(&self, engine: &dyn Engine, prefix: &str, out: &mut Out) -> Result<()> {
        let sums = engine.sums()?;
        let committed = self.committed_deltas;
        let ok = sums.accounts == sums.history
            && sums.tellers == sums.history
            && sums.branches == sums.history
            && sums.history == committed;
        if !ok {
            out.put(&format!("{prefix}.balance_check"), "FAILED");
            fail!(
                "TPC-B balance check FAILED ({prefix}): {sums:?}, \
                 but the clients committed deltas summing to {committed}"
            );
        }
        out.put(&format!("{prefix}.balance_check"), "passed");
        out.put(&format!("{prefix}.history_rows"), sums.history_rows);
        Ok(())
    }
}

/// One client's loop: transactions until `stop`.
fn run_client(
    client: &mut dyn Client,
    scale: Scale,
    id: u32,
    stop: &AtomicBool,
) -> Result<ClientResult> {
    let mut rng = Rng::new(0x7C_B000 + u64::from(id));
    let mut r = ClientResult::default();
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        seq += 1;
        let t = Txn {
            aid: rng.below(u64::from(scale.accounts)) as u32 + 1,
            tid: rng.below(u64::from(scale.tellers)) as u32 + 1,
            bid: rng.below(u64::from(scale.branches)) as u32 + 1,
            delta: rng.between(-5000, 5000),
            client: id,
            seq,
            mtime: now_us(),
        };
        let t0 = Instant::now();
        client.run(&t)?;
        let us = t0.elapsed().as_micros();
        r.transactions
            .push((t0, u32::try_from(us).unwrap_or(u32::MAX)));
        r.deltas += t.delta;
    }
    Ok(r)
}

/// Runs every client count for `seconds` each against `engine`, checking
/// the balances after each, and writes the figures to `out`.
pub fn run(engine: &dyn Engine, scale: Scale, seconds: f64, out: &mut Out) -> Result<()> {
    check_fresh(engine)?;
    let mut clients = Clients::default();
    for n in CLIENTS {
        let c = format!("c{n}");
        let before = engine.counters();
        clients.burst(engine, scale, n, seconds)?.report(&c, out);
        report_counters(&c, &before, &engine.counters(), out);
        clients.check_balances(engine, &c, out)?;
    }
    out.put("balance_check", "passed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_balances() {
        let scale = Scale {
            accounts: 10,
            tellers: 3,
            branches: 2,
        };
        let all: Vec<_> = rows(scale).collect();
        assert_eq!(all.len(), 15);
        assert!(all.iter().all(|r| r.2 <= 2));
        let mut row = new_row(1, FILLER);
        add_to_balance(&mut row, -42).unwrap();
        assert_eq!(balance(&row).unwrap(), -42);
        let t = Txn {
            aid: 1,
            tid: 2,
            bid: 1,
            delta: -7,
            client: 3,
            seq: 4,
            mtime: 5,
        };
        assert_eq!(history_delta(&t.history_value()).unwrap(), -7);
        assert_eq!(percentile(&[1000, 2000, 3000, 4000], 0.5), 2.0);
    }
}
