//! Transactions: private write buffers over the shared tree, isolated by
//! strict two-phase locking.
//!
//! A transaction never changes the shared tree before it commits. Its
//! puts and deletes go into a private buffer (one ordered map per table);
//! its reads look in the buffer first, then in the tree. Commit turns the
//! buffer into one redo record (`db.rs`); rollback, or dropping the
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

use crate::base::hash::FastMap;
use crate::base::hash::key_hash;
use crate::catalog::{self, TableId};
use crate::db::Inner;
use crate::error::{Error, Result};
use crate::lock_table::{Mode, Resource, TxnId};
use crate::log::log_record::Op;
use crate::page::page_header::PageBuf;
use crate::write_set::WriteSet;
use crate::{MAX_VALUE_LEN, btree, node};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A range of keys: `a..b`, `a..=b`, `a..`, `..b`, `..=b`, `..`, or a pair
/// of [`Bound`]s, over anything that is bytes (`&[u8]`, `b"..."`, `Vec<u8>`).
pub trait KeyRange {
    /// The start and end bounds.
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>);
}

macro_rules! key_range {
    ($($ty:ident),*) => {$(
        impl<K: AsRef<[u8]>> KeyRange for std::ops::$ty<K> {
            fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
                (
                    self.start_bound().map(|k| k.as_ref()),
                    self.end_bound().map(|k| k.as_ref()),
                )
            }
        }
    )*};
}

key_range!(Range, RangeFrom, RangeTo, RangeInclusive, RangeToInclusive);

impl KeyRange for std::ops::RangeFull {
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (Bound::Unbounded, Bound::Unbounded)
    }
}

impl<K: AsRef<[u8]>> KeyRange for (Bound<K>, Bound<K>) {
    fn bounds(&self) -> (Bound<&[u8]>, Bound<&[u8]>) {
        (
            self.0.as_ref().map(|k| k.as_ref()),
            self.1.as_ref().map(|k| k.as_ref()),
        )
    }
}

/// Key locks on one table after which a transaction locks the whole table.
const ESCALATE_AFTER: usize = 4096;

/// A transaction, read-write ([`Database::begin`](crate::Database::begin))
/// or read-only ([`Database::begin_read`](crate::Database::begin_read)).
/// Commit with [`Transaction::commit`]; dropping it without committing
/// rolls it back.
pub struct Transaction {
    db: Arc<Inner>,
    id: TxnId,
    read_only: bool,
    /// Private writes per table: `None` is a delete.
    writes: BTreeMap<TableId, WriteSet>,
    /// Tables this transaction created, in creation order.
    created: Vec<(TableId, String)>,
    created_ids: FastMap<String, TableId>,
    /// Ids of existing tables this transaction has looked up.
    table_ids: RefCell<FastMap<String, TableId>>,
    /// The locks held, as the lock manager granted them.
    locks: RefCell<FastMap<Resource, Mode>>,
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
    pub(crate) fn new(db: Arc<Inner>, read_only: bool) -> Transaction {
        let id = db.next_txn.fetch_add(1, Ordering::Relaxed);
        Transaction {
            db,
            id,
            read_only,
            writes: BTreeMap::new(),
            created: Vec::new(),
            created_ids: FastMap::default(),
            table_ids: RefCell::new(FastMap::default()),
            locks: RefCell::new(FastMap::default()),
            key_locks: RefCell::new(FastMap::default()),
            failed: RefCell::new(None),
            open: true,
            seen_lsn: std::cell::Cell::new(0),
        }
    }

    /// Checks that the handle and this transaction can still be used.
    /// Whether [`Transaction::usable`] would succeed, cheaply.
    #[inline]
    fn is_usable(&self) -> bool {
        !self.db.poison.is_set() && self.failed.borrow().is_none()
    }

