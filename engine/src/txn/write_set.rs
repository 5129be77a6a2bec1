//! A transaction's private writes to one table.
//!
//! NOTES ON THE DESIGN OF THE WRITE SET
//!
//! A write set has two parts: the newest writes, in memory, and older ones
//! spilled to sorted runs in the handle's scratch file (`spill.rs`), oldest
//! first. A key's newest write wins: memory over every run, a newer run
//! over an older one.
//!
//! In memory, puts and deletes are appended to an arena (keys and values
//! side by side, one allocation growing in place) and indexed by a hash of
//! the key for the transaction's own point reads. Key order is needed only
//! for range reads, at commit and when spilling; it is computed then, by
//! sorting the entries once, and kept until a new key arrives (a new value
//! for a key already written does not change the order). A bulk load of a
//! million keys thus costs a million appends and one sort, not a million
//! ordered-map insertions with an allocation each.
//!
//! An overwrite reuses the old value's bytes when the new value fits in
//! them; otherwise the old bytes become garbage, counted, and the arena is
//! compacted (copied without them) once the garbage passes the live bytes.
//! Every buffer grows with `try_reserve`, so a refused allocation is
//! [`Error::OutOfMemory`](crate::Error::OutOfMemory), never an abort.
//!
//! The transaction (`transaction.rs`) bounds the memory of all its write
//! sets together by `Options::txn_memory_limit`: before a write that would
//! make the buffers grow past it, every write set spills its memory part as
//! a run ([`WriteSet::spill`]) and starts again empty.
//!
//! Reads of the transaction's own writes ([`WriteSet::get`]) look in
//! memory, then in the runs newest first. Walks in key order (ranges, and
//! the commit) go through an [`OwnCursor`]: a k-way merge of the memory
//! part's order and a cursor per run, which yields each key once, with its
//! newest write; a binary heap of the sources picks each next key.
//!
//! INVARIANTS (cited as "write set invariant N")
//!
//! 1. In memory, each key has exactly one entry, reachable from its hash's
//!    chain; `live` is the sum of the entries' key and value lengths, and
//!    `live + garbage` is the arena's length.
//! 2. Within a run keys strictly increase (spill invariant 1 checks it on
//!    every block read).

use crate::base::hash::FastMap;
use crate::base::hash::key_hash;
use crate::error::{Error, Result};
use crate::tree::cursor::{above, below};
use crate::txn::spill::{Run, RunCursor, Spill, try_reserve};
use std::borrow::Cow;
use std::cell::{Ref, RefCell};
use std::ops::Bound;
use std::sync::Arc;

const NONE: u32 = u32::MAX;

/// Bytes one slot of the hash index takes, for the memory account: the
/// hash, the entry number, and the table's control byte, rounded up.
const HEAD_BYTES: usize = 16;

/// Garbage below this many bytes is never worth a compaction.
const MIN_COMPACT: usize = 64 << 10;

/// One key written, and its latest value (`None`: deleted).
#[derive(Clone, Copy)]
struct Entry {
    key: (usize, usize),
    value: Option<(usize, usize)>,
    /// The next entry whose key hashes alike.
    next: u32,
}

/// The in-memory part of a write set.
#[derive(Default)]
struct MemSet {
    arena: Vec<u8>,
    entries: Vec<Entry>,
    /// Key hash to the first entry of its chain.
    heads: FastMap<u64, u32>,
    /// Entry numbers in key order, while no new key has arrived.
    sorted: RefCell<Option<Vec<u32>>>,
    /// Bytes of keys and current values in the arena.
    live: usize,
    /// Bytes of the arena no entry uses any more (overwritten values).
    garbage: usize,
}

/// The capacity a `Vec` of `len` elements of `elem` bytes with capacity
/// `cap` adds, in bytes, to take `add` more (as `try_reserve` grows it).
fn vec_growth(len: usize, cap: usize, add: usize, elem: usize) -> usize {
    if len + add <= cap {
        return 0;
    }
    let new_cap = (2 * cap).max(len + add).max(8);
    (new_cap - cap) * elem
}

fn oom(requested: usize) -> Error {
    Error::OutOfMemory { requested }
}

impl MemSet {
    fn bytes(&self, (at, len): (usize, usize)) -> &[u8] {
        &self.arena[at..at + len]
    }

    fn key_of(&self, e: u32) -> &[u8] {
        self.bytes(self.entries[e as usize].key)
    }

