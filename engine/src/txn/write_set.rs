//! A transaction's private writes to one table.
//!
//! Puts and deletes are appended to an arena (keys and values side by
//! side, one allocation growing in place) and indexed by a hash of the key
//! for the transaction's own point reads. Key order is needed only for
//! range reads and at commit; it is computed then, by sorting the entries
//! once, and kept until a new key arrives (a new value for a key already
//! written does not change the order). A bulk load of a million keys thus
//! costs a million appends and one sort, not a million ordered-map
//! insertions with an allocation each.

use crate::base::hash::FastMap;
use crate::base::hash::key_hash;
use std::cell::RefCell;
use std::ops::Bound;

const NONE: u32 = u32::MAX;

/// One key written, and its latest value (`None`: deleted).
#[derive(Clone, Copy)]
struct Entry {
    key: (usize, usize),
    value: Option<(usize, usize)>,
    /// The next entry whose key hashes alike.
    next: u32,
}

/// A table's private writes.
#[derive(Default)]
pub(crate) struct WriteSet {
    arena: Vec<u8>,
    entries: Vec<Entry>,
    /// Key hash to the first entry of its chain.
    heads: FastMap<u64, u32>,
    /// Entry numbers in key order, while no new key has arrived.
    sorted: RefCell<Option<Vec<u32>>>,
}

impl WriteSet {
    fn bytes(&self, (at, len): (usize, usize)) -> &[u8] {
        &self.arena[at..at + len]
    }

    fn key_of(&self, e: u32) -> &[u8] {
        self.bytes(self.entries[e as usize].key)
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

    fn push(&mut self, bytes: &[u8]) -> (usize, usize) {
        let at = self.arena.len();
        self.arena.extend_from_slice(bytes);
        (at, bytes.len())
    }

    /// Records `value` (or a delete) under `key`.
    pub(crate) fn insert(&mut self, key: &[u8], value: Option<&[u8]>) {
        let hash = key_hash(key);
        let value = value.map(|v| self.push(v));
        if let Some(e) = self.find(key, hash) {
            self.entries[e as usize].value = value;
            return;
        }
        let key = self.push(key);
        let next = self.heads.get(&hash).copied().unwrap_or(NONE);
        self.heads.insert(hash, self.entries.len() as u32);
        self.entries.push(Entry { key, value, next });
        *self.sorted.get_mut() = None;
    }

    /// The transaction's own write of `key`: `Some(None)` for a delete,
    /// `None` if it did not write it.
    pub(crate) fn get(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        let e = self.find(key, key_hash(key))?;
        Some(self.entries[e as usize].value.map(|v| self.bytes(v)))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Runs `f` on the entry numbers in key order.
    fn with_sorted<T>(&self, f: impl FnOnce(&[u32]) -> T) -> T {
        let mut sorted = self.sorted.borrow_mut();
        let order = sorted.get_or_insert_with(|| {
            // Sort by each key's first 8 bytes as an integer, which decides
            // nearly every comparison without touching the arena; ties
            // compare whole keys.
            let prefix = |k: &[u8]| {
                let mut p = [0u8; 8];
                let n = k.len().min(8);
                p[..n].copy_from_slice(&k[..n]);
                u64::from_be_bytes(p)
            };
            let mut v: Vec<(u64, u32)> = (0..self.entries.len() as u32)
                .map(|e| (prefix(self.key_of(e)), e))
                .collect();
            v.sort_unstable_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| self.key_of(a.1).cmp(self.key_of(b.1)))
            });
            v.into_iter().map(|(_, e)| e).collect()
        });
        f(order)
    }

    /// Every write in key order, as `(key, value)` (`None`: a delete).
    pub(crate) fn in_order(&self) -> Vec<(&[u8], Option<&[u8]>)> {
        self.with_sorted(|order| {
            order
                .iter()
                .map(|&e| {
                    let en = &self.entries[e as usize];
                    (self.bytes(en.key), en.value.map(|v| self.bytes(v)))
                })
                .collect()
        })
    }

    /// The first (or, with `reverse`, the last) write whose key lies
    /// between `lo` and `hi`, as `(key, value)` (`None`: a delete).
    pub(crate) fn edge(
        &self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
    ) -> Option<(&[u8], Option<&[u8]>)> {
        self.with_sorted(|order| {
            // First position whose key is past the lower bound, and first
            // past the upper bound.
            let start = order.partition_point(|&e| match lo {
                Bound::Included(l) => self.key_of(e) < l,
                Bound::Excluded(l) => self.key_of(e) <= l,
                Bound::Unbounded => false,
            });
            let end = order.partition_point(|&e| match hi {
                Bound::Included(h) => self.key_of(e) <= h,
                Bound::Excluded(h) => self.key_of(e) < h,
                Bound::Unbounded => true,
            });
            if start >= end {
                return None;
            }
            let e = order[if reverse { end - 1 } else { start }];
            let en = &self.entries[e as usize];
            Some((self.bytes(en.key), en.value.map(|v| self.bytes(v))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn owned(e: Option<(&[u8], Option<&[u8]>)>) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
        e.map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec)))
    }

    proptest! {
        #[test]
        fn behaves_like_an_ordered_map(
            ops in proptest::collection::vec((proptest::collection::vec(0u8..4, 0..4), proptest::option::of(any::<u8>())), 0..60),
            lo in proptest::collection::vec(0u8..4, 0..3),
            hi in proptest::collection::vec(0u8..4, 0..3),
        ) {
            let mut w = WriteSet::default();
            let mut m: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
            for (k, v) in &ops {
                let v = v.map(|b| vec![b; b as usize % 5]);
                w.insert(k, v.as_deref());
                m.insert(k.clone(), v);
                // Interleave reads so that the sorted order is rebuilt.
                prop_assert_eq!(w.get(k).map(|v| v.map(<[u8]>::to_vec)), m.get(k).cloned());
                let want = m.range::<[u8], _>((Bound::Included(&lo[..]), Bound::Unbounded)).next().map(|(k, v)| (k.clone(), v.clone()));
                prop_assert_eq!(owned(w.edge(Bound::Included(&lo), Bound::Unbounded, false)), want);
            }
            let got: Vec<(Vec<u8>, Option<Vec<u8>>)> = w.in_order().into_iter().map(|(k, v)| (k.to_vec(), v.map(<[u8]>::to_vec))).collect();
            let want: Vec<(Vec<u8>, Option<Vec<u8>>)> = m.clone().into_iter().collect();
            prop_assert_eq!(got, want);
            if lo <= hi {
                let want = m.range::<[u8], _>((Bound::Excluded(&lo[..]), Bound::Included(&hi[..]))).next_back().map(|(k, v)| (k.clone(), v.clone()));
                prop_assert_eq!(owned(w.edge(Bound::Excluded(&lo), Bound::Included(&hi), true)), want);
            }
            prop_assert_eq!(w.get(b"missing-key"), None);
        }
    }
}
