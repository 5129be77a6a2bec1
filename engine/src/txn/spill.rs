//! Spilled runs: a transaction's private writes, sorted, in a scratch file
//! beside the database, once they outgrow `Options::txn_memory_limit`.
//!
//! NOTES ON THE DESIGN OF SPILLING
//!
//! A write set (`write_set.rs`) keeps its newest writes in memory. When the
//! transaction's buffers would pass the memory limit, each table's
//! in-memory writes are sorted and written out as a *run*: an immutable,
//! sorted sequence of `(key, value or delete)` entries, and the buffer
//! starts again empty. A write set is then its memory part plus its runs,
//! newest last; a key's newest write wins. Reads look in memory, then in
//! the runs newest first; ranges and the commit merge every run with the
//! memory in one k-way merge (`write_set.rs`, `OwnCursor`).
//!
//! THE SCRATCH FILE
//!
//! Every run of every transaction of a handle lives in one scratch file,
//! `<path>-spill` ([`Spill`]). It is created when the first run is written,
//! and its name is removed at once: the open handle keeps it, so a crash
//! leaves nothing behind on a file system that frees unnamed files (the
//! usual ones). A crash in the moment between the creation and the removal,
//! or a simulated crash that keeps the one directory operation and not the
//! other, can leave the name; a writable open removes it, under the
//! database's lock (`db/open.rs`). When the last run is dropped the file is
//! closed, which gives its space back. Runs take contiguous extents of the
//! file, first fit among the extents freed by runs dropped before, else
//! at the end.
//!
//! The scratch file is never synced and never needed after a crash: a
//! transaction that had not committed is gone anyway, and a commit reads
//! its runs before its commit point.
//!
//! RUN FORMAT
//!
//! A run is a sequence of blocks of about [`BLOCK_SIZE`] bytes (or one
//! entry, if larger):
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 4 | CRC32 of the run's salt, the block's file offset, and the payload |
//! | 4 | 4 | payload length `n` |
//! | 8 | n | entries |
//!
//! Each entry is a key length (u16), a value length (u32, `u32::MAX` for a
//! delete), the key, the value; keys strictly increase within a run.
//! Memory keeps a sparse index (each block's offset, length and first key)
//! and a Bloom filter of the run's keys, so a point read of a key the run
//! lacks usually reads nothing, and one that it has reads one block.
//!
//! INVARIANTS (cited as "spill invariant N")
//!
//! 1. A block read back must carry its run's salt and its own offset in its
//!    checksum, parse exactly, start with the key the index names, and hold
//!    strictly increasing keys; anything else is an error
//!    (`ErrorKind::InvalidData`), never wrong data. The salt is new for
//!    every run, so bytes of a dropped run whose extent was reused can
//!    never pass for the new run's.
//! 2. An extent of the scratch file belongs to at most one live run; the
//!    free extents and the live runs' extents never overlap, and together
//!    they cover the file up to its end (`Database::check` verifies it).

use crate::base::hash::key_hash;
use crate::error::{Error, Result};
use crate::storage::{OpenMode, StorageFile, Vfs};
use crate::tree::cursor::{above, below};
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::io;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Target size of a run's block.
pub(crate) const BLOCK_SIZE: usize = 256 << 10;
/// Bytes written to the scratch file per call, at most (a single block
/// may be larger).
const WRITE_BUFFER: usize = 1 << 20;
/// Bytes of a block's header.
const BLOCK_HEADER: usize = 8;
/// Bytes of an entry's header.
const ENTRY_HEADER: usize = 6;
/// A value length that marks a delete.
const DELETE: u32 = u32::MAX;

/// The path of the scratch file of the database at `path`.
pub(crate) fn scratch_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-spill");
    PathBuf::from(p)
}

/// Grows `v` by `additional` bytes of capacity, or reports the failed
/// allocation as [`Error::OutOfMemory`] rather than aborting.
pub(crate) fn try_reserve<T>(v: &mut Vec<T>, additional: usize) -> Result<()> {
    v.try_reserve(additional).map_err(|_| Error::OutOfMemory {
        requested: v
            .len()
            .saturating_add(additional)
            .saturating_mul(size_of::<T>()),
    })
}

/// What the transactions of a handle share for spilling: the limits from
/// the options, and the scratch file.
pub(crate) struct Spill {
    /// `Options::txn_memory_limit`.
    pub memory_limit: usize,
    /// `Options::max_transaction_size`.
    pub max_size: u64,
    vfs: Arc<dyn Vfs>,
    path: PathBuf,
    state: Mutex<Scratch>,
}

