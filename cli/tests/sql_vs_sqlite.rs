//! The `sql` subcommand against SQLite: the same two tables loaded into
//! both, random SELECTs within the supported subset run on each, and the
//! results compared row by row.
//!
//! Every query orders its rows completely (the orderings end with a
//! unique column), so the comparison is exact, floats aside (equal within
//! 1e-9 relative). `STRATA_SQL_CASES` sets the number of queries (200 by
//! default), `STRATA_SQL_SEED` the seed (printed on failure).
//!
//! Where the dialects differ, the SQLite text is written to mean the
//! same: `LIKE` is case-sensitive in Strata (`PRAGMA case_sensitive_like`
//! makes SQLite's so), and `ILIKE`, which SQLite lacks, is
//! `lower(x) LIKE lower(p)` there (ASCII data, where both fold alike).

use serde::{Deserialize, Serialize};
use strata::{Database, Model, Value};
use strata_cli::sql::{Answer, run};

#[derive(Model, Serialize, Deserialize, Clone, Debug)]
#[strata(table = "people")]
struct Person {
    #[strata(primary_key)]
    id: i64,
    #[strata(index)]
    name: String,
    #[strata(index)]
    age: Option<i64>,
    #[strata(index)]
    score: f64,
    city: Option<String>,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug)]
#[strata(table = "pets")]
struct Pet {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = Person)]
    owner_id: i64,
    kind: String,
    weight: Option<f64>,
}

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const NAMES: &[&str] = &[
    "ann", "Ann", "anna", "bob", "BOB", "bo_b", "carl", "c%rl", "dee", "Dee", "eve", "zed", "",
];
const CITIES: &[&str] = &["Oslo", "oslo", "Lima", "Rome", "Riga"];
const KINDS: &[&str] = &["cat", "dog", "Cat", "bird", "fish"];
const PATTERNS: &[&str] = &[
    "a%", "A%", "%n%", "_o_", "%b", "c\\%%", "%", "", "bo\\_b", "D%", "%e", "an_",
];

/// Loads the same random rows into Strata and SQLite.
fn load(rng: &mut Rng, db: &Database, sqlite: &rusqlite::Connection) {
    sqlite
        .execute_batch(
            "PRAGMA case_sensitive_like = ON;
             CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER, score REAL NOT NULL, city TEXT);
             CREATE TABLE pets (id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES people(id), kind TEXT NOT NULL, weight REAL);",
        )
        .unwrap();
    let mut s = db.session().unwrap();
    for id in 1..=60 {
        let p = Person {
            id,
            name: rng.pick(NAMES).to_string(),
            age: (!rng.chance(20)).then(|| rng.below(80) as i64 - 5),
            score: rng.below(17) as f64 * 0.25,
            city: (!rng.chance(25)).then(|| rng.pick(CITIES).to_string()),
        };
        sqlite
            .execute(
                "INSERT INTO people VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![p.id, p.name, p.age, p.score, p.city],
            )
            .unwrap();
        s.add(&mut p.clone()).unwrap();
    }
    for id in 1..=120 {
        let t = Pet {
            id,
            owner_id: 1 + rng.below(60) as i64,
            kind: rng.pick(KINDS).to_string(),
            weight: (!rng.chance(30)).then(|| rng.below(40) as f64 * 0.5),
        };
        sqlite
            .execute(
                "INSERT INTO pets VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![t.id, t.owner_id, t.kind, t.weight],
            )
            .unwrap();
        s.add(&mut t.clone()).unwrap();
    }
    s.commit().unwrap();
}

/// A query's text for Strata and for SQLite.
#[derive(Default)]
struct Sql {
    strata: String,
    sqlite: String,
}

impl Sql {
    fn both(s: &str) -> Sql {
        Sql {
            strata: s.to_string(),
            sqlite: s.to_string(),
        }
    }
    fn push(&mut self, s: &str) {
        self.strata.push_str(s);
        self.sqlite.push_str(s);
    }
    fn append(&mut self, other: Sql) {
        self.strata.push_str(&other.strata);
        self.sqlite.push_str(&other.sqlite);
    }
}

/// The kind of a column, for literals and tests that fit it.
#[derive(Clone, Copy, PartialEq)]
enum Ty {
    Int,
    Real,
    Text,
}

fn columns(table: &str) -> &'static [(&'static str, Ty, bool)] {
    match table {
        "people" => &[
            ("id", Ty::Int, false),
            ("name", Ty::Text, false),
            ("age", Ty::Int, true),
            ("score", Ty::Real, false),
            ("city", Ty::Text, true),
        ],
        _ => &[
            ("id", Ty::Int, false),
            ("owner_id", Ty::Int, false),
            ("kind", Ty::Text, false),
            ("weight", Ty::Real, true),
        ],
    }
}

