//! Bit flips in a closed database: every flipped bit of the data file or
//! the log either leaves the exact committed contents readable or is
//! reported as corruption naming the damaged page or log record. Never
//! different data, never a panic.
//!
//! Three databases are built on the simulated disk and taken as a crash
//! leaves them or closed cleanly:
//!
//! * `with_log`: two checkpoints (so that every page type exists: header,
//!   both meta pages, catalog, branch and leaf pages of several tables,
//!   overflow chains, a free list, free pages), then transactions only in
//!   the log, then a crash that loses nothing.
//! * `closed`: the same, closed cleanly: the newest meta page holds
//!   everything, and the log still holds the last generation's records.
//! * `vacuumed`: the newest checkpoint only moved pages (its checkpoint
//!   LSN equals the older meta page's), then transactions in the log.
//!
//! The test parses the files itself (from `docs/file-format.md`, not
//! through the engine) to classify every byte: which page type it belongs
//! to, whether that page is free, which log record or padding holds it.
//! From that class alone it predicts the outcome of a flip there:
//!
//! | where | expected |
//! | --- | --- |
//! | header bytes 0..8 | `NotAStrataFile` |
//! | header bytes 8..12 | `NewerFormat` if the version reads higher, else corruption of the header |
//! | header bytes 12..32 | corruption of the header |
//! | header bytes 32.. (unused, not checksummed) | exact contents |
//! | the older meta page | exact contents (the newest is used) |
//! | the newest meta page, log not started over since the older one | exact contents (the older meta page and the log's records) |
//! | the newest meta page, log started over after it | corruption at that page |
//! | a page in use (tree, overflow, free-list page) | corruption at that page |
//! | a free page, or a page past the page count | exact contents |
//! | log header | corruption at log offset 0 |
//! | a checksummed byte of a log record that later records follow | corruption at that record's offset |
//! | a checksummed byte of the last log record | the contents without that record (indistinguishable from a torn tail, which recovery cuts) |
//! | a frame's zero padding, the log past its last record | exact contents |
//!
//! Every page gets flips at fixed positions (checksum, type, header
//! fields, middle, end), the header and meta pages at every byte of their
//! fields; every log frame at every byte of its header and padding, and
//! at the ends of its payload. `STRATA_CORRUPTION_SAMPLES` (default 4)
//! scales the pseudo-random positions added to those: half of it per page,
//! twice it per log payload and past the log's end.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use strata_engine::storage::{CrashMode, SimVfs};
use strata_engine::{Database, Error, FORMAT_VERSION, Location, Options};
use strata_tests::{
    Model, Rng, crc32, dump, env_count, sim_options_manual, sim_path, sim_wal_path,
};

const PS: usize = 4096;
const TABLES: [&str; 4] = ["alpha", "beta", "gamma", "delta"];

/// No automatic checkpoints: the test decides where they fall. A small
/// cache, so that reads reach the file.
fn options(vfs: &SimVfs) -> Options {
    sim_options_manual(vfs, 64 << 10)
}

/// The two files of a database, and the states it went through since its
/// last checkpoint: `history[k]` after `k` of the transactions in the log.
struct Files {
    data: Vec<u8>,
    log: Vec<u8>,
    history: Vec<Model>,
}

fn put(db: &Database, model: &mut Model, table: &str, key: &[u8], value: &[u8]) {
    let mut tx = db.begin().unwrap();
    tx.create_table(table).unwrap();
    tx.put(table, key, value).unwrap();
    tx.commit().unwrap();
    model
        .entry(table.to_string())
        .or_default()
        .insert(key.to_vec(), value.to_vec());
}

fn empty() -> Model {
    TABLES
        .iter()
        .map(|t| (t.to_string(), BTreeMap::new()))
        .collect()
}

