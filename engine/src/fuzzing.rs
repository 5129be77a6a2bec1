//! Fuzzing entry points: **not part of the API**, hidden from the docs, and
//! free to change with any release.
//!
//! The fuzz targets in `fuzz/` (a cargo-fuzz crate outside the workspace)
//! and the regression test `tests/tests/fuzz_regressions.rs` both call these
//! functions, so that every input a fuzzer ever found is re-run by the
//! ordinary `cargo test`, through the same code. Each function takes
//! arbitrary bytes and panics only when it finds a bug: a panic inside the
//! engine, an error of a kind that bad file bytes must never produce, or
//! (for [`model`]) a database that differs from its model. Everything runs
//! on a [`SimVfs`], except that [`open_bytes`] can also open its bytes from
//! a real temporary file, to read them through the mapping of the data
//! file (`page/mapped_pages.rs`), which the simulated disk does not have.
//!
//! | function | what the bytes are |
//! | --- | --- |
//! | [`open_bytes`] | a data file and optionally a log file, opened, checked and read whole |
//! | [`replay_log`] | a log file replayed against a fixed valid data file |
//! | [`decode_page`] | one page, decoded, validated, searched and edited |
//! | [`model`] | a program of operations, faults and crashes run against a model |
//!
//! Checksums would stop a fuzzer at the first byte it changes, so a flag
//! byte at the start of each input can ask for the page, header and frame
//! checksums to be recomputed before the bytes are used: the structural
//! checks behind them then get fuzzed too.

use crate::base::bytes;
use crate::log::log_record;
use crate::log::wal::{self, FRAME_HEADER, LOG_HEADER, MAX_FRAME_PAYLOAD};
use crate::page::file_header;
use crate::page::meta::Meta;
use crate::page::page_header::{self, META_PAGES, PageType};
use crate::storage::{CrashMode, FaultPlan, RealVfs, SimVfs};
use crate::tree::node::{self, LeafValue};
use crate::{Database, Durability, Error, Options, Result};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Where the fuzz targets keep their database on the simulated disk.
pub fn db_path() -> PathBuf {
    PathBuf::from("/fuzz/db.strata")
}

fn log_path() -> PathBuf {
    PathBuf::from("/fuzz/db.strata-wal")
}

/// Options for a database on `vfs`: small caches and thresholds, so that
/// small inputs reach the disk, checkpoints and auto-vacuum, and a
/// transaction memory limit of 16 KiB, so that they spill writes to the
/// scratch file and, committing by checkpoint, write pages out early.
pub fn options(vfs: &SimVfs) -> Options {
    Options {
        storage: Arc::new(vfs.clone()),
        log_preallocate: 0,
        checkpoint_log_size: 48 << 10,
        checkpoint_dirty_size: 256 << 10,
        cache_size: 16 * 4096,
        txn_memory_limit: 16 << 10,
        create: false,
        lock_timeout: std::time::Duration::from_millis(100),
        max_retries: 0,
        ..Options::default()
    }
}

/// Whether `e` is an error that bad file bytes may produce.
fn is_file_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Corruption { .. }
            | Error::NotAStrataFile
            | Error::NewerFormat { .. }
            | Error::OlderFormat { .. }
            | Error::LogUnusable { .. }
            | Error::NewerLogFormat { .. }
    )
}

/// Passes a result through, panicking if its error is not one that bad
/// file bytes may produce (after such an error the handle may also report
/// itself poisoned).
fn expect_file_error<T>(what: &str, r: Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) if is_file_error(&e) || matches!(e, Error::Poisoned { .. }) => None,
        Err(e) => panic!("{what}: bad file bytes gave an unexpected error: {e:?}"),
    }
}

/// A little-endian reader of fuzz input that yields zeros once it runs out.
struct Input<'a> {
    b: &'a [u8],
}

