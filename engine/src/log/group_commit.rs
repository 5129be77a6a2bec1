//! Appending to the log, and group commit: committers that arrive while a
//! sync is under way share the next one.
//!
//! DESIGN
//!
//! A committer appends its frames to an in-memory buffer (under the
//! database's commit latch, so that log order is commit order) and then
//! calls [`LogWriter::flush`] to wait until its LSN is written, or written
//! and synced. The first waiter to find no write in progress becomes the
//! *leader*: it takes the whole buffer, writes it at the end of the log and
//! syncs, with no lock held, while later committers keep appending to a
//! fresh buffer. When the leader is done it wakes everyone; a waiter whose
//! LSN is now durable returns, and one of the rest leads the next round
//! with everything that accumulated meanwhile. One thread alone pays one
//! write and one sync per commit; many threads pay about one sync per
//! round.
//!
//! FAILURE
//!
//! A failed write or sync is never retried (a retried fsync can report
//! success for data the kernel already dropped). The writer records the
//! failure, wakes every waiter with it, and refuses all later work; the
//! database poisons its handle.
//!
//! WATCHING THE PATH
//!
//! A writable handle's writer knows the identity of its log file and the
//! path it was opened at ([`LogWriter::watch`]). Each checkpoint asks
//! [`LogWriter::moved`] whether the file at that path is still this one:
//! a log deleted, renamed or replaced while the database is open would
//! otherwise take commits that no recovery would ever read.

use crate::error::{Error, Result};
use crate::log::log_record::{self, Op};
use crate::log::wal::{self, LOG_HEADER};
use crate::storage::{FileId, StorageFile, Vfs};
use parking_lot::{Condvar, Mutex};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// What the log writer's mutex protects: the buffer of appended frames,
/// the LSN counters, the allocation and the current generation.
#[derive(Debug)]
struct LogState {
    /// Frames appended but not yet handed to the file.
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    buf_offset: u64,
    /// LSN of the last transaction appended.
    appended: u64,
    /// LSN of the last transaction written to the file.
    written: u64,
    /// LSN of the last transaction known durable.
    durable: u64,
    /// A leader is writing or syncing.
    busy: bool,
    /// Why the log failed, once it has.
    failed: Option<String>,
    /// A spare buffer, so that leaders and appenders swap allocations
    /// rather than make new ones.
    spare: Vec<u8>,
    /// Bytes of the file already written (with frames or zeros): frames
    /// below this overwrite allocated blocks.
    allocated: u64,
    /// Syncs done.
    syncs: u64,
    /// The salt of the current log generation (`wal.rs`).
    salt: u64,
}

/// GROWTH
///
/// The log grows by at least this much at a time, with zeros written
/// ahead of the frames, so that most commits overwrite allocated blocks
/// rather than append (an append's sync must also journal the new size).
/// A committer whose frames would pass the allocated end first writes
/// zeros from there to this far beyond its frames (or a quarter more than
/// the allocation, if that is further), before it appends anything
/// (`LogWriter::reserve`). On a full disk that write is what fails, and
/// it fails before the transaction touched the log or the tree: the
/// commit returns `StorageFull`, the transaction is rolled back, and the
/// handle is not poisoned. Writing the frames themselves then only
/// overwrites allocated blocks.
const GROW_BY: u64 = 1 << 20;

/// Writes the log; shares syncs between committers.
#[derive(Debug)]
pub(crate) struct LogWriter {
    file: Box<dyn StorageFile>,
    state: Mutex<LogState>,
    done: Condvar,
    /// Length the log is cut back to after a checkpoint if it grew past it.
    keep: u64,
    /// Where the file should be found (WATCHING THE PATH).
    watch: Option<Watch>,
}

/// The path a log file was opened at, and its identity then.
#[derive(Debug)]
struct Watch {
    vfs: Arc<dyn Vfs>,
    path: PathBuf,
    id: FileId,
}

impl LogWriter {
    /// A writer that continues the log at `end`, after transaction
    /// `last_lsn` (all of which is durable, having been recovered).
    pub(crate) fn new(
        file: Box<dyn StorageFile>,
        end: u64,
        last_lsn: u64,
        allocated: u64,
        keep: u64,
        salt: u64,
    ) -> LogWriter {
        LogWriter {
            file,
            state: Mutex::new(LogState {
                buf: Vec::new(),
                buf_offset: end,
                appended: last_lsn,
                written: last_lsn,
                durable: last_lsn,
                busy: false,
                failed: None,
                spare: Vec::new(),
                allocated,
                syncs: 0,
                salt,
            }),
            done: Condvar::new(),
            keep: keep.max(LOG_HEADER),
            watch: None,
        }
    }

    /// From now on, [`LogWriter::moved`] checks that the log file is still
    /// the one at `path`. A file system that cannot tell files apart
    /// (`FileId` unsupported) turns the check off.
    pub(crate) fn watch(&mut self, vfs: Arc<dyn Vfs>, path: PathBuf) {
        self.watch = self.file.file_id().ok().map(|id| Watch { vfs, path, id });
    }