fn literal(rng: &mut Rng, ty: Ty, col: &str) -> String {
    match ty {
        Ty::Int if col.ends_with("id") => (rng.below(64) as i64).to_string(),
        Ty::Int => (rng.below(90) as i64 - 8).to_string(),
        // Multiples of a quarter: exact in binary, as the data are.
        Ty::Real if rng.chance(30) => rng.below(20).to_string(),
        Ty::Real => format!("{:.2}", rng.below(80) as f64 * 0.25),
        Ty::Text => {
            let pool: &[&str] = match col {
                "city" => CITIES,
                "kind" => KINDS,
                _ => NAMES,
            };
            format!("'{}'", rng.pick(pool))
        }
    }
}

/// A random condition over the columns of `tables` (qualifier, table).
fn condition(rng: &mut Rng, tables: &[(&str, &str)], depth: u32) -> Sql {
    if depth > 0 && rng.chance(40) {
        let mut s = Sql::both("(");
        s.append(condition(rng, tables, depth - 1));
        s.push(if rng.chance(50) { " AND " } else { " OR " });
        s.append(condition(rng, tables, depth - 1));
        s.push(")");
        return s;
    }
    if depth > 0 && rng.chance(15) {
        let mut s = Sql::both("NOT (");
        s.append(condition(rng, tables, depth - 1));
        s.push(")");
        return s;
    }
    let (q, t) = *rng.pick(tables);
    let (name, ty, nullable) = *rng.pick(columns(t));
    let col = if q.is_empty() {
        name.to_string()
    } else {
        format!("{q}.{name}")
    };
    match rng.below(10) {
        0..=2 => {
            let op = *rng.pick(&["=", "<>", "<", "<=", ">", ">="]);
            let lit = literal(rng, ty, name);
            if rng.chance(20) {
                // The literal first: `3 < age`.
                let flipped = match op {
                    "<" => ">",
                    "<=" => ">=",
                    ">" => "<",
                    ">=" => "<=",
                    o => o,
                };
                Sql::both(&format!("{lit} {flipped} {col}"))
            } else {
                Sql::both(&format!("{col} {op} {lit}"))
            }
        }
        3 => {
            let n = rng.below(4);
            let mut vals: Vec<String> = (0..n).map(|_| literal(rng, ty, name)).collect();
            if rng.chance(15) {
                vals.push("NULL".into());
            }
            if vals.is_empty() {
                vals.push(literal(rng, ty, name));
            }
            let not = if rng.chance(30) { "NOT " } else { "" };
            Sql::both(&format!("{col} {not}IN ({})", vals.join(", ")))
        }
        4 => {
            let (a, b) = (literal(rng, ty, name), literal(rng, ty, name));
            let not = if rng.chance(30) { "NOT " } else { "" };
            Sql::both(&format!("{col} {not}BETWEEN {a} AND {b}"))
        }
        5 if nullable => {
            let not = if rng.chance(50) { "NOT " } else { "" };
            Sql::both(&format!("{col} IS {not}NULL"))
        }
        _ if ty == Ty::Text => {
            let pat = *rng.pick(PATTERNS);
            let not = if rng.chance(25) { "NOT " } else { "" };
            let esc = if pat.contains('\\') {
                " ESCAPE '\\'"
            } else {
                ""
            };
            if rng.chance(50) {
                Sql::both(&format!("{col} {not}LIKE '{pat}'{esc}"))
            } else {
                Sql {
                    strata: format!("{col} {not}ILIKE '{pat}'{esc}"),
                    sqlite: format!("lower({col}) {not}LIKE lower('{pat}'){esc}"),
                }
            }
        }
        _ => {
            let lit = literal(rng, ty, name);
            Sql::both(&format!("{col} >= {lit}"))
        }
    }
}

fn where_clause(rng: &mut Rng, tables: &[(&str, &str)]) -> Sql {
    if rng.chance(20) {
        return Sql::default();
    }
    let mut s = Sql::both(" WHERE ");
    s.append(condition(rng, tables, 2));
    s
}

fn limit(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!(" LIMIT {}", rng.below(12)),
        1 => format!(" LIMIT {} OFFSET {}", rng.below(12), rng.below(20)),
        _ => String::new(),
    }
}

