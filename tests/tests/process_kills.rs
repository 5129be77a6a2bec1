//! Real crashes: a child process runs a workload on a real file with
//! `Durability::Full` and is killed with SIGKILL at a random moment, over
//! and over, on the same file. After each kill the parent copies the files
//! as the kill left them, recovers the copy and checks it; the next child
//! then recovers the original itself (and may be killed while it does), so
//! recoveries of recoveries are exercised.
//!
//! The engine loop runs bank transfers between 32 accounts, inserts of
//! groups of keys (some with values of many pages) and deletes of whole
//! groups, from 1 to 3 threads, each transaction taking the next number of
//! its thread from a counter stored with it. After each kill the parent
//! checks: `Database::check()` passes; the balances add up to the initial
//! total and equal the initial balances replayed through the ledger of
//! transfers (a transfer is whole or absent); each thread's transaction
//! numbers are exactly 1..=its counter, with no gap (no commit lost, none
//! half there); every group is whole and byte-exact, and no key belongs
//! to a missing group; every acknowledged commit is there; and nothing
//! seen after an earlier kill has gone.
//!
//! The ORM loop runs authors (a unique name) with books (a unique isbn,
//! an indexed title, a foreign key to the author, cascade delete) and tags
//! (a unique name) linked to books many-to-many, from 2 threads that each
//! own their rows. Before each commit the child prints its intent (every
//! row and link the session writes); after the commit returns, its
//! acknowledgement. After each kill the recovered database must equal the
//! parent's model of the acknowledged commits plus some subset of the
//! commits in flight, each whole; the ORM's integrity check (rows,
//! unique and secondary indexes, foreign keys, links both ways) must pass,
//! and queries by unique column, index and relationship, in both
//! directions, must agree with the model.
//!
//! Kills land during process startup, open and recovery (also the
//! recovery of a recovery), explicit and automatic checkpoints (small
//! `Options::checkpoint_log_size` in many rounds; commits too large for
//! the log commit by checkpoint), log recycling, commits, and clean closes;
//! some rounds end with a clean close instead. The tally printed at the
//! end says how many kills landed where.
//!
//! `STRATA_KILLS` (default 100) is the number of kills of the engine loop,
//! `STRATA_ORM_KILLS` (default 100) of the ORM loop; `STRATA_KILL_SEED`
//! seeds the plans and the workloads (fresh in each run if unset, and
//! printed: the kills land at moments no seed fixes, but a failure's seed
//! replays the same plans).
//!
//! Unix only: the kills are SIGKILL, and the harness reads how the child
//! ended from its signal.
#![cfg(unix)]

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Instant;
use strata::{Model, TextColumn};
use strata_engine::{Database, Options, Transaction};
use strata_tests::kill::{
    self, CHILD_DB, Phase, Plan, Round, Tally, copy_database, keep_for_post_mortem, no_spawns,
    run_round, say, start_protocol,
};
use strata_tests::{Rng, TempDir, env_count};

