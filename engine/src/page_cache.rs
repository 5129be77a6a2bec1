//! The bounded cache of clean pages.
//!
//! Holds pages exactly as they are on disk, already checksummed and
//! validated, so a hit costs a hash lookup and a reference count. Dirty
//! pages are not here: the pager owns them until a checkpoint makes them
//! durable and hands them over.
//!
//! The cache is split into shards, each behind its own mutex, so readers on
//! different threads rarely meet. Each shard evicts by CLOCK (second
//! chance): a hit sets the page's reference bit; the hand clears set bits
//! and evicts the first page whose bit is already clear.

use crate::page::{PageBuf, PageId};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const SHARDS: usize = 16;

/// A hasher for page numbers: one multiplication, no SipHash.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by page number.
pub(crate) type IdMap<V> = HashMap<PageId, V, BuildHasherDefault<IdHasher>>;

struct Slot {
    id: PageId,
    page: PageBuf,
    referenced: bool,
}

#[derive(Default)]
struct Shard {
    index: IdMap<usize>,
    slots: Vec<Slot>,
    hand: usize,
}

/// A sharded CLOCK cache of clean pages.
pub(crate) struct PageCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
}

impl PageCache {
    /// A cache of about `capacity` pages (at least one per shard).
    pub(crate) fn new(capacity: usize) -> PageCache {
        PageCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    fn shard(&self, id: PageId) -> &Mutex<Shard> {
        &self.shards[id as usize % SHARDS]
    }

    pub(crate) fn get(&self, id: PageId) -> Option<PageBuf> {
        let mut s = self.shard(id).lock();
        let i = *s.index.get(&id)?;
        let slot = &mut s.slots[i];
        slot.referenced = true;
        Some(slot.page.clone())
    }

    pub(crate) fn insert(&self, id: PageId, page: PageBuf) {
        let mut guard = self.shard(id).lock();
        let s = &mut *guard;
        if let Some(&i) = s.index.get(&id) {
            s.slots[i].page = page;
            return;
        }
        if s.slots.len() < self.per_shard {
            s.index.insert(id, s.slots.len());
            s.slots.push(Slot {
                id,
                page,
                referenced: false,
            });
            return;
        }
        loop {
            let hand = s.hand;
            s.hand = (s.hand + 1) % s.slots.len();
            let slot = &mut s.slots[hand];
            if slot.referenced {
                slot.referenced = false;
                continue;
            }
            let old = slot.id;
            *slot = Slot {
                id,
                page,
                referenced: false,
            };
            s.index.remove(&old);
            s.index.insert(id, hand);
            return;
        }
    }

    pub(crate) fn remove(&self, id: PageId) {
        let mut guard = self.shard(id).lock();
        let s = &mut *guard;
        let Some(i) = s.index.remove(&id) else { return };
        s.slots.swap_remove(i);
        if let Some(moved) = s.slots.get(i) {
            s.index.insert(moved.id, i);
        }
        if s.hand >= s.slots.len() {
            s.hand = 0;
        }
    }

    /// Number of pages cached (for statistics and tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().slots.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn page(b: u8) -> PageBuf {
        Arc::from(vec![b; 8])
    }

    #[test]
    fn bounded_and_second_chance() {
        let c = PageCache::new(SHARDS); // one page per shard
        c.insert(0, page(0));
        assert_eq!(c.get(0).unwrap()[0], 0);
        // Same shard (id % 16 == 0): evicts page 0 even though referenced,
        // because the shard holds only one page (second chance clears, then
        // evicts on the next turn of the hand).
        c.insert(16, page(16));
        assert!(c.get(0).is_none());
        assert_eq!(c.get(16).unwrap()[0], 16);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn clock_keeps_referenced_pages() {
        let c = PageCache::new(2 * SHARDS); // two pages per shard
        c.insert(0, page(0));
        c.insert(16, page(1));
        c.get(0); // referenced
        c.insert(32, page(2)); // evicts 16, the unreferenced one
        assert!(c.get(0).is_some());
        assert!(c.get(16).is_none());
        assert!(c.get(32).is_some());
    }

    #[test]
    fn remove_and_replace() {
        let c = PageCache::new(4 * SHARDS);
        for id in [0, 16, 32] {
            c.insert(id, page(id as u8));
        }
        c.remove(0);
        assert!(c.get(0).is_none());
        assert_eq!(c.get(32).unwrap()[0], 32);
        c.insert(16, page(99));
        assert_eq!(c.get(16).unwrap()[0], 99);
        assert_eq!(c.len(), 2);
    }
}
