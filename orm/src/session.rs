//! The ORM's database handle and its sessions.
//!
//! A [`Session`] is one transaction of the engine, seen through models:
//! `add`, `update` and `get` rows here; `query` them (`query/`); `delete`
//! them, following the delete rules of their relationships
//! (`relation.rs`). It keeps every index in step with the rows and checks
//! the rules the models declare (unique columns, foreign keys, lengths,
//! NaN) before it writes anything, so a refused write leaves the session
//! as it was and usable. `commit` makes everything durable; dropping the
//! session rolls it back.
//!
//! This file knows models, the storage layout and the stored schemas, and
//! nothing above them: the files that add methods to [`Session`] and
//! [`Database`] (`query/`, `relation.rs`, `check.rs`) import it, never
//! the other way round.

use crate::error::{Error, Result};
use crate::kv::{KvStore, KvTxn};
use crate::layout::{
    RowLayout, SCHEMA_TABLE, column_index_table, decode_key, decode_model, encode_model, index_key,
    key_of, key_of_ref,
};
use crate::model::{ColumnDef, Model, Stamp};
use crate::rebuild::{apply_automatic, create_tables, file_version};
use crate::schema::StoredSchema;
use crate::value::{ToColumn, Value, ValueRef};
use parking_lot::{Mutex, RwLock};
use std::any::TypeId;
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Reruns by [`Database::transaction`] over a store that is not Strata's
/// engine (whose `Options::max_retries` applies otherwise, 10 by default):
/// another store's optimistic transactions lose a conflict where the
/// engine's would wait for a lock, so they get more tries.
const DEFAULT_RETRIES: u32 = 64;

