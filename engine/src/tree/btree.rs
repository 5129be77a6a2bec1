//! The B+tree: ordered keys to values over pages the pager hands out.
//!
//! The tree knows nothing of files or logs; it reads pages through
//! [`Pages`] and changes them through [`PagesMut`], which copies a page on
//! its first change after a checkpoint. Every change therefore walks down
//! from the root making each page on the path writable, and a page's
//! number may change on the way: the parent is re-pointed, and the new root
//! is returned to the caller (the catalog keeps it).
//!
//! A tree is named by its root page; root 0 is the empty tree (no pages).
//!
//! INVARIANTS (checked by `db/check.rs`)
//!
//! 1. Keys within a node strictly increase; every key in child `i` of a
//!    branch lies in `[key i-1, key i)` of that branch (bounds inherited
//!    from above).
//! 2. Every leaf is at the same depth.
//! 3. No node but the root is empty; a root branch has at least one key; a
//!    root leaf is never empty (an emptied tree becomes root 0).
//! 4. A leaf value is inline iff `key + value <= inline_limit`; otherwise
//!    it lives in an overflow chain owned by exactly that cell.
//!
//! BALANCE
//!
//! Inserting into a full node splits it by bytes into two halves, except
//! at the ends: an insert past the last key keeps the old node whole and
//! starts a new one (so sequential loads fill pages completely), and
//! likewise before the first key. A node left under a third full by a
//! delete merges with a sibling when both fit in one page, and otherwise
//! takes cells from it until the two are balanced. A separator that grows
//! in that exchange may split the parent, so deletes, like inserts, can
//! push a split up to the root.

use crate::error::{Error, Result};
use crate::page::page_header::{FIRST_DATA_PAGE, PageBuf, PageId, PageType, page_type};
use crate::page::pager::{NODE, PageRef, Pager, Pages, PagesMut};
use crate::storage::StorageFile;
use crate::tree::node::{self, LeafValue};
use crate::tree::overflow;

/// A deeper tree than this can only come from a damaged file (a loop of
/// child pointers): every branch has at least two children, so 2^32 pages
/// fit in far fewer levels.
pub(crate) const MAX_DEPTH: usize = 40;

/// Leaf cells up to this many bytes are built on the stack by `insert`.
const SMALL_CELL: usize = 512;

/// A node split: the separator and the new right sibling.
type Split = Option<(Vec<u8>, PageId)>;

/// Where [`insert`] and [`delete`] hand the value a key held before they
/// change it (`None`: the key was absent), if the caller wants it: the
/// before-images that snapshots read (`store/versions.rs`). Found on the
/// change's own way down, it costs no second descent.
pub(crate) type Old<'a> = Option<&'a mut dyn FnMut(Option<&[u8]>)>;

/// The error for a walk that went deeper than [`MAX_DEPTH`].
pub(crate) fn too_deep(id: PageId) -> Error {
    Error::corrupt_page(id, "tree deeper than any valid tree: a child pointer loops")
}

fn underflows(p: &[u8]) -> bool {
    node::used(p) < node::usable(p.len()) / 3
}

/// Copies out the value of leaf cell `i`.
fn load_value(r: &impl Pages, p: &[u8], i: usize) -> Result<Vec<u8>> {
    match node::value(p, i) {
        LeafValue::Inline(v) => Ok(v.to_vec()),
        LeafValue::Overflow { first, len } => {
            let mut out = Vec::new();
            overflow::read(r, first, len, &mut out)?;
            Ok(out)
        }
    }
}

/// Descends from `root` to the leaf whose key range holds `key`, and
/// returns it with `key`'s place in it: `Ok(i)` if cell `i` holds `key`,
/// `Err(i)` where it would go. `None` for the empty tree.
fn descend<'r>(
    r: &'r impl Pages,
    root: PageId,
    key: &[u8],
) -> Result<Option<(PageRef<'r>, std::result::Result<usize, usize>)>> {
    if root == 0 {
        return Ok(None);
    }
    let mut id = root;
    for _ in 0..MAX_DEPTH {
        let p = r.read(id, NODE)?;
        if node::is_leaf(&p) {
            let at = node::search(&p, key);
            return Ok(Some((p, at)));
        }
        id = node::child(&p, node::child_index(&p, key));
    }
    Err(too_deep(id))
}

