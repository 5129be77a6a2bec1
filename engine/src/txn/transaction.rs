//! Transactions: private write buffers over the shared tree, isolated by
//! strict two-phase locking.
//!
//! A transaction never changes the shared tree before it commits. Its
//! puts and deletes go into a private buffer (one ordered map per table);
//! its reads look in the buffer first, then in the tree. Commit turns the
//! buffer into one redo record, which the store appends to the log and
//! applies to the tree (`store/commit.rs`); rollback, or dropping the
//! transaction, throws the buffer away, so no undo log is needed.
//!
//! Every read and write first takes its lock (`lock_table.rs`): IS + S on
//! the key for a point read, IX + X for a write, S on the table for a
//! range. Locks are kept in a local map too, so asking again for a lock
//! already held costs a hash lookup, not a trip to the lock manager; a
//! table lock that covers a key lock (S or X on the table) makes the key
//! lock unnecessary. Locks are released once the commit's record is in the
//! log, before its sync (see RELEASE AT COMMIT in `lock_table.rs`), or at
//! rollback.
//!
//! A transaction that takes more than [`ESCALATE_AFTER`] shared (or
//! exclusive) key locks on one table escalates to a shared (or exclusive)
//! lock of the table: bulk loads and big reads then cost no lock per key.
//!
//! A transaction that loses a deadlock or times out waiting is rolled back
//! on the spot (its locks released, so the others go on); every later call
//! on it returns the same error.
//!
//! READ-ONLY TRANSACTIONS
//!
//! A read-only transaction takes no lock at all: it reads a snapshot, the
//! committed state as of its start, through the live tree corrected by the
//! versions commits keep while snapshots are open (`store/versions.rs`).
//! It never waits for a writer and no writer waits for it. Its reads
//! consult the tree first and the versions second, then check that the
//! snapshot has not expired (versions invariants 1 and 4).

use crate::base::hash::FastMap;
use crate::base::hash::key_hash;
use crate::error::{Error, Result};
use crate::log::log_record::Op;
use crate::store::shared::Store;
use crate::store::versions::{Before, Snapshot};
use crate::tree::btree::{self, Found};
use crate::tree::catalog::{self, TableId};
use crate::tree::node::{self, MAX_VALUE_LEN};
use crate::txn::lock_table::{LockManager, Mode, Resource, TxnId};
use crate::txn::write_set::WriteSet;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Key locks on one table after which a transaction locks the whole table.
const ESCALATE_AFTER: usize = 4096;

/// A transaction, read-write ([`Database::begin`](crate::Database::begin))
/// or read-only ([`Database::begin_read`](crate::Database::begin_read)).
/// Commit with [`Transaction::commit`]; dropping it without committing
/// rolls it back.
pub struct Transaction {
    pub(crate) store: Arc<Store>,
    lock_manager: Arc<LockManager>,
    id: TxnId,
    read_only: bool,
    /// Private writes per table: `None` is a delete.
    pub(crate) writes: BTreeMap<TableId, WriteSet>,
    /// Tables this transaction created, in creation order.
    created: Vec<(TableId, String)>,
    created_ids: FastMap<String, TableId>,
    /// Ids of existing tables this transaction has looked up.
    table_ids: RefCell<FastMap<String, TableId>>,
    /// The locks held, as the lock manager granted them.
    locks: RefCell<HeldLocks>,
    /// New key locks taken per table, shared and exclusive: past
    /// [`ESCALATE_AFTER`] of one mode the table is locked in that mode.
    key_locks: RefCell<FastMap<TableId, [usize; 2]>>,
    /// Set when the transaction lost a deadlock or timed out: it is rolled
    /// back and says so from then on.
    failed: RefCell<Option<Error>>,
    /// Still holds locks (not yet committed or rolled back).
    open: bool,
    /// The last LSN applied when this transaction took a lock: the newest
    /// commit whose changes it may have read.
    seen_lsn: std::cell::Cell<u64>,
    /// A read-only transaction's snapshot: it reads through it and takes
    /// no locks.
    pub(crate) snapshot: Option<Snapshot>,
}