    fn entry(&self, e: u32) -> (&[u8], Option<&[u8]>) {
        let en = &self.entries[e as usize];
        (self.bytes(en.key), en.value.map(|v| self.bytes(v)))
    }

    fn find(&self, key: &[u8], hash: u64) -> Option<u32> {
        let mut e = *self.heads.get(&hash)?;
        while e != NONE {
            if self.key_of(e) == key {
                return Some(e);
            }
            e = self.entries[e as usize].next;
        }
        None
    }

    fn push(&mut self, bytes: &[u8]) -> Result<(usize, usize)> {
        try_reserve(&mut self.arena, bytes.len())?;
        let at = self.arena.len();
        self.arena.extend_from_slice(bytes);
        Ok((at, bytes.len()))
    }

    fn memory(&self) -> usize {
        self.arena.capacity()
            + self.entries.capacity() * size_of::<Entry>()
            + self.heads.capacity() * HEAD_BYTES
            + self
                .sorted
                .borrow()
                .as_ref()
                .map_or(0, |v| v.capacity() * 4)
    }

    /// At most how many bytes of capacity inserting `key` and `value`
    /// adds.
    fn growth(&self, key: &[u8], value: Option<&[u8]>) -> usize {
        let need = key.len() + value.map_or(0, <[u8]>::len);
        let heads = if self.heads.len() >= self.heads.capacity() {
            self.heads.capacity().max(4) * HEAD_BYTES
        } else {
            0
        };
        vec_growth(self.arena.len(), self.arena.capacity(), need, 1)
            + vec_growth(
                self.entries.len(),
                self.entries.capacity(),
                1,
                size_of::<Entry>(),
            )
            + heads
    }

    fn insert(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let hash = key_hash(key);
        if let Some(e) = self.find(key, hash) {
            let old = self.entries[e as usize].value;
            let old_len = old.map_or(0, |(_, l)| l);
            let new = match (old, value) {
                // The new value fits where the old one lies: reuse it.
                (Some((at, _)), Some(v)) if v.len() <= old_len => {
                    self.arena[at..at + v.len()].copy_from_slice(v);
                    self.garbage += old_len - v.len();
                    Some((at, v.len()))
                }
                (_, Some(v)) => {
                    let p = self.push(v)?;
                    self.garbage += old_len;
                    Some(p)
                }
                (_, None) => {
                    self.garbage += old_len;
                    None
                }
            };
            self.entries[e as usize].value = new;
            self.live = self.live - old_len + value.map_or(0, <[u8]>::len);
            if self.garbage > self.live && self.garbage >= MIN_COMPACT {
                self.compact()?;
            }
            return Ok(());
        }
        try_reserve(&mut self.entries, 1)?;
        self.heads
            .try_reserve(1)
            .map_err(|_| oom((self.heads.len() + 1) * HEAD_BYTES))?;
        // Both pushes reserve first, so that a refusal leaves no half entry.
        try_reserve(&mut self.arena, key.len() + value.map_or(0, <[u8]>::len))?;
        let value = value.map(|v| self.push(v)).transpose()?;
        let key_at = self.push(key)?;
        self.live += key.len() + value.map_or(0, |(_, l)| l);
        let next = self.heads.get(&hash).copied().unwrap_or(NONE);
        self.heads.insert(hash, self.entries.len() as u32);
        self.entries.push(Entry {
            key: key_at,
            value,
            next,
        });
        *self.sorted.get_mut() = None;
        Ok(())
    }

    /// Copies the live keys and values into a new arena of their size.
    fn compact(&mut self) -> Result<()> {
        let mut arena = Vec::new();
        try_reserve(&mut arena, self.live)?;
        let mut copy = |(at, len): (usize, usize)| {
            let new = arena.len();
            arena.extend_from_slice(&self.arena[at..at + len]);
            (new, len)
        };
        for en in &mut self.entries {
            en.key = copy(en.key);
            en.value = en.value.map(&mut copy);
        }
        self.arena = arena;
        self.garbage = 0;
        debug_assert_eq!(
            self.arena.len(),
            self.live,
            "write set invariant 1: the arena holds the live bytes and the garbage"
        );
        Ok(())
    }

    fn get(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        let e = self.find(key, key_hash(key))?;
        Some(self.entry(e).1)
    }

