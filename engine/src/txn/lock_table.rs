//! The lock manager: strict two-phase locking over tables and keys.
//!
//! LOCK MODES
//!
//! Tables take the hierarchical modes IS, IX, S, SIX and X; keys take S
//! and X. A point read takes IS on its table and S on its key; a point
//! write takes IX and X. A range scan takes S on the whole table: no key
//! of that table can then be inserted, changed or deleted by anyone else
//! until the scanner ends, which is what makes predicate reads
//! phantom-free. (Next-key locking would let writers outside the scanned
//! range proceed; the table lock is simpler and exact, at the cost of
//! concurrency between scans and writes of the same table.) Creating a
//! table takes X on its name, so two transactions cannot create the same
//! name, and a transaction that looked a name up and did not find it
//! holds S on it.
//!
//! COMPATIBILITY
//!
//! ```text
//!         IS   IX   S    SIX  X
//!   IS    y    y    y    y    .
//!   IX    y    y    .    .    .
//!   S     y    .    y    .    .
//!   SIX   y    .    .    .    .
//!   X     .    .    .    .    .
//! ```
//!
//! A transaction holds one mode per resource, the least mode covering all
//! it asked for (S then IX gives SIX). Asking for more than it holds is an
//! upgrade.
//!
//! GRANTING
//!
//! Requests are granted strictly in arrival order (FIFO): a new request
//! waits if it conflicts with a holder or if anything at all is queued, so
//! a stream of compatible requests (readers, or writers' intention locks)
//! cannot starve a request that conflicts with them. An upgrade by a
//! holder is checked against the other holders only and goes to the head
//! of the queue: making it wait behind requests that wait for it would be
//! a deadlock by construction.
//!
//! DEADLOCK
//!
//! A waiting transaction waits for every holder its mode conflicts with and
//! for every request queued before it. Each time a transaction starts to wait,
//! the wait-for graph is searched from it; a cycle can only close through
//! a new waiter, so this finds every deadlock when it forms. The victim is
//! the youngest transaction in the cycle (the highest id: it has probably
//! done the least work); it gets [`Error::Deadlock`] and the others go on.
//! One new wait can close several cycles (waiting for several holders of
//! one key): the search repeats, ignoring the victims already chosen, until
//! no cycle runs through the new waiter.
//! Every wait also ends after the configured lock timeout with
//! [`Error::LockTimeout`], so no configuration can hang.
//!
//! THREADS
//!
//! A thread that waits for a lock runs none of its other transactions
//! meanwhile. So the wait-for graph has a second kind of edge: a
//! transaction that is not waiting, but whose thread is blocked in another
//! transaction's wait, waits for that transaction. (A transaction belongs
//! to the thread that last asked for a lock for it.) A cycle through such
//! an edge can never end by itself, and running the waiter again on the
//! same thread would only close it again: the new waiter fails at once
//! with [`Error::SelfDeadlock`], which is not retryable. The plainest case
//! is a transaction waiting for a lock that another transaction of its own
//! thread holds; read-only transactions, which take no locks, never take
//! part.
//!
//! RELEASE AT COMMIT
//!
//! Locks are held until the transaction's redo record is in the log and
//! its changes are applied, or its rollback is done, then all released at
//! once ([`LockManager::release_all`]); releasing wakes the requests that
//! can now be granted. They are released before the record's sync (early
//! lock release): the log is written in order, so a transaction that reads
//! those changes has a later LSN and cannot be durable without them, and a
//! read-only transaction waits, at its commit, until the newest change it
//! may have read is durable (`Transaction::commit`). The commit itself is
//! acknowledged only once durable. Holding locks through the sync would
//! serialise every transaction that touches a hot row through one sync
//! each, and group commit could not share them.

use crate::base::hash::FastMap;
use crate::error::{Error, Result};
use crate::tree::catalog::TableId;
use parking_lot::{Condvar, Mutex};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

/// A transaction's number: smaller is older.
pub(crate) type TxnId = u64;

