//! Property test of schema evolution against a plain in-memory model: one
//! table goes through random increasing sequences of six versions of its
//! model, skipping any, with random rows and random writes at each, and a
//! reopen between versions. After each version every row read through
//! that version's type equals the model's rows as that version sees them,
//! `check()` passes and counts them, and `schema_history()` lists exactly
//! the steps and automatic changes made, in order.
//!
//! | version | change | how |
//! | --- | --- | --- |
//! | `V0` | `id`, `name`, `n` | the table created |
//! | `V1` | `note: Option<String>` added | automatic (no row rewritten) |
//! | `V2` | `level` added with default 5; `n` indexed | automatic |
//! | `V3` | `name` unique | automatic; refused over duplicate names |
//! | `V4` | `name` renamed `title`; `n`'s index dropped; `note` indexed | step 1; automatic |
//! | `V5` | `n` converted to text, indexed; fields declared in another order | step 2 |
//!
//! A jump to a version opens the file with that version's `Migrations`
//! (its model and the steps up to it), or, when no step is pending, opens
//! it plainly and lets the model's first use make the changes; a plain open
//! with a step pending must refuse the model (`SchemaMismatch`) and
//! change nothing. Before some jumps a read-only open reads the current
//! version and must refuse the next (`MigrationNeeded`). Before a jump
//! that makes `name` unique while the rows hold a name twice, that version
//! must be refused (`DuplicateValues`, naming duplicated names) with the
//! file unchanged; the duplicates are then deleted and the jump made.
//! Writes at a version from `V3` on that repeat a name must be refused
//! (`UniqueViolation`).
//!
//! `STRATA_PROPTEST_CASES` raises the number of cases (24 by default).

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Debug;
use strata::engine::Options;
use strata::{AppliedMigration, Database, Error, Migrations, Model, Value};
use strata_tests::{TempDir, proptest_cases};

/// A row as the model keeps it: every field any version has, with the
/// value a version that lacks it reads (`note` `None`, `level` 5).
#[derive(Clone, Debug, PartialEq)]
struct Row {
    name: String,
    n: i64,
    note: Option<String>,
    level: i64,
}

/// `level`'s default, which rows written before `V2` read.
const LEVEL: i64 = 5;

impl Row {
    /// The row as a write at version `v` leaves it: the fields `v` lacks
    /// hold what the later versions read in their place.
    fn at(mut self, v: usize) -> Row {
        if v < 1 {
            self.note = None;
        }
        if v < 2 {
            self.level = LEVEL;
        }
        self
    }
}

/// One version of the table's model, built from the model's row.
trait Version: Model + Clone + Debug + PartialEq {
    fn of(id: i64, r: &Row) -> Self;

    /// The key, as `add` assigned it.
    fn id(&self) -> i64 {
        match self.value(Self::PRIMARY_KEY) {
            Value::Int(id) => id,
            other => panic!("a key of {other:?}"),
        }
    }
}

mod v0 {
    use super::*;
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "items")]
    pub struct Item {
        #[strata(primary_key)]
        pub id: i64,
        pub name: String,
        pub n: i64,
    }
}

mod v1 {
    use super::*;
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "items")]
    pub struct Item {
        #[strata(primary_key)]
        pub id: i64,
        pub name: String,
        pub n: i64,
        pub note: Option<String>,
    }
}

mod v2 {
    use super::*;
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "items")]
    pub struct Item {
        #[strata(primary_key)]
        pub id: i64,
        pub name: String,
        #[strata(index)]
        pub n: i64,
        pub note: Option<String>,
        #[strata(default = 5)]
        pub level: i64,
    }
}

mod v3 {
    use super::*;
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "items")]
    pub struct Item {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(unique)]
        pub name: String,
        #[strata(index)]
        pub n: i64,
        pub note: Option<String>,
        #[strata(default = 5)]
        pub level: i64,
    }
}

mod v4 {
    use super::*;
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "items")]
    pub struct Item {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(unique)]
        pub title: String,
        pub n: i64,
        #[strata(index)]
        pub note: Option<String>,
        #[strata(default = 5)]
        pub level: i64,
    }
}

mod v5 {
    use super::*;
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "items")]
    pub struct Item {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(default = 5)]
        pub level: i64,
        #[strata(index)]
        pub n: String,
        #[strata(unique)]
        pub title: String,
        #[strata(index)]
        pub note: Option<String>,
    }
}