    /// [`Error::LogReplaced`] if the file at the watched path is no longer
    /// this log: nothing is there, or another file is. An error that says
    /// neither (permissions, an I/O failure) tells nothing, and is not one.
    pub(crate) fn moved(&self) -> Option<Error> {
        let w = self.watch.as_ref()?;
        match w.vfs.file_id(&w.path) {
            Ok(id) if id == w.id => None,
            Err(e) if e.kind() != io::ErrorKind::NotFound => None,
            _ => Some(Error::LogReplaced {
                path: w.path.clone(),
            }),
        }
    }

    /// Appends the frames of transaction `lsn`, whose redo record is the
    /// encoding of `ops`, encoded straight into the log buffer. A large
    /// record is written out as it is encoded, a few MiB at a time, rather
    /// than held whole. The caller holds the commit latch and assigns LSNs
    /// in order.
    ///
    /// `size` is the record's length (the sum of `encoded_len` over
    /// `ops`), for which the caller has called [`LogWriter::reserve`]
    /// first.
    pub(crate) fn append_ops(&self, lsn: u64, ops: &[Op<'_>], size: usize) -> Result<()> {
        const WRITE_AHEAD: usize = 4 << 20;
        let mut s = self.state.lock();
        debug_assert_eq!(lsn, s.appended + 1, "LSNs are appended in order");
        if let Some(cause) = &s.failed {
            return Err(Error::Poisoned {
                cause: cause.clone(),
            });
        }
        debug_assert!(
            s.buf_offset + s.buf.len() as u64 + wal::frames_len(size) as u64 <= s.allocated,
            "the caller reserved room for the record"
        );
        if size < WRITE_AHEAD {
            // The usual case: into the buffer, while a leader may be
            // writing and syncing the previous one (group commit).
            let (synced, salt) = (s.durable, s.salt);
            let buf = &mut s.buf;
            let mut frames = wal::FrameEncoder::new(buf, salt, lsn, synced);
            for op in ops {
                log_record::encode_with(op, &mut |bytes| frames.write(buf, bytes));
            }
            frames.finish(buf);
            s.appended = lsn;
            return Ok(());
        }
        // A large record: own the tail of the log (no leader may write
        // while we encode) and write it out as it is encoded.
        while s.busy {
            self.done.wait(&mut s);
        }
        s.busy = true;
        let (synced, salt) = (s.durable, s.salt);
        let mut buf = std::mem::take(&mut s.buf);
        let mut offset = s.buf_offset;
        drop(s);
        let mut result = Ok(());
        let mut frames = wal::FrameEncoder::new(&mut buf, salt, lsn, synced);
        for op in ops {
            log_record::encode_with(op, &mut |bytes| frames.write(&mut buf, bytes));
            let done = frames.open_frame_start();
            if done >= WRITE_AHEAD && result.is_ok() {
                result = self.file.write_at(&buf[..done], offset);
                offset += done as u64;
                buf.drain(..done);
                frames.drained(done);
            }
        }
        frames.finish(&mut buf);
        let mut s = self.state.lock();
        s.busy = false;
        s.buf = buf;
        s.buf_offset = offset;
        s.appended = lsn;
        if let Err(e) = result {
            let err = Error::from(e);
            s.failed = Some(err.to_string());
            self.done.notify_all();
            return Err(err);
        }
        self.done.notify_all();
        Ok(())
    }

    /// Makes sure the log file is allocated (written, with zeros) far
    /// enough past the frames appended so far for the frames of a record
    /// of `size` bytes (see GROWTH). The caller holds the commit latch, so
    /// no one else appends or grows meanwhile; a leader may be writing
    /// frames, but only below the allocated end. If this fails, nothing was
    /// appended and the log stays usable.
    pub(crate) fn reserve(&self, size: usize) -> Result<()> {
        let extra = wal::frames_len(size) as u64;
        let (end, allocated) = {
            let s = self.state.lock();
            if let Some(cause) = &s.failed {
                return Err(Error::Poisoned {
                    cause: cause.clone(),
                });
            }
            (s.buf_offset + s.buf.len() as u64 + extra, s.allocated)
        };
        if end <= allocated {
            return Ok(());
        }
        let to = (end + GROW_BY).max(allocated + allocated / 4);
        // A failure leaves zeros, at most, past every frame: harmless, and
        // written again by the next attempt.
        write_zeros(&*self.file, allocated, to)?;
        let mut s = self.state.lock();
        s.allocated = s.allocated.max(to);
        Ok(())
    }

    /// Takes LSN `lsn` for a transaction whose changes reach the disk by a
    /// checkpoint, not the log (the caller holds the commit latch).
    pub(crate) fn skip(&self, lsn: u64) {
        let mut s = self.state.lock();
        debug_assert_eq!(lsn, s.appended + 1, "LSNs are taken in order");
        s.appended = lsn;
    }

    /// Returns once transaction `lsn` is written to the file, and with
    /// `sync`, durable.
    pub(crate) fn flush(&self, lsn: u64, sync: bool) -> Result<()> {
        let mut s = self.state.lock();
        loop {
            if let Some(cause) = &s.failed {
                return Err(Error::Poisoned {
                    cause: cause.clone(),
                });
            }
            if s.durable >= lsn || (!sync && s.written >= lsn) {
                return Ok(());
            }
            if s.busy {
                self.done.wait(&mut s);
                continue;
            }
            // Lead a round: everything appended so far.
            s.busy = true;
            let spare = std::mem::take(&mut s.spare);
            let buf = std::mem::replace(&mut s.buf, spare);
            let offset = s.buf_offset;
            s.buf_offset += buf.len() as u64;
            let last = s.appended;
            let group = last - s.written;
            debug_assert!(
                s.buf_offset <= s.allocated,
                "frames are appended only below the allocated end (`reserve`)"
            );
            drop(s);
            let started = Instant::now();
            let result = self
                .file
                .write_at(&buf, offset)
                .and_then(|()| if sync { self.file.sync_data() } else { Ok(()) });
            tracing::debug!(
                target: "strata::commit",
                group,
                bytes = buf.len(),
                sync,
                write_us = started.elapsed().as_micros() as u64,
                "log round"
            );
            s = self.state.lock();
            s.busy = false;
            let mut buf = buf;
            buf.clear();
            s.spare = buf;
            match result {
                Ok(()) => {
                    s.written = last;
                    if sync {
                        s.durable = last;
                        s.syncs += 1;
                    }
                }
                Err(e) => {
                    let err = Error::from(e);
                    s.failed = Some(err.to_string());
                    self.done.notify_all();
                    return Err(err);
                }
            }
            self.done.notify_all();
        }
    }

    /// LSN of the last transaction appended.
    pub(crate) fn appended(&self) -> u64 {
        self.state.lock().appended
    }

    /// Number of syncs of the log so far.
    pub(crate) fn syncs(&self) -> u64 {
        self.state.lock().syncs
    }

    /// The log's length in use: where the next frame would go.
    pub(crate) fn end(&self) -> u64 {
        let s = self.state.lock();
        s.buf_offset + s.buf.len() as u64
    }

    /// Starts the log over, as generation `salt`, after a checkpoint has
    /// made everything up to the last appended transaction durable in the
    /// data file. The caller holds
    /// the commit latch and has flushed with sync, so nothing is buffered.
    /// A log that grew past `keep` (the larger of the preallocated size
    /// and the checkpoint threshold) is cut back to it; with `shrink_to`
    /// (compaction), a log longer than that is cut back to it instead.
    pub(crate) fn recycle(&self, salt: u64, shrink_to: Option<u64>) -> Result<()> {
        let mut s = self.state.lock();
        debug_assert!(s.buf.is_empty() && !s.busy, "recycle after a full flush");
        s.salt = salt;
        s.buf_offset = LOG_HEADER;
        s.buf.clear();
        let keep = shrink_to.map_or(self.keep, |k| k.clamp(LOG_HEADER, self.keep));
        let longer = match shrink_to {
            Some(_) => self.file.len()? > keep,
            None => s.allocated > keep,
        };
        if longer {
            // The log outgrew what it keeps: give the space back. Not
            // synced: a longer log after a crash is harmless, its frames
            // are all older than the checkpoint.
            s.allocated = s.allocated.min(keep);
            drop(s);
            self.file.set_len(keep)?;
        }
        Ok(())
    }

    /// The log file's length in bytes.
    pub(crate) fn file_len(&self) -> Result<u64> {
        Ok(self.file.len()?)
    }

    /// Marks the log failed (the database is poisoned for another reason).
    pub(crate) fn fail(&self, cause: &str) {
        let mut s = self.state.lock();
        if s.failed.is_none() {
            s.failed = Some(cause.to_string());
        }
        self.done.notify_all();
    }
}

/// Fills a new, empty log file of database `database_id`: the header,
/// then zeros up to the preallocated size, synced. (Where the file is
/// made and how it gets its name is the opener's business:
/// `db/log_file.rs`.)
pub(crate) fn write_new_log(
    file: &dyn StorageFile,
    preallocate: u64,
    database_id: u64,
) -> Result<()> {
    file.write_at(&wal::encode_header(database_id), 0)?;
    if preallocate > LOG_HEADER {
        write_zeros(file, LOG_HEADER, preallocate)?;
    }
    file.sync_data()?;
    Ok(())
}

/// Writes zeros over `from..to` of `file`.
pub(crate) fn write_zeros(file: &dyn StorageFile, from: u64, to: u64) -> std::io::Result<()> {
    let zeros = vec![0u8; (to - from).min(1 << 20) as usize];
    let mut off = from;
    while off < to {
        let n = (to - off).min(zeros.len() as u64) as usize;
        file.write_at(&zeros[..n], off)?;
        off += n as u64;
    }
    Ok(())
}
