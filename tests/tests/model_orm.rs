//! Property test of the ORM against a plain in-memory model: random adds
//! (some breaking the unique column or carrying NaN), updates, deletes,
//! queries with random filters, orderings, limits and offsets, commits and
//! rollbacks. After every query the rows agree with the model's; after
//! every commit the ORM's integrity check confirms that every index holds
//! exactly the entries of its rows. Besides the base types, the model has
//! indexed columns of a date, a decimal (of varying scale), a unit enum and
//! an `f32`, and a column with a default.
//!
//! `STRATA_PROPTEST_CASES` raises the number of cases.

use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use strata::{Database, Error, Expr, Model, TextColumn};
use strata_tests::TempDir;
use strata_tests::backend::Backend;

/// The file, or etcd when built as `model_orm_etcd` (`strata_tests::backend`).
const BACKEND: Backend = Backend::of_suite(env!("CARGO_CRATE_NAME"));

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Item {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 6)]
    name: String,
    #[strata(index)]
    grp: i64,
    #[strata(index)]
    score: f64,
    note: Option<String>,
    #[strata(index)]
    rank: Option<u32>,
    flag: bool,
    blob: Vec<u8>,
    small: Option<i8>,
    #[strata(index)]
    when: NaiveDate,
    #[strata(index)]
    amount: Option<Decimal>,
    #[strata(index)]
    state: State,
    #[strata(index)]
    ratio: f32,
    #[strata(default = 7)]
    level: i64,
}

#[derive(strata::Column, Clone, Copy, Debug, PartialEq, Default)]
enum State {
    #[default]
    Open,
    Closed,
}

/// The date of a group: days after 2024-01-01.
fn day(grp: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new((grp + 10) as u64)
}

/// A decimal of a rank, at a scale that varies with it (2.5 as 2.5, 25.00
/// as 25.00...).
fn amount(r: u32) -> Decimal {
    Decimal::new(i64::from(r) * 25 * 10i64.pow(r % 3), 1 + r % 3)
}

#[derive(Clone, Debug)]
struct Fields {
    name: String,
    grp: i64,
    score: f64,
    note: Option<String>,
    rank: Option<u32>,
    flag: bool,
}

/// A filter, built the same way for the ORM and for the reference.
#[derive(Clone, Debug)]
enum F {
    NameEq(String),
    NameStarts(String),
    NameEnds(String),
    NameContains(String),
    GrpCmp(u8, i64),
    GrpIn(Vec<i64>),
    GrpBetween(i64, i64),
    ScoreGt(f64),
    NoteIsNull,
    NoteEq(String),
    RankCmp(u8, u32),
    /// Compared values that are null or NaN, or zeros of either sign: they
    /// have keys in the indexes yet compare false with everything (or, for
    /// the zeros, equal each other).
    ScoreCmp(u8, f64),
    RankCmpOpt(u8, Option<u32>),
    RankIn(Vec<Option<u32>>),
    FlagEq(bool),
    IdCmp(u8, i64),
    WhenCmp(u8, i64),
    AmountCmp(u8, Option<u32>),
    StateEq(bool),
    And(Box<F>, Box<F>),
    Or(Box<F>, Box<F>),
    Not(Box<F>),
}

#[derive(Clone, Debug)]
enum Op {
    Add(Fields),
    AddNaN(Fields),
    Update(usize, Fields),
    Delete(usize),
    Query(Option<F>, u8, bool, Option<usize>, usize),
    Count(Option<F>),
    Commit,
    Rollback,
}

fn name() -> impl Strategy<Value = String> {
    "[ab]{1,3}|[a-d]{4,6}"
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        name(),
        -3i64..4,
        prop_oneof![Just(0.0), Just(-0.0), Just(-1.5), -10.0f64..10.0],
        proptest::option::of("[xy]{0,2}"),
        proptest::option::of(0u32..5),
        any::<bool>(),
    )
        .prop_map(|(name, grp, score, note, rank, flag)| Fields {
            name,
            grp,
            score,
            note,
            rank,
            flag,
        })
}