fn env_u64(name: &str) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Engine options of one round, from its random choices: small logs (many
/// checkpoints, large commits by checkpoint), small caches, no
/// preallocation, and the defaults.
fn round_options(rng: &mut Rng) -> Vec<(&'static str, String)> {
    let log = match rng.below(6) {
        0 => 32 << 20,
        1 => 1 << 20,
        2 | 3 => 256 << 10,
        _ => 64 << 10,
    };
    let prealloc = match rng.below(3) {
        0 => 0,
        1 => 64 << 10,
        _ => 1 << 20,
    };
    let cache = if rng.below(3) == 0 {
        256 << 10
    } else {
        64 << 20
    };
    let dirty = if rng.below(4) == 0 {
        512 << 10
    } else {
        64 << 20
    };
    vec![
        ("STRATA_KILL_CHILD_LOG", log.to_string()),
        ("STRATA_KILL_CHILD_PREALLOC", prealloc.to_string()),
        ("STRATA_KILL_CHILD_CACHE", cache.to_string()),
        ("STRATA_KILL_CHILD_DIRTY", dirty.to_string()),
    ]
}

/// The options a child opens with, from its environment; the durability
/// is the default, `Full`.
fn child_options() -> Options {
    let or = |name, default| match env_u64(name) {
        0 => default,
        v => v,
    };
    Options {
        checkpoint_log_size: or("STRATA_KILL_CHILD_LOG", 32 << 20),
        log_preallocate: env_u64("STRATA_KILL_CHILD_PREALLOC"),
        cache_size: or("STRATA_KILL_CHILD_CACHE", 64 << 20) as usize,
        checkpoint_dirty_size: or("STRATA_KILL_CHILD_DIRTY", 64 << 20) as usize,
        ..Options::default()
    }
}

/// Options for the parent's recovery of a copy.
fn verify_options() -> Options {
    Options {
        create: false,
        log_preallocate: 0,
        ..Options::default()
    }
}

/// How the loops pick the next plan: adapted to how long the child's
/// startup, open and checkpoints took in earlier rounds.
#[derive(Default)]
struct Timings {
    startup_us: u64,
    open_us: u64,
    ckpt_us: u64,
}

impl Timings {
    fn learn(&mut self, r: &Round) {
        if let Some(v) = r.startup_us {
            self.startup_us = v;
        }
        if let Some(v) = r.open_us {
            self.open_us = v;
        }
        if let Some(v) = r.ckpt_us {
            self.ckpt_us = v;
        }
    }

    fn plan(&self, rng: &mut Rng) -> Plan {
        Plan::random(rng, self.startup_us, self.open_us, self.ckpt_us)
    }
}

/// How often the child checkpoints explicitly (commits of its first
/// thread between checkpoints): often when the plan kills in one.
fn checkpoint_every(plan: &Plan, rng: &mut Rng) -> String {
    match plan {
        Plan::InCheckpoint(..) => 3 + rng.below(20),
        _ => 20 + rng.below(200),
    }
    .to_string()
}

// ---------------------------------------------------------------------
// The engine loop: a bank, groups of keys, and per-thread counters.

const ACCOUNTS: u8 = 32;
const INITIAL: i64 = 10_000;
/// Transaction ids are `n * THREAD_SLOTS + thread` for the thread's n-th
/// transaction, from 1.
const THREAD_SLOTS: u64 = 16;
const BANK_TABLES: [&str; 6] = ["accounts", "ledger", "groups", "items", "tombs", "counters"];

fn acct(i: u8) -> [u8; 1] {
    [i]
}

fn item_key(group: u64, j: u8) -> Vec<u8> {
    let mut k = group.to_be_bytes().to_vec();
    k.push(j);
    k
}

/// The bytes of item `j` of group `group`, `len` long: a pattern no other
/// item has, so that a wrong or torn value is seen.
fn item_value(group: u64, j: u8, len: u32) -> Vec<u8> {
    let mut rng = Rng::new(group.wrapping_mul(257) ^ u64::from(j));
    let mut v = Vec::with_capacity(len as usize);
    while v.len() < len as usize {
        v.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    v.truncate(len as usize);
    v
}

fn le_u64(v: &[u8]) -> u64 {
    u64::from_le_bytes(v.try_into().expect("8 bytes"))
}

fn le_i64(v: &[u8]) -> i64 {
    i64::from_le_bytes(v.try_into().expect("8 bytes"))
}

/// Creates the tables and the accounts, once, in one transaction.
fn bank_setup(db: &Database) -> strata_engine::Result<()> {
    db.transaction(|tx| {
        for t in BANK_TABLES {
            tx.create_table(t)?;
        }
        if tx.range("accounts", ..)?.next().is_none() {
            for i in 0..ACCOUNTS {
                tx.put("accounts", &acct(i), &INITIAL.to_le_bytes())?;
            }
        }
        Ok(())
    })
}

/// Takes the next transaction id of thread `t`.
fn next_id(tx: &mut Transaction, t: u64) -> strata_engine::Result<u64> {
    let n = tx
        .get_for_update("counters", &[t as u8])?
        .map_or(0, |v| le_u64(&v))
        + 1;
    tx.put("counters", &[t as u8], &n.to_le_bytes())?;
    Ok(n * THREAD_SLOTS + t)
}

/// What the threads of a child share: its settings from the environment
/// and the count of its commits.
struct Child {
    seed: u64,
    threads: u64,
    ckpt_every: u64,
    /// Stop after this many commits (0: run until killed).
    stop_after: u64,
    commits: AtomicU64,
    stop: AtomicBool,
}

impl Child {
    fn from_env(max_threads: u64) -> Child {
        Child {
            seed: env_u64("STRATA_KILL_CHILD_SEED"),
            threads: env_u64("STRATA_KILL_CHILD_THREADS").clamp(1, max_threads),
            ckpt_every: env_u64("STRATA_KILL_CHILD_CKPT").max(1),
            stop_after: env_u64("STRATA_KILL_CHILD_STOP"),
            commits: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Counts an acknowledged commit, the `mine`-th of thread `t`; stops
    /// the child after `stop_after` of them, and has thread 0 checkpoint
    /// explicitly every `ckpt_every` of its own, through `checkpoint`.
    fn committed<E: std::fmt::Display>(
        &self,
        t: u64,
        mine: u64,
        checkpoint: impl FnOnce() -> Result<(), E>,
    ) {
        let all = self.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if self.stop_after > 0 && all >= self.stop_after {
            self.stop.store(true, Ordering::Relaxed);
        }
        if t == 0 && mine.is_multiple_of(self.ckpt_every) {
            say("ckpt");
            let t0 = Instant::now();
            if let Err(e) = checkpoint() {
                panic!("explicit checkpoint: {e}");
            }
            say(&format!("ckpt-done {}", t0.elapsed().as_micros()));
        }
    }
}

/// One thread of the engine child: transfers, inserts and deletes until
/// killed (or until the child stops).
fn bank_worker(db: &Database, t: u64, child: &Child, groups: &AtomicI64, max_group: &AtomicU64) {
    let mut rng = Rng::new(child.seed ^ (t + 1).wrapping_mul(0xA24B_AED4_963E_E407));
    let mut mine = 0u64;
    while !child.stopped() {
        let deletes = if groups.load(Ordering::Relaxed) > 300 {
            45
        } else {
            10
        };
        let dice = rng.below(100);
        let result = if dice < deletes {
            let start = rng.below(max_group.load(Ordering::Relaxed) + 1);
            db.transaction(|tx| {
                let found = match tx.range("groups", start.to_be_bytes()..)?.next() {
                    Some(kv) => Some(kv?),
                    None => tx.range("groups", ..)?.next().transpose()?,
                };
                let Some((gkey, gval)) = found else {
                    return Ok(None);
                };
                let gid = u64::from_be_bytes(gkey.as_slice().try_into().expect("group key"));
                let id = next_id(tx, t)?;
                for j in 0..gval[0] {
                    assert!(
                        tx.delete("items", &item_key(gid, j))?,
                        "group {gid} lacks its item {j}"
                    );
                }
                tx.delete("groups", &gkey)?;
                tx.put("tombs", &gkey, &id.to_le_bytes())?;
                Ok(Some(format!("D {id} {gid}")))
            })
            .inspect(|r| {
                if r.is_some() {
                    groups.fetch_sub(1, Ordering::Relaxed);
                }
            })
        } else if dice < deletes + 35 {
            let k = 1 + rng.below(8) as u8;
            let lens: Vec<u32> = (0..k)
                .map(|_| match rng.below(100) {
                    0 => 20_000 + rng.below(40_000) as u32,
                    1..=10 => 1_000 + rng.below(6_000) as u32,
                    _ => rng.below(300) as u32,
                })
                .collect();
            let mut new_id = 0;
            let r = db.transaction(|tx| {
                let id = next_id(tx, t)?;
                let mut gval = vec![k];
                for (j, &len) in lens.iter().enumerate() {
                    tx.put(
                        "items",
                        &item_key(id, j as u8),
                        &item_value(id, j as u8, len),
                    )?;
                    gval.extend_from_slice(&len.to_le_bytes());
                }
                tx.put("groups", &id.to_be_bytes(), &gval)?;
                new_id = id;
                Ok(Some(format!("I {id} {k}")))
            });
            if r.is_ok() {
                groups.fetch_add(1, Ordering::Relaxed);
                max_group.fetch_max(new_id, Ordering::Relaxed);
            }
            r
        } else {
            let from = rng.below(u64::from(ACCOUNTS)) as u8;
            let to = (from + 1 + rng.below(u64::from(ACCOUNTS) - 1) as u8) % ACCOUNTS;
            let want = 1 + rng.below(500) as i64;
            db.transaction(|tx| {
                let id = next_id(tx, t)?;
                // Lock the two accounts in order: transfers never deadlock
                // each other.
                let (lo, hi) = (from.min(to), from.max(to));
                let a = le_i64(&tx.get_for_update("accounts", &acct(lo))?.expect("account"));
                let b = le_i64(&tx.get_for_update("accounts", &acct(hi))?.expect("account"));
                let (bal_from, bal_to) = if from == lo { (a, b) } else { (b, a) };
                let amount = want.min(bal_from);
                tx.put("accounts", &acct(from), &(bal_from - amount).to_le_bytes())?;
                tx.put("accounts", &acct(to), &(bal_to + amount).to_le_bytes())?;
                let mut entry = vec![from, to];
                entry.extend_from_slice(&amount.to_le_bytes());
                tx.put("ledger", &id.to_be_bytes(), &entry)?;
                Ok(Some(format!("T {id} {from} {to} {amount}")))
            })
        };
        match result {
            Ok(Some(ack)) => {
                say(&ack);
                mine += 1;
                child.committed(t, mine, || db.checkpoint());
            }
            Ok(None) => {}
            Err(e) if e.is_retryable() => {}
            Err(e) => panic!("thread {t}: {e}"),
        }
    }
}

/// The child of the engine loop (run by `engine_survives_sigkill_loop`).
#[test]
#[ignore = "a helper: run as a child process by engine_survives_sigkill_loop"]
fn kill_child_engine() {
    let path = std::env::var(CHILD_DB).expect("run by engine_survives_sigkill_loop");
    let child = Child::from_env(THREAD_SLOTS);
    start_protocol();
    say("opening");
    let t0 = Instant::now();
    let db = Database::open_with(&path, child_options()).expect("open");
    bank_setup(&db).expect("setup");
    let (count, max) = {
        let tx = db.begin_read().expect("begin");
        let mut n = 0i64;
        let mut max = 0u64;
        for kv in tx.range("groups", ..).expect("range") {
            let (k, _) = kv.expect("group");
            n += 1;
            max = u64::from_be_bytes(k.as_slice().try_into().expect("group key"));
        }
        (n, max)
    };
    say(&format!("ready {}", t0.elapsed().as_micros()));
    let groups = AtomicI64::new(count);
    let max_group = AtomicU64::new(max);
    std::thread::scope(|s| {
        for t in 0..child.threads {
            let (db, child, groups, max_group) = (&db, &child, &groups, &max_group);
            s.spawn(move || bank_worker(db, t, child, groups, max_group));
        }
    });
    say("closing");
    drop(db);
    say("closed");
}

/// What the engine loop knows: every acknowledged commit, and what the
/// last recovery found (which no later recovery may lose).
#[derive(Default)]
struct Bank {
    transfers: BTreeMap<u64, (u8, u8, i64)>,
    inserts: BTreeMap<u64, u8>,
    deletes: BTreeMap<u64, u64>,
    /// Ids of commits found that were never acknowledged.
    unacked: BTreeSet<u64>,
    last: Option<BankImage>,
}

/// A recovered engine database, decoded.
#[derive(Clone, Default, PartialEq, Debug)]
struct BankImage {
    accounts: BTreeMap<u8, i64>,
    ledger: BTreeMap<u64, (u8, u8, i64)>,
    groups: BTreeMap<u64, Vec<u32>>,
    tombs: BTreeMap<u64, u64>,
    counters: BTreeMap<u8, u64>,
}

impl Bank {
    fn learn(&mut self, lines: &[String]) -> u64 {
        let mut n = 0;
        for l in lines {
            let f: Vec<&str> = l.split(' ').collect();
            let num = |i: usize| -> u64 { f[i].parse().expect("number in ack") };
            match f[0] {
                "T" => {
                    let amount = f[4].parse().expect("amount");
                    self.transfers
                        .insert(num(1), (num(2) as u8, num(3) as u8, amount));
                }
                "I" => {
                    self.inserts.insert(num(1), num(2) as u8);
                }
                "D" => {
                    self.deletes.insert(num(2), num(1));
                }
                _ => continue,
            }
            n += 1;
        }
        n
    }

    fn acked(&self) -> u64 {
        (self.transfers.len() + self.inserts.len() + self.deletes.len()) as u64
    }

    /// Recovers the copy at `path` and checks it (see the module docs).
    /// Returns the number of commits found that were not acknowledged
    /// (and not found before).
    fn verify(&mut self, path: &Path) -> Result<u64, String> {
        let image = match Database::open_with(path, verify_options()) {
            Err(strata_engine::Error::CannotOpen {
                reason: strata_engine::OpenFailure::NotFound,
                ..
            }) => None,
            Err(e) => return Err(format!("recovery failed: {e}")),
            Ok(db) => {
                db.check()
                    .map_err(|e| format!("check after recovery: {e}"))?;
                let image = read_bank(&db)?;
                drop(db);
                // A clean reopen of the recovered file reads the same.
                let db = Database::open_with(path, verify_options())
                    .map_err(|e| format!("second open: {e}"))?;
                db.check().map_err(|e| format!("check after reopen: {e}"))?;
                if read_bank(&db)? != image {
                    return Err("a clean reopen reads another state".into());
                }
                Some(image)
            }
        };
        let Some(img) = image else {
            if self.acked() > 0 || self.last.is_some() {
                return Err("the database is gone".into());
            }
            return Ok(0);
        };
        if img.accounts.is_empty() {
            // Only before the setup commit (which creates the accounts).
            if self.acked() > 0 || self.last.as_ref().is_some_and(|l| !l.accounts.is_empty()) {
                return Err("the accounts are gone".into());
            }
            return Ok(0);
        }
        // The bank: the total, no overdraft, and the ledger replayed.
        if img.accounts.len() != usize::from(ACCOUNTS) {
            return Err(format!("{} accounts", img.accounts.len()));
        }
        let total: i64 = img.accounts.values().sum();
        if total != INITIAL * i64::from(ACCOUNTS) {
            return Err(format!("total {total}"));
        }
        let mut replay: BTreeMap<u8, i64> = (0..ACCOUNTS).map(|i| (i, INITIAL)).collect();
        for &(from, to, amount) in img.ledger.values() {
            *replay.get_mut(&from).ok_or("bad ledger account")? -= amount;
            *replay.get_mut(&to).ok_or("bad ledger account")? += amount;
        }
        if replay != img.accounts {
            return Err("balances differ from the ledger replayed: half a transfer".into());
        }
        if let Some((i, b)) = img.accounts.iter().find(|(_, b)| **b < 0) {
            return Err(format!("account {i} overdrawn: {b}"));
        }
        // Every thread's ids are exactly 1..=counter.
        let mut ids: BTreeMap<u8, BTreeSet<u64>> = BTreeMap::new();
        let mut note = |id: u64, what: &str| -> Result<(), String> {
            if !ids
                .entry((id % THREAD_SLOTS) as u8)
                .or_default()
                .insert(id / THREAD_SLOTS)
            {
                return Err(format!("id {id} used twice ({what})"));
            }
            Ok(())
        };
        for &id in img.ledger.keys() {
            note(id, "transfer")?;
        }
        for &id in img.groups.keys() {
            note(id, "group")?;
        }
        for (&gid, &id) in &img.tombs {
            note(gid, "deleted group")?;
            note(id, "delete")?;
        }
        let threads: BTreeSet<u8> = ids.keys().chain(img.counters.keys()).copied().collect();
        for t in threads {
            let n = img.counters.get(&t).copied().unwrap_or(0);
            let got = ids.remove(&t).unwrap_or_default();
            if got.len() as u64 != n
                || got.first().is_some_and(|&f| f != 1)
                || got.last().is_some_and(|&l| l != n)
            {
                let gap = (1..=n).find(|i| !got.contains(i));
                return Err(format!(
                    "thread {t}: counter {n}, {} ids from {:?} to {:?}, first missing {gap:?}",
                    got.len(),
                    got.first(),
                    got.last()
                ));
            }
        }
        if let Some(gid) = img.groups.keys().find(|g| img.tombs.contains_key(g)) {
            return Err(format!("group {gid} both live and deleted"));
        }
        // Acknowledged commits.
        for (id, t) in &self.transfers {
            if img.ledger.get(id) != Some(t) {
                return Err(format!("acknowledged transfer {id} {t:?} is missing"));
            }
        }
        for (id, &k) in &self.inserts {
            let live = img.groups.get(id).map(|l| l.len());
            if live != Some(usize::from(k)) && !img.tombs.contains_key(id) {
                return Err(format!(
                    "acknowledged group {id} of {k} is missing ({live:?})"
                ));
            }
        }
        for (gid, id) in &self.deletes {
            if img.tombs.get(gid) != Some(id) || img.groups.contains_key(gid) {
                return Err(format!(
                    "acknowledged delete {id} of group {gid} is missing"
                ));
            }
        }
        // Nothing an earlier recovery found has gone.
        if let Some(last) = &self.last {
            for (id, t) in &last.ledger {
                if img.ledger.get(id) != Some(t) {
                    return Err(format!(
                        "transfer {id}, found by the last recovery, is gone"
                    ));
                }
            }
            for (gid, id) in &last.tombs {
                if img.tombs.get(gid) != Some(id) {
                    return Err(format!("delete {id} of {gid}, found before, is gone"));
                }
            }
            for gid in last.groups.keys() {
                if !img.groups.contains_key(gid) && !img.tombs.contains_key(gid) {
                    return Err(format!("group {gid}, found before, is gone"));
                }
            }
            for (t, n) in &last.counters {
                if img.counters.get(t).is_none_or(|m| m < n) {
                    return Err(format!("thread {t}'s counter went back from {n}"));
                }
            }
        }
        // Commits found that were never acknowledged (in flight at a kill).
        let acked: BTreeSet<u64> = (self.transfers.keys().chain(self.inserts.keys()))
            .chain(self.deletes.values())
            .copied()
            .collect();
        let unacked: Vec<u64> = (img.ledger.keys().chain(img.groups.keys()))
            .chain(img.tombs.keys().chain(img.tombs.values()))
            .filter(|id| !acked.contains(id))
            .copied()
            .collect();
        let before = self.unacked.len();
        self.unacked.extend(unacked);
        self.last = Some(img);
        Ok((self.unacked.len() - before) as u64)
    }
}

/// Reads the bank's tables, checking every group's items byte for byte.
fn read_bank(db: &Database) -> Result<BankImage, String> {
    let e = |e: strata_engine::Error| format!("reading: {e}");
    let tx = db.begin_read().map_err(e)?;
    let mut img = BankImage::default();
    if !tx.table_exists("accounts").map_err(e)? {
        return Ok(img);
    }
    for kv in tx.range("accounts", ..).map_err(e)? {
        let (k, v) = kv.map_err(e)?;
        img.accounts.insert(k[0], le_i64(&v));
    }
    for kv in tx.range("ledger", ..).map_err(e)? {
        let (k, v) = kv.map_err(e)?;
        let id = u64::from_be_bytes(k.as_slice().try_into().map_err(|_| "ledger key")?);
        img.ledger.insert(id, (v[0], v[1], le_i64(&v[2..])));
    }
    for kv in tx.range("groups", ..).map_err(e)? {
        let (k, v) = kv.map_err(e)?;
        let id = u64::from_be_bytes(k.as_slice().try_into().map_err(|_| "group key")?);
        let lens: Vec<u32> = v[1..]
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("len")))
            .collect();
        if lens.len() != usize::from(v[0]) {
            return Err(format!("group {id} is malformed"));
        }
        img.groups.insert(id, lens);
    }
    for kv in tx.range("tombs", ..).map_err(e)? {
        let (k, v) = kv.map_err(e)?;
        let id = u64::from_be_bytes(k.as_slice().try_into().map_err(|_| "tomb key")?);
        img.tombs.insert(id, le_u64(&v));
    }
    for kv in tx.range("counters", ..).map_err(e)? {
        let (k, v) = kv.map_err(e)?;
        img.counters.insert(k[0], le_u64(&v));
    }
    // Items: exactly those of the live groups, each byte-exact.
    let mut expected = img
        .groups
        .iter()
        .flat_map(|(&g, lens)| lens.iter().enumerate().map(move |(j, &l)| (g, j as u8, l)));
    for kv in tx.range("items", ..).map_err(e)? {
        let (k, v) = kv.map_err(e)?;
        let Some((g, j, len)) = expected.next() else {
            return Err(format!("item {k:02x?} of no group"));
        };
        if k != item_key(g, j) {
            return Err(format!(
                "item {k:02x?} where item {j} of group {g} should be: half a transaction"
            ));
        }
        if v != item_value(g, j, len) {
            return Err(format!("item {j} of group {g} holds other bytes"));
        }
    }
    if let Some((g, j, _)) = expected.next() {
        return Err(format!(
            "item {j} of group {g} is missing: half a transaction"
        ));
    }
    Ok(img)
}

fn print_tally(name: &str, t: &Tally, started: Instant) {
    println!(
        "{name}: {} rounds, {} kills {:?}, {} recoveries checked, {} acknowledged commits \
         ({} checks of one against a recovered file), {} unacknowledged commits found, {:.1?}",
        t.rounds,
        t.kills,
        t.phases,
        t.recoveries,
        t.acked,
        t.acked_checks,
        t.unacked_found,
        started.elapsed()
    );
}

#[test]
fn engine_survives_sigkill_loop() {
    let kills = env_count("STRATA_KILLS", 100);
    let seed = kill::seed();
    println!("engine kill loop: STRATA_KILL_SEED={seed}, {kills} kills");
    let mut rng = Rng::new(seed);
    let dir = TempDir::new("kill-engine");
    let db = dir.path().join("bank.strata");
    let copy = dir.path().join("verify.strata");
    let stderr = dir.path().join("child-stderr");
    let mut bank = Bank::default();
    let mut timings = Timings::default();
    let mut tally = Tally::default();
    let started = Instant::now();
    while tally.kills < kills {
        let plan = timings.plan(&mut rng);
        let mut env = round_options(&mut rng);
        env.push(("STRATA_KILL_CHILD_SEED", rng.next_u64().to_string()));
        env.push(("STRATA_KILL_CHILD_THREADS", (1 + rng.below(3)).to_string()));
        env.push(("STRATA_KILL_CHILD_CKPT", checkpoint_every(&plan, &mut rng)));
        let is_ack = |l: &str| l.starts_with(['T', 'I', 'D']);
        let round = run_round("kill_child_engine", &db, &env, plan, &is_ack, &stderr);
        tally.round(&round);
        timings.learn(&round);
        tally.acked += bank.learn(&round.lines);
        copy_database(&db, &copy);
        let verified = {
            let _g = no_spawns();
            bank.verify(&copy)
        };
        match verified {
            Ok(unacked) => {
                tally.recoveries += 1;
                tally.acked_checks += bank.acked();
                tally.unacked_found += unacked;
            }
            Err(e) => {
                let kept = keep_for_post_mortem(&db, "engine");
                panic!(
                    "STRATA_KILL_SEED={seed}, round {} ({plan:?}, {env:?}, kill in {:?}): {e}\n\
                     the database as the kill left it is kept in {}",
                    tally.rounds,
                    round.phase,
                    kept.display()
                );
            }
        }
    }
    print_tally("engine kill loop", &tally, started);
    assert!(tally.acked > 0, "no commit was ever acknowledged");
}

// ---------------------------------------------------------------------
// The ORM loop: authors, books and tags; intents and acknowledgements.

/// An author: a unique name, and books (deleted with the author).
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "authors", display = "name")]
#[strata(has_many(books = Book, fk = author_id, backref = author, on_delete = cascade))]
struct Author {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 64)]
    name: String,
    bio: String,
}