impl<'a> Input<'a> {
    fn u8(&mut self) -> u8 {
        match self.b.split_first() {
            Some((&x, rest)) => {
                self.b = rest;
                x
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from(self.u8()) | u16::from(self.u8()) << 8
    }

    fn u32(&mut self) -> u32 {
        u32::from(self.u16()) | u32::from(self.u16()) << 16
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.b.split_at(n.min(self.b.len()));
        self.b = b;
        a
    }

    fn rest(&mut self) -> &'a [u8] {
        self.take(self.b.len())
    }

    fn is_empty(&self) -> bool {
        self.b.is_empty()
    }
}

// ---- checksum repair ----

/// The page size a data file's header claims, or 4096.
fn claimed_page_size(data: &[u8]) -> usize {
    let n = bytes::get_u32(data, 12).unwrap_or(0) as usize;
    if file_header::valid_page_size(n) {
        n
    } else {
        4096
    }
}

/// Recomputes the header checksum (if the magic is there) and the checksum
/// of every whole page after it.
pub fn fix_data_checksums(data: &mut [u8]) {
    if data.len() >= file_header::HEADER_LEN && &data[0..8] == file_header::MAGIC {
        let crc = crc32fast::hash(&data[0..28]);
        data[28..32].copy_from_slice(&crc.to_le_bytes());
    }
    let ps = claimed_page_size(data);
    for (id, p) in data.chunks_exact_mut(ps).enumerate().skip(1) {
        page_header::seal(id as u32, p);
    }
}

/// The salt of the newest valid meta page of a data file, if any.
fn newest_salt(data: &[u8]) -> Option<u64> {
    let ps = claimed_page_size(data);
    META_PAGES
        .iter()
        .filter_map(|&id| {
            let p = data.get(id as usize * ps..(id as usize + 1) * ps)?;
            Meta::decode(id, p).ok()
        })
        .max_by_key(|m| m.sequence)
        .map(|m| m.log_salt)
}

/// Recomputes the log header's checksum (if its magic is there) and the
/// checksum of every frame, with `salt`, from the first frame on while the
/// frame lengths make sense.
pub fn fix_log_checksums(log: &mut [u8], salt: u64) {
    if log.len() >= LOG_HEADER as usize && &log[0..8] == b"STRATAWL" {
        let crc = crc32fast::hash(&log[0..28]);
        log[28..32].copy_from_slice(&crc.to_le_bytes());
    }
    let mut off = LOG_HEADER as usize;
    while off + FRAME_HEADER <= log.len() {
        let len = bytes::get_u32(log, off + 4).unwrap_or(0) as usize;
        if len > MAX_FRAME_PAYLOAD || off + FRAME_HEADER + len > log.len() {
            break;
        }
        let mut h = crc32fast::Hasher::new();
        h.update(&salt.to_le_bytes());
        h.update(&log[off + 4..off + FRAME_HEADER + len]);
        let crc = h.finalize();
        log[off..off + 4].copy_from_slice(&crc.to_le_bytes());
        off += (FRAME_HEADER + len).next_multiple_of(8);
    }
}

// ---- reading a whole database ----

/// Opens the database at `path` with `options()` and, if it opens, checks
/// it and reads every table both ways. Panics on any error bad bytes may
/// not produce.
fn open_and_read(path: &Path, options: &dyn Fn() -> Options) {
    let opened = match Database::open_with(path, options()) {
        // A database refused for want of its log opens when asked to go
        // on without it, from its checkpoint.
        Err(Error::LogUnusable { .. }) => {
            let without = Options {
                recover_without_log: true,
                ..options()
            };
            Database::open_with(path, without)
        }
        r => r,
    };
    let Some(db) = expect_file_error("open", opened) else {
        return;
    };
    let _ = expect_file_error("check", db.check());
    read_everything(&db);
    // A write, a checkpoint and a reopen after it, on the same bytes. A
    // meta page may say every table id is taken: a valid, if unlikely,
    // state, which refuses a new table.
    let wrote = expect_file_error(
        "write",
        db.transaction(|tx| {
            tx.create_table("fuzz")?;
            tx.put("fuzz", b"k", b"v")?;
            Ok(())
        })
        .or_else(|e| match e {
            Error::InvalidOptions(why) if why.contains("table ids exhausted") => Ok(()),
            e => Err(e),
        }),
    );
    let _ = expect_file_error("checkpoint", db.checkpoint());
    drop(db);
    if wrote.is_some()
        && let Some(db) = expect_file_error("reopen", Database::open_with(path, options()))
    {
        read_everything(&db);
    }
}

/// Reads every table of `db` forwards and backwards, and every key found
/// by a point read; the results must agree.
fn read_everything(db: &Database) {
    let Some(tx) = expect_file_error("begin", db.begin_read()) else {
        return;
    };
    let names: Vec<String> = {
        let st = db.inner.store.tree.read();
        st.tables.iter().map(|(_, t)| t.name.clone()).collect()
    };
    for name in names {
        let fwd = collect(&tx, &name, false);
        let back = collect(&tx, &name, true);
        if let (Some(f), Some(mut b)) = (&fwd, back) {
            b.reverse();
            assert_eq!(f, &b, "table {name:?} reads differently backwards");
        }
        for (k, v) in fwd.unwrap_or_default().iter().take(64) {
            if let Some(got) = expect_file_error("get", tx.get(&name, k)) {
                assert_eq!(got.as_ref(), Some(v), "point read disagrees with range");
            }
        }
    }
}

type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Every entry of `table`, read forwards or backwards.
fn collect(tx: &crate::Transaction, table: &str, reverse: bool) -> Option<Entries> {
    let range = expect_file_error("range", tx.range(table, ..))?;
    let mut out = Vec::new();
    if reverse {
        for kv in range.rev() {
            out.push(expect_file_error("range item", kv)?);
        }
    } else {
        for kv in range {
            out.push(expect_file_error("range item", kv)?);
        }
    }
    Some(out)
}

// ---- target 1: open arbitrary file bytes ----

/// Fuzz target `open_bytes`. Input: a flag byte (bit 0: recompute the
/// data file's checksums; bit 1: there is a log file; bit 2: recompute the
/// log's checksums with the salt of the newest valid meta page; bit 3:
/// also open the same bytes from a real file in a temporary directory,
/// read through a mapping of the data file), then, if there is a log, the
/// data file's length as 4 bytes, then the data file's bytes and the
/// log's.
pub fn open_bytes(input: &[u8]) {
    let mut inp = Input { b: input };
    let flags = inp.u8();
    let (mut data, mut log) = if flags & 2 != 0 {
        let n = inp.u32() as usize;
        (inp.take(n).to_vec(), Some(inp.rest().to_vec()))
    } else {
        (inp.rest().to_vec(), None)
    };
    if flags & 1 != 0 {
        fix_data_checksums(&mut data);
    }
    if flags & 4 != 0
        && let Some(log) = &mut log
    {
        fix_log_checksums(log, newest_salt(&data).unwrap_or(0));
    }
    let vfs = SimVfs::new(1);
    vfs.write_file(&db_path(), &data);
    if let Some(log) = &log {
        vfs.write_file(&log_path(), log);
    }
    open_and_read(&db_path(), &|| options(&vfs));
    check_growth(&vfs, data.len(), log.as_ref().map_or(0, Vec::len));
    if flags & 8 != 0 {
        open_mapped(&data, log.as_deref());
    }
}

/// `open_and_read` on a real file holding `data` (and `log`), so that the
/// pages are read through the mapping of the data file (the simulated
/// disk maps nothing), with the options of the simulated runs.
fn open_mapped(data: &[u8], log: Option<&[u8]>) {
    static RUN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("strata-fuzz-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("db.strata");
    std::fs::write(&path, data).expect("the data file");
    if let Some(log) = log {
        std::fs::write(dir.join("db.strata-wal"), log).expect("the log file");
    }
    let real = || Options {
        storage: Arc::new(RealVfs),
        map_data_file: true,
        ..options(&SimVfs::new(1))
    };
    open_and_read(&path, &real);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The files may grow by what one small write, a checkpoint and the log's
/// chunked growth take, never in proportion to numbers the bytes claim.
fn check_growth(vfs: &SimVfs, data: usize, log: usize) {
    let data_now = vfs.file_len(&db_path()).unwrap_or(0);
    let log_now = vfs.file_len(&log_path()).unwrap_or(0);
    assert!(
        data_now <= (data + (2 << 20)) as u64,
        "the data file grew from {data} to {data_now} bytes"
    );
    assert!(
        log_now <= (log + (4 << 20)) as u64,
        "the log grew from {log} to {log_now} bytes"
    );
}

/// Builds an input for [`open_bytes`] from files.
pub fn open_bytes_input(data: &[u8], log: Option<&[u8]>, fix: bool) -> Vec<u8> {
    let mut out = vec![
        u8::from(fix)
            | if log.is_some() {
                2 | (4 * u8::from(fix))
            } else {
                0
            },
    ];
    if let Some(log) = log {
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(log);
    } else {
        out.extend_from_slice(data);
    }
    out
}

// ---- target 2: replay an arbitrary log ----

/// The log salt of the base database of [`replay_log`].
pub const BASE_SALT: u64 = 0x5354_5241_5441_4655;

/// The data file [`replay_log`] replays logs against: two tables with a
/// hundred-odd entries (some with overflow values), checkpointed, and its
/// newest meta page rewritten to carry [`BASE_SALT`] so that log frames
/// can be made for it, and the open flag, as a crash leaves it, so that
/// it needs its log.
pub fn base_database() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        let vfs = SimVfs::new(7);
        let opts = Options {
            create: true,
            ..options(&vfs)
        };
        let db = Database::open_with(db_path(), opts).expect("create the base database");
        db.transaction(|tx| {
            tx.create_table("a")?;
            tx.create_table("b")?;
            for i in 0..120u32 {
                tx.put("a", format!("key{i:05}").as_bytes(), &i.to_le_bytes())?;
            }
            for i in 0..3u32 {
                tx.put("b", &i.to_be_bytes(), &vec![i as u8; 3000])?;
            }
            Ok(())
        })
        .expect("fill the base database");
        drop(db);
        let mut data = vfs.read_file(&db_path()).expect("base data file");
        let ps = claimed_page_size(&data);
        let newest = META_PAGES
            .iter()
            .filter_map(|&id| Meta::decode(id, &data[id as usize * ps..][..ps]).ok())
            .max_by_key(|m| m.sequence)
            .expect("a valid meta page");
        let m = Meta {
            log_salt: BASE_SALT,
            open_for_writing: true,
            ..newest
        };
        let at = m.slot() as usize * ps;
        data[at..at + ps].copy_from_slice(&m.encode(ps));
        data
    })
}

