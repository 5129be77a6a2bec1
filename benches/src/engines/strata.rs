//! Strata's engine (`strata_engine`), with `Durability::Full` or
//! `Durability::Buffered`, and otherwise default options (among them a
//! 64 MiB page cache).

use crate::kv::{self, KvEngine, KvRead, KvWrite};
use crate::rw;
use crate::tpcb::{self, Sums, Table, Txn};
use crate::{Result, fail};
use std::path::Path;
use strata_engine::{Database, Durability, Options, Transaction};

const KV: &str = "kv";

/// Opens (creating) the database `db.strata` in `dir`.
pub fn open(dir: &Path, durability: Durability) -> Result<Database> {
    let options = Options {
        durability,
        ..Options::default()
    };
    Ok(Database::open_with(dir.join("db.strata"), options)?)
}

fn create_tables(db: &Database, names: &[&str]) -> Result<()> {
    let mut tx = db.begin()?;
    for name in names {
        tx.create_table(name)?;
    }
    tx.commit()?;
    Ok(())
}

/// The key-value table of a Strata database.
pub struct StrataKv {
    db: Database,
}

impl StrataKv {
    /// Opens the database in `dir` with its `kv` table.
    pub fn open(dir: &Path, durability: Durability) -> Result<StrataKv> {
        let db = open(dir, durability)?;
        create_tables(&db, &[KV])?;
        Ok(StrataKv { db })
    }
}

struct Writer<'a>(&'a mut Transaction);

impl KvWrite for Writer<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        Ok(self.0.put(KV, key, value)?)
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        Ok(self.0.delete(KV, key)?)
    }
}

struct Reader<'a>(&'a Transaction);

impl KvRead for Reader<'_> {
    // Borrowed reads, as the peers' adapters read (LMDB and redb hand out
    // slices of their pages): `get_with` and `next_ref`.
    fn get(&mut self, key: &[u8]) -> Result<Option<(usize, u64)>> {
        Ok(self.0.get_with(KV, key, |v| v.map(kv::summary))?)
    }

    fn scan(&mut self, from: &[u8], n: usize) -> Result<(usize, u64)> {
        let mut got = 0;
        let mut bytes = 0;
        let mut range = self.0.range(KV, from..)?;
        while got < n {
            let Some(item) = range.next_ref() else { break };
            let (_, v) = item?;
            got += 1;
            bytes += v.len() as u64;
        }
        Ok((got, bytes))
    }
}

impl KvEngine for StrataKv {
    fn handle(&self) -> Result<Box<dyn KvEngine>> {
        Ok(Box::new(StrataKv {
            db: self.db.clone(),
        }))
    }

    fn write(&mut self, f: &mut dyn FnMut(&mut dyn KvWrite) -> Result<()>) -> Result<()> {
        let mut tx = self.db.begin()?;
        f(&mut Writer(&mut tx))?;
        tx.commit()?;
        Ok(())
    }

    fn read(&mut self, f: &mut dyn FnMut(&mut dyn KvRead) -> Result<()>) -> Result<()> {
        let tx = self.db.begin_read()?;
        f(&mut Reader(&tx))?;
        tx.commit()?;
        Ok(())
    }

    fn settle(&mut self) -> Result<()> {
        Ok(self.db.checkpoint()?)
    }

    fn compact(&mut self) -> Result<bool> {
        self.db.compact()?;
        Ok(true)
    }
}

/// Strata loaded with the TPC-B tables. Clients are clones of one
/// `Database`; transactions go through `Database::transaction`, which
/// reruns deadlock victims, with `get_for_update` for the read-modify-writes.
pub struct StrataTpcb {
    db: Database,
}

impl StrataTpcb {
    /// Opens the database in `dir` and loads `scale` in one transaction.
    pub fn load(dir: &Path, durability: Durability, scale: tpcb::Scale) -> Result<StrataTpcb> {
        let db = open(dir, durability)?;
        let tables = [
            Table::Accounts,
            Table::Tellers,
            Table::Branches,
            Table::History,
        ];
        create_tables(&db, &tables.map(Table::name))?;
        let mut tx = db.begin()?;
        for (table, id, parent, filler) in tpcb::rows(scale) {
            tx.put(
                table.name(),
                &tpcb::id_key(id),
                &tpcb::new_row(parent, filler),
            )?;
        }
        tx.commit()?;
        db.checkpoint()?;
        Ok(StrataTpcb { db })
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }
}

