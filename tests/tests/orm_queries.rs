//! The query layer: every filter, ordering, limit and terminal operation,
//! `QueryMut`'s update and delete, and the planner's choices.
//!
//! Every query is checked against the same query computed by hand over a
//! `Vec` of the fixture rows, and every plan case also checks its rows:
//! the access path may only narrow what is read, never what matches.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt::Debug;
use strata::{Access, Database, Error, Expr, Model, Plan, Session, TextColumn, Value};

mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static NEXT: AtomicUsize = AtomicUsize::new(0);

    /// A fresh directory under the system's temp dir, removed on drop.
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> TempDir {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path =
                std::env::temp_dir().join(format!("strata-orm-queries-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("create temp dir");
            TempDir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

use tempdir::TempDir;

// ---- the models ----

/// Every kind of column the planner treats differently.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "students", display = "name")]
struct Student {
    /// Auto-assigned i64 key.
    #[strata(primary_key)]
    id: i64,
    /// Unique text with a length limit.
    #[strata(unique, max_len = 12)]
    name: String,
    /// Non-unique index.
    #[strata(index)]
    year: i64,
    /// Indexed float.
    #[strata(index)]
    gpa: f64,
    /// Nullable, not indexed.
    nickname: Option<String>,
    /// Nullable, indexed (nulls are in the index).
    #[strata(index)]
    rank: Option<i64>,
    active: bool,
    #[strata(max_len = 8)]
    photo: Vec<u8>,
    /// Unique and nullable (nulls are left out of the index).
    #[strata(unique, max_len = 16)]
    badge: Option<String>,
}

/// A model keyed by a string given by hand.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "countries", display = "name")]
struct Country {
    #[strata(primary_key)]
    code: String,
    #[strata(max_len = 40)]
    name: String,
    #[strata(index)]
    population: i64,
}

#[allow(clippy::too_many_arguments)]
fn student(
    name: &str,
    year: i64,
    gpa: f64,
    nickname: Option<&str>,
    rank: Option<i64>,
    active: bool,
    photo: &[u8],
    badge: Option<&str>,
) -> Student {
    Student {
        id: 0,
        name: name.into(),
        year,
        gpa,
        nickname: nickname.map(Into::into),
        rank,
        active,
        photo: photo.to_vec(),
        badge: badge.map(Into::into),
    }
}

/// The fixture rows, in the order they are added (ids 1 to 9).
fn student_rows() -> Vec<Student> {
    vec![
        student(
            "ada",
            2,
            3.9,
            Some("Countess"),
            Some(1),
            true,
            &[1, 2, 3],
            Some("gold"),
        ),
        student("adam", 1, 3.2, None, Some(4), false, &[], None),
        student(
            "alan",
            3,
            3.7,
            Some("Turing"),
            None,
            true,
            &[0, 255],
            Some("silver"),
        ),
        student("bea", 2, 2.8, Some("Bee"), Some(7), false, &[9], None),
        student("bob", 1, 3.5, None, None, true, &[], Some("bronze")),
        student(
            "cyd",
            3,
            -1.5,
            Some("Cyclone"),
            Some(2),
            false,
            &[7, 7],
            None,
        ),
        student(
            "dee",
            4,
            0.0,
            Some("Dee-Dee"),
            Some(4),
            true,
            &[],
            Some("iron"),
        ),
        student("eve", 2, 4.0, None, Some(9), true, &[5], None),
        student("zoe", 1, 1.25, Some("Zed"), None, false, &[0], Some("tin")),
    ]
}

/// Added out of key order on purpose.
fn country_rows() -> Vec<Country> {
    [
        ("US", "United States", 333_000_000),
        ("DE", "Germany", 83_000_000),
        ("JP", "Japan", 125_000_000),
        ("FR", "France", 68_000_000),
        ("NZ", "New Zealand", 5_100_000),
        ("FI", "Finland", 5_500_000),
        ("IS", "Iceland", 380_000),
    ]
    .into_iter()
    .map(|(code, name, population)| Country {
        code: code.into(),
        name: name.into(),
        population,
    })
    .collect()
}

/// A database holding the fixture; `db` drops before `_dir` is removed.
struct Fixture {
    db: Database,
    students: Vec<Student>,
    countries: Vec<Country>,
    _dir: TempDir,
}

fn open(dir: &TempDir) -> Database {
    Database::open_with(
        dir.path().join("queries.strata"),
        strata::engine::Options {
            log_preallocate: 0,
            ..Default::default()
        },
    )
    .expect("open database")
}

fn fixture() -> Fixture {
    let dir = TempDir::new();
    let db = open(&dir);
    let mut s = db.session().unwrap();
    let mut students = student_rows();
    for st in &mut students {
        s.add(st).unwrap();
    }
    let mut countries = country_rows();
    for c in &mut countries {
        s.add(c).unwrap();
    }
    s.commit().unwrap();
    assert_eq!(
        ids(&students),
        (1..=9).collect::<Vec<i64>>(),
        "auto keys are assigned 1, 2, 3, ... in the order of add"
    );
    countries.sort_by(|a, b| a.code.cmp(&b.code));
    Fixture {
        db,
        students,
        countries,
        _dir: dir,
    }
}

// ---- by-hand helpers ----

fn ids(rows: &[Student]) -> Vec<i64> {
    rows.iter().map(|r| r.id).collect()
}

fn codes(rows: &[Country]) -> Vec<String> {
    rows.iter().map(|r| r.code.clone()).collect()
}

fn by_id(mut rows: Vec<Student>) -> Vec<Student> {
    rows.sort_by_key(|r| r.id);
    rows
}

/// The fixture rows matching `f`, in key order.
fn hand(rows: &[Student], f: impl Fn(&Student) -> bool) -> Vec<Student> {
    rows.iter().filter(|r| f(r)).cloned().collect()
}

/// `rows` stably sorted by `cmp`.
fn sorted(rows: &[Student], cmp: impl FnMut(&Student, &Student) -> Ordering) -> Vec<Student> {
    let mut v = rows.to_vec();
    v.sort_by(cmp);
    v
}

/// Runs the filter `e` every way a caller can (all, ordered by key,
/// count, exists, iter) and checks each against `f` over the fixture rows.
/// Returns the ids that match, for the caller to pin down.
fn check_filter(
    s: &Session,
    rows: &[Student],
    e: Expr<Student>,
    f: impl Fn(&Student) -> bool,
) -> Vec<i64> {
    let want = hand(rows, f);
    let q = s.query::<Student>().filter(e.clone());
    assert_eq!(by_id(q.all().unwrap()), want, "all() of {e:?}");
    assert_eq!(q.count().unwrap(), want.len() as u64, "count() of {e:?}");
    assert_eq!(q.exists().unwrap(), !want.is_empty(), "exists() of {e:?}");
    let streamed: Vec<Student> = q.iter().unwrap().collect::<strata::Result<_>>().unwrap();
    assert_eq!(by_id(streamed), want, "iter() of {e:?}");
    let ordered = s.query::<Student>().filter(e.clone()).order_by(Student::id);
    assert_eq!(ordered.all().unwrap(), want, "all() ordered by id of {e:?}");
    ids(&want)
}

/// `got` is in the order of `want` as far as `proj` tells (rows tied on
/// it may come in any order), and holds the same rows.
fn assert_order_of<K: PartialEq + Debug>(
    got: &[Student],
    want: &[Student],
    proj: impl Fn(&Student) -> K,
) {
    let g: Vec<K> = got.iter().map(&proj).collect();
    let w: Vec<K> = want.iter().map(&proj).collect();
    assert_eq!(g, w, "order of the rows");
    assert_eq!(by_id(got.to_vec()), by_id(want.to_vec()), "the rows");
}

fn plan(access: Access, ordered: bool, reverse: bool, filtered: bool) -> Plan {
    Plan {
        access,
        ordered,
        reverse,
        filtered,
    }
}

// ---- filters ----

#[test]
fn eq_on_every_column_kind() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    assert_eq!(
        check_filter(&s, rows, Student::id.eq(4), |r| r.id == 4),
        [4]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.eq("bea"), |r| r.name == "bea"),
        [4]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.eq(String::from("zoe")), |r| r.name
            == "zoe"),
        [9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::year.eq(2), |r| r.year == 2),
        [1, 4, 8]
    );
    assert_eq!(
        check_filter(&s, rows, Student::gpa.eq(3.5), |r| r.gpa == 3.5),
        [5]
    );
    assert_eq!(
        check_filter(&s, rows, Student::nickname.eq("Zed"), |r| {
            r.nickname.as_deref() == Some("Zed")
        }),
        [9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::rank.eq(4), |r| r.rank == Some(4)),
        [2, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::active.eq(false), |r| !r.active),
        [2, 4, 6, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::photo.eq(vec![7u8, 7]), |r| r.photo
            == [7, 7]),
        [6]
    );
    assert_eq!(
        check_filter(&s, rows, Student::photo.eq(&[][..]), |r| r.photo.is_empty()),
        [2, 5, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::badge.eq("tin"), |r| {
            r.badge.as_deref() == Some("tin")
        }),
        [9]
    );
    // Values no row holds.
    assert!(check_filter(&s, rows, Student::id.eq(99), |r| r.id == 99).is_empty());
    assert!(check_filter(&s, rows, Student::name.eq("nobody"), |_| false).is_empty());
    assert!(check_filter(&s, rows, Student::year.eq(7), |_| false).is_empty());
    assert!(check_filter(&s, rows, Student::gpa.eq(3.55), |_| false).is_empty());
}

#[test]
fn ne_is_false_on_null() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    assert_eq!(
        check_filter(&s, rows, Student::year.ne(2), |r| r.year != 2),
        [2, 3, 5, 6, 7, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.ne("ada"), |r| r.name != "ada"),
        [2, 3, 4, 5, 6, 7, 8, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::id.ne(1), |r| r.id != 1),
        [2, 3, 4, 5, 6, 7, 8, 9]
    );
    // Nullable columns: a null is neither equal nor unequal to anything.
    assert_eq!(
        check_filter(&s, rows, Student::rank.ne(4), |r| {
            r.rank.is_some_and(|x| x != 4)
        }),
        [1, 4, 6, 8]
    );
    assert_eq!(
        check_filter(&s, rows, Student::nickname.ne("Zed"), |r| {
            r.nickname.as_deref().is_some_and(|x| x != "Zed")
        }),
        [1, 3, 4, 6, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::badge.ne("gold"), |r| {
            r.badge.as_deref().is_some_and(|x| x != "gold")
        }),
        [3, 5, 7, 9]
    );
}

#[test]
fn comparisons_lt_le_gt_ge() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    // Primary key.
    assert_eq!(
        check_filter(&s, rows, Student::id.lt(3), |r| r.id < 3),
        [1, 2]
    );
    assert_eq!(
        check_filter(&s, rows, Student::id.le(3), |r| r.id <= 3),
        [1, 2, 3]
    );
    assert_eq!(
        check_filter(&s, rows, Student::id.gt(7), |r| r.id > 7),
        [8, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::id.ge(7), |r| r.id >= 7),
        [7, 8, 9]
    );
    // Non-unique integer index.
    assert_eq!(
        check_filter(&s, rows, Student::year.lt(2), |r| r.year < 2),
        [2, 5, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::year.le(2), |r| r.year <= 2),
        [1, 2, 4, 5, 8, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::year.gt(2), |r| r.year > 2),
        [3, 6, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::year.ge(3), |r| r.year >= 3),
        [3, 6, 7]
    );
    // Float index, across zero and negatives.
    assert_eq!(
        check_filter(&s, rows, Student::gpa.gt(3.0), |r| r.gpa > 3.0),
        [1, 2, 3, 5, 8]
    );
    assert_eq!(
        check_filter(&s, rows, Student::gpa.ge(3.5), |r| r.gpa >= 3.5),
        [1, 3, 5, 8]
    );
    assert_eq!(
        check_filter(&s, rows, Student::gpa.lt(0.0), |r| r.gpa < 0.0),
        [6]
    );
    assert_eq!(
        check_filter(&s, rows, Student::gpa.le(0.0), |r| r.gpa <= 0.0),
        [6, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::gpa.lt(-10.0), |r| r.gpa < -10.0),
        Vec::<i64>::new()
    );
    assert_eq!(
        check_filter(&s, rows, Student::gpa.gt(f64::NEG_INFINITY), |_| true).len(),
        9
    );
    // Unique text index.
    assert_eq!(
        check_filter(&s, rows, Student::name.lt("b"), |r| r.name.as_str() < "b"),
        [1, 2, 3]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.le("bea"), |r| r.name.as_str()
            <= "bea"),
        [1, 2, 3, 4]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.gt("ada"), |r| r.name.as_str()
            > "ada"),
        [2, 3, 4, 5, 6, 7, 8, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.ge("dee"), |r| r.name.as_str()
            >= "dee"),
        [7, 8, 9]
    );
    // Nullable indexed: nulls never compare.
    assert_eq!(
        check_filter(&s, rows, Student::rank.lt(4), |r| r
            .rank
            .is_some_and(|x| x < 4)),
        [1, 6]
    );
    assert_eq!(
        check_filter(&s, rows, Student::rank.le(4), |r| r
            .rank
            .is_some_and(|x| x <= 4)),
        [1, 2, 6, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::rank.gt(4), |r| r
            .rank
            .is_some_and(|x| x > 4)),
        [4, 8]
    );
    assert_eq!(
        check_filter(&s, rows, Student::rank.ge(i64::MIN), |r| r.rank.is_some()),
        [1, 2, 4, 6, 7, 8]
    );
    // Nullable, not indexed.
    assert_eq!(
        check_filter(&s, rows, Student::nickname.lt("D"), |r| {
            r.nickname.as_deref().is_some_and(|x| x < "D")
        }),
        [1, 4, 6]
    );
    assert_eq!(
        check_filter(&s, rows, Student::nickname.ge("D"), |r| {
            r.nickname.as_deref().is_some_and(|x| x >= "D")
        }),
        [3, 7, 9]
    );
    // Bool and bytes.
    assert_eq!(
        check_filter(&s, rows, Student::active.gt(false), |r| r.active),
        [1, 3, 5, 7, 8]
    );
    assert_eq!(
        check_filter(&s, rows, Student::photo.lt(vec![1u8]), |r| r.photo
            < vec![1u8]),
        [2, 3, 5, 7, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::photo.ge(vec![5u8]), |r| r.photo
            >= vec![5u8]),
        [4, 6, 8]
    );
    // Extremes of the integer range.
    assert!(check_filter(&s, rows, Student::id.gt(i64::MAX), |_| false).is_empty());
    assert_eq!(
        check_filter(&s, rows, Student::id.le(i64::MAX), |_| true).len(),
        9
    );
    assert!(check_filter(&s, rows, Student::year.lt(i64::MIN), |_| false).is_empty());
    assert_eq!(
        check_filter(&s, rows, Student::year.ge(i64::MIN), |_| true).len(),
        9
    );
}