/// A book: a unique isbn, an indexed title, its author, and tags.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "books", display = "title")]
#[strata(many_to_many(tags = Tag, through = "book_tags", backref = books))]
struct Book {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 64)]
    isbn: String,
    #[strata(index)]
    title: String,
    #[strata(foreign_key = Author)]
    author_id: i64,
    pages: u32,
    blurb: String,
}

/// A tag of books: a unique name.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "tags", display = "name")]
struct Tag {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 64)]
    name: String,
}

/// Lower-case text of `len` characters from `seed`: long texts (bios and
/// blurbs) travel in the protocol as their seed and length.
fn text(seed: u64, len: usize) -> String {
    let mut rng = Rng::new(seed);
    (0..len)
        .map(|_| char::from(b'a' + rng.below(26) as u8))
        .collect()
}

/// One change a session makes, as the child reports it in its intent.
#[derive(Clone, Debug, PartialEq)]
enum Effect {
    /// An author added or updated: id, name, bio seed and length.
    Author(i64, String, u64, usize),
    /// A book added or updated: id, isbn, title, author, pages, blurb seed
    /// and length.
    Book(i64, String, String, i64, u32, u64, usize),
    /// A tag added.
    Tag(i64, String),
    /// An author deleted, with its books and their links.
    DelAuthor(i64),
    /// A book deleted, with its links.
    DelBook(i64),
    /// A book linked to a tag.
    Link(i64, i64),
    /// A book unlinked from a tag.
    Unlink(i64, i64),
}

