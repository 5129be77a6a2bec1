//! One transaction over etcd: reads at one revision, writes buffered,
//! and a commit that is one etcd `Txn` validating every read.
//!
//! READS. The first read of a transaction is linearizable and fixes its
//! read revision R (the revision in that answer's header); every later
//! read asks for revision R. The transaction therefore reads one
//! snapshot, the state after the commit of revision R. Each read is
//! recorded in the READ SET:
//!
//! - a point read of key k: the mod revision seen (0 if k was absent);
//! - a scan: the part of the range actually read, `[start, end)` in
//!   etcd's key space (a scan stopped early records only what it read),
//!   and the table it belongs to.
//!
//! Reads of keys the transaction wrote itself are answered from its
//! write buffer, merged into scans in key order.
//!
//! WRITES. `put` and `delete` only buffer. A delete first reads the key
//! (it returns whether the key was there), so the key joins the read
//! set. `create_table` buffers the catalog entry.
//!
//! COMMIT. A transaction that wrote nothing commits without a request:
//! its reads were one snapshot, so it is serializable at R. Otherwise the
//! commit is one etcd `Txn`:
//!
//! ```text
//! IF   mod_revision(k) == seen(k)                for every key read
//!      mod_revision([start, end)) < R + 1         for every range scanned
//!      mod_revision(x<table>) < R + 1             for every table scanned
//!      version(c<id>) == 0                        the commit marker is new
//! THEN put / delete every buffered write
//!      put x<table>                               for every table deleted from
//!      put c<id> = "C" (with the handle's lease)
//! ```
//!
//! A range compare sees every key now in the range: a key written or
//! created there after R has a newer mod revision. A key deleted from
//! the range after R is no longer in it, so the range compare cannot see
//! it; the delete marker `x<table>` can: every commit that deletes a key
//! of a table also puts the table's marker. A scanner therefore conflicts
//! with any later delete in the same table (coarser than the range, never
//! missing one).
//!
//! If the compares fail, nothing was applied and the commit returns
//! `Conflict`, which `Database::transaction` retries.
//!
//! UNKNOWN OUTCOMES. When the answer to the commit is lost (a member
//! killed or stopped mid-request), the commit may or may not have been
//! applied, and may still be, later. The marker settles it: a FENCE
//!
//! ```text
//! IF version(c<id>) == 0 THEN put c<id> = "A" ELSE get c<id>
//! ```
//!
//! either finds "C" (the commit was applied), or writes "A", after which
//! the lost commit's own compare `version(c<id>) == 0` can never hold: it
//! will never apply, and the commit is sent again under a new marker.
//! Only when the fence itself gets no answer in time is the outcome
//! reported as unknown (`OutcomeUnknown`). Markers carry a lease of a few
//! minutes, so they expire on their own.
//!
//! LIMITS. Before sending, the commit counts its compares and its
//! operations against `max_txn_ops` and estimates its size against
//! `max_request_bytes`; over either, it fails with `CommitTooLarge` and
//! sends nothing. A commit is all or nothing in etcd, so no partial
//! commit exists in any case.

use super::Shared;
use super::cluster::Failure;
use etcd_client::{Compare, CompareOp, GetOptions, PutOptions, SortOrder, SortTarget, Txn, TxnOp};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::ops::Bound;
use std::sync::Arc;
use std::time::Instant;
use strata_engine::{Error, Result};

/// Keys a scan asks for at once.
const PAGE: i64 = 128;

/// Bytes counted for each compare or operation on top of its keys and
/// value (the protobuf framing, generously).
const OP_OVERHEAD: usize = 32;

/// An entry read: etcd key, value, mod revision.
type Entry = (Vec<u8>, Vec<u8>, i64);

pub(crate) struct EtcdTxn {
    shared: Arc<Shared>,
    read_only: bool,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// R, once the first read fixed it.
    revision: Option<i64>,
    /// Keys read (etcd keys) and the mod revision seen, 0 if absent.
    reads: BTreeMap<Vec<u8>, i64>,
    /// The parts of ranges scanned, `[start, end)`.
    ranges: Vec<(Vec<u8>, Vec<u8>)>,
    /// Tables scanned.
    scanned: BTreeSet<String>,
    /// Buffered writes: etcd key to the new value, or `None` to delete.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Tables this transaction deleted keys from.
    deleted_from: BTreeSet<String>,
    /// Tables this transaction created.
    created: BTreeSet<String>,
}