/// What can be locked.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Resource {
    /// A whole table.
    Table(TableId),
    /// One key of a table, by a 64-bit hash of its bytes ([`key_hash`](crate::base::hash::key_hash)).
    /// Two keys with the same hash share a lock: a collision can only make
    /// a transaction wait when it need not, never let one through that
    /// must wait, and hashing spares the lock table a copy of every key.
    Key(TableId, u64),
    /// A table name (for creating tables).
    Name(Box<str>),
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resource::Table(t) => write!(f, "the lock on table {t}"),
            Resource::Key(t, h) => write!(f, "the lock on a key of table {t} (hash {h:016x})"),
            Resource::Name(n) => write!(f, "the lock on the table name {n:?}"),
        }
    }
}

/// Lock modes, ordered so that `a <= b` never holds for incomparable
/// modes (IX and S); see [`Mode::join`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Mode {
    IntentShared,
    IntentExclusive,
    Shared,
    SharedIntentExclusive,
    Exclusive,
}

use Mode::*;

impl Mode {
    pub(crate) fn compatible(self, other: Mode) -> bool {
        matches!(
            (self, other),
            (
                IntentShared,
                IntentShared | IntentExclusive | Shared | SharedIntentExclusive
            ) | (IntentExclusive, IntentShared | IntentExclusive)
                | (Shared, IntentShared | Shared)
                | (SharedIntentExclusive, IntentShared)
        )
    }

    /// The least mode that grants both.
    pub(crate) fn join(self, other: Mode) -> Mode {
        match (self, other) {
            (a, b) if a == b => a,
            (Exclusive, _) | (_, Exclusive) => Exclusive,
            (SharedIntentExclusive, _) | (_, SharedIntentExclusive) => SharedIntentExclusive,
            (IntentExclusive, Shared) | (Shared, IntentExclusive) => SharedIntentExclusive,
            (IntentShared, b) => b,
            (a, IntentShared) => a,
            _ => Exclusive,
        }
    }

    /// Whether holding `self` already grants `want`.
    pub(crate) fn covers(self, want: Mode) -> bool {
        self.join(want) == self
    }
}

#[derive(Debug)]
struct Request {
    txn: TxnId,
    mode: Mode,
}

#[derive(Debug, Default)]
struct Entry {
    granted: Vec<(TxnId, Mode)>,
    queue: VecDeque<Request>,
}

impl Entry {
    fn held_by(&self, txn: TxnId) -> Option<Mode> {
        self.granted
            .iter()
            .find(|(t, _)| *t == txn)
            .map(|(_, m)| *m)
    }

    fn fits_holders(&self, txn: TxnId, mode: Mode) -> bool {
        self.granted
            .iter()
            .all(|&(t, m)| t == txn || m.compatible(mode))
    }

    fn grant(&mut self, txn: TxnId, mode: Mode) {
        match self.granted.iter_mut().find(|(t, _)| *t == txn) {
            Some((_, m)) => *m = mode,
            None => self.granted.push((txn, mode)),
        }
    }
}

#[derive(Debug)]
struct Txn {
    held: Vec<Resource>,
    waiting: Option<Resource>,
    /// Chosen as a deadlock victim while waiting.
    doomed: bool,
    wake: Arc<Condvar>,
    /// The thread that last asked for a lock for it (see THREADS).
    thread: ThreadId,
}

/// The lock table itself, behind the lock manager's one mutex: every
/// resource with a holder or a request, and every transaction that holds
/// or waits.
#[derive(Debug, Default)]
struct LockTable {
    entries: FastMap<Resource, Entry>,
    txns: FastMap<TxnId, Txn>,
}

/// Counters the lock manager keeps.
#[derive(Debug, Default)]
pub(crate) struct LockStats {
    pub waits: AtomicU64,
    pub deadlocks: AtomicU64,
    pub self_deadlocks: AtomicU64,
    pub timeouts: AtomicU64,
}

/// Grants and releases locks; finds deadlocks; hands out transaction ids.
#[derive(Debug)]
pub(crate) struct LockManager {
    table: Mutex<LockTable>,
    timeout: Duration,
    /// The next transaction's id.
    next_txn: AtomicU64,
    pub stats: LockStats,
}

