//! redb with its defaults: `Durability::Immediate` commits and its
//! default 1 GiB cache. One write transaction at a time: TPC-B clients
//! queue in `begin_write`.

use crate::kv::{self, KvEngine, KvRead, KvWrite};
use crate::rw;
use crate::tpcb::{self, Sums, Table, Txn};
use crate::{Result, fail};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::Arc;

type Def = TableDefinition<'static, &'static [u8], &'static [u8]>;

const KV: Def = TableDefinition::new("kv");
const ACCOUNTS: Def = TableDefinition::new("accounts");
const TELLERS: Def = TableDefinition::new("tellers");
const BRANCHES: Def = TableDefinition::new("branches");
const HISTORY: Def = TableDefinition::new("history");

fn def(t: Table) -> Def {
    match t {
        Table::Accounts => ACCOUNTS,
        Table::Tellers => TELLERS,
        Table::Branches => BRANCHES,
        Table::History => HISTORY,
    }
}

/// Creates `db.redb` in `dir` with the tables `defs`.
fn create(dir: &Path, defs: &[Def]) -> Result<Database> {
    let db = Database::create(dir.join("db.redb"))?;
    let w = db.begin_write()?;
    for d in defs {
        w.open_table(*d)?;
    }
    w.commit()?;
    Ok(db)
}

/// The `kv` table of a redb database.
pub struct RedbKv {
    db: Arc<Database>,
}

impl RedbKv {
    /// Creates the database in `dir`.
    pub fn open(dir: &Path) -> Result<RedbKv> {
        Ok(RedbKv {
            db: Arc::new(create(dir, &[KV])?),
        })
    }
}

struct Writer<'a, 't>(&'a mut redb::Table<'t, &'static [u8], &'static [u8]>);

impl KvWrite for Writer<'_, '_> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.0.insert(key, value)?;
        Ok(())
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        Ok(self.0.remove(key)?.is_some())
    }
}

struct Reader<'a>(&'a redb::ReadOnlyTable<&'static [u8], &'static [u8]>);

impl KvRead for Reader<'_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<(usize, u64)>> {
        Ok(self.0.get(key)?.map(|g| kv::summary(g.value())))
    }

    fn scan(&mut self, from: &[u8], n: usize) -> Result<(usize, u64)> {
        let mut got = 0;
        let mut bytes = 0;
        for item in self.0.range(from..)?.take(n) {
            let (_, v) = item?;
            got += 1;
            bytes += v.value().len() as u64;
        }
        Ok((got, bytes))
    }
}

impl KvEngine for RedbKv {
    fn handle(&self) -> Result<Box<dyn KvEngine>> {
        Ok(Box::new(RedbKv {
            db: self.db.clone(),
        }))
    }

    fn write(&mut self, f: &mut dyn FnMut(&mut dyn KvWrite) -> Result<()>) -> Result<()> {
        let w = self.db.begin_write()?;
        {
            let mut t = w.open_table(KV)?;
            f(&mut Writer(&mut t))?;
        }
        w.commit()?;
        Ok(())
    }

    fn read(&mut self, f: &mut dyn FnMut(&mut dyn KvRead) -> Result<()>) -> Result<()> {
        let r = self.db.begin_read()?;
        let t = r.open_table(KV)?;
        f(&mut Reader(&t))
    }

    fn settle(&mut self) -> Result<()> {
        // Every commit is durable in the file already.
        Ok(())
    }

    fn compact(&mut self) -> Result<bool> {
        let Some(db) = Arc::get_mut(&mut self.db) else {
            fail!("redb: other handles are open during compaction");
        };
        while db.compact()? {}
        Ok(true)
    }
}

/// redb loaded with the TPC-B tables.
pub struct RedbTpcb {
    db: Database,
}

impl RedbTpcb {
    /// Creates the database in `dir` and loads `scale` in one transaction.
    pub fn load(dir: &Path, scale: tpcb::Scale) -> Result<RedbTpcb> {
        let db = create(dir, &[ACCOUNTS, TELLERS, BRANCHES, HISTORY])?;
        let w = db.begin_write()?;
        {
            let mut accounts = w.open_table(ACCOUNTS)?;
            let mut tellers = w.open_table(TELLERS)?;
            let mut branches = w.open_table(BRANCHES)?;
            for (table, id, parent, filler) in tpcb::rows(scale) {
                let t = match table {
                    Table::Accounts => &mut accounts,
                    Table::Tellers => &mut tellers,
                    _ => &mut branches,
                };
                t.insert(&tpcb::id_key(id)[..], &tpcb::new_row(parent, filler)[..])?;
            }
        }
        w.commit()?;
        Ok(RedbTpcb { db })
    }
}