/// Fills three tables (a tree with branch pages, overflow values, a small
/// table), checkpoints, changes enough to free pages, checkpoints again.
fn fill(db: &Database, model: &mut Model) {
    let mut rng = Rng::new(7);
    let mut tx = db.begin().unwrap();
    for t in ["alpha", "beta", "gamma"] {
        tx.create_table(t).unwrap();
    }
    for i in 0..600u32 {
        let key = format!("a{i:05}").into_bytes();
        let value = vec![(i % 251) as u8; 40 + rng.below(40) as usize];
        tx.put("alpha", &key, &value).unwrap();
        model.get_mut("alpha").unwrap().insert(key, value);
    }
    for i in 0..16u32 {
        let key = format!("b{i:03}").into_bytes();
        let value: Vec<u8> = (0..1500 + rng.below(8000) as usize)
            .map(|j| (j as u32 * 31 + i) as u8)
            .collect();
        tx.put("beta", &key, &value).unwrap();
        model.get_mut("beta").unwrap().insert(key, value);
    }
    for i in 0..5u32 {
        let key = format!("g{i}").into_bytes();
        tx.put("gamma", &key, b"small").unwrap();
        model
            .get_mut("gamma")
            .unwrap()
            .insert(key, b"small".to_vec());
    }
    tx.commit().unwrap();
    db.checkpoint().unwrap();
    let mut tx = db.begin().unwrap();
    for i in (0..600u32).step_by(3) {
        let key = format!("a{i:05}").into_bytes();
        tx.delete("alpha", &key).unwrap();
        model.get_mut("alpha").unwrap().remove(&key);
    }
    for i in 0..4u32 {
        let key = format!("b{i:03}").into_bytes();
        let value = vec![i as u8 + 1; 3000];
        tx.put("beta", &key, &value).unwrap();
        model.get_mut("beta").unwrap().insert(key, value);
    }
    tx.commit().unwrap();
    db.checkpoint().unwrap();
}

/// Five transactions that stay in the log: puts, an overflow value, a
/// delete, a new table.
fn log_commits(db: &Database, model: &mut Model, history: &mut Vec<Model>) {
    history.push(model.clone());
    put(db, model, "alpha", b"a00001", b"changed in the log");
    history.push(model.clone());
    put(db, model, "beta", b"b009", &[0xB9; 2500]);
    history.push(model.clone());
    let mut tx = db.begin().unwrap();
    tx.create_table("gamma").unwrap();
    tx.delete("alpha", b"a00002").unwrap();
    tx.put("gamma", b"g9", b"new").unwrap();
    tx.commit().unwrap();
    model.get_mut("alpha").unwrap().remove(&b"a00002"[..]);
    model
        .get_mut("gamma")
        .unwrap()
        .insert(b"g9".to_vec(), b"new".to_vec());
    history.push(model.clone());
    put(db, model, "delta", b"d", b"a table created in the log");
    history.push(model.clone());
    put(db, model, "alpha", b"a99999", &[0xA9; 300]);
    history.push(model.clone());
}

fn build_with_log() -> Files {
    let vfs = SimVfs::new(1);
    let db = Database::open_with(sim_path(), options(&vfs)).unwrap();
    let mut model = empty();
    fill(&db, &mut model);
    let mut history = Vec::new();
    log_commits(&db, &mut model, &mut history);
    let image = vfs.crash(CrashMode::KeepAll);
    drop(db);
    Files {
        data: image.read_file(&sim_path()).unwrap(),
        log: image.read_file(&sim_wal_path()).unwrap(),
        history,
    }
}

fn build_closed() -> Files {
    let vfs = SimVfs::new(2);
    let db = Database::open_with(sim_path(), options(&vfs)).unwrap();
    let mut model = empty();
    fill(&db, &mut model);
    let mut history = Vec::new();
    log_commits(&db, &mut model, &mut history);
    // A value larger than the free pages can hold: it extends the file, so
    // that the closing checkpoint does not cut the file below the older
    // meta page's tree.
    put(&db, &mut model, "beta", b"b-large", &[0x5A; 160_000]);
    drop(db); // checkpoints: nothing left to replay
    Files {
        data: vfs.read_file(&sim_path()).unwrap(),
        log: vfs.read_file(&sim_wal_path()).unwrap(),
        history: vec![model],
    }
}