/// The database id of [`base_database`], which the header of its log
/// names.
pub fn base_database_id() -> u64 {
    let data = base_database();
    let ps = claimed_page_size(data);
    Meta::decode(META_PAGES[0], &data[META_PAGES[0] as usize * ps..][..ps])
        .map_or(0, |m| m.database_id)
}

/// The checkpoint LSN of [`base_database`]: the first frame of a log
/// replayed against it carries this plus one.
pub fn base_checkpoint_lsn() -> u64 {
    let data = base_database();
    let ps = claimed_page_size(data);
    META_PAGES
        .iter()
        .filter_map(|&id| Meta::decode(id, &data[id as usize * ps..][..ps]).ok())
        .map(|m| m.checkpoint_lsn)
        .max()
        .unwrap_or(0)
}

/// Fuzz target `replay_log`. Input: a flag byte (bit 0: recompute the
/// frames' checksums with [`BASE_SALT`]; bit 1: replace the first 32 bytes
/// with a valid log header naming the base database), then the log file. The data file is
/// [`base_database`].
pub fn replay_log(input: &[u8]) {
    let mut inp = Input { b: input };
    let flags = inp.u8();
    let mut log = inp.rest().to_vec();
    if flags & 2 != 0 {
        let h = wal::encode_header(base_database_id());
        let n = log.len().min(h.len());
        log[..n].copy_from_slice(&h[..n]);
    }
    if flags & 1 != 0 {
        fix_log_checksums(&mut log, BASE_SALT);
    }
    // The record decoder on its own, for every frame payload.
    let _ = log_record::decode(&log, 0);
    let vfs = SimVfs::new(2);
    vfs.write_file(&db_path(), base_database());
    vfs.write_file(&log_path(), &log);
    open_and_read(&db_path(), &|| options(&vfs));
    check_growth(&vfs, base_database().len(), log.len());
}

