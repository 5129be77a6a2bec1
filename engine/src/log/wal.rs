//! The write-ahead log file: its header, its frames, and recovery.
//!
//! The log lives beside the data file (`<path>-wal`). It holds the redo
//! records (`log_record.rs`) of the transactions committed since the last
//! checkpoint; after a checkpoint it is rewritten from the start (it is
//! recycled, never deleted, so its blocks stay allocated and a commit is
//! an overwrite, which this kind of disk syncs about twice as fast as an
//! append).
//!
//! LOG HEADER (bytes 0..32, written once, when the log file is created)
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 8 | magic `STRATAWL` |
//! | 8 | 4 | log format version (1) |
//! | 12 | 8 | database id: the id in the data file's meta pages (`page/meta.rs`); 0 names no database |
//! | 20 | 8 | zero |
//! | 28 | 4 | CRC32 of bytes 0..28 |
//!
//! The database id came with the data file's format version 3; the log's
//! own version stays 1, because the logs written before it have zeros
//! there, which read exactly as they should (no database named), and no
//! build older than format version 3 reads the log of a version-3
//! database (it refuses the data file first).
//!
//! FRAME (at an 8-byte-aligned offset)
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 4 | CRC32 of the generation's salt (8 bytes LE), bytes 4..32 and the payload |
//! | 4 | 4 | payload length `n` (at most 1 MiB) |
//! | 8 | 8 | LSN of the transaction |
//! | 16 | 8 | synced-through: the highest LSN known durable when the frame was appended |
//! | 24 | 4 | index of this frame within its transaction, from 0 |
//! | 28 | 1 | flags: bit 0 = last frame of the transaction (the commit marker) |
//! | 29 | 3 | zero |
//! | 32 | n | payload: the next `n` bytes of the transaction's redo record |
//! | 32+n | .. | zero padding to a multiple of 8 |
//!
//! GENERATIONS
//!
//! Each checkpoint starts a new generation of the log: it draws a random
//! 64-bit salt, records it in the meta page it writes, and from then on
//! every frame's checksum covers that salt. A frame of an earlier
//! generation, or a leftover of a crash before the last checkpoint, can
//! therefore never pass for a frame of the current one; nor can bytes
//! inside a stored value that happen to look like a frame, since their
//! writer cannot know the salt.
//!
//! RECOVERY
//!
//! The meta page gives the checkpoint LSN `C` (every transaction up to it
//! is in the data file) and the salt. Recovery reads frames from the
//! start of the log and replays every transaction whose frames are all
//! present, in order, with LSNs `C+1, C+2, ...`, up to its commit marker.
//! It stops at the first frame that is not the expected one: a bad
//! checksum, a wrong LSN or index.
//!
//! What lies after that point decides whether it is a torn tail or
//! corruption. Every frame from the start of the incomplete transaction on
//! whose checksum holds (with the current salt) and whose LSN is `>= E`
//! (the one expected) is examined:
//!
//! * if its synced-through is `>= E`, transaction `E` had been made durable
//!   before that frame was appended, so the bad frame is damage to the
//!   durable log: recovery fails with a corruption error naming it;
//! * otherwise it is an unacknowledged leftover of the crash (a write that
//!   reached the disk while an earlier one did not).
//!
//! After replaying anything, or finding a leftover, opening checkpoints:
//! the replayed transactions become durable in the data file (even if the
//! log bytes recovery read were only in the operating system's cache, after
//! a failed sync), and the new generation's salt retires every leftover.
//!
//! What this cannot see: damage to the very last durable transaction when
//! nothing was written after it. A clean close checkpoints, which leaves
//! the log with nothing to replay.
//!
//! WHOSE LOG
//!
//! The header names the database the log belongs to (its id, which the
//! meta pages carry too), so that opening tells the database's own log
//! from another database's put at its path (`db/log_file.rs`). Within its
//! own log, the salt tells the generations apart, and there the meta
//! page's open flag (`page/meta.rs`) decides what a log with no frame of
//! the meta page's generation means. It reads as "nothing committed since
//! the checkpoint". With the flag clear (a clean close), that is exactly
//! the truth: nothing was appended after that meta page, so the log may
//! even be missing. With the flag set, it is also what the real log holds
//! between any checkpoint and the next commit, so no rule on frames could
//! refuse a stale log without refusing those crashes; the flag's part is
//! that a log missing, cut short or another database's is refused then,
//! rather than read as empty. What stays unseen is the database's own log
//! replaced, while no handle had it open, by an older copy of itself. A
//! copy newer than the data file is refused by the rule below, and a log
//! deleted or replaced while a handle has it open is noticed at the
//! handle's next checkpoint (`store/checkpoint.rs`, THE OPEN FLAG).
//!
//! FALLING BACK
//!
//! Recovery starts from the newest valid meta page. When the other one is
//! damaged, it may have been a newer one, durable, whose checkpoint
//! started the log over: then the log no longer holds the transactions
//! between the two checkpoints, and starting from the older meta page would
//! drop them silently. A torn meta write (a crash during a checkpoint)
//! looks the same from the data file, and there falling back is right: the
//! log was synced before the meta write and is only started over after it.
//! The log tells the two apart. The first frame of every generation sits
//! at offset 32, has LSN `C + 1` for its generation's checkpoint `C`, and
//! records `C` as synced-through; every generation up to the meta page in
//! use had `C` at most that page's checkpoint. So a frame-shaped header at
//! offset 32 whose checksum fails with the salt in use, with
//! synced-through one below its LSN, proves a newer generation when its
//! LSN is above `C + 1`, or, if the other meta page is damaged, when its
//! LSN is `C + 1` and its checksum holds with that page's salt field or
//! that page's sequence field says it is the newer one. Opening then fails
//! with `Corruption` at the damaged meta page (at log offset 32 when both
//! meta pages are valid: the newest one never became durable, or the data
//! file is older than its log). Opening also refuses to fall back when
//! the data file is shorter than the older meta page's page count: a newer
//! checkpoint cut the file, and with it pages of the older tree. Both
//! checks come before any page of the older tree is read (`db/recovery.rs`). Falling
//! back goes ahead only when the log has not been written since the older
//! meta page's generation, and then it still holds every transaction the
//! damaged page's checkpoint had. (A transaction committed by checkpoint
//! has no frames; that commit therefore writes a second meta page at once,
//! so that both meta pages hold it.)