/// A value [`get`] found.
pub(crate) enum Found {
    /// Inline in cell `.1` of a leaf, shared by reference count: a clean
    /// page's bytes never change, and a writer copies a dirty page that is
    /// shared before it changes it.
    Leaf(PageBuf, usize),
    /// Copied out (a leaf the pager only lends, or an overflow chain).
    Owned(Vec<u8>),
}

impl Found {
    /// The value's bytes, where they lie.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Found::Leaf(l, i) => match node::value(l, *i) {
                LeafValue::Inline(v) => v,
                LeafValue::Overflow { .. } => &[],
            },
            Found::Owned(v) => v,
        }
    }

    /// The value, copied out if it is not already.
    pub(crate) fn into_vec(self) -> Vec<u8> {
        match self {
            Found::Owned(v) => v,
            leaf => leaf.bytes().to_vec(),
        }
    }
}

/// The value stored under `key`, if any. An inline value is left in its
/// leaf, so that the caller can read it after the tree latch is released
/// without a copy; a value in overflow pages is read out.
pub(crate) fn get(r: &impl Pages, root: PageId, key: &[u8]) -> Result<Option<Found>> {
    let Some((p, Ok(i))) = descend(r, root, key)? else {
        return Ok(None);
    };
    Ok(Some(match p {
        PageRef::Shared(buf) if matches!(node::value(&buf, i), LeafValue::Inline(_)) => {
            Found::Leaf(buf, i)
        }
        PageRef::Held(buf) if matches!(node::value(buf, i), LeafValue::Inline(_)) => {
            Found::Leaf(buf.clone(), i)
        }
        p => Found::Owned(load_value(r, &p, i)?),
    }))
}

/// Whether `key` is stored (reading no value).
pub(crate) fn contains(r: &impl Pages, root: PageId, key: &[u8]) -> Result<bool> {
    Ok(matches!(descend(r, root, key)?, Some((_, Ok(_)))))
}

/// Stores `value` under `key`, replacing any old value, which it hands to
/// `old` first, and returns the new root. Key and value lengths are the
/// caller's to check.
pub(crate) fn insert(
    w: &mut impl PagesMut,
    root: PageId,
    key: &[u8],
    value: &[u8],
    old: Old<'_>,
) -> Result<PageId> {
    let page_size = w.page_size();
    let stored = if key.len() + value.len() <= node::inline_limit(page_size) {
        LeafValue::Inline(value)
    } else {
        LeafValue::Overflow {
            first: overflow::write(w, value)?,
            len: value.len() as u32,
        }
    };
    // Most cells are small: built on the stack, in a buffer small enough
    // that zeroing it costs nothing; a larger one (up to a quarter of the
    // largest page plus headers) in an allocation of its own size.
    let len = node::leaf_cell_len(key.len(), &stored);
    let mut small = [0u8; SMALL_CELL];
    let mut large = Vec::new();
    let buf: &mut [u8] = if len <= SMALL_CELL {
        &mut small
    } else {
        large.resize(len, 0);
        &mut large
    };
    let cell = node::write_leaf_cell(buf, key, &stored);
    if root == 0 {
        if let Some(old) = old {
            old(None);
        }
        let id = w.alloc(PageType::Leaf)?;
        let p = w.page_mut(id);
        node::init(p, PageType::Leaf);
        node::insert_cell(p, 0, cell);
        return Ok(id);
    }
    let root = w.writable(root, NODE)?;
    let split = insert_rec(
        w,
        root,
        key,
        cell,
        Edges {
            left: true,
            right: true,
        },
        0,
        old,
    )?;
    grow(w, root, split)
}

/// Puts a new root above `root` if it split.
fn grow(w: &mut impl PagesMut, root: PageId, split: Split) -> Result<PageId> {
    let Some((sep, right)) = split else {
        return Ok(root);
    };
    let id = w.alloc(PageType::Branch)?;
    let mut cell = Vec::new();
    node::encode_branch_cell(&mut cell, &sep, right);
    let p = w.page_mut(id);
    node::build(p, PageType::Branch, root, [&cell[..]]);
    Ok(id)
}

/// Whether a node lies on the tree's left or right edge. A full node on
/// the right edge that is appended to splits unevenly, leaving the old node
/// full: sequential inserts then fill every page (and likewise on the left
/// for descending inserts).
#[derive(Clone, Copy)]
struct Edges {
    left: bool,
    right: bool,
}

const INTERIOR: Edges = Edges {
    left: false,
    right: false,
};