#[test]
fn between_is_inclusive_at_both_ends() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    assert_eq!(
        check_filter(&s, rows, Student::id.between(3, 5), |r| (3..=5)
            .contains(&r.id)),
        [3, 4, 5]
    );
    assert_eq!(
        check_filter(&s, rows, Student::year.between(2, 3), |r| {
            (2..=3).contains(&r.year)
        }),
        [1, 3, 4, 6, 8]
    );
    assert_eq!(
        check_filter(&s, rows, Student::gpa.between(0.0, 3.5), |r| {
            (0.0..=3.5).contains(&r.gpa)
        }),
        [2, 4, 5, 7, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.between("adam", "bea"), |r| {
            ("adam"..="bea").contains(&r.name.as_str())
        }),
        [2, 3, 4]
    );
    assert_eq!(
        check_filter(&s, rows, Student::rank.between(2, 7), |r| {
            r.rank.is_some_and(|x| (2..=7).contains(&x))
        }),
        [2, 4, 6, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::nickname.between("B", "Cz"), |r| {
            r.nickname
                .as_deref()
                .is_some_and(|x| ("B"..="Cz").contains(&x))
        }),
        [1, 4, 6]
    );
    // A single point.
    assert_eq!(
        check_filter(&s, rows, Student::gpa.between(4.0, 4.0), |r| r.gpa == 4.0),
        [8]
    );
}

#[test]
fn empty_and_inverted_ranges_match_nothing() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    // Upper bound below the lower one, on the key, an index, and text.
    let inverted: Vec<Expr<Student>> = vec![
        Student::id.between(5, 2),
        Student::id.gt(5).and(Student::id.lt(3)),
        Student::id.gt(3).and(Student::id.lt(3)),
        Student::id.gt(3).and(Student::id.le(3)),
        Student::id.ge(4).and(Student::id.lt(4)),
        Student::year.between(3, 1),
        Student::year.gt(2).and(Student::year.lt(2)),
        Student::gpa.between(3.0, 1.0),
        Student::gpa.gt(3.9).and(Student::gpa.lt(3.9)),
        Student::name.between("zz", "a"),
        Student::name.gt("bob").and(Student::name.lt("bob")),
        Student::rank.gt(7).and(Student::rank.le(2)),
        Student::badge.gt("z").and(Student::badge.lt("a")),
    ];
    for e in inverted {
        let got = check_filter(&s, rows, e.clone(), |_| false);
        assert!(got.is_empty(), "{e:?} matched {got:?}");
        let desc = s
            .query::<Student>()
            .filter(e.clone())
            .order_by(Student::id.desc())
            .all()
            .unwrap();
        assert!(desc.is_empty(), "{e:?} backwards");
    }
    let c = s
        .query::<Country>()
        .filter(Country::code.gt("US").and(Country::code.lt("DE")))
        .all()
        .unwrap();
    assert!(c.is_empty());
}

#[test]
fn in_list() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    assert_eq!(
        check_filter(&s, rows, Student::id.in_([5, 1, 3, 99]), |r| {
            [5, 1, 3, 99].contains(&r.id)
        }),
        [1, 3, 5]
    );
    // Repeated values do not repeat rows.
    assert_eq!(
        check_filter(&s, rows, Student::id.in_([2, 2, 2]), |r| r.id == 2),
        [2]
    );
    assert_eq!(
        check_filter(&s, rows, Student::year.in_([4, 1, 4]), |r| {
            [1, 4].contains(&r.year)
        }),
        [2, 5, 7, 9]
    );
    assert_eq!(
        check_filter(
            &s,
            rows,
            Student::name.in_(["zoe", "ada", "nobody", "ada"]),
            |r| { ["zoe", "ada"].contains(&r.name.as_str()) }
        ),
        [1, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::gpa.in_([3.9, 0.0, 2.0]), |r| {
            [3.9, 0.0].contains(&r.gpa)
        }),
        [1, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::rank.in_([4, 7]), |r| {
            r.rank.is_some_and(|x| [4, 7].contains(&x))
        }),
        [2, 4, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::nickname.in_(["Zed", "Bee"]), |r| {
            r.nickname
                .as_deref()
                .is_some_and(|x| ["Zed", "Bee"].contains(&x))
        }),
        [4, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::badge.in_(["tin", "gold", "lead"]), |r| {
            r.badge
                .as_deref()
                .is_some_and(|x| ["tin", "gold"].contains(&x))
        }),
        [1, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::active.in_([true]), |r| r.active),
        [1, 3, 5, 7, 8]
    );
}

#[test]
fn in_empty_list_matches_nothing() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    let empty: Vec<Expr<Student>> = vec![
        Student::id.in_(Vec::<i64>::new()),
        Student::name.in_(Vec::<&str>::new()),
        Student::year.in_(Vec::<i64>::new()),
        Student::gpa.in_(Vec::<f64>::new()),
        Student::rank.in_(Vec::<i64>::new()),
        Student::nickname.in_(Vec::<&str>::new()),
        Student::badge.in_(Vec::<&str>::new()),
        Student::active.in_(Vec::<bool>::new()),
    ];
    for e in empty {
        assert!(
            check_filter(&s, rows, e.clone(), |_| false).is_empty(),
            "{e:?}"
        );
        assert!(s.query::<Student>().filter(e).first().unwrap().is_none());
    }
    // Its negation is true on every row, except on a null (unknown).
    assert_eq!(
        check_filter(&s, rows, Student::id.in_(Vec::<i64>::new()).not(), |_| true).len(),
        9
    );
    assert_eq!(
        check_filter(
            &s,
            rows,
            Student::nickname.in_(Vec::<&str>::new()).not(),
            |r| { r.nickname.is_some() }
        ),
        [1, 3, 4, 6, 7, 9]
    );
}

#[test]
fn comparing_with_null_matches_nothing() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    // `= NULL` is unknown in SQL, even through an index that holds nulls.
    for e in [
        Student::rank.eq(None::<i64>),
        Student::rank.ne(None::<i64>),
        Student::rank.lt(None::<i64>),
        Student::rank.ge(None::<i64>),
        Student::rank.in_([None::<i64>]),
        Student::nickname.eq(None::<String>),
        Student::badge.eq(None::<String>),
        Student::badge.in_([None::<String>]),
    ] {
        assert!(
            check_filter(&s, rows, e.clone(), |_| false).is_empty(),
            "{e:?}"
        );
    }
    // A null in a list is skipped, the other values still match.
    assert_eq!(
        check_filter(&s, rows, Student::rank.in_([None, Some(9)]), |r| r.rank
            == Some(9)),
        [8]
    );
}

#[test]
fn is_null_and_is_not_null() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    assert_eq!(
        check_filter(&s, rows, Student::nickname.is_null(), |r| r
            .nickname
            .is_none()),
        [2, 5, 8]
    );
    assert_eq!(
        check_filter(&s, rows, Student::nickname.is_not_null(), |r| {
            r.nickname.is_some()
        }),
        [1, 3, 4, 6, 7, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::rank.is_null(), |r| r.rank.is_none()),
        [3, 5, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::rank.is_not_null(), |r| r.rank.is_some()),
        [1, 2, 4, 6, 7, 8]
    );
    // The unique index leaves nulls out; the filter still finds them.
    assert_eq!(
        check_filter(&s, rows, Student::badge.is_null(), |r| r.badge.is_none()),
        [2, 4, 6, 8]
    );
    assert_eq!(
        check_filter(&s, rows, Student::badge.is_not_null(), |r| r
            .badge
            .is_some()),
        [1, 3, 5, 7, 9]
    );
    // Columns that cannot be null.
    assert!(check_filter(&s, rows, Student::year.is_null(), |_| false).is_empty());
    assert_eq!(
        check_filter(&s, rows, Student::name.is_not_null(), |_| true).len(),
        9
    );
}

#[test]
fn text_starts_with_ends_with_contains() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    // On the unique indexed `String` column.
    assert_eq!(
        check_filter(&s, rows, Student::name.starts_with("a"), |r| {
            r.name.starts_with('a')
        }),
        [1, 2, 3]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.starts_with("ada"), |r| {
            r.name.starts_with("ada")
        }),
        [1, 2]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.starts_with("adam"), |r| {
            r.name.starts_with("adam")
        }),
        [2]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.starts_with("z"), |r| {
            r.name.starts_with('z')
        }),
        [9]
    );
    assert!(check_filter(&s, rows, Student::name.starts_with("x"), |_| false).is_empty());
    assert!(check_filter(&s, rows, Student::name.starts_with("A"), |_| false).is_empty());
    assert_eq!(
        check_filter(&s, rows, Student::name.starts_with(""), |_| true).len(),
        9
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.ends_with("e"), |r| r
            .name
            .ends_with('e')),
        [7, 8, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.ends_with("am"), |r| {
            r.name.ends_with("am")
        }),
        [2]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.contains("o"), |r| r
            .name
            .contains('o')),
        [5, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::name.contains("da"), |r| {
            r.name.contains("da")
        }),
        [1, 2]
    );
    // On the nullable `Option<String>` column: nulls never match.
    assert_eq!(
        check_filter(&s, rows, Student::nickname.starts_with("C"), |r| {
            r.nickname.as_deref().is_some_and(|x| x.starts_with('C'))
        }),
        [1, 6]
    );
    assert_eq!(
        check_filter(&s, rows, Student::nickname.ends_with("e"), |r| {
            r.nickname.as_deref().is_some_and(|x| x.ends_with('e'))
        }),
        [4, 6, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::nickname.contains("e"), |r| {
            r.nickname.as_deref().is_some_and(|x| x.contains('e'))
        }),
        [1, 4, 6, 7, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::nickname.contains(""), |r| r
            .nickname
            .is_some()),
        [1, 3, 4, 6, 7, 9]
    );
    // On the unique nullable column.
    assert_eq!(
        check_filter(&s, rows, Student::badge.starts_with("b"), |r| {
            r.badge.as_deref().is_some_and(|x| x.starts_with('b'))
        }),
        [5]
    );
    assert_eq!(
        check_filter(&s, rows, Student::badge.contains("i"), |r| {
            r.badge.as_deref().is_some_and(|x| x.contains('i'))
        }),
        [3, 7, 9]
    );
}

#[test]
fn and_or_not() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    assert_eq!(
        check_filter(
            &s,
            rows,
            Student::year.eq(2).and(Student::gpa.gt(3.0)),
            |r| r.year == 2 && r.gpa > 3.0
        ),
        [1, 8]
    );
    assert_eq!(
        check_filter(
            &s,
            rows,
            Student::year.eq(4).or(Student::name.starts_with("b")),
            |r| r.year == 4 || r.name.starts_with('b')
        ),
        [4, 5, 7]
    );
    assert_eq!(
        check_filter(&s, rows, Student::year.eq(2).not(), |r| r.year != 2),
        [2, 3, 5, 6, 7, 9]
    );
    assert_eq!(
        check_filter(&s, rows, Student::active.eq(true).not().not(), |r| r.active),
        [1, 3, 5, 7, 8]
    );
    // Nested: (year = 1 or year = 3) and not (gpa < 2).
    assert_eq!(
        check_filter(
            &s,
            rows,
            Student::year
                .eq(1)
                .or(Student::year.eq(3))
                .and(Student::gpa.lt(2.0).not()),
            |r| (r.year == 1 || r.year == 3) && r.gpa >= 2.0
        ),
        [2, 3, 5]
    );
    // An index-usable conjunct with a non-usable one.
    assert_eq!(
        check_filter(
            &s,
            rows,
            Student::name.starts_with("a").and(Student::active.eq(true)),
            |r| r.name.starts_with('a') && r.active
        ),
        [1, 3]
    );
    // De Morgan holds on non-null columns.
    let a = check_filter(
        &s,
        rows,
        Student::year.eq(1).or(Student::active.eq(true)).not(),
        |r| !(r.year == 1 || r.active),
    );
    let b = check_filter(
        &s,
        rows,
        Student::year.ne(1).and(Student::active.eq(false)),
        |r| r.year != 1 && !r.active,
    );
    assert_eq!(a, b);
    assert_eq!(a, [4, 6]);
}