/// A log for [`base_database`]: the header, then one frame per record
/// (each record a list of redo ops encoded as the engine does), with LSNs
/// from [`base_checkpoint_lsn`] + 1, all marked last.
pub fn log_for_base(records: &[Vec<LogOp>]) -> Vec<u8> {
    let mut out = wal::encode_header(base_database_id()).to_vec();
    let mut lsn = base_checkpoint_lsn();
    for rec in records {
        lsn += 1;
        let mut payload = Vec::new();
        for op in rec {
            log_record::encode_with(&op.as_op(), &mut |b| payload.extend_from_slice(b));
        }
        let mut e = wal::FrameEncoder::new(&mut out, BASE_SALT, lsn, lsn - 1);
        e.write(&mut out, &payload);
        e.finish(&mut out);
    }
    out
}

/// A redo operation, owned, for building logs in tests and seeds.
#[derive(Clone, Debug)]
pub enum LogOp {
    /// Create table `name` with id `id`.
    Create(u32, String),
    /// Put `key` = `value` into table `table`.
    Put(u32, Vec<u8>, Vec<u8>),
    /// Delete `key` from table `table`.
    Delete(u32, Vec<u8>),
}

impl LogOp {
    fn as_op(&self) -> log_record::Op<'_> {
        match self {
            LogOp::Create(id, name) => log_record::Op::CreateTable { id: *id, name },
            LogOp::Put(table, key, value) => log_record::Op::Put {
                table: *table,
                key,
                value,
            },
            LogOp::Delete(table, key) => log_record::Op::Delete { table: *table, key },
        }
    }
}

// ---- target 3: decode pages ----

/// Fuzz target `decode_page`. Input: a byte choosing the page size (low 2
/// bits: 4096 << n) and flags (bit 2: recompute the checksum; bit 3: page
/// number 1 or 2 instead of 3), then the page (zero-padded or cut to the
/// page size), then any bytes left over are keys to search for and cells
/// to insert. A page that validates must then survive every accessor and
/// edit, and stay valid after each edit.
pub fn decode_page(input: &[u8]) {
    let mut inp = Input { b: input };
    let sel = inp.u8();
    let ps = 4096usize << (sel & 3);
    let id: u32 = if sel & 8 != 0 {
        1 + u32::from(sel >> 4 & 1)
    } else {
        3
    };
    let mut p = inp.take(ps).to_vec();
    p.resize(ps, 0);
    if sel & 4 != 0 {
        page_header::seal(id, &mut p);
    }
    let extra = inp.rest();
    let ty = match page_header::verify(
        id,
        &p,
        &[
            PageType::Leaf,
            PageType::Branch,
            PageType::Overflow,
            PageType::FreeList,
            PageType::Meta,
        ],
    ) {
        Ok(ty) => ty,
        Err(e) => {
            assert!(e.is_corruption(), "verify: {e:?}");
            return;
        }
    };
    match ty {
        PageType::Meta => {
            if let Err(e) = Meta::decode(id, &p) {
                assert!(e.is_corruption(), "meta decode: {e:?}");
            }
        }
        PageType::Leaf | PageType::Branch => {
            if let Err(e) = node::validate(id, &p) {
                assert!(e.is_corruption(), "validate: {e:?}");
                return;
            }
            exercise_node(&p, extra);
        }
        PageType::Overflow | PageType::FreeList => {}
    }
}

