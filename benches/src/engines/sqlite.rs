//! SQLite through rusqlite (bundled): WAL journal, `synchronous=FULL`, a
//! busy timeout, `BEGIN IMMEDIATE` for every write transaction, and
//! prepared statements (rusqlite's statement cache) for every query.

use crate::kv::{self, KvEngine, KvRead, KvWrite};
use crate::rw;
use crate::tpcb::{self, Sums, Table, Txn};
use crate::{Result, fail};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The SQL of the key-value and TPC-B tables, shared with the other SQL
/// engine (Turso) so that both run the same statements.
pub mod sql {
    use crate::tpcb::Table;
    use crate::{Result, fail};

    /// The key-value table.
    pub const KV_TABLE: &str =
        "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID";
    /// Stores a key's value.
    pub const KV_PUT: &str = "INSERT OR REPLACE INTO kv (key, value) VALUES (?1, ?2)";
    /// Removes a key.
    pub const KV_REMOVE: &str = "DELETE FROM kv WHERE key = ?1";
    /// A key's value.
    pub const KV_GET: &str = "SELECT value FROM kv WHERE key = ?1";
    /// Up to ?2 entries from key ?1 on.
    pub const KV_SCAN: &str = "SELECT key, value FROM kv WHERE key >= ?1 ORDER BY key LIMIT ?2";

    /// The pgbench tables, as pgbench creates them (with SQLite's integer
    /// primary keys).
    pub const TPCB_TABLES: &str = "CREATE TABLE pgbench_branches (bid INTEGER PRIMARY KEY, bbalance INTEGER NOT NULL, filler TEXT);
         CREATE TABLE pgbench_tellers (tid INTEGER PRIMARY KEY, bid INTEGER NOT NULL, tbalance INTEGER NOT NULL, filler TEXT);
         CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER NOT NULL, abalance INTEGER NOT NULL, filler TEXT);
         CREATE TABLE pgbench_history (tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime INTEGER, filler TEXT);";
    /// Loads a branch: bid, filler.
    pub const INSERT_BRANCH: &str = "INSERT INTO pgbench_branches VALUES (?1, 0, ?2)";
    /// Loads a teller: tid, bid, filler.
    pub const INSERT_TELLER: &str = "INSERT INTO pgbench_tellers VALUES (?1, ?2, 0, ?3)";
    /// Loads an account: aid, bid, filler.
    pub const INSERT_ACCOUNT: &str = "INSERT INTO pgbench_accounts VALUES (?1, ?2, 0, ?3)";
    /// The transaction's first statement: delta, aid.
    pub const UPDATE_ACCOUNT: &str =
        "UPDATE pgbench_accounts SET abalance = abalance + ?1 WHERE aid = ?2";
    /// The transaction's second: aid.
    pub const SELECT_ACCOUNT: &str = "SELECT abalance FROM pgbench_accounts WHERE aid = ?1";
    /// The third: delta, tid.
    pub const UPDATE_TELLER: &str =
        "UPDATE pgbench_tellers SET tbalance = tbalance + ?1 WHERE tid = ?2";
    /// The fourth: delta, bid.
    pub const UPDATE_BRANCH: &str =
        "UPDATE pgbench_branches SET bbalance = bbalance + ?1 WHERE bid = ?2";
    /// The last: tid, bid, aid, delta, mtime.
    pub const INSERT_HISTORY: &str =
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?1, ?2, ?3, ?4, ?5)";
    /// The balance check's sums, in the order of [`crate::tpcb::Sums`]'s
    /// fields.
    pub const SUMS: [&str; 5] = [
        "SELECT coalesce(sum(abalance), 0) FROM pgbench_accounts",
        "SELECT coalesce(sum(tbalance), 0) FROM pgbench_tellers",
        "SELECT coalesce(sum(bbalance), 0) FROM pgbench_branches",
        "SELECT coalesce(sum(delta), 0) FROM pgbench_history",
        "SELECT count(*) FROM pgbench_history",
    ];

    /// A reader's query of the balance of row ?1 of `table`.
    pub fn balance(table: Table) -> Result<&'static str> {
        Ok(match table {
            Table::Accounts => "SELECT abalance FROM pgbench_accounts WHERE aid = ?1",
            Table::Tellers => "SELECT tbalance FROM pgbench_tellers WHERE tid = ?1",
            Table::Branches => "SELECT bbalance FROM pgbench_branches WHERE bid = ?1",
            Table::History => fail!("history rows have no balance"),
        })
    }
}

