//! B+tree nodes: the slotted layout of leaf and branch pages.
//!
//! NODE HEADER (bytes 0..16; bytes 0..8 are the page header of `page/page_header.rs`,
//! whose type-specific bytes 6..8 hold the cell count)
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 4 | CRC32 (page header) |
//! | 4 | 1 | page type: 1 leaf, 2 branch |
//! | 5 | 1 | zero |
//! | 6 | 2 | number of cells `n` |
//! | 8 | 2 | content start: offset of the lowest cell byte (`page_size` when empty; page sizes stop at 32768, so it fits) |
//! | 10 | 2 | fragmented bytes: bytes of removed cells not yet reclaimed |
//! | 12 | 4 | branch: leftmost child page; leaf: zero |
//! | 16 | 6n | slot array, in key order: each slot the cell's offset (2 bytes) and the first 4 bytes of its key, zero-padded (the key head) |
//! | .. | .. | free space, then the cells, packed toward the end of the page |
//!
//! LEAF CELL
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 2 | key length `k` |
//! | 2 | 1 | flags: bit 0 set = the value lives in overflow pages |
//! | 3 | 4 | value length `v` (the whole value, wherever it lives) |
//! | 7 | k | key |
//! | 7+k | v or 4 | the value inline, or the first overflow page number |
//!
//! A value is kept inline when `k + v <= page_size / 4` (`inline_limit`).
//! No cell is then larger than about a quarter of a page, so an empty page
//! has room for three of the largest cells and a split always finds room
//! on both sides.
//!
//! BRANCH CELL
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 2 | key length `k` |
//! | 2 | 4 | right child: the subtree of keys >= this key and < the next |
//! | 6 | k | separator key |
//!
//! A branch with keys `k1..kn` has children `c0..cn`: `c0` (the leftmost,
//! in the header) holds keys `< k1`, `ci` holds keys in `[ki, ki+1)`.
//! Separators are the shortest prefix that divides two neighbours
//! ([`shortest_separator`]), which keeps branches wide.
//!
//! KEY HEADS
//!
//! A binary search compares the sought key with the key heads in the slot
//! array first, and reads a cell only when the heads are equal. Heads
//! compare in the same order as the keys whenever they differ (zero
//! padding sorts a shorter key before any longer one that extends it), so
//! a search of random keys touches the slot array and about one cell,
//! instead of one cell per step.
//!
//! Pages read from disk pass [`validate`] once, when they enter the cache;
//! the accessors below index without further checks and rely on it.

use crate::base::bytes::{get_u16, get_u32, put_u16, put_u32, u16_at, u32_at};
use crate::error::{Error, Result};
use crate::page::page_header::{PageId, PageType};
use std::cmp::Ordering;

/// Byte size of the node header, where the slot array starts.
pub(crate) const NODE_HEADER: usize = 16;
const LEAF_CELL_HEADER: usize = 7;
const BRANCH_CELL_HEADER: usize = 6;
const FLAG_OVERFLOW: u8 = 1;

/// Size of a leaf cell's reference to an overflow chain.
pub(crate) const OVERFLOW_REF: usize = 4;

/// The longest value a database accepts: 16 MiB.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = strata_engine::Database::open(dir.path().join("db"))?;
/// let mut tx = db.begin()?;
/// tx.create_table("blobs")?;
/// tx.put("blobs", b"big", &vec![0; strata_engine::MAX_VALUE_LEN])?; // the largest value
/// let too_big = vec![0; strata_engine::MAX_VALUE_LEN + 1];
/// assert!(matches!(tx.put("blobs", b"bigger", &too_big), Err(strata_engine::Error::ValueTooLarge { .. })));
/// # Ok::<(), strata_engine::Error>(())
/// ```
pub const MAX_VALUE_LEN: usize = 16 << 20;

/// The largest key a database with this page size accepts.
pub(crate) fn max_key_len(page_size: usize) -> usize {
    page_size / 4
}

/// Key plus value bytes above which the value moves to overflow pages.
pub(crate) fn inline_limit(page_size: usize) -> usize {
    page_size / 4
}

/// Bytes of a page available to slots and cells.
pub(crate) fn usable(page_size: usize) -> usize {
    page_size - NODE_HEADER
}

/// Where a leaf value lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LeafValue<'a> {
    /// Stored in the cell.
    Inline(&'a [u8]),
    /// Stored in a chain of overflow pages starting at `first`.
    Overflow {
        /// First page of the chain.
        first: PageId,
        /// Total length of the value.
        len: u32,
    },
}