/// The scratch file and its extents.
#[derive(Default)]
struct Scratch {
    /// Open while a run is live.
    file: Option<Arc<dyn StorageFile>>,
    /// Free extents, offset to length, coalesced (spill invariant 2).
    free: BTreeMap<u64, u64>,
    /// The live runs' extents, offset to length.
    used: BTreeMap<u64, u64>,
    /// The end of the last extent handed out: the file's size is the
    /// high-water mark of the extents in use since it was opened.
    end: u64,
    /// Salts handed out: each run gets the next, so this counts the runs
    /// written.
    salts: u64,
}

impl std::fmt::Debug for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spill")
            .field("memory_limit", &self.memory_limit)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Spill {
    /// The spill settings of the database at `path` (the data file's real
    /// path), on `vfs`.
    pub(crate) fn new(vfs: Arc<dyn Vfs>, path: &Path, memory_limit: usize, max_size: u64) -> Spill {
        Spill {
            memory_limit,
            max_size,
            vfs,
            path: scratch_path(path),
            state: Mutex::new(Scratch::default()),
        }
    }

    /// Runs written since the handle was opened.
    pub(crate) fn runs_written(&self) -> u64 {
        self.state.lock().salts
    }

    /// Checks spill invariant 2: the free extents and the live runs'
    /// extents never overlap and together cover the file up to its end
    /// (for `Database::check`).
    pub(crate) fn check(&self) -> Result<()> {
        let s = self.state.lock();
        let mut extents: Vec<(u64, u64)> = s
            .free
            .iter()
            .chain(&s.used)
            .map(|(&o, &l)| (o, l))
            .collect();
        extents.sort_unstable();
        let mut at = 0;
        for (o, l) in extents {
            if o != at {
                return Err(damaged(format!(
                    "scratch extents at {o} and {at} overlap or leave a gap (spill invariant 2)"
                )));
            }
            at = o + l;
        }
        if at != s.end || s.file.is_some() == s.used.is_empty() {
            return Err(damaged(
                "scratch extents do not match the file (spill invariant 2)".into(),
            ));
        }
        Ok(())
    }

    /// An extent of `len` bytes for a new run, with the file and a salt.
    fn alloc(&self, len: u64) -> Result<(Arc<dyn StorageFile>, u64, u64)> {
        let mut s = self.state.lock();
        let file = match &s.file {
            Some(f) => f.clone(),
            None => {
                let f: Arc<dyn StorageFile> =
                    Arc::from(self.vfs.open(&self.path, OpenMode::CreateTruncate)?);
                // Unnamed from now on: nothing to clean up after a crash.
                self.vfs.remove(&self.path)?;
                s.file = Some(f.clone());
                f
            }
        };
        let fit = s
            .free
            .iter()
            .find(|&(_, &l)| l >= len)
            .map(|(&o, &l)| (o, l));
        let offset = match fit {
            Some((o, l)) => {
                s.free.remove(&o);
                if l > len {
                    s.free.insert(o + len, l - len);
                }
                o
            }
            None => {
                s.end += len;
                s.end - len
            }
        };
        s.used.insert(offset, len);
        s.salts += 1;
        Ok((file, offset, s.salts))
    }

    /// Gives a dropped run's extent back; closes the file with the last.
    fn release(&self, offset: u64, len: u64) {
        let mut s = self.state.lock();
        s.used.remove(&offset);
        if s.used.is_empty() {
            s.file = None;
            s.free.clear();
            s.end = 0;
            return;
        }
        let (mut o, mut l) = (offset, len);
        if let Some((&po, &pl)) = s.free.range(..o).next_back()
            && po + pl == o
        {
            s.free.remove(&po);
            o = po;
            l += pl;
        }
        if let Some(&nl) = s.free.get(&(offset + len)) {
            s.free.remove(&(offset + len));
            l += nl;
        }
        debug_assert!(
            s.free
                .range(..o)
                .next_back()
                .is_none_or(|(&po, &pl)| po + pl <= o)
                && s.free
                    .range(o + 1..)
                    .next()
                    .is_none_or(|(&no, _)| o + l <= no),
            "spill invariant 2: free extents never overlap"
        );
        s.free.insert(o, l);
    }
}