/// How long a connection waits for another's write lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The database file in `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join("db.sqlite")
}

/// Opens a connection with the benchmark's settings.
pub fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        fail!("SQLite refused WAL mode: {mode}");
    }
    conn.execute_batch("PRAGMA synchronous=FULL")?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Runs `f` between `BEGIN IMMEDIATE` and `COMMIT` (`ROLLBACK` on error).
pub fn write_txn<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    match f(conn) {
        Ok(v) => {
            conn.prepare_cached("COMMIT")?.execute([])?;
            Ok(v)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Runs `f` in one read transaction (`BEGIN` ... `COMMIT`).
pub fn read_txn<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    conn.prepare_cached("BEGIN")?.execute([])?;
    let r = f(conn);
    let end = conn.prepare_cached("COMMIT")?.execute([]);
    let v = r?;
    end?;
    Ok(v)
}

/// Moves the WAL into the database file and truncates it.
pub fn checkpoint(conn: &Connection) -> Result<()> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    if busy != 0 {
        fail!("the WAL checkpoint could not complete");
    }
    Ok(())
}

/// The `kv` table: `kv(key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID`.
pub struct SqliteKv {
    path: PathBuf,
    conn: Connection,
}

impl SqliteKv {
    /// Creates the database in `dir`.
    pub fn open(dir: &Path) -> Result<SqliteKv> {
        let path = path(dir);
        let conn = connect(&path)?;
        conn.execute_batch(sql::KV_TABLE)?;
        Ok(SqliteKv { path, conn })
    }
}

struct Conn<'a>(&'a Connection);

impl KvWrite for Conn<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.0
            .prepare_cached(sql::KV_PUT)?
            .execute(params![key, value])?;
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        let n = self.0.prepare_cached(sql::KV_REMOVE)?.execute([key])?;
        Ok(n > 0)
    }
}

impl KvRead for Conn<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<(usize, u64)>> {
        let mut st = self.0.prepare_cached(sql::KV_GET)?;
        let found = st
            .query_row([key], |r| Ok(kv::summary(r.get_ref(0)?.as_blob()?)))
            .optional()?;
        Ok(found)
    }

    fn scan(&mut self, from: &[u8], n: usize) -> Result<(usize, u64)> {
        let mut st = self.0.prepare_cached(sql::KV_SCAN)?;
        let mut rows = st.query(params![from, n as i64])?;
        let mut got = 0;
        let mut bytes = 0;
        while let Some(r) = rows.next()? {
            got += 1;
            bytes += r.get_ref(1)?.as_blob()?.len() as u64;
        }
        Ok((got, bytes))
    }
}

impl KvEngine for SqliteKv {
    fn handle(&self) -> Result<Box<dyn KvEngine>> {
        Ok(Box::new(SqliteKv {
            path: self.path.clone(),
            conn: connect(&self.path)?,
        }))
    }

    fn write(&mut self, f: &mut dyn FnMut(&mut dyn KvWrite) -> Result<()>) -> Result<()> {
        write_txn(&self.conn, |c| f(&mut Conn(c)))
    }

    fn read(&mut self, f: &mut dyn FnMut(&mut dyn KvRead) -> Result<()>) -> Result<()> {
        read_txn(&self.conn, |c| f(&mut Conn(c)))
    }

    fn settle(&mut self) -> Result<()> {
        checkpoint(&self.conn)
    }

    fn compact(&mut self) -> Result<bool> {
        self.conn.execute_batch("VACUUM")?;
        Ok(true)
    }
}

/// The pgbench tables in SQLite, as pgbench creates them (with SQLite's
/// integer primary keys).
pub struct SqliteTpcb {
    path: PathBuf,
    /// A connection kept for the sums.
    conn: std::sync::Mutex<Connection>,
}

