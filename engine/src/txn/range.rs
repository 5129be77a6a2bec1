//! Range reads: [`Transaction::range`] and the [`Range`] iterator, which
//! merges the transaction's own writes into what the tree holds.
//!
//! A range reads the tree through two cursors (`tree/cursor.rs`), one per
//! end, so that it can be consumed from both ends (`.rev()`, or
//! alternating) and the ends meet in the middle. What is left of the range
//! is kept as two bounds, `lo` and `hi`, which move inward as entries are
//! taken from either end; each end stops at the other's bound.
//!
//! MERGE
//!
//! At each step an end takes the nearer of two entries: the tree's next
//! one (its cursor's) and the transaction's own next write in the range
//! (its own-write cursor's, `write_set.rs`: a merge of the write set's
//! memory and spilled runs). An own write of the same key shadows the
//! tree's entry, and an own delete is skipped along with it. Whatever was
//! taken, the end's bound moves past its key, and each cursor skips what
//! lies behind its end's bound before it is looked at again.
//!
//! SNAPSHOTS
//!
//! A read-only transaction's range takes no lock, and merges the tree with
//! its snapshot's versions instead (`store/versions.rs`), the same way: a
//! key that a commit after the snapshot changed is shown as the snapshot
//! saw it (its before-image shadows the tree's entry, and an absent one
//! hides it), and the other keys as the tree holds them. The versions are
//! consulted after the cursor's leaf was read (versions invariant 1) and
//! the snapshot's expiry mark after the versions (invariant 4). A value in
//! overflow pages is read from a leaf that may be older than the latest
//! commit, whose pages may since have been reused; so after reading one,
//! the versions are asked again, and a version of the key wins over what
//! was read (or over the error reading it gave).
//!
//! THE COMMON CASE
//!
//! With nothing to merge (no own writes; for a snapshot, no version kept
//! when the leaf was read), an item costs a slot read in the cursor's
//! leaf and a comparison with the other end's bound (`step_fast`), and the
//! entry is lent without a copy. The bound of the end that moved is not
//! copied then: it is marked stale and copied from the cursor's last key
//! only when the other end needs it or the cursor is about to leave its
//! leaf.

use crate::error::Result;
use crate::store::versions::{Before, Snapshot};
use crate::tree::catalog::TableId;
use crate::tree::cursor::{Cursor, Entry, above, below};
use crate::tree::node::Span;
use crate::txn::lock_table::{Mode, Resource};
use crate::txn::transaction::Transaction;
use crate::txn::write_set::{OwnCursor, WriteSet};
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

/// A range of keys: `a..b`, `a..=b`, `a..`, `..b`, `..=b`, `..`, or a pair
/// of [`Bound`]s, over anything that is bytes (`&[u8]`, `b"..."`, `Vec<u8>`).
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = strata_engine::Database::open(dir.path().join("db"))?;
/// use std::ops::Bound;
/// db.transaction(|tx| {
///     tx.create_table("t")?;
///     for k in ["apple", "banana", "cherry"] { tx.put("t", k.as_bytes(), b"")?; }
///     Ok(())
/// })?;
/// let tx = db.begin_read()?;
/// let count = |r: &mut strata_engine::Range<'_>| r.count();
/// assert_eq!(count(&mut tx.range("t", b"b"..)?), 2);
/// assert_eq!(count(&mut tx.range("t", b"apple".as_slice()..=b"banana".as_slice())?), 2);
/// assert_eq!(count(&mut tx.range("t", ..b"b".to_vec())?), 1);
/// assert_eq!(count(&mut tx.range("t", (Bound::Excluded(b"apple"), Bound::Unbounded))?), 2);
/// # Ok::<(), strata_engine::Error>(())
/// ```
pub trait KeyRange {
    /// The start and end bounds.
    ///
    /// ```
    /// use std::ops::Bound;
    /// use strata_engine::KeyRange;
    /// let r = b"a".as_slice()..b"m".as_slice();
    /// assert_eq!(r.bounds(), (Bound::Included(b"a".as_slice()), Bound::Excluded(b"m".as_slice())));
    /// assert_eq!((..).bounds(), (Bound::Unbounded, Bound::Unbounded));
    /// ```
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

impl Transaction {
    /// The entries of table `table` whose keys fall in `range`, in key
    /// order; `.rev()` walks it backwards. Locks the whole table in S mode
    /// (no phantoms), then reads the tree a leaf at a time, so a long
    /// range holds no latch between items.
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
        if self.snapshot.is_none() {
            self.lock(Resource::Table(id), Mode::Shared)?;
        }
        let (lo, hi) = range.bounds();
        Ok(Range {
            tx: self,
            table: id,
            own: self.writes.get(&id).filter(|w| !w.is_empty()),
            lo: lo.map(KeyBuf::new),
            hi: hi.map(KeyBuf::new),
            front: End::new(false),
            back: End::new(true),
            own_front: None,
            own_back: None,
            failed: false,
            overflow: Vec::new(),
            snapshot: self.snapshot.as_ref(),
            held: (Vec::new(), None),
        })
    }
}

