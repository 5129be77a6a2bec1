//! LMDB through heed, with default (fully synced) commits and a 16 GiB
//! map (sparse: the file grows only as pages are written). One write
//! transaction at a time: TPC-B clients queue in `write_txn`.

use crate::kv::{self, KvEngine, KvRead, KvWrite};
use crate::rw;
use crate::tpcb::{self, Sums, Table, Txn};
use crate::{Result, fail};
use heed::types::Bytes;
use heed::{CommitOrAbort, Env, EnvOpenOptions, RoTxn, RwTxn, WithTls};
use std::ops::Bound;
use std::path::Path;

/// The memory map's size: the most the database can grow to.
pub const MAP_SIZE: usize = 16 << 30;

type Db = heed::Database<'static, Bytes, Bytes>;

/// Opens the LMDB environment in `dir` (which must exist).
#[allow(unsafe_code)]
fn open_env(dir: &Path, max_dbs: u32) -> Result<Env> {
    let mut options = EnvOpenOptions::new();
    options.map_size(MAP_SIZE).max_dbs(max_dbs);
    // SAFETY: `EnvOpenOptions::open` is unsafe because LMDB memory-maps the
    // data file: undefined behaviour follows if the file is modified or
    // truncated behind the map's back, other than by LMDB itself. Here the
    // directory is a fresh one that this child process created for itself
    // alone; the environment is opened once, with default flags (LMDB's
    // own locking on, no NO_LOCK / NO_SYNC), on a local file system, and
    // nothing else in the process or outside it touches its files until
    // the environment is dropped, after which the directory is removed.
    let env = unsafe { options.open(dir)? };
    Ok(env)
}

/// Creates the named databases `names` in one write transaction.
fn create_dbs<const N: usize>(env: &Env, names: [&str; N]) -> Result<[Db; N]> {
    let wtxn = env.write_txn()?;
    let dbs = env
        .create_databases_and_commit(wtxn, |opener, wtxn| -> Result<_> {
            let mut out = Vec::with_capacity(N);
            for name in names {
                out.push(opener.create_database::<Bytes, Bytes>(wtxn, Some(name))?);
            }
            let arr: [_; N] = out.try_into().map_err(|_| "wrong number of databases")?;
            Ok(CommitOrAbort::<_, ()>::Commit(arr))
        })?
        .unwrap_commit();
    Ok(dbs)
}

/// The `kv` database of an LMDB environment.
pub struct LmdbKv {
    env: Env,
    db: Db,
}

impl LmdbKv {
    /// Creates the environment in `dir`.
    pub fn open(dir: &Path) -> Result<LmdbKv> {
        let env = open_env(dir, 1)?;
        let [db] = create_dbs(&env, ["kv"])?;
        Ok(LmdbKv { env, db })
    }
}

struct Writer<'a, 'e> {
    txn: &'a mut RwTxn<'e>,
    db: Db,
}

impl KvWrite for Writer<'_, '_> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        Ok(self.db.put(self.txn, key, value)?)
    }

    fn remove(&mut self, key: &[u8]) -> Result<bool> {
        Ok(self.db.delete(self.txn, key)?)
    }
}

struct Reader<'a, 'e> {
    txn: &'a RoTxn<'e>,
    db: Db,
}

impl KvRead for Reader<'_, '_> {
    fn get(&mut self, key: &[u8]) -> Result<Option<(usize, u64)>> {
        Ok(self.db.get(self.txn, key)?.map(kv::summary))
    }

    fn scan(&mut self, from: &[u8], n: usize) -> Result<(usize, u64)> {
        let range = (Bound::Included(from), Bound::Unbounded);
        let mut got = 0;
        let mut bytes = 0;
        for item in self.db.range(self.txn, &range)?.take(n) {
            let (_, v) = item?;
            got += 1;
            bytes += v.len() as u64;
        }
        Ok((got, bytes))
    }
}

impl KvEngine for LmdbKv {
    fn handle(&self) -> Result<Box<dyn KvEngine>> {
        Ok(Box::new(LmdbKv {
            env: self.env.clone(),
            db: self.db,
        }))
    }

    fn write(&mut self, f: &mut dyn FnMut(&mut dyn KvWrite) -> Result<()>) -> Result<()> {
        let mut txn = self.env.write_txn()?;
        f(&mut Writer {
            txn: &mut txn,
            db: self.db,
        })?;
        txn.commit()?;
        Ok(())
    }

    fn read(&mut self, f: &mut dyn FnMut(&mut dyn KvRead) -> Result<()>) -> Result<()> {
        let txn = self.env.read_txn()?;
        f(&mut Reader {
            txn: &txn,
            db: self.db,
        })
    }

    fn settle(&mut self) -> Result<()> {
        Ok(self.env.force_sync()?)
    }