impl EtcdTxn {
    pub fn new(shared: Arc<Shared>, read_only: bool) -> EtcdTxn {
        EtcdTxn {
            shared,
            read_only,
            state: RefCell::new(State::default()),
        }
    }

    /// Reads `[key, end)` (or `key` alone), at R or fixing R.
    fn read(&self, key: &[u8], options: GetOptions) -> Result<Vec<Entry>> {
        let at = self.state.borrow().revision;
        let options = match at {
            Some(r) => options.with_revision(r),
            None => options,
        };
        let mut resp = self.shared.cluster.get(key, options)?;
        if at.is_none() {
            let r = resp.header().map(|h| h.revision()).unwrap_or(0);
            self.state.borrow_mut().revision = Some(r);
        }
        Ok(resp
            .take_kvs()
            .into_iter()
            .map(|kv| {
                let m = kv.mod_revision();
                let (k, v) = kv.into_key_value();
                (k, v, m)
            })
            .collect())
    }

    /// The value under etcd key `key`: the buffer's, or read and
    /// recorded.
    fn get_key(&self, key: Vec<u8>) -> Result<Option<Vec<u8>>> {
        if let Some(w) = self.state.borrow().writes.get(&key) {
            return Ok(w.clone());
        }
        let found = self.read(&key, GetOptions::new())?.pop();
        let (value, seen) = match found {
            Some((_, v, m)) => (Some(v), m),
            None => (None, 0),
        };
        self.state.borrow_mut().reads.entry(key).or_insert(seen);
        Ok(value)
    }

    /// Fails unless `table` exists (in the cluster or created here).
    fn table_exists(&self, table: &str) -> Result<bool> {
        if self.shared.tables.read().contains(table) || self.state.borrow().created.contains(table)
        {
            return Ok(true);
        }
        let there = self.get_key(self.shared.keys.table(table))?.is_some();
        if there {
            self.shared.tables.write().insert(table.to_string());
        }
        Ok(there)
    }

    fn need_table(&self, table: &str) -> Result<()> {
        if self.table_exists(table)? {
            Ok(())
        } else {
            Err(Error::NoSuchTable(table.to_string()))
        }
    }

    fn writable(&self) -> Result<()> {
        if self.read_only {
            return Err(Error::ReadOnly);
        }
        Ok(())
    }

    fn check_key(&self, key: &[u8]) -> Result<()> {
        if key.len() > super::MAX_KEY_LEN {
            return Err(Error::KeyTooLarge {
                len: key.len(),
                max: super::MAX_KEY_LEN,
            });
        }
        Ok(())
    }

    /// Builds the commit's compares and operations.
    fn commit_txn(&self, marker: &[u8], lease: i64) -> Result<Txn> {
        let st = self.state.borrow();
        let keys = &self.shared.keys;
        let after = st.revision.unwrap_or(0) + 1;
        let mut compares: Vec<Compare> = Vec::new();
        let mut bytes = 0;
        for (k, seen) in &st.reads {
            bytes += k.len() + OP_OVERHEAD;
            compares.push(Compare::mod_revision(k.clone(), CompareOp::Equal, *seen));
        }
        for (s, e) in st.ranges.iter().filter(|(s, e)| s < e) {
            bytes += s.len() + e.len() + OP_OVERHEAD;
            compares.push(
                Compare::mod_revision(s.clone(), CompareOp::Less, after).with_range(e.clone()),
            );
        }
        for t in &st.scanned {
            let k = keys.deletes(t);
            bytes += k.len() + OP_OVERHEAD;
            compares.push(Compare::mod_revision(k, CompareOp::Less, after));
        }
        compares.push(Compare::version(marker.to_vec(), CompareOp::Equal, 0));
        let mut ops: Vec<TxnOp> = Vec::new();
        for (k, w) in &st.writes {
            bytes += k.len() + w.as_ref().map_or(0, Vec::len) + OP_OVERHEAD;
            ops.push(match w {
                Some(v) => TxnOp::put(k.clone(), v.clone(), None),
                None => TxnOp::delete(k.clone(), None),
            });
        }
        for t in &st.deleted_from {
            ops.push(TxnOp::put(keys.deletes(t), [], None));
        }
        ops.push(TxnOp::put(
            marker.to_vec(),
            "C",
            Some(PutOptions::new().with_lease(lease)),
        ));
        bytes += 2 * (marker.len() + OP_OVERHEAD);
        let limits = &self.shared.cluster.config;
        let most = compares.len().max(ops.len());
        if most > limits.max_txn_ops || bytes > limits.max_request_bytes {
            return Err(Error::CommitTooLarge {
                detail: format!(
                    "{} compares and {} operations of about {bytes} bytes, over the limits of \
                     {} operations (--max-txn-ops) and {} bytes (--max-request-bytes)",
                    compares.len(),
                    ops.len(),
                    limits.max_txn_ops,
                    limits.max_request_bytes
                ),
            });
        }
        Ok(Txn::new().when(compares).and_then(ops))
    }