    fn usable(&self) -> Result<()> {
        self.db.poison.check()?;
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

    /// Takes `mode` on `res`, unless already held. A deadlock or timeout
    /// rolls the transaction back.
    fn lock(&self, res: Resource, mode: Mode) -> Result<()> {
        if self
            .locks
            .borrow()
            .get(&res)
            .is_some_and(|m| m.covers(mode))
        {
            return Ok(());
        }
        match self.db.locks.acquire(self.id, &res, mode) {
            Ok(()) => {
                // Changes visible under this lock were applied by now.
                let applied = self.db.applied_lsn.load(Ordering::Acquire);
                self.seen_lsn.set(self.seen_lsn.get().max(applied));
                let mut locks = self.locks.borrow_mut();
                let held = locks.get(&res).map_or(mode, |m| m.join(mode));
                locks.insert(res, held);
                Ok(())
            }
            Err(e) => {
                // Roll back now, so that the transactions we were in the
                // way of go on even if the caller keeps this one around.
                self.locks.borrow_mut().clear();
                self.db.locks.release_all(self.id);
                *self.failed.borrow_mut() = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Locks `key` of `table` in `mode` (S or X), with the table's intention
    /// lock, unless a table lock already covers it.
    fn lock_key(&self, table: TableId, key: &[u8], mode: Mode) -> Result<()> {
        let table_mode = self.locks.borrow().get(&Resource::Table(table)).copied();
        let covered = match mode {
            Mode::Shared => table_mode.is_some_and(|m| m.covers(Mode::Shared)),
            _ => table_mode == Some(Mode::Exclusive),
        };
        if covered {
            return Ok(());
        }
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
        let res = Resource::Key(table, key_hash(key));
        if self
            .locks
            .borrow()
            .get(&res)
            .is_some_and(|m| m.covers(mode))
        {
            return Ok(());
        }
        self.lock(res, mode)?;
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
        if !self.db.locks.try_acquire(self.id, &res, Mode::Shared) {
            // Not now: fall back to key locks for this table (IS below).
            return false;
        }
        let applied = self.db.applied_lsn.load(Ordering::Acquire);
        self.seen_lsn.set(self.seen_lsn.get().max(applied));
        self.locks.borrow_mut().insert(res, Mode::Shared);
        true
    }

    fn table(&self, name: &str) -> Result<TableId> {
        if let Some(&id) = self.created_ids.get(name) {
            return Ok(id);
        }
        if let Some(&id) = self.table_ids.borrow().get(name) {
            return Ok(id);
        }
        if let Some(id) = self.db.state.read().tables.id(name) {
            // Tables are never dropped: no lock needed, and the id can be
            // remembered.
            self.table_ids.borrow_mut().insert(name.to_string(), id);
            return Ok(id);
        }
        // Not there: hold S on the name, so that no one creates it under
        // us, and look again (a creator may have committed while we waited).
        self.lock(Resource::Name(name.into()), Mode::Shared)?;
        self.db
            .state
            .read()
            .tables
            .id(name)
            .ok_or_else(|| Error::NoSuchTable(name.to_string()))
    }

    fn check_key(&self, key: &[u8]) -> Result<()> {
        let max = node::max_key_len(self.db.page_size);
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
        node::max_key_len(self.db.page_size)
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
        if self.created_ids.contains_key(name) || self.db.state.read().tables.id(name).is_some() {
            return Ok(());
        }
        self.lock(Resource::Name(name.into()), Mode::Exclusive)?;
        if self.db.state.read().tables.id(name).is_some() {
            return Ok(()); // created and committed while we waited
        }
        // The counter stops at the last id rather than wrapping to 0, which
        // is never a table id.
        let id = self
            .db
            .next_table_id
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1))
            .map_err(|_| Error::InvalidOptions("table ids exhausted".into()))?;
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
        self.lock_key(id, key, Mode::Shared)?;
        self.db.read_tree(id, |r, root| r.get(root, key))
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
        self.lock_key(id, key, Mode::Shared)?;
        let found = self.db.read_tree(id, |r, root| r.get_found(root, key))?;
        Ok(f(found.as_ref().map(crate::btree::Found::bytes)))
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
        self.db.read_tree(id, |r, root| r.get(root, key))
    }

    /// Removes `key` from table `table`; returns whether it was there.
    pub fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool> {
        self.writable()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        self.lock_key(id, key, Mode::Exclusive)?;
        let existed = match self.writes.get(&id).and_then(|w| w.get(key)) {
            Some(v) => v.is_some(),
            None => self.db.read_tree(id, |r, root| r.get(root, key))?.is_some(),
        };
        if existed {
            self.writes.entry(id).or_default().insert(key, None);
        }
        Ok(existed)
    }

    /// The entries of table `table` whose keys fall in `range`, in key
    /// order; `.rev()` walks it backwards. Locks the whole table in S mode
    /// (no phantoms), then reads the tree in batches, so a long range holds
    /// no latch between items.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-range-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = strata_engine::Database::open(dir.join("db")).unwrap();
    /// let mut tx = db.begin()?;
    /// tx.create_table("t")?;
    /// tx.put("t", b"apple", b"1")?;
    /// tx.put("t", b"banana", b"2")?;
    /// tx.put("t", b"cherry", b"3")?;
    /// let keys: Vec<Vec<u8>> = tx
    ///     .range("t", b"b"..)?
    ///     .map(|kv| kv.map(|(k, _)| k))
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(keys, [b"banana".to_vec(), b"cherry".to_vec()]);
    /// # drop(tx); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn range(&self, table: &str, range: impl KeyRange) -> Result<Range<'_>> {
        self.usable()?;
        let id = self.table(table)?;
        self.lock(Resource::Table(id), Mode::Shared)?;
        let (lo, hi) = range.bounds();
        Ok(Range {
            tx: self,
            table: id,
            own: self.writes.get(&id).filter(|w| !w.is_empty()),
            lo: lo.map(KeyBuf::new),
            hi: hi.map(KeyBuf::new),
            front: Side::default(),
            back: Side::default(),
            failed: false,
            current: None,
        })
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
            self.db.append_and_apply(&ops)?
        } else {
            // What this transaction read may come from commits not yet
            // durable (their locks were released early): wait for them.
            let seen = self.seen_lsn.get();
            (seen > 0).then_some(seen)
        };
        let db = self.db.clone();
        // Early lock release: once the record is in the log, the log's
        // order is the serialisation order, and any transaction that reads
        // these changes commits after them, so waiting for the sync with
        // the locks held would only keep others from sharing it.
        self.release();
        if let Some(lsn) = wait_for {
            db.wait_durable(lsn, writes)?;
        }
        db.maybe_checkpoint();
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
            self.db.locks.release_all(self.id);
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.release();
    }
}

