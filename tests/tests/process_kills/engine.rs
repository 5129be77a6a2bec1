//! The engine's loop: a child runs transactions on the engine's API with
//! `Durability::Full` and is killed with SIGKILL at a random moment.
//!
//! The workload runs bank transfers between 32 accounts, inserts of
//! groups of keys (some with values of many pages) and deletes of whole
//! groups, from 1 to 3 threads, each transaction taking the next number of
//! its thread from a counter stored with it. After each kill the parent
//! checks: `Database::check()` passes; the balances add up to the initial
//! total and equal the initial balances replayed through the ledger of
//! transfers (a transfer is whole or absent); each thread's transaction
//! numbers are exactly 1..=its counter, with no gap (no commit lost, none
//! half there); every group is whole and byte-exact, and no key belongs
//! to a missing group; every acknowledged commit is there; and nothing
//! seen after an earlier kill has gone. `engine_checks_see_a_lost_transfer`
//! takes an acknowledged transfer away from a copy and expects the checks
//! to see it.
//!
//! The backup and compaction loops (`ops.rs`) run the same bank, with a
//! thread of their own beside it ([`bank_child`]), and check a recovered
//! file, or a backup, with the same [`Bank::check_image`].
//!
//! `STRATA_KILLS` (default 100) is the number of kills.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;
use strata_engine::{Database, Transaction};
use strata_tests::kill::{
    CHILD_DB, Child, KillLoop, Oracle, child_options, copy_database, no_spawns, say,
    start_protocol, verify_options,
};
use strata_tests::{Rng, TempDir};

/// The loop: its child is `kill_child_engine`.
pub(crate) const ENGINE: KillLoop = KillLoop {
    name: "engine kill loop",
    kills_var: "STRATA_KILLS",
    default_kills: 100,
    seed_mix: 0,
    tag: "engine",
    file: "bank.strata",
    role: "engine::kill_child_engine",
    max_threads: 3,
    is_ack: |l| l.starts_with(['T', 'I', 'D']),
};

const ACCOUNTS: u8 = 32;
const INITIAL: i64 = 10_000;
/// Transaction ids are `n * THREAD_SLOTS + thread` for the thread's n-th
/// transaction, from 1.
pub(crate) const THREAD_SLOTS: u64 = 16;
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

/// Deletes the first group at or after `start` (or else the first of
/// all), with its items, leaving a tomb under thread `t`'s next id; returns
/// its acknowledgement, or `None` if there is no group.
pub(crate) fn delete_group(
    tx: &mut Transaction,
    t: u64,
    start: u64,
) -> strata_engine::Result<Option<String>> {
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
}

/// What the bank's threads share besides the database: the live groups
/// (a guide to how often to delete) and the highest group id.
#[derive(Default)]
pub(crate) struct Groups {
    pub live: AtomicI64,
    pub max: AtomicU64,
}

/// Work a child runs on a thread of its own beside the bank's threads,
/// until it stops (or is killed): nothing in the engine loop, backups or
/// compactions in `ops.rs`.
pub(crate) type Beside<'a> = dyn Fn(&Database, &Child, &Groups) + Sync + 'a;

/// One thread of the engine child: transfers, inserts and deletes until
/// killed (or until the child stops).
fn bank_worker(db: &Database, t: u64, child: &Child, shared: &Groups) {
    let (groups, max_group) = (&shared.live, &shared.max);
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
            db.transaction(|tx| delete_group(tx, t, start))
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
    bank_child("engine_survives_sigkill_loop", &|_, _, _| {});
}

/// A child running the bank: opens the database its parent (the test
/// `parent`) names, sets the bank up, and runs the workers, and `beside`
/// on a thread of its own, until killed or stopped.
pub(crate) fn bank_child(parent: &str, beside: &Beside<'_>) {
    let path = std::env::var(CHILD_DB).unwrap_or_else(|_| panic!("run by {parent}"));
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
    let shared = Groups {
        live: AtomicI64::new(count),
        max: AtomicU64::new(max),
    };
    std::thread::scope(|s| {
        for t in 0..child.threads {
            let (db, child, shared) = (&db, &child, &shared);
            s.spawn(move || bank_worker(db, t, child, shared));
        }
        s.spawn(|| beside(&db, &child, &shared));
    });
    say("closing");
    drop(db);
    say("closed");
}

/// What the engine loop knows: every acknowledged commit, and what the
/// last recovery found (which no later recovery may lose).
#[derive(Clone, Default)]
pub(crate) struct Bank {
    transfers: BTreeMap<u64, (u8, u8, i64)>,
    inserts: BTreeMap<u64, u8>,
    deletes: BTreeMap<u64, u64>,
    /// Ids of commits found that were never acknowledged.
    unacked: BTreeSet<u64>,
    last: Option<BankImage>,
}

/// A recovered engine database, decoded.
#[derive(Clone, Default, PartialEq, Debug)]
pub(crate) struct BankImage {
    accounts: BTreeMap<u8, i64>,
    ledger: BTreeMap<u64, (u8, u8, i64)>,
    groups: BTreeMap<u64, Vec<u32>>,
    tombs: BTreeMap<u64, u64>,
    counters: BTreeMap<u8, u64>,
}

impl Oracle for Bank {
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
        self.check_image(&img)?;
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

impl Bank {
    /// Checks a recovered image (or a backup's): the bank as of one commit
    /// (balances, ledger, ids, groups and tombs agree), holding every
    /// acknowledged commit and everything the last recovery found.
    pub(crate) fn check_image(&self, img: &BankImage) -> Result<(), String> {
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
        Ok(())
    }
}

/// Reads the bank's tables, checking every group's items byte for byte.
pub(crate) fn read_bank(db: &Database) -> Result<BankImage, String> {
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

#[test]
fn engine_survives_sigkill_loop() {
    ENGINE.run(&mut Bank::default());
}

// The check itself: a loss it must see.

#[test]
fn engine_checks_see_a_lost_transfer() {
    let dir = TempDir::new("kill-self-engine");
    let db = dir.path().join("bank.strata");
    let copy = dir.path().join("verify.strata");
    let round = ENGINE.clean_round(&db, dir.path(), 40);
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