impl LockManager {
    pub(crate) fn new(timeout: Duration) -> LockManager {
        LockManager {
            table: Mutex::new(LockTable::default()),
            timeout,
            next_txn: AtomicU64::new(1),
            stats: LockStats::default(),
        }
    }

    /// A new transaction's id. Ids are handed out in `begin` order, so the
    /// highest id on a cycle is its youngest transaction (see DEADLOCK).
    pub(crate) fn new_txn(&self) -> TxnId {
        self.next_txn.fetch_add(1, Ordering::Relaxed)
    }

    /// The id the next transaction will get: a number that moves as
    /// transactions begin (the retry pause's jitter uses it).
    pub(crate) fn txns_begun(&self) -> u64 {
        self.next_txn.load(Ordering::Relaxed)
    }

    /// Acquires `mode` on `res` for `txn`, waiting if it must. On
    /// `Deadlock` or `LockTimeout` the request is withdrawn; the locks the
    /// transaction already holds stay until [`LockManager::release_all`].
    pub(crate) fn acquire(&self, txn: TxnId, res: &Resource, mode: Mode) -> Result<()> {
        let mut st = self.table.lock();
        let entry = st.entries.entry(res.clone()).or_default();
        let held = entry.held_by(txn);
        if held.is_some_and(|h| h.covers(mode)) {
            return Ok(());
        }
        let want = held.map_or(mode, |h| h.join(mode));
        let upgrade = held.is_some();
        let grantable = entry.fits_holders(txn, want) && (upgrade || entry.queue.is_empty());
        let me = thread::current().id();
        if grantable {
            entry.grant(txn, want);
            let t = st.txn(txn);
            t.thread = me;
            if !upgrade {
                t.held.push(res.clone());
            }
            return Ok(());
        }
        // Wait. Upgrades go first: they wait only for other holders.
        if upgrade {
            entry.queue.push_front(Request { txn, mode: want });
        } else {
            entry.queue.push_back(Request { txn, mode: want });
        }
        self.stats.waits.fetch_add(1, Ordering::Relaxed);
        let wake = {
            let t = st.txn(txn);
            t.waiting = Some(res.clone());
            t.doomed = false;
            t.thread = me;
            t.wake.clone()
        };
        // Our wait may close several cycles at once: break each, until
        // none goes through us.
        while let Some((victim, through_thread)) = st.find_deadlock(txn) {
            if through_thread {
                // Only this thread could end the wait (see THREADS).
                self.stats.self_deadlocks.fetch_add(1, Ordering::Relaxed);
                st.withdraw(txn, res);
                return Err(Error::SelfDeadlock {
                    resource: res.to_string(),
                });
            }
            self.stats.deadlocks.fetch_add(1, Ordering::Relaxed);
            tracing::info!(target: "strata::lock", %res, waiter = txn, victim, "deadlock");
            if victim == txn {
                st.withdraw(txn, res);
                return Err(Error::Deadlock);
            }
            let v = st.txn(victim);
            v.doomed = true;
            v.wake.notify_one();
        }
        let began = Instant::now();
        let deadline = began + self.timeout;
        loop {
            let t = st.txn(txn);
            if t.doomed {
                st.withdraw(txn, res);
                return Err(Error::Deadlock);
            }
            if t.waiting.is_none() {
                slow_wait(res, began);
                return Ok(()); // granted by whoever woke us
            }
            if wake.wait_until(&mut st, deadline).timed_out() {
                let t = st.txn(txn);
                if t.waiting.is_none() {
                    slow_wait(res, began);
                    return Ok(());
                }
                if t.doomed {
                    st.withdraw(txn, res);
                    return Err(Error::Deadlock);
                }
                self.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(target: "strata::lock", %res, waited_ms = self.timeout.as_millis() as u64, "lock wait timed out");
                st.withdraw(txn, res);
                return Err(Error::LockTimeout);
            }
        }
    }

