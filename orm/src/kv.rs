//! The narrow transactional key-value interface the ORM stands on.
//!
//! Everything the ORM stores goes through these two traits: named tables
//! of ordered byte keys and values, read and written inside a
//! transaction. The Strata engine implements them (below), and so does
//! the etcd backend (`etcd/`, feature `etcd`); another transactional
//! ordered key-value store is put behind the ORM by implementing them
//! too (orm/DESIGN.md, section 11).

use std::ops::{Bound, Range};
use strata_engine::Result;

/// An iterator over `(key, value)` pairs of a scan.
///
/// ```
/// use std::ops::Bound;
/// use strata::{KvIter, KvStore};
/// # let dir = tempfile::tempdir().unwrap();
/// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
/// let mut tx = KvStore::begin(&engine)?;
/// tx.create_table("t")?;
/// tx.put("t", b"a", b"1")?;
/// tx.put("t", b"b", b"2")?;
/// let all: KvIter<'_> = tx.scan("t", Bound::Unbounded, Bound::Unbounded, true)?;
/// let keys: Vec<Vec<u8>> = all.map(|kv| kv.map(|(k, _)| k)).collect::<Result<_, _>>()?;
/// assert_eq!(keys, [b"b".to_vec(), b"a".to_vec()]); // reverse
/// # Ok::<(), strata::engine::Error>(())
/// ```
pub type KvIter<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + 'a>;