    /// The entry numbers in key order.
    fn order(&self) -> Result<Ref<'_, [u32]>> {
        if self.sorted.borrow().is_none() {
            let order = self.sort()?;
            *self.sorted.borrow_mut() = Some(order);
        }
        Ok(Ref::map(self.sorted.borrow(), |o| {
            o.as_deref().expect("sorted just above")
        }))
    }

    fn sort(&self) -> Result<Vec<u32>> {
        // Sort by each key's first 8 bytes as an integer, which decides
        // nearly every comparison without touching the arena; ties compare
        // whole keys.
        let prefix = |k: &[u8]| {
            let mut p = [0u8; 8];
            let n = k.len().min(8);
            p[..n].copy_from_slice(&k[..n]);
            u64::from_be_bytes(p)
        };
        let mut v: Vec<(u64, u32)> = Vec::new();
        try_reserve(&mut v, self.entries.len())?;
        v.extend((0..self.entries.len() as u32).map(|e| (prefix(self.key_of(e)), e)));
        v.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| self.key_of(a.1).cmp(self.key_of(b.1)))
        });
        let mut order = Vec::new();
        try_reserve(&mut order, v.len())?;
        order.extend(v.into_iter().map(|(_, e)| e));
        Ok(order)
    }

    /// Forgets every entry; keeps the buffers' capacity if `keep`.
    fn clear(&mut self, keep: bool) {
        if keep {
            self.arena.clear();
            self.entries.clear();
            self.heads.clear();
        } else {
            self.arena = Vec::new();
            self.entries = Vec::new();
            self.heads = FastMap::default();
        }
        *self.sorted.get_mut() = None;
        self.live = 0;
        self.garbage = 0;
    }
}

/// One write: a key and its value (`None`: a delete).
pub(crate) type Write<'a> = (&'a [u8], Option<&'a [u8]>);

/// A table's private writes.
#[derive(Default)]
pub(crate) struct WriteSet {
    mem: MemSet,
    /// Spilled runs, oldest first.
    runs: Vec<Run>,
}

impl WriteSet {
    /// Records `value` (or a delete) under `key`.
    pub(crate) fn insert(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        self.mem.insert(key, value)
    }

    /// The transaction's own write of `key`: `Some(None)` for a delete,
    /// `None` if it did not write it.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Option<Cow<'_, [u8]>>>> {
        if let Some(v) = self.mem.get(key) {
            return Ok(Some(v.map(Cow::Borrowed)));
        }
        for run in self.runs.iter().rev() {
            if let Some(v) = run.get(key)? {
                return Ok(Some(v.map(Cow::Owned)));
            }
        }
        Ok(None)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.mem.entries.is_empty() && self.runs.is_empty()
    }

    /// Whether part of the writes is in runs.
    pub(crate) fn is_spilled(&self) -> bool {
        !self.runs.is_empty()
    }

    /// Bytes of memory the in-memory part's buffers hold (the runs' small
    /// indexes and filters are not counted).
    pub(crate) fn memory(&self) -> usize {
        self.mem.memory()
    }

    /// At most how many bytes of buffer inserting `key` and `value` would
    /// add.
    pub(crate) fn growth(&self, key: &[u8], value: Option<&[u8]>) -> usize {
        self.mem.growth(key, value)
    }

    /// Bytes of keys and values held, in memory and in runs (a key
    /// overwritten after a spill counts once per run that has it).
    pub(crate) fn size(&self) -> u64 {
        self.mem.live as u64 + self.runs.iter().map(Run::payload).sum::<u64>()
    }

    /// At least the bytes the writes take as redo operations.
    pub(crate) fn op_bytes_bound(&self) -> u64 {
        let mem: usize = self
            .mem
            .entries
            .iter()
            .map(|e| e.key.1 + e.value.map_or(7, |(_, l)| 11 + l))
            .sum();
        mem as u64 + self.runs.iter().map(Run::op_bytes).sum::<u64>()
    }

    /// Writes the in-memory part out as a new run, and empties it (keeping
    /// its buffers' capacity if `keep`).
    pub(crate) fn spill(&mut self, spill: &Arc<Spill>, keep: bool) -> Result<()> {
        if self.mem.entries.is_empty() {
            return Ok(());
        }
        let run = {
            let mem = &self.mem;
            let order = mem.order()?;
            Run::write(spill, order.len(), || order.iter().map(|&e| mem.entry(e)))?
        };
        try_reserve(&mut self.runs, 1)?;
        self.runs.push(run);
        self.mem.clear(keep);
        Ok(())
    }

    /// Every write in key order, as `(key, value)` (`None`: a delete), for
    /// a write set that never spilled.
    pub(crate) fn in_order(&self) -> Result<Vec<Write<'_>>> {
        debug_assert!(self.runs.is_empty(), "in_order is for unspilled sets");
        let order = self.mem.order()?;
        let mut out = Vec::new();
        try_reserve(&mut out, order.len())?;
        out.extend(order.iter().map(|&e| self.mem.entry(e)));
        Ok(out)
    }

    /// Calls `f` on every write in key order (newest write of each key).
    pub(crate) fn for_each(
        &self,
        mut f: impl FnMut(&[u8], Option<&[u8]>) -> Result<()>,
    ) -> Result<()> {
        let mut c = self.cursor(Bound::Unbounded, false)?;
        while let Some((k, v)) = c.current() {
            f(k, v)?;
            c.advance()?;
        }
        Ok(())
    }

    /// A cursor over the writes from `from` on: ascending, or with
    /// `reverse` descending (`from` is then the upper bound).
    pub(crate) fn cursor(&self, from: Bound<&[u8]>, reverse: bool) -> Result<OwnCursor<'_>> {
        let order = if self.mem.entries.is_empty() {
            None
        } else {
            Some(self.mem.order()?)
        };
        let mem = order.as_ref().and_then(|o| {
            let mem = &self.mem;
            if reverse {
                let n = o.partition_point(|&e| below(mem.key_of(e), from));
                n.checked_sub(1)
            } else {
                let n = o.partition_point(|&e| !above(mem.key_of(e), from));
                (n < o.len()).then_some(n)
            }
        });
        let mut runs = Vec::new();
        try_reserve(&mut runs, self.runs.len())?;
        for run in self.runs.iter().rev() {
            runs.push(run.cursor(from, reverse)?);
        }
        let mut heap = Vec::new();
        try_reserve(&mut heap, runs.len() + 1)?;
        let mut c = OwnCursor {
            set: self,
            reverse,
            order,
            mem,
            runs,
            heap,
            key: Vec::new(),
        };
        for s in 0..=c.runs.len() {
            if c.source(s).is_some() {
                c.push(s);
            }
        }
        Ok(c)
    }
}

