//! Model-based property test of the engine: random sequences of put,
//! delete, get, range (both directions), commit, rollback, checkpoint,
//! clean reopen and crash reopen, with keys and values of every size up to
//! the limits, run against a `BTreeMap` model. Every read must agree with
//! the model exactly, and `check()` must pass after every reopen.
//!
//! `STRATA_PROPTEST_CASES` raises the number of cases.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::ops::Bound;
use strata_engine::storage::{CrashMode, SimVfs};
use strata_engine::{Database, MAX_VALUE_LEN, Transaction};
use strata_tests::{Model, dump, open_sim, proptest_cases};

const TABLES: [&str; 3] = ["alpha", "beta", "gamma"];

#[derive(Clone, Debug)]
enum Val {
    Bytes(Vec<u8>),
    /// `len` copies of a byte, built only when used (up to 16 MiB).
    Fill(u8, usize),
}

impl Val {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Val::Bytes(b) => b.clone(),
            Val::Fill(b, n) => vec![*b; *n],
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Put(usize, Vec<u8>, Val),
    Delete(usize, Vec<u8>),
    Get(usize, Vec<u8>),
    /// A range read forwards or backwards, then again taking items from
    /// both ends as the bits of the `u64` say.
    Range(usize, Bound<Vec<u8>>, Bound<Vec<u8>>, bool, u64),
    /// Puts `count` keys `prefix ++ i` with values of `len` bytes: builds
    /// trees several levels deep.
    Fill(usize, Vec<u8>, u16, u16),
    /// Deletes every key in a range, one by one: drives merges.
    Drain(usize, Bound<Vec<u8>>, Bound<Vec<u8>>),
    Commit,
    Rollback,
    Checkpoint,
    Reopen,
    CrashReopen,
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Few distinct short keys: many overwrites and deletes of the same.
        6 => proptest::collection::vec(prop_oneof![Just(0u8), Just(b'a'), Just(b'b'), Just(0xff)], 0..4),
        3 => proptest::collection::vec(any::<u8>(), 0..40),
        // Long keys up to the 1 KiB limit: deep trees with few entries.
        1 => (any::<u8>(), 200usize..=1024).prop_map(|(b, n)| {
            let mut k = vec![b; n];
            k[n - 1] = (n % 251) as u8;
            k
        }),
    ]
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        6 => proptest::collection::vec(any::<u8>(), 0..24).prop_map(Val::Bytes),
        3 => (any::<u8>(), 24usize..1100).prop_map(|(b, n)| Val::Fill(b, n)),
        2 => (any::<u8>(), 1100usize..40_000).prop_map(|(b, n)| Val::Fill(b, n)),
        1 => (any::<u8>(), prop_oneof![Just(MAX_VALUE_LEN), 40_000usize..200_000]).prop_map(|(b, n)| Val::Fill(b, n)),
    ]
}

fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        1 => Just(Bound::Unbounded),
        2 => key().prop_map(Bound::Included),
        2 => key().prop_map(Bound::Excluded),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let t = 0..TABLES.len();
    prop_oneof![
        30 => (t.clone(), key(), val()).prop_map(|(t, k, v)| Op::Put(t, k, v)),
        10 => (t.clone(), key()).prop_map(|(t, k)| Op::Delete(t, k)),
        8 => (t.clone(), key()).prop_map(|(t, k)| Op::Get(t, k)),
        8 => (t.clone(), bound(), bound(), any::<bool>(), any::<u64>()).prop_map(|(t, a, b, r, m)| Op::Range(t, a, b, r, m)),
        3 => (t.clone(), key(), 1u16..600, 0u16..400).prop_map(|(t, p, n, l)| Op::Fill(t, p, n, l)),
        2 => (t, bound(), bound()).prop_map(|(t, a, b)| Op::Drain(t, a, b)),
        8 => Just(Op::Commit),
        3 => Just(Op::Rollback),
        2 => Just(Op::Checkpoint),
        2 => Just(Op::Reopen),
        2 => Just(Op::CrashReopen),
    ]
}

/// A short description of how two models differ.
fn diff(got: &Model, want: &Model) -> String {
    for (t, w) in want {
        let g = &got[t];
        for (k, v) in w {
            match g.get(k) {
                None => return format!("table {t}: key {k:?} missing"),
                Some(gv) if gv != v => {
                    return format!(
                        "table {t}: key {k:?} has {} bytes, model {}",
                        gv.len(),
                        v.len()
                    );
                }
                _ => {}
            }
        }
        if let Some(k) = g.keys().find(|k| !w.contains_key(*k)) {
            return format!("table {t}: extra key {k:?}");
        }
    }
    "no difference".into()
}