// ---- header fields ----

#[inline]
pub(crate) fn count(p: &[u8]) -> usize {
    u16_at(p, 6) as usize
}

#[inline]
fn set_count(p: &mut [u8], n: usize) {
    put_u16(p, 6, n as u16);
}

#[inline]
fn content_start(p: &[u8]) -> usize {
    u16_at(p, 8) as usize
}

#[inline]
fn set_content_start(p: &mut [u8], v: usize) {
    put_u16(p, 8, v as u16);
}

#[inline]
fn frag(p: &[u8]) -> usize {
    u16_at(p, 10) as usize
}

#[inline]
fn set_frag(p: &mut [u8], v: usize) {
    put_u16(p, 10, v as u16);
}

#[inline]
pub(crate) fn is_leaf(p: &[u8]) -> bool {
    p[4] == PageType::Leaf as u8
}

/// Bytes of one slot: the cell offset and the key head.
pub(crate) const SLOT: usize = 6;

#[inline]
fn slot(p: &[u8], i: usize) -> usize {
    u16_at(p, NODE_HEADER + SLOT * i) as usize
}

/// The key head of slot `i`.
#[inline]
fn head(p: &[u8], i: usize) -> u32 {
    let at = NODE_HEADER + SLOT * i + 2;
    u32::from_be_bytes(p[at..at + 4].try_into().unwrap_or_default())
}

/// The head of a key: its first 4 bytes, zero-padded, as a big-endian
/// number.
#[inline]
pub(crate) fn key_head(k: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    let n = k.len().min(4);
    b[..n].copy_from_slice(&k[..n]);
    u32::from_be_bytes(b)
}

/// Makes `p` an empty node of the given type.
pub(crate) fn init(p: &mut [u8], ty: PageType) {
    debug_assert!(matches!(ty, PageType::Leaf | PageType::Branch));
    let len = p.len();
    p[4..NODE_HEADER].fill(0);
    p[4] = ty as u8;
    set_content_start(p, len);
}

// ---- cells ----

#[inline]
fn cell_size_at(p: &[u8], off: usize, leaf: bool) -> usize {
    let k = u16_at(p, off) as usize;
    if leaf {
        let v = if p[off + 2] & FLAG_OVERFLOW != 0 {
            OVERFLOW_REF
        } else {
            u32_at(p, off + 3) as usize
        };
        LEAF_CELL_HEADER + k + v
    } else {
        BRANCH_CELL_HEADER + k
    }
}

/// The raw bytes of cell `i`, header included.
#[inline]
pub(crate) fn cell(p: &[u8], i: usize) -> &[u8] {
    let off = slot(p, i);
    &p[off..off + cell_size_at(p, off, is_leaf(p))]
}

/// Key of cell `i` (leaf key or branch separator).
#[inline]
pub(crate) fn key(p: &[u8], i: usize) -> &[u8] {
    let off = slot(p, i);
    let k = u16_at(p, off) as usize;
    let h = if is_leaf(p) {
        LEAF_CELL_HEADER
    } else {
        BRANCH_CELL_HEADER
    };
    &p[off + h..off + h + k]
}

/// Key stored in a raw cell.
pub(crate) fn cell_key(cell: &[u8], leaf: bool) -> &[u8] {
    let k = u16_at(cell, 0) as usize;
    let h = if leaf {
        LEAF_CELL_HEADER
    } else {
        BRANCH_CELL_HEADER
    };
    &cell[h..h + k]
}

/// Where the key and, if stored in the cell, the value of leaf cell `i`
/// lie in the page: what a scan reads for each entry, decoding the cell
/// once.
#[inline]
pub(crate) fn leaf_spans(p: &[u8], i: usize) -> (Span, Option<Span>) {
    let off = slot(p, i);
    let k = u16_at(p, off) as usize;
    let key = off + LEAF_CELL_HEADER..off + LEAF_CELL_HEADER + k;
    if p[off + 2] & FLAG_OVERFLOW != 0 {
        return (key, None);
    }
    let v = u32_at(p, off + 3) as usize;
    let value = key.end..key.end + v;
    // Checked here so that slicing with the spans cannot fail.
    if value.end > p.len() {
        return (key.start..key.start, None);
    }
    (key, Some(value))
}

/// A range of byte offsets within a page.
pub(crate) type Span = std::ops::Range<usize>;