/// A random query of one of the supported shapes.
fn query(rng: &mut Rng) -> Sql {
    let dir = |rng: &mut Rng| if rng.chance(40) { " DESC" } else { "" };
    match rng.below(6) {
        // One table, some columns or all, ordered completely.
        0 | 1 => {
            let t = *rng.pick(&["people", "pets"]);
            let cols = columns(t);
            let list = if rng.chance(30) {
                "*".to_string()
            } else {
                let n = 1 + rng.below(cols.len() as u64) as usize;
                (0..n)
                    .map(|_| rng.pick(cols).0)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut s = Sql::both(&format!("SELECT {list} FROM {t}"));
            s.append(where_clause(rng, &[("", t)]));
            let (o, _, _) = *rng.pick(cols);
            let d1 = dir(rng);
            let d2 = dir(rng);
            s.push(&format!(" ORDER BY {o}{d1}, id{d2}"));
            s.push(&limit(rng));
            s
        }
        // Aggregates over the whole table.
        2 => {
            let mut s = Sql::both(
                "SELECT COUNT(*), COUNT(age), COUNT(DISTINCT city), SUM(age), MIN(score), MAX(name), AVG(score), MIN(city) FROM people",
            );
            s.append(where_clause(rng, &[("", "people")]));
            s
        }
        // Groups, with or without HAVING.
        3 => {
            let g = *rng.pick(&["city", "name", "age"]);
            let mut s = Sql::both(&format!(
                "SELECT {g}, COUNT(*), SUM(age), MAX(score), AVG(score) FROM people"
            ));
            s.append(where_clause(rng, &[("", "people")]));
            s.push(&format!(" GROUP BY {g}"));
            match rng.below(3) {
                0 => s.push(&format!(" HAVING COUNT(*) > {}", rng.below(4))),
                1 => s.push(&format!(" HAVING MAX(score) >= {}", rng.below(4))),
                _ => {}
            }
            let d = dir(rng);
            s.push(&format!(" ORDER BY {g}{d}"));
            s.push(&limit(rng));
            s
        }
        // A join along the foreign key, either table first.
        4 => {
            let from = if rng.chance(50) {
                "pets t JOIN people p ON t.owner_id = p.id"
            } else {
                "people p JOIN pets t ON p.id = t.owner_id"
            };
            let mut s = Sql::both(&format!(
                "SELECT t.id, p.name, t.kind, t.weight, p.age FROM {from}"
            ));
            s.append(where_clause(rng, &[("p", "people"), ("t", "pets")]));
            let d = dir(rng);
            s.push(&format!(" ORDER BY p.score{d}, t.id"));
            s.push(&limit(rng));
            s
        }
        // A join, grouped.
        _ => {
            let mut s = Sql::both(
                "SELECT p.city, COUNT(*), SUM(t.weight), MIN(t.kind) FROM people p JOIN pets t ON t.owner_id = p.id",
            );
            s.append(where_clause(rng, &[("p", "people"), ("t", "pets")]));
            s.push(" GROUP BY p.city ORDER BY p.city");
            s
        }
    }
}

/// A value both sides can be compared in.
#[derive(Debug, Clone)]
enum Cell {
    Null,
    Num(f64),
    Text(String),
}

impl PartialEq for Cell {
    fn eq(&self, other: &Cell) -> bool {
        match (self, other) {
            (Cell::Null, Cell::Null) => true,
            (Cell::Num(a), Cell::Num(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0),
            (Cell::Text(a), Cell::Text(b)) => a == b,
            _ => false,
        }
    }
}

fn strata_cell(v: &Value) -> Cell {
    match v {
        Value::Null => Cell::Null,
        Value::Int(i) => Cell::Num(*i as f64),
        Value::UInt(u) => Cell::Num(*u as f64),
        Value::Float(f) => Cell::Num(*f),
        Value::Text(s) => Cell::Text(s.clone()),
        other => Cell::Text(other.to_string()),
    }
}

fn sqlite_rows(c: &rusqlite::Connection, sql: &str) -> Vec<Vec<Cell>> {
    let mut st = c
        .prepare(sql)
        .unwrap_or_else(|e| panic!("SQLite refused {sql}: {e}"));
    let n = st.column_count();
    st.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Cell::Null,
                    rusqlite::types::ValueRef::Integer(i) => Cell::Num(i as f64),
                    rusqlite::types::ValueRef::Real(f) => Cell::Num(f),
                    rusqlite::types::ValueRef::Text(t) => {
                        Cell::Text(String::from_utf8_lossy(t).into_owned())
                    }
                    rusqlite::types::ValueRef::Blob(_) => Cell::Text("blob".into()),
                })
            })
            .collect()
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

#[test]
fn random_selects_answer_as_sqlite_does() {
    let cases: usize = std::env::var("STRATA_SQL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("STRATA_SQL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1
        });
    eprintln!("sql_vs_sqlite: seed {seed} (STRATA_SQL_SEED={seed} to repeat), {cases} cases");
    let mut rng = Rng(seed);
    let dir = std::env::temp_dir().join(format!("strata-sql-diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = Database::open(dir.join("diff.strata")).unwrap();
    let sqlite = rusqlite::Connection::open_in_memory().unwrap();
    load(&mut rng, &db, &sqlite);
    let mut nonempty = 0;
    for case in 0..cases {
        let q = query(&mut rng);
        let want = sqlite_rows(&sqlite, &q.sqlite);
        let got = match run(&db, &q.strata) {
            Ok(Answer::Rows { rows, .. }) => rows
                .iter()
                .map(|r| r.iter().map(strata_cell).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
            other => panic!("seed {seed}, case {case}: {}\n  -> {other:?}", q.strata),
        };
        assert!(
            got == want,
            "seed {seed}, case {case}: results differ\n  strata: {}\n  sqlite: {}\n  got  {got:?}\n  want {want:?}",
            q.strata,
            q.sqlite
        );
        nonempty += usize::from(!want.is_empty());
    }
    // The generator is worth something only if most queries find rows.
    assert!(
        nonempty * 2 > cases,
        "only {nonempty} of {cases} queries returned rows"
    );
    drop(db);
    std::fs::remove_dir_all(&dir).unwrap();
}
