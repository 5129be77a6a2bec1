//! Readers and writers: TPC-B's writers beside long-lived readers.
//!
//! WHAT IT MEASURES
//!
//! What an open read transaction costs the writers. [`WRITERS`] clients
//! run the TPC-B transaction ([`crate::tpcb`]) for the usual fixed time
//! beside 0, 1 and 4 long-lived readers ([`READERS`]). A long-lived reader
//! opens one read transaction before the writers start and keeps it open
//! until they have stopped. The figure that matters is the writers'
//! throughput with R long-lived readers divided by their throughput with
//! none: where readers do not block writers (Strata's snapshots, SQLite's
//! WAL mode, redb, LMDB), it shows what keeping an old snapshot readable
//! costs instead. SQLite cannot checkpoint its WAL past an open reader, so
//! the WAL grows; redb and LMDB cannot reuse pages an open reader can see,
//! so the file grows; Strata keeps the before-images of changed keys in
//! memory, up to `Options::max_snapshot_memory`, past which it expires the
//! oldest snapshot. The files' sizes as the writers left them (the readers
//! still open) and Strata's snapshot counters are reported beside the
//! rates.
//!
//! HOW
//!
//! Each count of long-lived readers runs on a freshly loaded database in a
//! directory of its own, so that the three runs start alike and each
//! one's files show only its own growth. The readers begin their
//! transactions (and a first read, which is when SQLite takes its
//! snapshot) before the writers' clock starts; the writers then run; the
//! files are measured; only then are the readers told to stop.
//!
//! A reader reads [`READ_BATCH`] random accounts and then every teller and
//! branch, and pauses [`READ_PAUSE`] before the next batch. The pause is
//! deliberate: on a machine with few cores, readers reading flat out would
//! take CPU time from the writers, and the ratio would measure that rather
//! than what their open snapshots cost. Reader gets/s are therefore over
//! the time spent reading, pauses excluded: how fast an old snapshot
//! reads while the writers run.
//!
//! Every run has the same [`READER_THREADS`] readers, doing the same reads
//! and pauses; only how many of them are long-lived changes. The others
//! are short-lived: each batch in a read transaction of its own, begun
//! after the pause and ended before the next, so that no snapshot of
//! theirs is open while they pause. Without them, "0 readers" would
//! differ from "4 readers" by four threads waking every few milliseconds
//! as well as by four old snapshots, and on a virtual machine whose CPUs
//! are mostly idle (the writers wait for their syncs) such wake-ups alone
//! made the writers up to twice as fast: threads that keep a CPU from
//! going idle shorten the writers' wake-ups after each sync.
//!
//! CHECKS
//!
//! Every read must find its row. A reader's first snapshot began before
//! any writer committed, on a freshly loaded database, so every balance it
//! reads must be 0, however late the read. In every snapshot the teller
//! balances and the branch balances must have the same total (each
//! transaction adds its delta to one of each). After each run the TPC-B
//! balance check must pass. Any failure fails the run.
//!
//! A Strata snapshot expired to bound memory reads as [`Read::TooOld`];
//! the reader then begins a new one, as an application would, and counts
//! it. The other engines' snapshots never expire.

use crate::rng::Rng;
use crate::tpcb::{self, Clients, Scale, Table};
use crate::{Out, Result, fail};
use std::path::Path;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Long-lived readers, in the order the runs go.
pub const READERS: [u32; 3] = [0, 1, 4];
/// Readers in every run: the long-lived ones and short-lived ones.
pub const READER_THREADS: u32 = 4;
/// Writer clients, in every run.
pub const WRITERS: u32 = 4;
/// Accounts a reader reads before it reads the tellers and branches and
/// pauses.
pub const READ_BATCH: u32 = 100;
/// A reader's pause after each batch.
pub const READ_PAUSE: Duration = Duration::from_millis(5);

const READ_SEED: u64 = 0x7EAD_0000;

/// What a read in a reader's snapshot found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// The row, with its balance.
    Row(i64),
    /// No such row.
    Missing,
    /// The snapshot expired (Strata past `max_snapshot_memory`): end it
    /// and begin a new one.
    TooOld,
}