/// An iterator over a key range of one table, merging the transaction's
/// own writes with the tree. Yields `(key, value)` pairs in key order.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = strata_engine::Database::open(dir.path().join("db"))?;
/// let mut tx = db.begin()?;
/// tx.create_table("t")?;
/// for k in [b"a", b"b", b"c", b"d"] {
///     tx.put("t", k, b"")?;
/// }
/// // Both ends: it is a double-ended iterator.
/// let mut range = tx.range("t", ..)?;
/// assert_eq!(range.next().transpose()?.map(|(k, _)| k), Some(b"a".to_vec()));
/// assert_eq!(range.next_back().transpose()?.map(|(k, _)| k), Some(b"d".to_vec()));
/// assert_eq!(range.count(), 2);
/// # Ok::<(), strata_engine::Error>(())
/// ```
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
    front: End,
    back: End,
    /// Cursors over the own writes, one per end, made when first needed.
    own_front: Option<OwnCursor<'t>>,
    own_back: Option<OwnCursor<'t>>,
    failed: bool,
    /// The value of the entry lent last, when it came from overflow pages.
    overflow: Vec<u8>,
    /// The snapshot of a read-only transaction, whose versions the range
    /// merges with the tree.
    snapshot: Option<&'t Snapshot>,
    /// The key and value of the entry lent last, when it came from the
    /// snapshot's versions.
    held: (Vec<u8>, Option<Arc<[u8]>>),
}

impl std::fmt::Debug for Range<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Range")
            .field("lo", &self.lo)
            .field("hi", &self.hi)
            .finish_non_exhaustive()
    }
}

/// One end of a [`Range`]: its cursor, and whether the range's bound on
/// this side lags behind what the cursor yielded (the last key is then
/// the cursor's, not yet copied into the bound).
struct End {
    cursor: Cursor,
    stale: bool,
    /// The leaf at hand shows exactly what the transaction sees, with
    /// nothing to merge: for a read-write transaction, when it has no own
    /// writes to the table; for a snapshot, when no version was
    /// kept (and the snapshot had not expired) once the leaf was read, so
    /// that no commit since the snapshot changed it (versions invariant 1).
    /// A leaf that is a copy cannot change later, so this holds for all of
    /// its entries, and the fast path may take them as they are.
    exact: bool,
}

impl End {
    fn new(reverse: bool) -> End {
        End {
            cursor: Cursor::new(reverse),
            stale: false,
            exact: false,
        }
    }

    /// Copies the last key yielded into `bound`, if it lags.
    #[inline]
    fn sync(&mut self, bound: &mut Bound<KeyBuf>) {
        if self.stale {
            self.sync_now(bound);
        }
    }