#[test]
fn chained_filters_are_anded() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let q = s
        .query::<Student>()
        .filter(Student::year.le(2))
        .filter(Student::active.eq(true))
        .filter(Student::gpa.gt(3.6));
    let want = hand(&fx.students, |r| r.year <= 2 && r.active && r.gpa > 3.6);
    assert_eq!(ids(&want), [1, 8]);
    assert_eq!(by_id(q.all().unwrap()), want);
    assert_eq!(q.count().unwrap(), 2);
    // A key lookup narrowed further by a later filter that rules it out.
    let q = s
        .query::<Student>()
        .filter(Student::id.eq(1))
        .filter(Student::active.eq(false));
    assert!(q.all().unwrap().is_empty());
    assert!(q.first().unwrap().is_none());
}

#[test]
fn three_valued_logic_with_nulls() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    // SQL logic by hand: None is unknown.
    let cmp = |x: Option<i64>, f: fn(i64) -> bool| x.map(f);
    let not3 = |a: Option<bool>| a.map(|b| !b);
    let and3 = |a: Option<bool>, b: Option<bool>| match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    };
    let or3 = |a: Option<bool>, b: Option<bool>| match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    };
    // not(eq) on a null row is false: the row is in neither result.
    let eq4 = check_filter(&s, rows, Student::rank.eq(4), |r| r.rank == Some(4));
    let not_eq4 = check_filter(&s, rows, Student::rank.eq(4).not(), |r| {
        not3(cmp(r.rank, |x| x == 4)) == Some(true)
    });
    assert_eq!(eq4, [2, 7]);
    assert_eq!(not_eq4, [1, 4, 6, 8]);
    for null_row in [3, 5, 9] {
        assert!(!eq4.contains(&null_row) && !not_eq4.contains(&null_row));
    }
    // Text tests on a null nickname are unknown, and so is their negation.
    assert_eq!(
        check_filter(&s, rows, Student::nickname.contains("e").not(), |r| {
            r.nickname.as_deref().is_some_and(|x| !x.contains('e'))
        }),
        [3]
    );
    assert_eq!(
        check_filter(&s, rows, Student::nickname.eq("Zed").not(), |r| {
            r.nickname.as_deref().is_some_and(|x| x != "Zed")
        }),
        [1, 3, 4, 6, 7]
    );
    // unknown OR true is true.
    assert_eq!(
        check_filter(
            &s,
            rows,
            Student::rank.gt(100).or(Student::active.eq(true)),
            |r| or3(cmp(r.rank, |x| x > 100), Some(r.active)) == Some(true)
        ),
        [1, 3, 5, 7, 8]
    );
    // NOT (unknown OR false) is unknown: row 9 (null rank, inactive) is out.
    assert_eq!(
        check_filter(
            &s,
            rows,
            Student::rank.gt(100).or(Student::active.eq(true)).not(),
            |r| not3(or3(cmp(r.rank, |x| x > 100), Some(r.active))) == Some(true)
        ),
        [2, 4, 6]
    );
    // NOT (unknown AND false) is true: row 9 is in; rows 3 and 5
    // (unknown AND true) are out.
    assert_eq!(
        check_filter(
            &s,
            rows,
            Student::rank.lt(5).and(Student::active.eq(true)).not(),
            |r| not3(and3(cmp(r.rank, |x| x < 5), Some(r.active))) == Some(true)
        ),
        [2, 4, 6, 8, 9]
    );
    // x = v OR NOT x = v is not every row when x can be null.
    assert_eq!(
        check_filter(
            &s,
            rows,
            Student::rank.eq(4).or(Student::rank.eq(4).not()),
            |r| r.rank.is_some()
        ),
        [1, 2, 4, 6, 7, 8]
    );
    // is_null is never unknown, so its negation is exact.
    assert_eq!(
        check_filter(&s, rows, Student::rank.is_null().not(), |r| r
            .rank
            .is_some()),
        [1, 2, 4, 6, 7, 8]
    );
}

// ---- ordering ----

#[test]
fn order_by_one_column_asc_and_desc() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;

    let got = s.query::<Student>().order_by(Student::gpa).all().unwrap();
    let want = sorted(rows, |a, b| a.gpa.total_cmp(&b.gpa));
    assert_eq!(got, want);
    assert_eq!(ids(&got), [6, 7, 9, 4, 2, 5, 3, 1, 8]);
    let got = s
        .query::<Student>()
        .order_by(Student::gpa.asc())
        .all()
        .unwrap();
    assert_eq!(got, want);

    let got = s
        .query::<Student>()
        .order_by(Student::gpa.desc())
        .all()
        .unwrap();
    let want = sorted(rows, |a, b| b.gpa.total_cmp(&a.gpa));
    assert_eq!(got, want);
    assert_eq!(ids(&got), [8, 1, 3, 5, 2, 4, 9, 7, 6]);

    let got = s
        .query::<Student>()
        .order_by(Student::name.desc())
        .all()
        .unwrap();
    assert_eq!(got, sorted(rows, |a, b| b.name.cmp(&a.name)));
    let got = s.query::<Student>().order_by(Student::name).all().unwrap();
    assert_eq!(got, sorted(rows, |a, b| a.name.cmp(&b.name)));

    let got = s
        .query::<Student>()
        .order_by(Student::id.desc())
        .all()
        .unwrap();
    assert_eq!(ids(&got), [9, 8, 7, 6, 5, 4, 3, 2, 1]);
    let got = s.query::<Student>().order_by(Student::id).all().unwrap();
    assert_eq!(&got, rows);

    // Ties on `year` may come in any order; the years may not.
    let got = s.query::<Student>().order_by(Student::year).all().unwrap();
    assert_order_of(&got, &sorted(rows, |a, b| a.year.cmp(&b.year)), |r| r.year);
    let got = s
        .query::<Student>()
        .order_by(Student::year.desc())
        .all()
        .unwrap();
    assert_order_of(&got, &sorted(rows, |a, b| b.year.cmp(&a.year)), |r| r.year);

    // Unindexed columns: a sort.
    let got = s
        .query::<Student>()
        .order_by(Student::active)
        .all()
        .unwrap();
    assert_order_of(&got, &sorted(rows, |a, b| a.active.cmp(&b.active)), |r| {
        r.active
    });
    let got = s
        .query::<Student>()
        .order_by(Student::photo.desc())
        .all()
        .unwrap();
    assert_order_of(&got, &sorted(rows, |a, b| b.photo.cmp(&a.photo)), |r| {
        r.photo.clone()
    });

    // Country: key order by text, both ways.
    let got = s
        .query::<Country>()
        .order_by(Country::code.desc())
        .all()
        .unwrap();
    let mut want = fx.countries.clone();
    want.reverse();
    assert_eq!(got, want);
    let got = s
        .query::<Country>()
        .order_by(Country::population)
        .all()
        .unwrap();
    let mut want = fx.countries.clone();
    want.sort_by_key(|c| c.population);
    assert_eq!(got, want);
}

#[test]
fn order_by_several_columns_breaks_ties() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;

    let got = s
        .query::<Student>()
        .order_by(Student::year)
        .order_by(Student::name.desc())
        .all()
        .unwrap();
    let want = sorted(rows, |a, b| a.year.cmp(&b.year).then(b.name.cmp(&a.name)));
    assert_eq!(got, want);
    assert_eq!(ids(&got), [9, 5, 2, 8, 4, 1, 6, 3, 7]);

    let got = s
        .query::<Student>()
        .order_by(Student::year.desc())
        .order_by(Student::gpa)
        .all()
        .unwrap();
    let want = sorted(rows, |a, b| {
        b.year.cmp(&a.year).then(a.gpa.total_cmp(&b.gpa))
    });
    assert_eq!(got, want);
    assert_eq!(ids(&got), [7, 6, 3, 4, 1, 8, 9, 2, 5]);

    // The second column only matters on ties of the first.
    let got = s
        .query::<Student>()
        .order_by(Student::active)
        .order_by(Student::rank.desc())
        .order_by(Student::id.desc())
        .all()
        .unwrap();
    let want = sorted(rows, |a, b| {
        a.active
            .cmp(&b.active)
            .then(b.rank.cmp(&a.rank))
            .then(b.id.cmp(&a.id))
    });
    assert_eq!(got, want);
    assert_eq!(ids(&got), [4, 2, 6, 9, 8, 7, 1, 5, 3]);

    // With a filter, limit and offset on top.
    let got = s
        .query::<Student>()
        .filter(Student::year.ne(4))
        .order_by(Student::year)
        .order_by(Student::gpa.desc())
        .offset(1)
        .limit(4)
        .all()
        .unwrap();
    let want: Vec<Student> = sorted(&hand(rows, |r| r.year != 4), |a, b| {
        a.year.cmp(&b.year).then(b.gpa.total_cmp(&a.gpa))
    })
    .into_iter()
    .skip(1)
    .take(4)
    .collect();
    assert_eq!(got, want);
    assert_eq!(ids(&got), [2, 9, 8, 1]);
}

#[test]
fn order_by_nullable_columns_puts_nulls_first_ascending() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;

    // Unindexed nullable: a sort. Option's order is nulls first.
    let got = s
        .query::<Student>()
        .order_by(Student::nickname)
        .all()
        .unwrap();
    let want = sorted(rows, |a, b| a.nickname.cmp(&b.nickname));
    assert_order_of(&got, &want, |r| r.nickname.clone());
    assert!(got[..3].iter().all(|r| r.nickname.is_none()));
    assert_eq!(got[3].nickname.as_deref(), Some("Bee"));
    let got = s
        .query::<Student>()
        .order_by(Student::nickname.desc())
        .all()
        .unwrap();
    let want = sorted(rows, |a, b| b.nickname.cmp(&a.nickname));
    assert_order_of(&got, &want, |r| r.nickname.clone());
    assert!(got[6..].iter().all(|r| r.nickname.is_none()));

    // Indexed nullable: nulls are in the index, first.
    let got = s.query::<Student>().order_by(Student::rank).all().unwrap();
    let want = sorted(rows, |a, b| a.rank.cmp(&b.rank));
    assert_order_of(&got, &want, |r| r.rank);
    assert_eq!(
        got.iter().map(|r| r.rank).collect::<Vec<_>>(),
        [
            None,
            None,
            None,
            Some(1),
            Some(2),
            Some(4),
            Some(4),
            Some(7),
            Some(9)
        ]
    );
    let got = s
        .query::<Student>()
        .order_by(Student::rank.desc())
        .all()
        .unwrap();
    let want = sorted(rows, |a, b| b.rank.cmp(&a.rank));
    assert_order_of(&got, &want, |r| r.rank);
    assert!(got[6..].iter().all(|r| r.rank.is_none()));

    // Unique nullable: nulls are not in the index, yet come first.
    let got = s.query::<Student>().order_by(Student::badge).all().unwrap();
    let want = sorted(rows, |a, b| a.badge.cmp(&b.badge));
    assert_order_of(&got, &want, |r| r.badge.clone());
    assert_eq!(got.len(), 9, "rows with a null badge are not dropped");
    assert_eq!(
        got[4..]
            .iter()
            .map(|r| r.badge.as_deref())
            .collect::<Vec<_>>(),
        [
            Some("bronze"),
            Some("gold"),
            Some("iron"),
            Some("silver"),
            Some("tin")
        ]
    );
    let got = s
        .query::<Student>()
        .order_by(Student::badge.desc())
        .all()
        .unwrap();
    let want = sorted(rows, |a, b| b.badge.cmp(&a.badge));
    assert_order_of(&got, &want, |r| r.badge.clone());

    // Nulls first, ties broken by a second column.
    let got = s
        .query::<Student>()
        .order_by(Student::rank)
        .order_by(Student::name.desc())
        .all()
        .unwrap();
    let want = sorted(rows, |a, b| a.rank.cmp(&b.rank).then(b.name.cmp(&a.name)));
    assert_eq!(got, want);
    assert_eq!(ids(&got), [9, 5, 3, 1, 6, 7, 2, 4, 8]);
}

#[test]
fn order_by_with_each_access_path() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    // Key range, sorted by another column.
    let got = s
        .query::<Student>()
        .filter(Student::id.between(2, 8))
        .order_by(Student::gpa.desc())
        .all()
        .unwrap();
    let want = sorted(&hand(rows, |r| (2..=8).contains(&r.id)), |a, b| {
        b.gpa.total_cmp(&a.gpa)
    });
    assert_eq!(got, want);
    // Index lookup, sorted.
    let got = s
        .query::<Student>()
        .filter(Student::year.in_([1, 2]))
        .order_by(Student::gpa)
        .all()
        .unwrap();
    let want = sorted(&hand(rows, |r| r.year <= 2), |a, b| a.gpa.total_cmp(&b.gpa));
    assert_eq!(got, want);
    // Index range on one column, sorted by another.
    let got = s
        .query::<Student>()
        .filter(Student::gpa.ge(1.0))
        .order_by(Student::name.desc())
        .all()
        .unwrap();
    let want = sorted(&hand(rows, |r| r.gpa >= 1.0), |a, b| b.name.cmp(&a.name));
    assert_eq!(got, want);
    // Key lookup of several keys, sorted descending.
    let got = s
        .query::<Student>()
        .filter(Student::id.in_([2, 9, 4]))
        .order_by(Student::id.desc())
        .all()
        .unwrap();
    assert_eq!(ids(&got), [9, 4, 2]);
    // Whole index in order, filtered by another column.
    let got = s
        .query::<Student>()
        .filter(Student::active.eq(true))
        .order_by(Student::gpa.desc())
        .all()
        .unwrap();
    let want = sorted(&hand(rows, |r| r.active), |a, b| b.gpa.total_cmp(&a.gpa));
    assert_eq!(got, want);
    assert_eq!(ids(&got), [8, 1, 3, 5, 7]);
}