impl Effect {
    fn encode(&self) -> String {
        match self {
            Effect::Author(id, name, seed, len) => format!("A {id} {name} {seed} {len}"),
            Effect::Book(id, isbn, title, author, pages, seed, len) => {
                format!("B {id} {isbn} {title} {author} {pages} {seed} {len}")
            }
            Effect::Tag(id, name) => format!("G {id} {name}"),
            Effect::DelAuthor(id) => format!("XA {id}"),
            Effect::DelBook(id) => format!("XB {id}"),
            Effect::Link(b, t) => format!("L {b} {t}"),
            Effect::Unlink(b, t) => format!("U {b} {t}"),
        }
    }

    fn decode(s: &str) -> Effect {
        let f: Vec<&str> = s.split(' ').collect();
        let n = |i: usize| -> i64 { f[i].parse().expect("number in intent") };
        let u = |i: usize| -> u64 { f[i].parse().expect("number in intent") };
        match f[0] {
            "A" => Effect::Author(n(1), f[2].into(), u(3), u(4) as usize),
            "B" => Effect::Book(
                n(1),
                f[2].into(),
                f[3].into(),
                n(4),
                u(5) as u32,
                u(6),
                u(7) as usize,
            ),
            "G" => Effect::Tag(n(1), f[2].into()),
            "XA" => Effect::DelAuthor(n(1)),
            "XB" => Effect::DelBook(n(1)),
            "L" => Effect::Link(n(1), n(2)),
            "U" => Effect::Unlink(n(1), n(2)),
            other => panic!("unknown effect {other}"),
        }
    }