/// One end of a [`Range`]: the leaf it is reading, as a snapshot kept
/// between items (the range holds the table's S lock, so the snapshot
/// stays the table's truth), and the next cell to read from it.
#[derive(Default)]
struct Side {
    leaf: Option<PageBuf>,
    pos: usize,
    /// The tree holds nothing more on this side.
    done: bool,
    /// A key was yielded from the tree on this side (the next leaf's first
    /// key must lie beyond it).
    moved: bool,
    /// This end's bound lags: the last key yielded is the leaf's cell
    /// before `pos` (in this side's direction), not yet copied into it.
    stale: bool,
    /// The way down to `leaf`, and the pager epoch it was read in.
    path: btree::LeafPath,
    epoch: u64,
}

impl Side {
    /// Copies the last key yielded into `bound`, if it lags.
    #[inline]
    fn sync(&mut self, bound: &mut Bound<KeyBuf>, reverse: bool) {
        if self.stale {
            self.sync_now(bound, reverse);
        }
    }

    #[cold]
    fn sync_now(&mut self, bound: &mut Bound<KeyBuf>, reverse: bool) {
        self.stale = false;
        let Some(l) = self.leaf.as_deref() else {
            return;
        };
        let n = node::count(l);
        let i = if reverse { n - self.pos } else { self.pos - 1 };
        set_excluded(bound, node::key(l, i));
    }
}