    /// Acquires `mode` on `res` for `txn` if that needs no wait; `false`,
    /// changing nothing, if it would.
    pub(crate) fn try_acquire(&self, txn: TxnId, res: &Resource, mode: Mode) -> bool {
        let mut st = self.table.lock();
        let entry = st.entries.entry(res.clone()).or_default();
        let held = entry.held_by(txn);
        if held.is_some_and(|h| h.covers(mode)) {
            return true;
        }
        let want = held.map_or(mode, |h| h.join(mode));
        let upgrade = held.is_some();
        if !(entry.fits_holders(txn, want) && (upgrade || entry.queue.is_empty())) {
            if entry.granted.is_empty() && entry.queue.is_empty() {
                st.entries.remove(res);
            }
            return false;
        }
        entry.grant(txn, want);
        let t = st.txn(txn);
        t.thread = thread::current().id();
        if !upgrade {
            t.held.push(res.clone());
        }
        true
    }

    /// Releases every lock of `txn` and grants what can now be granted.
    pub(crate) fn release_all(&self, txn: TxnId) {
        let mut st = self.table.lock();
        let Some(t) = st.txns.remove(&txn) else {
            return;
        };
        debug_assert!(
            t.waiting.is_none(),
            "a transaction releases only when not waiting"
        );
        for res in t.held {
            if let Some(e) = st.entries.get_mut(&res) {
                e.granted.retain(|(id, _)| *id != txn);
            }
            st.grant_waiters(&res);
        }
    }

    /// Number of transactions waiting for a lock right now.
    pub(crate) fn waiting(&self) -> usize {
        self.table
            .lock()
            .txns
            .values()
            .filter(|t| t.waiting.is_some())
            .count()
    }

    /// Whether `txn` is waiting for a lock right now.
    #[cfg(test)]
    pub(crate) fn is_waiting(&self, txn: TxnId) -> bool {
        self.table
            .lock()
            .txns
            .get(&txn)
            .is_some_and(|t| t.waiting.is_some())
    }
}

impl LockTable {
    fn txn(&mut self, txn: TxnId) -> &mut Txn {
        self.txns.entry(txn).or_insert_with(|| Txn {
            held: Vec::new(),
            waiting: None,
            doomed: false,
            wake: Arc::new(Condvar::new()),
            thread: thread::current().id(),
        })
    }

    /// Takes `txn`'s request for `res` out of the queue (it gave up).
    fn withdraw(&mut self, txn: TxnId, res: &Resource) {
        if let Some(e) = self.entries.get_mut(res) {
            e.queue.retain(|r| r.txn != txn);
        }
        let t = self.txn(txn);
        t.waiting = None;
        t.doomed = false;
        // Requests queued behind it may fit now.
        self.grant_waiters(res);
    }

    /// Grants queued requests on `res` in order while they fit.
    fn grant_waiters(&mut self, res: &Resource) {
        let Some(e) = self.entries.get_mut(res) else {
            return;
        };
        let mut woken = Vec::new();
        while let Some(r) = e.queue.front() {
            if !e.fits_holders(r.txn, r.mode) {
                break;
            }
            let (txn, mode) = (r.txn, r.mode);
            e.queue.pop_front();
            let first = e.held_by(txn).is_none();
            e.grant(txn, mode);
            woken.push((txn, first));
        }
        if e.granted.is_empty() && e.queue.is_empty() {
            self.entries.remove(res);
        }
        for (txn, first) in woken {
            let t = self.txn(txn);
            if first {
                t.held.push(res.clone());
            }
            t.waiting = None;
            t.wake.notify_one();
        }
    }