/// How long the `attempt`-th rerun (from 1) of [`Database::transaction`]
/// waits: 2 ms, doubling, capped at 128 ms, times a pseudo-random factor in
/// [0.5, 1.5) drawn from `salt`, so that the sessions that collided do not
/// collide again in step. The engine's `Database::transaction` waits the
/// same.
fn backoff(attempt: u32, salt: u64) -> std::time::Duration {
    let base_us = 1000u64 << attempt.min(7);
    let mix = (salt ^ u64::from(attempt)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54; // 0..1024
    std::time::Duration::from_micros(base_us / 2 + base_us * mix / 1024)
}

/// Counters of the ORM's work, for tests and tuning.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// # let (_dir, db) = blog()?;
/// let before = db.stats();
/// let s = db.read_session()?;
/// s.query::<Post>().filter(Post::score.gt(3.0)).all()?; // one index scan, two rows by key
/// let after = db.stats();
/// assert_eq!(after.scans - before.scans, 1);
/// assert_eq!(after.row_gets - before.row_gets, 2);
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrmStats {
    /// Range scans started over tables and indexes.
    pub scans: u64,
    /// Rows read by primary key.
    pub row_gets: u64,
    /// Reruns of a closure by [`Database::transaction`] (the engine's own
    /// `Stats::retries` counts those of the engine's `transaction`).
    pub retries: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    scans: AtomicU64,
    row_gets: AtomicU64,
    retries: AtomicU64,
}

pub(crate) struct DbInner {
    pub(crate) store: Arc<dyn KvStore>,
    pub(crate) engine: Option<strata_engine::Database>,
    /// Every model's stored schema, by table.
    pub(crate) schemas: RwLock<HashMap<String, StoredSchema>>,
    /// Models checked against their stored schema by this handle, each
    /// with the layout it reads its rows with (`None`: plain serde).
    /// The table is kept to forget every model of a table whose schema a
    /// session changed. Looked up at every read, so keyed without SipHash.
    registered: Mutex<HashMap<TypeId, Registered, BuildTypeIdHasher>>,
    /// The automatic keys of each table with one.
    sequences: Mutex<HashMap<&'static str, Sequence>>,
    pub(crate) counters: Counters,
    /// Queries taking at least this many microseconds are reported
    /// (`query/slow.rs`).
    pub(crate) slow_query_us: AtomicU64,
}

/// The slow-query threshold of a new handle: 100 ms
/// (`Database::set_slow_query_threshold`).
pub(crate) const DEFAULT_SLOW_QUERY: std::time::Duration = std::time::Duration::from_millis(100);

/// A model checked against its stored schema: its table, and the layout
/// it reads rows with.
type Registered = (&'static str, Option<Arc<RowLayout>>);

/// The hasher of the registry of models: a `TypeId` is a hash already
/// (its `Hash` writes one `u64`), so it is used as it is instead of going
/// through SipHash at every read of a row.
type BuildTypeIdHasher = std::hash::BuildHasherDefault<TypeIdHasher>;

#[derive(Default)]
struct TypeIdHasher(u64);

impl std::hash::Hasher for TypeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(5) ^ n;
    }

    /// Whatever else a `TypeId` may write, folded in (FNV-1a).
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A table's automatic keys: `next` up to `end` are this handle's to
/// hand out. `end` is `i64::MAX` when the store keeps no shared counter,
/// and 0 until a block is first reserved from one (`KvStore::reserve_keys`).
struct Sequence {
    next: i64,
    end: i64,
}

impl Default for Sequence {
    fn default() -> Sequence {
        Sequence { next: 1, end: 0 }
    }
}

/// A database of models: the engine underneath, plus the stored schemas.
/// Cheap to clone.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::Database;
/// # let dir = tempfile::tempdir().unwrap();
/// let db = Database::open(dir.path().join("blog.strata"))?;
/// // One handle per file; clones share it, across threads too.
/// let writer = db.clone();
/// std::thread::spawn(move || {
///     writer.transaction(|s| s.add(&mut Tag { id: 0, name: "rust".into() }))
/// })
/// .join()
/// .expect("no panic")?;
/// assert_eq!(db.read_session()?.query::<Tag>().count()?, 1);
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone)]
pub struct Database {
    pub(crate) inner: Arc<DbInner>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("models", &self.inner.schemas.read().len())
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens (or creates) the database file at `path`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Database;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("blog.strata");
    /// let db = Database::open(&path)?; // creates blog.strata and blog.strata-wal
    /// db.transaction(|s| s.add(&mut Tag { id: 0, name: "rust".into() }))?;
    /// drop(db);
    /// let db = Database::open(&path)?; // and opens them again
    /// assert_eq!(db.read_session()?.query::<Tag>().count()?, 1);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Database> {
        Database::open_with(path, strata_engine::Options::default())
    }

    /// Opens (or creates) the database file at `path` with engine options.
    ///
    /// ```
    /// use std::time::Duration;
    /// use strata::Database;
    /// use strata::engine::{Durability, Options};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let options = Options {
    ///     durability: Durability::Buffered, // commits without waiting for fsync
    ///     lock_timeout: Duration::from_secs(1),
    ///     ..Options::default()
    /// };
    /// let db = Database::open_with(dir.path().join("blog.strata"), options)?;
    /// assert_eq!(db.engine().map(|e| e.options().lock_timeout), Some(Duration::from_secs(1)));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn open_with(path: impl AsRef<Path>, options: strata_engine::Options) -> Result<Database> {
        let engine = strata_engine::Database::open_with(path, options)?;
        Database::from_engine(engine)
    }

    /// The ORM over an open engine database.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("blog.strata"))?;
    /// // Tables of its own beside the ORM's, in the same file.
    /// engine.transaction(|tx| { tx.create_table("counters")?; tx.put("counters", b"visits", b"0") })?;
    /// let db = strata::Database::from_engine(engine)?;
    /// db.transaction(|s| s.add(&mut Tag { id: 0, name: "rust".into() }))?;
    /// let tables = db.engine().expect("the engine").info()?.tables;
    /// assert!(tables.contains(&"counters".to_string()) && tables.contains(&"tags".to_string()));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn from_engine(engine: strata_engine::Database) -> Result<Database> {
        let store: Arc<dyn KvStore> = Arc::new(engine.clone());
        Database::over(store, Some(engine))
    }

    /// The ORM over an etcd cluster: `url` is
    /// `etcd://HOST:PORT[,HOST:PORT...]/PREFIX[?OPTIONS]` (the module
    /// `etcd` lists the options). The path is a key prefix, so several
    /// applications share a cluster. Feature `etcd`.
    ///
    /// ```no_run
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// // Not run by the doc tests: it needs an etcd cluster (README.md, "Run it
    /// // on etcd", starts one of three members on this machine).
    /// let db = strata::Database::connect("etcd://127.0.0.1:12379,127.0.0.1:22379,127.0.0.1:32379/blog")?;
    /// db.transaction(|s| s.add(&mut Tag { id: 0, name: "replicated".into() }))?;
    /// # Ok::<(), strata::Error>(())
    /// ```
    #[cfg(feature = "etcd")]
    pub fn connect(url: &str) -> Result<Database> {
        Database::over(Arc::new(crate::etcd::EtcdStore::connect(url)?), None)
    }

    /// The ORM over any store implementing the key-value interface.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use std::sync::Arc;
    /// use strata::{Database, KvStore};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("blog.strata"))?;
    /// let store: Arc<dyn KvStore> = Arc::new(engine); // or another store's implementation
    /// let db = Database::over(store, None)?; // None: no engine-only features
    /// assert!(db.engine().is_none());
    /// db.transaction(|s| s.add(&mut Tag { id: 0, name: "rust".into() }))?;
    /// assert_eq!(db.check()?, 1); // the ORM's check runs over any store
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn over(
        store: Arc<dyn KvStore>,
        engine: Option<strata_engine::Database>,
    ) -> Result<Database> {
        // Load every stored schema once. A read-only engine cannot
        // create the schema table, and a file without one has no models.
        let read_only = engine
            .as_ref()
            .is_some_and(strata_engine::Database::is_read_only);
        let schemas = if read_only {
            load_schemas(&*store.begin_read()?)?
        } else {
            let mut tx = store.begin()?;
            tx.create_table(SCHEMA_TABLE)?;
            let schemas = load_schemas(&*tx)?;
            tx.commit()?;
            schemas
        };
        Ok(Database {
            inner: Arc::new(DbInner {
                store,
                engine,
                schemas: RwLock::new(schemas),
                registered: Mutex::new(HashMap::default()),
                sequences: Mutex::new(HashMap::new()),
                counters: Counters::default(),
                slow_query_us: AtomicU64::new(DEFAULT_SLOW_QUERY.as_micros() as u64),
            }),
        })
    }

    /// A read-write session (one transaction).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// s.add(&mut Tag { id: 0, name: "databases".into() })?;
    /// s.commit()?; // or drop it to roll back
    /// assert_eq!(db.read_session()?.query::<Tag>().count()?, 3);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn session(&self) -> Result<Session> {
        Session::begin(&self.inner, false)
    }

    /// A read-only session: it reads a snapshot of the committed state as
    /// of this call, takes no locks (it never waits for a writer, and no
    /// writer waits for it), and refuses writes.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let reader = db.read_session()?;
    /// db.transaction(|s| s.add(&mut Tag { id: 0, name: "new".into() }))?; // does not wait for the reader
    /// assert_eq!(reader.query::<Tag>().count()?, 2); // its snapshot
    /// assert!(reader.get::<Tag>(1)?.is_some());
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn read_session(&self) -> Result<Session> {
        Session::begin(&self.inner, true)
    }

    /// Runs `f` in a session and commits it. If the session loses a
    /// deadlock or times out waiting for a lock ([`Error::is_retryable`]),
    /// it is rolled back and `f` runs again in a new session, up to the
    /// engine's `Options::max_retries` times (10 by default, and 10 over a
    /// store without Strata's engine), after a pause that doubles from
    /// 2 ms to 128 ms, times a pseudo-random factor in [0.5, 1.5): the
    /// engine's own `Database::transaction` schedule. Each rerun counts in
    /// [`OrmStats::retries`]. Any other error is returned at once.
    ///
    /// `f` may therefore run more than once, and should have no effects
    /// outside the session that it cannot repeat.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model};
    /// # #[derive(Model, Serialize, Deserialize, Clone)]
    /// # struct Counter { #[strata(primary_key)] id: i64, n: i64 }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-tx-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let db = Database::open(dir.join("app.strata"))?;
    /// let id = db.transaction(|s| {
    ///     let mut c = Counter { id: 0, n: 1 };
    ///     s.add(&mut c)?;
    ///     Ok(c.id)
    /// })?;
    /// assert_eq!(id, 1);
    /// assert_eq!(db.stats().retries, 0);
    /// # drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn transaction<T>(&self, mut f: impl FnMut(&mut Session) -> Result<T>) -> Result<T> {
        let mut attempt = 0;
        loop {
            let mut s = self.session()?;
            match f(&mut s).and_then(|v| s.commit().map(|()| v)) {
                Err(e) if e.is_retryable() && attempt < self.max_retries() => {
                    attempt += 1;
                    let salt = self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(backoff(attempt, salt));
                }
                other => return other,
            }
        }
    }

    /// The engine's `Options::max_retries`; 64 over another store, whose
    /// optimistic transactions lose a conflict where the engine's would
    /// wait for a lock.
    fn max_retries(&self) -> u32 {
        self.inner
            .engine
            .as_ref()
            .map_or(DEFAULT_RETRIES, |e| e.options().max_retries)
    }

    /// The engine underneath, when it is Strata's.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let engine = db.engine().expect("a Strata file");
    /// engine.checkpoint()?;
    /// assert!(engine.stats().commits > 0);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn engine(&self) -> Option<&strata_engine::Database> {
        self.inner.engine.as_ref()
    }

    /// Counters of the ORM's work since the handle was opened.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let before = db.stats().row_gets;
    /// db.read_session()?.get::<User>(1)?;
    /// assert_eq!(db.stats().row_gets, before + 1);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn stats(&self) -> OrmStats {
        OrmStats {
            scans: self.inner.counters.scans.load(Ordering::Relaxed),
            row_gets: self.inner.counters.row_gets.load(Ordering::Relaxed),
            retries: self.inner.counters.retries.load(Ordering::Relaxed),
        }
    }

    /// Checks that `M` matches its stored schema, or stores it and creates
    /// its tables, or makes its automatic changes (in a transaction of its
    /// own), as the first session that writes a row of `M` does.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = empty()?;
    /// db.register::<Tag>()?; // stores Tag's schema and creates its tables now
    /// assert!(db.table("tags").is_some());
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn register<M: Model>(&self) -> Result<()> {
        if self.inner.is_registered::<M>() {
            return Ok(());
        }
        if self.inner.read_only() {
            return self.read_session()?.ensure::<M>();
        }
        let mut s = self.session()?;
        s.ensure_mut::<M>()?;
        s.commit()
    }
}