/// A value a transaction read: from the tree, or a snapshot's version.
pub(crate) enum Read {
    Tree(Found),
    Version(Arc<[u8]>),
}

impl Read {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Read::Tree(f) => f.bytes(),
            Read::Version(v) => v,
        }
    }

    fn into_vec(self) -> Vec<u8> {
        match self {
            Read::Tree(f) => f.into_vec(),
            Read::Version(v) => v.to_vec(),
        }
    }
}

/// The locks a transaction holds, as the lock manager granted them. Table
/// locks are kept apart, by table id: every key access looks its table's
/// lock up first (a table lock may cover the key), and that lookup should
/// cost no more than hashing a number.
#[derive(Default)]
struct HeldLocks {
    tables: FastMap<TableId, Mode>,
    others: FastMap<Resource, Mode>,
}

impl HeldLocks {
    #[inline]
    fn table(&self, table: TableId) -> Option<Mode> {
        self.tables.get(&table).copied()
    }

    fn get(&self, res: &Resource) -> Option<Mode> {
        match res {
            Resource::Table(t) => self.table(*t),
            other => self.others.get(other).copied(),
        }
    }

    fn insert(&mut self, res: Resource, mode: Mode) {
        match res {
            Resource::Table(t) => _ = self.tables.insert(t, mode),
            other => _ = self.others.insert(other, mode),
        }
    }

    fn clear(&mut self) {
        self.tables.clear();
        self.others.clear();
    }

    fn len(&self) -> usize {
        self.tables.len() + self.others.len()
    }
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("id", &self.id)
            .field("read_only", &self.read_only)
            .field("tables_written", &self.writes.len())
            .field("locks", &self.locks.borrow().len())
            .finish_non_exhaustive()
    }
}

impl Transaction {
    pub(crate) fn new(
        store: Arc<Store>,
        lock_manager: Arc<LockManager>,
        read_only: bool,
    ) -> Transaction {
        let id = lock_manager.new_txn();
        let snapshot = read_only.then(|| store.snapshot());
        Transaction {
            store,
            lock_manager,
            id,
            read_only,
            writes: BTreeMap::new(),
            created: Vec::new(),
            created_ids: FastMap::default(),
            table_ids: RefCell::new(FastMap::default()),
            locks: RefCell::new(HeldLocks::default()),
            key_locks: RefCell::new(FastMap::default()),
            failed: RefCell::new(None),
            open: true,
            seen_lsn: std::cell::Cell::new(0),
            snapshot,
        }
    }

    /// Checks that the handle and this transaction can still be used.
    /// Whether [`Transaction::usable`] would succeed, cheaply.
    #[inline]
    pub(crate) fn is_usable(&self) -> bool {
        !self.store.poison.is_set() && self.failed.borrow().is_none()
    }