/// A reader's session: a connection or handle, made on the thread that
/// uses it, and a read transaction from [`Engine::reader`] or
/// [`Reader::begin`] to [`Reader::end`] or the session's drop.
pub trait Reader {
    /// The balance of row `id` of `table` in the open transaction's
    /// snapshot.
    fn balance(&mut self, table: Table, id: u32) -> Result<Read>;
    /// Ends the read transaction: the session holds no snapshot.
    fn end(&mut self) -> Result<()>;
    /// Begins a new read transaction, its snapshot taken.
    fn begin(&mut self) -> Result<()>;
}

/// Strata's snapshot counters ([`strata_engine::Stats`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct SnapshotStats {
    /// Snapshots expired to bound their memory, since the handle opened.
    pub expired: u64,
    /// Memory the versions take now, in bytes.
    pub bytes: u64,
    /// Checkpoints since the handle opened.
    pub checkpoints: u64,
}

/// An engine loaded with the TPC-B tables that can hold read sessions.
pub trait Engine: tpcb::Engine {
    /// A new reader session in a read transaction, its snapshot taken.
    fn reader(&self) -> Result<Box<dyn Reader + '_>>;
    /// Strata's snapshot counters; `None` for the other engines.
    fn snapshot_stats(&self) -> Option<SnapshotStats> {
        None
    }
}

/// Loads a fresh engine in the directory given.
pub type Load<'a> = dyn Fn(&Path) -> Result<Box<dyn Engine>> + 'a;

/// Runs every reader count, each on a database `load` makes in a fresh
/// directory under `dir`, and writes the figures to `out`.
pub fn run(load: &Load, scale: Scale, seconds: f64, dir: &Path, out: &mut Out) -> Result<()> {
    let mut alone = None;
    for readers in READERS {
        let sub = dir.join(format!("r{readers}"));
        std::fs::create_dir_all(&sub)?;
        let tps = run_one(load(&sub)?.as_ref(), scale, readers, seconds, &sub, out)?;
        std::fs::remove_dir_all(&sub)?;
        match alone {
            None => alone = Some(tps),
            Some(a) => out.put(&format!("r{readers}.vs_r0"), format!("{:.3}", tps / a)),
        }
    }
    out.put("balance_check", "passed");
    out.put("reader_check", "passed");
    Ok(())
}

/// One reader count on a freshly loaded `engine`; returns the writers'
/// transactions per second.
fn run_one(
    engine: &dyn Engine,
    scale: Scale,
    readers: u32,
    seconds: f64,
    dir: &Path,
    out: &mut Out,
) -> Result<f64> {
    tpcb::check_fresh(engine)?;
    let p = format!("r{readers}");
    let counters = engine.counters();
    let snapshots = engine.snapshot_stats();
    let mut writers = Clients::default();
    let stop = AtomicBool::new(false);
    let ready = Barrier::new(READER_THREADS as usize + 1);
    let (burst, files, snapshots_after, reads) = std::thread::scope(|s| {
        let joins: Vec<_> = (0..READER_THREADS)
            .map(|i| {
                let (ready, stop) = (&ready, &stop);
                s.spawn(move || read_until(engine, scale, i, i < readers, ready, stop))
            })
            .collect();
        ready.wait();
        let burst = writers.burst(engine, scale, WRITERS, seconds);
        // As the writers left them, with the readers still open.
        let files = Files::measure(dir);
        let snapshots_after = engine.snapshot_stats();
        stop.store(true, Ordering::Relaxed);
        let reads: Result<Vec<Reads>> = joins
            .into_iter()
            .map(|j| j.join().map_err(|_| "a reader thread panicked")?)
            .collect();
        (burst, files, snapshots_after, reads)
    });
    let (burst, reads) = (burst?, reads?);
    burst.report(&p, out);
    tpcb::report_counters(&p, &counters, &engine.counters(), out);
    report_reads(&p, &reads, out);
    files?.report(&p, out);
    if let (Some(b), Some(a)) = (snapshots, snapshots_after) {
        out.put(&format!("{p}.snapshots_expired"), a.expired - b.expired);
        out.put(&format!("{p}.checkpoints"), a.checkpoints - b.checkpoints);
        out.put(
            &format!("{p}.snapshot_mb"),
            format!("{:.2}", a.bytes as f64 / 1e6),
        );
    }
    writers.check_balances(engine, &p, out)?;
    Ok(burst.tps())
}