fn insert_rec(
    w: &mut impl PagesMut,
    id: PageId,
    key: &[u8],
    cell: &[u8],
    edges: Edges,
    depth: usize,
    old: Old<'_>,
) -> Result<Split> {
    if depth >= MAX_DEPTH {
        return Err(too_deep(id));
    }
    let p = w.page_mut(id);
    if node::is_leaf(p) {
        return match node::search(p, key) {
            Ok(i) => {
                match node::value(p, i) {
                    LeafValue::Inline(v) => {
                        if let Some(old) = old {
                            old(Some(v));
                        }
                    }
                    LeafValue::Overflow { first, len } => {
                        if let Some(old) = old {
                            let mut v = Vec::new();
                            overflow::read(w, first, len, &mut v)?;
                            old(Some(&v));
                        }
                        overflow::free(w, first, len)?;
                    }
                }
                put_cell(w, id, i, cell, true, INTERIOR)
            }
            Err(i) => {
                if let Some(old) = old {
                    old(None);
                }
                put_cell(w, id, i, cell, false, edges)
            }
        };
    }
    let idx = node::child_index(p, key);
    let child_edges = Edges {
        left: edges.left && idx == 0,
        right: edges.right && idx == node::count(p),
    };
    let child = writable_child(w, id, idx)?;
    match insert_rec(w, child, key, cell, child_edges, depth + 1, old)? {
        None => Ok(None),
        Some((sep, right)) => {
            let mut bc = Vec::with_capacity(6 + sep.len());
            node::encode_branch_cell(&mut bc, &sep, right);
            put_cell(w, id, idx, &bc, false, edges)
        }
    }
}

/// Makes child `idx` of writable branch `parent` writable and re-points
/// the parent at it.
fn writable_child(w: &mut impl PagesMut, parent: PageId, idx: usize) -> Result<PageId> {
    let old = node::child(w.page_mut(parent), idx);
    let new = w.writable(old, NODE)?;
    if new != old {
        node::set_child(w.page_mut(parent), idx, new);
    }
    Ok(new)
}

/// Inserts (or, with `replace`, overwrites) cell `i` of writable node `id`,
/// splitting the node if it does not fit.
fn put_cell(
    w: &mut impl PagesMut,
    id: PageId,
    i: usize,
    cell: &[u8],
    replace: bool,
    edges: Edges,
) -> Result<Split> {
    let p = w.page_mut(id);
    let fits = if replace {
        node::replace_cell(p, i, cell)
    } else {
        node::insert_cell(p, i, cell)
    };
    if fits {
        return Ok(None);
    }
    let leaf = node::is_leaf(p);
    let old_n = node::count(p);
    let leftmost = if leaf { 0 } else { node::child(p, 0) };
    // One copy of the page, and the cells as slices of it: no allocation
    // per cell.
    let old = p.to_vec();
    let mut cells: Vec<&[u8]> = (0..old_n).map(|j| node::cell(&old, j)).collect();
    if replace {
        cells[i] = cell;
    } else {
        cells.insert(i, cell);
    }
    let page_size = old.len();
    if leaf {
        let at = if !replace && edges.right && i == old_n {
            cells.len() - 1
        } else if !replace && edges.left && i == 0 {
            1
        } else {
            balanced_split(&cells, page_size, 0)
        };
        let (l, r) = cells.split_at(at);
        let sep = node::shortest_separator(
            node::cell_key(l[l.len() - 1], true),
            node::cell_key(r[0], true),
        );
        node::build(w.page_mut(id), PageType::Leaf, 0, l.iter().map(|c| &c[..]));
        let right = w.alloc(PageType::Leaf)?;
        node::build(
            w.page_mut(right),
            PageType::Leaf,
            0,
            r.iter().map(|c| &c[..]),
        );
        Ok(Some((sep, right)))
    } else {
        // The middle cell moves up; its child becomes the right node's
        // leftmost child.
        let m = if !replace && edges.right && i == old_n {
            cells.len() - 2
        } else if !replace && edges.left && i == 0 {
            1
        } else {
            balanced_split(&cells, page_size, 1)
        };
        let sep = node::cell_key(cells[m], false).to_vec();
        let right_left = node::branch_cell_child(cells[m]);
        node::build(
            w.page_mut(id),
            PageType::Branch,
            leftmost,
            cells[..m].iter().map(|c| &c[..]),
        );
        let right = w.alloc(PageType::Branch)?;
        node::build(
            w.page_mut(right),
            PageType::Branch,
            right_left,
            cells[m + 1..].iter().map(|c| &c[..]),
        );
        Ok(Some((sep, right)))
    }
}