/// A transaction over named tables of ordered byte keys.
///
/// ```
/// use strata::{KvStore, KvTxn};
/// # let dir = tempfile::tempdir().unwrap();
/// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
/// let store: &dyn KvStore = &engine; // the engine is one implementation
/// let mut tx: Box<dyn KvTxn> = store.begin()?;
/// tx.create_table("t")?;
/// tx.put("t", b"k", b"v")?;
/// assert_eq!(tx.get("t", b"k")?, Some(b"v".to_vec()));
/// tx.commit()?; // dropping the box instead rolls back
/// # Ok::<(), strata::engine::Error>(())
/// ```
pub trait KvTxn: Send {
    /// The value under `key`.
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin(&engine)?;
    /// tx.create_table("t")?;
    /// assert_eq!(tx.get("t", b"missing")?, None);
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The value under `key`, locked for writing (a read that a write of
    /// the same key will follow).
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin(&engine)?;
    /// tx.create_table("t")?;
    /// tx.put("t", b"n", &[1])?;
    /// let n = tx.get_for_update("t", b"n")?.expect("set")[0]; // locked for the write that follows
    /// tx.put("t", b"n", &[n + 1])?;
    /// tx.commit()?;
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn get_for_update(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Stores `value` under `key`.
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin(&engine)?;
    /// tx.create_table("t")?;
    /// tx.put("t", b"k", b"old")?;
    /// tx.put("t", b"k", b"new")?;
    /// assert_eq!(tx.get("t", b"k")?, Some(b"new".to_vec()));
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<()>;
    /// Removes `key`; whether it was there.
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin(&engine)?;
    /// tx.create_table("t")?;
    /// tx.put("t", b"k", b"v")?;
    /// assert!(tx.delete("t", b"k")?);
    /// assert!(!tx.delete("t", b"k")?);
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool>;
    /// The entries between the bounds, ascending or descending.
    ///
    /// ```
    /// use std::ops::Bound;
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin(&engine)?;
    /// tx.create_table("t")?;
    /// for k in [b"a", b"b", b"c"] {
    ///     tx.put("t", k, b"")?;
    /// }
    /// let from_b = tx.scan("t", Bound::Included(b"b".as_slice()), Bound::Unbounded, false)?;
    /// assert_eq!(from_b.count(), 2);
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn scan<'a>(
        &'a self,
        table: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<KvIter<'a>>;
    /// Calls `f` with the value stored under `key`, borrowed, if there is
    /// one; returns whether there was. By default through [`KvTxn::get`],
    /// for a store that cannot lend its bytes.
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin(&engine)?;
    /// tx.create_table("t")?;
    /// tx.put("t", b"k", b"hello")?;
    /// let mut len = 0;
    /// assert!(tx.get_with("t", b"k", &mut |v| len = v.len())?);
    /// assert_eq!(len, 5);
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn get_with(&self, table: &str, key: &[u8], f: &mut dyn FnMut(&[u8])) -> Result<bool> {
        Ok(self.get(table, key)?.map(|v| f(&v)).is_some())
    }
    /// Calls `f` with each entry between the bounds, borrowed, until it
    /// returns `false`. By default through [`KvTxn::scan`].
    ///
    /// ```
    /// use std::ops::Bound;
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin(&engine)?;
    /// tx.create_table("t")?;
    /// for k in [b"a", b"b", b"c"] {
    ///     tx.put("t", k, b"")?;
    /// }
    /// let mut first = Vec::new();
    /// tx.scan_with("t", Bound::Unbounded, Bound::Unbounded, false, &mut |k, _| {
    ///     first.push(k.to_vec());
    ///     first.len() < 2 // stop after two
    /// })?;
    /// assert_eq!(first, [b"a".to_vec(), b"b".to_vec()]);
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn scan_with(
        &self,
        table: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        for kv in self.scan(table, lo, hi, reverse)? {
            let (k, v) = kv?;
            if !f(&k, &v) {
                break;
            }
        }
        Ok(())
    }
    /// [`KvTxn::scan_with`] after passing over the first `skip` entries
    /// of the scan without lending them (an `OFFSET`). By default they are
    /// read and dropped; a store that can count entries without reading
    /// them passes over them faster.
    fn scan_with_skip(
        &self,
        table: &str,
        (lo, hi): (Bound<&[u8]>, Bound<&[u8]>),
        reverse: bool,
        mut skip: u64,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        self.scan_with(table, lo, hi, reverse, &mut |k, v| {
            if skip > 0 {
                skip -= 1;
                true
            } else {
                f(k, v)
            }
        })
    }
    /// How many entries lie between the bounds. By default they are
    /// read and counted.
    fn count(&self, table: &str, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> Result<u64> {
        let mut n = 0;
        self.scan_with(table, lo, hi, false, &mut |_, _| {
            n += 1;
            true
        })?;
        Ok(n)
    }
    /// Creates a table if it does not exist.
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin(&engine)?;
    /// tx.create_table("t")?;
    /// tx.create_table("t")?; // exists: nothing to do
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn create_table(&mut self, table: &str) -> Result<()>;
    /// The longest key the store accepts.
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// assert_eq!(KvStore::begin_read(&engine)?.max_key_len(), 1024);
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn max_key_len(&self) -> usize;
    /// Commits.
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin(&engine)?;
    /// tx.create_table("t")?;
    /// tx.put("t", b"k", b"v")?;
    /// tx.commit()?;
    /// assert_eq!(KvStore::begin_read(&engine)?.get("t", b"k")?, Some(b"v".to_vec()));
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn commit(self: Box<Self>) -> Result<()>;
}

/// A store that starts transactions.
///
/// ```
/// use std::sync::Arc;
/// use strata::{Database, KvStore};
/// # let dir = tempfile::tempdir().unwrap();
/// // The ORM over any store: here the engine itself, as Database::open does.
/// let engine = strata::engine::Database::open(dir.path().join("app.strata"))?;
/// let store: Arc<dyn KvStore> = Arc::new(engine.clone());
/// let db = Database::over(store, Some(engine))?;
/// db.check()?;
/// # Ok::<(), strata::Error>(())
/// ```
pub trait KvStore: Send + Sync {
    /// A read-write transaction.
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin(&engine)?; // read-write
    /// tx.create_table("t")?;
    /// tx.commit()?;
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn begin(&self) -> Result<Box<dyn KvTxn>>;
    /// A read-only transaction.
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// let mut tx = KvStore::begin_read(&engine)?; // a snapshot: writes are refused
    /// assert!(tx.create_table("t").is_err());
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn begin_read(&self) -> Result<Box<dyn KvTxn>>;
    /// Reserves a block of automatic keys of `table`, each at least
    /// `floor`, from a counter the store keeps for every handle that
    /// shares it; `None` when it keeps none (one handle owns the data, and
    /// its own sequence serves: the engine).
    ///
    /// ```
    /// use strata::KvStore;
    /// # let dir = tempfile::tempdir().unwrap();
    /// let engine = strata::engine::Database::open(dir.path().join("kv.strata"))?;
    /// // The engine keeps no shared counter: one handle owns the file, and its
    /// // own sequence hands out the keys.
    /// assert_eq!(engine.reserve_keys("users", 1)?, None);
    /// # Ok::<(), strata::engine::Error>(())
    /// ```
    fn reserve_keys(&self, table: &str, floor: i64) -> Result<Option<Range<i64>>> {
        let _ = (table, floor);
        Ok(None)
    }
}

/// A read-only engine transaction reads a snapshot, and a model's tables
/// may have been created (by its first use, which registers it in a
/// transaction of its own) after the snapshot began: at the snapshot the
/// table had no rows, so its reads are empty rather than `NoSuchTable`.
fn absent_is_empty<T>(
    tx: &strata_engine::Transaction,
    r: Result<T>,
    empty: impl FnOnce() -> T,
) -> Result<T> {
    match r {
        Err(strata_engine::Error::NoSuchTable(_)) if tx.is_read_only() => Ok(empty()),
        r => r,
    }
}

impl KvTxn for strata_engine::Transaction {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        absent_is_empty(
            self,
            strata_engine::Transaction::get(self, table, key),
            || None,
        )
    }

    fn get_for_update(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        strata_engine::Transaction::get_for_update(self, table, key)
    }

    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
        strata_engine::Transaction::put(self, table, key, value)
    }

    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool> {
        strata_engine::Transaction::delete(self, table, key)
    }

    fn scan<'a>(
        &'a self,
        table: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<KvIter<'a>> {
        let range = match self.range(table, (lo, hi)) {
            Err(strata_engine::Error::NoSuchTable(_)) if self.is_read_only() => {
                return Ok(Box::new(std::iter::empty()));
            }
            r => r?,
        };
        Ok(if reverse {
            Box::new(range.rev())
        } else {
            Box::new(range)
        })
    }