/// Value of leaf cell `i`.
pub(crate) fn value(p: &[u8], i: usize) -> LeafValue<'_> {
    let off = slot(p, i);
    let k = u16_at(p, off) as usize;
    let v = u32_at(p, off + 3);
    let at = off + LEAF_CELL_HEADER + k;
    if p[off + 2] & FLAG_OVERFLOW != 0 {
        LeafValue::Overflow {
            first: u32_at(p, at),
            len: v,
        }
    } else {
        LeafValue::Inline(&p[at..at + v as usize])
    }
}

/// Points leaf cell `i`, whose value lives in overflow pages, at the
/// chain starting at `first`.
pub(crate) fn set_overflow_first(p: &mut [u8], i: usize, first: PageId) {
    let off = slot(p, i);
    debug_assert!(
        p[off + 2] & FLAG_OVERFLOW != 0,
        "btree invariant 4: only an overflow cell has a chain"
    );
    let k = u16_at(p, off) as usize;
    put_u32(p, off + LEAF_CELL_HEADER + k, first);
}

/// Child `i` of a branch, `0..=count`.
#[inline]
pub(crate) fn child(p: &[u8], i: usize) -> PageId {
    if i == 0 {
        u32_at(p, 12)
    } else {
        u32_at(p, slot(p, i - 1) + 2)
    }
}

/// Points child `i` of a branch at `id`.
pub(crate) fn set_child(p: &mut [u8], i: usize, id: PageId) {
    if i == 0 {
        put_u32(p, 12, id);
    } else {
        let off = slot(p, i - 1) + 2;
        put_u32(p, off, id);
    }
}

/// Binary search of a node's keys: `Ok(i)` if key `i` equals `key`,
/// otherwise `Err(i)` with the index where it would be inserted.
pub(crate) fn search(p: &[u8], key_: &[u8]) -> std::result::Result<usize, usize> {
    let (mut lo, mut hi) = (0, count(p));
    let h = key_head(key_);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let order = match head(p, mid).cmp(&h) {
            Ordering::Equal => compare(key(p, mid), key_),
            o => o,
        };
        match order {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

/// Byte-wise comparison of two keys, eight bytes at a time as big-endian
/// integers: the same order as `<[u8]>::cmp`, without a call into `memcmp`
/// for the short keys a search compares dozens of times.
#[inline]
pub(crate) fn compare(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_be_bytes(a[i..i + 8].try_into().unwrap_or_default());
        let y = u64::from_be_bytes(b[i..i + 8].try_into().unwrap_or_default());
        if x != y {
            return x.cmp(&y);
        }
        i += 8;
    }
    a[i..].cmp(&b[i..])
}

/// The child of a branch whose subtree may hold `key`.
pub(crate) fn child_index(p: &[u8], key_: &[u8]) -> usize {
    match search(p, key_) {
        Ok(i) => i + 1,
        Err(i) => i,
    }
}

/// Bytes taken by cells and slots.
pub(crate) fn used(p: &[u8]) -> usize {
    let n = count(p);
    p.len() - content_start(p) - frag(p) + SLOT * n
}

/// Bytes an insertion of a cell of `cell_len` bytes would take.
#[inline]
pub(crate) fn cost(cell_len: usize) -> usize {
    cell_len + SLOT
}

/// Size of a leaf cell for a key and its (inline or overflow) value.
pub(crate) fn leaf_cell_len(key_len: usize, value: &LeafValue<'_>) -> usize {
    LEAF_CELL_HEADER
        + key_len
        + match value {
            LeafValue::Inline(v) => v.len(),
            LeafValue::Overflow { .. } => OVERFLOW_REF,
        }
}

/// Writes a leaf cell into the front of `buf` (which must be large
/// enough) and returns it.
pub(crate) fn write_leaf_cell<'b>(
    buf: &'b mut [u8],
    key: &[u8],
    value: &LeafValue<'_>,
) -> &'b [u8] {
    let len = leaf_cell_len(key.len(), value);
    let cell = &mut buf[..len];
    cell[0..2].copy_from_slice(&(key.len() as u16).to_le_bytes());
    let k = LEAF_CELL_HEADER + key.len();
    cell[LEAF_CELL_HEADER..k].copy_from_slice(key);
    match value {
        LeafValue::Inline(v) => {
            cell[2] = 0;
            cell[3..7].copy_from_slice(&(v.len() as u32).to_le_bytes());
            cell[k..].copy_from_slice(v);
        }
        LeafValue::Overflow { first, len } => {
            cell[2] = FLAG_OVERFLOW;
            cell[3..7].copy_from_slice(&len.to_le_bytes());
            cell[k..].copy_from_slice(&first.to_le_bytes());
        }
    }
    cell
}