/// A walk through a write set in key order, ascending or descending: the
/// k-way merge of its memory part and its runs, yielding each key once
/// with its newest write.
pub(crate) struct OwnCursor<'w> {
    set: &'w WriteSet,
    reverse: bool,
    /// The memory part's key order (`None` if it is empty).
    order: Option<Ref<'w, [u32]>>,
    /// Position in `order`; `None` once passed.
    mem: Option<usize>,
    /// A cursor per run, newest first.
    runs: Vec<RunCursor<'w>>,
    /// The sources that have an entry (0 for memory, `i + 1` for
    /// `runs[i]`), as a binary heap whose first element holds the entry
    /// at hand: the next key, and of the sources holding it the newest
    /// (the lowest number). Choosing the next key costs a logarithm of
    /// the sources, not a pass over all of them: a big transaction's
    /// commit merges one run per `txn_memory_limit` of its writes.
    heap: Vec<usize>,
    /// The key at hand, copied while the sources move past it.
    key: Vec<u8>,
}

impl OwnCursor<'_> {
    /// The entry of source `s` at hand (see `head`).
    fn source(&self, s: usize) -> Option<(&[u8], Option<&[u8]>)> {
        if s == 0 {
            let (order, pos) = (self.order.as_ref()?, self.mem?);
            Some(self.set.mem.entry(order[pos]))
        } else {
            self.runs[s - 1].peek()
        }
    }

    /// Whether source `a`'s entry comes before source `b`'s: the next key
    /// in the walk's direction, and on a tie the newer source. Both have
    /// an entry.
    fn before(&self, a: usize, b: usize) -> bool {
        let (Some((ka, _)), Some((kb, _))) = (self.source(a), self.source(b)) else {
            unreachable!("the heap holds only sources with an entry");
        };
        let order = if self.reverse { kb.cmp(ka) } else { ka.cmp(kb) };
        order.then(a.cmp(&b)).is_lt()
    }

    /// Puts source `s`, which has an entry, into the heap. The heap's
    /// capacity is one place per source, reserved at creation.
    fn push(&mut self, s: usize) {
        self.heap.push(s);
        let mut i = self.heap.len() - 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.before(self.heap[i], self.heap[parent]) {
                break;
            }
            self.heap.swap(i, parent);
            i = parent;
        }
    }

    /// Restores the heap's order below place `i`, whose source may have
    /// moved on.
    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut first = i;
            if l < self.heap.len() && self.before(self.heap[l], self.heap[first]) {
                first = l;
            }
            if r < self.heap.len() && self.before(self.heap[r], self.heap[first]) {
                first = r;
            }
            if first == i {
                return;
            }
            self.heap.swap(i, first);
            i = first;
        }
    }

    /// The entry at hand: its key and newest write (`None`: a delete).
    pub(crate) fn current(&self) -> Option<(&[u8], Option<&[u8]>)> {
        self.source(*self.heap.first()?)
    }

    /// Moves past the key at hand, in every source that has it.
    pub(crate) fn advance(&mut self) -> Result<()> {
        let Some(&h) = self.heap.first() else {
            return Ok(());
        };
        let mut key = std::mem::take(&mut self.key);
        key.clear();
        key.extend_from_slice(self.source(h).expect("the head has an entry").0);
        // The sources holding the key reach the top of the heap one after
        // the other, the newest first. Each moves on to a later key and
        // sinks to its place, or leaves the heap when it has no more.
        let mut result = Ok(());
        while let Some(&s) = self.heap.first() {
            if self.source(s).is_none_or(|(k, _)| k != key) {
                break;
            }
            if s == 0 {
                let n = self.order.as_ref().map_or(0, |o| o.len());
                self.mem = match self.mem {
                    Some(p) if self.reverse => p.checked_sub(1),
                    Some(p) => (p + 1 < n).then_some(p + 1),
                    None => None,
                };
            } else {
                result = self.runs[s - 1].advance();
            }
            // Even after an error the heap keeps its order and holds
            // exactly the sources that have an entry.
            if self.source(s).is_some() {
                self.sift_down(0);
            } else {
                let last = self.heap.len() - 1;
                self.heap.swap(0, last);
                self.heap.pop();
                self.sift_down(0);
            }
            if result.is_err() {
                break;
            }
        }
        self.key = key;
        result
    }

    /// Moves past every key that does not lie inside `bound`, this walk's
    /// own bound (the lower one ascending, the upper one descending).
    pub(crate) fn skip_behind(&mut self, bound: Bound<&[u8]>) -> Result<()> {
        while let Some((k, _)) = self.current() {
            let inside = if self.reverse {
                below(k, bound)
            } else {
                above(k, bound)
            };
            if inside {
                break;
            }
            self.advance()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::SimVfs;
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use std::path::Path;

    type Model = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

    fn owned(e: Option<(&[u8], Option<&[u8]>)>) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
        e.map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec)))
    }

    /// The first (or last) write inside `lo..hi`, through a cursor.
    fn edge(
        w: &WriteSet,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
    ) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
        let c = w.cursor(if reverse { hi } else { lo }, reverse).unwrap();
        owned(c.current()).filter(|(k, _)| if reverse { above(k, lo) } else { below(k, hi) })
    }

    fn all(w: &WriteSet, reverse: bool) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut c = w.cursor(Bound::Unbounded, reverse).unwrap();
        let mut out = Vec::new();
        while let Some(e) = owned(c.current()) {
            out.push(e);
            c.advance().unwrap();
        }
        out
    }

    fn spill() -> Arc<Spill> {
        Arc::new(Spill::new(
            Arc::new(SimVfs::new(1)),
            Path::new("/db"),
            0,
            u64::MAX,
        ))
    }

    fn check(
        w: &WriteSet,
        m: &Model,
        lo: &[u8],
        hi: &[u8],
    ) -> std::result::Result<(), TestCaseError> {
        let got = all(w, false);
        let want: Vec<(Vec<u8>, Option<Vec<u8>>)> = m.clone().into_iter().collect();
        prop_assert_eq!(&got, &want);
        let mut rev = all(w, true);
        rev.reverse();
        prop_assert_eq!(rev, want);
        let want = m
            .range::<[u8], _>((Bound::Included(lo), Bound::Unbounded))
            .next()
            .map(|(k, v)| (k.clone(), v.clone()));
        prop_assert_eq!(edge(w, Bound::Included(lo), Bound::Unbounded, false), want);
        if lo <= hi {
            let want = m
                .range::<[u8], _>((Bound::Excluded(lo), Bound::Included(hi)))
                .next_back()
                .map(|(k, v)| (k.clone(), v.clone()));
            prop_assert_eq!(
                edge(w, Bound::Excluded(lo), Bound::Included(hi), true),
                want
            );
        }
        prop_assert_eq!(w.get(b"missing-key").unwrap(), None);
        Ok(())
    }

    proptest! {
        #[test]
        fn behaves_like_an_ordered_map(
            ops in proptest::collection::vec((proptest::collection::vec(0u8..4, 0..4), proptest::option::of(any::<u8>()), 0u8..8), 0..60),
            lo in proptest::collection::vec(0u8..4, 0..3),
            hi in proptest::collection::vec(0u8..4, 0..3),
        ) {
            let sp = spill();
            let mut w = WriteSet::default();
            let mut m: Model = BTreeMap::new();
            for (k, v, spill_now) in &ops {
                let v = v.map(|b| vec![b; b as usize % 5]);
                w.insert(k, v.as_deref()).unwrap();
                m.insert(k.clone(), v);
                if *spill_now == 0 {
                    w.spill(&sp, spill_now % 2 == 0).unwrap();
                }
                // Interleave reads so that the sorted order is rebuilt.
                prop_assert_eq!(w.get(k).unwrap().map(|v| v.map(|v| v.to_vec())), m.get(k).cloned());
                check(&w, &m, &lo, &hi)?;
            }
            let sizes: u64 = m.iter().map(|(k, v)| (k.len() + v.as_ref().map_or(0, Vec::len)) as u64).sum();
            if !w.is_spilled() {
                prop_assert_eq!(w.size(), sizes);
                let got: Vec<_> = w.in_order().unwrap().into_iter().map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec))).collect();
                prop_assert_eq!(got, m.clone().into_iter().collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn overwrites_reuse_space_and_compact() {
        let mut w = WriteSet::default();
        let big = vec![7u8; 1000];
        for i in 0..10_000u32 {
            let v = if i % 2 == 0 { &big[..] } else { &big[..999] };
            w.insert(b"k", Some(v)).unwrap();
            w.insert(
                &(i % 10).to_be_bytes(),
                Some(&big[..(i as usize % 1000) + 1]),
            )
            .unwrap();
        }
        // Ten keys of up to 1000 bytes, plus garbage of at most the live
        // bytes or the compaction threshold.
        assert!(
            w.mem.arena.len() <= 2 * (11 * 1004) + MIN_COMPACT,
            "{}",
            w.mem.arena.len()
        );
        assert_eq!(w.get(b"k").unwrap().unwrap().unwrap().len(), 999);
    }

    #[test]
    fn many_runs_merge_newest_first() {
        let sp = spill();
        let mut w = WriteSet::default();
        let mut m: Model = BTreeMap::new();
        for round in 0..20u32 {
            for i in 0..500u32 {
                let k = ((i * 7919 + round * 13) % 1000).to_be_bytes();
                let v = (round % 3 != 0).then(|| vec![round as u8; (i % 300) as usize]);
                w.insert(&k, v.as_deref()).unwrap();
                m.insert(k.to_vec(), v);
            }
            w.spill(&sp, round % 2 == 0).unwrap();
        }
        check(&w, &m, &[0, 0, 1], &[0, 0, 3, 0]).unwrap();
        for (k, v) in &m {
            assert_eq!(
                w.get(k).unwrap().map(|v| v.map(|v| v.to_vec())),
                Some(v.clone())
            );
        }
        // Dropping the set gives every extent back and closes the file.
        drop(w);
        assert!(sp.is_idle());
    }

    #[test]
    fn a_damaged_run_is_an_error_not_wrong_data() {
        let vfs = Arc::new(SimVfs::new(3));
        let sp = Arc::new(Spill::new(vfs.clone(), Path::new("/db"), 0, u64::MAX));
        let mut w = WriteSet::default();
        for i in 0..3000u32 {
            w.insert(&i.to_be_bytes(), Some(&[1u8; 100])).unwrap();
        }
        w.spill(&sp, false).unwrap();
        w.runs[0].damage();
        let mut errors = 0;
        for i in 0..3000u32 {
            match w.get(&i.to_be_bytes()) {
                Ok(v) => assert_eq!(v.unwrap().unwrap().as_ref(), &[1u8; 100][..]),
                Err(e) => {
                    assert!(e.to_string().contains("spill file damaged"), "{e}");
                    errors += 1;
                }
            }
        }
        assert!(errors > 0);
        assert!(w.for_each(|_, _| Ok(())).is_err());
    }
}
