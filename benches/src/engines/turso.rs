//! Turso (crate `turso`, pinned at 0.8.3 in `Cargo.toml`), the Rust
//! rewrite of SQLite, as a peer: the same SQL as the SQLite adapter
//! ([`super::sqlite::sql`]), on its MVCC journal.
//!
//! SETTINGS
//!
//! - `PRAGMA journal_mode = 'mvcc'`: rows are versioned in memory, every
//!   commit appends to a logical log beside the database file, and a
//!   checkpoint moves the log into the B-tree file. This is the mode in
//!   which Turso offers `BEGIN CONCURRENT`.
//! - `PRAGMA synchronous = FULL` on every connection (Turso's default,
//!   set and read back all the same): a commit returns after the logical
//!   log is fsynced.
//! - Every write transaction is `BEGIN CONCURRENT`: writers do not take a
//!   database-wide lock; a conflict shows at a write or at `COMMIT` as an
//!   error, upon which the transaction is rolled back and run again from
//!   its first statement, and counted in `retries` (the column of
//!   Strata's deadlock retries). Read transactions are a plain `BEGIN`.
//! - A reader may read the write of a transaction that is still
//!   committing (the MVCC journal's commit dependencies); if that one
//!   aborts, the reader's `COMMIT` fails with "Commit dependency aborted,
//!   rollback and retry the whole transaction". The readers-and-writers
//!   readers then roll back and go on, and count it in `reader_aborts`.
//!   Before that `COMMIT`, the reader's reads may include writes that are
//!   undone, so the group's checks inside a snapshot (the teller and
//!   branch totals agree) can fail on Turso: the group then reports n/a
//!   with the check's message.
//! - Prepared statements are cached per connection (`prepare_cached`),
//!   and each thread has a connection of its own.
//! - The key-value table is a rowid table with a unique index on the key
//!   ([`KV_TABLE`]) where SQLite's is `WITHOUT ROWID`: Turso 0.8.3 has
//!   `WITHOUT ROWID` tables behind a flag, but refuses `INSERT OR REPLACE`
//!   and `DELETE` on them, which the key-value workloads need. `VACUUM`
//!   is Turso's experimental in-place one.
//!
//! ASYNC
//!
//! The crate's API is `async`, but its futures do their I/O themselves
//! when polled: a poll that returns `Pending` has just run one step of the
//! I/O backend, and its synchronous mode simply polls again. [`block_on`]
//! does the same on the calling thread, so no runtime is needed and each
//! client thread drives its own connection, as with the other engines.

use super::sqlite::sql;
use crate::kv::{self, KvEngine, KvRead, KvWrite};
use crate::rw;
use crate::tpcb::{self, Sums, Table, Txn};
use crate::{Result, fail};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use turso::{Builder, Connection, Database, IntoParams, Row, Value};

/// How long a connection waits for a lock it cannot take at once.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The crate's version, as pinned.
pub const VERSION: &str = "0.8.3";

/// Runs `f` to completion on this thread, polling it again whenever it
/// returns `Pending` (see the module documentation).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

/// The database file in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("db.turso")
}

/// Opens (or creates) the database in `path` in MVCC mode.
pub fn open(path: &Path) -> Result<Database> {
    let Some(name) = path.to_str() else {
        fail!("the path {} is not UTF-8", path.display());
    };
    let db = block_on(Builder::new_local(name).experimental_vacuum(true).build())?;
    let conn = Conn::new(&db)?;
    let mode = block_on(conn.0.pragma_update("journal_mode", "'mvcc'"))?;
    let mode = match mode.first().map(|r| r.get_value(0)) {
        Some(Ok(Value::Text(t))) => t,
        other => fail!("PRAGMA journal_mode = 'mvcc' answered {other:?}"),
    };
    if !mode.eq_ignore_ascii_case("mvcc") {
        fail!("Turso refused the MVCC journal: {mode}");
    }
    Ok(db)
}