/// Encodes a branch cell into `out`.
pub(crate) fn encode_branch_cell(out: &mut Vec<u8>, key: &[u8], right: PageId) {
    out.extend_from_slice(&(key.len() as u16).to_le_bytes());
    out.extend_from_slice(&right.to_le_bytes());
    out.extend_from_slice(key);
}

/// The right child recorded in a raw branch cell.
pub(crate) fn branch_cell_child(cell: &[u8]) -> PageId {
    u32_at(cell, 2)
}

/// Inserts raw cell bytes at index `i`. Returns `false`, changing nothing,
/// when the node has no room even after compaction.
pub(crate) fn insert_cell(p: &mut [u8], i: usize, raw: &[u8]) -> bool {
    let n = count(p);
    debug_assert!(i <= n);
    let need = cost(raw.len());
    let slots_end = NODE_HEADER + SLOT * n;
    let mut start = content_start(p);
    if start - slots_end < need {
        if start - slots_end + frag(p) < need {
            return false;
        }
        compact(p);
        start = content_start(p);
    }
    let off = start - raw.len();
    p[off..start].copy_from_slice(raw);
    set_content_start(p, off);
    let at = NODE_HEADER + SLOT * i;
    p.copy_within(at..slots_end, at + SLOT);
    put_u16(p, at, off as u16);
    let h = key_head(cell_key(raw, is_leaf(p)));
    p[at + 2..at + SLOT].copy_from_slice(&h.to_be_bytes());
    set_count(p, n + 1);
    true
}

/// Removes cell `i` (for a branch: key `i` and child `i + 1`).
pub(crate) fn remove_cell(p: &mut [u8], i: usize) {
    let n = count(p);
    debug_assert!(i < n);
    let off = slot(p, i);
    let size = cell_size_at(p, off, is_leaf(p));
    if off == content_start(p) {
        set_content_start(p, off + size);
    } else {
        set_frag(p, frag(p) + size);
    }
    let at = NODE_HEADER + SLOT * i;
    p.copy_within(at + SLOT..NODE_HEADER + SLOT * n, at);
    set_count(p, n - 1);
}

/// Replaces cell `i` with `raw`. Returns `false`, changing nothing, when
/// the node has no room for the new cell.
pub(crate) fn replace_cell(p: &mut [u8], i: usize, raw: &[u8]) -> bool {
    let off = slot(p, i);
    let old = cell_size_at(p, off, is_leaf(p));
    if old == raw.len() {
        p[off..off + old].copy_from_slice(raw);
        // A branch's separator may change with its length unchanged.
        let h = key_head(cell_key(raw, is_leaf(p)));
        let at = NODE_HEADER + SLOT * i + 2;
        p[at..at + 4].copy_from_slice(&h.to_be_bytes());
        return true;
    }
    // Room check before touching anything: the old cell's bytes come back.
    let free = p.len() - NODE_HEADER - (used(p));
    if free + old < raw.len() {
        return false;
    }
    remove_cell(p, i);
    let ok = insert_cell(p, i, raw);
    debug_assert!(ok, "room was checked");
    ok
}

/// Moves every cell to the end of the page, reclaiming fragmented bytes.
pub(crate) fn compact(p: &mut [u8]) {
    let n = count(p);
    let leaf = is_leaf(p);
    let copy = p.to_vec();
    let mut end = p.len();
    for i in 0..n {
        let off = slot(&copy, i);
        let size = cell_size_at(&copy, off, leaf);
        end -= size;
        p[end..end + size].copy_from_slice(&copy[off..off + size]);
        put_u16(p, NODE_HEADER + SLOT * i, end as u16);
    }
    set_content_start(p, end);
    set_frag(p, 0);
}

/// Rebuilds `p` as a node of type `ty` holding `cells` (raw bytes, in key
/// order) and, for a branch, leftmost child `left`.
pub(crate) fn build<'a>(
    p: &mut [u8],
    ty: PageType,
    left: PageId,
    cells: impl IntoIterator<Item = &'a [u8]>,
) {
    init(p, ty);
    if ty == PageType::Branch {
        put_u32(p, 12, left);
    }
    for (i, c) in cells.into_iter().enumerate() {
        let ok = insert_cell(p, i, c);
        debug_assert!(ok, "build: cells must fit");
    }
}