use crate::base::bytes::{get_u32, get_u64};
use crate::error::{Error, Result};
use crate::storage::StorageFile;

/// Magic at the start of the log file.
const MAGIC: &[u8; 8] = b"STRATAWL";
/// The log format version this build writes and reads.
const VERSION: u32 = 1;
/// Size of the log header; the first frame starts here.
pub(crate) const LOG_HEADER: u64 = 32;
/// Size of a frame header.
pub(crate) const FRAME_HEADER: usize = 32;
/// The largest payload one frame carries.
pub(crate) const MAX_FRAME_PAYLOAD: usize = 1 << 20;
const FLAG_LAST: u8 = 1;

/// What a log header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LogHeader {
    /// The log format version.
    pub version: u32,
    /// The database the log belongs to; 0 names none (a log written by
    /// format version 2).
    pub database_id: u64,
}

/// The header of a log of database `database_id`.
pub(crate) fn encode_header(database_id: u64) -> [u8; LOG_HEADER as usize] {
    let mut h = [0u8; LOG_HEADER as usize];
    h[0..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h[12..20].copy_from_slice(&database_id.to_le_bytes());
    let crc = crc32fast::hash(&h[0..28]);
    h[28..32].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Checks the log header.
pub(crate) fn check_header(h: &[u8]) -> Result<()> {
    decode_header(h).map(drop)
}

/// Decodes and checks the log header: a wrong magic or checksum, or
/// version 0, is corruption at offset 0; a version newer than this build
/// reads is `NewerFormat` (which opening reports as the log's,
/// `NewerLogFormat`).
pub(crate) fn decode_header(h: &[u8]) -> Result<LogHeader> {
    let bad = |what: &str| Error::corrupt_log(0, what.to_string());
    if h.len() < LOG_HEADER as usize || &h[0..8] != MAGIC {
        return Err(bad("not a Strata log file"));
    }
    // The checksum comes before the version: the data file beside this
    // log has already been accepted as this format, so a log header that
    // claims another version and fails its checksum is damage, not a
    // newer format.
    if get_u32(h, 28) != Some(crc32fast::hash(&h[0..28])) {
        return Err(bad("log header checksum mismatch"));
    }
    let version = get_u32(h, 8).unwrap_or(0);
    if version > VERSION {
        return Err(Error::NewerFormat {
            found: version,
            supported: VERSION,
        });
    }
    if version == 0 {
        return Err(bad("log format version 0"));
    }
    let database_id = get_u64(h, 12).unwrap_or(0);
    Ok(LogHeader {
        version,
        database_id,
    })
}

fn padded(n: usize) -> usize {
    n.next_multiple_of(8)
}

/// Writes the frames of one transaction into a buffer, as its redo record
/// arrives in pieces: each frame is closed (header, padding, checksum)
/// when it is full or the record ends.
pub(crate) struct FrameEncoder {
    salt: u64,
    lsn: u64,
    synced_through: u64,
    index: u32,
    /// Offset in the buffer of the open frame's header.
    start: usize,
    /// Payload bytes in the open frame.
    len: usize,
}

impl FrameEncoder {
    /// Opens the first frame of transaction `lsn` at the end of `out`.
    pub(crate) fn new(out: &mut Vec<u8>, salt: u64, lsn: u64, synced_through: u64) -> FrameEncoder {
        let mut e = FrameEncoder {
            salt,
            lsn,
            synced_through,
            index: 0,
            start: 0,
            len: 0,
        };
        e.open(out);
        e
    }

    fn open(&mut self, out: &mut Vec<u8>) {
        self.start = out.len();
        self.len = 0;
        out.extend_from_slice(&[0u8; FRAME_HEADER]);
    }

    fn close(&mut self, out: &mut Vec<u8>, last: bool) {
        let h = &mut out[self.start..self.start + FRAME_HEADER];
        h[4..8].copy_from_slice(&(self.len as u32).to_le_bytes());
        h[8..16].copy_from_slice(&self.lsn.to_le_bytes());
        h[16..24].copy_from_slice(&self.synced_through.to_le_bytes());
        h[24..28].copy_from_slice(&self.index.to_le_bytes());
        h[28] = if last { FLAG_LAST } else { 0 };
        let end = self.start + FRAME_HEADER + self.len;
        let crc = frame_crc(self.salt, &out[self.start + 4..end]);
        out[self.start..self.start + 4].copy_from_slice(&crc.to_le_bytes());
        out.resize(self.start + padded(FRAME_HEADER + self.len), 0);
        self.index += 1;
    }

    /// Appends record bytes, closing and opening frames as they fill.
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.len == MAX_FRAME_PAYLOAD {
                self.close(out, false);
                self.open(out);
            }
            let n = (MAX_FRAME_PAYLOAD - self.len).min(bytes.len());
            out.extend_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
        }
    }

    /// Where the open frame starts: every byte before it is complete
    /// frames, which may be written out and drained.
    pub(crate) fn open_frame_start(&self) -> usize {
        self.start
    }

    /// Tells the encoder that the first `n` bytes of the buffer were
    /// written out and drained.
    pub(crate) fn drained(&mut self, n: usize) {
        self.start -= n;
    }

    /// Closes the last frame, with the commit marker.
    pub(crate) fn finish(mut self, out: &mut Vec<u8>) {
        self.close(out, true);
    }
}

