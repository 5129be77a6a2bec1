//! The etcd backend: the ORM's key-value interface (`kv.rs`) over an
//! etcd v3 cluster, so that the same models, sessions, queries and
//! relationships run on a Raft-replicated store that survives the loss
//! of a member. Built with the `etcd` feature; opened with
//! [`Database::connect`](crate::Database::connect).
//!
//! The files: `config.rs` reads the `etcd://` URL; `keys.rs` lays the
//! tables out in etcd's flat key space; `cluster.rs` is the connection
//! (runtime, failover, errors); `txn.rs` is a transaction (read set,
//! write buffer, the commit and its isolation argument). This file is
//! the store: it starts transactions, checks the cluster at connect,
//! reserves automatic keys, and keeps the lease of commit markers.
//!
//! CONNECT. `connect` parses the URL, then sends one transaction with
//! `max_txn_ops` compares: a cluster started with a smaller
//! `--max-txn-ops` refuses it, and `connect` fails with an error that
//! names the flag. The same request shows that the cluster answers.
//!
//! AUTOMATIC KEYS. Several handles (processes) share a table, so its
//! automatic keys come from a counter in the cluster (`s<table>`),
//! advanced by compare-and-swap in blocks of `key_block` keys: a handle
//! reserves a block and hands its keys out locally, so inserts do not
//! all contend on the counter. A key given by hand through another
//! handle may fall inside a block; `Session::add` skips a taken
//! automatic key.
//!
//! LIMITS (etcd's, and what the backend does about them):
//!
//! | limit | etcd's default | here |
//! | --- | --- | --- |
//! | operations per transaction (`--max-txn-ops`) | 128 | the backend needs `max_txn_ops` (1024 by default), checked at connect; a commit over it fails with `CommitTooLarge`, committing nothing |
//! | request size (`--max-request-bytes`) | 1.5 MiB | a commit estimated over `max_request_bytes` fails with `CommitTooLarge`, committing nothing; a value over it less 4 KiB fails at `put` with `ValueTooLarge` |
//! | storage quota (`--quota-backend-bytes`) | 2 GiB | when the cluster is full it refuses writes ("database space exceeded"): `Unavailable`, naming the quota; compact, defragment, or raise it |
//! | history (`--auto-compaction-*`) | kept until compacted | a transaction whose read revision was compacted away gets `Conflict` and is retried at a newer one |
//! | key length | none of its own | 1,024 bytes, as the engine with its default pages |
//!
//! ```no_run
//! // Not run by the doc tests: it needs an etcd cluster (README.md, "Run
//! // it on etcd"). The same models and sessions as on a file.
//! let db = strata::Database::connect("etcd://127.0.0.1:12379,127.0.0.1:22379/myapp?timeout_ms=2000")?;
//! let s = db.read_session()?;
//! assert!(db.tables().iter().all(|t| !t.table.is_empty()));
//! # drop(s);
//! # Ok::<(), strata::Error>(())
//! ```

mod cluster;
mod config;
mod keys;
mod txn;

use crate::kv::{KvStore, KvTxn};
use cluster::{Cluster, Failure};
use config::Config;
use etcd_client::{Compare, CompareOp, GetOptions, Txn, TxnOp};
use keys::Keys;
use parking_lot::{Mutex, RwLock};
use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_engine::{Error, Result};
use txn::EtcdTxn;

/// The longest key the backend accepts (the engine's, with 4 KiB pages).
const MAX_KEY_LEN: usize = 1024;

/// Room left in a request for everything but one value.
const REQUEST_ROOM: usize = 4096;

/// Commit markers' lease: its time to live, and the age after which a
/// new one is taken, so that a marker lives at least `TTL - ROTATE`.
const LEASE_TTL: i64 = 300;
const LEASE_ROTATE: Duration = Duration::from_secs(120);

/// A store over an etcd cluster. Cheap to share (`Arc`).
///
/// ```no_run
/// use std::sync::Arc;
/// use strata::etcd::EtcdStore;
/// // Not run by the doc tests: it needs an etcd cluster.
/// let store = EtcdStore::connect("etcd://127.0.0.1:2379/myapp?timeout_ms=2000")?;
/// // What Database::connect does: the ORM over the store, without an engine.
/// let db = strata::Database::over(Arc::new(store), None)?;
/// assert!(db.engine().is_none());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct EtcdStore {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    cluster: Cluster,
    keys: Keys,
    /// Tables known to exist (tables are never dropped).
    tables: RwLock<HashSet<String>>,
    /// The lease commit markers are attached to, and when it was taken.
    lease: Mutex<Option<(i64, Instant)>>,
}