/// Whether `e` is a conflict of `BEGIN CONCURRENT` (or a busy lock) that
/// running the transaction again may get past.
pub fn is_conflict(e: &turso::Error) -> bool {
    match e {
        turso::Error::Busy(_) | turso::Error::BusySnapshot(_) => true,
        turso::Error::Error(m) => m.to_ascii_lowercase().contains("conflict"),
        _ => false,
    }
}

/// A connection with the benchmark's settings, and synchronous calls.
pub struct Conn(Connection);

impl Conn {
    /// A new connection to `db`: `synchronous = FULL` (checked), the busy
    /// timeout.
    pub fn new(db: &Database) -> Result<Conn> {
        let conn = Conn(db.connect()?);
        block_on(conn.0.pragma_update("synchronous", "FULL"))?;
        let level = conn.int("PRAGMA synchronous", ())?;
        if level != 2 {
            fail!("Turso's synchronous is {level}, not FULL (2)");
        }
        conn.0.busy_timeout(BUSY_TIMEOUT)?;
        Ok(conn)
    }

    /// Runs a statement (prepared once per connection); the rows changed.
    pub fn exec(&self, sql: &str, params: impl IntoParams) -> turso::Result<u64> {
        block_on(async {
            let mut st = self.0.prepare_cached(sql).await?;
            st.execute(params).await
        })
    }

    /// Runs statements that take no parameters, one after another.
    pub fn batch(&self, sql: &str) -> turso::Result<()> {
        block_on(self.0.execute_batch(sql))
    }

    /// Runs a query (prepared once per connection) and calls `f` on each
    /// row as it comes.
    pub fn each(
        &self,
        sql: &str,
        params: impl IntoParams,
        mut f: impl FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        block_on(async {
            let mut st = self.0.prepare_cached(sql).await?;
            let mut rows = st.query(params).await?;
            while let Some(r) = rows.next().await? {
                f(&r)?;
            }
            Ok(())
        })
    }

    /// The first row of a query, if any.
    pub fn first<T>(
        &self,
        sql: &str,
        params: impl IntoParams,
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<Option<T>> {
        block_on(async {
            let mut st = self.0.prepare_cached(sql).await?;
            let mut rows = st.query(params).await?;
            let first = rows.next().await?;
            // Step the statement to its end so that it holds nothing.
            while rows.next().await?.is_some() {}
            first.as_ref().map(f).transpose()
        })
    }

    /// An integer query's one value.
    pub fn int(&self, sql: &str, params: impl IntoParams) -> Result<i64> {
        match self.first(sql, params, |r| Ok(r.get::<i64>(0)?))? {
            Some(v) => Ok(v),
            None => fail!("{sql:?} returned no row"),
        }
    }

    /// The rowid of the last insert.
    pub fn last_insert_rowid(&self) -> i64 {
        self.0.last_insert_rowid()
    }

    /// Runs `f` between `BEGIN CONCURRENT` and `COMMIT`, `ROLLBACK` on an
    /// error; the error is returned as it came.
    pub fn try_write<T>(&self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        self.exec("BEGIN CONCURRENT", ())?;
        let r = f(self).and_then(|v| {
            self.exec("COMMIT", ())?;
            Ok(v)
        });
        if r.is_err() && !self.0.is_autocommit()? {
            let _ = self.exec("ROLLBACK", ());
        }
        r
    }

    /// Runs `f` in a write transaction as [`Conn::try_write`], running it
    /// again after each conflict, and adds the reruns to `retries`.
    pub fn write<T>(
        &self,
        retries: &AtomicU64,
        mut f: impl FnMut(&Conn) -> Result<T>,
    ) -> Result<T> {
        loop {
            match self.try_write(&mut f) {
                Err(e) if e.downcast_ref::<turso::Error>().is_some_and(is_conflict) => {
                    retries.fetch_add(1, Ordering::Relaxed);
                }
                r => return r,
            }
        }
    }

    /// Runs `f` in one read transaction (`BEGIN` ... `COMMIT`).
    pub fn read<T>(&self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        self.exec("BEGIN", ())?;
        let r = f(self);
        let end = self.exec("COMMIT", ());
        let v = r?;
        end?;
        Ok(v)
    }

    /// Moves the logical log into the database file and truncates it.
    pub fn checkpoint(&self) -> Result<()> {
        self.each("PRAGMA wal_checkpoint(TRUNCATE)", (), |_| Ok(()))
    }
}

/// The blob in column `i` of `r`.
fn blob(r: &Row, i: usize) -> Result<Vec<u8>> {
    match r.get_value(i)? {
        Value::Blob(b) => Ok(b),
        other => fail!("column {i} is {other:?}, not a blob"),
    }
}

/// The key-value table: SQLite's ([`sql::KV_TABLE`]) as a rowid table
/// (see the module documentation).
pub const KV_TABLE: &str = "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB)";

/// The `kv` table in Turso.
pub struct TursoKv {
    db: Database,
    conn: Conn,
}

impl TursoKv {
    /// Creates the database in `dir`.
    pub fn open(dir: &Path) -> Result<TursoKv> {
        let db = open(&path(dir))?;
        let conn = Conn::new(&db)?;
        conn.batch(KV_TABLE)?;
        Ok(TursoKv { db, conn })
    }
}

impl KvWrite for &Conn {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.exec(sql::KV_PUT, (key, value))?;
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        Ok(self.exec(sql::KV_REMOVE, [key])? > 0)
    }
}