fn filter() -> impl Strategy<Value = F> {
    let leaf = prop_oneof![
        name().prop_map(F::NameEq),
        "[ab]{0,2}".prop_map(F::NameStarts),
        "[ab]{0,2}".prop_map(F::NameEnds),
        "[a-d]{1,2}".prop_map(F::NameContains),
        (0u8..6, -3i64..4).prop_map(|(o, v)| F::GrpCmp(o, v)),
        proptest::collection::vec(-3i64..4, 0..3).prop_map(F::GrpIn),
        (-3i64..4, -3i64..4).prop_map(|(a, b)| F::GrpBetween(a, b)),
        (-10.0f64..10.0).prop_map(F::ScoreGt),
        Just(F::NoteIsNull),
        "[xy]{0,2}".prop_map(F::NoteEq),
        (0u8..6, 0u32..5).prop_map(|(o, v)| F::RankCmp(o, v)),
        (
            0u8..6,
            prop_oneof![Just(f64::NAN), Just(0.0), Just(-0.0), -10.0f64..10.0]
        )
            .prop_map(|(o, x)| F::ScoreCmp(o, x)),
        (0u8..6, proptest::option::of(0u32..5)).prop_map(|(o, v)| F::RankCmpOpt(o, v)),
        proptest::collection::vec(proptest::option::of(0u32..5), 0..3).prop_map(F::RankIn),
        any::<bool>().prop_map(F::FlagEq),
        (0u8..6, 0i64..30).prop_map(|(o, v)| F::IdCmp(o, v)),
        (0u8..6, -3i64..4).prop_map(|(o, v)| F::WhenCmp(o, v)),
        (0u8..6, proptest::option::of(0u32..5)).prop_map(|(o, v)| F::AmountCmp(o, v)),
        any::<bool>().prop_map(F::StateEq),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| F::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| F::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| F::Not(Box::new(a))),
        ]
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => fields().prop_map(Op::Add),
        1 => fields().prop_map(Op::AddNaN),
        3 => (any::<usize>(), fields()).prop_map(|(i, f)| Op::Update(i, f)),
        2 => any::<usize>().prop_map(Op::Delete),
        5 => (proptest::option::of(filter()), 0u8..7, any::<bool>(), proptest::option::of(0usize..6), 0usize..3)
            .prop_map(|(f, o, d, l, s)| Op::Query(f, o, d, l, s)),
        2 => proptest::option::of(filter()).prop_map(Op::Count),
        3 => Just(Op::Commit),
        1 => Just(Op::Rollback),
    ]
}

fn cmp_expr<T, V>(op: u8, col: strata::Column<Item, T>, v: V) -> Expr<Item>
where
    T: strata::ColumnType,
    V: strata::ToColumn<T>,
{
    match op {
        0 => col.eq(v),
        1 => col.ne(v),
        2 => col.lt(v),
        3 => col.le(v),
        4 => col.gt(v),
        _ => col.ge(v),
    }
}

fn to_expr(f: &F) -> Expr<Item> {
    match f {
        F::NameEq(s) => Item::name.eq(s.as_str()),
        F::NameStarts(s) => Item::name.starts_with(s),
        F::NameEnds(s) => Item::name.ends_with(s),
        F::NameContains(s) => Item::name.contains(s),
        F::GrpCmp(o, v) => cmp_expr(*o, Item::grp, *v),
        F::GrpIn(vs) => Item::grp.in_(vs.iter().copied()),
        F::GrpBetween(a, b) => Item::grp.between(*a, *b),
        F::ScoreGt(x) => Item::score.gt(*x),
        F::NoteIsNull => Item::note.is_null(),
        F::NoteEq(s) => Item::note.eq(s.as_str()),
        F::RankCmp(o, v) => cmp_expr(*o, Item::rank, *v),
        F::ScoreCmp(o, x) => cmp_expr(*o, Item::score, *x),
        F::RankCmpOpt(o, v) => cmp_expr(*o, Item::rank, *v),
        F::RankIn(vs) => Item::rank.in_(vs.iter().copied()),
        F::FlagEq(b) => Item::flag.eq(*b),
        F::IdCmp(o, v) => cmp_expr(*o, Item::id, *v),
        F::WhenCmp(o, v) => cmp_expr(*o, Item::when, day(*v)),
        F::AmountCmp(o, v) => cmp_expr(*o, Item::amount, v.map(amount)),
        F::StateEq(b) => Item::state.eq(state(*b)),
        F::And(a, b) => to_expr(a).and(to_expr(b)),
        F::Or(a, b) => to_expr(a).or(to_expr(b)),
        F::Not(a) => to_expr(a).not(),
    }
}