/// Appends the frames carrying `record` for transaction `lsn` to `out`.
/// An empty record still gets one frame: it carries the commit marker.
/// A fresh random salt for a log generation: the standard library's
/// randomly keyed hasher, so no dependency is needed for it.
pub(crate) fn new_salt() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
pub(crate) fn encode_frames(
    out: &mut Vec<u8>,
    salt: u64,
    lsn: u64,
    synced_through: u64,
    record: &[u8],
) {
    let mut e = FrameEncoder::new(out, salt, lsn, synced_through);
    e.write(out, record);
    e.finish(out);
}

/// Bytes the frames of a record of `len` bytes take.
pub(crate) fn frames_len(len: usize) -> usize {
    if len == 0 {
        return FRAME_HEADER;
    }
    let full = len / MAX_FRAME_PAYLOAD;
    let rest = len % MAX_FRAME_PAYLOAD;
    full * padded(FRAME_HEADER + MAX_FRAME_PAYLOAD)
        + if rest > 0 {
            padded(FRAME_HEADER + rest)
        } else {
            0
        }
}

/// The checksum of a frame: its salt, then bytes 4..32 and the payload.
fn frame_crc(salt: u64, body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&salt.to_le_bytes());
    h.update(body);
    h.finalize()
}

/// A frame whose checksum holds.
struct Frame<'a> {
    lsn: u64,
    synced_through: u64,
    index: u32,
    last: bool,
    payload: &'a [u8],
    /// Offset just past the frame and its padding.
    end: usize,
}