/// What one reader did.
#[derive(Clone, Copy, Debug, Default)]
struct Reads {
    long_lived: bool,
    gets: u64,
    /// Time spent reading, pauses excluded.
    busy: Duration,
    /// New snapshots begun because the last one expired.
    expired: u64,
}

/// Writes the long-lived readers' mean gets/s and the snapshots they had
/// to begin again.
fn report_reads(p: &str, reads: &[Reads], out: &mut Out) {
    let long: Vec<&Reads> = reads.iter().filter(|r| r.long_lived).collect();
    if long.is_empty() {
        return;
    }
    let each: f64 = long
        .iter()
        .map(|r| r.gets as f64 / r.busy.as_secs_f64().max(1e-9))
        .sum::<f64>()
        / long.len() as f64;
    out.put(&format!("{p}.reader_gets"), format!("{each:.1}"));
    out.put(
        &format!("{p}.reader_renewals"),
        long.iter().map(|r| r.expired).sum::<u64>(),
    );
}

/// A reader's session with the checks of its reads: which snapshot it is
/// in, and what it may read there.
struct Session<'a> {
    reader: Box<dyn Reader + 'a>,
    /// In a read transaction.
    open: bool,
    /// Still in the snapshot begun before the writers: every balance is 0.
    first: bool,
    /// Snapshots begun after the first.
    renewals: u64,
    reads: Reads,
}

impl Session<'_> {
    fn end(&mut self) -> Result<()> {
        self.open = false;
        self.reader.end()
    }

    fn begin(&mut self) -> Result<()> {
        self.reader.begin()?;
        self.open = true;
        self.renewals += 1;
        self.first = false;
        Ok(())
    }

    /// Ends the snapshot and begins a new one.
    fn renew(&mut self) -> Result<()> {
        self.end()?;
        self.begin()
    }

    /// The balance of row `id` of `table`, in a new snapshot if the
    /// current one expired.
    fn balance(&mut self, table: Table, id: u32) -> Result<i64> {
        self.reads.gets += 1;
        let read = match self.reader.balance(table, id)? {
            Read::TooOld => {
                self.renew()?;
                self.reads.expired += 1;
                self.reader.balance(table, id)?
            }
            read => read,
        };
        match read {
            Read::Row(b) if self.first && b != 0 => fail!(
                "a reader's first snapshot, begun before any writer, reads {} {id} \
                 with balance {b}",
                table.name()
            ),
            Read::Row(b) => Ok(b),
            Read::Missing => fail!("{} {id} is missing from a reader's snapshot", table.name()),
            Read::TooOld => fail!("a reader's new snapshot expired at once"),
        }
    }

    /// The total of the balances of rows `1..=n` of `table`.
    fn total(&mut self, table: Table, n: u32) -> Result<i64> {
        (1..=n).map(|id| self.balance(table, id)).sum()
    }

    /// The teller and branch totals must agree, unless the snapshot was
    /// renewed while they were read.
    fn check_totals(&mut self, scale: Scale) -> Result<()> {
        let renewals = self.renewals;
        let tellers = self.total(Table::Tellers, scale.tellers)?;
        let branches = self.total(Table::Branches, scale.branches)?;
        if tellers != branches && renewals == self.renewals {
            fail!("a reader's snapshot has tellers totalling {tellers} but branches {branches}");
        }
        Ok(())
    }
}

/// One reader: begins its session, waits for the others, and reads in
/// batches until `stop`, in one snapshot if `long_lived`, else in a new
/// one for each batch.
fn read_until(
    engine: &dyn Engine,
    scale: Scale,
    number: u32,
    long_lived: bool,
    ready: &Barrier,
    stop: &AtomicBool,
) -> Result<Reads> {
    let reader = engine.reader();
    ready.wait();
    let mut session = Session {
        reader: reader?,
        open: true,
        first: true,
        renewals: 0,
        reads: Reads {
            long_lived,
            ..Reads::default()
        },
    };
    let mut rng = Rng::new(READ_SEED + u64::from(number));
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        if !session.open {
            session.begin()?;
        }
        for _ in 0..READ_BATCH {
            let aid = rng.below(u64::from(scale.accounts)) as u32 + 1;
            session.balance(Table::Accounts, aid)?;
        }
        session.check_totals(scale)?;
        if !long_lived {
            session.end()?;
        }
        session.reads.busy += t.elapsed();
        std::thread::sleep(READ_PAUSE);
    }
    Ok(session.reads)
}