/// Every accessor on a validated node, then edits that must keep it valid.
fn exercise_node(p: &[u8], extra: &[u8]) {
    let n = node::count(p);
    let leaf = node::is_leaf(p);
    let keys: Vec<Vec<u8>> = (0..n).map(|i| node::key(p, i).to_vec()).collect();
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(node::search(p, k), Ok(i), "a stored key is not found");
        assert_eq!(node::cell_key(node::cell(p, i), leaf), &k[..]);
        if leaf {
            match node::value(p, i) {
                LeafValue::Inline(v) => assert!(v.len() <= p.len()),
                LeafValue::Overflow { .. } => {}
            }
        }
    }
    if !leaf {
        for i in 0..=n {
            let _ = node::child(p, i);
        }
    }
    assert!(
        node::used(p) <= node::usable(p.len()),
        "used beyond the page"
    );
    let _ = node::cells(p);

    // Probes and edits driven by the leftover bytes.
    let mut inp = Input { b: extra };
    let mut q = p.to_vec();
    while !inp.is_empty() {
        let op = inp.u8();
        let len = usize::from(inp.u8());
        let key = inp.take(len).to_vec();
        let _ = node::search(&q, &key);
        if !leaf {
            let c = node::child_index(&q, &key);
            assert!(c <= node::count(&q));
        }
        let count = node::count(&q);
        match op % 4 {
            // A branch keeps at least one key.
            0 if count > usize::from(!leaf) => node::remove_cell(&mut q, usize::from(op) % count),
            1 => {
                if let Err(at) = node::search(&q, &key) {
                    let mut cell = vec![0u8; p.len()];
                    let raw = if leaf {
                        let v = vec![op; usize::from(inp.u8())];
                        let value = if key.len() + v.len() > node::inline_limit(p.len()) {
                            LeafValue::Overflow {
                                first: 3,
                                len: v.len() as u32,
                            }
                        } else {
                            LeafValue::Inline(&v)
                        };
                        node::write_leaf_cell(&mut cell, &key, &value).to_vec()
                    } else {
                        let mut c = Vec::new();
                        node::encode_branch_cell(&mut c, &key, 3);
                        c
                    };
                    // Branch separators must keep children non-empty only
                    // in a real tree; the page layout holds either way.
                    let _ = node::insert_cell(&mut q, at, &raw);
                }
            }
            2 => node::compact(&mut q),
            3 if count > 0 => {
                let i = usize::from(op) % count;
                let old = node::cell(&q, i).to_vec();
                let mut raw = old.clone();
                let grow = usize::from(inp.u8() % 64);
                if leaf && raw[2] & 1 == 0 {
                    // Same key, a value longer or shorter by a little.
                    let k = node::cell_key(&old, true).len();
                    let v = node::value(&q, i);
                    let LeafValue::Inline(v) = v else { continue };
                    let mut nv = v.to_vec();
                    nv.resize(grow.min(node::inline_limit(p.len()).saturating_sub(k)), op);
                    let mut buf = vec![0u8; p.len()];
                    raw = node::write_leaf_cell(&mut buf, &old[7..7 + k], &LeafValue::Inline(&nv))
                        .to_vec();
                } else if leaf {
                    // Another overflow page, same size.
                    let last = raw.len() - 1;
                    raw[last] ^= 1;
                } else {
                    raw[2] ^= 1; // a different child, same size
                }
                let _ = node::replace_cell(&mut q, i, &raw);
            }
            _ => {}
        }
        if let Err(e) = node::validate(3, &q) {
            panic!("an edit of a valid node made it invalid: {e}");
        }
    }
}

// ---- target 5: operations, faults and crashes against a model ----

type Model = BTreeMap<(u8, Vec<u8>), Vec<u8>>;

const TABLES: [&str; 2] = ["t0", "t1"];

/// The state of one run of [`model`].
struct Run {
    vfs: SimVfs,
    db: Option<Database>,
    tx: Option<(crate::Transaction, Model)>,
    /// An open read-only transaction, and the state it must see: the
    /// acknowledged commits when it began.
    snap: Option<(crate::Transaction, Model)>,
    /// The state as of the last acknowledged commit.
    committed: Model,
    /// The changes of a commit that failed: it may or may not be durable.
    in_flight: Option<Model>,
    /// The armed fault: the call (or with `true`, the sync) index at
    /// which it fires; once it has, errors are expected.
    armed: Option<(u64, bool)>,
    /// A call has failed, so errors are expected until a reopen.
    faulted: bool,
}

impl Run {
    fn options(&self) -> Options {
        Options {
            durability: Durability::Full,
            ..options(&self.vfs)
        }
    }

    /// Whether an error now is explained by an injected fault.
    fn fault_fired(&mut self) -> bool {
        let fired = match self.armed {
            Some((at, false)) => self.vfs.calls() > at,
            Some((at, true)) => self.vfs.syncs() > at,
            None => false,
        };
        self.faulted |= fired || self.vfs.is_crashed();
        self.faulted
    }

    /// Handles an error of an operation: fine after a fault, a bug
    /// otherwise.
    fn failed(&mut self, what: &str, e: Error) {
        assert!(
            !matches!(e, Error::Corruption { .. }),
            "{what}: corruption reported: {e}"
        );
        if !self.fault_fired() {
            panic!("{what} failed without a fault: {e:?}");
        }
        self.tx = None;
    }