struct RedbClient<'a> {
    db: &'a Database,
}

fn update_balance(w: &redb::WriteTransaction, table: Table, id: u32, delta: i64) -> Result<i64> {
    let mut t = w.open_table(def(table))?;
    let key = tpcb::id_key(id);
    let Some(mut row) = t.get(&key[..])?.map(|g| g.value().to_vec()) else {
        fail!("{} {id} is missing", table.name());
    };
    tpcb::add_to_balance(&mut row, delta)?;
    t.insert(&key[..], &row[..])?;
    tpcb::balance(&row)
}

impl tpcb::Client for RedbClient<'_> {
    fn run(&mut self, t: &Txn) -> Result<i64> {
        let w = self.db.begin_write()?;
        update_balance(&w, Table::Accounts, t.aid, t.delta)?;
        let abalance = {
            let accounts = w.open_table(ACCOUNTS)?;
            let row = accounts.get(&tpcb::id_key(t.aid)[..])?;
            match row {
                Some(g) => tpcb::balance(g.value())?,
                None => fail!("account {} vanished", t.aid),
            }
        };
        update_balance(&w, Table::Tellers, t.tid, t.delta)?;
        update_balance(&w, Table::Branches, t.bid, t.delta)?;
        w.open_table(HISTORY)?
            .insert(&t.history_key()[..], &t.history_value()[..])?;
        w.commit()?;
        Ok(abalance)
    }
}

impl tpcb::Engine for RedbTpcb {
    fn client(&self) -> Result<Box<dyn tpcb::Client + '_>> {
        Ok(Box::new(RedbClient { db: &self.db }))
    }

    fn sums(&self) -> Result<Sums> {
        let r = self.db.begin_read()?;
        let mut s = Sums::default();
        for (table, sum) in [
            (Table::Accounts, &mut s.accounts),
            (Table::Tellers, &mut s.tellers),
            (Table::Branches, &mut s.branches),
        ] {
            for item in r.open_table(def(table))?.iter()? {
                *sum += tpcb::balance(item?.1.value())?;
            }
        }
        for item in r.open_table(HISTORY)?.iter()? {
            s.history += tpcb::history_delta(item?.1.value())?;
            s.history_rows += 1;
        }
        Ok(s)
    }
}

type ReadTable = redb::ReadOnlyTable<&'static [u8], &'static [u8]>;

/// A reader session: while a read transaction is open, its accounts,
/// tellers and branches (each table keeps the transaction's snapshot
/// alive).
struct RedbReader<'a> {
    db: &'a Database,
    tables: Option<[ReadTable; 3]>,
}

/// The tables a reader reads, in a new read transaction.
fn reader_tables(db: &Database) -> Result<[ReadTable; 3]> {
    let txn = db.begin_read()?;
    Ok([
        txn.open_table(ACCOUNTS)?,
        txn.open_table(TELLERS)?,
        txn.open_table(BRANCHES)?,
    ])
}

impl rw::Reader for RedbReader<'_> {
    fn balance(&mut self, table: Table, id: u32) -> Result<rw::Read> {
        let Some([accounts, tellers, branches]) = &self.tables else {
            fail!("no read transaction is open");
        };
        let t = match table {
            Table::Accounts => accounts,
            Table::Tellers => tellers,
            Table::Branches => branches,
            Table::History => fail!("history rows have no balance"),
        };
        Ok(match t.get(&tpcb::id_key(id)[..])? {
            Some(g) => rw::Read::Row(tpcb::balance(g.value())?),
            None => rw::Read::Missing,
        })
    }

    fn end(&mut self) -> Result<()> {
        self.tables = None;
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        self.tables = Some(reader_tables(self.db)?);
        Ok(())
    }
}

impl rw::Engine for RedbTpcb {
    fn reader(&self) -> Result<Box<dyn rw::Reader + '_>> {
        Ok(Box::new(RedbReader {
            db: &self.db,
            tables: Some(reader_tables(&self.db)?),
        }))
    }
}