impl std::fmt::Debug for EtcdStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdStore")
            .field("endpoints", &self.shared.cluster.config.endpoints)
            .finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// Connects to the cluster `url` names (`etcd://HOST:PORT,.../PREFIX`;
    /// `config.rs` lists the options) and checks that it accepts
    /// transactions as large as the backend needs.
    ///
    /// ```no_run
    /// use strata::KvStore;
    /// use strata::etcd::EtcdStore;
    /// // Not run by the doc tests: it needs an etcd cluster. Two applications
    /// // share one cluster under their own prefixes.
    /// let blog = EtcdStore::connect("etcd://127.0.0.1:2379/blog")?;
    /// let shop = EtcdStore::connect("etcd://127.0.0.1:2379/shop")?;
    /// let mut tx = blog.begin()?;
    /// tx.create_table("t")?;
    /// tx.commit()?;
    /// assert!(shop.begin_read()?.get("t", b"k").is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn connect(url: &str) -> Result<EtcdStore> {
        let config = Config::parse(url)?;
        let keys = Keys::new(&config.prefix);
        let store = EtcdStore {
            shared: Arc::new(Shared {
                cluster: Cluster::connect(config)?,
                keys,
                tables: RwLock::new(HashSet::new()),
                lease: Mutex::new(None),
            }),
        };
        store.check_txn_ops()?;
        Ok(store)
    }

    /// Sends a transaction of `max_txn_ops` compares (CONNECT above).
    fn check_txn_ops(&self) -> Result<()> {
        let s = &self.shared;
        let n = s.cluster.config.max_txn_ops;
        let probe = s.keys.table("");
        let txn = Txn::new().when(vec![Compare::version(probe, CompareOp::Equal, 0); n]);
        match s.cluster.txn("connect", &txn) {
            Ok(_) => Ok(()),
            Err(Failure::Refused(Error::CommitTooLarge { .. })) => {
                Err(Error::InvalidOptions(format!(
                    "the etcd cluster at {:?} accepts fewer than {n} operations per transaction: \
                 start every member with --max-txn-ops={n} (or more), or connect with \
                 ?max_txn_ops=N for a smaller N (an ORM session's commit then holds less)",
                    s.cluster.config.endpoints
                )))
            }
            Err(e) => Err(e.into_error()),
        }
    }
}

impl Shared {
    /// The lease for commit markers, taking a new one when the current
    /// one is old.
    fn lease(&self) -> Result<i64> {
        let mut l = self.lease.lock();
        match *l {
            Some((id, at)) if at.elapsed() < LEASE_ROTATE => Ok(id),
            _ => {
                let id = self.cluster.grant(LEASE_TTL)?;
                *l = Some((id, Instant::now()));
                Ok(id)
            }
        }
    }

    /// Forgets lease `id` (it expired), so the next commit takes another.
    fn drop_lease(&self, id: i64) {
        let mut l = self.lease.lock();
        if l.is_some_and(|(cur, _)| cur == id) {
            *l = None;
        }
    }

    fn max_value_len(&self) -> usize {
        self.cluster.config.max_request_bytes - REQUEST_ROOM
    }
}

impl KvStore for EtcdStore {
    fn begin(&self) -> Result<Box<dyn KvTxn>> {
        Ok(Box::new(EtcdTxn::new(self.shared.clone(), false)))
    }

    fn begin_read(&self) -> Result<Box<dyn KvTxn>> {
        Ok(Box::new(EtcdTxn::new(self.shared.clone(), true)))
    }

    fn reserve_keys(&self, table: &str, floor: i64) -> Result<Option<Range<i64>>> {
        let s = &self.shared;
        let key = s.keys.sequence(table);
        let deadline = Instant::now() + s.cluster.config.timeout;
        loop {
            let mut resp = s.cluster.get(&key, GetOptions::new())?;
            let (next, seen) = match resp.take_kvs().pop() {
                Some(kv) => {
                    let n = std::str::from_utf8(kv.value())
                        .ok()
                        .and_then(|t| t.parse::<i64>().ok())
                        .ok_or_else(|| {
                            Error::InvalidOptions(format!(
                                "the automatic-key counter of {table} under this prefix is not \
                                 a number: another program writes under the prefix"
                            ))
                        })?;
                    (n, kv.mod_revision())
                }
                None => (1, 0),
            };
            let start = next.max(floor);
            let end = start.saturating_add(s.cluster.config.key_block);
            let txn = Txn::new()
                .when([Compare::mod_revision(key.clone(), CompareOp::Equal, seen)])
                .and_then([TxnOp::put(key.clone(), end.to_string(), None)]);
            // A lost answer or a race loses nothing but a block of keys:
            // read the counter again.
            match s.cluster.txn_once(txn) {
                Ok(r) if r.succeeded() => return Ok(Some(start..end)),
                Ok(_) | Err(Failure::Lost(_)) if Instant::now() < deadline => {}
                Ok(_) => return Err(Error::Conflict),
                Err(e) => return Err(e.into_error()),
            }
        }
    }
}