    /// Opens the database after a crash or close, and compares it with the
    /// model: the last acknowledged commit, or the one in flight.
    fn reopen(&mut self) {
        self.tx = None;
        self.snap = None;
        self.db = None;
        if self.vfs.is_crashed() {
            // A crash the fault plan set off: come back up from it.
            self.vfs = self.vfs.crash(CrashMode::Random);
        }
        self.vfs.set_faults(FaultPlan::default());
        self.armed = None;
        self.faulted = false;
        let db = match Database::open_with(db_path(), self.options()) {
            Ok(db) => db,
            Err(e) => panic!("reopen failed: {e:?}"),
        };
        if let Err(e) = db.check() {
            panic!("check after reopen: {e:?}");
        }
        let found = dump(&db);
        if found != self.committed {
            match self.in_flight.take() {
                Some(m) if m == found => self.committed = m,
                _ => panic!(
                    "after reopen the database holds {} entries, not the {} acknowledged{}",
                    found.len(),
                    self.committed.len(),
                    if self.in_flight.is_some() {
                        " nor the in-flight commit"
                    } else {
                        ""
                    }
                ),
            }
        }
        self.in_flight = None;
        self.db = Some(db);
    }

    fn crash(&mut self, mode: CrashMode) {
        let image = self.vfs.crash(mode);
        self.tx = None;
        self.snap = None;
        self.db = None;
        self.vfs = image;
        self.reopen();
    }
}

/// Every entry of both tables.
fn dump(db: &Database) -> Model {
    let tx = db.begin_read().expect("begin after reopen");
    let mut m = Model::new();
    for (t, name) in TABLES.iter().enumerate() {
        for kv in tx.range(name, ..).expect("range after reopen") {
            let (k, v) = kv.expect("read after reopen");
            m.insert((t as u8, k), v);
        }
    }
    m
}

fn key_of(inp: &mut Input<'_>) -> Vec<u8> {
    let b = inp.u8();
    match b >> 6 {
        // Mostly short keys from a small set, so that operations collide.
        0..=2 => vec![b'k', b & 0x3f],
        // Now and then a long one (up to 1 KiB, the limit for 4 KiB pages).
        _ => {
            let n = (usize::from(inp.u8()) * 4).clamp(1, 1024);
            vec![b & 0x3f; n]
        }
    }
}

fn value_of(inp: &mut Input<'_>) -> Vec<u8> {
    let b = inp.u8();
    let n = match b >> 6 {
        0..=2 => usize::from(b & 0x3f),
        // Large values go to overflow pages.
        _ => usize::from(b & 0x3f) * 200,
    };
    let fill = inp.u8();
    (0..n).map(|i| fill.wrapping_add(i as u8)).collect()
}