    pub(crate) fn usable(&self) -> Result<()> {
        self.store.poison.check()?;
        match &*self.failed.borrow() {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn writable(&self) -> Result<()> {
        self.usable()?;
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        Ok(())
    }

    /// Takes `mode` on `res`, unless already held; returns whether it took
    /// it now. A deadlock or timeout rolls the transaction back.
    pub(crate) fn lock(&self, res: Resource, mode: Mode) -> Result<bool> {
        if self
            .locks
            .borrow()
            .get(&res)
            .is_some_and(|m| m.covers(mode))
        {
            return Ok(false);
        }
        match self.lock_manager.acquire(self.id, &res, mode) {
            Ok(()) => {
                // Changes visible under this lock were applied by now.
                let applied = self.store.applied_lsn.load(Ordering::Acquire);
                self.seen_lsn.set(self.seen_lsn.get().max(applied));
                let mut locks = self.locks.borrow_mut();
                let held = locks.get(&res).map_or(mode, |m| m.join(mode));
                locks.insert(res, held);
                Ok(true)
            }
            Err(e) => {
                // Roll back now, so that the transactions we were in the
                // way of go on even if the caller keeps this one around.
                self.locks.borrow_mut().clear();
                self.lock_manager.release_all(self.id);
                *self.failed.borrow_mut() = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Locks `key` of `table` in `mode` (S or X), with the table's intention
    /// lock, unless a table lock already covers it. The covered case (a
    /// table locked whole, by a read-only transaction or by escalation) is
    /// the common one and costs a lookup in the local lock map, inline.
    #[inline]
    fn lock_key(&self, table: TableId, key: &[u8], mode: Mode) -> Result<()> {
        let table_mode = self.locks.borrow().table(table);
        let covered = match mode {
            Mode::Shared => table_mode.is_some_and(|m| m.covers(Mode::Shared)),
            _ => table_mode == Some(Mode::Exclusive),
        };
        if covered {
            return Ok(());
        }
        self.lock_uncovered_key(table, table_mode, key, mode)
    }

    /// [`Transaction::lock_key`] when no table lock covers the key:
    /// `table_mode` is the table lock held, if any.
    fn lock_uncovered_key(
        &self,
        table: TableId,
        table_mode: Option<Mode>,
        key: &[u8],
        mode: Mode,
    ) -> Result<()> {
        // A read-only transaction locks a whole table in S mode when it can
        // without waiting (no writer holds it): then its reads of that
        // table take no lock each. When writers are active it reads key by
        // key, so as not to hold them up.
        if self.read_only && table_mode.is_none() && self.try_table_shared(table) {
            return Ok(());
        }
        let intent = if mode == Mode::Shared {
            Mode::IntentShared
        } else {
            Mode::IntentExclusive
        };
        self.lock(Resource::Table(table), intent)?;
        if !self.lock(Resource::Key(table, key_hash(key)), mode)? {
            return Ok(()); // held already: not a new key lock
        }
        // Lock escalation: a transaction that has taken more than
        // ESCALATE_AFTER new key locks of one mode on one table locks the
        // table in that mode instead; later keys then cost nothing.
        let escalate = {
            let mut counts = self.key_locks.borrow_mut();
            let c = counts.entry(table).or_insert([0, 0]);
            let n = &mut c[usize::from(mode == Mode::Exclusive)];
            *n += 1;
            *n == ESCALATE_AFTER + 1
        };
        if escalate {
            self.lock(Resource::Table(table), mode)?;
        }
        Ok(())
    }

    /// Takes S on `table` if no wait is needed; remembers the outcome.
    fn try_table_shared(&self, table: TableId) -> bool {
        let res = Resource::Table(table);
        if !self.lock_manager.try_acquire(self.id, &res, Mode::Shared) {
            // Not now: fall back to key locks for this table (IS below).
            return false;
        }
        let applied = self.store.applied_lsn.load(Ordering::Acquire);
        self.seen_lsn.set(self.seen_lsn.get().max(applied));
        self.locks.borrow_mut().insert(res, Mode::Shared);
        true
    }

    pub(crate) fn table(&self, name: &str) -> Result<TableId> {
        if let Some(&id) = self.created_ids.get(name) {
            return Ok(id);
        }
        if let Some(&id) = self.table_ids.borrow().get(name) {
            return Ok(id);
        }
        if let Some(snap) = &self.snapshot {
            // Tables are never dropped: one that existed at the snapshot
            // exists for good, and one created later is not there for it.
            let id = self
                .store
                .table_id_at(name, snap.lsn)
                .ok_or_else(|| Error::NoSuchTable(name.to_string()))?;
            self.table_ids.borrow_mut().insert(name.to_string(), id);
            return Ok(id);
        }
        if let Some(id) = self.store.table_id(name) {
            // Tables are never dropped: no lock needed, and the id can be
            // remembered.
            self.table_ids.borrow_mut().insert(name.to_string(), id);
            return Ok(id);
        }
        // Not there: hold S on the name, so that no one creates it under
        // us, and look again (a creator may have committed while we waited).
        self.lock(Resource::Name(name.into()), Mode::Shared)?;
        self.store
            .table_id(name)
            .ok_or_else(|| Error::NoSuchTable(name.to_string()))
    }

    fn check_key(&self, key: &[u8]) -> Result<()> {
        let max = node::max_key_len(self.store.page_size);
        if key.len() > max {
            return Err(Error::KeyTooLarge {
                len: key.len(),
                max,
            });
        }
        Ok(())
    }

    /// The longest key the database accepts.
    pub fn max_key_len(&self) -> usize {
        node::max_key_len(self.store.page_size)
    }

    /// Whether this transaction can only read.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Creates table `name` if it does not exist. The table is visible to
    /// this transaction at once and to others once it commits.
    pub fn create_table(&mut self, name: &str) -> Result<()> {
        self.writable()?;
        catalog::check_name(name)?;
        if self.created_ids.contains_key(name) || self.store.table_id(name).is_some() {
            return Ok(());
        }
        self.lock(Resource::Name(name.into()), Mode::Exclusive)?;
        if self.store.table_id(name).is_some() {
            return Ok(()); // created and committed while we waited
        }
        let id = self.store.new_table_id()?;
        self.created.push((id, name.to_string()));
        self.created_ids.insert(name.to_string(), id);
        Ok(())
    }

    /// Whether table `name` exists (for this transaction).
    pub fn table_exists(&self, name: &str) -> Result<bool> {
        self.usable()?;
        match self.table(name) {
            Ok(_) => Ok(true),
            Err(Error::NoSuchTable(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Stores `value` under `key` in table `table`, replacing any old value.
    pub fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
        self.writable()?;
        self.check_key(key)?;
        if value.len() > MAX_VALUE_LEN {
            return Err(Error::ValueTooLarge {
                len: value.len(),
                max: MAX_VALUE_LEN,
            });
        }
        let id = self.table(table)?;
        self.lock_key(id, key, Mode::Exclusive)?;
        self.writes.entry(id).or_default().insert(key, Some(value));
        Ok(())
    }

    /// The value under `key` in table `table`, as this transaction sees it.
    pub fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.usable()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        if let Some(v) = self.writes.get(&id).and_then(|w| w.get(key)) {
            return Ok(v.map(<[u8]>::to_vec)); // our own write: we hold X already
        }
        Ok(self.read(id, key)?.map(Read::into_vec))
    }

    /// The committed value of `key` in table `id` as this transaction may
    /// see it: under a shared lock, or in its snapshot.
    #[inline]
    fn read(&self, id: TableId, key: &[u8]) -> Result<Option<Read>> {
        if let Some(snap) = &self.snapshot {
            return self.read_snapshot(snap, id, key);
        }
        self.lock_key(id, key, Mode::Shared)?;
        let found = self
            .store
            .read_tree(id, |r, root, _| btree::get(r, root, key))?;
        Ok(found.map(Read::Tree))
    }

    /// The value of `key` in table `id` at snapshot `snap`: the tree's,
    /// unless a later commit changed it (`store/versions.rs`).
    fn read_snapshot(&self, snap: &Snapshot, id: TableId, key: &[u8]) -> Result<Option<Read>> {
        let found = self
            .store
            .read_tree(id, |r, root, _| btree::get(r, root, key))?;
        // The versions after the tree (versions invariant 1), the expiry
        // mark after the versions (invariant 4).
        let version = self.store.versions.lookup(id, key, snap.lsn);
        snap.check()?;
        Ok(match version {
            Some(before) => before_read(before),
            None => found.map(Read::Tree),
        })
    }

    /// Calls `f` with the value under `key` in table `table` (as
    /// [`Transaction::get`] sees it), borrowed where it lies rather than
    /// copied: for reading values without an allocation each. `f` runs
    /// with no latch held.
    pub fn get_with<T>(
        &self,
        table: &str,
        key: &[u8],
        f: impl FnOnce(Option<&[u8]>) -> T,
    ) -> Result<T> {
        self.usable()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        if let Some(v) = self.writes.get(&id).and_then(|w| w.get(key)) {
            return Ok(f(v));
        }
        let found = self.read(id, key)?;
        Ok(f(found.as_ref().map(Read::bytes)))
    }

    /// Like [`Transaction::get`], but takes the exclusive lock at once, as
    /// a write would: for a read that will be followed by a write of the
    /// same key (a read-modify-write), which two transactions could
    /// otherwise both read and then deadlock upgrading.
    pub fn get_for_update(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.writable()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        self.lock_key(id, key, Mode::Exclusive)?;
        if let Some(v) = self.writes.get(&id).and_then(|w| w.get(key)) {
            return Ok(v.map(<[u8]>::to_vec));
        }
        let found = self
            .store
            .read_tree(id, |r, root, _| btree::get(r, root, key))?;
        Ok(found.map(Found::into_vec))
    }

    /// Removes `key` from table `table`; returns whether it was there.
    pub fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool> {
        self.writable()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        self.lock_key(id, key, Mode::Exclusive)?;
        let existed = match self.writes.get(&id).and_then(|w| w.get(key)) {
            Some(v) => v.is_some(),
            None => self
                .store
                .read_tree(id, |r, root, _| btree::contains(r, root, key))?,
        };
        if existed {
            self.writes.entry(id).or_default().insert(key, None);
        }
        Ok(existed)
    }

    /// Makes the transaction's writes durable (with `Durability::Full`) and
    /// visible, then releases its locks. On error the transaction is rolled
    /// back, unless the error is `Io` or `Poisoned` from the log, in which
    /// case it may or may not have reached the disk: reopening the database
    /// tells.
    pub fn commit(mut self) -> Result<()> {
        self.usable()?;
        let writes = self.writes.values().any(|w| !w.is_empty()) || !self.created.is_empty();
        let wait_for = if writes {
            let ops = self.ops();
            self.store.append_and_apply(&ops)?
        } else if let Some(snap) = &self.snapshot {
            // The snapshot may include commits not yet durable.
            (snap.lsn > 0).then_some(snap.lsn)
        } else {
            // What this transaction read may come from commits not yet
            // durable (their locks were released early): wait for them.
            let seen = self.seen_lsn.get();
            (seen > 0).then_some(seen)
        };
        // Early lock release: once the record is in the log, the log's
        // order is the serialisation order, and any transaction that reads
        // these changes commits after them, so waiting for the sync with
        // the locks held would only keep others from sharing it.
        self.release();
        if let Some(lsn) = wait_for {
            self.store.wait_durable(lsn, writes)?;
        }
        self.store.maybe_checkpoint();
        Ok(())
    }

    /// Throws the transaction's writes away and releases its locks.
    pub fn rollback(self) {}

    /// This transaction's changes, in the order its redo record lists
    /// them: tables created, then each table's writes in key order.
    fn ops(&self) -> Vec<Op<'_>> {
        let mut ops: Vec<Op<'_>> = self
            .created
            .iter()
            .map(|(id, name)| Op::CreateTable { id: *id, name })
            .collect();
        for (&table, w) in &self.writes {
            ops.extend(w.in_order().into_iter().map(|(key, v)| match v {
                Some(value) => Op::Put { table, key, value },
                None => Op::Delete { table, key },
            }));
        }
        ops
    }

    fn release(&mut self) {
        if self.open {
            self.open = false;
            if let Some(snap) = &self.snapshot {
                self.store.versions.close(snap);
            } else {
                self.lock_manager.release_all(self.id);
            }
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.release();
    }
}

/// A before-image as a read: `None` when the key was absent.
fn before_read(before: Before) -> Option<Read> {
    before.map(Read::Version)
}