    /// Sends the commit, settling lost answers with the fence (COMMIT
    /// and UNKNOWN OUTCOMES above).
    fn send_commit(&self) -> Result<()> {
        let deadline = Instant::now() + self.shared.cluster.config.timeout;
        let mut last = String::new();
        while Instant::now() < deadline {
            let marker = self.shared.keys.commit(&random_id());
            let lease = self.shared.lease()?;
            let txn = self.commit_txn(&marker, lease)?;
            match self.shared.cluster.txn_once(txn) {
                Ok(r) if r.succeeded() => return Ok(()),
                Ok(_) => return Err(Error::Conflict),
                Err(Failure::LeaseGone) => self.shared.drop_lease(lease),
                Err(Failure::Lost(why)) => {
                    if self.fence(&marker, lease)? {
                        return Ok(());
                    }
                    last = why;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(other) => return Err(other.into_error()),
            }
        }
        Err(Error::Unavailable {
            detail: format!(
                "the commit got no answer within {:?}, and was fenced off: it did not commit ({last})",
                self.shared.cluster.config.timeout
            ),
        })
    }

    /// Settles the commit under `marker`: `true` if it was applied,
    /// `false` if it was not and now never will be.
    fn fence(&self, marker: &[u8], lease: i64) -> Result<bool> {
        let txn = Txn::new()
            .when([Compare::version(marker.to_vec(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(
                marker.to_vec(),
                "A",
                Some(PutOptions::new().with_lease(lease)),
            )])
            .or_else([TxnOp::get(marker.to_vec(), None)]);
        match self.shared.cluster.txn("commit fence", &txn) {
            Ok(r) if r.succeeded() => Ok(false),
            Ok(r) => {
                let committed = r.op_responses().into_iter().any(|op| match op {
                    etcd_client::TxnOpResponse::Get(g) => {
                        g.kvs().first().is_some_and(|kv| kv.value() == b"C")
                    }
                    _ => false,
                });
                Ok(committed)
            }
            // The lease of the marker is gone: the lost commit named it
            // too, and cannot apply any more.
            Err(Failure::LeaseGone) => Ok(false),
            Err(e) => Err(Error::OutcomeUnknown {
                detail: format!("{:?}", e.into_error()),
            }),
        }
    }
}

/// 16 random bytes: a commit's id. Random state from the standard
/// library's hasher, mixed with the time and a counter, is enough: ids
/// need to be unique, not secret.
fn random_id() -> [u8; 16] {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut out = [0; 16];
    for (i, half) in out.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_usize(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

/// A lazy scan: pages of `PAGE` keys read at R, merged with the write
/// buffer, each page's span added to the read set.
struct Scan<'a> {
    txn: &'a EtcdTxn,
    /// Length of the table's key prefix, stripped from each key.
    strip: usize,
    /// What is still to read: `[start, end)`.
    start: Vec<u8>,
    end: Vec<u8>,
    reverse: bool,
    /// Index of this scan's span in the read set.
    span: usize,
    page: VecDeque<(Vec<u8>, Vec<u8>)>,
    done: bool,
}

impl Scan<'_> {
    /// Reads the next page and merges the buffered writes of the span it
    /// covers.
    fn fill(&mut self) -> Result<()> {
        let mut options = GetOptions::new()
            .with_range(self.end.clone())
            .with_limit(PAGE);
        if self.reverse {
            options = options.with_sort(SortTarget::Key, SortOrder::Descend);
        }
        let got = self.txn.read(&self.start, options)?;
        let full = got.len() as i64 == PAGE;
        // The span this page covers, in key order: [lo, hi).
        let (lo, hi) = match (full, got.last()) {
            (true, Some((last, _, _))) if !self.reverse => (self.start.clone(), after(last)),
            (true, Some((last, _, _))) => (last.clone(), self.end.clone()),
            _ => (self.start.clone(), self.end.clone()),
        };
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> =
            got.into_iter().map(|(k, v, _)| (k, v)).collect();
        {
            let mut st = self.txn.state.borrow_mut();
            for (k, w) in st.writes.range(lo.clone()..hi.clone()) {
                match w {
                    Some(v) => merged.insert(k.clone(), v.clone()),
                    None => merged.remove(k),
                };
            }
            let span = &mut st.ranges[self.span];
            span.0 = span.0.clone().min(lo.clone());
            span.1 = span.1.clone().max(hi.clone());
        }
        let strip = self.strip;
        let entries = merged.into_iter().map(|(k, v)| (k[strip..].to_vec(), v));
        self.page = if self.reverse {
            entries.rev().collect()
        } else {
            entries.collect()
        };
        if full {
            if self.reverse {
                self.end = lo;
            } else {
                self.start = hi;
            }
        } else {
            self.done = true;
        }
        Ok(())
    }
}

/// The first key after `k`.
fn after(k: &[u8]) -> Vec<u8> {
    let mut v = k.to_vec();
    v.push(0);
    v
}

impl Iterator for Scan<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(kv) = self.page.pop_front() {
                return Some(Ok(kv));
            }
            if self.done || self.start >= self.end {
                return None;
            }
            if let Err(e) = self.fill() {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

impl crate::kv::KvTxn for EtcdTxn {
    fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.need_table(table)?;
        self.get_key(self.shared.keys.data(table, key))
    }

    fn get_for_update(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>> {
        // Optimistic: the read set makes the commit fail if the key
        // changes before it.
        crate::kv::KvTxn::get(self, table, key)
    }

    fn put(&mut self, table: &str, key: &[u8], value: &[u8]) -> Result<()> {
        self.writable()?;
        self.check_key(key)?;
        let max = self.shared.max_value_len();
        if value.len() > max {
            return Err(Error::ValueTooLarge {
                len: value.len(),
                max,
            });
        }
        self.need_table(table)?;
        let k = self.shared.keys.data(table, key);
        self.state.get_mut().writes.insert(k, Some(value.to_vec()));
        Ok(())
    }

    fn delete(&mut self, table: &str, key: &[u8]) -> Result<bool> {
        self.writable()?;
        let existed = crate::kv::KvTxn::get(self, table, key)?.is_some();
        let st = self.state.get_mut();
        st.writes.insert(self.shared.keys.data(table, key), None);
        st.deleted_from.insert(table.to_string());
        Ok(existed)
    }

    fn scan<'a>(
        &'a self,
        table: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        reverse: bool,
    ) -> Result<crate::kv::KvIter<'a>> {
        self.need_table(table)?;
        let (start, end) = self.shared.keys.range(table, lo, hi);
        let span = {
            let mut st = self.state.borrow_mut();
            st.scanned.insert(table.to_string());
            // Starts empty where the scan starts; each page widens it.
            let from = if reverse { &end } else { &start };
            st.ranges.push((from.clone(), from.clone()));
            st.ranges.len() - 1
        };
        Ok(Box::new(Scan {
            txn: self,
            strip: self.shared.keys.table_start(table).len(),
            start,
            end,
            reverse,
            span,
            page: VecDeque::new(),
            done: false,
        }))
    }

    fn create_table(&mut self, table: &str) -> Result<()> {
        strata_engine_check_name(table)?;
        if self.table_exists(table)? {
            return Ok(());
        }
        self.writable()?;
        let k = self.shared.keys.table(table);
        let st = self.state.get_mut();
        st.writes.insert(k, Some(Vec::new()));
        st.created.insert(table.to_string());
        Ok(())
    }

    fn max_key_len(&self) -> usize {
        super::MAX_KEY_LEN
    }

    fn commit(self: Box<Self>) -> Result<()> {
        let (wrote, created) = {
            let st = self.state.borrow();
            (!st.writes.is_empty(), st.created.clone())
        };
        if !wrote {
            return Ok(());
        }
        self.send_commit()?;
        self.shared.tables.write().extend(created);
        Ok(())
    }
}

/// The engine's rule for table names: 1 to 255 bytes.
fn strata_engine_check_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.len() > strata_engine::MAX_TABLE_NAME {
        "longer than 255 bytes"
    } else {
        return Ok(());
    };
    Err(Error::InvalidTableName {
        name: name.to_string(),
        reason,
    })
}