/// The TPC-B sums of the database `db`, read in one read transaction.
pub fn tpcb_sums(db: &Database) -> Result<Sums> {
    let tx = db.begin_read()?;
    let mut s = Sums::default();
    for (table, sum) in [
        (Table::Accounts, &mut s.accounts),
        (Table::Tellers, &mut s.tellers),
        (Table::Branches, &mut s.branches),
    ] {
        for item in tx.range(table.name(), ..)? {
            *sum += tpcb::balance(&item?.1)?;
        }
    }
    for item in tx.range(Table::History.name(), ..)? {
        s.history += tpcb::history_delta(&item?.1)?;
        s.history_rows += 1;
    }
    tx.commit()?;
    Ok(s)
}

struct StrataClient {
    db: Database,
}

/// Reads row `id` of `table` for update and adds `delta` to its balance.
fn update_balance(tx: &mut Transaction, table: Table, id: u32, delta: i64) -> Result<()> {
    let key = tpcb::id_key(id);
    let Some(mut row) = tx.get_for_update(table.name(), &key)? else {
        fail!("{} {id} is missing", table.name());
    };
    tpcb::add_to_balance(&mut row, delta)?;
    tx.put(table.name(), &key, &row)?;
    Ok(())
}

impl tpcb::Client for StrataClient {
    fn run(&mut self, t: &Txn) -> Result<i64> {
        // `transaction` retries only engine errors; the closure's own
        // failures (a missing row) are turned into an engine-independent
        // error after it returns.
        let mut failure: Option<crate::Error> = None;
        let result = self.db.transaction(|tx| {
            let mut step = || -> Result<i64> {
                update_balance(tx, Table::Accounts, t.aid, t.delta)?;
                let Some(row) = tx.get(Table::Accounts.name(), &tpcb::id_key(t.aid))? else {
                    fail!("account {} vanished", t.aid);
                };
                let abalance = tpcb::balance(&row)?;
                update_balance(tx, Table::Tellers, t.tid, t.delta)?;
                update_balance(tx, Table::Branches, t.bid, t.delta)?;
                tx.put(Table::History.name(), &t.history_key(), &t.history_value())?;
                Ok(abalance)
            };
            match step() {
                Ok(b) => Ok(b),
                Err(e) => match e.downcast::<strata_engine::Error>() {
                    Ok(engine_error) => Err(*engine_error),
                    Err(other) => {
                        failure = Some(other);
                        // Any non-retryable engine error ends the
                        // transaction; the real cause is kept above.
                        Err(strata_engine::Error::ReadOnly)
                    }
                },
            }
        });
        match (result, failure) {
            (_, Some(e)) => Err(e),
            (Ok(b), None) => Ok(b),
            (Err(e), None) => Err(e.into()),
        }
    }
}

impl tpcb::Engine for StrataTpcb {
    fn client(&self) -> Result<Box<dyn tpcb::Client + '_>> {
        Ok(Box::new(StrataClient {
            db: self.db.clone(),
        }))
    }

    fn sums(&self) -> Result<Sums> {
        tpcb_sums(&self.db)
    }

    fn counters(&self) -> Vec<(&'static str, f64)> {
        let s = self.db.stats();
        vec![
            ("retries", s.retries as f64),
            ("deadlocks", s.deadlocks as f64),
            ("lock_waits", s.lock_waits as f64),
            ("commits", s.commits as f64),
            ("log_syncs", s.log_syncs as f64),
        ]
    }
}

/// A reader session: a `begin_read` snapshot while one is open.
struct StrataReader {
    db: Database,
    tx: Option<Transaction>,
}

impl rw::Reader for StrataReader {
    fn balance(&mut self, table: Table, id: u32) -> Result<rw::Read> {
        let Some(tx) = &self.tx else {
            fail!("no read transaction is open");
        };
        let read = tx.get_with(table.name(), &tpcb::id_key(id), |v| v.map(tpcb::balance));
        match read {
            Ok(Some(b)) => Ok(rw::Read::Row(b?)),
            Ok(None) => Ok(rw::Read::Missing),
            Err(strata_engine::Error::SnapshotTooOld { .. }) => Ok(rw::Read::TooOld),
            Err(e) => Err(e.into()),
        }
    }

    fn end(&mut self) -> Result<()> {
        self.tx = None;
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        self.tx = Some(self.db.begin_read()?);
        Ok(())
    }
}

impl rw::Engine for StrataTpcb {
    fn reader(&self) -> Result<Box<dyn rw::Reader + '_>> {
        Ok(Box::new(StrataReader {
            db: self.db.clone(),
            tx: Some(self.db.begin_read()?),
        }))
    }

    fn snapshot_stats(&self) -> Option<rw::SnapshotStats> {
        let s = self.db.stats();
        Some(rw::SnapshotStats {
            expired: s.snapshots_expired,
            bytes: s.snapshot_bytes,
            checkpoints: s.checkpoints,
        })
    }
}