/// The index at which to divide `cells` so that the bytes on each side are
/// as even as possible and both sides fit a page. `promote` is 1 for a
/// branch, whose dividing cell moves to the parent and belongs to neither
/// side, and 0 for a leaf.
fn balanced_split<C: AsRef<[u8]>>(cells: &[C], page_size: usize, promote: usize) -> usize {
    let usable = node::usable(page_size);
    let total: usize = cells.iter().map(|c| node::cost(c.as_ref().len())).sum();
    let mut best = 1;
    let mut best_diff = usize::MAX;
    let mut left = 0;
    for (at, c) in cells.iter().enumerate() {
        if at >= 1 && at + promote < cells.len() {
            let right = total
                - left
                - if promote == 1 {
                    node::cost(c.as_ref().len())
                } else {
                    0
                };
            if left <= usable && right <= usable {
                let diff = left.abs_diff(right);
                if diff < best_diff {
                    best = at;
                    best_diff = diff;
                }
            }
        }
        left += node::cost(c.as_ref().len());
    }
    best
}

/// Removes `key`, handing its value to `old` first, and returns the new
/// root and whether the key was there.
pub(crate) fn delete(
    w: &mut impl PagesMut,
    root: PageId,
    key: &[u8],
    old: Old<'_>,
) -> Result<(PageId, bool)> {
    // Look first, read-only: a miss must not copy the path. A hit then
    // follows the way the look recorded, without searching again.
    let Some(way) = find_way(w, root, key, old)? else {
        return Ok((root, false));
    };
    let mut root = w.writable(root, NODE)?;
    let split = delete_rec(w, root, key, &way, 0)?;
    root = grow(w, root, split)?;
    // Shrink: an emptied root leaf frees the tree, a root branch without
    // keys hands the root to its only child (btree invariant 3).
    loop {
        let p = w.page_mut(root);
        if node::count(p) > 0 {
            return Ok((root, true));
        }
        let next = if node::is_leaf(p) {
            0
        } else {
            node::child(p, 0)
        };
        w.free(root);
        if next == 0 {
            return Ok((0, true));
        }
        root = w.writable(next, NODE)?;
    }
}

/// The way from the root to the cell holding a key: the child taken at
/// each branch, and the cell in the leaf. Copy-on-write moves pages but
/// keeps their bytes, so the indices stay true while the path is made
/// writable and until the change below each branch returns.
struct Way {
    /// Child indices: a node counts its cells in 16 bits (`node.rs`).
    child: [u16; MAX_DEPTH],
    cell: usize,
}

/// Descends read-only to `key` and records the way, handing `old` the
/// value found (or `None`); `None` if the key is not stored.
fn find_way(r: &impl Pages, root: PageId, key: &[u8], mut old: Old<'_>) -> Result<Option<Way>> {
    let mut way = Way {
        child: [0; MAX_DEPTH],
        cell: 0,
    };
    let mut id = root;
    let mut found = None;
    if root != 0 {
        for depth in 0..=MAX_DEPTH {
            if depth == MAX_DEPTH {
                return Err(too_deep(id));
            }
            let p = r.read(id, NODE)?;
            if node::is_leaf(&p) {
                if let Ok(i) = node::search(&p, key) {
                    if let Some(old) = old.take() {
                        match node::value(&p, i) {
                            LeafValue::Inline(v) => old(Some(v)),
                            LeafValue::Overflow { .. } => old(Some(&load_value(r, &p, i)?)),
                        }
                    }
                    way.cell = i;
                    found = Some(way);
                }
                break;
            }
            let idx = node::child_index(&p, key);
            way.child[depth] = idx as u16;
            id = node::child(&p, idx);
        }
    }
    if let Some(old) = old {
        old(None); // not found: not handed a value above
    }
    Ok(found)
}

fn delete_rec(
    w: &mut impl PagesMut,
    id: PageId,
    key: &[u8],
    way: &Way,
    depth: usize,
) -> Result<Split> {
    if depth >= MAX_DEPTH {
        return Err(too_deep(id));
    }
    let p = w.page_mut(id);
    if node::is_leaf(p) {
        debug_assert!(
            node::key(p, way.cell) == key,
            "the way find_way recorded leads to the key"
        );
        if let LeafValue::Overflow { first, len } = node::value(p, way.cell) {
            overflow::free(w, first, len)?;
        }
        node::remove_cell(w.page_mut(id), way.cell);
        return Ok(None);
    }
    let idx = usize::from(way.child[depth]);
    let child = writable_child(w, id, idx)?;
    if let Some((sep, right)) = delete_rec(w, child, key, way, depth + 1)? {
        let mut bc = Vec::new();
        node::encode_branch_cell(&mut bc, &sep, right);
        return put_cell(w, id, idx, &bc, false, INTERIOR);
    }
    if underflows(w.page_mut(child)) {
        return rebalance(w, id, idx);
    }
    Ok(None)
}

