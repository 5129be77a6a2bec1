//! Snapshots: what a read-only transaction reads, and the versions kept
//! so that it can.
//!
//! SNAPSHOTS
//!
//! A read-only transaction ([`Database::begin_read`](crate::Database::begin_read))
//! reads the committed state as of its start: every commit with an LSN up
//! to its *snapshot LSN*, and none after. It takes no lock, so it never
//! waits for a writer and no writer waits for it. Read-write transactions
//! keep strict two-phase locking, which orders them by LSN (ARCHITECTURE.md,
//! The life of a commit); a snapshot therefore reads a prefix of the serial
//! order, and the history stays serializable with the readers in it.
//!
//! VERSIONS OVER THE LIVE TREE
//!
//! There is one tree, the live one, which commits change in place (in
//! memory, copy-on-write only against the durable tree). A snapshot reads
//! that tree and corrects it with *versions*: when a commit is applied
//! while any snapshot is open, it records, for every key it changes, the
//! key's value before the change (its *before-image*, or "absent"),
//! labelled with the commit's LSN. For a snapshot at LSN `s`, the value of
//! a key is then:
//!
//! * the before-image of the key's oldest version with an LSN above `s`,
//!   if it has one (the first change after `s` saw the value `s` saw);
//! * otherwise what the live tree holds (nothing changed it after `s`).
//!
//! A range merges the tree with the versions in the same way as a
//! read-write transaction's range merges the tree with its own writes
//! (`txn/range.rs`): a version shadows the tree's entry of the same key,
//! and an "absent" before-image hides it.
//!
//! INVARIANTS
//!
//! 1. Every commit applied after a snapshot opened, up to the moment it is
//!    read, has its versions here, and they are recorded under the tree
//!    latch together with the commit's changes: whoever reads the tree and
//!    then the versions sees every change the tree showed it.
//! 2. A version with LSN `c` is kept while a snapshot with an LSN below
//!    `c` is open; it is dropped once none is ([`Versions::collect`]).
//! 3. A snapshot's LSN is read under the tree latch at the moment it is
//!    registered, so no commit falls between its LSN and its registration.
//! 4. A snapshot whose versions were dropped to stay within the memory
//!    bound is marked expired first; every read checks the mark *after*
//!    consulting the versions, so it either saw them or reports
//!    [`Error::SnapshotTooOld`].
//!
//! Reading the tree first and the versions second is what makes the two
//! agree without holding one latch across both (invariant 1): any change
//! the tree read reflected was recorded by then, and a change recorded
//! later than the tree read is one the tree did not show, whose
//! before-image is what the tree showed.
//!
//! CHUNKED COMMITS
//!
//! A commit too large for the log is applied in chunks, each under a tree
//! latch of its own (`commit.rs`), so that readers are not shut out for
//! the whole apply. A snapshot that begins between two chunks reads at the
//! previous commit's LSN, so it needs the versions of the chunks already
//! in: while such a commit is applied, every chunk's versions are kept,
//! whether or not a snapshot is open, and the tree's LSN moves to the
//! commit's only after its last chunk. If they pass the memory bound, the
//! open snapshots expire, the commit's versions are dropped, and a snapshot
//! that begins before the commit is done is born expired.
//!
//! Such a commit changes up to millions of keys, usually with no snapshot
//! open, so its versions must cost little to keep and nothing to drop. A
//! chunk's changes come in key order (the transaction's writes, merged by
//! table and key), so each chunk keeps them as one [`Run`]: the versioned
//! keys end to end in one buffer, and beside them where each ends and its
//! before-image, searched by bisection. No map entry and no allocation per
//! key, and a run is dropped whole. (Kept per key in the map, as other
//! commits' versions are, the versions of a bulk load of a million keys
//! once cost more than the load itself.) A snapshot's read consults the map
//! and the runs after its LSN; the oldest version after it wins.
//!
//! WHAT AN OLD SNAPSHOT COSTS
//!
//! Nothing on disk and nothing in the log: checkpoints run as usual,
//! because the versions are in memory and the tree a snapshot reads is the
//! live one. The cost is memory: the before-images of every key changed
//! since the oldest open snapshot began, bounded by
//! `Options::max_snapshot_memory`. A commit that would keep more expires
//! the oldest snapshots (their next read fails with
//! [`Error::SnapshotTooOld`]) until the rest fits. With no snapshot open,
//! commits record nothing and pay nothing.