impl KvRead for &Conn {
    fn get(&mut self, key: &[u8]) -> Result<Option<(usize, u64)>> {
        self.first(sql::KV_GET, [key], |r| Ok(kv::summary(&blob(r, 0)?)))
    }

    fn scan(&mut self, from: &[u8], n: usize) -> Result<(usize, u64)> {
        let (mut got, mut bytes) = (0, 0);
        self.each(sql::KV_SCAN, (from, n as i64), |r| {
            got += 1;
            bytes += blob(r, 1)?.len() as u64;
            Ok(())
        })?;
        Ok((got, bytes))
    }
}

impl KvEngine for TursoKv {
    fn handle(&self) -> Result<Box<dyn KvEngine>> {
        Ok(Box::new(TursoKv {
            db: self.db.clone(),
            conn: Conn::new(&self.db)?,
        }))
    }

    fn write(&mut self, f: &mut dyn FnMut(&mut dyn KvWrite) -> Result<()>) -> Result<()> {
        // The writer is alone: a conflict would be a fault, not a retry.
        self.conn.try_write(|mut c| f(&mut c))
    }

    fn read(&mut self, f: &mut dyn FnMut(&mut dyn KvRead) -> Result<()>) -> Result<()> {
        self.conn.read(|mut c| f(&mut c))
    }

    fn settle(&mut self) -> Result<()> {
        self.conn.checkpoint()
    }

    fn compact(&mut self) -> Result<bool> {
        self.conn.batch("VACUUM")?;
        Ok(true)
    }
}

/// The pgbench tables in Turso, as in SQLite.
pub struct TursoTpcb {
    db: Database,
    /// A connection kept for the sums.
    conn: Mutex<Conn>,
    /// Transactions run again after a conflict, by every client.
    retries: AtomicU64,
    /// Read transactions whose `COMMIT` failed on a commit dependency.
    reader_aborts: AtomicU64,
}

impl TursoTpcb {
    /// Creates the tables in `dir` and loads `scale` in one transaction.
    pub fn load(dir: &Path, scale: tpcb::Scale) -> Result<TursoTpcb> {
        let db = open(&path(dir))?;
        let conn = Conn::new(&db)?;
        conn.batch(sql::TPCB_TABLES)?;
        let filler = " ".repeat(tpcb::FILLER);
        let branch_filler = " ".repeat(tpcb::BRANCH_FILLER);
        conn.try_write(|c| {
            for (table, id, parent, _) in tpcb::rows(scale) {
                match table {
                    Table::Branches => c.exec(sql::INSERT_BRANCH, (id, branch_filler.as_str()))?,
                    Table::Tellers => c.exec(sql::INSERT_TELLER, (id, parent, filler.as_str()))?,
                    Table::Accounts => {
                        c.exec(sql::INSERT_ACCOUNT, (id, parent, filler.as_str()))?
                    }
                    Table::History => 0,
                };
            }
            Ok(())
        })?;
        conn.checkpoint()?;
        Ok(TursoTpcb {
            db,
            conn: Mutex::new(conn),
            retries: AtomicU64::new(0),
            reader_aborts: AtomicU64::new(0),
        })
    }
}