    fn of_author(a: &Author, seed: u64) -> Effect {
        Effect::Author(a.id, a.name.clone(), seed, a.bio.len())
    }

    fn of_book(b: &Book, seed: u64) -> Effect {
        Effect::Book(
            b.id,
            b.isbn.clone(),
            b.title.clone(),
            b.author_id,
            b.pages,
            seed,
            b.blurb.len(),
        )
    }
}

/// Every row and link: the parent's model, and what a recovery read.
#[derive(Clone, Default, PartialEq, Debug)]
struct World {
    authors: BTreeMap<i64, Author>,
    books: BTreeMap<i64, Book>,
    tags: BTreeMap<i64, Tag>,
    links: BTreeSet<(i64, i64)>,
}

impl World {
    fn apply(&mut self, e: &Effect) {
        match e.clone() {
            Effect::Author(id, name, seed, len) => {
                let bio = text(seed, len);
                self.authors.insert(id, Author { id, name, bio });
            }
            Effect::Book(id, isbn, title, author_id, pages, seed, len) => {
                let blurb = text(seed, len);
                let b = Book {
                    id,
                    isbn,
                    title,
                    author_id,
                    pages,
                    blurb,
                };
                self.books.insert(id, b);
            }
            Effect::Tag(id, name) => {
                self.tags.insert(id, Tag { id, name });
            }
            Effect::DelAuthor(id) => {
                self.authors.remove(&id);
                let books: Vec<i64> = (self.books.values())
                    .filter(|b| b.author_id == id)
                    .map(|b| b.id)
                    .collect();
                for b in books {
                    self.apply(&Effect::DelBook(b));
                }
            }
            Effect::DelBook(id) => {
                self.books.remove(&id);
                self.links.retain(|&(b, _)| b != id);
            }
            Effect::Link(b, t) => {
                self.links.insert((b, t));
            }
            Effect::Unlink(b, t) => {
                self.links.remove(&(b, t));
            }
        }
    }

    fn diff(&self, other: &World) -> String {
        fn keys<V: PartialEq>(a: &BTreeMap<i64, V>, b: &BTreeMap<i64, V>) -> Vec<i64> {
            a.keys()
                .chain(b.keys())
                .filter(|k| a.get(k) != b.get(k))
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        }
        let links: Vec<_> = self.links.symmetric_difference(&other.links).collect();
        format!(
            "authors differ at {:?}, books at {:?}, tags at {:?}, links at {links:?}",
            keys(&self.authors, &other.authors),
            keys(&self.books, &other.books),
            keys(&self.tags, &other.tags),
        )
    }
}