/// Every stored schema, by table; none when the schema table does not
/// exist (a file no read-write handle has opened through the ORM).
pub(crate) fn load_schemas(tx: &dyn KvTxn) -> Result<HashMap<String, StoredSchema>> {
    let mut schemas = HashMap::new();
    let rows = absent(
        tx.scan(SCHEMA_TABLE, Bound::Unbounded, Bound::Unbounded, false),
        || Box::new(std::iter::empty()),
    )?;
    for kv in rows {
        let (k, v) = kv?;
        let table = String::from_utf8_lossy(&k).into_owned();
        let s = StoredSchema::decode(&v, &table)?;
        schemas.insert(table, s);
    }
    Ok(schemas)
}

impl DbInner {
    /// Reads every stored schema again, and forgets which models were
    /// checked against them: after a migration, committed or not.
    pub(crate) fn reload_schemas(&self) -> Result<()> {
        let tx = self.store.begin_read()?;
        let schemas = load_schemas(&*tx)?;
        tx.commit()?;
        *self.schemas.write() = schemas;
        self.registered.lock().clear();
        Ok(())
    }

    /// Whether the engine underneath is a read-only handle.
    pub(crate) fn read_only(&self) -> bool {
        self.engine
            .as_ref()
            .is_some_and(strata_engine::Database::is_read_only)
    }

    /// Whether `M` was checked against its stored schema through this
    /// handle.
    fn is_registered<M: Model>(&self) -> bool {
        self.registered.lock().contains_key(&TypeId::of::<M>())
    }

    /// Records that `M` matches its stored schema and reads its rows with
    /// `layout`, seeding its automatic keys first.
    fn registered<M: Model>(&self, layout: Option<Arc<RowLayout>>) -> Result<()> {
        if M::AUTO_KEY {
            self.seed_sequence::<M>()?;
        }
        self.registered
            .lock()
            .insert(TypeId::of::<M>(), (M::TABLE, layout));
        Ok(())
    }