/// Fuzz target `model`: the input is a program. Its first byte seeds the
/// simulated disk; then each operation is a byte followed by its operands:
/// put, delete, get, range, commit, rollback, checkpoint, clean reopen,
/// crash (keep all, drop all, or torn sectors), check, arming a fault
/// (fail one call, fail every call from one on, or crash at a call or a
/// sync, a few calls ahead), and a read-only transaction's snapshot: open
/// one, get or range through it, end it (opcode 15; before snapshots
/// existed it armed a fault). Reads must match the model (a snapshot's,
/// the state acknowledged when it began), no operation may
/// panic, errors are allowed only after a fault fired, and after every
/// reopen the database must hold exactly the acknowledged commits, or
/// those and the commit in flight when the fault hit.
pub fn model(input: &[u8]) {
    let mut inp = Input { b: input };
    let vfs = SimVfs::new(u64::from(inp.u8()));
    let mut run = Run {
        vfs,
        db: None,
        tx: None,
        snap: None,
        committed: Model::new(),
        in_flight: None,
        armed: None,
        faulted: false,
    };
    let opts = Options {
        create: true,
        ..run.options()
    };
    let db = Database::open_with(db_path(), opts).expect("create");
    db.transaction(|tx| {
        for t in TABLES {
            tx.create_table(t)?;
        }
        Ok(())
    })
    .expect("create tables");
    run.db = Some(db);

    let mut steps = 0;
    while !inp.is_empty() && steps < 256 {
        steps += 1;
        let op = inp.u8();
        let table = op >> 7;
        let name = TABLES[usize::from(table)];
        match op & 0x0f {
            0..=3 => {
                // put, delete, get, range inside the open transaction.
                if run.tx.is_none() {
                    let Some(db) = &run.db else { continue };
                    match db.begin() {
                        Ok(tx) => run.tx = Some((tx, run.committed.clone())),
                        Err(e) => {
                            run.failed("begin", e);
                            continue;
                        }
                    }
                }
                let key = key_of(&mut inp);
                let Some((tx, pending)) = &mut run.tx else {
                    continue;
                };
                let r = match op & 0x0f {
                    0 => {
                        let v = value_of(&mut inp);
                        let r = tx.put(name, &key, &v);
                        if r.is_ok() {
                            pending.insert((table, key), v);
                        }
                        r.map(|_| ())
                    }
                    1 => tx.delete(name, &key).map(|existed| {
                        let had = pending.remove(&(table, key)).is_some();
                        assert_eq!(existed, had, "delete disagrees with the model");
                    }),
                    2 => tx.get(name, &key).map(|got| {
                        assert_eq!(
                            got.as_ref(),
                            pending.get(&(table, key)),
                            "get disagrees with the model"
                        );
                    }),
                    _ => {
                        let hi = key_of(&mut inp);
                        let reverse = inp.u8() & 1 != 0;
                        range_check(tx, pending, table, name, key, hi, reverse)
                    }
                };
                if let Err(e) = r {
                    run.failed("transaction", e);
                }
            }
            4 => {
                if let Some((tx, pending)) = run.tx.take() {
                    match tx.commit() {
                        Ok(()) => {
                            run.committed = pending;
                            run.in_flight = None;
                        }
                        Err(e) => {
                            run.failed("commit", e);
                            // It may or may not have reached the disk.
                            run.in_flight = Some(pending);
                        }
                    }
                }
            }
            5 => run.tx = None, // rollback
            6 => {
                if let Some(db) = &run.db
                    && let Err(e) = db.checkpoint()
                {
                    run.failed("checkpoint", e);
                }
            }
            7 => {
                // A clean close (its checkpoint may fail under a fault),
                // then a reopen.
                run.tx = None;
                run.snap = None;
                run.db = None;
                run.reopen();
            }
            8 => run.crash(CrashMode::KeepAll),
            9 => run.crash(CrashMode::DropAll),
            10 => run.crash(CrashMode::Random),
            11 => {
                if let Some(db) = &run.db
                    && run.tx.is_none()
                    && let Err(e) = db.check()
                {
                    run.failed("check", e);
                }
            }
            15 => snapshot_op(&mut run, op, table, name, &mut inp),
            _ => {
                // Arm a fault a few calls ahead, unless one is armed.
                let ahead = u64::from(inp.u8() % 32);
                if run.armed.is_some() {
                    continue;
                }
                let at = run.vfs.calls() + ahead;
                let (plan, armed) = match op >> 4 & 3 {
                    0 => (
                        FaultPlan {
                            fail_call: Some(at),
                            ..FaultPlan::default()
                        },
                        (at, false),
                    ),
                    1 => (
                        FaultPlan {
                            fail_from: Some(at),
                            ..FaultPlan::default()
                        },
                        (at, false),
                    ),
                    2 => (
                        FaultPlan {
                            crash_at_call: Some(at),
                            ..FaultPlan::default()
                        },
                        (at, false),
                    ),
                    _ => {
                        let sync = run.vfs.syncs() + ahead / 4;
                        (
                            FaultPlan {
                                crash_at_sync: Some(sync),
                                ..FaultPlan::default()
                            },
                            (sync, true),
                        )
                    }
                };
                run.vfs.set_faults(plan);
                run.armed = Some(armed);
            }
        }
    }
    // The end: a crash that keeps what it may, and the last comparison.
    run.crash(CrashMode::Random);
}

/// Operation 15 of [`model`], by bits 4 and 5: open a read-only
/// transaction (a snapshot of the acknowledged state), get or range
/// through it (it must see that state, whatever was committed since), or
/// end it.
fn snapshot_op(run: &mut Run, op: u8, table: u8, name: &str, inp: &mut Input<'_>) {
    match op >> 4 & 3 {
        0 => {
            if let Some(db) = &run.db {
                match db.begin_read() {
                    Ok(t) => run.snap = Some((t, run.committed.clone())),
                    Err(e) => run.failed("begin_read", e),
                }
            }
        }
        1 => {
            let key = key_of(inp);
            let Some((t, m)) = &run.snap else { return };
            let r = t.get(name, &key).map(|got| {
                assert_eq!(
                    got.as_ref(),
                    m.get(&(table, key)),
                    "a snapshot's get disagrees with the state it began with"
                );
            });
            if let Err(e) = r {
                run.failed("snapshot get", e);
            }
        }
        2 => {
            let (lo, hi) = (key_of(inp), key_of(inp));
            let reverse = inp.u8() & 1 != 0;
            let Some((t, m)) = &run.snap else { return };
            if let Err(e) = range_check(t, m, table, name, lo, hi, reverse) {
                run.failed("snapshot range", e);
            }
        }
        _ => run.snap = None,
    }
}