fn in_range(k: &[u8], lo: &Bound<Vec<u8>>, hi: &Bound<Vec<u8>>) -> bool {
    let above = match lo {
        Bound::Included(a) => k >= &a[..],
        Bound::Excluded(a) => k > &a[..],
        Bound::Unbounded => true,
    };
    let below = match hi {
        Bound::Included(b) => k <= &b[..],
        Bound::Excluded(b) => k < &b[..],
        Bound::Unbounded => true,
    };
    above && below
}

struct Harness {
    vfs: SimVfs,
    db: Option<Database>,
    tx: Option<Transaction>,
    committed: Model,
    pending: Model,
}

impl Harness {
    fn new(seed: u64) -> Harness {
        let vfs = SimVfs::new(seed);
        let db = open_sim(&vfs).unwrap();
        let mut tx = db.begin().unwrap();
        for t in TABLES {
            tx.create_table(t).unwrap();
        }
        tx.commit().unwrap();
        let empty: Model = TABLES
            .iter()
            .map(|t| (t.to_string(), BTreeMap::new()))
            .collect();
        Harness {
            vfs,
            db: Some(db),
            tx: None,
            committed: empty.clone(),
            pending: empty,
        }
    }

    fn tx(&mut self) -> &mut Transaction {
        if self.tx.is_none() {
            self.tx = Some(self.db.as_ref().unwrap().begin().unwrap());
        }
        self.tx.as_mut().unwrap()
    }

    fn reopened(&mut self, vfs: SimVfs) {
        self.tx = None;
        self.db = None;
        self.vfs = vfs;
        let db = open_sim(&self.vfs).unwrap();
        db.check().unwrap();
        // Never assert_eq! on models: a failure would format megabytes.
        let got = dump(&db, &TABLES).unwrap();
        assert!(
            got == self.committed,
            "state after reopen differs: {}",
            diff(&got, &self.committed)
        );
        self.db = Some(db);
        self.pending = self.committed.clone();
    }