impl Version for v0::Item {
    fn of(id: i64, r: &Row) -> Self {
        v0::Item {
            id,
            name: r.name.clone(),
            n: r.n,
        }
    }
}

impl Version for v1::Item {
    fn of(id: i64, r: &Row) -> Self {
        v1::Item {
            id,
            name: r.name.clone(),
            n: r.n,
            note: r.note.clone(),
        }
    }
}

impl Version for v2::Item {
    fn of(id: i64, r: &Row) -> Self {
        v2::Item {
            id,
            name: r.name.clone(),
            n: r.n,
            note: r.note.clone(),
            level: r.level,
        }
    }
}

impl Version for v3::Item {
    fn of(id: i64, r: &Row) -> Self {
        v3::Item {
            id,
            name: r.name.clone(),
            n: r.n,
            note: r.note.clone(),
            level: r.level,
        }
    }
}

impl Version for v4::Item {
    fn of(id: i64, r: &Row) -> Self {
        v4::Item {
            id,
            title: r.name.clone(),
            n: r.n,
            note: r.note.clone(),
            level: r.level,
        }
    }
}

impl Version for v5::Item {
    fn of(id: i64, r: &Row) -> Self {
        v5::Item {
            id,
            level: r.level,
            n: text(r.n),
            title: r.name.clone(),
            note: r.note.clone(),
        }
    }
}

/// What step 2 makes of `n`.
fn text(n: i64) -> String {
    format!("n={n}")
}

/// The steps, by version: step `s` is the one `V3 + s` needs.
const STEPS: [&str; 2] = ["rename name to title", "n as text"];

/// How many steps version `v` needs.
fn steps_of(v: usize) -> u32 {
    v.saturating_sub(3) as u32
}

/// Version `v`'s migrations: its model, and the steps up to it.
fn migrations(v: usize) -> Migrations {
    let m = match v {
        0 => Migrations::new().model::<v0::Item>(),
        1 => Migrations::new().model::<v1::Item>(),
        2 => Migrations::new().model::<v2::Item>(),
        3 => Migrations::new().model::<v3::Item>(),
        4 => Migrations::new().model::<v4::Item>(),
        _ => Migrations::new().model::<v5::Item>(),
    };
    let m = match steps_of(v) {
        0 => m,
        _ => m.step(1, STEPS[0], |m| m.rename_field("items", "name", "title")),
    };
    match steps_of(v) {
        0 | 1 => m,
        _ => m.step(2, STEPS[1], |m| {
            m.convert::<v5::Item>("n", |old| match old {
                Value::Int(n) => Ok(Value::Text(text(n))),
                other => Ok(other),
            })
        }),
    }
}

/// The fields the automatic changes of a jump from `from` to `to` touch,
/// by the name each has at `to` (after the jump's steps): whatever differs
/// in existence, index or uniqueness between the two versions and was not
/// made by a step.
fn automatic_fields(from: usize, to: usize) -> Vec<&'static str> {
    let note = |v: usize| (v >= 1, v >= 4);
    let level = |v: usize| v >= 2;
    // Step 2 declares `n` as `V5` does, index and all.
    let n_indexed = |v: usize| matches!(v, 2 | 3 | 5);
    let unique = |v: usize| v >= 3;
    let mut fields = Vec::new();
    if note(from) != note(to) {
        fields.push("note");
    }
    if level(from) != level(to) {
        fields.push("level");
    }
    if steps_of(to) < 2 && n_indexed(from) != n_indexed(to) {
        fields.push("n");
    }
    if unique(from) != unique(to) {
        fields.push(if to >= 4 { "title" } else { "name" });
    }
    fields
}

