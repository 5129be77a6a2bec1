//! The bounded cache of clean pages.
//!
//! Holds pages exactly as they are on disk, already checksummed and
//! validated, so a hit costs an index into an array and a reference count.
//! Dirty pages are not here: the pager owns them until a checkpoint makes
//! them durable and hands them over.
//!
//! Page numbers are dense (`0..page_count`), so the cache is a table
//! indexed by page number rather than a hash map: page `p` lives in shard
//! `p % SHARDS`, at position `p / SHARDS` of that shard's table. Each shard
//! sits behind its own mutex, so readers on different threads rarely meet.
//! Each shard evicts by CLOCK (second chance) over the pages it holds: a
//! hit sets the page's reference bit; the hand clears set bits and evicts
//! the first page whose bit is already clear.

use crate::page::page_header::{PageBuf, PageId};
use parking_lot::Mutex;

const SHARDS: usize = 64;

struct Slot {
    page: PageBuf,
    referenced: bool,
    /// The page's position in its shard's ring, so that removing it needs
    /// no search.
    pos: usize,
}

#[derive(Default)]
struct Shard {
    /// Indexed by `page / SHARDS`.
    table: Vec<Option<Slot>>,
    /// The page numbers held, in CLOCK order.
    ring: Vec<PageId>,
    hand: usize,
}

impl Shard {
    fn slot(&mut self, id: PageId) -> Option<&mut Slot> {
        self.table.get_mut(id as usize / SHARDS)?.as_mut()
    }
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
        let slot = s.slot(id)?;
        slot.referenced = true;
        Some(slot.page.clone())
    }

    pub(crate) fn insert(&self, id: PageId, page: PageBuf) {
        let mut guard = self.shard(id).lock();
        let s = &mut *guard;
        if let Some(slot) = s.slot(id) {
            slot.page = page;
            return;
        }
        let pos = if s.ring.len() >= self.per_shard {
            // Evict: the first page whose reference bit is clear.
            loop {
                let hand = s.hand % s.ring.len();
                let victim = s.ring[hand];
                let slot = s.slot(victim).expect("the ring lists only held pages");
                if slot.referenced {
                    slot.referenced = false;
                    s.hand = hand + 1;
                    continue;
                }
                s.table[victim as usize / SHARDS] = None;
                s.ring[hand] = id;
                s.hand = hand + 1;
                break hand;
            }
        } else {
            s.ring.push(id);
            s.ring.len() - 1
        };
        let at = id as usize / SHARDS;
        if s.table.len() <= at {
            s.table.resize_with(at + 1, || None);
        }
        s.table[at] = Some(Slot {
            page,
            referenced: false,
            pos,
        });
    }

    pub(crate) fn remove(&self, id: PageId) {
        let mut guard = self.shard(id).lock();
        let s = &mut *guard;
        let Some(slot) = s.table.get_mut(id as usize / SHARDS).and_then(Option::take) else {
            return;
        };
        let pos = slot.pos;
        debug_assert_eq!(s.ring.get(pos), Some(&id), "a slot knows its ring position");
        s.ring.swap_remove(pos);
        // The page that took its place now sits at `pos`.
        if let Some(&moved) = s.ring.get(pos)
            && let Some(m) = s.slot(moved)
        {
            m.pos = pos;
        }
        if s.hand >= s.ring.len() {
            s.hand = 0;
        }
    }

    /// About how many pages the cache holds when full.
    pub(crate) fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    /// Number of pages cached (for statistics and tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().ring.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn page(b: u8) -> PageBuf {
        Arc::from(vec![b; 8])
    }

    const S: PageId = SHARDS as PageId;

    /// Random inserts, gets and removes: the ring and the slots' positions
    /// stay in step, and a page is found only if it was inserted since it
    /// was last removed, with its latest bytes.
    #[test]
    fn ring_positions_stay_in_step() {
        let c = PageCache::new(4 * SHARDS);
        let mut latest: std::collections::HashMap<PageId, u8> = Default::default();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let id = (x % 1000) as PageId;
            match (x >> 32) % 3 {
                0 => {
                    c.insert(id, page(step as u8));
                    latest.insert(id, step as u8);
                }
                1 => {
                    c.remove(id);
                    latest.remove(&id);
                }
                _ => {
                    if let Some(p) = c.get(id) {
                        assert_eq!(Some(&p[0]), latest.get(&id), "page {id}");
                    }
                }
            }
        }
        for shard in c.shards.iter() {
            let mut s = shard.lock();
            assert!(s.ring.len() <= c.per_shard);
            for (i, id) in s.ring.clone().into_iter().enumerate() {
                assert_eq!(s.slot(id).map(|slot| slot.pos), Some(i));
            }
            let held = s.table.iter().filter(|t| t.is_some()).count();
            assert_eq!(held, s.ring.len());
        }
    }

    #[test]
    fn bounded_and_second_chance() {
        let c = PageCache::new(SHARDS); // one page per shard
        c.insert(0, page(0));
        assert_eq!(c.get(0).unwrap()[0], 0);
        // Same shard: evicts page 0 even though referenced, because the
        // shard holds only one page (second chance clears, then evicts on
        // the next turn of the hand).
        c.insert(S, page(1));
        assert!(c.get(0).is_none());
        assert_eq!(c.get(S).unwrap()[0], 1);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn clock_keeps_referenced_pages() {
        let c = PageCache::new(2 * SHARDS); // two pages per shard
        c.insert(0, page(0));
        c.insert(S, page(1));
        c.get(0); // referenced
        c.insert(2 * S, page(2)); // evicts S, the unreferenced one
        assert!(c.get(0).is_some());
        assert!(c.get(S).is_none());
        assert!(c.get(2 * S).is_some());
    }

    #[test]
    fn remove_and_replace() {
        let c = PageCache::new(4 * SHARDS);
        for id in [0, S, 2 * S] {
            c.insert(id, page(id as u8));
        }
        c.remove(0);
        assert!(c.get(0).is_none());
        assert_eq!(c.get(2 * S).unwrap()[0], (2 * S) as u8);
        c.insert(S, page(99));
        assert_eq!(c.get(S).unwrap()[0], 99);
        assert_eq!(c.len(), 2);
    }
}