/// Child `idx` of writable branch `parent` is under a third full: merge it
/// with a sibling, or even the two out.
fn rebalance(w: &mut impl PagesMut, parent: PageId, idx: usize) -> Result<Split> {
    let n = node::count(w.page_mut(parent));
    if n == 0 {
        return Ok(None); // an only child: its parent will be merged or collapsed
    }
    let li = if idx > 0 { idx - 1 } else { 0 }; // left child; separator is cell li
    let left = writable_child(w, parent, li)?;
    let right = writable_child(w, parent, li + 1)?;
    let page_size = w.page_size();
    let usable = node::usable(page_size);
    let sep = node::key(w.page_mut(parent), li).to_vec();
    let leaf = node::is_leaf(w.page_mut(left));
    let r_page = w.page_mut(right);
    let r_cells = node::cells(r_page);
    let r_left = if leaf { 0 } else { node::child(r_page, 0) };
    let r_used = node::used(r_page);
    let l_page = w.page_mut(left);
    let l_used = node::used(l_page);

    // The separator comes down into a merged branch, with the right node's
    // leftmost child.
    let mut down = Vec::new();
    if !leaf {
        node::encode_branch_cell(&mut down, &sep, r_left);
    }
    let merged = l_used + r_used + if leaf { 0 } else { node::cost(down.len()) };
    if merged <= usable {
        let mut at = node::count(l_page);
        if !leaf {
            node::insert_cell(l_page, at, &down);
            at += 1;
        }
        for c in &r_cells {
            let ok = node::insert_cell(l_page, at, c);
            debug_assert!(ok, "merge was sized to fit");
            at += 1;
        }
        node::remove_cell(w.page_mut(parent), li);
        w.free(right);
        return Ok(None);
    }

    // Even out: all cells of both, divided by bytes.
    let l_left = if leaf { 0 } else { node::child(l_page, 0) };
    let mut all = node::cells(l_page);
    if !leaf {
        all.push(down);
    }
    all.extend(r_cells);
    let (new_sep, l_cells, r_cells, right_leftmost) = if leaf {
        let at = balanced_split(&all, page_size, 0);
        let s = node::shortest_separator(
            node::cell_key(&all[at - 1], true),
            node::cell_key(&all[at], true),
        );
        (s, &all[..at], &all[at..], 0)
    } else {
        let m = balanced_split(&all, page_size, 1);
        (
            node::cell_key(&all[m], false).to_vec(),
            &all[..m],
            &all[m + 1..],
            node::branch_cell_child(&all[m]),
        )
    };
    let ty = if leaf {
        PageType::Leaf
    } else {
        PageType::Branch
    };
    node::build(w.page_mut(left), ty, l_left, l_cells.iter().map(|c| &c[..]));
    node::build(
        w.page_mut(right),
        ty,
        right_leftmost,
        r_cells.iter().map(|c| &c[..]),
    );
    let mut pc = Vec::new();
    node::encode_branch_cell(&mut pc, &new_sep, right);
    put_cell(w, parent, li, &pc, true, INTERIOR)
}

/// What [`relocate`] moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Tree nodes only: reads the branch pages and only the leaves it
    /// moves (the auto-vacuum of checkpoints, which must stay short).
    Nodes,
    /// Tree nodes and overflow chains: reads every leaf, to find the
    /// chains (compaction).
    All,
}

/// Moves every node of the tree at `root` numbered `limit` or above to a
/// lower free page number, where one is free, and returns the new root.
/// With [`Reach::All`], also rewrites every overflow chain with a page at
/// `limit` or above into the lowest free pages. Used by checkpoints to let
/// the file's tail go.
pub(crate) fn relocate(
    w: &mut impl PagesMut,
    root: PageId,
    limit: PageId,
    reach: Reach,
) -> Result<PageId> {
    if root == 0 {
        return Ok(0);
    }
    let mut height = 0;
    let mut id = root;
    loop {
        let p = w.read(id, NODE)?;
        if node::is_leaf(&p) {
            break;
        }
        id = node::child(&p, 0);
        height += 1;
        if height >= MAX_DEPTH {
            return Err(too_deep(id));
        }
    }
    relocate_rec(w, root, limit, height, reach)
}

