//! The B+tree cursor: a position among the entries of a tree, kept between
//! reads of the tree. A range reads through two, one per end
//! (`txn/range.rs`); the catalog loads through one (`catalog.rs`).
//!
//! LEAVES WITHOUT SIBLING POINTERS
//!
//! Under copy-on-write a leaf gets a new page number whenever it is
//! copied, and its neighbours would have to be copied too, just to point
//! at it; so leaves have no sibling pointers. A cursor instead remembers
//! the way down to its leaf, a [`LeafPath`] of (branch page, child index)
//! steps with no heap allocation. To reach the next leaf it climbs that
//! path to the nearest branch with a child further along, and descends
//! that child's outermost edge, skipping empty leaves.
//!
//! SNAPSHOTS AND EPOCHS
//!
//! The cursor keeps its leaf as a snapshot shared by reference count: a
//! clean page's bytes never change, and a writer copies a dirty page that
//! a snapshot shares before it changes it (`Arc::make_mut`). The tree
//! latch is therefore needed only to read a leaf ([`Cursor::load`]), not
//! to step through one ([`Cursor::peek`], [`Cursor::advance`]), and a long
//! scan holds no latch between entries. The caller keeps the table locked,
//! so that the snapshot stays the table's truth while it is read.
//!
//! A path is followed only while every page on it is still what it was:
//! the pager counts an *epoch* up whenever pages may have moved or changed
//! (a writer, a checkpoint, auto-vacuum), and a cursor whose leaf was read
//! in an older epoch seeks again from the root, past a bound its caller
//! gives (the last key it yielded).
//!
//! Every load checks that the new leaf's first entry lies past the bound
//! and past the leaf it follows: a damaged tree cannot make a scan go back
//! or loop.

use crate::error::{Error, Result};
use crate::page::page_header::{PageBuf, PageId, PageType};
use crate::page::pager::{NODE, PageRef, Pages};
use crate::tree::btree::{self, MAX_DEPTH, too_deep};
use crate::tree::node::{self, LeafValue, Span};
use crate::tree::overflow;
use std::ops::Bound;

/// The branch pages above a leaf, with the child taken in each: where a
/// cursor resumes to reach the next leaf without searching from the root.
/// Valid only while no page of the tree moves (the pager's epoch).
#[derive(Clone)]
pub(crate) struct LeafPath {
    steps: [(PageId, u16); MAX_DEPTH],
    depth: usize,
}

impl Default for LeafPath {
    fn default() -> LeafPath {
        LeafPath {
            steps: [(0, 0); MAX_DEPTH],
            depth: 0,
        }
    }
}

impl LeafPath {
    fn push(&mut self, id: PageId, child: usize) -> Result<()> {
        let slot = self.steps.get_mut(self.depth).ok_or_else(|| too_deep(id))?;
        // A child index is at most a node's count, itself a u16.
        *slot = (id, child as u16);
        self.depth += 1;
        Ok(())
    }
}

/// An entry of the leaf under a cursor, as [`Cursor::peek`] finds it:
/// valid until the cursor loads another leaf.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The entry's cell in the leaf.
    index: usize,
    /// Where its key lies in the leaf.
    pub key: Span,
    /// Where its value lies in the leaf, when it is stored there (`None`:
    /// in overflow pages, see [`Cursor::value`]).
    pub value: Option<Span>,
}

/// A position in one tree, moving one way: ascending, or descending with
/// `reverse`. It holds the leaf it is in (a snapshot), how many of that
/// leaf's entries it has passed, and the way down to the leaf.
#[derive(Default)]
pub(crate) struct Cursor {
    reverse: bool,
    leaf: Option<PageBuf>,
    /// Entries of `leaf` passed, counted from this cursor's end.
    taken: usize,
    /// The tree has nothing more this way.
    done: bool,
    path: LeafPath,
    /// The pager's epoch when `leaf` was read.
    epoch: u64,
}

impl Cursor {
    /// A cursor before the first entry (after the last, with `reverse`),
    /// with no leaf read yet.
    pub(crate) fn new(reverse: bool) -> Cursor {
        Cursor {
            reverse,
            ..Cursor::default()
        }
    }

    /// The next entry of the leaf at hand, without moving past it; `None`
    /// when the leaf is used up (see [`Cursor::needs_leaf`]) or the tree
    /// has no more.
    #[inline]
    pub(crate) fn peek(&self) -> Option<Entry> {
        if self.done {
            return None;
        }
        let l = self.leaf.as_deref()?;
        let n = node::count(l);
        if self.taken >= n {
            return None;
        }
        let index = if self.reverse {
            n - 1 - self.taken
        } else {
            self.taken
        };
        let (key, value) = node::leaf_spans(l, index);
        Some(Entry { index, key, value })
    }

    /// Moves past the entry [`Cursor::peek`] returned.
    #[inline]
    pub(crate) fn advance(&mut self) {
        self.taken += 1;
    }