    /// Moves the automatic keys of `M` past the largest key stored.
    fn seed_sequence<M: Model>(&self) -> Result<()> {
        let tx = self.store.begin_read()?;
        let last = tx
            .scan(M::TABLE, Bound::Unbounded, Bound::Unbounded, true)?
            .next()
            .transpose()?;
        let next = match last.and_then(|(k, _)| decode_key(&k)) {
            Some((Value::Int(i), _)) => i.saturating_add(1),
            Some((Value::UInt(u), _)) => i64::try_from(u).unwrap_or(i64::MAX).saturating_add(1),
            _ => 1,
        };
        tx.commit()?;
        let mut seq = self.sequences.lock();
        let cur = seq.entry(M::TABLE).or_default();
        cur.next = cur.next.max(next);
        Ok(())
    }

    /// Takes the next automatic key of `table`, reserving a block of them
    /// from the store when it keeps a shared counter.
    fn next_key(&self, table: &'static str) -> Result<i64> {
        let mut seq = self.sequences.lock();
        let cur = seq.entry(table).or_default();
        if cur.next >= cur.end {
            match self.store.reserve_keys(table, cur.next)? {
                Some(block) => (cur.next, cur.end) = (block.start, block.end),
                None => cur.end = i64::MAX,
            }
        }
        let k = cur.next;
        cur.next = cur.next.saturating_add(1);
        Ok(k)
    }

    /// Makes sure automatic keys of `table` stay above `key` (given by hand).
    fn saw_key(&self, table: &'static str, key: i64) {
        let mut seq = self.sequences.lock();
        let cur = seq.entry(table).or_default();
        cur.next = cur.next.max(key.saturating_add(1));
    }

    pub(crate) fn counted_scan(&self) {
        self.counters.scans.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn counted_get(&self) {
        self.counters.row_gets.fetch_add(1, Ordering::Relaxed);
    }
}

/// One transaction over models. Commit with [`Session::commit`]; dropping
/// it rolls it back.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// # let (_dir, db) = blog()?;
/// let mut s = db.session()?;
/// let mut carol = User { id: 0, username: "carol".into(), email: "carol@example.com".into() };
/// s.add(&mut carol)?;
/// let mut post = Post { id: 0, author_id: carol.id, title: "First".into(), score: 1.0, topic: None };
/// s.add(&mut post)?;
/// post.score = 3.0;
/// s.update(&post)?;
/// assert_eq!(s.get::<Post>(post.id)?.map(|p| p.score), Some(3.0)); // its own writes
/// s.commit()?;
/// # Ok::<(), strata::Error>(())
/// ```
pub struct Session {
    pub(crate) db: Arc<DbInner>,
    pub(crate) kv: Box<dyn KvTxn>,
    read_only: bool,
    /// The models whose schemas this session stored (and whose tables it
    /// created, or whose automatic changes it made) in its own
    /// transaction, with the layouts they read rows with: published to the
    /// handle when the session commits, forgotten when it rolls back.
    pending: Vec<(TypeId, Registered, StoredSchema)>,
    /// Why the session can no longer commit: an automatic change that
    /// failed half way (its writes are in the transaction).
    broken: Option<String>,
}

/// How a model stands against its stored schema, at its first use.
enum Standing {
    /// No schema is stored: its tables do not exist yet.
    New,
    /// The stored columns are the model's: it reads rows with the layout.
    Reads(Option<Arc<RowLayout>>),
    /// The same columns, but other associations: stored again at the first
    /// write.
    Associations(StoredSchema),
    /// Every difference is automatic (`StoredSchema::diff`): the changes,
    /// described, and whether they build an index.
    Migrate(StoredSchema, String, bool),
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl Session {
    fn begin(db: &Arc<DbInner>, read_only: bool) -> Result<Session> {
        Ok(Session {
            db: db.clone(),
            kv: if read_only {
                db.store.begin_read()?
            } else {
                db.store.begin()?
            },
            read_only,
            pending: Vec::new(),
            broken: None,
        })
    }

    /// Whether the session reads a snapshot and takes no locks (a read
    /// session).
    pub(crate) fn is_snapshot(&self) -> bool {
        self.read_only
    }

    /// Fails unless the session may write.
    pub(crate) fn writable(&self) -> Result<()> {
        if self.read_only {
            return Err(strata_engine::Error::ReadOnly.into());
        }
        self.usable()
    }

    /// Fails once an automatic change failed in the session.
    fn usable(&self) -> Result<()> {
        match &self.broken {
            Some(why) => Err(Error::MigrationFailed {
                step: "automatic".into(),
                detail: format!("{why}; the session's transaction must be rolled back"),
            }),
            None => Ok(()),
        }
    }

    /// Commits the session: everything it did becomes durable and visible.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// s.add(&mut Tag { id: 0, name: "kept".into() })?;
    /// s.commit()?; // durable when it returns
    /// assert_eq!(db.read_session()?.query::<Tag>().count()?, 3);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn commit(self) -> Result<()> {
        self.usable()?;
        let Session {
            db, kv, pending, ..
        } = self;
        kv.commit()?;
        // The schemas this session stored are now the file's.
        for (id, (table, layout), schema) in pending {
            db.schemas.write().insert(schema.table.clone(), schema);
            let mut registered = db.registered.lock();
            // Other models of the table are checked again.
            registered.retain(|_, (t, _)| *t != table);
            registered.insert(id, (table, layout));
        }
        Ok(())
    }

    /// The layout rows of `M` are read and written with in this session
    /// (`None`: plain serde, or `M` not registered yet).
    pub(crate) fn row_layout<M: Model>(&self) -> Option<Arc<RowLayout>> {
        self.known_layout::<M>().flatten()
    }

    /// The layout of `M` when it is checked already (registered with the
    /// handle, or pending in this session); `None` before its first use.
    fn known_layout<M: Model>(&self) -> Option<Option<Arc<RowLayout>>> {
        let id = TypeId::of::<M>();
        match self.pending.iter().find(|p| p.0 == id) {
            Some((_, (_, layout), _)) => Some(layout.clone()),
            None => self
                .db
                .registered
                .lock()
                .get(&id)
                .map(|(_, layout)| layout.clone()),
        }
    }