/// The raw cells of a node, copied out (for splits and merges).
pub(crate) fn cells(p: &[u8]) -> Vec<Vec<u8>> {
    (0..count(p)).map(|i| cell(p, i).to_vec()).collect()
}

/// The shortest key `s` with `left < s <= right`, used as the separator
/// between a left node ending in `left` and a right node starting with
/// `right`.
pub(crate) fn shortest_separator(left: &[u8], right: &[u8]) -> Vec<u8> {
    debug_assert!(left < right);
    let common = left.iter().zip(right).take_while(|(a, b)| a == b).count();
    // right[..=common] is > left: either it differs from left at `common`
    // (greater there, since left < right), or left ends at `common`.
    right[..(common + 1).min(right.len())].to_vec()
}

/// Checks a node page read from disk: every offset and length in bounds,
/// keys strictly increasing, key and value lengths within the limits.
/// After this, the unchecked accessors cannot index out of bounds.
pub(crate) fn validate(id: PageId, p: &[u8]) -> Result<()> {
    let bad = |what: String| Error::corrupt_page(id, what);
    let page_size = p.len();
    let leaf = match p[4] {
        b if b == PageType::Leaf as u8 => true,
        b if b == PageType::Branch as u8 => false,
        b => return Err(bad(format!("not a node page (type {b})"))),
    };
    let n = get_u16(p, 6).ok_or_else(|| bad("short header".into()))? as usize;
    let start = get_u16(p, 8).ok_or_else(|| bad("short header".into()))? as usize;
    let fragmented = get_u16(p, 10).ok_or_else(|| bad("short header".into()))? as usize;
    let slots_end = NODE_HEADER + SLOT * n;
    if slots_end > start || start > page_size {
        return Err(bad(format!(
            "{n} cells with content start {start} do not fit the page"
        )));
    }
    if !leaf && n == 0 {
        return Err(bad("branch without keys".into()));
    }
    let max_key = max_key_len(page_size);
    let mut total = 0usize;
    let mut prev: Option<&[u8]> = None;
    for i in 0..n {
        let off =
            get_u16(p, NODE_HEADER + SLOT * i).ok_or_else(|| bad("short slots".into()))? as usize;
        if off < start {
            return Err(bad(format!(
                "cell {i} at {off} lies before the content start"
            )));
        }
        let k = get_u16(p, off).ok_or_else(|| bad(format!("cell {i} out of bounds")))? as usize;
        if k > max_key {
            return Err(bad(format!("cell {i}: key of {k} bytes exceeds {max_key}")));
        }
        let size = if leaf {
            let flags = *p
                .get(off + 2)
                .ok_or_else(|| bad(format!("cell {i} out of bounds")))?;
            let v =
                get_u32(p, off + 3).ok_or_else(|| bad(format!("cell {i} out of bounds")))? as usize;
            if flags & !FLAG_OVERFLOW != 0 {
                return Err(bad(format!("cell {i}: unknown flags {flags:#x}")));
            }
            if flags & FLAG_OVERFLOW != 0 {
                if v > MAX_VALUE_LEN || k + v <= inline_limit(page_size) {
                    return Err(bad(format!("cell {i}: bad overflow value length {v}")));
                }
                LEAF_CELL_HEADER + k + OVERFLOW_REF
            } else {
                if k + v > inline_limit(page_size) {
                    return Err(bad(format!("cell {i}: inline value of {v} bytes too long")));
                }
                LEAF_CELL_HEADER + k + v
            }
        } else {
            BRANCH_CELL_HEADER + k
        };
        if off + size > page_size {
            return Err(bad(format!("cell {i} runs past the end of the page")));
        }
        total += size;
        let h = if leaf {
            LEAF_CELL_HEADER
        } else {
            BRANCH_CELL_HEADER
        };
        let kb = &p[off + h..off + h + k];
        if head(p, i) != key_head(kb) {
            return Err(bad(format!("cell {i}: key head does not match the key")));
        }
        if let Some(pk) = prev
            && pk >= kb
        {
            return Err(bad(format!("keys out of order at cell {i}")));
        }
        prev = Some(kb);
    }
    if total + fragmented != page_size - start {
        return Err(bad(format!(
            "cells take {total} bytes and {fragmented} are fragmented, but the content area is {}",
            page_size - start
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::page_header::new_page;

    fn leaf_cell(key: &[u8], value: &[u8]) -> Vec<u8> {
        let mut buf = [0u8; 2048];
        write_leaf_cell(&mut buf, key, &LeafValue::Inline(value)).to_vec()
    }

    fn leaf_with(keys: &[&[u8]]) -> Vec<u8> {
        let mut p = new_page(4096, PageType::Leaf);
        init(&mut p, PageType::Leaf);
        for (i, k) in keys.iter().enumerate() {
            assert!(insert_cell(&mut p, i, &leaf_cell(k, b"value")));
        }
        p
    }

    #[test]
    fn insert_search_remove_compact() {
        let mut p = leaf_with(&[b"a", b"c", b"e"]);
        assert_eq!(search(&p, b"c"), Ok(1));
        assert_eq!(search(&p, b"d"), Err(2));
        assert!(insert_cell(&mut p, 2, &leaf_cell(b"d", b"dd")));
        assert_eq!(key(&p, 2), b"d");
        assert_eq!(value(&p, 2), LeafValue::Inline(b"dd"));
        remove_cell(&mut p, 1);
        assert_eq!(count(&p), 3);
        assert_eq!(key(&p, 1), b"d");
        validate(5, &p).unwrap();
        let used_before = used(&p);
        compact(&mut p);
        assert_eq!(used(&p), used_before);
        assert_eq!(frag(&p), 0);
        validate(5, &p).unwrap();
    }

    #[test]
    fn fills_then_refuses() {
        let mut p = new_page(4096, PageType::Leaf);
        init(&mut p, PageType::Leaf);
        let mut n = 0;
        loop {
            let k = format!("{n:08}");
            if !insert_cell(&mut p, n, &leaf_cell(k.as_bytes(), &[0; 100])) {
                break;
            }
            n += 1;
        }
        // 115-byte cells plus 6-byte slots in 4080 usable bytes.
        assert_eq!(n, 4080 / 121);
        validate(3, &p).unwrap();
    }

    #[test]
    fn branch_children() {
        let mut p = new_page(4096, PageType::Branch);
        let mut cells = Vec::new();
        for (k, c) in [(&b"m"[..], 20u32), (b"t", 30)] {
            let mut cell = Vec::new();
            encode_branch_cell(&mut cell, k, c);
            cells.push(cell);
        }
        build(&mut p, PageType::Branch, 10, cells.iter().map(|c| &c[..]));
        assert_eq!(child(&p, child_index(&p, b"a")), 10);
        assert_eq!(child(&p, child_index(&p, b"m")), 20);
        assert_eq!(child(&p, child_index(&p, b"s")), 20);
        assert_eq!(child(&p, child_index(&p, b"z")), 30);
        set_child(&mut p, 2, 31);
        assert_eq!(child(&p, 2), 31);
        validate(3, &p).unwrap();
    }

    #[test]
    fn compare_is_byte_order() {
        let keys: [&[u8]; 9] = [
            b"",
            b"a",
            b"ab",
            b"abcdefgh",
            b"abcdefghi",
            b"abcdefgi",
            b"\xff",
            b"abcdefgh\x00",
            b"b",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(compare(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn separators_are_short_and_divide() {
        assert_eq!(shortest_separator(b"abc", b"abd"), b"abd");
        assert_eq!(shortest_separator(b"abc", b"b"), b"b");
        assert_eq!(shortest_separator(b"ab", b"abc"), b"abc");
        assert_eq!(shortest_separator(b"", b"x"), b"x");
        assert_eq!(shortest_separator(b"apple", b"banana"), b"b");
    }

    #[test]
    fn validate_rejects_damage() {
        let p = leaf_with(&[b"a", b"b"]);
        let mut q = p.clone();
        put_u16(&mut q, 6, 900); // cell count past the page
        assert!(validate(3, &q).is_err());
        let mut q = p.clone();
        put_u16(&mut q, NODE_HEADER, 4095); // slot points at the last byte
        assert!(validate(3, &q).is_err());
        let mut q = p.clone();
        // Swap the two slots, heads and all: keys out of order.
        let first: Vec<u8> = q[NODE_HEADER..NODE_HEADER + SLOT].to_vec();
        q.copy_within(NODE_HEADER + SLOT..NODE_HEADER + 2 * SLOT, NODE_HEADER);
        q[NODE_HEADER + SLOT..NODE_HEADER + 2 * SLOT].copy_from_slice(&first);
        assert!(validate(3, &q).is_err());
        // A key head that does not match its key.
        let mut q = p.clone();
        q[NODE_HEADER + 2] ^= 1;
        assert!(validate(3, &q).is_err());
    }
}