/// The index entry of one block of a run.
struct BlockRef {
    first_key: Box<[u8]>,
    /// Offset in the scratch file.
    offset: u64,
    /// Header plus payload.
    len: u32,
}

/// One sorted run of a write set, in the scratch file.
pub(crate) struct Run {
    spill: Arc<Spill>,
    file: Arc<dyn StorageFile>,
    offset: u64,
    len: u64,
    salt: u64,
    blocks: Vec<BlockRef>,
    /// Bloom filter of the keys: a power-of-two number of bits.
    bloom: Vec<u64>,
    /// Bytes of keys and values in the run.
    payload: u64,
    /// Bytes the run's entries take encoded as redo operations.
    op_bytes: u64,
}

/// Bloom probes per key.
const PROBES: u64 = 6;

/// The (word, bit) pairs of `key` in a Bloom filter of `words` words.
fn bloom_bits(words: usize, key: &[u8]) -> impl Iterator<Item = (usize, u64)> + use<> {
    let h = key_hash(key);
    let step = h.rotate_left(32) | 1;
    let mask = (words as u64 * 64) - 1;
    (0..PROBES).map(move |i| {
        let bit = h.wrapping_add(i.wrapping_mul(step)) & mask;
        ((bit / 64) as usize, 1u64 << (bit % 64))
    })
}

fn entry_len(key: &[u8], value: Option<&[u8]>) -> usize {
    ENTRY_HEADER + key.len() + value.map_or(0, <[u8]>::len)
}

fn block_checksum(salt: u64, offset: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&salt.to_le_bytes());
    h.update(&offset.to_le_bytes());
    h.update(payload);
    h.finalize()
}

fn damaged(what: String) -> Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("spill file damaged: {what}"),
    )
    .into()
}