    /// [`Session::ensure`], then [`Session::row_layout`]: one look in the
    /// registry for a model checked already, as it is at every read but
    /// the first.
    pub(crate) fn reader<M: Model>(&self) -> Result<Option<Arc<RowLayout>>> {
        if let Some(layout) = self.known_layout::<M>() {
            return Ok(layout);
        }
        self.ensure::<M>()?;
        Ok(self.row_layout::<M>())
    }

    /// How `M` stands against the schema stored for its table; a
    /// difference that is not automatic is a `SchemaMismatch` naming the
    /// step to write.
    fn standing<M: Model>(&self) -> Result<Standing> {
        let declared = StoredSchema::of::<M>();
        let Some(stored) = self.db.schemas.read().get(M::TABLE).cloned() else {
            return Ok(Standing::New);
        };
        if !stored.reads_as(&declared) {
            let diff = stored.diff(&declared, None)?;
            let what: Vec<String> = diff
                .changes
                .iter()
                .map(|c| format!("{} {}", c.field, c.what))
                .collect();
            let builds = declared.columns.iter().any(|d| {
                d.has_index()
                    && !stored
                        .columns
                        .iter()
                        .any(|s| s.name == d.name && s.has_index() && s.unique == d.unique)
            });
            return Ok(Standing::Migrate(stored, what.join("; "), builds));
        }
        if stored.associations != declared.associations {
            return Ok(Standing::Associations(stored));
        }
        let layout = stored
            .layout_for(&declared)
            .map_err(|detail| Error::Corruption {
                table: M::TABLE.to_string(),
                detail,
            })?;
        Ok(Standing::Reads(layout.map(Arc::new)))
    }

    /// The error of a read-only handle at the first use of a model whose
    /// automatic changes are pending.
    fn migration_needed<M: Model>(what: &str) -> Error {
        Error::MigrationNeeded {
            detail: format!(
                "model {}: {what}: open the file writable once to make these automatic changes",
                M::NAME
            ),
        }
    }

    /// Checks `M` against its stored schema before a read. A model whose
    /// schema no committed session has stored yet reads as empty (its
    /// tables do not exist, see [`Session::get_raw`]). A model whose
    /// automatic changes are pending has them made in a transaction of
    /// their own, since a read cannot write in this one; a snapshot that
    /// began before and would need an index built there is refused
    /// (`MigrationNeeded`: begin a new session). Any other difference is a
    /// `SchemaMismatch`.
    pub(crate) fn ensure<M: Model>(&self) -> Result<()> {
        if self.db.is_registered::<M>() || self.is_pending::<M>() {
            return Ok(());
        }
        match self.standing::<M>()? {
            Standing::New | Standing::Associations(_) => Ok(()),
            Standing::Reads(layout) => self.db.registered::<M>(layout),
            Standing::Migrate(_, what, _) if self.db.read_only() => {
                Err(Self::migration_needed::<M>(&what))
            }
            Standing::Migrate(_, what, builds) => {
                let mut s = Session::begin(&self.db, false)?;
                s.ensure_mut::<M>()?;
                s.commit()?;
                if self.read_only && builds {
                    return Err(Error::MigrationNeeded {
                        detail: format!(
                            "model {}: {what}: made after this read session began, whose \
                             snapshot does not hold the new index: begin a new session",
                            M::NAME
                        ),
                    });
                }
                Ok(())
            }
        }
    }

    /// Checks `M` against its stored schema before a write; the first
    /// time `M` is ever written, stores its schema and creates its tables,
    /// and when its automatic changes are pending, makes them (rows,
    /// indexes, schema, migration log: `rebuild.rs`), all in this
    /// session's own transaction, so that the registration never waits on
    /// a lock this session holds and is undone if it rolls back. Automatic
    /// changes that fail (a unique index over duplicate values) leave the
    /// session unable to commit.
    pub(crate) fn ensure_mut<M: Model>(&mut self) -> Result<()> {
        if self.db.is_registered::<M>() || self.is_pending::<M>() {
            return Ok(());
        }
        let declared = StoredSchema::of::<M>();
        let (target, existed) = match self.standing::<M>()? {
            Standing::Reads(layout) => return self.db.registered::<M>(layout),
            Standing::Migrate(_, what, _) if self.db.read_only() => {
                return Err(Self::migration_needed::<M>(&what));
            }
            Standing::Migrate(old, ..) => {
                self.writable()?;
                let version = file_version(&*self.kv)?;
                match apply_automatic(&mut *self.kv, &old, &declared, version) {
                    Ok(target) => (target, true),
                    Err(e) => {
                        self.broken = Some(format!("the automatic changes of {} failed", M::NAME));
                        return Err(e);
                    }
                }
            }
            Standing::Associations(mut stored) => {
                stored.associations = declared.associations.clone();
                (stored, true)
            }
            Standing::New => (declared.clone(), false),
        };
        self.writable()?;
        create_tables(&mut *self.kv, &target)?;
        self.kv
            .put(SCHEMA_TABLE, M::TABLE.as_bytes(), &target.encode())?;
        if existed && M::AUTO_KEY {
            // Rows exist already: keys go on past them.
            self.db.seed_sequence::<M>()?;
        }
        let layout = target
            .layout_for(&declared)
            .map_err(|detail| Error::Corruption {
                table: M::TABLE.to_string(),
                detail,
            })?;
        self.pending
            .push((TypeId::of::<M>(), (M::TABLE, layout.map(Arc::new)), target));
        Ok(())
    }