    #[cold]
    fn sync_now(&mut self, bound: &mut Bound<KeyBuf>) {
        self.stale = false;
        if let Some(k) = self.cursor.last_key() {
            set_excluded(bound, k);
        }
    }
}

/// Where the entry a step produced lies, until the next step.
enum Lent {
    /// An entry of the leaf of the back end (`.0` true) or the front,
    /// with its value in the leaf.
    Leaf(bool, Entry),
    /// An entry of that leaf whose value was read from overflow pages
    /// into [`Range::overflow`]; the key's span.
    Overflow(bool, Span),
    /// The transaction's own write at the back end's (`.0` true) or the
    /// front end's own-write cursor.
    Own(bool),
    /// A snapshot's version, in [`Range::held`].
    Held,
}

/// Sets `bound` to exclude `key` and everything behind it, reusing its
/// buffer.
fn set_excluded(bound: &mut Bound<KeyBuf>, key: &[u8]) {
    match bound {
        Bound::Excluded(b) => b.set(key),
        _ => *bound = Bound::Excluded(KeyBuf::new(key)),
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

impl<'t> Range<'t> {
    /// The common case, cheaply: the next entry of the leaf at hand,
    /// inline, inside the other end's bound, with nothing to merge
    /// ([`End::exact`]).
    /// Returns where its key and value lie in the leaf; `None` sends the
    /// caller down the general path.
    #[inline]
    fn step_fast(&mut self, reverse: bool) -> Option<(Span, Span)> {
        let (end, other, other_bound) = if reverse {
            (&mut self.back, &mut self.front, &mut self.lo)
        } else {
            (&mut self.front, &mut self.back, &mut self.hi)
        };
        if !end.exact {
            return None;
        }
        other.sync(other_bound);
        let e = end.cursor.peek()?;
        let value = e.value?;
        let k = end.cursor.bytes(e.key.clone());
        let inside = if reverse {
            above(k, as_slice(other_bound))
        } else {
            below(k, as_slice(other_bound))
        };
        if !inside {
            return None;
        }
        end.cursor.advance();
        end.stale = true;
        Some((e.key, value))
    }

    /// The general path: reads the next leaf when the cursor needs one,
    /// and merges the tree's next entry with the transaction's own next
    /// write. `None` when this end has met the other.
    fn step(&mut self, reverse: bool) -> Result<Option<Lent>> {
        self.front.sync(&mut self.lo);
        self.back.sync(&mut self.hi);
        loop {
            let (lo, hi) = (as_slice(&self.lo), as_slice(&self.hi));
            if is_empty(lo, hi) {
                return Ok(None);
            }
            let end = if reverse {
                &mut self.back
            } else {
                &mut self.front
            };
            let cursor = &mut end.cursor;
            if cursor.needs_leaf() {
                let bound = if reverse { hi } else { lo };
                self.tx.store.read_tree(self.table, |r, root, epoch| {
                    cursor.load(r, root, epoch, bound)
                })?;
                // After the leaf, the versions; after them, the expiry mark
                // (versions invariants 1 and 4).
                end.exact = self.own.is_none()
                    && match self.snapshot {
                        None => true,
                        Some(snap) => !self.tx.store.versions.any() && snap.check().is_ok(),
                    };
            }
            // The tree's next entry on this side, unless the other end has
            // passed it (this end's own bound is behind it already: the
            // leaf is in order, and the cursor started past the bound).
            let tree = cursor.peek().filter(|e| {
                let k = cursor.bytes(e.key.clone());
                if reverse { above(k, lo) } else { below(k, hi) }
            });
            if tree.is_none() {
                cursor.finish();
            }
            let tree_key = tree.as_ref().map(|e| cursor.bytes(e.key.clone()));
            let shadow = match self.snapshot {
                Some(snap) => {
                    let v = self
                        .tx
                        .store
                        .versions
                        .edge(self.table, lo, hi, reverse, snap.lsn);
                    snap.check()?;
                    v.map(Shadow::Version)
                }
                None => {
                    let own_cursor = if reverse {
                        &mut self.own_back
                    } else {
                        &mut self.own_front
                    };
                    match self.own {
                        Some(w) => {
                            let (this, other) = if reverse { (hi, lo) } else { (lo, hi) };
                            let c = match own_cursor {
                                Some(c) => c,
                                None => own_cursor.insert(w.cursor(this, reverse)?),
                            };
                            c.skip_behind(this)?;
                            c.current()
                                .filter(|(k, _)| {
                                    if reverse {
                                        above(k, other)
                                    } else {
                                        below(k, other)
                                    }
                                })
                                .map(|(k, v)| Shadow::Own(k, v.is_some()))
                        }
                        None => None,
                    }
                }
            };
            let shadow_key = shadow.as_ref().map(Shadow::key);
            let Some(shadow_first) = own_first(tree_key, shadow_key, reverse) else {
                return Ok(None);
            };
            let (lent, key) = match (shadow, tree) {
                (Some(sh), _) if shadow_first => {
                    // An own write or a version of the tree's key shadows
                    // it.
                    if tree_key == Some(sh.key()) {
                        cursor.advance();
                    }
                    match sh {
                        Shadow::Own(k, present) => {
                            (present.then_some(Lent::Own(reverse)), KeyRef::Own(k))
                        }
                        Shadow::Version((k, v)) => {
                            let present = v.is_some();
                            self.held = (k, v);
                            (present.then_some(Lent::Held), KeyRef::Held)
                        }
                    }
                }
                (_, Some(e)) => {
                    cursor.advance();
                    let key = KeyRef::Leaf(e.key.clone());
                    if e.value.is_some() {
                        (Some(Lent::Leaf(reverse, e)), key)
                    } else {
                        let buf = &mut self.overflow;
                        let read = self.tx.store.read_tree(self.table, |r, root, _| {
                            cursor.value(r, root, &e, buf).map(drop)
                        });
                        match self.snapshot {
                            // The leaf may predate a commit that changed the
                            // key and reused its pages: a version wins.
                            Some(snap) => {
                                let k = cursor.bytes(e.key.clone());
                                let version =
                                    self.tx.store.versions.lookup(self.table, k, snap.lsn);
                                snap.check()?;
                                match version {
                                    Some(v) => {
                                        let present = v.is_some();
                                        self.held = (k.to_vec(), v);
                                        (present.then_some(Lent::Held), KeyRef::Held)
                                    }
                                    None => {
                                        read?;
                                        (Some(Lent::Overflow(reverse, e.key)), key)
                                    }
                                }
                            }
                            None => {
                                read?;
                                (Some(Lent::Overflow(reverse, e.key)), key)
                            }
                        }
                    }
                }
                (_, None) => return Ok(None), // not reached: own_first said so
            };
            // Move this end past the key, reusing the bound's buffer.
            let key = match &key {
                KeyRef::Leaf(span) => cursor.bytes(span.clone()),
                KeyRef::Own(k) => k,
                KeyRef::Held => &self.held.0,
            };
            set_excluded(if reverse { &mut self.hi } else { &mut self.lo }, key);
            if lent.is_some() {
                return Ok(lent);
            }
            // A key this transaction deleted, or absent from its snapshot:
            // skip it.
        }
    }

    /// The key and value a step produced.
    fn slices(&self, lent: Lent) -> (&[u8], &[u8]) {
        let cursor = |back: bool| {
            if back {
                &self.back.cursor
            } else {
                &self.front.cursor
            }
        };
        match lent {
            Lent::Leaf(back, e) => {
                let c = cursor(back);
                (c.bytes(e.key), c.bytes(e.value.unwrap_or_default()))
            }
            Lent::Overflow(back, key) => (cursor(back).bytes(key), &self.overflow),
            Lent::Own(back) => {
                let own = if back {
                    &self.own_back
                } else {
                    &self.own_front
                };
                let (k, v) = own
                    .as_ref()
                    .and_then(OwnCursor::current)
                    .expect("the step left the own write at hand");
                (k, v.expect("a step lends no delete"))
            }
            Lent::Held => (&self.held.0, self.held.1.as_deref().unwrap_or_default()),
        }
    }

    /// The next entry from one end, borrowed: the one read path behind
    /// [`Range::next_ref`] and [`Iterator::next`], and their reverses.
    fn lend(&mut self, reverse: bool) -> Option<Result<(&[u8], &[u8])>> {
        if self.failed {
            return None;
        }
        // A transaction rolled back by a deadlock holds no table lock any
        // more: its ranges must stop too.
        if !self.tx.is_usable()
            && let Err(e) = self.tx.usable()
        {
            self.failed = true;
            return Some(Err(e));
        }
        if let Some((k, v)) = self.step_fast(reverse) {
            let c = if reverse {
                &self.back.cursor
            } else {
                &self.front.cursor
            };
            return Some(Ok((c.bytes(k), c.bytes(v))));
        }
        match self.step(reverse) {
            Ok(Some(lent)) => Some(Ok(self.slices(lent))),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    /// Passes over up to `n` entries of one end without lending them,
    /// whole leaves at a time where a leaf needs no merge and lies inside
    /// the other end's bound; returns how many it passed.
    fn pass(&mut self, reverse: bool, n: u64) -> Result<u64> {
        let mut passed = 0;
        while passed < n {
            let skipped = self.pass_leaf(reverse, n - passed);
            if skipped > 0 {
                passed += skipped;
                continue;
            }
            match self.lend(reverse) {
                None => break,
                Some(Err(e)) => return Err(e),
                Some(Ok(_)) => passed += 1,
            }
        }
        Ok(passed)
    }

    /// The fast path of [`Range::pass`]: passes over up to `n` of the
    /// entries left in this end's leaf when the leaf needs no merge
    /// ([`End::exact`]) and its farthest key lies inside the other end's
    /// bound, so that every one of them is in the range. Returns how many
    /// (0 sends the caller down the entry-by-entry path).
    fn pass_leaf(&mut self, reverse: bool, n: u64) -> u64 {
        let (end, other, other_bound) = if reverse {
            (&mut self.back, &mut self.front, &mut self.lo)
        } else {
            (&mut self.front, &mut self.back, &mut self.hi)
        };
        if !end.exact || self.failed {
            return 0;
        }
        other.sync(other_bound);
        let Some((left, far)) = end.cursor.rest() else {
            return 0;
        };
        let inside = if reverse {
            above(far, as_slice(other_bound))
        } else {
            below(far, as_slice(other_bound))
        };
        if !inside {
            return 0;
        }
        let take = usize::try_from(n).map_or(left, |n| n.min(left));
        end.cursor.advance_by(take);
        end.stale = true;
        take as u64
    }

    /// Passes over up to `n` entries from the front without reading their
    /// values (an `OFFSET`), and returns how many it passed: fewer only
    /// when the range ran out. Where the transaction sees a leaf exactly
    /// as the tree holds it, its entries are counted, not visited.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-skip-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = strata_engine::Database::open(dir.join("db")).unwrap();
    /// let mut tx = db.begin()?;
    /// tx.create_table("t")?;
    /// for i in 0..100u32 {
    ///     tx.put("t", &i.to_be_bytes(), b"v")?;
    /// }
    /// let mut r = tx.range("t", ..)?;
    /// assert_eq!(r.skip_entries(90)?, 90);
    /// assert_eq!(r.next().transpose()?.map(|(k, _)| k), Some(90u32.to_be_bytes().to_vec()));
    /// assert_eq!(r.skip_entries(90)?, 9);
    /// # drop(r); drop(tx); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn skip_entries(&mut self, n: u64) -> Result<u64> {
        self.pass(false, n)
    }

    /// Like [`Range::skip_entries`], from the back.
    pub fn skip_entries_back(&mut self, n: u64) -> Result<u64> {
        self.pass(true, n)
    }

    /// How many entries are left in the range, counted without reading
    /// their values (and, where a leaf needs no merge, without visiting
    /// them one by one); consumes the range.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-count-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = strata_engine::Database::open(dir.join("db")).unwrap();
    /// let mut tx = db.begin()?;
    /// tx.create_table("t")?;
    /// for k in [&b"apple"[..], b"banana", b"cherry"] {
    ///     tx.put("t", k, b"1")?;
    /// }
    /// assert_eq!(tx.range("t", &b"b"[..]..)?.count_entries()?, 2);
    /// # drop(tx); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn count_entries(mut self) -> Result<u64> {
        self.pass(false, u64::MAX)
    }

    /// The next entry, borrowed rather than copied: the slices point into
    /// the page the range is reading, and are valid until the next call.
    /// For reading many entries without allocating for each.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// db.transaction(|tx| {
    ///     tx.create_table("t")?;
    ///     for i in 0..100u32 { tx.put("t", &i.to_be_bytes(), &[1])?; }
    ///     Ok(())
    /// })?;
    /// let tx = db.begin_read()?;
    /// let mut range = tx.range("t", ..)?;
    /// let mut sum = 0u64;
    /// while let Some(entry) = range.next_ref() {
    ///     let (_key, value) = entry?; // borrowed until the next call
    ///     sum += u64::from(value[0]);
    /// }
    /// assert_eq!(sum, 100);
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn next_ref(&mut self) -> Option<Result<(&[u8], &[u8])>> {
        self.lend(false)
    }

    /// Like [`Range::next_ref`], from the other end.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = strata_engine::Database::open(dir.path().join("db"))?;
    /// db.transaction(|tx| { tx.create_table("t")?; tx.put("t", b"a", b"1")?; tx.put("t", b"z", b"2") })?;
    /// let tx = db.begin_read()?;
    /// let mut range = tx.range("t", ..)?;
    /// let last = range.next_back_ref().transpose()?.map(|(k, _)| k.to_vec());
    /// assert_eq!(last, Some(b"z".to_vec()));
    /// # Ok::<(), strata_engine::Error>(())
    /// ```
    pub fn next_back_ref(&mut self) -> Option<Result<(&[u8], &[u8])>> {
        self.lend(true)
    }
}

/// Of the tree's next key and the transaction's next own write on one
/// side, whether the own write comes first (it wins a tie: it shadows the
/// tree's entry); `None` when neither has one.
fn own_first(tree: Option<&[u8]>, own: Option<&[u8]>, reverse: bool) -> Option<bool> {
    match (tree, own) {
        (None, None) => None,
        (None, Some(_)) => Some(true),
        (Some(_), None) => Some(false),
        (Some(t), Some(o)) => Some(if reverse { o >= t } else { o <= t }),
    }
}

/// Where the key of a step's entry lies: in the cursor's leaf, in the
/// transaction's writes, or in [`Range::held`].
enum KeyRef<'t> {
    Leaf(Span),
    Own(&'t [u8]),
    Held,
}

/// What may shadow the tree's next entry: the transaction's own next write
/// (`false`: a delete), or its snapshot's next version (`None`: absent).
enum Shadow<'t> {
    Own(&'t [u8], bool),
    Version((Vec<u8>, Before)),
}

impl Shadow<'_> {
    fn key(&self) -> &[u8] {
        match self {
            Shadow::Own(k, _) => k,
            Shadow::Version((k, _)) => k,
        }
    }
}

fn owned(kv: Result<(&[u8], &[u8])>) -> Result<(Vec<u8>, Vec<u8>)> {
    kv.map(|(k, v)| (k.to_vec(), v.to_vec()))
}

impl Iterator for Range<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.lend(false).map(owned)
    }
}

impl DoubleEndedIterator for Range<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.lend(true).map(owned)
    }
}