fn build_vacuumed() -> Files {
    let vfs = SimVfs::new(3);
    let db = Database::open_with(sim_path(), options(&vfs)).unwrap();
    let mut model = empty();
    let mut tx = db.begin().unwrap();
    tx.create_table("alpha").unwrap();
    for i in 0..3000u32 {
        let key = format!("a{i:05}").into_bytes();
        tx.put("alpha", &key, &[i as u8; 60]).unwrap();
    }
    tx.commit().unwrap();
    db.checkpoint().unwrap();
    let mut tx = db.begin().unwrap();
    for i in 0..3000u32 {
        let key = format!("a{i:05}").into_bytes();
        if i % 10 != 0 {
            tx.delete("alpha", &key).unwrap();
        } else {
            model
                .get_mut("alpha")
                .unwrap()
                .insert(key, vec![i as u8; 60]);
        }
    }
    tx.commit().unwrap();
    // The pages this checkpoint frees make most of the file free, so it
    // writes a second meta page at once, after moving pages down: both
    // meta pages then have the same checkpoint LSN, and the newest one a
    // shorter file.
    db.checkpoint().unwrap();
    let after = meta_views(&vfs.read_file(&sim_path()).unwrap());
    let (new_slot, new) = newest(&after);
    let old = after.iter().find(|(s, _)| *s != new_slot).unwrap().1;
    assert_eq!(new.seq, old.seq + 1, "the vacuum wrote a meta page");
    assert_eq!(new.ckpt, old.ckpt, "the vacuum checkpoint added no LSN");
    assert!(new.page_count < old.page_count, "the vacuum cut the file");
    let mut history = Vec::new();
    log_commits(&db, &mut model, &mut history);
    let image = vfs.crash(CrashMode::KeepAll);
    drop(db);
    Files {
        data: image.read_file(&sim_path()).unwrap(),
        log: image.read_file(&sim_wal_path()).unwrap(),
        history,
    }
}

/// The newest checkpoint was the one opening runs after finding a leftover
/// frame and nothing to replay: its checkpoint LSN equals the older meta
/// page's, and it did not cut the file.
fn build_after_leftovers() -> Files {
    use strata_engine::Durability;
    let vfs = SimVfs::new(4);
    let buffered = Options {
        durability: Durability::Buffered,
        ..options(&vfs)
    };
    let db = Database::open_with(sim_path(), buffered).unwrap();
    let mut model = empty();
    fill(&db, &mut model);
    // Live pages at the end of the file, and a free-list page that is not
    // the last page (the next checkpoint frees it): no later checkpoint
    // cuts the file below the older meta page's page count.
    put(&db, &mut model, "beta", b"b-large", &[0x5A; 160_000]);
    db.checkpoint().unwrap();
    put(&db, &mut model, "gamma", b"g0", b"changed");
    db.checkpoint().unwrap();
    // Two commits written but not synced: each frame's synced-through is
    // the checkpoint's LSN.
    put(&db, &mut Model::new(), "gamma", b"lost", b"1");
    put(&db, &mut Model::new(), "gamma", b"lost", b"2");
    let image = vfs.crash(CrashMode::KeepAll);
    drop(db);
    // The first of them damaged: the second is a leftover, not proof.
    let data = image.read_file(&sim_path()).unwrap();
    let mut log = image.read_file(&sim_wal_path()).unwrap();
    let before = newest(&meta_views(&data)).1;
    let frames = log_frames(before, &log);
    assert_eq!(frames.len(), 2);
    log[frames[0].start + 40] ^= 1;
    image.write_file(&sim_wal_path(), &log);
    let db = Database::open_with(sim_path(), options(&image)).unwrap();
    let after = newest(&meta_views(&image.read_file(&sim_path()).unwrap())).1;
    assert!(after.seq > before.seq, "opening checkpointed");
    assert_eq!(after.ckpt, before.ckpt, "with nothing replayed");
    assert_eq!(
        dump(&db, &TABLES).unwrap(),
        model,
        "both buffered commits lost"
    );
    let mut history = Vec::new();
    log_commits(&db, &mut model, &mut history);
    let image = image.crash(CrashMode::KeepAll);
    drop(db);
    Files {
        data: image.read_file(&sim_path()).unwrap(),
        log: image.read_file(&sim_wal_path()).unwrap(),
        history,
    }
}

// ---- the test's own reading of the format ----

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

#[derive(Clone, Copy, Debug)]
struct MetaView {
    seq: u64,
    ckpt: u64,
    catalog_root: u32,
    page_count: u32,
    free_head: u32,
    free_pages: u32,
    salt: u64,
}