// ---- limit, offset, and the terminal operations ----

#[test]
fn limit() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    // No order: the whole table in key order.
    assert_eq!(
        ids(&s.query::<Student>().limit(3).all().unwrap()),
        [1, 2, 3]
    );
    assert!(s.query::<Student>().limit(0).all().unwrap().is_empty());
    assert_eq!(s.query::<Student>().limit(100).all().unwrap(), *rows);
    // Streamed in index order: the limit stops the scan early.
    let got = s
        .query::<Student>()
        .order_by(Student::gpa)
        .limit(3)
        .all()
        .unwrap();
    let want: Vec<Student> = sorted(rows, |a, b| a.gpa.total_cmp(&b.gpa))
        .into_iter()
        .take(3)
        .collect();
    assert_eq!(got, want);
    assert_eq!(ids(&got), [6, 7, 9]);
    // Backwards.
    let got = s
        .query::<Student>()
        .order_by(Student::gpa.desc())
        .limit(2)
        .all()
        .unwrap();
    assert_eq!(ids(&got), [8, 1]);
    // Sorted in memory: the limit applies after the sort.
    let got = s
        .query::<Student>()
        .order_by(Student::nickname.desc())
        .limit(2)
        .all()
        .unwrap();
    assert_eq!(ids(&got), [9, 3]);
    // With a filter that rejects some of the rows read.
    let got = s
        .query::<Student>()
        .filter(Student::active.eq(false))
        .order_by(Student::gpa.desc())
        .limit(2)
        .all()
        .unwrap();
    let want: Vec<Student> = sorted(&hand(rows, |r| !r.active), |a, b| b.gpa.total_cmp(&a.gpa))
        .into_iter()
        .take(2)
        .collect();
    assert_eq!(got, want);
    assert_eq!(ids(&got), [2, 4]);
    // Later limit replaces the earlier one.
    assert_eq!(
        s.query::<Student>().limit(1).limit(4).all().unwrap().len(),
        4
    );
}

#[test]
fn offset() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    assert_eq!(
        ids(&s.query::<Student>().offset(6).all().unwrap()),
        [7, 8, 9]
    );
    assert_eq!(s.query::<Student>().offset(0).all().unwrap(), *rows);
    assert!(s.query::<Student>().offset(9).all().unwrap().is_empty());
    assert!(s.query::<Student>().offset(100).all().unwrap().is_empty());
    let got = s
        .query::<Student>()
        .order_by(Student::name.desc())
        .offset(5)
        .all()
        .unwrap();
    let want: Vec<Student> = sorted(rows, |a, b| b.name.cmp(&a.name))
        .into_iter()
        .skip(5)
        .collect();
    assert_eq!(got, want);
    assert_eq!(ids(&got), [4, 3, 2, 1]);
    let got = s
        .query::<Student>()
        .filter(Student::year.eq(2))
        .order_by(Student::gpa)
        .offset(1)
        .all()
        .unwrap();
    assert_eq!(ids(&got), [1, 8]);
}

#[test]
fn limit_and_offset() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    let page = |off: usize, lim: usize| {
        s.query::<Student>()
            .order_by(Student::gpa.desc())
            .offset(off)
            .limit(lim)
            .all()
            .unwrap()
    };
    let all = sorted(rows, |a, b| b.gpa.total_cmp(&a.gpa));
    // Pages of 4 cover every row once, in order.
    let mut paged = Vec::new();
    for p in 0..3 {
        let got = page(p * 4, 4);
        let want: Vec<Student> = all.iter().skip(p * 4).take(4).cloned().collect();
        assert_eq!(got, want, "page {p}");
        paged.extend(got);
    }
    assert_eq!(paged, all);
    assert_eq!(ids(&page(2, 3)), [3, 5, 2]);
    assert!(page(3, 0).is_empty());
    // No order (key order), and the order of the calls does not matter.
    let a = s.query::<Student>().offset(2).limit(3).all().unwrap();
    let b = s.query::<Student>().limit(3).offset(2).all().unwrap();
    assert_eq!(ids(&a), [3, 4, 5]);
    assert_eq!(a, b);
    // Through a key range.
    let got = s
        .query::<Student>()
        .filter(Student::id.ge(4))
        .offset(1)
        .limit(2)
        .all()
        .unwrap();
    assert_eq!(ids(&got), [5, 6]);
    // Through an index range, backwards.
    let got = s
        .query::<Student>()
        .filter(Student::name.lt("eve"))
        .order_by(Student::name.desc())
        .offset(1)
        .limit(3)
        .all()
        .unwrap();
    let want: Vec<Student> = sorted(&hand(rows, |r| r.name.as_str() < "eve"), |a, b| {
        b.name.cmp(&a.name)
    })
    .into_iter()
    .skip(1)
    .take(3)
    .collect();
    assert_eq!(got, want);
    assert_eq!(ids(&got), [6, 5, 4]);
}

#[test]
fn first_on_empty_and_non_empty_results() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().first().unwrap().map(|r| r.id), Some(1));
    assert!(
        s.query::<Student>()
            .filter(Student::name.eq("nobody"))
            .first()
            .unwrap()
            .is_none()
    );
    assert!(
        s.query::<Student>()
            .filter(Student::gpa.gt(100.0))
            .first()
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.query::<Student>()
            .filter(Student::name.eq("eve"))
            .first()
            .unwrap(),
        Some(fx.students[7].clone())
    );
    assert_eq!(
        s.query::<Student>()
            .order_by(Student::gpa.desc())
            .first()
            .unwrap()
            .map(|r| r.name),
        Some("eve".to_string())
    );
    assert_eq!(
        s.query::<Student>()
            .order_by(Student::nickname)
            .order_by(Student::id.desc())
            .first()
            .unwrap()
            .map(|r| r.id),
        Some(8)
    );
    assert_eq!(
        s.query::<Student>()
            .filter(Student::year.eq(1))
            .order_by(Student::gpa)
            .offset(1)
            .first()
            .unwrap()
            .map(|r| r.id),
        Some(2)
    );
    assert!(s.query::<Student>().offset(9).first().unwrap().is_none());
    assert!(s.query::<Student>().limit(0).first().unwrap().is_none());
}

#[test]
fn one_needs_exactly_one_row() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let got = s
        .query::<Student>()
        .filter(Student::name.eq("bea"))
        .one()
        .unwrap();
    assert_eq!(got, fx.students[3]);
    let got = s
        .query::<Student>()
        .filter(Student::id.eq(6))
        .one()
        .unwrap();
    assert_eq!(got.name, "cyd");
    let got = s
        .query::<Student>()
        .filter(Student::year.eq(4))
        .one()
        .unwrap();
    assert_eq!(got.id, 7);

    let none = s
        .query::<Student>()
        .filter(Student::name.eq("nobody"))
        .one();
    assert!(
        matches!(
            none,
            Err(Error::NotExactlyOne {
                model: "Student",
                found: 0
            })
        ),
        "{none:?}"
    );
    // Two matching rows, and three: `found` stops counting at 2.
    for e in [
        Student::year.eq(3),
        Student::year.eq(1),
        Student::gpa.gt(-5.0),
    ] {
        let several = s.query::<Student>().filter(e.clone()).one();
        assert!(
            matches!(
                several,
                Err(Error::NotExactlyOne {
                    model: "Student",
                    found: 2
                })
            ),
            "{e:?}: {several:?}"
        );
    }
    // A limit of one makes a single row of several.
    let got = s
        .query::<Student>()
        .filter(Student::year.eq(1))
        .order_by(Student::gpa)
        .limit(1)
        .one()
        .unwrap();
    assert_eq!(got.id, 9);
    // On an empty table.
    let dir = TempDir::new();
    let db = open(&dir);
    let s = db.read_session().unwrap();
    assert!(matches!(
        s.query::<Country>().one(),
        Err(Error::NotExactlyOne { found: 0, .. })
    ));
}

#[test]
fn all_and_count() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    assert_eq!(s.query::<Student>().all().unwrap(), *rows);
    assert_eq!(s.query::<Student>().count().unwrap(), 9);
    assert_eq!(s.query::<Country>().all().unwrap(), fx.countries);
    assert_eq!(s.query::<Country>().count().unwrap(), 7);
    let n = |e: Expr<Student>| s.query::<Student>().filter(e).count().unwrap();
    assert_eq!(n(Student::active.eq(true)), 5);
    assert_eq!(n(Student::gpa.lt(3.0)), 4);
    assert_eq!(n(Student::name.eq("nobody")), 0);
    assert_eq!(n(Student::rank.is_null()), 3);
    // count counts after offset and limit.
    assert_eq!(s.query::<Student>().limit(4).count().unwrap(), 4);
    assert_eq!(s.query::<Student>().limit(40).count().unwrap(), 9);
    assert_eq!(s.query::<Student>().offset(7).count().unwrap(), 2);
    assert_eq!(s.query::<Student>().offset(8).limit(5).count().unwrap(), 1);
    assert_eq!(
        s.query::<Student>()
            .filter(Student::active.eq(true))
            .limit(3)
            .count()
            .unwrap(),
        3
    );
    assert_eq!(
        s.query::<Student>()
            .filter(Student::year.eq(3))
            .limit(3)
            .count()
            .unwrap(),
        2
    );
    assert_eq!(
        s.query::<Student>()
            .filter(Student::active.eq(true))
            .order_by(Student::gpa)
            .offset(4)
            .limit(3)
            .count()
            .unwrap(),
        1
    );
}

#[test]
fn exists() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    assert!(s.query::<Student>().exists().unwrap());
    assert!(
        s.query::<Student>()
            .filter(Student::id.eq(9))
            .exists()
            .unwrap()
    );
    assert!(
        !s.query::<Student>()
            .filter(Student::id.eq(10))
            .exists()
            .unwrap()
    );
    assert!(
        s.query::<Student>()
            .filter(Student::name.eq("dee"))
            .exists()
            .unwrap()
    );
    assert!(
        !s.query::<Student>()
            .filter(Student::name.eq("Dee"))
            .exists()
            .unwrap()
    );
    assert!(
        s.query::<Student>()
            .filter(Student::rank.eq(9))
            .exists()
            .unwrap()
    );
    assert!(
        !s.query::<Student>()
            .filter(Student::rank.eq(8))
            .exists()
            .unwrap()
    );
    assert!(
        s.query::<Student>()
            .filter(Student::badge.is_null())
            .exists()
            .unwrap()
    );
    assert!(
        !s.query::<Student>()
            .filter(Student::gpa.gt(4.0))
            .exists()
            .unwrap()
    );
    assert!(
        s.query::<Student>()
            .filter(Student::gpa.ge(4.0))
            .exists()
            .unwrap()
    );
    assert!(!s.query::<Student>().offset(9).exists().unwrap());
    assert!(s.query::<Student>().offset(8).exists().unwrap());
    // An empty table.
    let dir = TempDir::new();
    let db = open(&dir);
    let s = db.read_session().unwrap();
    assert!(!s.query::<Student>().exists().unwrap());
    assert_eq!(s.query::<Student>().count().unwrap(), 0);
    assert!(s.query::<Student>().first().unwrap().is_none());
    assert!(s.query::<Student>().all().unwrap().is_empty());
    assert!(s.get::<Student>(1).unwrap().is_none());
}

#[test]
fn get_by_key() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    for r in &fx.students {
        assert_eq!(s.get::<Student>(r.id).unwrap().as_ref(), Some(r));
    }
    assert!(s.get::<Student>(0).unwrap().is_none());
    assert!(s.get::<Student>(10).unwrap().is_none());
    assert!(s.get::<Student>(-1).unwrap().is_none());
    assert!(s.get::<Student>(i64::MAX).unwrap().is_none());
    // A narrower integer type is widened.
    assert_eq!(
        s.get::<Student>(3i32).unwrap().map(|r| r.name),
        Some("alan".into())
    );
    assert_eq!(
        s.get::<Student>(3u8).unwrap().map(|r| r.name),
        Some("alan".into())
    );
}

#[test]
fn iter_streams_the_same_rows_as_all() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let queries = [
        s.query::<Student>(),
        s.query::<Student>().order_by(Student::id.desc()),
        s.query::<Student>().filter(Student::id.in_([3, 1, 8])),
        s.query::<Student>().filter(Student::name.eq("cyd")),
        s.query::<Student>().filter(Student::year.in_([3, 1])),
        s.query::<Student>()
            .filter(Student::gpa.gt(1.0))
            .order_by(Student::gpa.desc())
            .limit(3),
        s.query::<Student>().order_by(Student::rank).offset(2),
        s.query::<Student>()
            .filter(Student::nickname.is_not_null())
            .order_by(Student::nickname.desc())
            .limit(4),
        s.query::<Student>()
            .order_by(Student::year)
            .order_by(Student::name)
            .offset(1)
            .limit(5),
        s.query::<Student>().filter(Student::id.ge(20)),
    ];
    for q in &queries {
        let all = q.all().unwrap();
        let streamed: Vec<Student> = q.iter().unwrap().collect::<strata::Result<_>>().unwrap();
        assert_eq!(streamed, all, "plan {:?}", q.explain());
        // Taking a prefix of the stream gives a prefix of all.
        let two: Vec<Student> = q.iter().unwrap().take(2).map(Result::unwrap).collect();
        assert_eq!(two, all.iter().take(2).cloned().collect::<Vec<_>>());
    }
    // And `all` is what it should be for the limited index scan.
    let want: Vec<Student> = sorted(&hand(&fx.students, |r| r.gpa > 1.0), |a, b| {
        b.gpa.total_cmp(&a.gpa)
    })
    .into_iter()
    .take(3)
    .collect();
    assert_eq!(queries[5].all().unwrap(), want);
}