use crate::error::{Error, Result};
use crate::tree::catalog::TableId;
use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// Bytes a version costs beyond its key and value: the map nodes, the
/// version itself, the GC queue's entry.
const OVERHEAD: usize = 96;

/// Bytes a version in a [`Run`] costs beyond its key and value: its entry
/// (where its key ends, the before-image's pointer) and the before-image's
/// reference counts.
const RUN_OVERHEAD: usize = std::mem::size_of::<(usize, Before)>() + 16;

/// The state a key had before a commit changed it.
#[derive(Clone, Debug)]
struct Version {
    /// The commit that changed the key.
    lsn: u64,
    /// The value before that commit; `None`: the key was absent.
    before: Option<Arc<[u8]>>,
}

/// A value as a snapshot sees it in the versions: `None` means the key
/// was absent at the snapshot.
pub(crate) type Before = Option<Arc<[u8]>>;

/// The changes of one commit (or of one chunk of a commit applied in
/// chunks), collected while it is applied: each changed key, as a
/// versioned key, with its before-image.
pub(crate) struct Recorder {
    /// The versioned keys ([`versioned_key`]), end to end.
    keys: Vec<u8>,
    /// Each change in the order recorded: where its key ends in `keys`, and
    /// its before-image.
    changes: Vec<(usize, Before)>,
    /// What the changes will cost where they are kept, as [`cost`] counts.
    bytes: usize,
    /// [`OVERHEAD`] for versions kept in the map, [`RUN_OVERHEAD`] for a run.
    overhead: usize,
    /// Gave up past the memory bound: the commit's versions are not kept,
    /// and every snapshot open now must expire.
    overflowed: bool,
    limit: usize,
}

impl Recorder {
    fn new(limit: usize, overhead: usize) -> Recorder {
        Recorder {
            keys: Vec::new(),
            changes: Vec::new(),
            bytes: 0,
            overhead,
            overflowed: false,
            limit,
        }
    }

    /// Whether the before-image of a change is still wanted.
    pub(crate) fn wants(&self) -> bool {
        !self.overflowed
    }

    /// Records that `key` of `table` had `before` until this commit.
    pub(crate) fn push(&mut self, table: TableId, key: &[u8], before: Before) {
        if self.overflowed {
            return;
        }
        self.bytes += cost(4 + key.len(), &before, self.overhead);
        if self.bytes > self.limit {
            self.overflowed = true;
            self.keys = Vec::new();
            self.changes = Vec::new();
            return;
        }
        self.keys.extend_from_slice(&table.to_be_bytes());
        self.keys.extend_from_slice(key);
        self.changes.push((self.keys.len(), before));
    }

    /// The versioned key of change `i`.
    fn key(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).map_or(0, |p| self.changes[p].0);
        &self.keys[start..self.changes[i].0]
    }

    /// The changes in the order recorded: versioned key and before-image.
    fn iter(&self) -> impl Iterator<Item = (&[u8], &Before)> {
        (0..self.changes.len()).map(|i| (self.key(i), &self.changes[i].1))
    }

    /// The changes in versioned-key order, the order recorded among equal
    /// keys (the first change of a key holds its before-image). A chunk's
    /// changes come in that order already, and are only checked.
    fn into_key_order(self) -> Recorder {
        let n = self.changes.len();
        if (1..n).all(|i| self.key(i - 1) <= self.key(i)) {
            return self;
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| self.key(a).cmp(self.key(b)));
        let mut sorted = Recorder::new(self.limit, self.overhead);
        sorted.keys.reserve_exact(self.keys.len());
        sorted.changes.reserve_exact(n);
        for i in order {
            sorted.keys.extend_from_slice(self.key(i));
            sorted
                .changes
                .push((sorted.keys.len(), self.changes[i].1.clone()));
        }
        sorted.bytes = self.bytes;
        sorted
    }
}