fn meta_views(data: &[u8]) -> [(u32, MetaView); 2] {
    [1u32, 2].map(|slot| {
        let p = &data[slot as usize * PS..(slot as usize + 1) * PS];
        let mut id = slot.to_le_bytes().to_vec();
        id.extend_from_slice(&p[4..]);
        assert_eq!(u32_at(p, 0), crc32(&[&id]), "meta page {slot} is valid");
        (
            slot,
            MetaView {
                seq: u64_at(p, 8),
                ckpt: u64_at(p, 16),
                catalog_root: u32_at(p, 24),
                page_count: u32_at(p, 28),
                free_head: u32_at(p, 32),
                free_pages: u32_at(p, 36),
                salt: u64_at(p, 56),
            },
        )
    })
}

fn newest(metas: &[(u32, MetaView); 2]) -> (u32, MetaView) {
    *metas.iter().max_by_key(|(_, m)| m.seq).unwrap()
}

/// Whether the file still holds every page of the older meta page's tree.
fn older_fits(data: &[u8]) -> bool {
    let metas = meta_views(data);
    let (newest_slot, _) = newest(&metas);
    let older = metas.iter().find(|(s, _)| *s != newest_slot).unwrap().1;
    older.page_count as usize * PS <= data.len()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Header,
    OlderMeta,
    NewestMeta,
    Catalog,
    Branch,
    Leaf,
    Overflow,
    FreeList,
    Free,
    PastPageCount,
}

/// The kind of every page of `data`, as the newest meta page sees it.
fn page_kinds(data: &[u8]) -> Vec<Kind> {
    let metas = meta_views(data);
    let (slot, m) = newest(&metas);
    let mut free = BTreeSet::new();
    let mut chain = BTreeSet::new();
    let mut next = m.free_head;
    for _ in 0..m.free_pages {
        let p = &data[next as usize * PS..];
        assert_eq!(p[4], 4, "free-list page {next}");
        chain.insert(next);
        for i in 0..u32_at(p, 12) as usize {
            free.insert(u32_at(p, 16 + 4 * i));
        }
        next = u32_at(p, 8);
    }
    (0..(data.len() / PS) as u32)
        .map(|id| match id {
            0 => Kind::Header,
            1 | 2 if id == slot => Kind::NewestMeta,
            1 | 2 => Kind::OlderMeta,
            _ if id >= m.page_count => Kind::PastPageCount,
            _ if free.contains(&id) => Kind::Free,
            _ if chain.contains(&id) => Kind::FreeList,
            _ if id == m.catalog_root => Kind::Catalog,
            _ => match data[id as usize * PS + 4] {
                1 => Kind::Leaf,
                2 => Kind::Branch,
                3 => Kind::Overflow,
                t => panic!("page {id} in use has type {t}"),
            },
        })
        .collect()
}

/// A frame of the log's current generation.
#[derive(Debug)]
struct FrameSpan {
    start: usize,
    /// End of the checksummed bytes (header and payload).
    covered: usize,
    /// End of the zero padding.
    end: usize,
}

/// The frames recovery replays: from offset 32, each checksummed with the
/// newest meta page's salt and carrying the next LSN. One frame per
/// transaction here.
fn log_frames(m: MetaView, log: &[u8]) -> Vec<FrameSpan> {
    let mut out = Vec::new();
    let mut off = 32;
    let mut lsn = m.ckpt + 1;
    while off + 32 <= log.len() {
        let len = u32_at(log, off + 4) as usize;
        if off + 32 + len > log.len() || u64_at(log, off + 8) != lsn {
            break;
        }
        let covered = off + 32 + len;
        if u32_at(log, off) != crc32(&[&m.salt.to_le_bytes(), &log[off + 4..covered]]) {
            break;
        }
        assert_eq!(log[off + 28], 1, "one frame per transaction");
        let end = covered.next_multiple_of(8);
        out.push(FrameSpan {
            start: off,
            covered,
            end,
        });
        off = end;
        lsn += 1;
    }
    out
}

// ---- outcomes ----