impl SqliteTpcb {
    /// Creates the tables in `dir` and loads `scale` in one transaction.
    pub fn load(dir: &Path, scale: tpcb::Scale) -> Result<SqliteTpcb> {
        let path = path(dir);
        let conn = connect(&path)?;
        conn.execute_batch(sql::TPCB_TABLES)?;
        let filler = " ".repeat(tpcb::FILLER);
        let branch_filler = " ".repeat(tpcb::BRANCH_FILLER);
        write_txn(&conn, |c| {
            for (table, id, parent, _) in tpcb::rows(scale) {
                match table {
                    tpcb::Table::Branches => c
                        .prepare_cached(sql::INSERT_BRANCH)?
                        .execute(params![id, branch_filler])?,
                    tpcb::Table::Tellers => c
                        .prepare_cached(sql::INSERT_TELLER)?
                        .execute(params![id, parent, filler])?,
                    tpcb::Table::Accounts => c
                        .prepare_cached(sql::INSERT_ACCOUNT)?
                        .execute(params![id, parent, filler])?,
                    tpcb::Table::History => 0,
                };
            }
            Ok(())
        })?;
        checkpoint(&conn)?;
        Ok(SqliteTpcb {
            path,
            conn: std::sync::Mutex::new(conn),
        })
    }
}

struct SqliteClient {
    conn: Connection,
}

impl tpcb::Client for SqliteClient {
    fn run(&mut self, t: &Txn) -> Result<i64> {
        write_txn(&self.conn, |c| {
            c.prepare_cached(sql::UPDATE_ACCOUNT)?
                .execute(params![t.delta, t.aid])?;
            let abalance: i64 = c
                .prepare_cached(sql::SELECT_ACCOUNT)?
                .query_row([t.aid], |r| r.get(0))?;
            c.prepare_cached(sql::UPDATE_TELLER)?
                .execute(params![t.delta, t.tid])?;
            c.prepare_cached(sql::UPDATE_BRANCH)?
                .execute(params![t.delta, t.bid])?;
            c.prepare_cached(sql::INSERT_HISTORY)?.execute(params![
                t.tid,
                t.bid,
                t.aid,
                t.delta,
                t.mtime as i64
            ])?;
            Ok(abalance)
        })
    }
}

impl tpcb::Engine for SqliteTpcb {
    fn client(&self) -> Result<Box<dyn tpcb::Client + '_>> {
        Ok(Box::new(SqliteClient {
            conn: connect(&self.path)?,
        }))
    }

    fn sums(&self) -> Result<Sums> {
        let conn = self.conn.lock().map_err(|_| "connection lock poisoned")?;
        read_txn(&conn, |c| {
            let sum = |q: &str| -> Result<i64> { Ok(c.query_row(q, [], |r| r.get(0))?) };
            let [accounts, tellers, branches, history, rows] = sql::SUMS;
            Ok(Sums {
                accounts: sum(accounts)?,
                tellers: sum(tellers)?,
                branches: sum(branches)?,
                history: sum(history)?,
                history_rows: sum(rows)? as u64,
            })
        })
    }
}

/// A reader session: a connection of its own, in a deferred `BEGIN`
/// whose first `SELECT` took the WAL snapshot while a read transaction is
/// open (closing the connection rolls it back).
struct SqliteReader {
    conn: Connection,
}

impl rw::Reader for SqliteReader {
    fn balance(&mut self, table: Table, id: u32) -> Result<rw::Read> {
        let found: Option<i64> = self
            .conn
            .prepare_cached(sql::balance(table)?)?
            .query_row([id], |r| r.get(0))
            .optional()?;
        Ok(found.map_or(rw::Read::Missing, rw::Read::Row))
    }

    fn end(&mut self) -> Result<()> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        self.conn.prepare_cached("BEGIN")?.execute([])?;
        rw::Reader::balance(self, Table::Branches, 1)?;
        Ok(())
    }
}

impl rw::Engine for SqliteTpcb {
    fn reader(&self) -> Result<Box<dyn rw::Reader + '_>> {
        let mut reader = SqliteReader {
            conn: connect(&self.path)?,
        };
        rw::Reader::begin(&mut reader)?;
        Ok(Box::new(reader))
    }
}