    /// The transactions `txn` waits for, each with whether the edge is a
    /// thread's (see THREADS). A doomed victim waits for no one, and no
    /// one waits for it: it is about to give everything back.
    fn waits_for(&self, txn: TxnId) -> Vec<(TxnId, bool)> {
        let Some(t) = self.txns.get(&txn).filter(|t| !t.doomed) else {
            return Vec::new();
        };
        let doomed = |t: &TxnId| self.txns.get(t).is_some_and(|t| t.doomed);
        let Some(res) = t.waiting.as_ref() else {
            // Not waiting: stuck only if its thread waits elsewhere.
            return self
                .txns
                .iter()
                .filter(|(id, o)| **id != txn && o.thread == t.thread && o.waiting.is_some())
                .filter(|(id, _)| !doomed(id))
                .map(|(id, _)| (*id, true))
                .collect();
        };
        let Some(e) = self.entries.get(res) else {
            return Vec::new();
        };
        let Some(pos) = e.queue.iter().position(|r| r.txn == txn) else {
            return Vec::new();
        };
        let mode = e.queue[pos].mode;
        let holders = e
            .granted
            .iter()
            .filter(|&&(t, m)| t != txn && !m.compatible(mode))
            .map(|&(t, _)| t);
        // Granting is strictly in queue order: every request ahead of us
        // must be granted (or give up) before ours can be.
        let ahead = e.queue.iter().take(pos).map(|r| r.txn);
        holders
            .chain(ahead)
            .filter(|t| !doomed(t))
            .map(|t| (t, false))
            .collect()
    }

    /// Searches the wait-for graph from `start` for a cycle through it and
    /// returns the youngest transaction on it, and whether the cycle runs
    /// through a thread's edge.
    fn find_deadlock(&self, start: TxnId) -> Option<(TxnId, bool)> {
        // Depth-first, keeping the path so the cycle's members are known:
        // each step is a transaction, whether the edge into it is a
        // thread's, and the edges still to follow from it.
        type Step = (TxnId, bool, Vec<(TxnId, bool)>);
        let mut path: Vec<Step> = vec![(start, false, self.waits_for(start))];
        let mut visited: HashSet<TxnId> = HashSet::from([start]);
        while let Some((_, _, next)) = path.last_mut() {
            let Some((t, by_thread)) = next.pop() else {
                path.pop();
                continue;
            };
            if t == start {
                let through_thread = by_thread || path.iter().any(|s| s.1);
                let youngest = path.iter().map(|s| s.0).max()?;
                return Some((youngest, through_thread));
            }
            if visited.insert(t) {
                let edges = self.waits_for(t);
                path.push((t, by_thread, edges));
            }
        }
        None
    }
}

/// Lock waits at least this long are reported as `strata::lock` events.
pub(crate) const SLOW_LOCK_WAIT: Duration = Duration::from_millis(100);