/// What a flip must lead to.
#[derive(Clone, Debug, PartialEq)]
enum Expect {
    /// Opens, reads back exactly `history[k]`, passes `check()`.
    Exact(usize),
    /// Corruption at exactly this location.
    Corrupt(Location),
    NotAStrataFile,
    NewerFormat(u32),
}

/// Opens the flipped files, reads everything and checks: the first error,
/// or the contents.
fn open_and_read(data: &[u8], log: &[u8]) -> Result<Model, Error> {
    let vfs = SimVfs::new(9);
    vfs.write_file(&sim_path(), data);
    vfs.write_file(&sim_wal_path(), log);
    let db = Database::open_with(sim_path(), options(&vfs))?;
    let got = dump(&db, &TABLES)?;
    db.check()?;
    Ok(got)
}

/// Runs one flipped case; `Err` describes a wrong outcome.
fn run_case(
    files: &Files,
    data: &[u8],
    log: &[u8],
    expect: &Expect,
    what: &str,
) -> Result<(), String> {
    let got = catch_unwind(AssertUnwindSafe(|| open_and_read(data, log)))
        .map_err(|_| format!("{what}: panicked"))?;
    match (expect, got) {
        (Expect::Exact(k), Ok(model)) if model == files.history[*k] => Ok(()),
        (Expect::Exact(k), Ok(model)) => {
            let which = files.history.iter().position(|h| *h == model);
            Err(format!(
                "{what}: WRONG DATA returned silently (expected state {k}, got {which:?})"
            ))
        }
        (Expect::Exact(_), Err(e)) => Err(format!("{what}: expected the exact contents, got {e}")),
        (_, Ok(model)) => {
            let same = model == *files.history.last().unwrap();
            Err(format!(
                "{what}: expected {expect:?}, but it opened and read {} contents",
                if same { "the original" } else { "DIFFERENT" }
            ))
        }
        (Expect::Corrupt(loc), Err(Error::Corruption { location, .. })) if location == *loc => {
            Ok(())
        }
        (Expect::NotAStrataFile, Err(Error::NotAStrataFile)) => Ok(()),
        (Expect::NewerFormat(v), Err(Error::NewerFormat { found, .. })) if found == *v => Ok(()),
        (_, Err(e)) => Err(format!("{what}: expected {expect:?}, got {e:?}")),
    }
}

/// Byte positions to flip in a page: checksum, type, the common header
/// fields, the middle, the end, and `samples` more.
fn positions(page: u32, samples: u64) -> Vec<usize> {
    let mut v = vec![0, 2, 3, 4, 6, 8, 12, 16, 24, 32, PS / 2, PS - 1];
    let mut rng = Rng::new(u64::from(page) * 1000 + 17);
    v.extend((0..samples).map(|_| rng.below(PS as u64) as usize));
    v.sort_unstable();
    v.dedup();
    v
}

/// Which newest-meta outcome a scenario has.
#[derive(Clone, Copy, PartialEq)]
enum NewestMeta {
    /// The log was started over after it: falling back must be refused.
    Refused,
    /// Falling back to the older meta page and replaying its generation's
    /// records gives the exact contents.
    FallsBack,
}

#[derive(Default)]
struct Tally {
    flips: BTreeMap<String, usize>,
    errors: Vec<String>,
}

impl Tally {
    fn count(&mut self, class: String, r: Result<(), String>) {
        *self.flips.entry(class).or_default() += 1;
        if let Err(e) = r {
            self.errors.push(e);
        }
    }
}