    fn is_pending<M: Model>(&self) -> bool {
        let id = TypeId::of::<M>();
        self.pending.iter().any(|(p, ..)| *p == id)
    }

    /// Every stored schema this session sees, in table order: the
    /// handle's, and those it stored itself.
    pub(crate) fn schemas(&self) -> Vec<StoredSchema> {
        let mut all: Vec<StoredSchema> = self.db.schemas.read().values().cloned().collect();
        for (.., s) in &self.pending {
            all.retain(|a| a.table != s.table);
            all.push(s.clone());
        }
        all.sort_by(|a, b| a.table.cmp(&b.table));
        all
    }

    /// The value under `key` in `table`; a table that does not exist (a
    /// model no committed session has written) holds nothing.
    pub(crate) fn get_raw(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        absent(self.kv.get(table, key), || None)
    }

    /// [`KvTxn::get_with`], a missing table read as empty.
    pub(crate) fn get_with(
        &self,
        table: &str,
        key: &[u8],
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<bool> {
        absent(self.kv.get_with(table, key, f), || false)
    }

    /// [`KvTxn::scan`], a missing table read as empty.
    pub(crate) fn scan_raw<'a>(
        &'a self,
        table: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<crate::kv::KvIter<'a>> {
        absent(self.kv.scan(table, lo, hi, reverse), || {
            Box::new(std::iter::empty())
        })
    }

    /// [`KvTxn::scan_with`], a missing table read as empty.
    pub(crate) fn scan_with(
        &self,
        table: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        absent(self.kv.scan_with(table, lo, hi, reverse, f), || ())
    }

    /// [`KvTxn::scan_with_skip`], a missing table read as empty.
    pub(crate) fn scan_with_skip(
        &self,
        table: &str,
        bounds: (Bound<&[u8]>, Bound<&[u8]>),
        reverse: bool,
        skip: u64,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        absent(
            self.kv.scan_with_skip(table, bounds, reverse, skip, f),
            || (),
        )
    }

    /// [`KvTxn::count`], a missing table read as empty.
    pub(crate) fn count_entries(
        &self,
        table: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
    ) -> Result<u64> {
        absent(self.kv.count(table, lo, hi), || 0)
    }

    /// Throws away everything the session did.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// s.add(&mut Tag { id: 0, name: "dropped".into() })?;
    /// s.rollback(); // as dropping it would
    /// assert_eq!(db.read_session()?.query::<Tag>().count()?, 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn rollback(self) {}

    /// The row of `M` with primary key `key`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// assert_eq!(s.get::<User>(2)?.map(|u| u.username), Some("bob".into()));
    /// assert_eq!(s.get::<User>(99)?, None);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn get<M: Model>(&self, key: impl ToColumn<M::Key>) -> Result<Option<M>> {
        let layout = self.reader::<M>()?;
        self.row_laid_out(layout.as_deref(), &key_of(&key.to_column_value()))
    }

    pub(crate) fn get_by_value<M: Model>(&self, key: &Value) -> Result<Option<M>> {
        self.row_at(&key_of(key))
    }

    /// The row of `M` stored under the encoded primary key `key`, if any.
    pub(crate) fn row_at<M: Model>(&self, key: &[u8]) -> Result<Option<M>> {
        self.row_laid_out(self.row_layout::<M>().as_deref(), key)
    }

    /// [`Session::row_at`], its rows laid out as `layout` says.
    pub(crate) fn row_laid_out<M: Model>(
        &self,
        layout: Option<&RowLayout>,
        key: &[u8],
    ) -> Result<Option<M>> {
        self.db.counted_get();
        let mut row = None;
        self.get_with(M::TABLE, key, &mut |bytes| {
            row = Some(decode_model::<M>(layout, bytes))
        })?;
        row.transpose()
    }

    /// Checks lengths and NaN of every column of `m`, and that its key and
    /// index entries fit the store's key limit: everything that could
    /// refuse a write, checked before anything is written.
    fn validate<M: Model>(&self, m: &M) -> Result<()> {
        self.validate_row(&RowView::of(m))
    }

    /// [`Session::validate`] of a row seen through `r`.
    pub(crate) fn validate_row(&self, r: &RowView<'_>) -> Result<()> {
        let max_key = self.kv.max_key_len();
        let key_len = key_of_ref(r.get(r.key)).len();
        for (i, c) in r.columns.iter().enumerate() {
            let v = r.get(i);
            if c.primary_key || c.has_index() {
                check_orderable(v, r.model, c.name)?;
                let len = key_of_ref(v).len()
                    + if c.primary_key || c.unique {
                        0
                    } else {
                        key_len
                    };
                if len > max_key {
                    return Err(Error::KeyTooLarge {
                        model: r.model,
                        column: c.name,
                        len,
                        max: max_key,
                    });
                }
            }
            if let Some(max) = c.max_len {
                let len = match v {
                    ValueRef::Text(s) => s.chars().count(),
                    ValueRef::Bytes(b) => b.len(),
                    _ => 0,
                };
                if len > max {
                    return Err(Error::TooLong {
                        model: r.model,
                        column: c.name,
                        max,
                        len,
                    });
                }
            }
        }
        Ok(())
    }

    /// Checks the foreign keys of `m` whose values differ from `old`'s.
    fn check_parents<M: Model>(&self, m: &M, old: Option<&M>) -> Result<()> {
        self.check_parents_row(&RowView::of(m), old.map(RowView::of).as_ref())
    }