    /// The entries of the leaf at hand not yet passed, and the key of the
    /// farthest of them (the leaf's last, or its first in reverse); `None`
    /// when there are none at hand.
    pub(crate) fn rest(&self) -> Option<(usize, &[u8])> {
        if self.done {
            return None;
        }
        let l = self.leaf.as_deref()?;
        let n = node::count(l);
        let left = n.checked_sub(self.taken).filter(|&r| r > 0)?;
        let far = if self.reverse { 0 } else { n - 1 };
        Some((left, node::key(l, far)))
    }

    /// Moves past `n` entries of the leaf at hand, at most those
    /// [`Cursor::rest`] counts.
    pub(crate) fn advance_by(&mut self, n: usize) {
        debug_assert!(self.rest().is_some_and(|(left, _)| n <= left));
        self.taken += n;
    }

    /// The bytes at `span` of the leaf at hand (a key or an inline value
    /// of an [`Entry`]).
    #[inline]
    pub(crate) fn bytes(&self, span: Span) -> &[u8] {
        &self.leaf.as_deref().unwrap_or(&[])[span]
    }

    /// The key of the entry passed last, while its leaf is at hand.
    pub(crate) fn last_key(&self) -> Option<&[u8]> {
        let l = self.leaf.as_deref()?;
        if self.taken == 0 {
            return None;
        }
        let i = if self.reverse {
            node::count(l) - self.taken
        } else {
            self.taken - 1
        };
        Some(node::key(l, i))
    }

    /// Whether the cursor must read the tree ([`Cursor::load`]) before
    /// [`Cursor::peek`] can answer: no leaf read yet, or the one at hand
    /// used up, and the tree not known to be done.
    #[inline]
    pub(crate) fn needs_leaf(&self) -> bool {
        !self.done
            && self
                .leaf
                .as_ref()
                .is_none_or(|l| self.taken >= node::count(l))
    }

    /// Ends the walk: the caller's other bound lies before the next entry.
    pub(crate) fn finish(&mut self) {
        self.done = true;
    }

    /// Reads the leaf holding the next entry, with the tree latch held:
    /// the leaf after the one at hand if the pager's `epoch` is the one it
    /// was read in, otherwise the leaf found by seeking from `root` to the
    /// first entry past `bound` (the last before it, in reverse). Marks
    /// the walk done when the tree has no more.
    pub(crate) fn load(
        &mut self,
        r: &impl Pages,
        root: PageId,
        epoch: u64,
        bound: Bound<&[u8]>,
    ) -> Result<()> {
        let resume = self.leaf.is_some() && self.epoch == epoch;
        self.epoch = epoch;
        let found = if resume {
            next_leaf(r, &mut self.path, self.reverse)?.map(|(leaf, id)| {
                let first = if self.reverse {
                    node::count(&leaf) - 1
                } else {
                    0
                };
                (leaf, id, first)
            })
        } else {
            seek(r, root, bound, self.reverse, &mut self.path)?
        };
        let Some((leaf, id, pos)) = found else {
            self.done = true;
            return Ok(());
        };
        let first = node::key(&leaf, pos);
        let past_bound = if self.reverse {
            below(first, bound)
        } else {
            above(first, bound)
        };
        let past_leaf = match self.leaf.as_deref().filter(|_| resume) {
            Some(old) if node::count(old) > 0 => {
                if self.reverse {
                    first < node::key(old, 0)
                } else {
                    first > node::key(old, node::count(old) - 1)
                }
            }
            _ => true,
        };
        if !(past_bound && past_leaf) {
            return Err(Error::corrupt_page(id, "keys out of order across pages"));
        }
        self.taken = if self.reverse {
            node::count(&leaf) - 1 - pos
        } else {
            pos
        };
        self.leaf = Some(leaf);
        Ok(())
    }

    /// The value of entry `e` of the leaf at hand: borrowed from the leaf
    /// when it is stored there, otherwise read from its overflow chain
    /// through `r` into `buf`. If compaction rewrote chains since the leaf
    /// was read, the chain the leaf names may be gone: the value is then
    /// looked up again from `root`.
    pub(crate) fn value<'a>(
        &'a self,
        r: &impl Pages,
        root: PageId,
        e: &Entry,
        buf: &'a mut Vec<u8>,
    ) -> Result<&'a [u8]> {
        let leaf = self.leaf.as_deref().unwrap_or(&[]);
        match node::value(leaf, e.index) {
            LeafValue::Inline(v) => Ok(v),
            LeafValue::Overflow { .. } if r.chains_moved_since(self.epoch) => {
                buf.clear();
                match btree::get(r, root, &leaf[e.key.clone()])? {
                    Some(found) => buf.extend_from_slice(found.bytes()),
                    None => {
                        return Err(Error::corrupt_page(
                            root,
                            "a key read by a scan is gone from its tree",
                        ));
                    }
                }
                Ok(buf)
            }
            LeafValue::Overflow { first, len } => {
                buf.clear();
                overflow::read(r, first, len, buf)?;
                Ok(buf)
            }
        }
    }

    /// The next entry, reading leaves through `r` as needed: for a caller
    /// that holds the tree latch for the whole walk (the catalog's load).
    pub(crate) fn next(&mut self, r: &impl Pages, root: PageId) -> Result<Option<Entry>> {
        if self.needs_leaf() {
            self.load(r, root, self.epoch, Bound::Unbounded)?;
        }
        let e = self.peek();
        if e.is_some() {
            self.advance();
        }
        Ok(e)
    }
}