/// What a version costs: its versioned key of `key_len` bytes, its
/// before-image, and `overhead`.
fn cost(key_len: usize, before: &Before, overhead: usize) -> usize {
    key_len + before.as_ref().map_or(0, |b| b.len()) + overhead
}

/// The versions of one chunk of a commit applied in chunks, in
/// versioned-key order (CHUNKED COMMITS).
struct Run {
    /// The commit.
    lsn: u64,
    changes: Recorder,
}

impl Run {
    fn len(&self) -> usize {
        self.changes.changes.len()
    }

    /// The first change whose versioned key is not below `k`.
    fn lower_bound(&self, k: &[u8]) -> usize {
        self.partition(|key| key < k)
    }

    /// The first change whose versioned key lies past `k`.
    fn upper_bound(&self, k: &[u8]) -> usize {
        self.partition(|key| key <= k)
    }

    /// The first change for which `before` is false; `before` holds for a
    /// prefix of the run.
    fn partition(&self, before: impl Fn(&[u8]) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before(self.changes.key(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The before-image of versioned key `k`, if this run changed it.
    fn get(&self, k: &[u8]) -> Option<&Before> {
        let i = self.lower_bound(k);
        (i < self.len() && self.changes.key(i) == k).then(|| &self.changes.changes[i].1)
    }

    /// The first versioned key between `lo` and `hi` (the last, with
    /// `reverse`) that this run changed.
    fn edge(&self, lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>, reverse: bool) -> Option<&[u8]> {
        let start = match lo {
            Bound::Included(k) => self.lower_bound(k),
            Bound::Excluded(k) => self.upper_bound(k),
            Bound::Unbounded => 0,
        };
        let end = match hi {
            Bound::Included(k) => self.upper_bound(k),
            Bound::Excluded(k) => self.lower_bound(k),
            Bound::Unbounded => self.len(),
        };
        if start >= end {
            return None;
        }
        Some(self.changes.key(if reverse { end - 1 } else { start }))
    }
}

/// An open snapshot: its LSN and the mark that says its versions are gone.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub lsn: u64,
    id: u64,
    expired: Arc<AtomicBool>,
}

impl Snapshot {
    /// `Error::SnapshotTooOld` if the versions this snapshot needs were
    /// dropped (invariant 4). Call after consulting the versions.
    #[inline]
    pub(crate) fn check(&self) -> Result<()> {
        if self.expired.load(Ordering::Acquire) {
            return Err(Error::SnapshotTooOld { lsn: self.lsn });
        }
        Ok(())
    }
}

/// A commit by checkpoint being applied in chunks (CHUNKED COMMITS).
struct Chunked {
    lsn: u64,
    /// Its versions are being kept (not given up past the bound).
    recording: bool,
}

struct VersionState {
    next_id: u64,
    chunked: Option<Chunked>,
    /// Open snapshots by (LSN, id), with their expiry marks.
    snapshots: BTreeMap<(u64, u64), Arc<AtomicBool>>,
    /// Versions by key (table id big-endian, then the key), oldest first.
    by_key: BTreeMap<Vec<u8>, VecDeque<Version>>,
    /// The keys each commit changed, in LSN order: what to drop first.
    by_lsn: VecDeque<(u64, Vec<Box<[u8]>>)>,
    /// The versions of commits applied in chunks, a run per chunk, in LSN
    /// order (CHUNKED COMMITS).
    runs: VecDeque<Run>,
    /// What the versions cost, as [`cost`] counts.
    bytes: usize,
}

/// The versions of every key changed since the oldest open snapshot, and
/// the open snapshots. See the module notes.
pub(crate) struct Versions {
    state: Mutex<VersionState>,
    /// Versions kept: 0 lets a snapshot read skip the mutex.
    kept: AtomicUsize,
    /// Snapshots open: 0 lets a commit record nothing.
    open: AtomicUsize,
    /// `Options::max_snapshot_memory`.
    limit: usize,
    /// Snapshots expired to stay within `limit`, since the handle opened.
    expired: AtomicU64,
}

/// The key of `key` of `table` in [`VersionState::by_key`].
fn versioned_key(table: TableId, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(4 + key.len());
    k.extend_from_slice(&table.to_be_bytes());
    k.extend_from_slice(key);
    k
}

impl Versions {
    pub(crate) fn new(limit: usize) -> Versions {
        Versions {
            state: Mutex::new(VersionState {
                next_id: 0,
                chunked: None,
                snapshots: BTreeMap::new(),
                by_key: BTreeMap::new(),
                by_lsn: VecDeque::new(),
                runs: VecDeque::new(),
                bytes: 0,
            }),
            kept: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            limit,
            expired: AtomicU64::new(0),
        }
    }

    /// Registers a snapshot at `lsn`. The caller holds the tree latch and
    /// read `lsn` under it (invariant 3).
    pub(crate) fn open(&self, lsn: u64) -> Snapshot {
        let mut st = self.state.lock();
        let id = st.next_id;
        st.next_id += 1;
        if st.chunked.as_ref().is_some_and(|c| !c.recording) {
            // It would need versions that a chunked commit gave up.
            self.expired.fetch_add(1, Ordering::Relaxed);
            let expired = Arc::new(AtomicBool::new(true));
            return Snapshot { lsn, id, expired };
        }
        let expired = Arc::new(AtomicBool::new(false));
        st.snapshots.insert((lsn, id), expired.clone());
        self.open.fetch_add(1, Ordering::Release);
        Snapshot { lsn, id, expired }
    }

    /// Ends a snapshot, and drops the versions no open one needs.
    pub(crate) fn close(&self, snap: &Snapshot) {
        let mut st = self.state.lock();
        if st.snapshots.remove(&(snap.lsn, snap.id)).is_some() {
            self.open.fetch_sub(1, Ordering::Release);
        }
        self.collect(&mut st);
    }

    /// A recorder for a commit being applied, if any snapshot is open. The
    /// caller holds the tree latch for writing.
    pub(crate) fn recorder(&self) -> Option<Recorder> {
        (self.open.load(Ordering::Acquire) > 0).then(|| Recorder::new(self.limit, OVERHEAD))
    }

    /// Keeps the versions of commit `lsn`, still under the tree latch that
    /// applied it (invariant 1), and expires the oldest snapshots while
    /// the versions cost more than the bound.
    pub(crate) fn record(&self, lsn: u64, rec: Recorder) {
        let mut st = self.state.lock();
        if rec.overflowed {
            // Every snapshot open now is older than this commit and needs
            // its versions, which were not kept.
            while self.expire_oldest(&mut st) {}
            return;
        }
        if rec.changes.is_empty() || st.snapshots.is_empty() {
            return;
        }
        self.keep(&mut st, lsn, &rec);
        while st.bytes > self.limit && self.expire_oldest(&mut st) {}
    }

    /// Starts a commit by checkpoint `lsn` applied in chunks, under the
    /// commit latch (CHUNKED COMMITS).
    pub(crate) fn begin_chunked(&self, lsn: u64) {
        self.state.lock().chunked = Some(Chunked {
            lsn,
            recording: true,
        });
    }

    /// A recorder for the next chunk of the commit being applied in
    /// chunks, unless it gave its versions up.
    pub(crate) fn chunk_recorder(&self) -> Option<Recorder> {
        let st = self.state.lock();
        st.chunked
            .as_ref()
            .is_some_and(|c| c.recording)
            .then(|| Recorder::new(self.limit, RUN_OVERHEAD))
    }

    /// Keeps the versions of a chunk of commit `lsn`, under the tree latch
    /// that applied it; past the bound, gives the commit's versions up.
    pub(crate) fn record_chunk(&self, lsn: u64, rec: Recorder) {
        let overflowed = rec.overflowed;
        // Ordered outside the mutex, which snapshot reads take.
        let run = (!overflowed && !rec.changes.is_empty()).then(|| Run {
            lsn,
            changes: rec.into_key_order(),
        });
        let mut st = self.state.lock();
        if let Some(run) = run {
            st.bytes += run.changes.bytes;
            self.kept.fetch_add(run.len(), Ordering::Release);
            st.runs.push_back(run);
        }
        if overflowed || st.bytes > self.limit {
            while self.expire_oldest(&mut st) {}
            if let Some(c) = &mut st.chunked {
                c.recording = false;
            }
            self.collect(&mut st);
        }
    }

    /// Ends the commit applied in chunks, under the tree latch that moves
    /// the tree's LSN to it.
    pub(crate) fn end_chunked(&self) {
        let mut st = self.state.lock();
        st.chunked = None;
        self.collect(&mut st);
    }

    /// Adds commit `lsn`'s versions to the map.
    fn keep(&self, st: &mut VersionState, lsn: u64, rec: &Recorder) {
        let mut keys = Vec::with_capacity(rec.changes.len());
        for (key, before) in rec.iter() {
            st.bytes += cost(key.len(), before, OVERHEAD);
            st.by_key
                .entry(key.to_vec())
                .or_default()
                .push_back(Version {
                    lsn,
                    before: before.clone(),
                });
            keys.push(Box::from(key));
        }
        self.kept.fetch_add(keys.len(), Ordering::Release);
        st.by_lsn.push_back((lsn, keys));
    }

    /// Marks the oldest open snapshot expired and drops what only it
    /// needed; false if none is open.
    fn expire_oldest(&self, st: &mut VersionState) -> bool {
        let Some((_, mark)) = st.snapshots.pop_first() else {
            return false;
        };
        // Before its versions go (invariant 4).
        mark.store(true, Ordering::Release);
        self.open.fetch_sub(1, Ordering::Release);
        self.expired.fetch_add(1, Ordering::Relaxed);
        self.collect(st);
        true
    }

    /// Drops the versions no open snapshot needs (invariant 2), keeping a
    /// recording chunked commit's for the snapshots still to begin.
    fn collect(&self, st: &mut VersionState) {
        let mut oldest = st
            .snapshots
            .first_key_value()
            .map_or(u64::MAX, |(k, _)| k.0);
        if let Some(c) = st.chunked.as_ref().filter(|c| c.recording) {
            oldest = oldest.min(c.lsn - 1);
        }
        let mut dropped = 0;
        while st.by_lsn.front().is_some_and(|(lsn, _)| *lsn <= oldest) {
            let Some((_, keys)) = st.by_lsn.pop_front() else {
                break;
            };
            for k in keys {
                let Some(list) = st.by_key.get_mut(&k[..]) else {
                    continue;
                };
                if let Some(v) = list.pop_front() {
                    st.bytes = st.bytes.saturating_sub(cost(k.len(), &v.before, OVERHEAD));
                    dropped += 1;
                }
                if list.is_empty() {
                    st.by_key.remove(&k[..]);
                }
            }
        }
        while st.runs.front().is_some_and(|r| r.lsn <= oldest) {
            let Some(run) = st.runs.pop_front() else {
                break;
            };
            st.bytes = st.bytes.saturating_sub(run.changes.bytes);
            dropped += run.len();
        }
        if dropped > 0 {
            self.kept.fetch_sub(dropped, Ordering::Release);
        }
    }

    /// What snapshot `at` sees of `key` of `table` in the versions:
    /// `Some(before)` if a commit after `at` changed it, `None` if the
    /// live tree's value is the snapshot's.
    #[inline]
    pub(crate) fn lookup(&self, table: TableId, key: &[u8], at: u64) -> Option<Before> {
        if self.kept.load(Ordering::Acquire) == 0 {
            return None;
        }
        self.lookup_slow(table, key, at)
    }

    #[cold]
    fn lookup_slow(&self, table: TableId, key: &[u8], at: u64) -> Option<Before> {
        let st = self.state.lock();
        st.version(&versioned_key(table, key), at).cloned()
    }

    /// Whether any version is kept (a snapshot's range may then have
    /// corrections to merge).
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.kept.load(Ordering::Acquire) > 0
    }

    /// The first key of `table` between `lo` and `hi` (the last, with
    /// `reverse`) that a commit after `at` changed, with what snapshot
    /// `at` sees of it.
    pub(crate) fn edge(
        &self,
        table: TableId,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        at: u64,
    ) -> Option<(Vec<u8>, Before)> {
        if !self.any() {
            return None;
        }
        let lo = match lo {
            Bound::Unbounded => Bound::Included(versioned_key(table, &[])),
            Bound::Included(k) => Bound::Included(versioned_key(table, k)),
            Bound::Excluded(k) => Bound::Excluded(versioned_key(table, k)),
        };
        let hi = match hi {
            // Table ids stop below u32::MAX.
            Bound::Unbounded => Bound::Excluded(versioned_key(table + 1, &[])),
            Bound::Included(k) => Bound::Included(versioned_key(table, k)),
            Bound::Excluded(k) => Bound::Excluded(versioned_key(table, k)),
        };
        if range_is_empty(&lo, &hi) {
            return None;
        }
        let st = self.state.lock();
        let bounds = (lo.as_ref().map(|k| &k[..]), hi.as_ref().map(|k| &k[..]));
        let mut range = st.by_key.range::<[u8], _>(bounds);
        let changed = |(_, list): &(&Vec<u8>, &VecDeque<Version>)| list.iter().any(|v| v.lsn > at);
        let in_map = if reverse {
            range.rev().find(changed)
        } else {
            range.find(changed)
        }
        .map(|(k, _)| &k[..]);
        let in_runs = st
            .runs
            .iter()
            .filter(|r| r.lsn > at)
            .filter_map(|r| r.edge(&lo, &hi, reverse));
        let k = in_map
            .into_iter()
            .chain(in_runs)
            .reduce(|a, b| if reverse { a.max(b) } else { a.min(b) })?;
        let before = st.version(k, at)?.clone();
        Some((k[4..].to_vec(), before))
    }

    /// Snapshots open now.
    pub(crate) fn open_count(&self) -> u64 {
        self.open.load(Ordering::Relaxed) as u64
    }

    /// What the kept versions cost, in bytes.
    pub(crate) fn bytes(&self) -> u64 {
        self.state.lock().bytes as u64
    }

    /// Snapshots expired since the handle opened.
    pub(crate) fn expired_count(&self) -> u64 {
        self.expired.load(Ordering::Relaxed)
    }
}

impl VersionState {
    /// The before-image of versioned key `k` in its oldest version after
    /// LSN `at`, from the map or the runs; `None` if no commit after `at`
    /// changed it.
    fn version(&self, k: &[u8], at: u64) -> Option<&Before> {
        let in_map = self
            .by_key
            .get(k)
            .and_then(|list| list.iter().find(|v| v.lsn > at))
            .map(|v| (v.lsn, &v.before));
        // Runs are in LSN order: the first after `at` that has the key is
        // its oldest there.
        let in_runs = self
            .runs
            .iter()
            .filter(|r| r.lsn > at && in_map.is_none_or(|(lsn, _)| r.lsn < lsn))
            .find_map(|r| Some((r.lsn, r.get(k)?)));
        in_runs.or(in_map).map(|(_, before)| before)
    }
}

/// Whether `lo..hi` holds no key: `BTreeMap::range` panics on such bounds.
fn range_is_empty(lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    match (lo, hi) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a), Bound::Excluded(b)) | (Bound::Excluded(a), Bound::Included(b)) => {
            a >= b
        }
        (Bound::Excluded(a), Bound::Excluded(b)) => a >= b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(s: &str) -> Before {
        Some(Arc::from(s.as_bytes()))
    }

    fn rec(v: &Versions, changes: &[(&str, Before)]) -> Recorder {
        let mut r = v.recorder().expect("a snapshot is open");
        for (k, b) in changes {
            r.push(1, k.as_bytes(), b.clone());
        }
        r
    }

    #[test]
    fn a_snapshot_sees_the_first_before_image_after_it() {
        let v = Versions::new(1 << 20);
        assert!(v.recorder().is_none(), "nothing to record with no snapshot");
        let s5 = v.open(5);
        v.record(6, rec(&v, &[("a", val("a5")), ("b", None)]));
        let s6 = v.open(6);
        v.record(7, rec(&v, &[("a", val("a6"))]));
        // s5: a had a5 (changed by 6), b was absent (created by 6).
        assert_eq!(v.lookup(1, b"a", 5), Some(val("a5")));
        assert_eq!(v.lookup(1, b"b", 5), Some(None));
        // s6: a had a6 (changed by 7); b is as the tree says.
        assert_eq!(v.lookup(1, b"a", 6), Some(val("a6")));
        assert_eq!(v.lookup(1, b"b", 6), None);
        assert_eq!(v.lookup(2, b"a", 5), None, "another table");
        // Ranges: forward and back, with bounds.
        assert_eq!(
            v.edge(1, Bound::Unbounded, Bound::Unbounded, false, 5),
            Some((b"a".to_vec(), val("a5")))
        );
        assert_eq!(
            v.edge(1, Bound::Excluded(b"a"), Bound::Unbounded, false, 5),
            Some((b"b".to_vec(), None))
        );
        assert_eq!(
            v.edge(1, Bound::Unbounded, Bound::Unbounded, true, 6),
            Some((b"a".to_vec(), val("a6")))
        );
        assert_eq!(
            v.edge(1, Bound::Excluded(b"a"), Bound::Unbounded, false, 6),
            None
        );
        // Closing s5 drops commit 6's versions; s6 still needs 7's.
        v.close(&s5);
        assert_eq!(v.lookup(1, b"b", 5), None);
        assert_eq!(v.lookup(1, b"a", 6), Some(val("a6")));
        v.close(&s6);
        assert!(!v.any(), "no snapshot open: no version kept");
        assert_eq!(v.bytes(), 0);
    }

    #[test]
    fn past_the_bound_the_oldest_snapshots_expire() {
        let v = Versions::new(4 * (OVERHEAD + 16));
        let old = v.open(1);
        let young = v.open(3);
        v.record(2, rec(&v, &[("k1", val("v")), ("k2", val("v"))]));
        old.check().unwrap();
        v.record(
            4,
            rec(&v, &[("k3", val("v")), ("k4", val("v")), ("k5", None)]),
        );
        assert!(
            matches!(old.check(), Err(Error::SnapshotTooOld { lsn: 1 })),
            "the oldest snapshot expires first"
        );
        young.check().unwrap();
        assert_eq!(v.lookup(1, b"k3", 3), Some(val("v")));
        assert_eq!(
            v.lookup(1, b"k1", 3),
            None,
            "only the expired one needed it"
        );
        assert_eq!(v.expired_count(), 1);
        // A commit larger than the bound by itself expires every snapshot.
        let mut r = v.recorder().unwrap();
        r.push(1, b"big", Some(Arc::from(vec![0u8; 1000])));
        assert!(!r.wants());
        v.record(5, r);
        assert!(young.check().is_err());
        assert_eq!(v.open_count(), 0);
        v.close(&old);
        v.close(&young);
        assert_eq!(v.open_count(), 0);
        assert!(!v.any());
    }

    /// A chunk of commit `lsn`'s changes, recorded as a chunked commit's.
    fn chunk(v: &Versions, lsn: u64, changes: &[(u32, &str, Before)]) {
        let mut r = v.chunk_recorder().expect("a chunked commit records");
        for (table, k, b) in changes {
            r.push(*table, k.as_bytes(), b.clone());
        }
        v.record_chunk(lsn, r);
    }

    #[test]
    fn a_chunked_commit_keeps_runs_that_snapshots_read_with_the_map() {
        let v = Versions::new(1 << 20);
        let s4 = v.open(4);
        v.record(5, rec(&v, &[("b", val("b4")), ("d", val("d4"))]));
        v.close(&s4);
        assert!(!v.any(), "commit 5's versions went with the last snapshot");
        let s5 = v.open(5);
        v.record(6, rec(&v, &[("b", val("b5"))]));
        // Commit 7, in two chunks, kept with no snapshot begun after it
        // started; the second chunk comes out of key order, and holds a
        // key of another table.
        v.begin_chunked(7);
        chunk(
            &v,
            7,
            &[(1, "a", None), (1, "b", val("b6")), (1, "c", val("c6"))],
        );
        let s6 = v.open(6); // begun between two chunks
        chunk(
            &v,
            7,
            &[(1, "e", None), (1, "d", val("d6")), (2, "a", val("x6"))],
        );
        v.end_chunked();
        // s6: commit 7's before-images.
        assert_eq!(v.lookup(1, b"a", 6), Some(None));
        assert_eq!(v.lookup(1, b"b", 6), Some(val("b6")));
        assert_eq!(v.lookup(1, b"d", 6), Some(val("d6")));
        assert_eq!(v.lookup(2, b"a", 6), Some(val("x6")));
        assert_eq!(v.lookup(1, b"f", 6), None);
        // s5: the oldest version after it, from the map (b) or a run (d).
        assert_eq!(v.lookup(1, b"b", 5), Some(val("b5")));
        assert_eq!(v.lookup(1, b"d", 5), Some(val("d6")));
        // Ranges merge the map and the runs, forward and back.
        let edge = |lo, hi, reverse, at| v.edge(1, lo, hi, reverse, at);
        assert_eq!(
            edge(Bound::Unbounded, Bound::Unbounded, false, 6),
            Some((b"a".to_vec(), None))
        );
        assert_eq!(
            edge(Bound::Excluded(b"a"), Bound::Unbounded, false, 5),
            Some((b"b".to_vec(), val("b5")))
        );
        assert_eq!(
            edge(Bound::Excluded(b"c"), Bound::Included(b"d"), false, 6),
            Some((b"d".to_vec(), val("d6")))
        );
        assert_eq!(
            edge(Bound::Unbounded, Bound::Unbounded, true, 6),
            Some((b"e".to_vec(), None))
        );
        assert_eq!(
            edge(Bound::Unbounded, Bound::Excluded(b"b"), true, 6),
            Some((b"a".to_vec(), None))
        );
        assert_eq!(
            edge(Bound::Excluded(b"e"), Bound::Unbounded, false, 6),
            None
        );
        assert_eq!(
            v.edge(2, Bound::Unbounded, Bound::Unbounded, true, 6),
            Some((b"a".to_vec(), val("x6")))
        );
        // Runs go when no snapshot before their commit is left.
        v.close(&s6);
        assert_eq!(v.lookup(1, b"b", 5), Some(val("b5")));
        v.close(&s5);
        assert!(!v.any());
        assert_eq!(v.bytes(), 0);
    }

    #[test]
    fn a_chunked_commit_past_the_bound_gives_its_runs_up() {
        let v = Versions::new(3 * (RUN_OVERHEAD + 8));
        let old = v.open(1);
        v.begin_chunked(2);
        chunk(&v, 2, &[(1, "k1", val("v")), (1, "k2", val("v"))]);
        assert_eq!(v.lookup(1, b"k1", 1), Some(val("v")));
        old.check().unwrap();
        chunk(&v, 2, &[(1, "k3", val("v")), (1, "k4", val("v"))]);
        assert!(
            old.check().is_err(),
            "past the bound, open snapshots expire"
        );
        assert!(!v.any(), "and the commit's versions are dropped");
        assert!(v.chunk_recorder().is_none(), "and no longer recorded");
        let during = v.open(1);
        assert!(
            during.check().is_err(),
            "a snapshot begun meanwhile is born expired"
        );
        v.end_chunked();
        v.close(&old);
        v.close(&during);
        assert_eq!(v.bytes(), 0);
        assert_eq!(v.open_count(), 0);
    }
}