/// The access path narrows what is read: point reads read one row, and an
/// ordered stream stops at the limit (`OrmStats` counts scans and rows read
/// by key; the table scan decodes rows without reading them by key).
#[test]
fn plans_read_only_what_they_need() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    // Register the models first, so only the queries below are counted.
    s.query::<Student>().count().unwrap();
    let delta = |f: &dyn Fn()| {
        let before = fx.db.stats();
        f();
        let after = fx.db.stats();
        (after.scans - before.scans, after.row_gets - before.row_gets)
    };
    let (scans, gets) = delta(&|| {
        let got = s
            .query::<Student>()
            .filter(Student::id.eq(3))
            .all()
            .unwrap();
        assert_eq!(ids(&got), [3]);
    });
    assert_eq!((scans, gets), (0, 1), "key lookup");
    let (scans, gets) = delta(&|| {
        let got = s
            .query::<Student>()
            .filter(Student::id.in_([3, 5]))
            .all()
            .unwrap();
        assert_eq!(ids(&got), [3, 5]);
    });
    assert_eq!((scans, gets), (0, 2), "two key lookups");
    let (scans, gets) = delta(&|| {
        let got = s
            .query::<Student>()
            .filter(Student::name.eq("cyd"))
            .all()
            .unwrap();
        assert_eq!(ids(&got), [6]);
    });
    assert_eq!(scans, 0, "unique lookup");
    assert!((1..=2).contains(&gets), "unique lookup read {gets} rows");
    let (scans, gets) = delta(&|| {
        let got = s
            .query::<Student>()
            .filter(Student::year.eq(2))
            .all()
            .unwrap();
        assert_eq!(ids(&by_id(got)), [1, 4, 8]);
    });
    assert_eq!((scans, gets), (1, 3), "index lookup");
    let (scans, gets) = delta(&|| {
        let got = s
            .query::<Student>()
            .order_by(Student::gpa)
            .limit(3)
            .all()
            .unwrap();
        assert_eq!(ids(&got), [6, 7, 9]);
    });
    assert_eq!((scans, gets), (1, 3), "ordered index scan with limit 3");
    let (scans, gets) = delta(&|| {
        let got = s
            .query::<Student>()
            .order_by(Student::gpa.desc())
            .first()
            .unwrap();
        assert_eq!(got.map(|r| r.id), Some(8));
    });
    assert_eq!((scans, gets), (1, 1), "first of an ordered index scan");
    let (scans, gets) = delta(&|| {
        let got = s
            .query::<Student>()
            .filter(Student::active.eq(true))
            .order_by(Student::name)
            .limit(2)
            .all()
            .unwrap();
        assert_eq!(ids(&got), [1, 3]);
    });
    // ada (kept), adam (filtered out), alan (kept): then the limit.
    assert_eq!((scans, gets), (1, 3), "filtered ordered scan with limit 2");
}

// ---- QueryMut ----

#[test]
fn update_changes_rows_and_keeps_indexes() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let n = s
        .query_mut::<Student>()
        .filter(Student::year.eq(1))
        .update(|r| {
            r.year = 5;
            r.gpa += 10.0;
            r.name = format!("{}-x", r.name);
        })
        .unwrap();
    assert_eq!(n, 3);
    // Visible in the same session.
    assert_eq!(
        ids(&s
            .query::<Student>()
            .filter(Student::year.eq(5))
            .all()
            .unwrap()),
        [2, 5, 9]
    );
    s.commit().unwrap();

    let mut want = fx.students.clone();
    for r in want.iter_mut().filter(|r| r.year == 1) {
        r.year = 5;
        r.gpa += 10.0;
        r.name = format!("{}-x", r.name);
    }
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().all().unwrap(), want);
    // Each changed index finds the rows under the new values only.
    assert_eq!(
        check_filter(&s, &want, Student::year.eq(5), |r| r.year == 5),
        [2, 5, 9]
    );
    assert!(check_filter(&s, &want, Student::year.eq(1), |_| false).is_empty());
    assert_eq!(
        check_filter(&s, &want, Student::year.in_([5, 4]), |r| r.year >= 4),
        [2, 5, 7, 9]
    );
    assert_eq!(
        check_filter(&s, &want, Student::year.gt(4), |r| r.year > 4),
        [2, 5, 9]
    );
    assert_eq!(
        check_filter(&s, &want, Student::gpa.gt(10.0), |r| r.gpa > 10.0),
        [2, 5, 9]
    );
    assert_eq!(
        check_filter(&s, &want, Student::gpa.lt(3.3), |r| r.gpa < 3.3),
        [4, 6, 7]
    );
    assert_eq!(
        check_filter(&s, &want, Student::name.eq("bob-x"), |r| r.name == "bob-x"),
        [5]
    );
    assert!(check_filter(&s, &want, Student::name.eq("bob"), |_| false).is_empty());
    assert_eq!(
        check_filter(&s, &want, Student::name.starts_with("ada"), |r| {
            r.name.starts_with("ada")
        }),
        [1, 2]
    );
    // Ordering through the changed index.
    let got = s
        .query::<Student>()
        .order_by(Student::gpa.desc())
        .all()
        .unwrap();
    assert_eq!(got, sorted(&want, |a, b| b.gpa.total_cmp(&a.gpa)));
    assert_eq!(ids(&got[..3]), [5, 2, 9]);
    let got = s.query::<Student>().order_by(Student::year).all().unwrap();
    assert_order_of(&got, &sorted(&want, |a, b| a.year.cmp(&b.year)), |r| r.year);
    // The old unique value is free again.
    drop(s);
    let mut s = fx.db.session().unwrap();
    let mut again = student("bob", 1, 2.0, None, None, false, &[], None);
    s.add(&mut again).unwrap();
    assert_eq!(again.id, 10);
    s.commit().unwrap();
}

#[test]
fn update_to_a_taken_unique_value_fails() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let err = s
        .query_mut::<Student>()
        .filter(Student::name.eq("bob"))
        .update(|r| r.name = "ada".into());
    match err {
        Err(Error::UniqueViolation {
            model,
            column,
            value,
        }) => {
            assert_eq!(model, "Student");
            assert_eq!(column, "name");
            assert_eq!(value, Value::Text("ada".into()));
        }
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
    // The refused write changed nothing, and the session goes on.
    assert_eq!(s.get::<Student>(5).unwrap().unwrap().name, "bob");
    assert_eq!(
        s.query::<Student>()
            .filter(Student::name.eq("ada"))
            .one()
            .unwrap()
            .id,
        1
    );
    // The unique nullable column too; setting it to its own value is fine.
    let err = s
        .query_mut::<Student>()
        .filter(Student::id.eq(2))
        .update(|r| r.badge = Some("gold".into()));
    assert!(
        matches!(
            err,
            Err(Error::UniqueViolation {
                column: "badge",
                ..
            })
        ),
        "{err:?}"
    );
    let n = s
        .query_mut::<Student>()
        .filter(Student::id.eq(1))
        .update(|r| {
            r.badge = Some("gold".into());
            r.name = "ada".into();
        })
        .unwrap();
    assert_eq!(n, 1);
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().all().unwrap(), fx.students);
}

#[test]
fn update_nullable_columns_keeps_indexes() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    // rank 4 -> null; null rank -> 8.
    let n = s
        .query_mut::<Student>()
        .filter(Student::rank.eq(4))
        .update(|r| r.rank = None)
        .unwrap();
    assert_eq!(n, 2);
    let n = s
        .query_mut::<Student>()
        .filter(Student::rank.is_null().and(Student::id.ne(2)))
        .filter(Student::id.ne(7))
        .update(|r| r.rank = Some(8))
        .unwrap();
    assert_eq!(n, 3);
    // Free "gold", then give it to another row.
    let n = s
        .query_mut::<Student>()
        .filter(Student::badge.eq("gold"))
        .update(|r| r.badge = None)
        .unwrap();
    assert_eq!(n, 1);
    let n = s
        .query_mut::<Student>()
        .filter(Student::name.eq("eve"))
        .update(|r| {
            r.badge = Some("gold".into());
            r.nickname = Some("Evie".into());
        })
        .unwrap();
    assert_eq!(n, 1);
    s.commit().unwrap();

    let mut want = fx.students.clone();
    for r in &mut want {
        r.rank = match (r.id, r.rank) {
            (2 | 7, _) => None,
            (_, None) => Some(8),
            (_, x) => x,
        };
        if r.id == 1 {
            r.badge = None;
        }
        if r.id == 8 {
            r.badge = Some("gold".into());
            r.nickname = Some("Evie".into());
        }
    }
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().all().unwrap(), want);
    assert_eq!(
        check_filter(&s, &want, Student::rank.is_null(), |r| r.rank.is_none()),
        [2, 7]
    );
    assert!(check_filter(&s, &want, Student::rank.eq(4), |_| false).is_empty());
    assert_eq!(
        check_filter(&s, &want, Student::rank.eq(8), |r| r.rank == Some(8)),
        [3, 5, 9]
    );
    assert_eq!(
        check_filter(&s, &want, Student::rank.ge(7), |r| r
            .rank
            .is_some_and(|x| x >= 7)),
        [3, 4, 5, 8, 9]
    );
    assert_eq!(
        check_filter(&s, &want, Student::badge.eq("gold"), |r| {
            r.badge.as_deref() == Some("gold")
        }),
        [8]
    );
    assert_eq!(
        check_filter(&s, &want, Student::nickname.starts_with("E"), |r| {
            r.nickname.as_deref().is_some_and(|x| x.starts_with('E'))
        }),
        [8]
    );
    let got = s.query::<Student>().order_by(Student::rank).all().unwrap();
    assert_order_of(&got, &sorted(&want, |a, b| a.rank.cmp(&b.rank)), |r| r.rank);
}

#[test]
fn update_refuses_a_changed_primary_key() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    // Every row is changed before any is written: a key changed in the
    // last row leaves the earlier ones as they were.
    let err = s
        .query_mut::<Student>()
        .filter(Student::id.le(3))
        .update(|r| {
            r.year += 1;
            if r.id == 3 {
                r.id = 30;
            }
        });
    assert!(
        matches!(err, Err(Error::KeyChanged { model: "Student" })),
        "{err:?}"
    );
    assert!(s.get::<Student>(30).unwrap().is_none());
    for i in 0..3 {
        assert_eq!(
            s.get::<Student>(i as i64 + 1).unwrap().as_ref(),
            Some(&fx.students[i])
        );
    }
}

#[test]
fn update_with_no_match_changes_nothing() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let mut calls = 0;
    let n = s
        .query_mut::<Student>()
        .filter(Student::gpa.gt(9.0))
        .update(|_| calls += 1)
        .unwrap();
    assert_eq!((n, calls), (0, 0));
    let n = s
        .query_mut::<Student>()
        .filter(Student::id.in_(Vec::<i64>::new()))
        .delete()
        .unwrap();
    assert_eq!(n, 0);
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().all().unwrap(), fx.students);
}

#[test]
fn update_respects_order_and_limit() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    // Only the two best are changed.
    let n = s
        .query_mut::<Student>()
        .order_by(Student::gpa.desc())
        .limit(2)
        .update(|r| r.active = false)
        .unwrap();
    assert_eq!(n, 2);
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    let inactive = s
        .query::<Student>()
        .filter(Student::active.eq(false))
        .all()
        .unwrap();
    assert_eq!(ids(&inactive), [1, 2, 4, 6, 8, 9]);
}

#[test]
fn delete_returns_the_count_and_removes_rows_and_index_entries() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let n = s
        .query_mut::<Student>()
        .filter(Student::gpa.lt(3.0))
        .delete()
        .unwrap();
    assert_eq!(n, 4);
    // Gone inside the session already.
    assert!(s.get::<Student>(4).unwrap().is_none());
    assert_eq!(s.query::<Student>().count().unwrap(), 5);
    s.commit().unwrap();

    let want = hand(&fx.students, |r| r.gpa >= 3.0);
    assert_eq!(ids(&want), [1, 2, 3, 5, 8]);
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().all().unwrap(), want);
    for id in [4, 6, 7, 9] {
        assert!(s.get::<Student>(id).unwrap().is_none(), "row {id}");
    }
    // No index still finds them.
    assert!(check_filter(&s, &want, Student::gpa.lt(3.0), |_| false).is_empty());
    assert!(check_filter(&s, &want, Student::name.eq("bea"), |_| false).is_empty());
    assert!(check_filter(&s, &want, Student::name.in_(["cyd", "zoe"]), |_| false).is_empty());
    assert!(check_filter(&s, &want, Student::year.eq(4), |_| false).is_empty());
    assert_eq!(
        check_filter(&s, &want, Student::year.eq(3), |r| r.year == 3),
        [3]
    );
    assert_eq!(
        check_filter(&s, &want, Student::rank.le(4), |r| r
            .rank
            .is_some_and(|x| x <= 4)),
        [1, 2]
    );
    assert!(check_filter(&s, &want, Student::badge.eq("tin"), |_| false).is_empty());
    let got = s.query::<Student>().order_by(Student::gpa).all().unwrap();
    assert_eq!(got, sorted(&want, |a, b| a.gpa.total_cmp(&b.gpa)));
    let got = s
        .query::<Student>()
        .order_by(Student::rank.desc())
        .all()
        .unwrap();
    assert_order_of(&got, &sorted(&want, |a, b| b.rank.cmp(&a.rank)), |r| r.rank);
    drop(s);

    // Their unique values are free again; a second delete finds nothing.
    let mut s = fx.db.session().unwrap();
    s.add(&mut student(
        "bea",
        2,
        2.0,
        None,
        None,
        true,
        &[],
        Some("tin"),
    ))
    .unwrap();
    let n = s
        .query_mut::<Student>()
        .filter(Student::gpa.lt(-1.0))
        .delete()
        .unwrap();
    assert_eq!(n, 0);
    // Delete by an index lookup, and the whole table.
    let n = s
        .query_mut::<Student>()
        .filter(Student::year.eq(2))
        .delete()
        .unwrap();
    assert_eq!(n, 3);
    let n = s.query_mut::<Student>().delete().unwrap();
    assert_eq!(n, 3);
    assert!(!s.query::<Student>().exists().unwrap());
    s.commit().unwrap();
}