/// The valid frame at `off` of `log`, if there is one whose LSN is at
/// least `min_lsn` (checked before the checksum, to skip old frames fast).
fn frame_at(log: &[u8], off: usize, salt: u64, min_lsn: u64) -> Option<Frame<'_>> {
    let lsn = get_u64(log, off + 8)?;
    if lsn < min_lsn {
        return None;
    }
    let len = get_u32(log, off + 4)? as usize;
    let flags = *log.get(off + 28)?;
    if len > MAX_FRAME_PAYLOAD
        || flags & !FLAG_LAST != 0
        || log.get(off + 29..off + 32)? != [0, 0, 0]
    {
        return None;
    }
    let body = log.get(off + 4..off + FRAME_HEADER + len)?;
    if get_u32(log, off)? != frame_crc(salt, body) {
        return None;
    }
    Some(Frame {
        lsn,
        synced_through: get_u64(log, off + 16)?,
        index: get_u32(log, off + 24)?,
        last: flags & FLAG_LAST != 0,
        payload: &log[off + FRAME_HEADER..off + FRAME_HEADER + len],
        end: off + padded(FRAME_HEADER + len),
    })
}

/// A meta page that failed its checks while recovery starts from the other
/// one: what its bytes claim, unverified, for telling whether the log was
/// started over after it (see [`recover`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DamagedMeta {
    /// Its page number.
    pub page: u32,
    /// Its sequence number field says it is the newer of the two.
    pub claims_newer: bool,
    /// Its log salt field.
    pub salt: u64,
}

/// The header fields of the frame-shaped bytes at `off`, checksum not
/// checked: `(lsn, synced_through)`.
fn frame_head(log: &[u8], off: usize) -> Option<(u64, u64)> {
    let len = get_u32(log, off + 4)? as usize;
    let flags = *log.get(off + 28)?;
    if len > MAX_FRAME_PAYLOAD
        || flags & !FLAG_LAST != 0
        || log.get(off + 29..off + 32)? != [0, 0, 0]
    {
        return None;
    }
    Some((get_u64(log, off + 8)?, get_u64(log, off + 16)?))
}

/// Refuses a log that a checkpoint newer than the meta page recovery
/// starts from has started over (FALLING BACK in the module notes).
pub(crate) fn check_generation(
    log: &[u8],
    checkpoint_lsn: u64,
    salt: u64,
    damaged: Option<DamagedMeta>,
) -> Result<()> {
    let off = LOG_HEADER as usize;
    let expected = checkpoint_lsn + 1;
    if frame_at(log, off, salt, expected).is_some() {
        return Ok(()); // this generation's own first frame
    }
    // The first frame of a generation records the generation's checkpoint
    // as synced-through: anything else at offset 32 is not one.
    let Some((lsn, synced)) = frame_head(log, off) else {
        return Ok(());
    };
    if synced.checked_add(1) != Some(lsn) || lsn < expected {
        return Ok(());
    }
    let newer = lsn > expected
        || damaged
            .is_some_and(|d| d.claims_newer || frame_at(log, off, d.salt, expected).is_some());
    if !newer {
        return Ok(());
    }
    Err(match damaged {
        Some(d) => Error::corrupt_page(
            d.page,
            format!(
                "meta page {} is damaged, and the log was started over after it \
                 (its first frame is transaction {lsn}, the other meta page's checkpoint \
                 is {checkpoint_lsn}): falling back to the other meta page would lose \
                 committed transactions",
                d.page
            ),
        ),
        None => Error::corrupt_log(
            LOG_HEADER,
            format!(
                "the log was started over by a checkpoint newer than the newest valid \
                 meta page (its first frame is transaction {lsn}, the meta page's \
                 checkpoint is {checkpoint_lsn}): that meta page never became durable, \
                 or the data file is older than its log"
            ),
        ),
    })
}