/// Sets `bound` to exclude `key` and everything behind it, reusing its
/// buffer.
fn set_excluded(bound: &mut Bound<KeyBuf>, key: &[u8]) {
    match bound {
        Bound::Excluded(b) => b.set(key),
        _ => *bound = Bound::Excluded(KeyBuf::new(key)),
    }
}

/// One entry a range yields: a cell of a leaf snapshot, or bytes of its
/// own (the transaction's own write, or a value read from overflow pages).
enum Item {
    /// Cell `.1` of the leaf of the back side (`.0` true) or the front.
    Leaf(bool, usize),
    Owned(Vec<u8>, Vec<u8>),
}

/// An iterator over a key range of one table, merging the transaction's
/// own writes with the tree. Yields `(key, value)` pairs in key order.
pub struct Range<'t> {
    tx: &'t Transaction,
    table: TableId,
    /// The transaction's own writes to the table, if it has any (they
    /// cannot change while the range borrows the transaction).
    own: Option<&'t WriteSet>,
    /// What is left of the range: both ends move inward as items are
    /// taken from them.
    lo: Bound<KeyBuf>,
    hi: Bound<KeyBuf>,
    front: Side,
    back: Side,
    failed: bool,
    /// The entry [`Range::next_ref`] lent last.
    current: Option<Item>,
}

impl std::fmt::Debug for Range<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Range")
            .field("lo", &self.lo)
            .field("hi", &self.hi)
            .finish_non_exhaustive()
    }
}

fn as_slice(b: &Bound<KeyBuf>) -> Bound<&[u8]> {
    b.as_ref().map(KeyBuf::as_slice)
}

/// Keys up to this long are held in place by a [`KeyBuf`].
const INLINE_KEY: usize = 62;

/// A key held by a range's bound: in place when short, so that opening a
/// range allocates nothing for the keys most tables have.
#[derive(Clone)]
enum KeyBuf {
    Inline(u8, [u8; INLINE_KEY]),
    Heap(Vec<u8>),
}

impl KeyBuf {
    fn new(k: &[u8]) -> KeyBuf {
        if k.len() <= INLINE_KEY {
            let mut b = [0; INLINE_KEY];
            b[..k.len()].copy_from_slice(k);
            KeyBuf::Inline(k.len() as u8, b)
        } else {
            KeyBuf::Heap(k.to_vec())
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            KeyBuf::Inline(n, b) => &b[..usize::from(*n)],
            KeyBuf::Heap(v) => v,
        }
    }

    /// Makes it hold `k`, reusing its buffer.
    fn set(&mut self, k: &[u8]) {
        match self {
            KeyBuf::Heap(v) => {
                v.clear();
                v.extend_from_slice(k);
            }
            KeyBuf::Inline(..) => *self = KeyBuf::new(k),
        }
    }
}

impl std::fmt::Debug for KeyBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

/// Whether no key lies between `lo` and `hi`.
fn is_empty(lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a), Bound::Excluded(b))
        | (Bound::Excluded(a), Bound::Included(b))
        | (Bound::Excluded(a), Bound::Excluded(b)) => a >= b,
        _ => false,
    }
}

fn above(k: &[u8], lo: Bound<&[u8]>) -> bool {
    match lo {
        Bound::Included(a) => k >= a,
        Bound::Excluded(a) => k > a,
        Bound::Unbounded => true,
    }
}

fn below(k: &[u8], hi: Bound<&[u8]>) -> bool {
    match hi {
        Bound::Included(b) => k <= b,
        Bound::Excluded(b) => k < b,
        Bound::Unbounded => true,
    }
}