fn flip_data_file(
    name: &str,
    files: &Files,
    newest_meta: NewestMeta,
    only: Option<&[Kind]>,
    tally: &mut Tally,
) {
    let kinds = page_kinds(&files.data);
    let samples = env_count("STRATA_CORRUPTION_SAMPLES", 4) / 2;
    let present: BTreeSet<Kind> = kinds.iter().copied().collect();
    let exact = files.history.len() - 1;
    // The newest checkpoint cut the file below the older meta page's page
    // count: the older tree lost pages, so falling back is refused.
    let cut = !older_fits(&files.data);
    for (id, &kind) in kinds.iter().enumerate() {
        if only.is_some_and(|only| !only.contains(&kind)) {
            continue;
        }
        let id = id as u32;
        let mut at = positions(id, samples);
        if matches!(kind, Kind::Header | Kind::OlderMeta | Kind::NewestMeta) {
            at.extend(0..72); // every header and meta field
            at.sort_unstable();
            at.dedup();
        }
        for off in at {
            let bit = (off * 5 + id as usize) % 8;
            let mut data = files.data.clone();
            data[id as usize * PS + off] ^= 1 << bit;
            let expect = match kind {
                Kind::Header if off < 8 => Expect::NotAStrataFile,
                Kind::Header if off < 12 => match u32_at(&data, 8) {
                    v if v > FORMAT_VERSION => Expect::NewerFormat(v),
                    _ => Expect::Corrupt(Location::Header),
                },
                Kind::Header if off < 32 => Expect::Corrupt(Location::Header),
                Kind::Header => Expect::Exact(exact),
                Kind::OlderMeta => Expect::Exact(exact),
                Kind::NewestMeta if newest_meta == NewestMeta::Refused || cut => {
                    Expect::Corrupt(Location::Page(id))
                }
                Kind::NewestMeta => Expect::Exact(exact),
                Kind::Free | Kind::PastPageCount => Expect::Exact(exact),
                _ => Expect::Corrupt(Location::Page(id)),
            };
            let what = format!("{name}: {kind:?} page {id}, byte {off} bit {bit}");
            let r = run_case(files, &data, &files.log, &expect, &what);
            tally.count(format!("{name} {kind:?}"), r);
        }
    }
    println!("{name}: page kinds present: {present:?}");
}

/// Log offsets to flip: every byte of the header and of each frame's
/// header and padding, the first and last 4 and `samples` more bytes of
/// each payload, and the 64 bytes after the last frame plus `samples` more
/// up to `limit`.
fn log_positions(frames: &[FrameSpan], limit: usize, samples: u64) -> Vec<usize> {
    let mut rng = Rng::new(99);
    let mut v: Vec<usize> = (0..32).collect();
    for f in frames {
        let payload = f.start + 32..f.covered;
        v.extend(f.start..f.start + 32);
        v.extend(payload.start..(payload.start + 4).min(payload.end));
        v.extend(payload.end.saturating_sub(4).max(payload.start)..payload.end);
        if !payload.is_empty() {
            v.extend(
                (0..samples).map(|_| payload.start + rng.below(payload.len() as u64) as usize),
            );
        }
        v.extend(f.covered..f.end);
    }
    let used = frames.last().map_or(32, |f| f.end);
    v.extend(used..(used + 64).min(limit));
    if limit > used {
        v.extend((0..samples).map(|_| used + rng.below((limit - used) as u64) as usize));
    }
    v.sort_unstable();
    v.dedup();
    v
}

fn flip_log(name: &str, files: &Files, tally: &mut Tally) {
    let frames = log_frames(newest(&meta_views(&files.data)).1, &files.log);
    let k = frames.len();
    assert_eq!(
        k + 1,
        files.history.len(),
        "{name}: every logged commit found"
    );
    let samples = env_count("STRATA_CORRUPTION_SAMPLES", 4) * 2;
    for off in log_positions(&frames, files.log.len(), samples) {
        let bit = (off * 3) % 8;
        let mut log = files.log.clone();
        log[off] ^= 1 << bit;
        let (class, expect) = if off < 32 {
            ("header", Expect::Corrupt(Location::Log { offset: 0 }))
        } else if let Some(i) = frames.iter().position(|f| (f.start..f.end).contains(&off)) {
            let f = &frames[i];
            if off >= f.covered {
                ("padding", Expect::Exact(k))
            } else if i + 1 < k {
                (
                    "record followed by others",
                    Expect::Corrupt(Location::Log {
                        offset: f.start as u64,
                    }),
                )
            } else {
                ("last record (torn tail)", Expect::Exact(k - 1))
            }
        } else {
            ("past the last record", Expect::Exact(k))
        };
        let what = format!("{name}: log byte {off} bit {bit} ({class})");
        let r = run_case(files, &files.data, &log, &expect, &what);
        tally.count(format!("{name} log {class}"), r);
    }
}

