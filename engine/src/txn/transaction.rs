//! Transactions: private write buffers over the shared tree, isolated by
//! strict two-phase locking.
//!
//! A transaction never changes the shared tree before it commits. Its
//! puts and deletes go into a private buffer (a write set per table,
//! `write_set.rs`); its reads look in the buffer first, then in the tree.
//! Commit turns the buffer into one redo record, which the store appends
//! to the log and applies to the tree (`store/commit.rs`); rollback, or
//! dropping the transaction, throws the buffer away, so no undo log is
//! needed.
//!
//! BOUNDED MEMORY
//!
//! The write sets' buffers together stay within `Options::txn_memory_limit`:
//! a write that would grow them past it first spills every write set to a
//! sorted run in the scratch file (`spill.rs`). A transaction whose writes
//! spilled commits from a merge of its runs: through the log as one record
//! built in memory when that record fits `checkpoint_log_size`, otherwise by
//! checkpoint, its operations streamed to the store in chunks of
//! [`CHUNK_BYTES`] (`store/commit.rs`). A write that takes the transaction
//! past `Options::max_transaction_size` fails with
//! `Error::TransactionTooLarge`, and a buffer the allocator refuses with
//! `Error::OutOfMemory`; either rolls the transaction back on the spot (its
//! locks released, its buffers and runs dropped), and the handle stays
//! usable.
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
use crate::log::log_record::{self, Op};
use crate::store::shared::Store;
use crate::store::versions::{Before, Snapshot};
use crate::tree::btree::{self, Found};
use crate::tree::catalog::{self, TableId};
use crate::tree::node::{self, MAX_VALUE_LEN};
use crate::txn::lock_table::{LockManager, Mode, Resource, TxnId};
use crate::txn::spill::{Spill, try_reserve};
use crate::txn::write_set::WriteSet;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Key locks on one table after which a transaction locks the whole table.
const ESCALATE_AFTER: usize = 4096;

/// Bytes of keys and values per chunk of operations that a spilled
/// transaction committing by checkpoint hands the store at a time.
pub(crate) const CHUNK_BYTES: usize = 4 << 20;