impl Range<'_> {
    /// The common case, cheaply: the next cell of the leaf at hand, inline,
    /// inside the other end's bound, with no own writes to merge. `None`
    /// sends the caller down the general path.
    /// Returns the cell's index in its side's leaf, and where its key and
    /// value lie there.
    #[inline]
    fn step_fast(&mut self, reverse: bool) -> Option<(usize, node::Span, node::Span)> {
        if self.own.is_some() {
            return None;
        }
        let (side, other, other_bound) = if reverse {
            (&mut self.back, &mut self.front, &mut self.lo)
        } else {
            (&mut self.front, &mut self.back, &mut self.hi)
        };
        other.sync(other_bound, !reverse);
        let l = side.leaf.as_deref().filter(|_| !side.done)?;
        let n = node::count(l);
        if side.pos >= n {
            return None;
        }
        let i = if reverse { n - 1 - side.pos } else { side.pos };
        let (ks, vs) = node::leaf_spans(l, i);
        let vs = vs?;
        let k = &l[ks.clone()];
        let inside = if reverse {
            above(k, as_slice(other_bound))
        } else {
            below(k, as_slice(other_bound))
        };
        if !inside {
            return None;
        }
        side.pos += 1;
        side.moved = true;
        side.stale = true;
        Some((i, ks, vs))
    }

    fn step(&mut self, reverse: bool) -> Result<Option<Item>> {
        if let Some((i, _, _)) = self.step_fast(reverse) {
            return Ok(Some(Item::Leaf(reverse, i)));
        }
        self.front.sync(&mut self.lo, false);
        self.back.sync(&mut self.hi, true);
        loop {
            let (lo, hi) = (as_slice(&self.lo), as_slice(&self.hi));
            if is_empty(lo, hi) {
                return Ok(None);
            }
            let side = if reverse {
                &mut self.back
            } else {
                &mut self.front
            };
            // The tree's next entry on this side: in the leaf at hand, or
            // in the next one: the leaf after it if no page has moved since
            // it was read, else found by seeking past what was yielded.
            let exhausted = side
                .leaf
                .as_ref()
                .is_none_or(|l| side.pos >= node::count(l));
            if exhausted && !side.done {
                let bound = if reverse { hi } else { lo };
                let found = self.tx.db.read_tree_at(self.table, |r, root, epoch| {
                    let resume = side.leaf.is_some() && side.epoch == epoch;
                    side.epoch = epoch;
                    if resume {
                        Ok(r.next_leaf(&mut side.path, reverse)?.map(|leaf| {
                            let n = node::count(&leaf);
                            (leaf, if reverse { n - 1 } else { 0 })
                        }))
                    } else {
                        r.seek_leaf(root, bound, reverse, &mut side.path)
                    }
                })?;
                match found {
                    Some((leaf, pos)) => {
                        // Count down from the end when walking backwards.
                        let n = node::count(&leaf);
                        side.pos = if reverse { n - 1 - pos } else { pos };
                        // A damaged tree could hand back a key not past the
                        // last one yielded: never loop on it.
                        let first = node::key(&leaf, pos);
                        let beyond = if reverse {
                            below(first, hi)
                        } else {
                            above(first, lo)
                        };
                        if !beyond {
                            return Err(Error::Corruption {
                                location: crate::error::Location::Page(0),
                                detail: "range keys out of order across pages".into(),
                            });
                        }
                        side.leaf = Some(leaf);
                    }
                    None => side.done = true,
                }
            }
            let cell = match &side.leaf {
                Some(l) if !side.done && side.pos < node::count(l) => {
                    let i = if reverse {
                        node::count(l) - 1 - side.pos
                    } else {
                        side.pos
                    };
                    let k = node::key(l, i);
                    // This end's own bound is behind it already (the leaf is
                    // in order, and the seek started past the bound); only
                    // the other end, which may have moved, can exclude it.
                    let inside = if reverse { above(k, lo) } else { below(k, hi) };
                    inside.then_some(i)
                }
                _ => None,
            };
            if cell.is_none() {
                side.done = side.done || side.leaf.is_some();
            }
            let leaf = side.leaf.as_deref().unwrap_or(&[]);
            let tree = cell.map(|i| node::key(leaf, i));
            // The transaction's own next write on this side.
            let own = self.own.and_then(|w| w.edge(lo, hi, reverse));
            let take_own = match (tree, &own) {
                (None, None) => return Ok(None),
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some(t), Some((o, _))) => {
                    if reverse {
                        o[..] >= t[..]
                    } else {
                        o[..] <= t[..]
                    }
                }
            };
            let same = tree.is_some() && own.as_ref().is_some_and(|(k, _)| tree == Some(&k[..]));
            let item = if take_own {
                let (k, v) = own.unwrap_or_default();
                if same {
                    side.pos += 1;
                    side.moved = true;
                }
                v.map(|v| Item::Owned(k.clone(), v)).ok_or(k)
            } else {
                let Some(i) = cell else {
                    return Ok(None);
                };
                side.pos += 1;
                side.moved = true;
                Ok(match node::value(leaf, i) {
                    node::LeafValue::Inline(_) => Item::Leaf(reverse, i),
                    node::LeafValue::Overflow { .. } => {
                        let v = self
                            .tx
                            .db
                            .read_tree(self.table, |r, _| r.leaf_value(leaf, i))?;
                        Item::Owned(node::key(leaf, i).to_vec(), v)
                    }
                })
            };
            // Move this end past the key, reusing the bound's buffer.
            let key = match &item {
                Ok(Item::Leaf(_, i)) => node::key(leaf, *i),
                Ok(Item::Owned(k, _)) => &k[..],
                Err(deleted) => &deleted[..],
            };
            set_excluded(if reverse { &mut self.hi } else { &mut self.lo }, key);
            if let Ok(item) = item {
                return Ok(Some(item));
            }
            // A key this transaction deleted: skip it.
        }
    }

    fn next_item(&mut self, reverse: bool) -> Option<Result<Item>> {
        if self.failed {
            return None;
        }
        // A transaction rolled back by a deadlock holds no table lock any
        // more: its ranges must stop too.
        if let Err(e) = self.tx.usable() {
            self.failed = true;
            return Some(Err(e));
        }
        match self.step(reverse) {
            Ok(item) => item.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    /// The next entry, borrowed rather than copied: the slices point into
    /// the page the range is reading, and are valid until the next call.
    /// For reading many entries without allocating for each.
    pub fn next_ref(&mut self) -> Option<Result<(&[u8], &[u8])>> {
        self.lend(false)
    }

    /// Like [`Range::next_ref`], from the other end.
    pub fn next_back_ref(&mut self) -> Option<Result<(&[u8], &[u8])>> {
        self.lend(true)
    }

    fn lend(&mut self, reverse: bool) -> Option<Result<(&[u8], &[u8])>> {
        if !self.failed
            && self.tx.is_usable()
            && let Some((_, ks, vs)) = self.step_fast(reverse)
        {
            let side = if reverse { &self.back } else { &self.front };
            let leaf = side.leaf.as_deref().unwrap_or(&[]);
            return Some(Ok((&leaf[ks], &leaf[vs])));
        }
        match self.next_item(reverse)? {
            Ok(item) => {
                self.current = Some(item);
                self.current.as_ref().map(|i| Ok(self.pair(i)))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// The key and value of an item just produced (its side's leaf has
    /// not moved since).
    fn pair<'a>(&'a self, item: &'a Item) -> (&'a [u8], &'a [u8]) {
        match item {
            Item::Leaf(back, i) => {
                let side = if *back { &self.back } else { &self.front };
                let leaf = side.leaf.as_deref().unwrap_or(&[]);
                let v = match node::value(leaf, *i) {
                    node::LeafValue::Inline(v) => v,
                    // Overflow values are read into `Owned` when made.
                    node::LeafValue::Overflow { .. } => &[],
                };
                (node::key(leaf, *i), v)
            }
            Item::Owned(k, v) => (k, v),
        }
    }

    fn owned(&self, item: Item) -> (Vec<u8>, Vec<u8>) {
        match item {
            Item::Owned(k, v) => (k, v),
            leaf => {
                let (k, v) = self.pair(&leaf);
                (k.to_vec(), v.to_vec())
            }
        }
    }
}

impl Iterator for Range<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.next_item(false)?;
        Some(item.map(|i| self.owned(i)))
    }
}

impl DoubleEndedIterator for Range<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let item = self.next_item(true)?;
        Some(item.map(|i| self.owned(i)))
    }
}
