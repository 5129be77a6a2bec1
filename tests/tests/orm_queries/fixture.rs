//! The fixture every case reads: nine students with every kind of column
//! the planner treats differently, and seven countries keyed by a string
//! given by hand. The helpers at the end compute answers by hand over a
//! `Vec` of the rows.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt::Debug;
use strata::{Database, Model};
use strata_tests::TempDir;
use strata_tests::backend::Backend;

/// Every kind of column the planner treats differently.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "students", display = "name")]
pub struct Student {
    /// Auto-assigned i64 key.
    #[strata(primary_key)]
    pub id: i64,
    /// Unique text with a length limit.
    #[strata(unique, max_len = 12)]
    pub name: String,
    /// Non-unique index.
    #[strata(index)]
    pub year: i64,
    /// Indexed float.
    #[strata(index)]
    pub gpa: f64,
    /// Nullable, not indexed.
    pub nickname: Option<String>,
    /// Nullable, indexed (nulls are in the index).
    #[strata(index)]
    pub rank: Option<i64>,
    pub active: bool,
    #[strata(max_len = 8)]
    pub photo: Vec<u8>,
    /// Unique and nullable (nulls are left out of the index).
    #[strata(unique, max_len = 16)]
    pub badge: Option<String>,
}

/// A model keyed by a string given by hand.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "countries", display = "name")]
pub struct Country {
    #[strata(primary_key)]
    pub code: String,
    #[strata(max_len = 40)]
    pub name: String,
    #[strata(index)]
    pub population: i64,
}

#[allow(clippy::too_many_arguments)]
pub fn student(
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

/// The fixture rows, in the order they are added (ids 1 to 9). The names
/// sort as the ids do.
#[rustfmt::skip]
pub fn student_rows() -> Vec<Student> {
    vec![
        // id           name    year  gpa   nickname          rank     active photo       badge
        /* 1 */ student("ada",  2,   3.9, Some("Countess"), Some(1), true,  &[1, 2, 3], Some("gold")),
        /* 2 */ student("adam", 1,   3.2, None,             Some(4), false, &[],        None),
        /* 3 */ student("alan", 3,   3.7, Some("Turing"),   None,    true,  &[0, 255],  Some("silver")),
        /* 4 */ student("bea",  2,   2.8, Some("Bee"),      Some(7), false, &[9],       None),
        /* 5 */ student("bob",  1,   3.5, None,             None,    true,  &[],        Some("bronze")),
        /* 6 */ student("cyd",  3,  -1.5, Some("Cyclone"),  Some(2), false, &[7, 7],    None),
        /* 7 */ student("dee",  4,   0.0, Some("Dee-Dee"),  Some(4), true,  &[],        Some("iron")),
        /* 8 */ student("eve",  2,   4.0, None,             Some(9), true,  &[5],       None),
        /* 9 */ student("zoe",  1,  1.25, Some("Zed"),      None,    false, &[0],       Some("tin")),
    ]
}

/// Added out of key order on purpose.
pub fn country_rows() -> Vec<Country> {
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
pub struct Fixture {
    pub db: Database,
    /// In key order.
    pub students: Vec<Student>,
    /// In key order.
    pub countries: Vec<Country>,
    _dir: TempDir,
}

/// The suite's backend: the file, or etcd when it is built as
/// `orm_queries_etcd` (`strata_tests::backend`).
pub const BACKEND: Backend = Backend::of_suite(env!("CARGO_CRATE_NAME"));

pub fn open(dir: &TempDir) -> Database {
    BACKEND.open(dir)
}

pub fn fixture() -> Fixture {
    let dir = TempDir::new("orm-queries");
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

pub fn ids(rows: &[Student]) -> Vec<i64> {
    rows.iter().map(|r| r.id).collect()
}

pub fn codes(rows: &[Country]) -> Vec<String> {
    rows.iter().map(|r| r.code.clone()).collect()
}

pub fn by_id(mut rows: Vec<Student>) -> Vec<Student> {
    rows.sort_by_key(|r| r.id);
    rows
}

/// The fixture rows matching `f`, in key order.
pub fn hand(rows: &[Student], f: impl Fn(&Student) -> bool) -> Vec<Student> {
    rows.iter().filter(|r| f(r)).cloned().collect()
}

/// `rows` stably sorted by `cmp`.
pub fn sorted(rows: &[Student], cmp: impl FnMut(&Student, &Student) -> Ordering) -> Vec<Student> {
    let mut v = rows.to_vec();
    v.sort_by(cmp);
    v
}

/// `got` is in the order of `want` as far as `proj` tells (rows tied on
/// it may come in any order), and holds the same rows.
pub fn assert_order_of<K: PartialEq + Debug>(
    got: &[Student],
    want: &[Student],
    proj: impl Fn(&Student) -> K,
) {
    let g: Vec<K> = got.iter().map(&proj).collect();
    let w: Vec<K> = want.iter().map(&proj).collect();
    assert_eq!(g, w, "order of the rows");
    assert_eq!(by_id(got.to_vec()), by_id(want.to_vec()), "the rows");
}

/// SQL's three-valued logic by hand, for the filters on nullable columns:
/// `None` is unknown. A comparison of a nullable value.
pub fn cmp(x: Option<i64>, f: fn(i64) -> bool) -> Option<bool> {
    x.map(f)
}

/// NOT: unknown stays unknown.
pub fn not3(a: Option<bool>) -> Option<bool> {
    a.map(|b| !b)
}

/// AND: false wins over unknown.
pub fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// OR: true wins over unknown.
pub fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}