fn cmp3<T: PartialOrd>(op: u8, a: Option<T>, b: T) -> Option<bool> {
    let a = a?;
    Some(match op {
        0 => a == b,
        1 => a != b,
        2 => a < b,
        3 => a <= b,
        4 => a > b,
        _ => a >= b,
    })
}

/// SQL's three-valued logic: `None` is unknown (a comparison with null).
fn eval(f: &F, m: &Item) -> Option<bool> {
    match f {
        F::NameEq(s) => Some(m.name == *s),
        F::NameStarts(s) => Some(m.name.starts_with(s.as_str())),
        F::NameEnds(s) => Some(m.name.ends_with(s.as_str())),
        F::NameContains(s) => Some(m.name.contains(s.as_str())),
        F::GrpCmp(o, v) => cmp3(*o, Some(m.grp), *v),
        F::GrpIn(vs) => Some(vs.contains(&m.grp)),
        F::GrpBetween(a, b) => Some(*a <= m.grp && m.grp <= *b),
        F::ScoreGt(x) => Some(m.score > *x),
        F::NoteIsNull => Some(m.note.is_none()),
        F::NoteEq(s) => m.note.as_ref().map(|n| n == s),
        F::RankCmp(o, v) => cmp3(*o, m.rank, *v),
        F::ScoreCmp(o, x) if x.is_nan() => None,
        F::ScoreCmp(o, x) => cmp3(*o, Some(m.score), *x),
        // eq(None) and ne(None) are null tests (SQLAlchemy's `== None`);
        // an ordering comparison with null is unknown.
        F::RankCmpOpt(0, None) => Some(m.rank.is_none()),
        F::RankCmpOpt(1, None) => Some(m.rank.is_some()),
        F::RankCmpOpt(o, v) => cmp3(*o, m.rank, (*v)?),
        // SQL's IN: false for an empty list (even on a null); else true on
        // a match, unknown on a null or when the list holds a null.
        F::RankIn(vs) if vs.is_empty() => Some(false),
        F::RankIn(vs) => match m.rank {
            None => None,
            Some(r) if vs.contains(&Some(r)) => Some(true),
            Some(_) if vs.contains(&None) => None,
            Some(_) => Some(false),
        },
        F::FlagEq(b) => Some(m.flag == *b),
        F::IdCmp(o, v) => cmp3(*o, Some(m.id), *v),
        F::WhenCmp(o, v) => cmp3(*o, Some(m.when), day(*v)),
        F::AmountCmp(0, None) => Some(m.amount.is_none()),
        F::AmountCmp(1, None) => Some(m.amount.is_some()),
        F::AmountCmp(o, v) => cmp3(*o, m.amount, amount((*v)?)),
        F::StateEq(b) => Some(m.state == state(*b)),
        F::And(a, b) => match (eval(a, m), eval(b, m)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        F::Or(a, b) => match (eval(a, m), eval(b, m)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        F::Not(a) => eval(a, m).map(|b| !b),
    }
}

fn item(id: i64, f: &Fields) -> Item {
    Item {
        id,
        name: f.name.clone(),
        grp: f.grp,
        score: f.score,
        note: f.note.clone(),
        rank: f.rank,
        flag: f.flag,
        blob: f.name.as_bytes().to_vec(),
        small: f.rank.map(|r| -(r as i8)),
        when: day(f.grp),
        amount: f.rank.map(amount),
        state: state(f.flag),
        ratio: f.score as f32,
        ..Item::default()
    }
}

fn state(flag: bool) -> State {
    if flag { State::Closed } else { State::Open }
}

/// The reference ordering on column `o` (nulls first, as the ORM sorts).
fn cmp_col(o: u8, a: &Item, b: &Item) -> std::cmp::Ordering {
    match o {
        0 => std::cmp::Ordering::Equal,
        1 => a.name.cmp(&b.name),
        2 => a.grp.cmp(&b.grp),
        3 => a
            .score
            .partial_cmp(&b.score)
            .unwrap_or(std::cmp::Ordering::Equal),
        4 => a.rank.cmp(&b.rank),
        5 => a.when.cmp(&b.when),
        _ => a.amount.cmp(&b.amount),
    }
}

struct Run {
    _dir: TempDir,
    db: Database,
    session: Option<strata::Session>,
    committed: BTreeMap<i64, Item>,
    pending: BTreeMap<i64, Item>,
}

impl Run {
    fn new() -> Run {
        let dir = TempDir::new("orm-prop");
        let db = BACKEND.open(&dir);
        Run {
            _dir: dir,
            db,
            session: None,
            committed: BTreeMap::new(),
            pending: BTreeMap::new(),
        }
    }

    fn s(&mut self) -> &mut strata::Session {
        if self.session.is_none() {
            self.session = Some(self.db.session().unwrap());
        }
        self.session.as_mut().unwrap()
    }

    fn pick(&self, i: usize) -> Option<Item> {
        (!self.pending.is_empty()).then(|| {
            self.pending
                .values()
                .nth(i % self.pending.len())
                .unwrap()
                .clone()
        })
    }

    fn name_taken(&self, name: &str, except: i64) -> bool {
        self.pending
            .values()
            .any(|m| m.name == name && m.id != except)
    }

    fn step(&mut self, op: &Op) {
        match op {
            Op::Add(f) => {
                let mut m = item(0, f);
                let taken = self.name_taken(&f.name, -1);
                match self.s().add(&mut m) {
                    Ok(()) => {
                        assert!(!taken, "add accepted a taken name {}", f.name);
                        assert!(m.id > 0 && !self.pending.contains_key(&m.id), "a fresh key");
                        self.pending.insert(m.id, m);
                    }
                    Err(Error::UniqueViolation { column: "name", .. }) => {
                        assert!(taken, "refused a free name")
                    }
                    Err(Error::TooLong { .. }) => assert!(f.name.chars().count() > 6),
                    Err(e) => panic!("add failed: {e}"),
                }
            }
            Op::AddNaN(f) => {
                let mut m = item(0, f);
                m.score = f64::NAN;
                assert!(matches!(
                    self.s().add(&mut m),
                    Err(Error::NotANumber {
                        column: "score",
                        ..
                    })
                ));
            }
            Op::Update(i, f) => {
                let Some(old) = self.pick(*i) else { return };
                let m = item(old.id, f);
                let taken = self.name_taken(&f.name, old.id);
                match self.s().update(&m) {
                    Ok(()) => {
                        assert!(!taken);
                        self.pending.insert(m.id, m);
                    }
                    Err(Error::UniqueViolation { .. }) => assert!(taken),
                    Err(e) => panic!("update failed: {e}"),
                }
            }
            Op::Delete(i) => {
                let Some(old) = self.pick(*i) else { return };
                assert!(self.s().delete(&old).unwrap());
                self.pending.remove(&old.id);
                assert!(!self.s().delete(&old).unwrap(), "deleted twice");
            }
            Op::Query(f, o, desc, limit, offset) => {
                let mut want: Vec<Item> = self
                    .pending
                    .values()
                    .filter(|m| f.as_ref().is_none_or(|f| eval(f, m) == Some(true)))
                    .cloned()
                    .collect();
                want.sort_by(|a, b| {
                    let c = cmp_col(*o, a, b);
                    // Descending on the column; ties still by key, ascending.
                    let c = if *desc { c.reverse() } else { c };
                    c.then(a.id.cmp(&b.id))
                });
                let want: Vec<Item> = want
                    .into_iter()
                    .skip(*offset)
                    .take(limit.unwrap_or(usize::MAX))
                    .collect();
                let (o, desc, limit, offset) = (*o, *desc, *limit, *offset);
                let s = self.s();
                let mut q = s.query::<Item>();
                if let Some(f) = f {
                    q = q.filter(to_expr(f));
                }
                q = match (o, desc) {
                    (0, _) => q,
                    (1, false) => q.order_by(Item::name),
                    (1, true) => q.order_by(Item::name.desc()),
                    (2, false) => q.order_by(Item::grp),
                    (2, true) => q.order_by(Item::grp.desc()),
                    (3, false) => q.order_by(Item::score),
                    (3, true) => q.order_by(Item::score.desc()),
                    (4, false) => q.order_by(Item::rank),
                    (4, true) => q.order_by(Item::rank.desc()),
                    (5, false) => q.order_by(Item::when),
                    (5, true) => q.order_by(Item::when.desc()),
                    (_, false) => q.order_by(Item::amount),
                    (_, true) => q.order_by(Item::amount.desc()),
                };
                q = q.order_by(Item::id);
                if let Some(l) = limit {
                    q = q.limit(l);
                }
                q = q.offset(offset);
                let got = q.all().unwrap();
                assert_eq!(
                    got,
                    want,
                    "query {f:?} order {o} desc {desc} limit {limit:?} offset {offset}; plan {}",
                    q.explain()
                );
                let streamed = q
                    .iter()
                    .unwrap()
                    .collect::<strata::Result<Vec<Item>>>()
                    .unwrap();
                assert_eq!(streamed, want, "iter agrees with all");
                assert_eq!(q.first().unwrap(), want.first().cloned());
                assert_eq!(q.exists().unwrap(), !want.is_empty());
            }
            Op::Count(f) => {
                let want = self
                    .pending
                    .values()
                    .filter(|m| f.as_ref().is_none_or(|f| eval(f, m) == Some(true)))
                    .count();
                let s = self.s();
                let mut q = s.query::<Item>();
                if let Some(f) = f {
                    q = q.filter(to_expr(f));
                }
                assert_eq!(q.count().unwrap(), want as u64);
            }
            Op::Commit => {
                if let Some(s) = self.session.take() {
                    s.commit().unwrap();
                }
                self.committed = self.pending.clone();
                assert_eq!(
                    self.db.check().unwrap(),
                    self.committed.len() as u64,
                    "integrity check"
                );
            }
            Op::Rollback => {
                self.session = None;
                self.pending = self.committed.clone();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: BACKEND.proptest_cases(64),
        max_shrink_iters: 500,
        ..ProptestConfig::default()
    })]

    #[test]
    fn orm_agrees_with_an_in_memory_model(ops in proptest::collection::vec(op(), 1..80)) {
        let mut r = Run::new();
        for op in &ops {
            r.step(op);
        }
        r.step(&Op::Commit);
        // Everything survives a reopen.
        r.session = None;
        let committed = r.committed.clone();
        let Run { db, _dir, .. } = r;
        drop(db);
        let db = BACKEND.open(&_dir);
        let s = db.read_session().unwrap();
        let all: BTreeMap<i64, Item> = s.query::<Item>().all().unwrap().into_iter().map(|m| (m.id, m)).collect();
        prop_assert_eq!(all, committed);
        drop(s);
        db.check().unwrap();
        drop(_dir);
    }
}