/// Whether `k` lies at or after the lower bound `lo`.
#[inline]
pub(crate) fn above(k: &[u8], lo: Bound<&[u8]>) -> bool {
    match lo {
        Bound::Included(a) => k >= a,
        Bound::Excluded(a) => k > a,
        Bound::Unbounded => true,
    }
}

/// Whether `k` lies at or before the upper bound `hi`.
#[inline]
pub(crate) fn below(k: &[u8], hi: Bound<&[u8]>) -> bool {
    match hi {
        Bound::Included(b) => k <= b,
        Bound::Excluded(b) => k < b,
        Bound::Unbounded => true,
    }
}

/// A page the tree latch lends, as a snapshot the caller may keep after
/// the latch is released.
fn snapshot(p: PageRef<'_>) -> PageBuf {
    match p {
        PageRef::Shared(buf) => buf,
        PageRef::Held(buf) => buf.clone(),
        PageRef::Borrowed(b) => PageBuf::from(b),
    }
}

/// In leaf `p`, the index of the first entry past `bound` (the last entry
/// before it, with `reverse`); `count` or -1 when the leaf has none.
fn leaf_pos(p: &[u8], bound: Bound<&[u8]>, reverse: bool) -> isize {
    let n = node::count(p) as isize;
    match (bound, reverse) {
        (Bound::Unbounded, false) => 0,
        (Bound::Unbounded, true) => n - 1,
        (Bound::Included(k), false) => match node::search(p, k) {
            Ok(i) | Err(i) => i as isize,
        },
        (Bound::Excluded(k), false) => match node::search(p, k) {
            Ok(i) => i as isize + 1,
            Err(i) => i as isize,
        },
        (Bound::Included(k), true) => match node::search(p, k) {
            Ok(i) => i as isize,
            Err(i) => i as isize - 1,
        },
        (Bound::Excluded(k), true) => match node::search(p, k) {
            Ok(i) | Err(i) => i as isize - 1,
        },
    }
}

/// The leaf holding the first entry past `bound` (the last before it,
/// with `reverse`), its page number, and that entry's index; `path` is
/// left leading to it. `None` if no entry lies there.
fn seek(
    r: &impl Pages,
    root: PageId,
    bound: Bound<&[u8]>,
    reverse: bool,
    path: &mut LeafPath,
) -> Result<Option<(PageBuf, PageId, usize)>> {
    path.depth = 0;
    if root == 0 {
        return Ok(None);
    }
    let mut id = root;
    let (leaf, pos): (PageRef<'_>, isize) = loop {
        let p = r.read(id, NODE)?;
        if node::is_leaf(&p) {
            let pos = leaf_pos(&p, bound, reverse);
            break (p, pos);
        }
        let idx = match bound {
            Bound::Unbounded if reverse => node::count(&p),
            Bound::Unbounded => 0,
            Bound::Included(k) | Bound::Excluded(k) => node::child_index(&p, k),
        };
        path.push(id, idx)?;
        id = node::child(&p, idx);
    };
    if (0..node::count(&leaf) as isize).contains(&pos) {
        return Ok(Some((snapshot(leaf), id, pos as usize)));
    }
    // Past the end of this leaf: the entry is the first of the next one.
    Ok(next_leaf(r, path, reverse)?.map(|(leaf, id)| {
        let n = node::count(&leaf);
        (leaf, id, if reverse { n - 1 } else { 0 })
    }))
}

/// The first non-empty leaf after the one `path` leads to (before it, with
/// `reverse`), and its page number, leaving `path` leading to it; `None`
/// at the end of the tree.
fn next_leaf(
    r: &impl Pages,
    path: &mut LeafPath,
    reverse: bool,
) -> Result<Option<(PageBuf, PageId)>> {
    loop {
        // Up to the nearest branch with a child left on this side.
        let mut id = loop {
            if path.depth == 0 {
                return Ok(None);
            }
            let (branch, idx) = &mut path.steps[path.depth - 1];
            let p = r.read(*branch, &[PageType::Branch])?;
            let next = if reverse {
                idx.checked_sub(1)
            } else {
                Some(*idx + 1).filter(|&i| usize::from(i) <= node::count(&p))
            };
            match next {
                Some(i) => {
                    *idx = i;
                    break node::child(&p, usize::from(i));
                }
                None => path.depth -= 1,
            }
        };
        // Down its outermost children to a leaf.
        loop {
            let p = r.read(id, NODE)?;
            if node::is_leaf(&p) {
                if node::count(&p) > 0 {
                    return Ok(Some((snapshot(p), id)));
                }
                break;
            }
            let idx = if reverse { node::count(&p) } else { 0 };
            path.push(id, idx)?;
            id = node::child(&p, idx);
        }
    }
}