/// What the child's writer `w` does in one session; returns the effects,
/// or `None` if there was nothing to do.
fn orm_op(
    s: &mut strata::Session,
    w: u64,
    rng: &mut Rng,
    uniq: &mut dyn FnMut() -> u64,
) -> strata::Result<Option<Vec<Effect>>> {
    let prefix = format!("w{w}-");
    let mine = s
        .query::<Author>()
        .filter(Author::name.starts_with(&prefix))
        .all()?;
    let tags = s.query::<Tag>().all()?;
    let mut fx = Vec::new();
    let book = |rng: &mut Rng, author_id: i64, uniq: &mut dyn FnMut() -> u64| {
        let seed = rng.next_u64();
        let len = match rng.below(20) {
            0 => 3_000 + rng.below(6_000) as usize,
            _ => rng.below(200) as usize,
        };
        (
            Book {
                id: 0,
                isbn: format!("w{w}-i{}", uniq()),
                title: format!("title{}", rng.below(40)),
                author_id,
                pages: rng.below(1000) as u32,
                blurb: text(seed, len),
            },
            seed,
        )
    };
    let link_some = |s: &mut strata::Session,
                     rng: &mut Rng,
                     b: &Book,
                     fx: &mut Vec<Effect>|
     -> strata::Result<()> {
        for _ in 0..rng.below(3) {
            if tags.is_empty() {
                break;
            }
            let t = &tags[rng.below(tags.len() as u64) as usize];
            Book::tags.link(s, b, t)?;
            fx.push(Effect::Link(b.id, t.id));
        }
        Ok(())
    };
    let many = mine.len() > 40;
    let dice = rng.below(100);
    let pick_author = |rng: &mut Rng| mine.get(rng.below(mine.len().max(1) as u64) as usize);
    match dice {
        // Deliberate failures first, which must change nothing; then a
        // new author below.
        0..=4 if !mine.is_empty() => {
            let taken = mine[rng.below(mine.len() as u64) as usize].name.clone();
            let mut dup = Author {
                id: 0,
                name: taken,
                bio: String::new(),
            };
            match s.add(&mut dup) {
                Err(strata::Error::UniqueViolation { .. }) => {}
                Err(e) if e.is_retryable() => return Err(e),
                other => panic!("adding a taken name: {other:?}"),
            }
            let (mut orphan, _) = book(rng, -7, uniq);
            match s.add(&mut orphan) {
                Err(strata::Error::ForeignKeyViolation { .. }) => {}
                Err(e) if e.is_retryable() => return Err(e),
                other => panic!("adding a book of no author: {other:?}"),
            }
            if let Some(t) = tags.first() {
                let mut dup = Tag {
                    id: 0,
                    name: t.name.clone(),
                };
                match s.add(&mut dup) {
                    Err(strata::Error::UniqueViolation { .. }) => {}
                    Err(e) if e.is_retryable() => return Err(e),
                    other => panic!("adding a taken tag: {other:?}"),
                }
            }
        }
        5..=14 if tags.len() < 150 => {
            let mut t = Tag {
                id: 0,
                name: format!("w{w}-t{}", uniq()),
            };
            s.add(&mut t)?;
            fx.push(Effect::Tag(t.id, t.name.clone()));
            return Ok(Some(fx));
        }
        15..=34 if !mine.is_empty() => {
            let a = pick_author(rng).expect("an author");
            let (mut b, seed) = book(rng, a.id, uniq);
            s.add(&mut b)?;
            fx.push(Effect::of_book(&b, seed));
            link_some(s, rng, &b, &mut fx)?;
            return Ok(Some(fx));
        }
        35..=49 if !mine.is_empty() => {
            let a = pick_author(rng).expect("an author");
            let books = Author::books.load(s, a)?;
            if books.is_empty() {
                return Ok(None);
            }
            let b = &books[rng.below(books.len() as u64) as usize];
            link_some(s, rng, b, &mut fx)?;
            let linked = Book::tags.load(s, b)?;
            if !linked.is_empty() && rng.below(2) == 0 {
                let t = &linked[rng.below(linked.len() as u64) as usize];
                if fx.iter().all(|e| *e != Effect::Link(b.id, t.id)) {
                    assert!(Book::tags.unlink(s, b, t)?, "a loaded link is not there");
                    fx.push(Effect::Unlink(b.id, t.id));
                }
            }
            return Ok((!fx.is_empty()).then_some(fx));
        }
        50..=57 if !mine.is_empty() => {
            let mut a = pick_author(rng).expect("an author").clone();
            if mine.len() > 1 && rng.below(2) == 0 {
                let other = mine.iter().find(|o| o.id != a.id).expect("another");
                let mut clash = a.clone();
                clash.name = other.name.clone();
                match s.update(&clash) {
                    Err(strata::Error::UniqueViolation { .. }) => {}
                    Err(e) if e.is_retryable() => return Err(e),
                    other => panic!("renaming to a taken name: {other:?}"),
                }
            }
            let seed = rng.next_u64();
            a.name = format!("w{w}-r{}", uniq());
            a.bio = text(seed, rng.below(300) as usize);
            s.update(&a)?;
            fx.push(Effect::of_author(&a, seed));
            return Ok(Some(fx));
        }
        58..=65 if !mine.is_empty() => {
            let a = pick_author(rng).expect("an author");
            let books = Author::books.load(s, a)?;
            if books.is_empty() {
                return Ok(None);
            }
            let mut b = books[rng.below(books.len() as u64) as usize].clone();
            let seed = rng.next_u64();
            b.isbn = format!("w{w}-j{}", uniq());
            b.title = format!("title{}", rng.below(40));
            b.pages += 1;
            b.blurb = text(seed, rng.below(400) as usize);
            s.update(&b)?;
            fx.push(Effect::of_book(&b, seed));
            return Ok(Some(fx));
        }
        66..=73 if !mine.is_empty() => {
            let a = pick_author(rng).expect("an author");
            let books = Author::books.load(s, a)?;
            if books.is_empty() {
                return Ok(None);
            }
            let b = &books[rng.below(books.len() as u64) as usize];
            assert!(s.delete(b)?, "a loaded book is not there");
            fx.push(Effect::DelBook(b.id));
            return Ok(Some(fx));
        }
        74..=79 if !mine.is_empty() || many => {
            let a = pick_author(rng).expect("an author");
            assert!(s.delete(a)?, "a loaded author is not there");
            fx.push(Effect::DelAuthor(a.id));
            return Ok(Some(fx));
        }
        _ if many && rng.below(3) > 0 => {
            let a = pick_author(rng).expect("an author");
            assert!(s.delete(a)?, "a loaded author is not there");
            fx.push(Effect::DelAuthor(a.id));
            return Ok(Some(fx));
        }
        _ => {}
    }
    // A new author with up to three books, each linked to some tags.
    let seed = rng.next_u64();
    let mut a = Author {
        id: 0,
        name: format!("w{w}-a{}", uniq()),
        bio: text(seed, rng.below(300) as usize),
    };
    s.add(&mut a)?;
    fx.push(Effect::of_author(&a, seed));
    for _ in 0..rng.below(4) {
        let (mut b, seed) = book(rng, a.id, uniq);
        s.add(&mut b)?;
        fx.push(Effect::of_book(&b, seed));
        link_some(s, rng, &b, &mut fx)?;
    }
    Ok(Some(fx))
}

/// One writer of the ORM child: sessions until killed (or until the child
/// stops). `round` makes its unique values unique across rounds.
fn orm_writer(db: &strata::Database, w: u64, child: &Child, round: u64) {
    let mut rng = Rng::new(child.seed ^ (w + 1).wrapping_mul(0x9FB2_1C65_1E98_DF25));
    let mut next = 0u64;
    let mut uniq = move || {
        next += 1;
        round * 1_000_000 + next
    };
    let mut seq = 0u64;
    let mut mine = 0u64;
    while !child.stopped() {
        let mut s = match db.session() {
            Ok(s) => s,
            Err(e) => panic!("writer {w}: session: {e}"),
        };
        let fx = match orm_op(&mut s, w, &mut rng, &mut uniq) {
            Ok(Some(fx)) => fx,
            Ok(None) => continue,
            Err(e) if e.is_retryable() => continue,
            Err(e) => panic!("writer {w}: {e}"),
        };
        seq += 1;
        let id = format!("{w}.{seq}");
        let body: Vec<String> = fx.iter().map(Effect::encode).collect();
        say(&format!("W {id} {}", body.join(" ; ")));
        match s.commit() {
            Ok(()) => say(&format!("K {id}")),
            Err(e) if e.is_retryable() => {
                say(&format!("N {id}"));
                continue;
            }
            Err(e) => panic!("writer {w}: commit: {e}"),
        }
        mine += 1;
        child.committed(w, mine, || db.engine().expect("the engine").checkpoint());
    }
}

/// The child of the ORM loop (run by `orm_survives_sigkill_loop`).
#[test]
#[ignore = "a helper: run as a child process by orm_survives_sigkill_loop"]
fn kill_child_orm() {
    let path = std::env::var(CHILD_DB).expect("run by orm_survives_sigkill_loop");
    let child = Child::from_env(4);
    let round = env_u64("STRATA_KILL_CHILD_ROUND");
    start_protocol();
    say("opening");
    let t0 = Instant::now();
    let db = strata::Database::open_with(&path, child_options()).expect("open");
    db.register::<Author>().expect("register");
    db.register::<Book>().expect("register");
    db.register::<Tag>().expect("register");
    say(&format!("ready {}", t0.elapsed().as_micros()));
    std::thread::scope(|s| {
        for w in 0..child.threads {
            let (db, child) = (&db, &child);
            s.spawn(move || orm_writer(db, w, child, round));
        }
    });
    say("closing");
    drop(db);
    say("closed");
}