    fn get_with(&self, table: &str, key: &[u8], f: &mut dyn FnMut(&[u8])) -> Result<bool> {
        let found = strata_engine::Transaction::get_with(self, table, key, |v| v.map(f).is_some());
        absent_is_empty(self, found, || false)
    }

    fn scan_with(
        &self,
        table: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        let mut range = match self.range(table, (lo, hi)) {
            Err(strata_engine::Error::NoSuchTable(_)) if self.is_read_only() => return Ok(()),
            r => r?,
        };
        lend_all(&mut range, reverse, f)
    }

    fn scan_with_skip(
        &self,
        table: &str,
        (lo, hi): (Bound<&[u8]>, Bound<&[u8]>),
        reverse: bool,
        skip: u64,
        f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<()> {
        let mut range = match self.range(table, (lo, hi)) {
            Err(strata_engine::Error::NoSuchTable(_)) if self.is_read_only() => return Ok(()),
            r => r?,
        };
        if reverse {
            range.skip_entries_back(skip)?;
        } else {
            range.skip_entries(skip)?;
        }
        lend_all(&mut range, reverse, f)
    }

    fn count(&self, table: &str, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> Result<u64> {
        match self.range(table, (lo, hi)) {
            Err(strata_engine::Error::NoSuchTable(_)) if self.is_read_only() => Ok(0),
            r => Ok(r?.count_entries()?),
        }
    }

    fn create_table(&mut self, table: &str) -> Result<()> {
        strata_engine::Transaction::create_table(self, table)
    }

    fn max_key_len(&self) -> usize {
        strata_engine::Transaction::max_key_len(self)
    }

    fn commit(self: Box<Self>) -> Result<()> {
        strata_engine::Transaction::commit(*self)
    }
}

impl KvStore for strata_engine::Database {
    fn begin(&self) -> Result<Box<dyn KvTxn>> {
        Ok(Box::new(strata_engine::Database::begin(self)?))
    }

    fn begin_read(&self) -> Result<Box<dyn KvTxn>> {
        Ok(Box::new(strata_engine::Database::begin_read(self)?))
    }
}

/// Calls `f` with each entry left in `range`, borrowed, from the front
/// (or the back, `reverse`), until it returns `false`.
fn lend_all(
    range: &mut strata_engine::Range<'_>,
    reverse: bool,
    f: &mut dyn FnMut(&[u8], &[u8]) -> bool,
) -> Result<()> {
    loop {
        let next = if reverse {
            range.next_back_ref()
        } else {
            range.next_ref()
        };
        match next {
            None => return Ok(()),
            Some(kv) => {
                let (k, v) = kv?;
                if !f(k, v) {
                    return Ok(());
                }
            }
        }
    }
}