    /// [`Session::check_parents`] of rows seen through views.
    pub(crate) fn check_parents_row(
        &self,
        r: &RowView<'_>,
        old: Option<&RowView<'_>>,
    ) -> Result<()> {
        for (i, c) in r.columns.iter().enumerate() {
            let Some(parent) = c.foreign_key else {
                continue;
            };
            let v = r.get(i);
            if v.is_null() || old.is_some_and(|o| o.get(i) == v) {
                continue;
            }
            // A shared lock on the parent's key: it cannot be deleted
            // before this transaction ends.
            // A parent table that does not exist holds no parent.
            if !self.get_with(parent, &key_of_ref(v), &mut |_| ())? {
                return Err(Error::ForeignKeyViolation {
                    model: r.model,
                    column: c.name,
                    value: v.to_value(),
                    parent,
                });
            }
        }
        Ok(())
    }

    /// Checks the unique columns of `m` whose values differ from `old`'s.
    fn check_unique<M: Model>(&self, m: &M, old: Option<&M>, key: &[u8]) -> Result<()> {
        self.check_unique_row(&RowView::of(m), old.map(RowView::of).as_ref(), key)
    }

    /// [`Session::check_unique`] of rows seen through views.
    pub(crate) fn check_unique_row(
        &self,
        r: &RowView<'_>,
        old: Option<&RowView<'_>>,
        key: &[u8],
    ) -> Result<()> {
        for (i, c) in r
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.unique && !c.primary_key)
        {
            let v = r.get(i);
            if v.is_null() || old.is_some_and(|o| o.get(i) == v) {
                continue;
            }
            // Exclusive at once: of two sessions adding the same value,
            // the second waits for the first and then sees its value.
            let holder = self
                .kv
                .get_for_update(&column_index_table(r.table, c), &key_of_ref(v))?;
            if holder.is_some_and(|h| h != key) {
                return Err(Error::UniqueViolation {
                    model: r.model,
                    column: c.name,
                    value: v.to_value(),
                });
            }
        }
        Ok(())
    }

    /// Writes (or, with `remove`, deletes) the index entries of `m`'s
    /// indexed columns whose values differ from `other`'s.
    pub(crate) fn write_indexes<M: Model>(
        &mut self,
        m: &M,
        other: Option<&M>,
        key: &[u8],
        remove: bool,
    ) -> Result<()> {
        let other = other.map(RowView::of);
        self.write_indexes_row(&RowView::of(m), other.as_ref(), key, remove)
    }

    /// [`Session::write_indexes`] of rows seen through views.
    pub(crate) fn write_indexes_row(
        &mut self,
        r: &RowView<'_>,
        other: Option<&RowView<'_>>,
        key: &[u8],
        remove: bool,
    ) -> Result<()> {
        for (i, c) in r.columns.iter().enumerate().filter(|(_, c)| c.has_index()) {
            let v = r.get(i);
            if other.is_some_and(|o| o.get(i) == v) || (c.unique && v.is_null()) {
                continue;
            }
            let table = column_index_table(r.table, c);
            let ik = index_key(v, c.unique, key);
            if remove {
                self.kv.delete(&table, &ik)?;
            } else {
                let value: &[u8] = if c.unique { key } else { &[] };
                self.kv.put(&table, &ik, value)?;
            }
        }
        Ok(())
    }

    /// Adds a new row. An automatic key that is 0 is assigned (and written
    /// into `m`). Fails, changing nothing, if the key is taken, a unique
    /// value is taken, a foreign key names no row, or a value breaks a
    /// declared limit.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Error;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// let mut tag = Tag { id: 0, name: "databases".into() };
    /// s.add(&mut tag)?;
    /// assert_eq!(tag.id, 3); // the next key, written back
    /// // A taken unique value is refused, and nothing is written.
    /// let taken = s.add(&mut Tag { id: 0, name: "rust".into() });
    /// assert!(matches!(taken, Err(Error::UniqueViolation { column: "name", .. })));
    /// // So is a foreign key that names no row.
    /// let orphan = s.add(&mut Post { id: 0, author_id: 9, title: "?".into(), score: 0.0, topic: None });
    /// assert!(matches!(orphan, Err(Error::ForeignKeyViolation { .. })));
    /// s.commit()?;
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn add<M: Model>(&mut self, m: &mut M) -> Result<()> {
        self.writable()?;
        self.ensure_mut::<M>()?;
        stamp(m, |_| true);
        self.validate(m)?;
        let auto = M::AUTO_KEY && matches!(m.key_value(), Value::Int(0) | Value::UInt(0));
        if M::AUTO_KEY {
            let zero = matches!(
                m.key_value(),
                Value::Int(0) | Value::UInt(0) | Value::I128(0) | Value::U128(0)
            );
            match m.key_value() {
                _ if zero => self.assign_key(m)?,
                Value::Int(k) => self.db.saw_key(M::TABLE, k),
                Value::UInt(k) => self
                    .db
                    .saw_key(M::TABLE, i64::try_from(k).unwrap_or(i64::MAX)),
                Value::I128(k) => self
                    .db
                    .saw_key(M::TABLE, i64::try_from(k).unwrap_or(i64::MAX)),
                Value::U128(k) => self
                    .db
                    .saw_key(M::TABLE, i64::try_from(k).unwrap_or(i64::MAX)),
                _ => {}
            }
        }
        let mut key = key_of(&m.key_value());
        while self.kv.get_for_update(M::TABLE, &key)?.is_some() {
            let taken = m.key_value();
            // An automatic key that another handle sharing the store
            // (etcd) was given by hand: take the next one.
            if !auto || self.assign_key(m).is_err() || m.key_value() == taken {
                return Err(Error::DuplicateKey {
                    model: M::NAME,
                    key: taken,
                });
            }
            key = key_of(&m.key_value());
        }
        self.check_parents(m, None)?;
        self.check_unique(m, None, &key)?;
        let row = encode_model(self.row_layout::<M>().as_deref(), m)?;
        self.kv.put(M::TABLE, &key, &row)?;
        self.write_indexes(m, None, &key, false)
    }

    /// Gives `m` the next automatic key of its table.
    fn assign_key<M: Model>(&self, m: &mut M) -> Result<()> {
        if m.set_auto_key(self.db.next_key(M::TABLE)?) {
            Ok(())
        } else {
            Err(Error::KeysExhausted { model: M::NAME })
        }
    }

    /// Adds every row of `ms` (see [`Session::add`]); stops at the first
    /// failure, leaving the rows before it added.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// let mut tags = ["a", "b", "c"].map(|name| Tag { id: 0, name: name.into() });
    /// s.add_all(&mut tags)?;
    /// assert_eq!(tags.map(|t| t.id), [3, 4, 5]);
    /// s.commit()?;
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn add_all<M: Model>(&mut self, ms: &mut [M]) -> Result<()> {
        ms.iter_mut().try_for_each(|m| self.add(m))
    }

    /// Replaces the stored row with `m`'s key by `m`, keeping indexes in
    /// step. Fails, changing nothing, like [`Session::add`], or with
    /// [`Error::NotFound`].
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Error;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// let mut bob = s.get::<User>(2)?.expect("bob");
    /// bob.email = "bob@example.com".into();
    /// s.update(&bob)?; // the unique index on email follows
    /// assert_eq!(s.query::<User>().filter(User::email.eq("bob@example.com")).count()?, 1);
    /// let ghost = User { id: 99, username: "ghost".into(), email: "ghost@example.com".into() };
    /// assert!(matches!(s.update(&ghost), Err(Error::NotFound { .. })));
    /// s.commit()?;
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn update<M: Model>(&mut self, m: &M) -> Result<()> {
        self.writable()?;
        self.ensure_mut::<M>()?;
        // `updated_at` columns take the current time in what is stored.
        let stamped;
        let m = if M::COLUMNS.iter().any(|c| c.stamp == Some(Stamp::Updated)) {
            let mut copy = m.clone();
            stamp(&mut copy, |s| s == Stamp::Updated);
            stamped = copy;
            &stamped
        } else {
            m
        };
        self.validate(m)?;
        let key = key_of(&m.key_value());
        let Some(old) = self.kv.get_for_update(M::TABLE, &key)? else {
            return Err(Error::NotFound {
                model: M::NAME,
                key: m.key_value(),
            });
        };
        let layout = self.row_layout::<M>();
        let old: M = decode_model(layout.as_deref(), &old)?;
        self.check_parents(m, Some(&old))?;
        self.check_unique(m, Some(&old), &key)?;
        let row = encode_model(layout.as_deref(), m)?;
        self.kv.put(M::TABLE, &key, &row)?;
        self.write_indexes(&old, Some(m), &key, true)?;
        self.write_indexes(m, Some(&old), &key, false)
    }
}