struct TursoClient<'a> {
    conn: Conn,
    retries: &'a AtomicU64,
}

impl tpcb::Client for TursoClient<'_> {
    fn run(&mut self, t: &Txn) -> Result<i64> {
        self.conn.write(self.retries, |c| {
            c.exec(sql::UPDATE_ACCOUNT, (t.delta, t.aid))?;
            let abalance = c.int(sql::SELECT_ACCOUNT, [t.aid])?;
            c.exec(sql::UPDATE_TELLER, (t.delta, t.tid))?;
            c.exec(sql::UPDATE_BRANCH, (t.delta, t.bid))?;
            c.exec(
                sql::INSERT_HISTORY,
                (t.tid, t.bid, t.aid, t.delta, t.mtime as i64),
            )?;
            Ok(abalance)
        })
    }
}

impl tpcb::Engine for TursoTpcb {
    fn client(&self) -> Result<Box<dyn tpcb::Client + '_>> {
        Ok(Box::new(TursoClient {
            conn: Conn::new(&self.db)?,
            retries: &self.retries,
        }))
    }

    fn sums(&self) -> Result<Sums> {
        let conn = self.conn.lock().map_err(|_| "connection lock poisoned")?;
        conn.read(|c| {
            let [accounts, tellers, branches, history, rows] = sql::SUMS;
            Ok(Sums {
                accounts: c.int(accounts, ())?,
                tellers: c.int(tellers, ())?,
                branches: c.int(branches, ())?,
                history: c.int(history, ())?,
                history_rows: c.int(rows, ())? as u64,
            })
        })
    }

    fn counters(&self) -> Vec<(&'static str, f64)> {
        vec![
            ("retries", self.retries.load(Ordering::Relaxed) as f64),
            (
                "reader_aborts",
                self.reader_aborts.load(Ordering::Relaxed) as f64,
            ),
        ]
    }
}

/// A reader session: a connection of its own in a `BEGIN` whose first
/// read took the snapshot, while a read transaction is open.
struct TursoReader<'a> {
    conn: Conn,
    aborts: &'a AtomicU64,
}

impl rw::Reader for TursoReader<'_> {
    fn balance(&mut self, table: Table, id: u32) -> Result<rw::Read> {
        let found = self
            .conn
            .first(sql::balance(table)?, [id], |r| Ok(r.get::<i64>(0)?))
            .map_err(|e| format!("reader: {e}"))?;
        Ok(found.map_or(rw::Read::Missing, rw::Read::Row))
    }

    fn end(&mut self) -> Result<()> {
        match self.conn.exec("COMMIT", ()) {
            Err(e) if is_conflict(&e) => {
                if !self.conn.0.is_autocommit()? {
                    self.conn.exec("ROLLBACK", ())?;
                }
                self.aborts.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            r => Ok(r.map(drop).map_err(|e| format!("reader end: {e}"))?),
        }
    }

    fn begin(&mut self) -> Result<()> {
        self.conn
            .exec("BEGIN", ())
            .map_err(|e| format!("reader begin: {e}"))?;
        rw::Reader::balance(self, Table::Branches, 1)?;
        Ok(())
    }
}

impl rw::Engine for TursoTpcb {
    fn reader(&self) -> Result<Box<dyn rw::Reader + '_>> {
        let mut reader = TursoReader {
            conn: Conn::new(&self.db)?,
            aborts: &self.reader_aborts,
        };
        rw::Reader::begin(&mut reader)?;
        Ok(Box::new(reader))
    }
}