/// Reports a granted wait for `res` that began at `began`, if it was slow.
fn slow_wait(res: &Resource, began: Instant) {
    let waited = began.elapsed();
    if waited >= SLOW_LOCK_WAIT {
        tracing::info!(
            target: "strata::lock",
            %res,
            waited_ms = waited.as_millis() as u64,
            "slow lock wait"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::hash::key_hash;
    use std::thread;

    fn key(k: &str) -> Resource {
        Resource::Key(1, key_hash(k.as_bytes()))
    }

    #[test]
    fn compatibility_and_join() {
        assert!(IntentShared.compatible(IntentExclusive));
        assert!(!Shared.compatible(IntentExclusive));
        assert!(!SharedIntentExclusive.compatible(Shared));
        assert!(SharedIntentExclusive.compatible(IntentShared));
        assert_eq!(Shared.join(IntentExclusive), SharedIntentExclusive);
        assert_eq!(IntentShared.join(Shared), Shared);
        assert_eq!(Exclusive.join(IntentShared), Exclusive);
        assert!(SharedIntentExclusive.covers(Shared));
        assert!(!Shared.covers(IntentExclusive));
        // The matrix is symmetric.
        let all = [
            IntentShared,
            IntentExclusive,
            Shared,
            SharedIntentExclusive,
            Exclusive,
        ];
        for a in all {
            for b in all {
                assert_eq!(a.compatible(b), b.compatible(a), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn shared_locks_share_and_exclusive_waits() {
        let lm = Arc::new(LockManager::new(Duration::from_secs(10)));
        lm.acquire(1, &key("a"), Shared).unwrap();
        lm.acquire(2, &key("a"), Shared).unwrap();
        let lm2 = lm.clone();
        let writer = thread::spawn(move || lm2.acquire(3, &key("a"), Exclusive));
        while !lm.is_waiting(3) {
            thread::yield_now();
        }
        // FIFO: a new reader queues behind the waiting writer.
        let lm3 = lm.clone();
        let reader = thread::spawn(move || lm3.acquire(4, &key("a"), Shared));
        while !lm.is_waiting(4) {
            thread::yield_now();
        }
        lm.release_all(1);
        lm.release_all(2);
        writer.join().unwrap().unwrap();
        assert!(lm.is_waiting(4));
        lm.release_all(3);
        reader.join().unwrap().unwrap();
        lm.release_all(4);
        assert_eq!(lm.waiting(), 0);
        assert!(lm.table.lock().entries.is_empty());
    }

    #[test]
    fn two_way_deadlock_picks_the_youngest() {
        let lm = Arc::new(LockManager::new(Duration::from_secs(10)));
        lm.acquire(1, &key("a"), Exclusive).unwrap();
        lm.acquire(2, &key("b"), Exclusive).unwrap();
        let lm1 = lm.clone();
        let t1 = thread::spawn(move || lm1.acquire(1, &key("b"), Exclusive));
        while !lm.is_waiting(1) {
            thread::yield_now();
        }
        // 2 closes the cycle and, being younger, is the victim.
        assert!(matches!(
            lm.acquire(2, &key("a"), Exclusive),
            Err(Error::Deadlock)
        ));
        lm.release_all(2);
        t1.join().unwrap().unwrap();
        assert_eq!(lm.stats.deadlocks.load(Ordering::Relaxed), 1);
        lm.release_all(1);
    }

    #[test]
    fn the_victim_may_be_another_waiter() {
        let lm = Arc::new(LockManager::new(Duration::from_secs(10)));
        lm.acquire(5, &key("a"), Exclusive).unwrap();
        lm.acquire(1, &key("b"), Exclusive).unwrap();
        // 5 (young) waits for 1; then 1 (old) closes the cycle: 5 dies.
        let lm5 = lm.clone();
        let t5 = thread::spawn(move || lm5.acquire(5, &key("b"), Exclusive));
        while !lm.is_waiting(5) {
            thread::yield_now();
        }
        let lm1 = lm.clone();
        let t1 = thread::spawn(move || lm1.acquire(1, &key("a"), Exclusive));
        assert!(matches!(t5.join().unwrap(), Err(Error::Deadlock)));
        lm.release_all(5);
        t1.join().unwrap().unwrap();
        lm.release_all(1);
    }

    #[test]
    fn upgrade_deadlock_with_the_younger_waiting_first() {
        let lm = Arc::new(LockManager::new(Duration::from_secs(10)));
        lm.acquire(1, &key("x"), Shared).unwrap();
        lm.acquire(2, &key("x"), Shared).unwrap();
        let lm2 = lm.clone();
        let t2 = thread::spawn(move || {
            let r = lm2.acquire(2, &key("x"), Exclusive);
            lm2.release_all(2);
            r
        });
        while !lm.is_waiting(2) {
            thread::yield_now();
        }
        lm.acquire(1, &key("x"), Exclusive).unwrap();
        assert!(matches!(t2.join().unwrap(), Err(Error::Deadlock)));
        lm.release_all(1);
    }

    #[test]
    fn upgrade_deadlock_and_timeout() {
        let lm = Arc::new(LockManager::new(Duration::from_millis(50)));
        lm.acquire(1, &key("x"), Shared).unwrap();
        lm.acquire(2, &key("x"), Shared).unwrap();
        let lm1 = lm.clone();
        let t1 = thread::spawn(move || lm1.acquire(1, &key("x"), Exclusive));
        while !lm.is_waiting(1) {
            thread::yield_now();
        }
        assert!(matches!(
            lm.acquire(2, &key("x"), Exclusive),
            Err(Error::Deadlock)
        ));
        lm.release_all(2);
        t1.join().unwrap().unwrap();
        // A wait that nothing ends times out.
        assert!(matches!(
            lm.acquire(3, &key("x"), Shared),
            Err(Error::LockTimeout)
        ));
        lm.release_all(3);
        lm.release_all(1);
        assert!(lm.table.lock().entries.is_empty());
    }
}