/// A row about to be written, as the checks before a write read it: a
/// model's fields ([`RowView::of`]), or values decoded from a stored
/// schema (`dynamic/load.rs`).
pub(crate) struct RowView<'a> {
    /// The model, for errors.
    pub(crate) model: &'static str,
    /// Its table.
    pub(crate) table: &'a str,
    pub(crate) columns: &'a [ColumnDef],
    /// The primary key's position.
    pub(crate) key: usize,
    pub(crate) values: Values<'a>,
}

/// Where a [`RowView`] reads its column values.
pub(crate) enum Values<'a> {
    Model(&'a dyn ModelFields),
    Owned(&'a [Value]),
}

/// A model's fields by position, without its type parameter.
pub(crate) trait ModelFields {
    fn field(&self, i: usize) -> ValueRef<'_>;
}

impl<M: Model> ModelFields for M {
    fn field(&self, i: usize) -> ValueRef<'_> {
        self.value_ref(i)
    }
}

impl<'a> RowView<'a> {
    /// The fields of `m`.
    pub(crate) fn of<M: Model>(m: &'a M) -> RowView<'a> {
        RowView {
            model: M::NAME,
            table: M::TABLE,
            columns: M::COLUMNS,
            key: M::PRIMARY_KEY,
            values: Values::Model(m),
        }
    }

    /// The value of column `i`.
    pub(crate) fn get(&self, i: usize) -> ValueRef<'a> {
        match self.values {
            Values::Model(m) => m.field(i),
            Values::Owned(vs) => vs.get(i).map_or(ValueRef::Null, Value::as_ref),
        }
    }
}

/// Sets every timestamp column of `m` whose stamp passes `which` to the
/// current time (UTC; nanoseconds as the clock gives them).
fn stamp<M: Model>(m: &mut M, which: impl Fn(Stamp) -> bool) {
    let cols = M::COLUMNS.iter().enumerate();
    let mut stamped = cols.filter(|(_, c)| c.stamp.is_some_and(&which)).peekable();
    if stamped.peek().is_none() {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let now = Value::DateTime(
        i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        now.subsec_nanos(),
    );
    for (i, _) in stamped {
        let set = m.set_value(i, now.clone());
        debug_assert!(set, "the derive checks that a timestamp is a date and time");
    }
}

/// Refuses NaN where a value must have a place in an order.
fn check_orderable(v: ValueRef<'_>, model: &'static str, column: &'static str) -> Result<()> {
    match v {
        ValueRef::Float(f) if f.is_nan() => Err(Error::NotANumber { model, column }),
        _ => Ok(()),
    }
}

/// `r`, with the engine's `NoSuchTable` read as `empty()`.
fn absent<T>(r: strata_engine::Result<T>, empty: impl FnOnce() -> T) -> Result<T> {
    match r {
        Err(strata_engine::Error::NoSuchTable(_)) => Ok(empty()),
        r => Ok(r?),
    }
}