/// A transaction, read-write ([`Database::begin`](crate::Database::begin))
/// or read-only ([`Database::begin_read`](crate::Database::begin_read)).
/// Commit with [`Transaction::commit`]; dropping it without committing
/// rolls it back.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = strata_engine::Database::open(dir.path().join("db"))?;
/// let mut tx = db.begin()?;
/// tx.create_table("accounts")?;
/// tx.put("accounts", b"alice", b"100")?;
/// assert_eq!(tx.get("accounts", b"alice")?, Some(b"100".to_vec())); // its own write
/// drop(tx); // rolled back
/// let tx = db.begin()?;
/// assert!(!tx.table_exists("accounts")?);
/// # Ok::<(), strata_engine::Error>(())
/// ```
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
    /// The limits and the scratch file for spilling writes.
    spill: Arc<Spill>,
    /// Bytes of keys and values written (`WriteSet::size`, summed).
    size: u64,
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
        spill: Arc<Spill>,
        read_only: bool,
    ) -> Transaction {
        let id = lock_manager.new_txn();
        // Another process may have cut the data file: read in place only
        // what it still holds (`page/mapped_pages.rs`, invariant 4).
        store.trim_mapping();
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
            spill,
            size: 0,
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
                self.roll_back_with(&e);
                Err(e)
            }
        }
    }

    /// Rolls the transaction back on the spot (its locks released) and
    /// makes every later call return `e`.
    fn roll_back_with(&self, e: &Error) {
        self.locks.borrow_mut().clear();
        self.lock_manager.release_all(self.id);
        *self.failed.borrow_mut() = Some(e.clone());
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
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// let tx = db.begin_read()?;
    /// assert_eq!(tx.max_key_len(), db.max_key_len());
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn max_key_len(&self) -> usize {
        node::max_key_len(self.store.page_size)
    }

    /// Whether this transaction can only read.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// assert!(db.begin_read()?.is_read_only());
    /// assert!(!db.begin()?.is_read_only());
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Creates table `name` if it does not exist. The table is visible to
    /// this transaction at once and to others once it commits.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// let mut tx = db.begin()?;
    /// tx.create_table("users")?;
    /// tx.create_table("users")?; // already there: nothing to do
    /// tx.put("users", b"ann", b"")?;
    /// tx.commit()?;
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
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
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// let mut tx = db.begin()?;
    /// assert!(!tx.table_exists("users")?);
    /// tx.create_table("users")?;
    /// assert!(tx.table_exists("users")?);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn table_exists(&self, name: &str) -> Result<bool> {
        self.usable()?;
        match self.table(name) {
            Ok(_) => Ok(true),
            Err(Error::NoSuchTable(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Stores `value` under `key` in table `table`, replacing any old value.
    ///
    /// Past `Options::txn_memory_limit` the transaction's writes spill to
    /// the scratch file first. A write that takes the transaction past
    /// `Options::max_transaction_size` fails with
    /// [`Error::TransactionTooLarge`], one whose buffers cannot be
    /// allocated with [`Error::OutOfMemory`], and one whose spill fails
    /// with the I/O error; each rolls the transaction back (every later
    /// call on it returns the same error), and the handle stays usable.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// let mut tx = db.begin()?;
    /// tx.create_table("t")?;
    /// tx.put("t", b"k", b"one")?;
    /// tx.put("t", b"k", b"two")?; // replaces
    /// assert_eq!(tx.get("t", b"k")?, Some(b"two".to_vec()));
    /// tx.commit()?;
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
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
        self.write(id, key, Some(value))
    }

    /// Records a write in table `id`'s write set, spilling first if the
    /// buffers would outgrow their limit. A write past the size limit, or
    /// a failed allocation or spill, rolls the transaction back.
    fn write(&mut self, id: TableId, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let r = self.try_write(id, key, value);
        if let Err(e) = &r {
            self.roll_back_with(e);
            self.writes.clear();
            self.size = 0;
        }
        r
    }

    fn try_write(&mut self, id: TableId, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        // Buffers grow by doubling, so this sum is seldom needed.
        let grow = self.writes.get(&id).map_or(0, |w| w.growth(key, value));
        if grow > 0
            && self.writes.values().map(WriteSet::memory).sum::<usize>() + grow
                > self.spill.memory_limit
        {
            for (&t, w) in &mut self.writes {
                // The table written keeps its buffers for what follows.
                w.spill(&self.spill, t == id)?;
            }
        }
        let w = self.writes.entry(id).or_default();
        let size = w.size();
        w.insert(key, value)?;
        self.size = self.size - size + w.size();
        if self.size > self.spill.max_size {
            return Err(Error::TransactionTooLarge {
                limit: self.spill.max_size,
            });
        }
        Ok(())
    }

    /// This transaction's own write of `key` in table `id`, if any
    /// (`Some(None)`: deleted).
    fn own_write(&self, id: TableId, key: &[u8]) -> Result<Option<Option<Cow<'_, [u8]>>>> {
        match self.writes.get(&id) {
            Some(w) => w.get(key),
            None => Ok(None),
        }
    }

    /// The value under `key` in table `table`, as this transaction sees it.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// db.transaction(|tx| { tx.create_table("t")?; tx.put("t", b"k", b"v") })?;
    /// let tx = db.begin_read()?;
    /// assert_eq!(tx.get("t", b"k")?, Some(b"v".to_vec()));
    /// assert_eq!(tx.get("t", b"missing")?, None);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.usable()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        if let Some(v) = self.own_write(id, key)? {
            return Ok(v.map(Cow::into_owned)); // our own write: we hold X already
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
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// db.transaction(|tx| { tx.create_table("t")?; tx.put("t", b"k", b"hello") })?;
    /// let tx = db.begin_read()?;
    /// let len = tx.get_with("t", b"k", |v| v.map_or(0, <[u8]>::len))?; // no copy of the value
    /// assert_eq!(len, 5);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn get_with<T>(
        &self,
        table: &str,
        key: &[u8],
        f: impl FnOnce(Option<&[u8]>) -> T,
    ) -> Result<T> {
        self.usable()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        if let Some(v) = self.own_write(id, key)? {
            return Ok(f(v.as_deref()));
        }
        let found = self.read(id, key)?;
        Ok(f(found.as_ref().map(Read::bytes)))
    }

    /// Like [`Transaction::get`], but takes the exclusive lock at once, as
    /// a write would: for a read that will be followed by a write of the
    /// same key (a read-modify-write), which two transactions could
    /// otherwise both read and then deadlock upgrading.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// db.transaction(|tx| { tx.create_table("stock")?; tx.put("stock", b"apples", &[10]) })?;
    /// db.transaction(|tx| {
    ///     let left = tx.get_for_update("stock", b"apples")?.expect("stocked")[0];
    ///     tx.put("stock", b"apples", &[left - 1])
    /// })?;
    /// assert_eq!(db.begin_read()?.get("stock", b"apples")?, Some(vec![9]));
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn get_for_update(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.writable()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        self.lock_key(id, key, Mode::Exclusive)?;
        if let Some(v) = self.own_write(id, key)? {
            return Ok(v.map(Cow::into_owned));
        }
        let found = self
            .store
            .read_tree(id, |r, root, _| btree::get(r, root, key))?;
        Ok(found.map(Found::into_vec))
    }

    /// Removes `key` from table `table`; returns whether it was there.
    /// Fails, and rolls back, as [`Transaction::put`] does.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// let mut tx = db.begin()?;
    /// tx.create_table("t")?;
    /// tx.put("t", b"k", b"v")?;
    /// assert!(tx.delete("t", b"k")?);
    /// assert!(!tx.delete("t", b"k")?); // gone already
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool> {
        self.writable()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        self.lock_key(id, key, Mode::Exclusive)?;
        let existed = match self.own_write(id, key)? {
            Some(v) => v.is_some(),
            None => self
                .store
                .read_tree(id, |r, root, _| btree::contains(r, root, key))?,
        };
        if existed {
            self.write(id, key, None)?;
        }
        Ok(existed)
    }

    /// Makes the transaction's writes durable (with `Durability::Full`) and
    /// visible, then releases its locks. On error the transaction is rolled
    /// back, unless the error is `Io` or `Poisoned` from the log, in which
    /// case it may or may not have reached the disk: reopening the database
    /// tells.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// let mut tx = db.begin()?;
    /// tx.create_table("t")?;
    /// tx.put("t", b"k", b"v")?;
    /// tx.commit()?; // durable when it returns
    /// assert_eq!(db.begin_read()?.get("t", b"k")?, Some(b"v".to_vec()));
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn commit(mut self) -> Result<()> {
        // A disabled span costs a load and a branch (nothing is formatted).
        let _span = tracing::debug_span!(target: "strata::commit", "commit").entered();
        self.usable()?;
        let writes = self.writes.values().any(|w| !w.is_empty()) || !self.created.is_empty();
        let wait_for = if let Some(snap) = &self.snapshot {
            // The snapshot may include commits not yet durable.
            (snap.lsn > 0).then_some(snap.lsn)
        } else if !writes {
            // What this transaction read may come from commits not yet
            // durable (their locks were released early): wait for them.
            let seen = self.seen_lsn.get();
            (seen > 0).then_some(seen)
        } else if self.writes.values().any(WriteSet::is_spilled) {
            self.commit_spilled()?
        } else {
            let ops = self.ops()?;
            self.store.append_and_apply(&ops)?
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
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// # db.transaction(|tx| tx.create_table("t"))?;
    /// let mut tx = db.begin()?;
    /// tx.put("t", b"k", b"v")?;
    /// tx.rollback();
    /// assert_eq!(db.begin_read()?.get("t", b"k")?, None);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn rollback(self) {}

    /// The tables this transaction created, as operations.
    fn created_ops(&self) -> impl Iterator<Item = Op<'_>> {
        self.created
            .iter()
            .map(|(id, name)| Op::CreateTable { id: *id, name })
    }

    /// This transaction's changes, in the order its redo record lists
    /// them: tables created, then each table's writes in key order. For a
    /// transaction that never spilled: the operations borrow its buffers.
    fn ops(&self) -> Result<Vec<Op<'_>>> {
        let mut ops: Vec<Op<'_>> = self.created_ops().collect();
        for (&table, w) in &self.writes {
            let writes = w.in_order()?;
            try_reserve(&mut ops, writes.len())?;
            ops.extend(writes.into_iter().map(|(key, v)| match v {
                Some(value) => Op::Put { table, key, value },
                None => Op::Delete { table, key },
            }));
        }
        Ok(ops)
    }

    /// Commits a transaction whose writes spilled: through the log when
    /// its record surely fits `checkpoint_log_size` (the record is then
    /// built in memory, at most that large), otherwise by checkpoint, its
    /// operations streamed in chunks. Returns the LSN to wait for, as
    /// `Store::append_and_apply` does.
    fn commit_spilled(&self) -> Result<Option<u64>> {
        let created: u64 = self
            .created_ops()
            .map(|op| log_record::encoded_len(&op) as u64)
            .sum();
        let bound = created
            + self
                .writes
                .values()
                .map(WriteSet::op_bytes_bound)
                .sum::<u64>();
        if bound <= self.store.checkpoint_log_size {
            let (mut lsn, mut appended) = (None, false);
            let r = self.stream_ops(usize::MAX, &mut |ops: &[Op<'_>]| {
                appended = true;
                lsn = self.store.append_and_apply(ops)?;
                Ok(())
            });
            return match r {
                // Reading the runs back failed: a commit that fails on I/O
                // poisons the handle, whichever file failed it, so that
                // its caller never has to tell which.
                Err(e) if !appended => self.store.poisoned(Err(e)),
                r => r.map(|()| lsn),
            };
        }
        self.store
            .commit_large(&mut |sink: &mut dyn FnMut(&[Op<'_>]) -> Result<()>| {
                self.stream_ops(CHUNK_BYTES, sink)
            })?;
        Ok(None)
    }

    /// Hands `sink` this transaction's changes in redo order, in chunks
    /// whose keys and values pass `max` bytes by at most one write (the
    /// tables created lead the first chunk). Keys and values are copied
    /// out of the merge into one buffer per chunk.
    fn stream_ops(&self, max: usize, sink: &mut dyn FnMut(&[Op<'_>]) -> Result<()>) -> Result<()> {
        /// One write of a chunk: its table, and where its key and value
        /// (`None`: a delete) lie in the chunk's buffer.
        type Span = (TableId, usize, usize, Option<usize>);
        let first = std::cell::Cell::new(true);
        let mut flush = |buf: &mut Vec<u8>, spans: &mut Vec<Span>| -> Result<()> {
            let mut ops: Vec<Op<'_>> = Vec::new();
            if first.replace(false) {
                ops.extend(self.created_ops());
            }
            try_reserve(&mut ops, spans.len())?;
            ops.extend(spans.iter().map(|&(table, at, klen, vlen)| {
                let key = &buf[at..at + klen];
                match vlen {
                    Some(n) => Op::Put {
                        table,
                        key,
                        value: &buf[at + klen..at + klen + n],
                    },
                    None => Op::Delete { table, key },
                }
            }));
            sink(&ops)?;
            buf.clear();
            spans.clear();
            Ok(())
        };
        let (mut buf, mut spans) = (Vec::new(), Vec::new());
        for (&table, w) in &self.writes {
            w.for_each(|key, value| {
                let len = key.len() + value.map_or(0, <[u8]>::len);
                try_reserve(&mut buf, len)?;
                try_reserve(&mut spans, 1)?;
                spans.push((table, buf.len(), key.len(), value.map(<[u8]>::len)));
                buf.extend_from_slice(key);
                buf.extend_from_slice(value.unwrap_or_default());
                if buf.len() >= max {
                    flush(&mut buf, &mut spans)?;
                }
                Ok(())
            })?;
        }
        // The last chunk, or the only one (perhaps only tables created).
        if !spans.is_empty() || first.get() {
            flush(&mut buf, &mut spans)?;
        }
        Ok(())
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