#[test]
fn delete_with_order_and_limit() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let n = s
        .query_mut::<Student>()
        .filter(Student::active.eq(true))
        .order_by(Student::gpa)
        .limit(2)
        .delete()
        .unwrap();
    assert_eq!(n, 2);
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    // The two lowest active: dee (0.0) and bob (3.5).
    assert_eq!(
        ids(&s.query::<Student>().all().unwrap()),
        [1, 2, 3, 4, 6, 8, 9]
    );
}

#[test]
fn query_mut_reads_like_query() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    s.query_mut::<Student>()
        .filter(Student::id.eq(1))
        .update(|r| r.gpa = 1.0)
        .unwrap();
    let q = s
        .query_mut::<Student>()
        .filter(Student::gpa.le(1.25))
        .order_by(Student::gpa);
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("gpa"), true, false, false)
    );
    // Sees the session's own change.
    assert_eq!(ids(&q.all().unwrap()), [6, 7, 1, 9]);
    assert_eq!(q.count().unwrap(), 4);
    assert!(q.exists().unwrap());
    assert_eq!(q.first().unwrap().map(|r| r.id), Some(6));
    let q = s.query_mut::<Student>().filter(Student::id.eq(1));
    assert_eq!(q.one().unwrap().gpa, 1.0);
    drop(s);
    // Rolled back.
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.get::<Student>(1).unwrap().unwrap().gpa, 3.9);
}

/// The integrity check (every index holds exactly its rows' entries)
/// passes on the fixture as added.
#[test]
fn integrity_check_passes_on_the_fixture() {
    let fx = fixture();
    match fx.db.check() {
        Ok(rows) => assert_eq!(rows, 16),
        Err(e) => panic!("integrity check of the fixture: {e:?}"),
    }
}

/// QueryMut's updates and deletes keep every index in step with the rows.
#[test]
fn integrity_check_passes_after_query_mut() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    s.query_mut::<Student>()
        .filter(Student::year.eq(1))
        .update(|r| {
            r.year = 5;
            r.gpa += 10.0;
            r.name.push('x');
        })
        .unwrap();
    s.query_mut::<Student>()
        .filter(Student::rank.eq(4))
        .update(|r| r.rank = None)
        .unwrap();
    s.query_mut::<Student>()
        .filter(Student::badge.eq("gold"))
        .update(|r| r.badge = None)
        .unwrap();
    s.query_mut::<Student>()
        .filter(Student::id.eq(8))
        .update(|r| r.badge = Some("gold".into()))
        .unwrap();
    assert_eq!(
        s.query_mut::<Student>()
            .filter(Student::gpa.lt(3.0))
            .delete()
            .unwrap(),
        3
    );
    assert_eq!(
        s.query_mut::<Country>()
            .filter(Country::code.ge("NZ"))
            .delete()
            .unwrap(),
        2
    );
    s.commit().unwrap();
    match fx.db.check() {
        Ok(rows) => assert_eq!(rows, 6 + 5),
        Err(e) => panic!("integrity check after updates and deletes: {e:?}"),
    }
}

// ---- the String-keyed model ----

#[test]
fn string_key_get() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    for c in &fx.countries {
        assert_eq!(s.get::<Country>(c.code.as_str()).unwrap().as_ref(), Some(c));
    }
    assert_eq!(
        s.get::<Country>(String::from("JP"))
            .unwrap()
            .map(|c| c.name),
        Some("Japan".into())
    );
    assert!(s.get::<Country>("XX").unwrap().is_none());
    assert!(s.get::<Country>("").unwrap().is_none());
    assert!(s.get::<Country>("F").unwrap().is_none());
    assert!(s.get::<Country>("fr").unwrap().is_none());
    drop(s);
    // A key given by hand is not replaced, and may not repeat.
    let mut s = fx.db.session().unwrap();
    let err = s.add(&mut Country {
        code: "FR".into(),
        name: "Again".into(),
        population: 1,
    });
    assert!(
        matches!(
            err,
            Err(Error::DuplicateKey {
                model: "Country",
                ..
            })
        ),
        "{err:?}"
    );
    let mut z = Country {
        code: "ZA".into(),
        name: "South Africa".into(),
        population: 60_000_000,
    };
    s.add(&mut z).unwrap();
    assert_eq!(z.code, "ZA");
    assert_eq!(s.get::<Country>("ZA").unwrap(), Some(z));
}

#[test]
fn string_key_ranges() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let all = &fx.countries;
    assert_eq!(codes(all), ["DE", "FI", "FR", "IS", "JP", "NZ", "US"]);
    let check = |e: Expr<Country>, f: &dyn Fn(&str) -> bool| {
        let want: Vec<Country> = all.iter().filter(|c| f(&c.code)).cloned().collect();
        let q = s.query::<Country>().filter(e.clone());
        assert_eq!(q.all().unwrap(), want, "{e:?}");
        assert_eq!(q.count().unwrap(), want.len() as u64, "{e:?}");
        let mut back = want.clone();
        back.reverse();
        let q = s
            .query::<Country>()
            .filter(e.clone())
            .order_by(Country::code.desc());
        assert_eq!(q.all().unwrap(), back, "{e:?} backwards");
        codes(&want)
    };
    assert_eq!(check(Country::code.lt("FR"), &|c| c < "FR"), ["DE", "FI"]);
    assert_eq!(
        check(Country::code.ge("FR"), &|c| c >= "FR"),
        ["FR", "IS", "JP", "NZ", "US"]
    );
    assert_eq!(
        check(Country::code.le("FR"), &|c| c <= "FR"),
        ["DE", "FI", "FR"]
    );
    assert_eq!(
        check(Country::code.gt("FR"), &|c| c > "FR"),
        ["IS", "JP", "NZ", "US"]
    );
    // Bounds that fall between keys, and a prefix of a key.
    assert_eq!(check(Country::code.lt("F"), &|c| c < "F"), ["DE"]);
    assert_eq!(
        check(Country::code.gt("F"), &|c| c > "F"),
        ["FI", "FR", "IS", "JP", "NZ", "US"]
    );
    assert_eq!(
        check(Country::code.ge("FI").and(Country::code.lt("J")), &|c| {
            ("FI".."J").contains(&c)
        }),
        ["FI", "FR", "IS"]
    );
    assert_eq!(
        check(Country::code.between("FR", "NZ"), &|c| ("FR"..="NZ")
            .contains(&c)),
        ["FR", "IS", "JP", "NZ"]
    );
    assert_eq!(
        check(Country::code.starts_with("F"), &|c| c.starts_with('F')),
        ["FI", "FR"]
    );
    assert_eq!(check(Country::code.eq("JP"), &|c| c == "JP"), ["JP"]);
    assert_eq!(
        check(Country::code.in_(["US", "DE", "XX"]), &|c| c == "US"
            || c == "DE"),
        ["DE", "US"]
    );
    assert!(check(Country::code.lt("A"), &|_| false).is_empty());
    assert!(check(Country::code.gt("ZZ"), &|_| false).is_empty());
    // A key range with a filter on another column.
    assert_eq!(
        check(
            Country::code
                .ge("FR")
                .and(Country::population.lt(100_000_000)),
            &|c| {
                c >= "FR"
                    && all
                        .iter()
                        .any(|x| x.code == c && x.population < 100_000_000)
            }
        ),
        ["FR", "IS", "NZ"]
    );
    // Limit stops the key range in order.
    let got = s
        .query::<Country>()
        .filter(Country::code.ge("FI"))
        .order_by(Country::code.desc())
        .limit(2)
        .all()
        .unwrap();
    assert_eq!(codes(&got), ["US", "NZ"]);
}

#[test]
fn string_key_plans() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let q = s.query::<Country>().filter(Country::code.eq("DE"));
    assert_eq!(q.explain(), plan(Access::PrimaryKey, true, false, false));
    assert_eq!(codes(&q.all().unwrap()), ["DE"]);
    let q = s.query::<Country>().filter(Country::code.lt("FR"));
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: true },
            true,
            false,
            false
        )
    );
    assert_eq!(codes(&q.all().unwrap()), ["DE", "FI"]);
    let q = s
        .query::<Country>()
        .filter(Country::code.ge("FR"))
        .order_by(Country::code.desc());
    assert_eq!(
        q.explain(),
        plan(Access::PrimaryKeyRange { bounded: true }, true, true, false)
    );
    assert_eq!(codes(&q.all().unwrap()), ["US", "NZ", "JP", "IS", "FR"]);
    let q = s.query::<Country>().filter(Country::code.starts_with("F"));
    assert_eq!(
        q.explain().access,
        Access::PrimaryKeyRange { bounded: true }
    );
    assert!(q.explain().ordered);
    assert_eq!(codes(&q.all().unwrap()), ["FI", "FR"]);
    let q = s
        .query::<Country>()
        .filter(Country::population.gt(100_000_000));
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("population"), true, false, false)
    );
    let mut got = codes(&q.all().unwrap());
    got.sort();
    assert_eq!(got, ["JP", "US"]);
}

// ---- plans ----

#[test]
fn plan_primary_key_eq_and_in() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let q = s.query::<Student>().filter(Student::id.eq(3));
    assert_eq!(q.explain(), plan(Access::PrimaryKey, true, false, false));
    assert_eq!(ids(&q.all().unwrap()), [3]);
    // With another conjunct: still a point read, then filtered.
    let q = s
        .query::<Student>()
        .filter(Student::id.eq(3).and(Student::active.eq(false)));
    assert_eq!(q.explain(), plan(Access::PrimaryKey, true, false, true));
    assert!(q.all().unwrap().is_empty());
    // The key wins over a unique column.
    let q = s
        .query::<Student>()
        .filter(Student::name.eq("ada"))
        .filter(Student::id.eq(1));
    assert_eq!(q.explain(), plan(Access::PrimaryKey, true, false, true));
    assert_eq!(ids(&q.all().unwrap()), [1]);

    let q = s.query::<Student>().filter(Student::id.in_([8, 2, 5, 42]));
    assert_eq!(q.explain(), plan(Access::PrimaryKey, true, false, false));
    assert_eq!(ids(&q.all().unwrap()), [2, 5, 8]);
    let q = s
        .query::<Student>()
        .filter(Student::id.in_([8, 2, 5, 42]))
        .order_by(Student::id);
    assert_eq!(q.explain(), plan(Access::PrimaryKey, true, false, false));
    assert_eq!(ids(&q.all().unwrap()), [2, 5, 8]);
    let q = s
        .query::<Student>()
        .filter(Student::id.in_([8, 2, 5, 42]))
        .order_by(Student::id.desc());
    assert_eq!(q.explain(), plan(Access::PrimaryKey, false, false, false));
    assert_eq!(ids(&q.all().unwrap()), [8, 5, 2]);
    let q = s
        .query::<Student>()
        .filter(Student::id.in_([8, 2, 5, 42]))
        .order_by(Student::gpa);
    assert_eq!(q.explain(), plan(Access::PrimaryKey, false, false, false));
    assert_eq!(ids(&q.all().unwrap()), [2, 5, 8]);
    let q = s
        .query::<Student>()
        .filter(Student::id.in_(Vec::<i64>::new()));
    assert_eq!(q.explain().access, Access::PrimaryKey);
    assert!(q.all().unwrap().is_empty());
}

#[test]
fn plan_unique_and_indexed_lookups() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    let q = s.query::<Student>().filter(Student::name.eq("cyd"));
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("name"), true, false, false)
    );
    assert_eq!(ids(&q.all().unwrap()), [6]);
    let q = s
        .query::<Student>()
        .filter(Student::name.in_(["zoe", "ada", "xx"]));
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("name"), true, false, false)
    );
    assert_eq!(ids(&by_id(q.all().unwrap())), [1, 9]);

    let q = s.query::<Student>().filter(Student::year.eq(2));
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("year"), true, false, false)
    );
    assert_eq!(by_id(q.all().unwrap()), hand(rows, |r| r.year == 2));
    let q = s.query::<Student>().filter(Student::year.in_([3, 4]));
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("year"), true, false, false)
    );
    assert_eq!(by_id(q.all().unwrap()), hand(rows, |r| r.year >= 3));
    let q = s.query::<Student>().filter(Student::gpa.eq(2.8));
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("gpa"), true, false, false)
    );
    assert_eq!(ids(&q.all().unwrap()), [4]);
    let q = s.query::<Student>().filter(Student::rank.eq(4));
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("rank"), true, false, false)
    );
    assert_eq!(ids(&by_id(q.all().unwrap())), [2, 7]);
    let q = s.query::<Student>().filter(Student::rank.in_([1, 9]));
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("rank"), true, false, false)
    );
    assert_eq!(ids(&by_id(q.all().unwrap())), [1, 8]);
    // The index holds nulls, yet `= NULL` matches none of them.
    let q = s.query::<Student>().filter(Student::rank.eq(None::<i64>));
    assert_eq!(q.explain().access, Access::IndexLookup("rank"));
    assert!(q.all().unwrap().is_empty());

    // Unique columns are preferred over plain indexes.
    let q = s
        .query::<Student>()
        .filter(Student::year.eq(2))
        .filter(Student::name.eq("bea"));
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("name"), true, false, true)
    );
    assert_eq!(ids(&q.all().unwrap()), [4]);
    let q = s
        .query::<Student>()
        .filter(Student::year.eq(1))
        .filter(Student::name.eq("bea"));
    assert_eq!(q.explain().access, Access::IndexLookup("name"));
    assert!(q.all().unwrap().is_empty());
    // A lookup beats a key range.
    let q = s
        .query::<Student>()
        .filter(Student::id.gt(3))
        .filter(Student::year.eq(2));
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("year"), true, false, true)
    );
    assert_eq!(ids(&by_id(q.all().unwrap())), [4, 8]);
    // An ordered lookup is sorted.
    let q = s
        .query::<Student>()
        .filter(Student::year.in_([1, 2]))
        .order_by(Student::year.desc())
        .order_by(Student::name);
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("year"), false, false, false)
    );
    assert_eq!(ids(&q.all().unwrap()), [1, 4, 8, 2, 5, 9]);
}