impl Run {
    /// Writes `entries` (sorted, keys strictly increasing; `count` of
    /// them) as a new run. `entries` is called twice: once to lay the
    /// blocks out, once to write them.
    pub(crate) fn write<'a, I>(
        spill: &Arc<Spill>,
        count: usize,
        entries: impl Fn() -> I,
    ) -> Result<Run>
    where
        I: Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    {
        // Lay out the blocks: a block closes when the next entry would take
        // it past BLOCK_SIZE.
        let mut sizes: Vec<usize> = Vec::new();
        let mut cur = 0;
        let (mut payload, mut op_bytes) = (0u64, 0u64);
        for (k, v) in entries() {
            let n = entry_len(k, v);
            if cur > 0 && cur + n > BLOCK_SIZE {
                try_reserve(&mut sizes, 1)?;
                sizes.push(cur);
                cur = 0;
            }
            cur += n;
            payload += (k.len() + v.map_or(0, <[u8]>::len)) as u64;
            op_bytes += (k.len() + v.map_or(7, |v| 11 + v.len())) as u64;
        }
        if cur > 0 {
            try_reserve(&mut sizes, 1)?;
            sizes.push(cur);
        }
        let len: u64 = sizes.iter().map(|&s| (s + BLOCK_HEADER) as u64).sum();
        let words = (count.max(1) * 10).div_ceil(64).next_power_of_two();
        let mut bloom = Vec::new();
        try_reserve(&mut bloom, words)?;
        bloom.resize(words, 0);
        let mut blocks = Vec::new();
        try_reserve(&mut blocks, sizes.len())?;

        let (file, offset, salt) = spill.alloc(len)?;
        let mut run = Run {
            spill: spill.clone(),
            file,
            offset,
            len,
            salt,
            blocks,
            bloom,
            payload,
            op_bytes,
        };
        let mut buf: Vec<u8> = Vec::new();
        try_reserve(&mut buf, WRITE_BUFFER.min(len as usize))?;
        let mut buf_at = offset; // file offset of buf[0]
        let mut sizes = sizes.into_iter();
        let mut block_start = None; // index in buf of the open block's header
        let mut left = 0; // payload bytes the open block still takes
        for (k, v) in entries() {
            if block_start.is_none() {
                let size = sizes.next().expect("laid out above");
                if !buf.is_empty() && buf.len() + BLOCK_HEADER + size > WRITE_BUFFER {
                    run.file.write_at(&buf, buf_at)?;
                    buf_at += buf.len() as u64;
                    buf.clear();
                }
                try_reserve(&mut buf, BLOCK_HEADER + size)?;
                block_start = Some(buf.len());
                run.blocks.push(BlockRef {
                    first_key: Box::from(k),
                    offset: buf_at + buf.len() as u64,
                    len: (BLOCK_HEADER + size) as u32,
                });
                buf.extend_from_slice(&[0; 4]);
                buf.extend_from_slice(&(size as u32).to_le_bytes());
                left = size;
            }
            buf.extend_from_slice(&(k.len() as u16).to_le_bytes());
            let vlen = v.map_or(DELETE, |v| v.len() as u32);
            buf.extend_from_slice(&vlen.to_le_bytes());
            buf.extend_from_slice(k);
            buf.extend_from_slice(v.unwrap_or_default());
            for (w, bit) in bloom_bits(run.bloom.len(), k) {
                run.bloom[w] |= bit;
            }
            left -= entry_len(k, v);
            if left == 0 {
                let start = block_start.take().expect("a block is open");
                let at = buf_at + start as u64;
                let crc = block_checksum(salt, at, &buf[start + BLOCK_HEADER..]);
                buf[start..start + 4].copy_from_slice(&crc.to_le_bytes());
            }
        }
        debug_assert!(block_start.is_none(), "every block laid out is written");
        if !buf.is_empty() {
            run.file.write_at(&buf, buf_at)?;
        }
        Ok(run)
    }

    /// Bytes of keys and values in the run.
    pub(crate) fn payload(&self) -> u64 {
        self.payload
    }

    /// Bytes the run's entries take as redo operations.
    pub(crate) fn op_bytes(&self) -> u64 {
        self.op_bytes
    }

    fn may_contain(&self, key: &[u8]) -> bool {
        bloom_bits(self.bloom.len(), key).all(|(w, bit)| self.bloom[w] & bit != 0)
    }

    /// Reads and checks block `i` (spill invariant 1).
    fn block(&self, i: usize) -> Result<Block> {
        let b = &self.blocks[i];
        let mut data = Vec::new();
        try_reserve(&mut data, b.len as usize)?;
        data.resize(b.len as usize, 0);
        self.file.read_at(&mut data, b.offset)?;
        let at = |what: &str| damaged(format!("{what} in the block at offset {}", b.offset));
        let crc = u32::from_le_bytes(data[0..4].try_into().expect("4 bytes"));
        let n = u32::from_le_bytes(data[4..8].try_into().expect("4 bytes")) as usize;
        if n + BLOCK_HEADER != data.len()
            || crc != block_checksum(self.salt, b.offset, &data[BLOCK_HEADER..])
        {
            return Err(at("checksum mismatch"));
        }
        let mut starts = Vec::new();
        let mut p = BLOCK_HEADER;
        let mut last: Option<(usize, usize)> = None;
        while p < data.len() {
            if p + ENTRY_HEADER > data.len() {
                return Err(at("a truncated entry"));
            }
            let klen = usize::from(u16::from_le_bytes([data[p], data[p + 1]]));
            let vlen = u32::from_le_bytes(data[p + 2..p + 6].try_into().expect("4 bytes"));
            let vlen = if vlen == DELETE { 0 } else { vlen as usize };
            let end = p + ENTRY_HEADER + klen + vlen;
            if end > data.len() {
                return Err(at("an entry past the end"));
            }
            let key = p + ENTRY_HEADER..p + ENTRY_HEADER + klen;
            if let Some((ks, kl)) = last
                && data[ks..ks + kl] >= data[key.clone()]
            {
                return Err(at("keys out of order"));
            }
            last = Some((key.start, klen));
            try_reserve(&mut starts, 1)?;
            starts.push(p as u32);
            p = end;
        }
        let block = Block { data, starts };
        if block.starts.is_empty() || block.entry(0).0 != &*b.first_key {
            return Err(at("a first key unlike the index's"));
        }
        Ok(block)
    }

    /// The run's write of `key`: `Some(None)` for a delete, `None` if the
    /// run does not hold the key.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Option<Vec<u8>>>> {
        if !self.may_contain(key) {
            return Ok(None);
        }
        let i = self.blocks.partition_point(|b| &*b.first_key <= key);
        if i == 0 {
            return Ok(None);
        }
        let block = self.block(i - 1)?;
        // Keys increase within the block (spill invariant 1).
        let e = block.position(key, false);
        Ok((e < block.starts.len())
            .then(|| block.entry(e))
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.map(<[u8]>::to_vec)))
    }

    /// A cursor over the run, from `from` on (towards the end with
    /// `reverse` false, towards the start with it true).
    pub(crate) fn cursor(&self, from: Bound<&[u8]>, reverse: bool) -> Result<RunCursor<'_>> {
        let mut c = RunCursor {
            run: self,
            reverse,
            at: None,
        };
        let inside_lo = |k: &[u8]| above(k, from);
        let inside_hi = |k: &[u8]| below(k, from);
        if reverse {
            let i = self.blocks.partition_point(|b| inside_hi(&b.first_key));
            if i == 0 {
                return Ok(c);
            }
            let block = self.block(i - 1)?;
            // The first key is inside: some entry is.
            let e = match from {
                Bound::Included(b) => block.position(b, true),
                Bound::Excluded(b) => block.position(b, false),
                Bound::Unbounded => block.starts.len(),
            };
            debug_assert!(e > 0, "the block's first key lies inside the bound");
            c.at = Some((i - 1, e - 1, block));
        } else {
            let i = self.blocks.partition_point(|b| !inside_lo(&b.first_key));
            let start = i.saturating_sub(1);
            if start >= self.blocks.len() {
                return Ok(c);
            }
            let block = self.block(start)?;
            let e = match from {
                Bound::Included(b) => block.position(b, false),
                Bound::Excluded(b) => block.position(b, true),
                Bound::Unbounded => 0,
            };
            if e < block.starts.len() {
                c.at = Some((start, e, block));
            } else if start + 1 < self.blocks.len() {
                c.at = Some((start + 1, 0, self.block(start + 1)?));
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
impl Run {
    /// Flips a bit in the middle of the run's bytes, for tests.
    pub(crate) fn damage(&self) {
        let at = self.offset + self.len / 2;
        let mut b = [0u8];
        self.file.read_at(&mut b, at).unwrap();
        self.file.write_at(&[b[0] ^ 0x10], at).unwrap();
    }
}

#[cfg(test)]
impl Spill {
    /// Whether no run is live and the scratch file is closed, for tests.
    pub(crate) fn is_idle(&self) -> bool {
        let s = self.state.lock();
        s.file.is_none() && s.used.is_empty()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.spill.release(self.offset, self.len);
    }
}

/// A block read back and checked: its bytes and where each entry starts.
struct Block {
    data: Vec<u8>,
    starts: Vec<u32>,
}

impl Block {
    /// The number of the first entry whose key is at least `key` (with
    /// `past`, greater than it).
    fn position(&self, key: &[u8], past: bool) -> usize {
        let (mut lo, mut hi) = (0, self.starts.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let k = self.entry(mid).0;
            if k < key || (past && k == key) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn entry(&self, i: usize) -> (&[u8], Option<&[u8]>) {
        let p = self.starts[i] as usize;
        let d = &self.data;
        let klen = usize::from(u16::from_le_bytes([d[p], d[p + 1]]));
        let vlen = u32::from_le_bytes(d[p + 2..p + 6].try_into().expect("4 bytes"));
        let k = p + ENTRY_HEADER;
        let key = &d[k..k + klen];
        let value = (vlen != DELETE).then(|| &d[k + klen..k + klen + vlen as usize]);
        (key, value)
    }
}

/// A walk through one run, one block in memory at a time.
pub(crate) struct RunCursor<'r> {
    run: &'r Run,
    reverse: bool,
    /// Block number, entry number, and the block; `None` past the end.
    at: Option<(usize, usize, Block)>,
}

impl RunCursor<'_> {
    /// The entry at hand.
    pub(crate) fn peek(&self) -> Option<(&[u8], Option<&[u8]>)> {
        self.at.as_ref().map(|(_, e, b)| b.entry(*e))
    }

    /// Moves to the next entry.
    pub(crate) fn advance(&mut self) -> Result<()> {
        let Some((i, e, block)) = self.at.take() else {
            return Ok(());
        };
        let n = block.starts.len();
        self.at = if !self.reverse && e + 1 < n {
            Some((i, e + 1, block))
        } else if self.reverse && e > 0 {
            Some((i, e - 1, block))
        } else if !self.reverse && i + 1 < self.run.blocks.len() {
            Some((i + 1, 0, self.run.block(i + 1)?))
        } else if self.reverse && i > 0 {
            let b = self.run.block(i - 1)?;
            let last = b.starts.len() - 1;
            Some((i - 1, last, b))
        } else {
            None
        };
        Ok(())
    }
}