/// What the ORM loop knows: the model of the acknowledged commits, and
/// the commits in flight (intent said, no acknowledgement yet).
#[derive(Default)]
struct Library {
    model: World,
    pending: Vec<(String, Vec<Effect>)>,
    acked: u64,
}

impl Library {
    fn learn(&mut self, lines: &[String]) -> u64 {
        let mut n = 0;
        for l in lines {
            if let Some(rest) = l.strip_prefix("W ") {
                let (id, body) = rest.split_once(' ').expect("intent");
                let fx = body.split(" ; ").map(Effect::decode).collect();
                self.pending.push((id.to_string(), fx));
            } else if let Some(id) = l.strip_prefix("K ") {
                let i = (self.pending.iter().position(|(p, _)| p == id))
                    .expect("acknowledged without intent");
                let (_, fx) = self.pending.remove(i);
                for e in &fx {
                    self.model.apply(e);
                }
                self.acked += 1;
                n += 1;
            } else if let Some(id) = l.strip_prefix("N ") {
                self.pending.retain(|(p, _)| p != id);
            }
        }
        n
    }

    /// Recovers the copy at `path` and checks it against the model (see
    /// the module docs); the commits in flight that it holds join the
    /// model. Returns how many did.
    fn verify(&mut self, path: &Path) -> Result<u64, String> {
        if !path.exists() {
            if self.acked > 0 {
                return Err("the database is gone".into());
            }
            self.pending.clear();
            return Ok(0);
        }
        let db = strata::Database::open_with(path, verify_options())
            .map_err(|e| format!("recovery failed: {e}"))?;
        let found = read_world(&db)?;
        // The recovered state is the model plus some of the commits in
        // flight, each whole: try every subset (at most one per writer).
        let n = self.pending.len();
        let mut matched = None;
        for mask in 0..1u32 << n {
            let mut w = self.model.clone();
            for (i, (_, fx)) in self.pending.iter().enumerate() {
                if mask & 1 << i != 0 {
                    fx.iter().for_each(|e| w.apply(e));
                }
            }
            if w == found {
                matched = Some((mask, w));
                break;
            }
        }
        let Some((mask, world)) = matched else {
            let mut all = self.model.clone();
            for (_, fx) in &self.pending {
                fx.iter().for_each(|e| all.apply(e));
            }
            return Err(format!(
                "the recovered rows are not the acknowledged commits plus whole commits in \
                 flight ({} in flight: {:?}).\nagainst the acknowledged: {}\n\
                 against all: {}",
                n,
                self.pending,
                self.model.diff(&found),
                all.diff(&found)
            ));
        };
        let names: Vec<String> = (self.pending.iter())
            .flat_map(|(_, fx)| fx.iter())
            .filter_map(|e| match e {
                Effect::Author(_, name, ..) | Effect::Tag(_, name) => Some(name.clone()),
                Effect::Book(_, isbn, ..) => Some(isbn.clone()),
                _ => None,
            })
            .collect();
        query_world(&db, &world, &names)?;
        drop(db);
        // A clean reopen reads the same.
        let db = strata::Database::open_with(path, verify_options())
            .map_err(|e| format!("second open: {e}"))?;
        if read_world(&db)? != world {
            return Err("a clean reopen reads another state".into());
        }
        self.model = world;
        self.pending.clear();
        Ok(u64::from(mask.count_ones()))
    }
}

/// Every row and link of the database, after the engine's and the ORM's
/// integrity checks; links are read from both sides and must agree.
fn read_world(db: &strata::Database) -> Result<World, String> {
    let e = |e: strata::Error| format!("reading: {e}");
    let checked = db.check().map_err(|e| format!("integrity check: {e}"))?;
    let s = db.read_session().map_err(e)?;
    let mut w = World {
        authors: (s.query::<Author>().all().map_err(e)?.into_iter())
            .map(|a| (a.id, a))
            .collect(),
        books: (s.query::<Book>().all().map_err(e)?.into_iter())
            .map(|b| (b.id, b))
            .collect(),
        tags: (s.query::<Tag>().all().map_err(e)?.into_iter())
            .map(|t| (t.id, t))
            .collect(),
        links: BTreeSet::new(),
    };
    for b in w.books.values() {
        for t in Book::tags.load(&s, b).map_err(e)? {
            w.links.insert((b.id, t.id));
        }
    }
    let mut back = BTreeSet::new();
    for t in w.tags.values() {
        for b in Tag::books.load(&s, t).map_err(e)? {
            back.insert((b.id, t.id));
        }
    }
    if back != w.links {
        return Err("links read from the tags differ from links read from the books".into());
    }
    let rows = (w.authors.len() + w.books.len() + w.tags.len()) as u64;
    if checked != rows {
        return Err(format!(
            "the integrity check saw {checked} rows, the queries {rows}"
        ));
    }
    Ok(w)
}

/// Checks `world` through queries: counts, every unique value by its
/// index, titles by theirs, relationships both ways and eagerly; and the
/// `names` (unique values of commits in flight) find exactly the row the
/// world has with them, if any.
fn query_world(db: &strata::Database, world: &World, names: &[String]) -> Result<(), String> {
    let e = |e: strata::Error| format!("querying: {e}");
    let s = db.read_session().map_err(e)?;
    let count = |n: u64, want: usize, what: &str| {
        if n != want as u64 {
            return Err(format!("count of {what}: {n}, model {want}"));
        }
        Ok(())
    };
    count(
        s.query::<Author>().count().map_err(e)?,
        world.authors.len(),
        "authors",
    )?;
    count(
        s.query::<Book>().count().map_err(e)?,
        world.books.len(),
        "books",
    )?;
    count(
        s.query::<Tag>().count().map_err(e)?,
        world.tags.len(),
        "tags",
    )?;
    for a in world.authors.values() {
        let by_name = (s.query::<Author>())
            .filter(Author::name.eq(a.name.as_str()))
            .all()
            .map_err(e)?;
        if by_name != [a.clone()] {
            return Err(format!("author {} by name: {by_name:?}", a.id));
        }
        let mut books: Vec<i64> = (Author::books.load(&s, a).map_err(e)?.iter())
            .map(|b| b.id)
            .collect();
        books.sort_unstable();
        let want: Vec<i64> = (world.books.values())
            .filter(|b| b.author_id == a.id)
            .map(|b| b.id)
            .collect();
        if books != want {
            return Err(format!(
                "books of author {}: {books:?}, model {want:?}",
                a.id
            ));
        }
    }
    for (a, books) in s.query::<Author>().all_with(Author::books).map_err(e)? {
        if books
            .iter()
            .any(|b| b.author_id != a.id || world.books.get(&b.id) != Some(b))
        {
            return Err(format!("eager books of author {}", a.id));
        }
    }
    for b in world.books.values() {
        let by_isbn = (s.query::<Book>())
            .filter(Book::isbn.eq(b.isbn.as_str()))
            .first()
            .map_err(e)?;
        if by_isbn.as_ref() != Some(b) {
            return Err(format!("book {} by isbn: {by_isbn:?}", b.id));
        }
        let by_title = (s.query::<Book>())
            .filter(Book::title.eq(b.title.as_str()))
            .all()
            .map_err(e)?;
        let want = world.books.values().filter(|x| x.title == b.title).count();
        if by_title.len() != want || !by_title.contains(b) {
            return Err(format!(
                "books titled {}: {} found, model {want}",
                b.title,
                by_title.len()
            ));
        }
        let author = Book::author.load(&s, b).map_err(e)?;
        if author.as_ref() != world.authors.get(&b.author_id) || author.is_none() {
            return Err(format!("author of book {}: {author:?}", b.id));
        }
    }
    for t in world.tags.values() {
        let by_name = (s.query::<Tag>())
            .filter(Tag::name.eq(t.name.as_str()))
            .first()
            .map_err(e)?;
        if by_name.as_ref() != Some(t) {
            return Err(format!("tag {} by name: {by_name:?}", t.id));
        }
    }
    for n in names {
        let a = (s.query::<Author>())
            .filter(Author::name.eq(n.as_str()))
            .first()
            .map_err(e)?;
        let b = (s.query::<Book>())
            .filter(Book::isbn.eq(n.as_str()))
            .first()
            .map_err(e)?;
        let t = (s.query::<Tag>())
            .filter(Tag::name.eq(n.as_str()))
            .first()
            .map_err(e)?;
        if a.as_ref() != world.authors.values().find(|x| &x.name == n)
            || b.as_ref() != world.books.values().find(|x| &x.isbn == n)
            || t.as_ref() != world.tags.values().find(|x| &x.name == n)
        {
            return Err(format!("unique value {n} finds {a:?} {b:?} {t:?}"));
        }
    }
    Ok(())
}