/// A logged entry, as the model expects it: a step's version and name, or
/// an automatic entry of a version naming the fields it changed.
#[derive(Clone, Debug)]
enum Logged {
    Step(u32, &'static str),
    Automatic(u32, Vec<&'static str>),
}

impl Logged {
    fn matches(&self, h: &AppliedMigration) -> bool {
        match self {
            Logged::Step(v, name) => h.version == *v && h.name == *name,
            Logged::Automatic(v, fields) => {
                let names = |f: &&str| {
                    h.name.contains(&format!(": {f} ")) || h.name.contains(&format!("; {f} "))
                };
                h.version == *v
                    && h.name.starts_with("automatic: Item: ")
                    && fields.iter().all(names)
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Fields {
    name: String,
    n: i64,
    note: Option<String>,
    level: i64,
}

impl Fields {
    fn row(&self) -> Row {
        Row {
            name: self.name.clone(),
            n: self.n,
            note: self.note.clone(),
            level: self.level,
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Add(Fields),
    Update(usize, Fields),
    Delete(usize),
}

/// One version the table is brought to, and what is done there.
#[derive(Clone, Debug)]
struct Stage {
    version: usize,
    /// Read the current version read-only first, and be refused the next.
    read_only_first: bool,
    /// Open plainly and let the first use migrate, when no step is due.
    plain: bool,
    ops: Vec<Op>,
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        "[a-e][0-5]",
        -20i64..20,
        proptest::option::of("[xyz]{0,2}"),
        0i64..9,
    )
        .prop_map(|(name, n, note, level)| Fields {
            name,
            n,
            note,
            level,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => fields().prop_map(Op::Add),
        2 => (any::<usize>(), fields()).prop_map(|(i, f)| Op::Update(i, f)),
        1 => any::<usize>().prop_map(Op::Delete),
    ]
}

/// Version 0 with its rows, then an increasing subsequence of the others.
fn stages() -> impl Strategy<Value = Vec<Stage>> {
    let later = (
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(op(), 0..12),
    );
    (
        proptest::sample::subsequence(vec![1, 2, 3, 4, 5], 0..=5),
        proptest::collection::vec(fields().prop_map(Op::Add), 0..30),
        proptest::collection::vec(op(), 0..10),
        proptest::collection::vec(later, 5),
    )
        .prop_map(|(versions, rows, ops, later)| {
            let first = Stage {
                version: 0,
                read_only_first: false,
                plain: false,
                ops: rows.into_iter().chain(ops).collect(),
            };
            let rest = versions
                .into_iter()
                .zip(later)
                .map(|(version, (ro, plain, ops))| Stage {
                    version,
                    read_only_first: ro,
                    plain,
                    ops,
                });
            std::iter::once(first).chain(rest).collect()
        })
}

/// The file, the model of its rows, the version it is at, and what its
/// migration log should hold.
struct Run {
    dir: TempDir,
    rows: BTreeMap<i64, Row>,
    at: usize,
    log: Vec<Logged>,
}

fn options() -> Options {
    Options {
        log_preallocate: 0,
        ..Options::default()
    }
}

fn read_only() -> Options {
    Options {
        read_only: true,
        ..options()
    }
}

impl Run {
    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("items.strata")
    }

    /// Names held by more than one row.
    fn duplicates(&self) -> Vec<String> {
        let mut count: BTreeMap<&str, u32> = BTreeMap::new();
        for r in self.rows.values() {
            *count.entry(r.name.as_str()).or_default() += 1;
        }
        (count.into_iter())
            .filter(|(_, c)| *c > 1)
            .map(|(n, _)| n.to_string())
            .collect()
    }

    /// Every row through `V`, the integrity check and the log, against the
    /// model.
    fn verify<V: Version>(&self, db: &Database, when: &str) {
        let want: Vec<V> = self.rows.iter().map(|(id, r)| V::of(*id, r)).collect();
        let got = read_all::<V>(db).unwrap_or_else(|e| panic!("{when}: reading: {e}"));
        assert_eq!(got, want, "{when}: the rows at V{}", self.at);
        let checked = db.check().unwrap_or_else(|e| panic!("{when}: check: {e}"));
        assert_eq!(checked, self.rows.len() as u64, "{when}: rows checked");
        let history = db.schema_history().unwrap();
        assert!(
            history.len() == self.log.len()
                && self.log.iter().zip(&history).all(|(l, h)| l.matches(h)),
            "{when}: the migration log is {history:?}, the model's {:?}",
            self.log
        );
    }

    /// Brings the file from its version to `V` (`stage.version`), as the
    /// stage says, and checks it before and after `stage.ops`.
    fn stage<V: Version>(&mut self, stage: &Stage) {
        let to = stage.version;
        let from = self.at;
        let when = format!("V{from} to V{to}");
        if to > 0 && stage.read_only_first {
            self.refused_read_only(from, to);
        }
        if from < 3 && to >= 3 && !self.duplicates().is_empty() {
            self.refused_duplicates(from);
        }
        let plain = stage.plain && to > 0;
        let db = if plain {
            let db = Database::open_with(self.path(), options()).unwrap();
            if steps_of(to) > steps_of(from) {
                match read_all::<V>(&db) {
                    Err(Error::SchemaMismatch { .. }) => {}
                    other => panic!("{when}: a plain open with a step due read {other:?}"),
                }
                db.migrate(&migrations(to)).unwrap();
            }
            db
        } else {
            Database::open_migrated(self.path(), options(), &migrations(to)).unwrap()
        };
        for s in steps_of(from)..steps_of(to) {
            self.log.push(Logged::Step(s + 1, STEPS[s as usize]));
        }
        let fields = automatic_fields(from, to);
        if !fields.is_empty() && to > 0 {
            self.log.push(Logged::Automatic(steps_of(to), fields));
        }
        self.at = to;
        self.verify::<V>(&db, &when);
        let mut s = db.session().unwrap();
        for op in &stage.ops {
            self.write::<V>(&mut s, op);
        }
        s.commit().unwrap();
        self.verify::<V>(&db, &format!("{when}, after the writes"));
    }

    /// A read-only open reads version `from` and refuses `to`.
    fn refused_read_only(&self, from: usize, to: usize) {
        let db = Database::open_with(self.path(), read_only()).unwrap();
        db.migrate(&migrations(from)).unwrap();
        match from {
            0 => self.verify::<v0::Item>(&db, "read only"),
            1 => self.verify::<v1::Item>(&db, "read only"),
            2 => self.verify::<v2::Item>(&db, "read only"),
            3 => self.verify::<v3::Item>(&db, "read only"),
            _ => self.verify::<v4::Item>(&db, "read only"),
        }
        match db.migrate(&migrations(to)) {
            Err(Error::MigrationNeeded { .. }) => {}
            other => panic!("a read-only open at V{from} migrated to V{to}: {other:?}"),
        }
    }

    /// `V3` is refused over the duplicate names, and nothing changes;
    /// then the duplicates (all but the first row of each name) go.
    fn refused_duplicates(&mut self, from: usize) {
        let dups = self.duplicates();
        match Database::open_migrated(self.path(), options(), &migrations(3)) {
            Err(Error::DuplicateValues {
                model,
                column,
                values,
            }) => {
                assert_eq!((model.as_str(), column.as_str()), ("Item", "name"));
                assert!(
                    !values.is_empty()
                        && values
                            .iter()
                            .all(|v| matches!(v, Value::Text(t) if dups.contains(t))),
                    "duplicates {values:?}, the model's {dups:?}"
                );
            }
            other => panic!("V3 over duplicate names {dups:?}: {other:?}"),
        }
        let mut first: BTreeMap<String, i64> = BTreeMap::new();
        let mut gone = Vec::new();
        for (id, r) in &self.rows {
            if first.contains_key(&r.name) {
                gone.push(*id);
            } else {
                first.insert(r.name.clone(), *id);
            }
        }
        let db = Database::open_migrated(self.path(), options(), &migrations(from)).unwrap();
        match from {
            0 => self.remove::<v0::Item>(&db, &gone),
            1 => self.remove::<v1::Item>(&db, &gone),
            _ => self.remove::<v2::Item>(&db, &gone),
        }
    }

    /// Checks the file unchanged, then deletes the rows `ids` through `V`.
    fn remove<V: Version>(&mut self, db: &Database, ids: &[i64]) {
        self.verify::<V>(db, "after the refusal");
        let mut s = db.session().unwrap();
        for id in ids {
            let r = self.rows.remove(id).unwrap();
            assert!(s.delete(&V::of(*id, &r)).unwrap(), "row {id} is there");
        }
        s.commit().unwrap();
        self.verify::<V>(db, "without the duplicates");
    }

    /// One write at version `V`, and its effect on the model.
    fn write<V: Version>(&mut self, s: &mut strata::Session, op: &Op) {
        let unique = self.at >= 3;
        let taken = |rows: &BTreeMap<i64, Row>, name: &str, except: i64| {
            unique && rows.iter().any(|(id, r)| r.name == name && *id != except)
        };
        let pick = |rows: &BTreeMap<i64, Row>, i: usize| {
            (!rows.is_empty()).then(|| *rows.keys().nth(i % rows.len()).unwrap())
        };
        match op {
            Op::Add(f) => {
                let row = f.row().at(self.at);
                let mut m = V::of(0, &row);
                match s.add(&mut m) {
                    Ok(()) => {
                        assert!(!taken(&self.rows, &row.name, 0), "added a taken name");
                        assert!(m.id() > 0 && !self.rows.contains_key(&m.id()), "a new key");
                        self.rows.insert(m.id(), row);
                    }
                    Err(Error::UniqueViolation { .. }) => {
                        assert!(taken(&self.rows, &row.name, 0), "refused a free name")
                    }
                    Err(e) => panic!("add at V{}: {e}", self.at),
                }
            }
            Op::Update(i, f) => {
                let Some(id) = pick(&self.rows, *i) else {
                    return;
                };
                let row = f.row().at(self.at);
                match s.update(&V::of(id, &row)) {
                    Ok(()) => {
                        assert!(!taken(&self.rows, &row.name, id), "took a taken name");
                        self.rows.insert(id, row);
                    }
                    Err(Error::UniqueViolation { .. }) => {
                        assert!(taken(&self.rows, &row.name, id), "refused a free name")
                    }
                    Err(e) => panic!("update at V{}: {e}", self.at),
                }
            }
            Op::Delete(i) => {
                let Some(id) = pick(&self.rows, *i) else {
                    return;
                };
                let r = self.rows.remove(&id).unwrap();
                assert!(s.delete(&V::of(id, &r)).unwrap(), "row {id} is there");
            }
        }
    }
}

/// Every row of `V`. A first use on a writable handle that built an index
/// its read session's snapshot does not hold asks for a new session.
fn read_all<V: Version>(db: &Database) -> strata::Result<Vec<V>> {
    match db.read_session()?.query::<V>().all() {
        Err(Error::MigrationNeeded { .. }) if db.engine().is_some_and(|e| !e.is_read_only()) => {
            db.read_session()?.query::<V>().all()
        }
        r => r,
    }
}

fn run(stages: &[Stage]) {
    let mut r = Run {
        dir: TempDir::new("migration-prop"),
        rows: BTreeMap::new(),
        at: 0,
        log: Vec::new(),
    };
    for stage in stages {
        match stage.version {
            0 => r.stage::<v0::Item>(stage),
            1 => r.stage::<v1::Item>(stage),
            2 => r.stage::<v2::Item>(stage),
            3 => r.stage::<v3::Item>(stage),
            4 => r.stage::<v4::Item>(stage),
            _ => r.stage::<v5::Item>(stage),
        }
    }
    // The last version reopens as it was left.
    let db = Database::open_migrated(r.path(), options(), &migrations(r.at)).unwrap();
    match r.at {
        0 => r.verify::<v0::Item>(&db, "reopened"),
        1 => r.verify::<v1::Item>(&db, "reopened"),
        2 => r.verify::<v2::Item>(&db, "reopened"),
        3 => r.verify::<v3::Item>(&db, "reopened"),
        4 => r.verify::<v4::Item>(&db, "reopened"),
        _ => r.verify::<v5::Item>(&db, "reopened"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: proptest_cases(24),
        max_shrink_iters: 500,
        ..ProptestConfig::default()
    })]

    #[test]
    fn each_version_reads_the_rows_of_the_model(stages in stages()) {
        run(&stages);
    }
}

/// Every version in turn, and the longest jump, with duplicates to refuse
/// and every kind of open: the cases the property must reach, whatever
/// proptest draws.
#[test]
fn every_version_in_turn_and_the_longest_jump() {
    let add = |name: &str, n: i64| {
        Op::Add(Fields {
            name: name.into(),
            n,
            note: Some("x".into()),
            level: 1,
        })
    };
    let first = Stage {
        version: 0,
        read_only_first: false,
        plain: false,
        ops: vec![add("a0", 1), add("a0", 2), add("b1", 3), add("c2", 4)],
    };
    let mut turn = vec![first.clone()];
    for version in 1..=5 {
        turn.push(Stage {
            version,
            read_only_first: version % 2 == 1,
            plain: version != 3,
            ops: vec![
                add("d3", version as i64),
                Op::Update(1, fields_of("e4")),
                Op::Delete(0),
            ],
        });
    }
    run(&turn);
    let jump = Stage {
        version: 5,
        read_only_first: true,
        plain: false,
        ops: vec![add("a0", 9)],
    };
    run(&[first, jump]);
}

fn fields_of(name: &str) -> Fields {
    Fields {
        name: name.into(),
        n: -3,
        note: None,
        level: 8,
    }
}