    fn compact(&mut self) -> Result<bool> {
        // LMDB compacts only into a copy (mdb_env_copy2 with
        // MDB_CP_COMPACT), not in place.
        Ok(false)
    }
}

/// LMDB loaded with the TPC-B tables.
pub struct LmdbTpcb {
    env: Env,
    dbs: [Db; 4],
}

const TABLES: [Table; 4] = [
    Table::Accounts,
    Table::Tellers,
    Table::Branches,
    Table::History,
];

impl LmdbTpcb {
    /// Creates the environment in `dir` and loads `scale` in one
    /// transaction.
    pub fn load(dir: &Path, scale: tpcb::Scale) -> Result<LmdbTpcb> {
        let env = open_env(dir, 4)?;
        let dbs = create_dbs(&env, TABLES.map(Table::name))?;
        let me = LmdbTpcb { env, dbs };
        let mut txn = me.env.write_txn()?;
        for (table, id, parent, filler) in tpcb::rows(scale) {
            me.db(table)
                .put(&mut txn, &tpcb::id_key(id), &tpcb::new_row(parent, filler))?;
        }
        txn.commit()?;
        Ok(me)
    }

    fn db(&self, t: Table) -> Db {
        self.dbs[TABLES.iter().position(|x| *x == t).unwrap_or(0)]
    }

    fn update_balance(&self, txn: &mut RwTxn, table: Table, id: u32, delta: i64) -> Result<()> {
        let key = tpcb::id_key(id);
        let db = self.db(table);
        let Some(mut row) = db.get(txn, &key)?.map(|r: &[u8]| r.to_vec()) else {
            fail!("{} {id} is missing", table.name());
        };
        tpcb::add_to_balance(&mut row, delta)?;
        db.put(txn, &key, &row)?;
        Ok(())
    }
}

struct LmdbClient<'a> {
    e: &'a LmdbTpcb,
}

impl tpcb::Client for LmdbClient<'_> {
    fn run(&mut self, t: &Txn) -> Result<i64> {
        let e = self.e;
        let mut txn = e.env.write_txn()?;
        e.update_balance(&mut txn, Table::Accounts, t.aid, t.delta)?;
        let abalance = match e.db(Table::Accounts).get(&txn, &tpcb::id_key(t.aid))? {
            Some(row) => tpcb::balance(row)?,
            None => fail!("account {} vanished", t.aid),
        };
        e.update_balance(&mut txn, Table::Tellers, t.tid, t.delta)?;
        e.update_balance(&mut txn, Table::Branches, t.bid, t.delta)?;
        e.db(Table::History)
            .put(&mut txn, &t.history_key(), &t.history_value())?;
        txn.commit()?;
        Ok(abalance)
    }
}

impl tpcb::Engine for LmdbTpcb {
    fn client(&self) -> Result<Box<dyn tpcb::Client + '_>> {
        Ok(Box::new(LmdbClient { e: self }))
    }

    fn sums(&self) -> Result<Sums> {
        let txn = self.env.read_txn()?;
        let mut s = Sums::default();
        for (table, sum) in [
            (Table::Accounts, &mut s.accounts),
            (Table::Tellers, &mut s.tellers),
            (Table::Branches, &mut s.branches),
        ] {
            for item in self.db(table).iter(&txn)? {
                *sum += tpcb::balance(item?.1)?;
            }
        }
        for item in self.db(Table::History).iter(&txn)? {
            s.history += tpcb::history_delta(item?.1)?;
            s.history_rows += 1;
        }
        Ok(s)
    }
}

/// A reader session: a read transaction while one is open, made on the
/// reader's thread (with heed's default thread-local reader slots a
/// `RoTxn` is not `Send`, and a thread has one at a time).
struct LmdbReader<'e> {
    e: &'e LmdbTpcb,
    txn: Option<RoTxn<'e, WithTls>>,
}

impl rw::Reader for LmdbReader<'_> {
    fn balance(&mut self, table: Table, id: u32) -> Result<rw::Read> {
        let Some(txn) = &self.txn else {
            fail!("no read transaction is open");
        };
        Ok(match self.e.db(table).get(txn, &tpcb::id_key(id))? {
            Some(row) => rw::Read::Row(tpcb::balance(row)?),
            None => rw::Read::Missing,
        })
    }

    fn end(&mut self) -> Result<()> {
        self.txn = None;
        Ok(())
    }

    fn begin(&mut self) -> Result<()> {
        self.txn = Some(self.e.env.read_txn()?);
        Ok(())
    }
}

impl rw::Engine for LmdbTpcb {
    fn reader(&self) -> Result<Box<dyn rw::Reader + '_>> {
        Ok(Box::new(LmdbReader {
            e: self,
            txn: Some(self.env.read_txn()?),
        }))
    }
}