/// The sizes of a database's files.
struct Files {
    /// Every file, in bytes.
    total: u64,
    /// The log or WAL (a file whose name ends in `-wal`, or in `-log`:
    /// Turso's MVCC log), if there is one.
    log: Option<u64>,
}

impl Files {
    fn measure(dir: &Path) -> Result<Files> {
        let mut log = None;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with("-wal") || name.ends_with("-log") {
                *log.get_or_insert(0) += entry.metadata()?.len();
            }
        }
        Ok(Files {
            total: crate::sys::dir_size(dir)?,
            log,
        })
    }

    fn report(&self, p: &str, out: &mut Out) {
        let mb = |b: u64| format!("{:.2}", b as f64 / 1e6);
        out.put(&format!("{p}.files_mb"), mb(self.total));
        out.put(&format!("{p}.log_mb"), self.log.map_or("n/a".into(), mb));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader whose snapshots hold the balances given, in turn: the
    /// first until it expires after `expire_after` reads, then the second.
    struct Scripted {
        snapshots: Vec<[i64; 3]>,
        current: usize,
        expire_after: u32,
        reads: u32,
    }

    impl Reader for Scripted {
        fn balance(&mut self, table: Table, id: u32) -> Result<Read> {
            self.reads += 1;
            if self.current == 0 && self.reads > self.expire_after {
                return Ok(Read::TooOld);
            }
            let s = self.snapshots[self.current];
            Ok(match (table, id) {
                (Table::Accounts, 1) => Read::Row(s[0]),
                (Table::Tellers, 1) => Read::Row(s[1]),
                (Table::Branches, 1) => Read::Row(s[2]),
                _ => Read::Missing,
            })
        }

        fn end(&mut self) -> Result<()> {
            Ok(())
        }

        fn begin(&mut self) -> Result<()> {
            self.current += 1;
            Ok(())
        }
    }

    fn session(snapshots: Vec<[i64; 3]>, expire_after: u32) -> Session<'static> {
        Session {
            reader: Box::new(Scripted {
                snapshots,
                current: 0,
                expire_after,
                reads: 0,
            }),
            open: true,
            first: true,
            renewals: 0,
            reads: Reads::default(),
        }
    }

    const ONE: Scale = Scale {
        accounts: 1,
        tellers: 1,
        branches: 1,
    };

    #[test]
    fn the_first_snapshot_reads_only_loaded_balances() {
        let mut s = session(vec![[0, 0, 0]], u32::MAX);
        assert_eq!(s.balance(Table::Accounts, 1).unwrap(), 0);
        s.check_totals(ONE).unwrap();
        assert!(
            s.balance(Table::Accounts, 2).is_err(),
            "a missing row fails"
        );
        let mut s = session(vec![[7, 7, 7]], u32::MAX);
        assert!(
            s.balance(Table::Accounts, 1).is_err(),
            "a later commit shows"
        );
    }

    #[test]
    fn an_expired_snapshot_is_renewed_and_its_successor_checked() {
        let mut s = session(vec![[0, 0, 0], [7, 3, 3]], 1);
        assert_eq!(s.balance(Table::Accounts, 1).unwrap(), 0);
        assert_eq!(s.balance(Table::Accounts, 1).unwrap(), 7);
        assert_eq!((s.reads.expired, s.first), (1, false));
        s.check_totals(ONE).unwrap();
        let mut s = session(vec![[0, 0, 0], [0, 3, 4]], 0);
        assert!(s.check_totals(ONE).is_ok(), "renewed between the totals");
        assert!(s.check_totals(ONE).is_err(), "totals that disagree fail");
    }
}