#[test]
fn plan_primary_key_range() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    let e = || Student::id.gt(2).and(Student::id.le(6));
    let want = hand(rows, |r| r.id > 2 && r.id <= 6);
    let q = s.query::<Student>().filter(e());
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: true },
            true,
            false,
            false
        )
    );
    assert_eq!(q.all().unwrap(), want);
    let q = s.query::<Student>().filter(e()).order_by(Student::id);
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: true },
            true,
            false,
            false
        )
    );
    assert_eq!(q.all().unwrap(), want);
    let q = s
        .query::<Student>()
        .filter(e())
        .order_by(Student::id.desc());
    assert_eq!(
        q.explain(),
        plan(Access::PrimaryKeyRange { bounded: true }, true, true, false)
    );
    let mut back = want.clone();
    back.reverse();
    assert_eq!(q.all().unwrap(), back);
    let q = s.query::<Student>().filter(e()).order_by(Student::gpa);
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: true },
            false,
            false,
            false
        )
    );
    assert_eq!(
        q.all().unwrap(),
        sorted(&want, |a, b| a.gpa.total_cmp(&b.gpa))
    );
    // A key range wins over an index range; the rest is filtered.
    let q = s
        .query::<Student>()
        .filter(Student::id.lt(5))
        .filter(Student::gpa.gt(3.0));
    assert_eq!(
        q.explain(),
        plan(Access::PrimaryKeyRange { bounded: true }, true, false, true)
    );
    assert_eq!(ids(&q.all().unwrap()), [1, 2, 3]);
    // Between on the key.
    let q = s.query::<Student>().filter(Student::id.between(4, 7));
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: true },
            true,
            false,
            false
        )
    );
    assert_eq!(ids(&q.all().unwrap()), [4, 5, 6, 7]);
}

#[test]
fn plan_index_range() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    let want = hand(rows, |r| r.gpa > 3.0);
    let q = s.query::<Student>().filter(Student::gpa.gt(3.0));
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("gpa"), true, false, false)
    );
    // No order asked: index order is fine, the rows must be right.
    assert_eq!(by_id(q.all().unwrap()), want);
    let q = s
        .query::<Student>()
        .filter(Student::gpa.gt(3.0))
        .order_by(Student::gpa);
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("gpa"), true, false, false)
    );
    assert_eq!(
        q.all().unwrap(),
        sorted(&want, |a, b| a.gpa.total_cmp(&b.gpa))
    );
    let q = s
        .query::<Student>()
        .filter(Student::gpa.gt(3.0))
        .order_by(Student::gpa.desc());
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("gpa"), true, true, false)
    );
    assert_eq!(
        q.all().unwrap(),
        sorted(&want, |a, b| b.gpa.total_cmp(&a.gpa))
    );
    let q = s
        .query::<Student>()
        .filter(Student::gpa.gt(3.0))
        .order_by(Student::name.desc());
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("gpa"), false, false, false)
    );
    assert_eq!(q.all().unwrap(), sorted(&want, |a, b| b.name.cmp(&a.name)));
    // Two bounds, and another conjunct.
    let q = s
        .query::<Student>()
        .filter(Student::gpa.between(1.0, 3.7))
        .filter(Student::active.eq(false));
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("gpa"), true, false, true)
    );
    assert_eq!(
        by_id(q.all().unwrap()),
        hand(rows, |r| (1.0..=3.7).contains(&r.gpa) && !r.active)
    );
    // Nullable index range skips nulls.
    let q = s
        .query::<Student>()
        .filter(Student::rank.lt(5))
        .order_by(Student::rank.desc());
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("rank"), true, true, false)
    );
    let got = q.all().unwrap();
    assert_order_of(
        &got,
        &sorted(&hand(rows, |r| r.rank.is_some_and(|x| x < 5)), |a, b| {
            b.rank.cmp(&a.rank)
        }),
        |r| r.rank,
    );
    assert_eq!(ids(&by_id(got)), [1, 2, 6, 7]);
    // A unique nullable column's range.
    let q = s.query::<Student>().filter(Student::badge.ge("h"));
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("badge"), true, false, false)
    );
    assert_eq!(ids(&by_id(q.all().unwrap())), [3, 7, 9]);
}

#[test]
fn plan_starts_with_on_an_indexed_text_column() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let q = s.query::<Student>().filter(Student::name.starts_with("a"));
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("name"), true, false, false)
    );
    assert_eq!(ids(&q.all().unwrap()), [1, 2, 3]);
    let q = s
        .query::<Student>()
        .filter(Student::name.starts_with("a"))
        .order_by(Student::name.desc());
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("name"), true, true, false)
    );
    assert_eq!(ids(&q.all().unwrap()), [3, 2, 1]);
    let q = s
        .query::<Student>()
        .filter(Student::name.starts_with("ad"))
        .filter(Student::name.lt("adam"));
    assert_eq!(q.explain().access, Access::IndexRange("name"));
    assert_eq!(ids(&q.all().unwrap()), [1]);
    // Not on an unindexed text column: ends_with, contains never use one.
    let q = s
        .query::<Student>()
        .filter(Student::nickname.starts_with("C"));
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            true,
            false,
            true
        )
    );
    assert_eq!(ids(&q.all().unwrap()), [1, 6]);
    let q = s.query::<Student>().filter(Student::name.ends_with("e"));
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            true,
            false,
            true
        )
    );
    assert_eq!(ids(&q.all().unwrap()), [7, 8, 9]);
    let q = s.query::<Student>().filter(Student::name.contains("d"));
    assert_eq!(
        q.explain().access,
        Access::PrimaryKeyRange { bounded: false }
    );
    assert_eq!(ids(&q.all().unwrap()), [1, 2, 6, 7]);
}

#[test]
fn plan_unindexed_predicate_scans_the_table() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    let whole = plan(
        Access::PrimaryKeyRange { bounded: false },
        true,
        false,
        true,
    );
    for (e, f) in [
        (
            Student::active.eq(true),
            Box::new(|r: &Student| r.active) as Box<dyn Fn(&Student) -> bool>,
        ),
        (
            Student::nickname.is_null(),
            Box::new(|r: &Student| r.nickname.is_none()),
        ),
        (
            Student::rank.is_null(),
            Box::new(|r: &Student| r.rank.is_none()),
        ),
        (
            Student::badge.is_null(),
            Box::new(|r: &Student| r.badge.is_none()),
        ),
        (Student::year.ne(2), Box::new(|r: &Student| r.year != 2)),
        (Student::id.ne(2), Box::new(|r: &Student| r.id != 2)),
        (
            Student::year.eq(1).or(Student::year.eq(4)),
            Box::new(|r: &Student| r.year == 1 || r.year == 4),
        ),
        (Student::id.eq(3).not(), Box::new(|r: &Student| r.id != 3)),
        (
            Student::photo.eq(Vec::<u8>::new()),
            Box::new(|r: &Student| r.photo.is_empty()),
        ),
    ] {
        let q = s.query::<Student>().filter(e.clone());
        assert_eq!(q.explain(), whole, "{e:?}");
        // The whole table in key order: exactly the hand-filtered rows.
        assert_eq!(q.all().unwrap(), hand(rows, f), "{e:?}");
    }
    // Ordered by the key, backwards.
    let q = s
        .query::<Student>()
        .filter(Student::active.eq(true))
        .order_by(Student::id.desc());
    assert_eq!(
        q.explain(),
        plan(Access::PrimaryKeyRange { bounded: false }, true, true, true)
    );
    assert_eq!(ids(&q.all().unwrap()), [8, 7, 5, 3, 1]);
}

#[test]
fn plan_no_filter() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    let q = s.query::<Student>();
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            true,
            false,
            false
        )
    );
    assert_eq!(q.all().unwrap(), *rows);
    let q = s.query::<Student>().order_by(Student::id.desc());
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            true,
            true,
            false
        )
    );
    assert_eq!(ids(&q.all().unwrap()), [9, 8, 7, 6, 5, 4, 3, 2, 1]);
}

#[test]
fn plan_order_by_an_indexed_column_reads_the_index() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    let q = s.query::<Student>().order_by(Student::gpa);
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("gpa"), true, false, false)
    );
    assert_eq!(
        q.all().unwrap(),
        sorted(rows, |a, b| a.gpa.total_cmp(&b.gpa))
    );
    let q = s.query::<Student>().order_by(Student::gpa.desc());
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("gpa"), true, true, false)
    );
    assert_eq!(
        q.all().unwrap(),
        sorted(rows, |a, b| b.gpa.total_cmp(&a.gpa))
    );
    let q = s.query::<Student>().order_by(Student::year);
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("year"), true, false, false)
    );
    assert_order_of(
        &q.all().unwrap(),
        &sorted(rows, |a, b| a.year.cmp(&b.year)),
        |r| r.year,
    );
    // A unique non-null column.
    let q = s.query::<Student>().order_by(Student::name.desc());
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("name"), true, true, false)
    );
    assert_eq!(q.all().unwrap(), sorted(rows, |a, b| b.name.cmp(&a.name)));
    // A non-unique nullable index holds its nulls: usable, nulls first.
    let q = s.query::<Student>().order_by(Student::rank);
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("rank"), true, false, false)
    );
    let got = q.all().unwrap();
    assert_order_of(&got, &sorted(rows, |a, b| a.rank.cmp(&b.rank)), |r| r.rank);
    // With a filter the index cannot serve: still read in order, filtered.
    let q = s
        .query::<Student>()
        .filter(Student::active.eq(false))
        .order_by(Student::gpa.desc());
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("gpa"), true, true, true)
    );
    assert_eq!(
        q.all().unwrap(),
        sorted(&hand(rows, |r| !r.active), |a, b| b.gpa.total_cmp(&a.gpa))
    );
    // With a limit: the scan stops early, and the rows are the first ones.
    let q = s
        .query::<Student>()
        .filter(Student::active.eq(true))
        .order_by(Student::name)
        .limit(2);
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("name"), true, false, true)
    );
    assert_eq!(ids(&q.all().unwrap()), [1, 3]);
}

#[test]
fn plan_order_by_an_unindexed_column_sorts() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    let q = s.query::<Student>().order_by(Student::nickname);
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            false,
            false,
            false
        )
    );
    assert_order_of(
        &q.all().unwrap(),
        &sorted(rows, |a, b| a.nickname.cmp(&b.nickname)),
        |r| r.nickname.clone(),
    );
    let q = s
        .query::<Student>()
        .filter(Student::active.eq(true))
        .order_by(Student::photo.desc());
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            false,
            false,
            true
        )
    );
    assert_order_of(
        &q.all().unwrap(),
        &sorted(&hand(rows, |r| r.active), |a, b| b.photo.cmp(&a.photo)),
        |r| r.photo.clone(),
    );
    // Several columns, even all indexed: a sort.
    let q = s
        .query::<Student>()
        .order_by(Student::year)
        .order_by(Student::gpa);
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            false,
            false,
            false
        )
    );
    assert_eq!(
        q.all().unwrap(),
        sorted(rows, |a, b| a
            .year
            .cmp(&b.year)
            .then(a.gpa.total_cmp(&b.gpa)))
    );
    let q = s
        .query::<Student>()
        .order_by(Student::id)
        .order_by(Student::gpa);
    assert!(!q.explain().ordered);
    assert_eq!(q.all().unwrap(), *rows);
}

