//! Transactions: private write buffers over the shared tree.
//!
//! A transaction never changes the shared tree before it commits. Its
//! puts and deletes go into a private buffer (one ordered map per table);
//! its reads look in the buffer first, then in the tree. Commit turns the
//! buffer into one redo record (`db.rs`); rollback, or dropping the
//! transaction, throws the buffer away, so no undo log is needed.
//!
//! Isolation: for now read-write transactions are serialised by a single
//! writer gate (`WriterGate`), so each sees the tree as the previous
//! commit left it plus its own writes. Every read and write goes through
//! the same few functions here, which is where key and table locks will
//! be taken.

use crate::catalog::{self, TableId};
use crate::db::Inner;
use crate::error::{Error, Result};
use crate::log_record::{self, Op};
use crate::{MAX_VALUE_LEN, node};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::{Bound, RangeBounds};

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
use std::sync::Arc;
use std::sync::atomic::Ordering;

type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A read-write transaction. Commit with [`Transaction::commit`]; dropping
/// it without committing rolls it back.
pub struct Transaction {
    db: Arc<Inner>,
    /// Private writes per table: `None` is a delete.
    writes: BTreeMap<TableId, Writes>,
    /// Tables this transaction created, in creation order.
    created: Vec<(TableId, String)>,
    created_ids: HashMap<String, TableId>,
    /// Still holds the writer gate.
    open: bool,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("tables_written", &self.writes.len())
            .field("tables_created", &self.created.len())
            .finish_non_exhaustive()
    }
}

impl Transaction {
    pub(crate) fn new(db: Arc<Inner>) -> Transaction {
        db.writers.enter();
        Transaction {
            db,
            writes: BTreeMap::new(),
            created: Vec::new(),
            created_ids: HashMap::new(),
            open: true,
        }
    }

    fn table(&self, name: &str) -> Result<TableId> {
        if let Some(&id) = self.created_ids.get(name) {
            return Ok(id);
        }
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

    /// Creates table `name` if it does not exist. The table is visible to
    /// this transaction at once and to others once it commits.
    pub fn create_table(&mut self, name: &str) -> Result<()> {
        self.db.poison.check()?;
        catalog::check_name(name)?;
        if self.created_ids.contains_key(name) || self.db.state.read().tables.id(name).is_some() {
            return Ok(());
        }
        let id = self.db.next_table_id.fetch_add(1, Ordering::Relaxed);
        if id == u32::MAX {
            return Err(Error::InvalidOptions("table ids exhausted".into()));
        }
        self.created.push((id, name.to_string()));
        self.created_ids.insert(name.to_string(), id);
        Ok(())
    }

    /// Whether table `name` exists (for this transaction).
    pub fn table_exists(&self, name: &str) -> Result<bool> {
        self.db.poison.check()?;
        match self.table(name) {
            Ok(_) => Ok(true),
            Err(Error::NoSuchTable(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Stores `value` under `key` in table `table`, replacing any old value.
    pub fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
        self.db.poison.check()?;
        self.check_key(key)?;
        if value.len() > MAX_VALUE_LEN {
            return Err(Error::ValueTooLarge {
                len: value.len(),
                max: MAX_VALUE_LEN,
            });
        }
        let id = self.table(table)?;
        self.writes
            .entry(id)
            .or_default()
            .insert(key.to_vec(), Some(value.to_vec()));
        Ok(())
    }

    /// The value under `key` in table `table`, as this transaction sees it.
    pub fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.db.poison.check()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        self.get_by_id(id, key)
    }

    fn get_by_id(&self, id: TableId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(v) = self.writes.get(&id).and_then(|w| w.get(key)) {
            return Ok(v.clone());
        }
        self.db.read_tree(id, |r, root| r.get(root, key))
    }

    /// Removes `key` from table `table`; returns whether it was there.
    pub fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool> {
        self.db.poison.check()?;
        self.check_key(key)?;
        let id = self.table(table)?;
        let existed = self.get_by_id(id, key)?.is_some();
        if existed {
            self.writes
                .entry(id)
                .or_default()
                .insert(key.to_vec(), None);
        }
        Ok(existed)
    }

    /// The entries of table `table` whose keys fall in `range`, in key
    /// order; `.rev()` walks it backwards. Reads the tree in batches, so a
    /// long range holds no latch between items.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-range-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let opts = strata_engine::Options { log_preallocate: 0, ..Default::default() };
    /// # let db = strata_engine::Database::open_with(dir.join("db"), opts).unwrap();
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
        self.db.poison.check()?;
        let id = self.table(table)?;
        let (lo, hi) = range.bounds();
        Ok(Range {
            tx: self,
            table: id,
            lo: lo.map(|k| k.to_vec()),
            hi: hi.map(|k| k.to_vec()),
            front: Side::default(),
            back: Side::default(),
            failed: false,
        })
    }

    /// Makes the transaction's writes durable (with `Durability::Full`) and
    /// visible. On error the transaction is rolled back, unless the error
    /// is `Io` or `Poisoned` from the log, in which case it may or may not
    /// have reached the disk: reopening the database tells.
    pub fn commit(mut self) -> Result<()> {
        self.db.poison.check()?;
        if self.writes.is_empty() && self.created.is_empty() {
            return Ok(());
        }
        let record = self.encode();
        self.db.commit_record(&record)?;
        let db = self.db.clone();
        self.release();
        db.maybe_checkpoint();
        Ok(())
    }

    /// Throws the transaction's writes away.
    pub fn rollback(self) {}

    /// The redo record of this transaction's writes.
    fn encode(&self) -> Vec<u8> {
        let ops = self
            .created
            .iter()
            .map(|(id, name)| Op::CreateTable { id: *id, name })
            .chain(self.writes.iter().flat_map(|(&table, w)| {
                w.iter().map(move |(key, v)| match v {
                    Some(value) => Op::Put { table, key, value },
                    None => Op::Delete { table, key },
                })
            }));
        let mut record =
            Vec::with_capacity(ops.clone().map(|op| log_record::encoded_len(&op)).sum());
        for op in ops {
            log_record::encode(&mut record, &op);
        }
        record
    }

    fn release(&mut self) {
        if self.open {
            self.open = false;
            self.db.writers.leave();
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.release();
    }
}

/// One end of a [`Range`]: a batch read from the tree.
#[derive(Default)]
struct Side {
    batch: VecDeque<(Vec<u8>, Vec<u8>)>,
    /// The tree may hold more past the batch.
    more: bool,
    /// Entries to read next time (grows to amortise re-seeks).
    next_size: usize,
    started: bool,
}

const FIRST_BATCH: usize = 16;
const MAX_BATCH: usize = 512;

/// An iterator over a key range of one table, merging the transaction's
/// own writes with the tree. Yields `(key, value)` pairs in key order.
pub struct Range<'t> {
    tx: &'t Transaction,
    table: TableId,
    /// What is left of the range: both ends move inward as items are
    /// taken from them.
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
    front: Side,
    back: Side,
    failed: bool,
}

impl std::fmt::Debug for Range<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Range")
            .field("lo", &self.lo)
            .field("hi", &self.hi)
            .finish_non_exhaustive()
    }
}

fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    b.as_ref().map(|v| &v[..])
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
    fn step(&mut self, reverse: bool) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        loop {
            let (lo, hi) = (as_slice(&self.lo), as_slice(&self.hi));
            if is_empty(lo, hi) {
                return Ok(None);
            }
            // The tree's next entry on this side, refilling the batch.
            let side = if reverse {
                &mut self.back
            } else {
                &mut self.front
            };
            if side.batch.is_empty() && (side.more || !side.started) {
                side.started = true;
                side.next_size = (side.next_size * 2).clamp(FIRST_BATCH, MAX_BATCH);
                let mut out = Vec::new();
                let size = side.next_size;
                side.more = self.tx.db.read_tree(self.table, |r, root| {
                    r.scan(root, lo, hi, reverse, size, &mut out)
                })?;
                side.batch.extend(out);
            }
            // Drop entries the other end has already passed.
            let tree = loop {
                let Some((k, _)) = side.batch.front() else {
                    break None;
                };
                if above(k, lo) && below(k, hi) {
                    break Some(k.clone());
                }
                side.batch.clear();
                side.more = false;
            };
            // The transaction's own next write on this side.
            let own = self.tx.writes.get(&self.table).and_then(|w| {
                let mut r = w.range::<[u8], _>((lo, hi));
                if reverse { r.next_back() } else { r.next() }
            });
            let take_own = match (&tree, own) {
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
            let (key, value) = if take_own {
                let (k, v) = own.map(|(k, v)| (k.clone(), v.clone())).unwrap_or_default();
                if tree.as_deref() == Some(&k[..]) {
                    side.batch.pop_front();
                }
                (k, v)
            } else {
                match side.batch.pop_front() {
                    Some((k, v)) => (k, Some(v)),
                    None => return Ok(None),
                }
            };
            if reverse {
                self.hi = Bound::Excluded(key.clone());
            } else {
                self.lo = Bound::Excluded(key.clone());
            }
            if let Some(v) = value {
                return Ok(Some((key, v)));
            }
            // A key this transaction deleted: skip it.
        }
    }

    fn next_item(&mut self, reverse: bool) -> Option<Result<(Vec<u8>, Vec<u8>)>> {
        if self.failed {
            return None;
        }
        if let Err(e) = self.tx.db.poison.check() {
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
}

impl Iterator for Range<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item(false)
    }
}

impl DoubleEndedIterator for Range<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.next_item(true)
    }
}