#[test]
fn orm_survives_sigkill_loop() {
    let kills = env_count("STRATA_ORM_KILLS", 100);
    let seed = kill::seed();
    println!("ORM kill loop: STRATA_KILL_SEED={seed}, {kills} kills");
    let mut rng = Rng::new(seed ^ 0x5EED);
    let dir = TempDir::new("kill-orm");
    let db = dir.path().join("library.strata");
    let copy = dir.path().join("verify.strata");
    let stderr = dir.path().join("child-stderr");
    let mut lib = Library::default();
    let mut timings = Timings::default();
    let mut tally = Tally::default();
    let started = Instant::now();
    while tally.kills < kills {
        let plan = timings.plan(&mut rng);
        let mut env = round_options(&mut rng);
        env.push(("STRATA_KILL_CHILD_SEED", rng.next_u64().to_string()));
        env.push(("STRATA_KILL_CHILD_ROUND", (tally.rounds + 1).to_string()));
        env.push(("STRATA_KILL_CHILD_THREADS", (1 + rng.below(2)).to_string()));
        env.push(("STRATA_KILL_CHILD_CKPT", checkpoint_every(&plan, &mut rng)));
        let is_ack = |l: &str| l.starts_with("K ");
        let round = run_round("kill_child_orm", &db, &env, plan, &is_ack, &stderr);
        tally.round(&round);
        timings.learn(&round);
        tally.acked += lib.learn(&round.lines);
        copy_database(&db, &copy);
        let verified = {
            let _g = no_spawns();
            lib.verify(&copy)
        };
        match verified {
            Ok(unacked) => {
                tally.recoveries += 1;
                tally.acked_checks += lib.acked;
                tally.unacked_found += unacked;
            }
            Err(e) => {
                let kept = keep_for_post_mortem(&db, "orm");
                panic!(
                    "STRATA_KILL_SEED={seed}, round {} ({plan:?}, {env:?}, kill in {:?}): {e}\n\
                     the database as the kill left it is kept in {}",
                    tally.rounds,
                    round.phase,
                    kept.display()
                );
            }
        }
    }
    print_tally("ORM kill loop", &tally, started);
    assert!(tally.acked > 0, "no commit was ever acknowledged");
}

// ---------------------------------------------------------------------
// The checks themselves: a loss they must see.

/// Runs one round of `role` that stops by itself after `commits` commits,
/// from one thread; returns its lines.
fn clean_round(
    role: &str,
    db: &Path,
    dir: &Path,
    commits: u64,
    is_ack: &dyn Fn(&str) -> bool,
) -> Round {
    let env = vec![
        ("STRATA_KILL_CHILD_SEED", "7".to_string()),
        ("STRATA_KILL_CHILD_ROUND", "1".to_string()),
        ("STRATA_KILL_CHILD_THREADS", "1".to_string()),
        ("STRATA_KILL_CHILD_CKPT", "1000".to_string()),
    ];
    let plan = Plan::Close(commits, None);
    let round = run_round(role, db, &env, plan, is_ack, &dir.join("child-stderr"));
    assert_eq!(round.phase, Phase::CleanExit, "{:?}", round.lines);
    round
}

#[test]
fn engine_checks_see_a_lost_transfer() {
    let dir = TempDir::new("kill-self-engine");
    let db = dir.path().join("bank.strata");
    let copy = dir.path().join("verify.strata");
    let is_ack = |l: &str| l.starts_with(['T', 'I', 'D']);
    let round = clean_round("kill_child_engine", &db, dir.path(), 40, &is_ack);
    let fresh = || {
        let mut bank = Bank::default();
        bank.learn(&round.lines);
        bank
    };
    assert!(fresh().acked() >= 40);
    let _g = no_spawns();
    copy_database(&db, &copy);
    fresh().verify(&copy).expect("the intact copy passes");
    // Undo the last acknowledged transfer whole: balances, ledger entry
    // and all; only the acknowledgement says it was there.
    let (&id, &(from, to, amount)) = fresh().transfers.last_key_value().expect("a transfer");
    let d = Database::open_with(&copy, verify_options()).expect("open the copy");
    d.transaction(|tx| {
        let bal = |tx: &mut Transaction, a: u8| -> strata_engine::Result<i64> {
            Ok(le_i64(&tx.get("accounts", &acct(a))?.expect("account")))
        };
        let (f, t) = (bal(tx, from)?, bal(tx, to)?);
        tx.put("accounts", &acct(from), &(f + amount).to_le_bytes())?;
        tx.put("accounts", &acct(to), &(t - amount).to_le_bytes())?;
        tx.delete("ledger", &id.to_be_bytes())?;
        Ok(())
    })
    .expect("undo a transfer");
    drop(d);
    let err = fresh()
        .verify(&copy)
        .expect_err("a lost transfer must be seen");
    assert!(err.contains("missing") || err.contains("thread"), "{err}");
}

#[test]
fn orm_checks_see_a_lost_book() {
    let dir = TempDir::new("kill-self-orm");
    let db = dir.path().join("library.strata");
    let copy = dir.path().join("verify.strata");
    let is_ack = |l: &str| l.starts_with("K ");
    let round = clean_round("kill_child_orm", &db, dir.path(), 60, &is_ack);
    let fresh = || {
        let mut lib = Library::default();
        lib.learn(&round.lines);
        lib
    };
    let _g = no_spawns();
    copy_database(&db, &copy);
    fresh().verify(&copy).expect("the intact copy passes");
    // Delete one acknowledged book properly, through the ORM: the
    // database stays consistent, and only the model says it was there.
    let lib = fresh();
    let book = lib.model.books.values().next().expect("a book").clone();
    let d = strata::Database::open_with(&copy, verify_options()).expect("open the copy");
    let mut s = d.session().expect("session");
    assert!(s.delete(&book).expect("delete"), "the book is there");
    s.commit().expect("commit");
    drop(d);
    let err = fresh().verify(&copy).expect_err("a lost book must be seen");
    assert!(err.contains(&format!("books at [{}]", book.id)), "{err}");
}