fn report(tally: Tally) {
    let total: usize = tally.flips.values().sum();
    for (class, n) in &tally.flips {
        println!("{n:6} flips  {class}");
    }
    println!("{total:6} flips in all");
    assert!(
        tally.errors.is_empty(),
        "{} of {total} flips went wrong; first ones:\n{}",
        tally.errors.len(),
        tally.errors[..tally.errors.len().min(20)].join("\n")
    );
}

#[test]
fn bit_flips_with_records_in_the_log() {
    let files = build_with_log();
    let kinds: BTreeSet<Kind> = page_kinds(&files.data).into_iter().collect();
    for k in [
        Kind::Header,
        Kind::OlderMeta,
        Kind::NewestMeta,
        Kind::Catalog,
        Kind::Branch,
        Kind::Leaf,
        Kind::Overflow,
        Kind::FreeList,
        Kind::Free,
    ] {
        assert!(kinds.contains(&k), "the database has a {k:?} page");
    }
    // Unchanged, it opens to the last commit.
    let mut tally = Tally::default();
    tally.count(
        "unflipped".into(),
        run_case(
            &files,
            &files.data,
            &files.log,
            &Expect::Exact(files.history.len() - 1),
            "unflipped",
        ),
    );
    // The log was started over after the newest meta page: falling back
    // to the older one would lose the transactions between the two.
    flip_data_file("with log", &files, NewestMeta::Refused, None, &mut tally);
    flip_log("with log", &files, &mut tally);
    report(tally);
}

#[test]
fn bit_flips_in_a_cleanly_closed_database() {
    let files = build_closed();
    let mut tally = Tally::default();
    // Nothing was written after the closing checkpoint, so the log still
    // holds every record since the older meta page's checkpoint, and the
    // file still holds the older tree: falling back to it and replaying
    // them gives the exact contents.
    assert!(older_fits(&files.data));
    flip_data_file("closed", &files, NewestMeta::FallsBack, None, &mut tally);
    // The log holds only records the newest checkpoint covers (the older
    // meta page's generation): no flip in it matters, except to its header.
    let metas = meta_views(&files.data);
    let (newest_slot, _) = newest(&metas);
    let older = metas.iter().find(|(s, _)| *s != newest_slot).unwrap().1;
    let frames = log_frames(older, &files.log);
    assert_eq!(
        frames.len(),
        6,
        "the older generation's records are in the log"
    );
    let samples = env_count("STRATA_CORRUPTION_SAMPLES", 4) * 2;
    for off in log_positions(&frames, files.log.len(), samples) {
        let bit = (off * 3) % 8;
        let mut log = files.log.clone();
        log[off] ^= 1 << bit;
        let (class, expect) = if off < 32 {
            ("header", Expect::Corrupt(Location::Log { offset: 0 }))
        } else {
            ("covered by the checkpoint", Expect::Exact(0))
        };
        let what = format!("closed: log byte {off} bit {bit} ({class})");
        let r = run_case(&files, &files.data, &log, &expect, &what);
        tally.count(format!("closed log {class}"), r);
    }
    report(tally);
}

#[test]
fn bit_flips_after_a_checkpoint_that_only_moved_pages() {
    let files = build_vacuumed();
    let mut tally = Tally::default();
    // The newest checkpoint moved pages down and cut the file: the older
    // meta page's tree lost pages, so falling back is refused whatever the
    // log says.
    assert!(!older_fits(&files.data));
    let metas = [Kind::Header, Kind::OlderMeta, Kind::NewestMeta];
    flip_data_file(
        "vacuumed",
        &files,
        NewestMeta::Refused,
        Some(&metas),
        &mut tally,
    );
    flip_log("vacuumed", &files, &mut tally);
    report(tally);
}

#[test]
fn bit_flips_after_a_checkpoint_that_replayed_nothing() {
    let files = build_after_leftovers();
    let mut tally = Tally::default();
    // The newest checkpoint has the older one's LSN, so the log's first
    // frame carries the LSN either generation would give it, and the file
    // was not cut: only the damaged page's own fields (salt, sequence)
    // tell that the log was started over after it. (The other page types
    // are covered above.)
    assert!(older_fits(&files.data));
    let metas = [Kind::OlderMeta, Kind::NewestMeta];
    flip_data_file(
        "after leftovers",
        &files,
        NewestMeta::Refused,
        Some(&metas),
        &mut tally,
    );
    report(tally);
}