#[test]
fn plan_unique_nullable_column() {
    // The planner (query.rs, "A unique index leaves nulls out") will not
    // read a unique nullable column's index for an ordering: rows with a
    // null would be missing. It scans the table and sorts.
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let rows = &fx.students;
    let q = s.query::<Student>().order_by(Student::badge);
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            false,
            false,
            false
        )
    );
    let got = q.all().unwrap();
    assert_eq!(got.len(), 9);
    assert_order_of(&got, &sorted(rows, |a, b| a.badge.cmp(&b.badge)), |r| {
        r.badge.clone()
    });
    let q = s.query::<Student>().order_by(Student::badge.desc());
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            false,
            false,
            false
        )
    );
    assert_order_of(
        &q.all().unwrap(),
        &sorted(rows, |a, b| b.badge.cmp(&a.badge)),
        |r| r.badge.clone(),
    );
    // With an unusable filter, the same.
    let q = s
        .query::<Student>()
        .filter(Student::active.eq(true))
        .order_by(Student::badge);
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            false,
            false,
            true
        )
    );
    assert_eq!(ids(&q.all().unwrap()), [8, 5, 1, 7, 3]);
    // Equality and ranges on it do use its index (they never match null).
    let q = s.query::<Student>().filter(Student::badge.eq("silver"));
    assert_eq!(
        q.explain(),
        plan(Access::IndexLookup("badge"), true, false, false)
    );
    assert_eq!(ids(&q.all().unwrap()), [3]);
    let q = s
        .query::<Student>()
        .filter(Student::badge.lt("j"))
        .order_by(Student::badge.desc());
    assert_eq!(
        q.explain(),
        plan(Access::IndexRange("badge"), true, true, false)
    );
    assert_eq!(ids(&q.all().unwrap()), [7, 1, 5]);
    // is_null cannot use it.
    let q = s
        .query::<Student>()
        .filter(Student::badge.is_null())
        .order_by(Student::badge);
    assert_eq!(
        q.explain(),
        plan(
            Access::PrimaryKeyRange { bounded: false },
            false,
            false,
            true
        )
    );
    assert_eq!(ids(&by_id(q.all().unwrap())), [2, 4, 6, 8]);
}

#[test]
fn plan_display() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let show = |p: Plan| p.to_string();
    assert_eq!(
        show(s.query::<Student>().filter(Student::id.eq(1)).explain()),
        "get by primary key"
    );
    assert_eq!(
        show(
            s.query::<Student>()
                .filter(Student::gpa.gt(3.5))
                .order_by(Student::gpa.desc())
                .explain()
        ),
        "scan index on gpa backwards"
    );
    assert_eq!(
        show(
            s.query::<Student>()
                .filter(Student::active.eq(true))
                .order_by(Student::nickname)
                .explain()
        ),
        "scan whole table, filter, sort"
    );
    assert_eq!(
        show(s.query::<Student>().filter(Student::year.eq(1)).explain()),
        "look up index on year"
    );
    assert_eq!(
        show(s.query::<Student>().filter(Student::id.lt(3)).explain()),
        "scan primary key range"
    );
}

/// Every predicate gives the same rows whichever plan runs it: as written
/// (the planner may use the key or an index), and hidden in `e OR e`,
/// which no access path can use, so the whole table is read and filtered.
#[test]
fn plans_never_change_results() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let preds: Vec<Expr<Student>> = vec![
        Student::id.eq(4),
        Student::id.in_([9, 1, 4, 4]),
        Student::id.gt(3),
        Student::id.between(2, 6),
        Student::name.eq("eve"),
        Student::name.in_(["eve", "bob"]),
        Student::name.ge("bob"),
        Student::name.starts_with("a"),
        Student::name.starts_with("ad"),
        Student::year.eq(3),
        Student::year.in_([1, 3]),
        Student::year.lt(3),
        Student::gpa.gt(3.2),
        Student::gpa.le(3.2),
        Student::gpa.between(-2.0, 2.0),
        Student::gpa.eq(1.25),
        Student::rank.eq(4),
        Student::rank.gt(1),
        Student::rank.le(4),
        Student::badge.eq("iron"),
        Student::badge.gt("c"),
        Student::badge.starts_with("s"),
        Student::year.eq(2).and(Student::gpa.gt(3.0)),
        Student::gpa.gt(1.0).and(Student::name.lt("c")),
        Student::id.ge(3).and(Student::name.starts_with("b")),
        Student::rank.ge(2).and(Student::rank.lt(9)),
        // Several conjuncts on one column: the planner narrows to the
        // tighter bounds, or looks up one list and filters by the other.
        Student::id.eq(1).and(Student::id.eq(2)),
        Student::id.in_([1, 2, 3]).and(Student::id.in_([2, 3, 4])),
        Student::id.ge(3).and(Student::id.gt(3)),
        Student::id
            .le(6)
            .and(Student::id.lt(6))
            .and(Student::id.gt(1)),
        Student::name.eq("ada").and(Student::name.eq("bob")),
        Student::name.starts_with("a").and(Student::name.gt("ada")),
        Student::name.starts_with("ad").and(Student::name.le("ada")),
        Student::name
            .starts_with("a")
            .and(Student::name.starts_with("al")),
        Student::gpa.gt(3.0).and(Student::gpa.gt(3.6)),
        Student::gpa.ge(3.5).and(Student::gpa.gt(3.5)),
        Student::gpa.le(3.5).and(Student::gpa.lt(3.5)),
        Student::gpa.lt(3.9).and(Student::gpa.le(3.9)),
        Student::rank.lt(5).and(Student::rank.gt(1)),
        Student::badge.lt("j").and(Student::badge.ge("bronze")),
        Student::year
            .in_([1, 2])
            .and(Student::gpa.between(1.0, 3.6)),
        Student::gpa.gt(0.5).and(Student::rank.is_null()),
    ];
    let orders: Vec<Vec<(strata::Order<Student>, &str)>> = vec![
        vec![],
        vec![(Student::id.desc(), "id desc")],
        vec![(Student::gpa.asc(), "gpa")],
        vec![(Student::name.desc(), "name desc")],
        vec![
            (Student::year.asc(), "year"),
            (Student::id.desc(), "id desc"),
        ],
    ];
    for e in &preds {
        let direct = s.query::<Student>().filter(e.clone());
        let hidden = s.query::<Student>().filter(e.clone().or(e.clone()));
        assert_eq!(
            hidden.explain().access,
            Access::PrimaryKeyRange { bounded: false }
        );
        assert_eq!(
            by_id(direct.all().unwrap()),
            hidden.all().unwrap(),
            "{e:?} with plan {:?}",
            direct.explain()
        );
        for order in &orders {
            let mut direct = s.query::<Student>().filter(e.clone());
            let mut hidden = s.query::<Student>().filter(e.clone().or(e.clone()));
            for (o, _) in order {
                direct = direct.order_by(o.clone());
                hidden = hidden.order_by(o.clone());
            }
            let names: Vec<&str> = order.iter().map(|(_, n)| *n).collect();
            if order.is_empty() {
                // No order asked: any order of the same rows will do.
                assert_eq!(
                    by_id(direct.all().unwrap()),
                    hidden.all().unwrap(),
                    "{e:?}, plan {:?}",
                    direct.explain()
                );
                assert_eq!(
                    direct.limit(2).count().unwrap(),
                    hidden.limit(2).count().unwrap()
                );
                continue;
            }
            assert_eq!(
                direct.all().unwrap(),
                hidden.all().unwrap(),
                "{e:?} ordered by {names:?}, plan {:?}",
                direct.explain()
            );
            assert_eq!(
                direct.limit(2).all().unwrap(),
                hidden.limit(2).all().unwrap(),
                "{e:?} ordered by {names:?}, limit 2"
            );
        }
    }
}

// ---- what add refuses ----

#[test]
fn nan_in_an_indexed_float_is_refused() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let mut bad = student("nan", 1, f64::NAN, None, None, false, &[], None);
    let err = s.add(&mut bad);
    assert!(
        matches!(
            err,
            Err(Error::NotANumber {
                model: "Student",
                column: "gpa"
            })
        ),
        "{err:?}"
    );
    // Nothing was written, and the session goes on.
    assert!(
        !s.query::<Student>()
            .filter(Student::name.eq("nan"))
            .exists()
            .unwrap()
    );
    assert_eq!(s.query::<Student>().count().unwrap(), 9);
    // Through an update too.
    let err = s
        .query_mut::<Student>()
        .filter(Student::id.eq(1))
        .update(|r| r.gpa = f64::NAN);
    assert!(
        matches!(err, Err(Error::NotANumber { column: "gpa", .. })),
        "{err:?}"
    );
    assert_eq!(s.get::<Student>(1).unwrap().unwrap().gpa, 3.9);
    // Infinities are numbers.
    let mut inf = student("inf", 1, f64::INFINITY, None, None, false, &[], None);
    s.add(&mut inf).unwrap();
    let top = s
        .query::<Student>()
        .order_by(Student::gpa.desc())
        .first()
        .unwrap();
    assert_eq!(top.map(|r| r.name), Some("inf".into()));
    assert_eq!(
        ids(&s
            .query::<Student>()
            .filter(Student::gpa.gt(4.0))
            .all()
            .unwrap()),
        [inf.id]
    );
    s.commit().unwrap();
}

#[test]
fn too_long_values_are_refused() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    // 13 characters where 12 are allowed.
    let err = s.add(&mut student(
        "abcdefghijklm",
        1,
        1.0,
        None,
        None,
        false,
        &[],
        None,
    ));
    match err {
        Err(Error::TooLong {
            model,
            column,
            max,
            len,
        }) => {
            assert_eq!((model, column, max, len), ("Student", "name", 12, 13));
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
    // Characters, not bytes: 12 two-byte characters fit, 13 do not.
    let mut ok = student(&"é".repeat(12), 1, 1.0, None, None, false, &[], None);
    s.add(&mut ok).unwrap();
    let err = s.add(&mut student(
        &"é".repeat(13),
        1,
        1.0,
        None,
        None,
        false,
        &[],
        None,
    ));
    assert!(
        matches!(
            err,
            Err(Error::TooLong {
                max: 12,
                len: 13,
                ..
            })
        ),
        "{err:?}"
    );
    // A nullable limited column.
    let err = s.add(&mut student(
        "long-badge",
        1,
        1.0,
        None,
        None,
        false,
        &[],
        Some("abcdefghijklmnopq"),
    ));
    assert!(
        matches!(
            err,
            Err(Error::TooLong {
                column: "badge",
                max: 16,
                len: 17,
                ..
            })
        ),
        "{err:?}"
    );
    // Bytes count bytes.
    let err = s.add(&mut student(
        "photo", 1, 1.0, None, None, false, &[0; 9], None,
    ));
    assert!(
        matches!(
            err,
            Err(Error::TooLong {
                column: "photo",
                max: 8,
                len: 9,
                ..
            })
        ),
        "{err:?}"
    );
    // Through an update.
    let err = s
        .query_mut::<Student>()
        .filter(Student::id.eq(1))
        .update(|r| r.name = "x".repeat(20));
    assert!(
        matches!(
            err,
            Err(Error::TooLong {
                column: "name",
                max: 12,
                len: 20,
                ..
            })
        ),
        "{err:?}"
    );
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().count().unwrap(), 10);
    assert_eq!(s.get::<Student>(1).unwrap().unwrap().name, "ada");
    assert_eq!(
        s.query::<Student>()
            .filter(Student::name.starts_with("é"))
            .one()
            .unwrap()
            .id,
        ok.id
    );
}

#[test]
fn unique_violation_on_add() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let err = s.add(&mut student("eve", 1, 1.0, None, None, false, &[], None));
    assert!(
        matches!(
            err,
            Err(Error::UniqueViolation {
                model: "Student",
                column: "name",
                ..
            })
        ),
        "{err:?}"
    );
    // Any number of null badges; a taken badge is refused.
    s.add(&mut student("new1", 1, 1.0, None, None, false, &[], None))
        .unwrap();
    let err = s.add(&mut student(
        "new2",
        1,
        1.0,
        None,
        None,
        false,
        &[],
        Some("iron"),
    ));
    assert!(
        matches!(
            err,
            Err(Error::UniqueViolation {
                column: "badge",
                ..
            })
        ),
        "{err:?}"
    );
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    assert_eq!(
        s.query::<Student>()
            .filter(Student::badge.is_null())
            .count()
            .unwrap(),
        5
    );
    assert_eq!(
        s.query::<Student>()
            .filter(Student::name.eq("eve"))
            .count()
            .unwrap(),
        1
    );
}

/// `0.0 == -0.0` for the filter (IEEE equality), so a plan through the
/// float index must find a row stored with -0.0 when asked for 0.0, as the
/// full scan does.
#[test]
fn negative_zero_in_a_float_index() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let mut neg = student("negzero", 1, -0.0, None, None, false, &[], None);
    s.add(&mut neg).unwrap();
    s.commit().unwrap();
    let mut rows = fx.students.clone();
    rows.push(neg.clone());
    let s = fx.db.read_session().unwrap();
    let mut wrong = Vec::new();
    for (e, f) in [
        (
            Student::gpa.eq(0.0),
            Box::new(|r: &Student| r.gpa == 0.0) as Box<dyn Fn(&Student) -> bool>,
        ),
        (
            Student::gpa.in_([0.0]),
            Box::new(|r: &Student| r.gpa == 0.0),
        ),
        (Student::gpa.ge(0.0), Box::new(|r: &Student| r.gpa >= 0.0)),
        (Student::gpa.le(-0.0), Box::new(|r: &Student| r.gpa <= -0.0)),
        (
            Student::gpa.between(0.0, 1.0),
            Box::new(|r: &Student| (0.0..=1.0).contains(&r.gpa)),
        ),
    ] {
        let want = hand(&rows, f);
        assert!(want.iter().any(|r| r.id == neg.id));
        let direct = s.query::<Student>().filter(e.clone());
        let hidden = s.query::<Student>().filter(e.clone().or(e.clone()));
        assert_eq!(hidden.all().unwrap(), want, "{e:?} by a full scan");
        let got = by_id(direct.all().unwrap());
        if got != want {
            wrong.push(format!(
                "{:?} via {}: got ids {:?}, want {:?}",
                e,
                direct.explain(),
                ids(&got),
                ids(&want)
            ));
        }
    }
    assert!(wrong.is_empty(), "plans lose -0.0:\n{}", wrong.join("\n"));
}