    fn run(&mut self, op: &Op) {
        match op {
            Op::Put(t, k, v) => {
                let v = v.bytes();
                self.tx().put(TABLES[*t], k, &v).unwrap();
                self.pending
                    .get_mut(TABLES[*t])
                    .unwrap()
                    .insert(k.clone(), v);
            }
            Op::Delete(t, k) => {
                let existed = self.tx().delete(TABLES[*t], k).unwrap();
                let model = self
                    .pending
                    .get_mut(TABLES[*t])
                    .unwrap()
                    .remove(k)
                    .is_some();
                assert_eq!(existed, model, "delete {k:?}");
            }
            Op::Get(t, k) => {
                let lent = self
                    .tx()
                    .get_with(TABLES[*t], k, |v| v.map(<[u8]>::to_vec))
                    .unwrap();
                let got = self.tx().get(TABLES[*t], k).unwrap();
                assert!(lent == got, "get_with agrees with get");
                let want = self.pending[TABLES[*t]].get(k);
                assert!(
                    got.as_ref() == want,
                    "get {k:?}: {:?} bytes, model {:?}",
                    got.map(|v| v.len()),
                    want.map(Vec::len)
                );
            }
            Op::Range(t, lo, hi, rev, mix) => {
                let (lo, hi) = (lo.clone(), hi.clone());
                let tx = self
                    .tx
                    .get_or_insert_with(|| self.db.as_ref().unwrap().begin().unwrap());
                let it = tx.range(TABLES[*t], (lo.clone(), hi.clone())).unwrap();
                let got: Vec<(Vec<u8>, Vec<u8>)> = if *rev {
                    it.rev().collect::<Result<_, _>>().unwrap()
                } else {
                    it.collect::<Result<_, _>>().unwrap()
                };
                let mut want: Vec<(Vec<u8>, Vec<u8>)> = self.pending[TABLES[*t]]
                    .iter()
                    .filter(|(k, _)| in_range(k, &lo, &hi))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if *rev {
                    want.reverse();
                }
                // The borrowing form yields the same entries.
                let mut it = tx.range(TABLES[*t], (lo.clone(), hi.clone())).unwrap();
                let mut lent = Vec::new();
                loop {
                    let next = if *rev {
                        it.next_back_ref()
                    } else {
                        it.next_ref()
                    };
                    match next {
                        Some(kv) => {
                            let (k, v) = kv.unwrap();
                            lent.push((k.to_vec(), v.to_vec()));
                        }
                        None => break,
                    }
                }
                assert!(lent == got, "next_ref agrees with next");
                assert_eq!(got.len(), want.len(), "range length");
                assert!(got == want, "range contents differ");
                // Both ends at once, lending: the front yields a prefix and
                // the back a suffix of the range, and they meet exactly.
                let mut it = tx.range(TABLES[*t], (lo.clone(), hi.clone())).unwrap();
                let (mut front, mut back) = (Vec::new(), Vec::new());
                for step in 0.. {
                    let from_back = (mix.rotate_left(step % 64) & 1) == 1;
                    let next = if from_back {
                        it.next_back_ref()
                    } else {
                        it.next_ref()
                    };
                    let Some(kv) = next else { break };
                    let (k, v) = kv.unwrap();
                    let pair = (k.to_vec(), v.to_vec());
                    if from_back {
                        back.push(pair);
                    } else {
                        front.push(pair);
                    }
                }
                back.reverse();
                front.extend(back);
                if *rev {
                    front.reverse();
                }
                assert!(front == want, "a range read from both ends differs");
                // Counting, and skipping from both ends, agree with reading.
                let range = || tx.range(TABLES[*t], (lo.clone(), hi.clone())).unwrap();
                assert_eq!(range().count_entries().unwrap(), want.len() as u64, "count");
                let n = want.len() as u64;
                let (a, b) = (*mix % (n + 3), (*mix >> 32) % (n + 3));
                let mut it = range();
                let front_skipped = it.skip_entries(a).unwrap();
                assert_eq!(front_skipped, a.min(n), "skipped from the front");
                let back_skipped = it.skip_entries_back(b).unwrap();
                assert_eq!(
                    back_skipped,
                    b.min(n - front_skipped),
                    "skipped from the back"
                );
                let rest: Vec<(Vec<u8>, Vec<u8>)> = it.collect::<Result<_, _>>().unwrap();
                let mut sorted = want.clone();
                if *rev {
                    sorted.reverse();
                }
                let (a, b) = (front_skipped as usize, back_skipped as usize);
                assert!(rest == sorted[a..sorted.len() - b], "what skipping leaves");
            }
            Op::Fill(t, prefix, count, len) => {
                for i in 0..*count {
                    let k = [&prefix[..], &u32::from(i).to_be_bytes()].concat();
                    let k = &k[..k.len().min(1024)];
                    let v = vec![i as u8; usize::from(*len)];
                    self.tx().put(TABLES[*t], k, &v).unwrap();
                    self.pending
                        .get_mut(TABLES[*t])
                        .unwrap()
                        .insert(k.to_vec(), v);
                }
            }
            Op::Drain(t, lo, hi) => {
                let keys: Vec<Vec<u8>> = self.pending[TABLES[*t]]
                    .keys()
                    .filter(|k| in_range(k, lo, hi))
                    .cloned()
                    .collect();
                for k in keys {
                    assert!(self.tx().delete(TABLES[*t], &k).unwrap(), "drain {k:?}");
                    self.pending.get_mut(TABLES[*t]).unwrap().remove(&k);
                }
            }
            Op::Commit => {
                if let Some(tx) = self.tx.take() {
                    tx.commit().unwrap();
                }
                self.committed = self.pending.clone();
            }
            Op::Rollback => {
                self.tx = None;
                self.pending = self.committed.clone();
            }
            Op::Checkpoint => self.db.as_ref().unwrap().checkpoint().unwrap(),
            Op::Reopen => {
                let vfs = self.vfs.clone();
                self.reopened(vfs);
            }
            Op::CrashReopen => {
                // Durability::Full: every commit is synced, so even a crash
                // that keeps only synced bytes keeps every commit.
                let crashed = self.vfs.crash(CrashMode::DropAll);
                self.reopened(crashed);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: proptest_cases(48),
        max_shrink_iters: 300,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_agrees_with_btreemap(seed in any::<u64>(), ops in proptest::collection::vec(op(), 1..160)) {
        let mut h = Harness::new(seed);
        for op in &ops {
            h.run(op);
        }
        h.run(&Op::Commit);
        h.run(&Op::Reopen);
    }
}

/// Thousands of operations on a few tables, with periodic checks: drives
/// splits, merges and rebalancing at every level, including the root.
#[test]
fn long_churn_keeps_the_tree_sound() {
    let vfs = SimVfs::new(7);
    let db = open_sim(&vfs).unwrap();
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut tx = db.begin().unwrap();
    tx.create_table("t").unwrap();
    tx.commit().unwrap();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for round in 0..40 {
        let mut tx = db.begin().unwrap();
        for _ in 0..400 {
            let r = next();
            let k = format!("{:06}", r % 5000).into_bytes();
            // Key lengths vary so that splits and merges move by bytes.
            let k = [k.clone(), vec![b'x'; (r as usize >> 20) % 300]].concat();
            if r % 3 == 0 {
                assert_eq!(tx.delete("t", &k).unwrap(), model.remove(&k).is_some());
            } else {
                let v = vec![(r >> 8) as u8; (r as usize >> 32) % 700];
                tx.put("t", &k, &v).unwrap();
                model.insert(k, v);
            }
        }
        tx.commit().unwrap();
        if round % 5 == 4 {
            db.checkpoint().unwrap();
        }
        let report = db.check().unwrap();
        assert_eq!(report.entries as usize, model.len());
        let all = dump(&db, &["t"]).unwrap();
        assert!(all["t"] == model, "full scan after round {round}");
        let tx = db.begin().unwrap();
        let back: Vec<Vec<u8>> = tx
            .range("t", ..)
            .unwrap()
            .rev()
            .map(|kv| kv.unwrap().0)
            .collect();
        assert!(
            back.iter().rev().eq(model.keys()),
            "reverse scan after round {round}"
        );
        let lo = format!("{:06}", next() % 5000).into_bytes();
        let hi = format!("{:06}", next() % 5000).into_bytes();
        let got: Vec<Vec<u8>> = tx
            .range("t", lo.clone()..=hi.clone())
            .unwrap()
            .map(|kv| kv.unwrap().0)
            .collect();
        let want: Vec<Vec<u8>> = if lo <= hi {
            model.range(lo..=hi).map(|(k, _)| k.clone()).collect()
        } else {
            Vec::new()
        };
        assert_eq!(got, want, "sub-range after round {round}");
    }
    // Delete everything: the tree must shrink back to nothing.
    let mut tx = db.begin().unwrap();
    for k in model.keys() {
        assert!(tx.delete("t", k).unwrap());
    }
    tx.commit().unwrap();
    db.checkpoint().unwrap();
    let report = db.check().unwrap();
    assert_eq!(report.entries, 0);
    assert_eq!(report.used_pages, 1, "only the catalog's one leaf stays");
    assert!(dump(&db, &["t"]).unwrap()["t"].is_empty());
}

/// Removing most of the keys and checkpointing once gives the space back:
/// the file shrinks to about what the survivors need.
#[test]
fn removals_shrink_the_file_at_the_next_checkpoint() {
    let dir = strata_tests::TempDir::new("shrink");
    let path = dir.path().join("shrink.strata");
    let db = Database::open(&path).unwrap();
    let mut tx = db.begin().unwrap();
    tx.create_table("t").unwrap();
    for i in 0..40_000u32 {
        tx.put("t", &i.to_be_bytes(), &[7u8; 100]).unwrap();
    }
    tx.commit().unwrap();
    db.checkpoint().unwrap();
    let loaded = std::fs::metadata(&path).unwrap().len();

    // Remove three keys in four, spread over the whole key range.
    let mut tx = db.begin().unwrap();
    for i in (0..40_000u32).filter(|i| i % 4 != 0) {
        assert!(tx.delete("t", &i.to_be_bytes()).unwrap());
    }
    tx.commit().unwrap();
    db.checkpoint().unwrap();
    let after = std::fs::metadata(&path).unwrap().len();
    let report = db.check().unwrap();
    assert_eq!(report.entries, 10_000);
    // The survivors hold a quarter of the data, in leaves that deletion
    // left between a quarter and a half full; allow 60% of the loaded size.
    // (Without the vacuum the file grows: every leaf was copied.)
    assert!(
        after * 5 <= loaded * 3,
        "file of {after} bytes after removals, {loaded} after the load"
    );
    drop(db);
    let db = Database::open(&path).unwrap();
    assert_eq!(db.check().unwrap().entries, 10_000);
    let tx = db.begin().unwrap();
    for i in (0..40_000u32).step_by(4) {
        assert_eq!(
            tx.get("t", &i.to_be_bytes()).unwrap().as_deref(),
            Some(&[7u8; 100][..])
        );
    }
}