fn range_check(
    tx: &crate::Transaction,
    pending: &Model,
    table: u8,
    name: &str,
    lo: Vec<u8>,
    hi: Vec<u8>,
    reverse: bool,
) -> Result<()> {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let bounds = (Bound::Included(&lo[..]), Bound::Excluded(&hi[..]));
    let range = tx.range(name, bounds)?;
    let mut got = Vec::new();
    if reverse {
        for kv in range.rev() {
            got.push(kv?);
        }
        got.reverse();
    } else {
        for kv in range {
            got.push(kv?);
        }
    }
    let want: Vec<(Vec<u8>, Vec<u8>)> = pending
        .range((table, lo.clone())..(table, hi.clone()))
        .map(|((_, k), v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(got, want, "range disagrees with the model");
    Ok(())
}

// ---- seed corpus ----

/// A small valid database and its log after an unclean stop: one table
/// of `keys` entries (every tenth value large enough for overflow pages),
/// checkpointed, then `logged` more commits left in the log only.
fn small_database(keys: u32, logged: u32) -> (Vec<u8>, Vec<u8>) {
    let vfs = SimVfs::new(3);
    let opts = Options {
        create: true,
        ..options(&vfs)
    };
    let db = Database::open_with(db_path(), opts).expect("create");
    db.transaction(|tx| {
        tx.create_table("t")?;
        for i in 0..keys {
            let v = if i % 10 == 9 {
                vec![i as u8; 1500]
            } else {
                i.to_le_bytes().to_vec()
            };
            tx.put("t", format!("k{i:04}").as_bytes(), &v)?;
        }
        Ok(())
    })
    .expect("fill");
    db.checkpoint().expect("checkpoint");
    for i in 0..logged {
        db.transaction(|tx| {
            tx.create_table("u")?;
            tx.put("u", &i.to_be_bytes(), b"logged")?;
            tx.delete("t", format!("k{:04}", i * 3).as_bytes())?;
            Ok(())
        })
        .expect("logged commit");
    }
    let image = vfs.crash(CrashMode::KeepAll);
    let mut log = image.read_file(&log_path()).expect("log file");
    // The zeros the log grows by say nothing: keep the seed small.
    let end = log.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    log.truncate(end.next_multiple_of(8).max(LOG_HEADER as usize));
    (image.read_file(&db_path()).expect("data file"), log)
}

/// The seed corpus of fuzz target `target` (`open_bytes`, `replay_log`,
/// `decode_page` or `model`): a few small valid inputs, by name.
pub fn seeds(target: &str) -> Vec<(&'static str, Vec<u8>)> {
    match target {
        "open_bytes" => {
            let (empty, _) = small_database(0, 0);
            let (data, log) = small_database(12, 3);
            vec![
                ("empty", open_bytes_input(&empty, None, false)),
                ("small-with-log", open_bytes_input(&data, Some(&log), false)),
                (
                    "small-fix-checksums",
                    open_bytes_input(&data, Some(&log), true),
                ),
                ("small-mapped", {
                    let mut input = open_bytes_input(&data, Some(&log), true);
                    input[0] |= 8;
                    input
                }),
            ]
        }
        "replay_log" => {
            let base = base_checkpoint_lsn();
            let _ = base;
            let records = vec![
                vec![
                    LogOp::Put(1, b"key00007".to_vec(), b"new".to_vec()),
                    LogOp::Delete(1, b"key00008".to_vec()),
                ],
                vec![
                    LogOp::Create(3, "c".into()),
                    LogOp::Put(3, b"x".to_vec(), vec![7; 2000]),
                ],
                vec![LogOp::Delete(2, 1u32.to_be_bytes().to_vec())],
            ];
            let with_flags = |flags: u8, log: Vec<u8>| {
                let mut v = vec![flags];
                v.extend_from_slice(&log);
                v
            };
            let full = log_for_base(&records);
            let one = log_for_base(&records[..1]);
            vec![
                ("three-records", with_flags(0, full.clone())),
                ("one-record-fix", with_flags(3, one)),
                (
                    "empty-log",
                    with_flags(2, wal::encode_header(base_database_id()).to_vec()),
                ),
            ]
        }
        "decode_page" => {
            let (data, _) = small_database(40, 0);
            let ps = claimed_page_size(&data);
            let mut out = Vec::new();
            let names = ["meta-1", "meta-2", "page-3", "page-4", "page-5", "page-6"];
            for (i, name) in names.iter().enumerate() {
                let id = i as u32 + 1;
                let Some(p) = data.get(id as usize * ps..(id as usize + 1) * ps) else {
                    break;
                };
                // Meta pages: bit 3 picks slot 1 or 2 by bit 4.
                let sel = if id <= 2 { 8 | (id as u8 - 1) << 4 } else { 0 };
                let mut v = vec![sel];
                v.extend_from_slice(p);
                if id > 2 {
                    // Probes and edits: remove, insert, compact, replace.
                    v.extend_from_slice(&[0, 2, b'k', b'0', 1, 5, b'k', b'0', b'0', b'0', b'x']);
                    v.extend_from_slice(&[40, 2, 3, 0, b'a', 7, 0]);
                }
                out.push((*name, v));
            }
            out
        }
        "model" => vec![
            // Seed 1: puts, a commit, a get, a crash, a range.
            (
                "commit-crash",
                vec![
                    1, 0x00, 5, 10, 1, 0x00, 6, 0xc1, 2, 4, 0x02, 5, 0x08, 0x03, 0, 0x3f, 0,
                ],
            ),
            // A fault armed a few calls ahead of a commit, then a reopen.
            (
                "fault-commit",
                vec![2, 0x00, 1, 3, 4, 0x0c, 2, 0x00, 2, 4, 4, 0x07, 0x02, 1],
            ),
            // Large values, checkpoint, crash at a sync, torn crash.
            (
                "overflow-checkpoint",
                vec![
                    3, 0x80, 1, 0xd0, 9, 0x80, 2, 0xff, 1, 4, 0x06, 0x3c, 0, 0x00, 3, 4, 4, 0x0a,
                ],
            ),
        ],
        _ => Vec::new(),
    }
}