fn relocate_rec(
    w: &mut impl PagesMut,
    id: PageId,
    limit: PageId,
    height: usize,
    reach: Reach,
) -> Result<PageId> {
    let mut id = if id >= limit {
        w.relocate(id, NODE)?
    } else {
        id
    };
    if height == 0 {
        return match reach {
            Reach::Nodes => Ok(id),
            Reach::All => relocate_chains(w, id, limit),
        };
    }
    let p = w.read(id, NODE)?;
    if node::is_leaf(&p) {
        return Err(Error::corrupt_page(
            id,
            "leaf above the leaf level (btree invariant 2)",
        ));
    }
    let n = node::count(&p);
    drop(p);
    for i in 0..=n {
        let child = node::child(&w.read(id, NODE)?, i);
        let moved = relocate_rec(w, child, limit, height - 1, reach)?;
        if moved != child {
            id = w.writable(id, NODE)?;
            node::set_child(w.page_mut(id), i, moved);
        }
    }
    Ok(id)
}

/// Rewrites each overflow chain of leaf `id` that has a page at `limit`
/// or above into the lowest free pages, re-pointing its cell; returns the
/// leaf's page number (a copy, if it changed). A chain is rewritten whole
/// (read, freed, written again): moving one page would change its
/// predecessor's link, copying that page too, and so on back to the leaf.
fn relocate_chains(w: &mut impl PagesMut, mut id: PageId, limit: PageId) -> Result<PageId> {
    let n = node::count(&w.read(id, NODE)?);
    for i in 0..n {
        let LeafValue::Overflow { first, len } = node::value(&w.read(id, NODE)?, i) else {
            continue;
        };
        let pages = overflow::chain(w, first, len)?;
        if pages.iter().all(|&p| p < limit) {
            continue;
        }
        let mut value = Vec::new();
        overflow::read(w, first, len, &mut value)?;
        overflow::free(w, first, len)?;
        let moved = overflow::write(w, &value)?;
        id = w.writable(id, NODE)?;
        node::set_overflow_first(w.page_mut(id), i, moved);
    }
    Ok(id)
}

/// Pins the branch levels of the trees at `roots` in the pager, top down,
/// as far as its pin budget goes ([`Pager::pin`]): the upper levels every
/// lookup passes through then stay in memory, outside the cache. Reads
/// the leftmost path of each tree to learn its height, and no leaf past
/// that.
pub(crate) fn pin_branches(
    pager: &mut Pager,
    roots: &[PageId],
    file: &dyn StorageFile,
) -> Result<()> {
    let mut level: Vec<PageId> = roots.iter().copied().filter(|&r| r != 0).collect();
    // The height of each tree decides which levels are branches; read
    // no leaf to find out.
    let mut heights = Vec::new();
    let page_count = pager.page_count();
    let in_tree = |id: PageId| (FIRST_DATA_PAGE..page_count).contains(&id);
    for &root in &level {
        let mut id = root;
        let mut h = 0;
        loop {
            if !in_tree(id) {
                return Err(Error::corrupt_page(id, "reference outside the tree area"));
            }
            let p = pager.load(file, id)?;
            if !matches!(page_type(&p), Some(PageType::Leaf | PageType::Branch)) {
                return Err(Error::corrupt_page(id, "expected a tree page"));
            }
            if node::is_leaf(&p) || h > 64 {
                break;
            }
            id = node::child(&p, 0);
            h += 1;
        }
        heights.push(h);
    }
    let mut depth = 0;
    let mut tagged: Vec<(PageId, usize)> = level.drain(..).zip(heights).collect();
    while !tagged.is_empty() && depth < 64 {
        let mut next = Vec::new();
        for (id, height) in tagged {
            if depth >= height || !pager.can_pin() || !in_tree(id) {
                continue;
            }
            let page = pager.load(file, id)?;
            if page_type(&page) != Some(PageType::Branch) {
                continue; // a damaged tree: reading it will say so
            }
            next.extend((0..=node::count(&page)).map(|i| (node::child(&page, i), height)));
            pager.pin(id, page);
        }
        tagged = next;
        depth += 1;
    }
    Ok(())
}