/// What recovery found in the log.
#[derive(Debug)]
pub(crate) struct Recovered {
    /// LSN of the last transaction replayed (the checkpoint LSN if none).
    pub last_lsn: u64,
    /// Where the next frame goes.
    pub end: u64,
    /// Leftover frames of this generation lie past the end: a new
    /// generation must start before new frames are written. (Opening
    /// always starts one; the tests read this.)
    #[cfg_attr(not(test), allow(dead_code))]
    pub leftovers: bool,
}

/// The whole log file.
pub(crate) fn read_all(file: &dyn StorageFile) -> Result<Vec<u8>> {
    let len = file.len()?;
    let len = usize::try_from(len).map_err(|_| Error::corrupt_log(0, "log file too large"))?;
    let mut log = vec![0u8; len];
    file.read_at(&mut log, 0)?;
    Ok(log)
}

/// Reads the whole log and calls `replay(lsn, record, offset)` for every
/// complete transaction after `checkpoint_lsn`, in order.
pub(crate) fn recover(
    file: &dyn StorageFile,
    checkpoint_lsn: u64,
    salt: u64,
    mut replay: impl FnMut(u64, &[u8], u64) -> Result<()>,
) -> Result<Recovered> {
    let log = read_all(file)?;
    check_header(&log)?;
    check_generation(&log, checkpoint_lsn, salt, None)?;
    let mut expected = checkpoint_lsn + 1;
    let mut off = LOG_HEADER as usize;
    let mut txn_start = off;
    let mut record = Vec::new();
    let mut index = 0u32;
    while let Some(f) = frame_at(&log, off, salt, expected) {
        if f.lsn != expected || f.index != index {
            break;
        }
        record.extend_from_slice(f.payload);
        off = f.end;
        if f.last {
            replay(expected, &record, txn_start as u64)?;
            record.clear();
            expected += 1;
            index = 0;
            txn_start = off;
        } else {
            index += 1;
        }
    }
    // Everything from `txn_start` on is a tail: torn, or damaged.
    let mut leftovers = false;
    let mut at = txn_start;
    while at + FRAME_HEADER <= log.len() {
        match frame_at(&log, at, salt, expected) {
            Some(f) if f.synced_through >= expected => {
                return Err(Error::corrupt_log(
                    txn_start as u64,
                    format!(
                        "transaction {expected} is damaged, but a later frame at offset {at} shows it was durable"
                    ),
                ));
            }
            Some(f) => {
                leftovers = true;
                at = f.end;
            }
            None => at += 8,
        }
    }
    Ok(Recovered {
        last_lsn: expected - 1,
        end: txn_start as u64,
        leftovers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SALT: u64 = 0x5EED;
    const DATABASE: u64 = 0xDA7A;

    fn log_of(records: &[(u64, u64, &[u8])]) -> Vec<u8> {
        let mut log = encode_header(DATABASE).to_vec();
        for (lsn, synced, rec) in records {
            encode_frames(&mut log, SALT, *lsn, *synced, rec);
        }
        log
    }

    type Replayed = Vec<(u64, Vec<u8>)>;

    fn replay_all(log: &[u8], ckpt: u64) -> Result<(Replayed, Recovered)> {
        let vfs = crate::storage::SimVfs::new(1);
        use crate::storage::{OpenMode, Vfs};
        let f = vfs
            .open(std::path::Path::new("log"), OpenMode::CreateNew)
            .unwrap();
        f.write_at(log, 0).unwrap();
        let mut seen = Vec::new();
        let r = recover(&*f, ckpt, SALT, |lsn, rec, _| {
            seen.push((lsn, rec.to_vec()));
            Ok(())
        })?;
        Ok((seen, r))
    }

    #[test]
    fn frames_round_trip_and_split_large_records() {
        let big = vec![7u8; MAX_FRAME_PAYLOAD * 2 + 5];
        let log = log_of(&[(1, 0, b"one"), (2, 1, &big), (3, 2, b"")]);
        assert_eq!(
            log.len() - LOG_HEADER as usize,
            frames_len(3) + frames_len(big.len()) + frames_len(0)
        );
        let (seen, r) = replay_all(&log, 0).unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[1].1, big);
        assert_eq!(r.last_lsn, 3);
        assert_eq!(r.end, log.len() as u64);
        // After a checkpoint at 3 the same log holds nothing to replay.
        let (seen, r) = replay_all(&log, 3).unwrap();
        assert!(seen.is_empty());
        assert_eq!(r.end, LOG_HEADER);
        assert!(!r.leftovers);
        // A recycled log after a checkpoint at 1: transaction 2 overwrote
        // the start, leftovers of 1 follow and are ignored.
        let mut recycled = log_of(&[(2, 1, b"two")]);
        recycled.extend_from_slice(&log[recycled.len()..]);
        let (seen, _) = replay_all(&recycled, 1).unwrap();
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn torn_tail_is_cut_and_leftovers_marked() {
        // 3 was durable when 4 and 5 were written; 4 is torn.
        let log = log_of(&[(1, 0, b"a"), (2, 1, b"b"), (3, 2, b"c")]);
        let torn_at = log.len();
        let mut log = log;
        encode_frames(&mut log, SALT, 4, 3, b"dddd");
        encode_frames(&mut log, SALT, 5, 3, b"e");
        log[torn_at + 33] ^= 0xFF;
        let (seen, r) = replay_all(&log, 0).unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(r.end, torn_at as u64);
        assert!(r.leftovers);
    }

    #[test]
    fn damage_before_durable_frames_is_corruption() {
        let mut log = log_of(&[(1, 0, b"a")]);
        let two_at = log.len();
        encode_frames(&mut log, SALT, 2, 1, b"b");
        encode_frames(&mut log, SALT, 3, 2, b"c"); // says 2 was durable
        log[two_at + 32] ^= 1;
        let err = replay_all(&log, 0).unwrap_err();
        assert!(err.is_corruption(), "{err}");
    }

    #[test]
    fn frames_of_another_generation_are_not_frames() {
        // A frame with the right LSN, checksummed with another salt (an
        // earlier generation, or bytes forged inside a stored value).
        let mut log = encode_header(DATABASE).to_vec();
        encode_frames(&mut log, SALT + 1, 1, 0, b"old");
        let mut forged = encode_header(DATABASE).to_vec();
        encode_frames(&mut forged, SALT, 1, 0, b"a");
        encode_frames(&mut forged, SALT + 1, 2, 9, b"claims 1 was durable");
        let (seen, r) = replay_all(&log, 0).unwrap();
        assert!(seen.is_empty() && !r.leftovers);
        let (seen, r) = replay_all(&forged, 0).unwrap();
        assert_eq!(seen.len(), 1);
        assert!(!r.leftovers);
    }

    #[test]
    fn header_is_checked() {
        // A newer log header, sealed as its writer would: refused as such.
        let mut log = log_of(&[]);
        log[9] = 9;
        let crc = crc32fast::hash(&log[0..28]);
        log[28..32].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            replay_all(&log, 0),
            Err(Error::NewerFormat { found: 0x901, .. })
        ));
        // A flipped version bit fails the checksum: damage, not a format.
        let mut log = log_of(&[]);
        log[8] ^= 2;
        assert!(replay_all(&log, 0).unwrap_err().is_corruption());
        let mut log = log_of(&[]);
        log[0] = b'X';
        assert!(replay_all(&log, 0).unwrap_err().is_corruption());
    }

    #[test]
    fn header_names_its_database() {
        let log = log_of(&[]);
        assert_eq!(
            decode_header(&log).unwrap(),
            LogHeader {
                version: 1,
                database_id: DATABASE
            }
        );
        // A header written by format version 2 has zeros there: it names
        // no database.
        let mut old = log.clone();
        old[12..20].fill(0);
        let crc = crc32fast::hash(&old[0..28]);
        old[28..32].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(decode_header(&old).unwrap().database_id, 0);
        // The id is covered by the checksum.
        let mut flipped = log;
        flipped[13] ^= 4;
        assert!(decode_header(&flipped).unwrap_err().is_corruption());
    }
}
