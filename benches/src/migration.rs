//! The migration group: a table of N posts (1,000,000 by default, 2,000
//! with `--quick`) changes its schema, on Strata and on SQLite, each change
//! durable when it returns:
//!
//! 1. `add_fields_ms`: the model gains an `Option` field and a field with a
//!    default. Strata: opening the file and the model's first use, whose
//!    automatic changes append both columns to the stored schema and
//!    rewrite no row (`orm/DESIGN.md`, "Schema evolution"); SQLite: two
//!    `ALTER TABLE ... ADD COLUMN`, which change only its schema.
//! 2. `build_index_ms`: an index on `author`. Strata: opening the file and
//!    the first use of a model that declares `#[strata(index)]` on it,
//!    committed; SQLite: `CREATE INDEX`.
//! 3. `convert_ms`: `score`, an integer, becomes a float, half of it, in
//!    every row. Strata: opening the file with a step
//!    (`Migration::convert`) that rewrites every row; SQLite: `UPDATE posts
//!    SET score = score * 0.5` (its columns have no fixed type, so an
//!    update of every row is its equivalent).
//! 4. `rebuild_ms`, SQLite only: the table rebuild that SQLite's
//!    documentation prescribes for a change of a column's declared type:
//!    `CREATE TABLE` of the new shape, `INSERT ... SELECT`, `DROP TABLE`,
//!    `ALTER TABLE ... RENAME`, `CREATE INDEX` again, in one transaction.
//!
//! Both sides first load the rows, 100,000 to a transaction (`load_ms`),
//! and check what each change left on a few rows; a wrong row fails the
//! run.

use crate::engines::sqlite::{connect, path, write_txn};
use crate::{Out, Result, fail};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use strata::{Database, Migrations, Model, Value};

/// Rows loaded per transaction.
const LOAD_BATCH: u64 = 100_000;
/// Distinct authors: the index's distinct values.
const AUTHORS: i64 = 1_000;

mod v1 {
    use super::*;
    /// The posts as loaded.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        pub author: i64,
    }
}

mod v2 {
    use super::*;
    /// An `Option` field and a field with a default added.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        pub author: i64,
        pub views: Option<i64>,
        #[strata(default = 1)]
        pub score: i64,
    }
}

mod v3 {
    use super::*;
    /// `author` indexed.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        #[strata(index)]
        pub author: i64,
        pub views: Option<i64>,
        #[strata(default = 1)]
        pub score: i64,
    }
}

mod v4 {
    use super::*;
    /// `score` a float.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        #[strata(index)]
        pub author: i64,
        pub views: Option<i64>,
        pub score: f64,
    }
}

/// Post `i`'s title and author.
fn post(i: u64) -> (String, i64) {
    (format!("post {i}"), i as i64 % AUTHORS)
}

/// How many of posts `1..=n` author `a` wrote.
fn posts_of(n: u64, a: i64) -> u64 {
    (1..=n).filter(|&i| post(i).1 == a).count() as u64
}

fn ms(t: Instant) -> String {
    format!("{:.1}", t.elapsed().as_secs_f64() * 1000.0)
}

/// Runs the group on `engine` (`strata` or `sqlite`) in `dir`.
pub fn run(engine: &str, n: u64, dir: &Path, out: &mut Out) -> Result<()> {
    out.put("rows", n);
    match engine {
        "strata" => strata(n, dir, out),
        "sqlite" => sqlite(n, dir, out),
        _ => fail!("no migration side for {engine:?}"),
    }
}

fn strata(n: u64, dir: &Path, out: &mut Out) -> Result<()> {
    let file = dir.join("posts.strata");
    let t = Instant::now();
    {
        let db = Database::open(&file)?;
        let mut first = 1;
        while first <= n {
            let last = (first + LOAD_BATCH - 1).min(n);
            let mut s = db.session()?;
            for i in first..=last {
                let (title, author) = post(i);
                s.add(&mut v1::Post {
                    id: i as i64,
                    title,
                    author,
                })?;
            }
            s.commit()?;
            first = last + 1;
        }
    }
    out.put("load_ms", ms(t));

    let t = Instant::now();
    let db = Database::open(&file)?;
    db.register::<v2::Post>()?;
    out.put("add_fields_ms", ms(t));
    let last = db.read_session()?.get::<v2::Post>(n as i64)?;
    if last.map(|p| (p.views, p.score)) != Some((None, 1)) {
        fail!("post {n} does not read its new fields as None and 1");
    }
    drop(db);

    let t = Instant::now();
    let db = Database::open(&file)?;
    db.register::<v3::Post>()?;
    out.put("build_index_ms", ms(t));
    let found = (db.read_session()?.query::<v3::Post>())
        .filter(v3::Post::author.eq(7))
        .count()?;
    if found != posts_of(n, 7) {
        fail!("the new index finds {found} posts of author 7");
    }
    drop(db);

    let migrations = Migrations::new()
        .model::<v4::Post>()
        .step(1, "score as half a float", |m| {
            m.convert::<v4::Post>("score", |old| match old {
                Value::Int(s) => Ok(Value::Float(s as f64 * 0.5)),
                other => Ok(other),
            })
        });
    let t = Instant::now();
    let db = Database::open_migrated(&file, strata::engine::Options::default(), &migrations)?;
    out.put("convert_ms", ms(t));
    let first = db.read_session()?.get::<v4::Post>(1)?;
    if first.map(|p| p.score) != Some(0.5) {
        fail!("post 1's score is not 0.5 after the conversion");
    }
    Ok(())
}

fn sqlite(n: u64, dir: &Path, out: &mut Out) -> Result<()> {
    let conn = connect(&path(dir))?;
    conn.execute_batch(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author INTEGER NOT NULL)",
    )?;
    let t = Instant::now();
    let mut first = 1;
    while first <= n {
        let last = (first + LOAD_BATCH - 1).min(n);
        write_txn(&conn, |c| {
            let mut st = c.prepare_cached("INSERT INTO posts VALUES (?1, ?2, ?3)")?;
            for i in first..=last {
                let (title, author) = post(i);
                st.execute(params![i as i64, title, author])?;
            }
            Ok(())
        })?;
        first = last + 1;
    }
    out.put("load_ms", ms(t));

    let t = Instant::now();
    write_txn(&conn, |c| {
        c.execute_batch(
            "ALTER TABLE posts ADD COLUMN views INTEGER;
             ALTER TABLE posts ADD COLUMN score INTEGER NOT NULL DEFAULT 1;",
        )?;
        Ok(())
    })?;
    out.put("add_fields_ms", ms(t));
    let last: (Option<i64>, i64) = conn.query_row(
        "SELECT views, score FROM posts WHERE id = ?1",
        [n as i64],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if last != (None, 1) {
        fail!("post {n} does not read its new columns as NULL and 1");
    }

    let t = Instant::now();
    write_txn(&conn, |c| {
        c.execute_batch("CREATE INDEX posts_author ON posts (author)")?;
        Ok(())
    })?;
    out.put("build_index_ms", ms(t));
    let found: i64 = conn.query_row("SELECT count(*) FROM posts WHERE author = 7", [], |r| {
        r.get(0)
    })?;
    if found as u64 != posts_of(n, 7) {
        fail!("the new index finds {found} posts of author 7");
    }

    let t = Instant::now();
    write_txn(&conn, |c| {
        c.execute("UPDATE posts SET score = score * 0.5", [])?;
        Ok(())
    })?;
    out.put("convert_ms", ms(t));
    let score: f64 = conn.query_row("SELECT score FROM posts WHERE id = 1", [], |r| r.get(0))?;
    if score != 0.5 {
        fail!("post 1's score is {score} after the update, not 0.5");
    }

    let t = Instant::now();
    write_txn(&conn, |c| {
        c.execute_batch(
            "CREATE TABLE posts_new (id INTEGER PRIMARY KEY, title TEXT NOT NULL,
                 author INTEGER NOT NULL, views INTEGER, score REAL NOT NULL);
             INSERT INTO posts_new SELECT id, title, author, views, score FROM posts;
             DROP TABLE posts;
             ALTER TABLE posts_new RENAME TO posts;
             CREATE INDEX posts_author ON posts (author);",
        )?;
        Ok(())
    })?;
    out.put("rebuild_ms", ms(t));
    let rows: i64 = conn.query_row("SELECT count(*) FROM posts", [], |r| r.get(0))?;
    if rows as u64 != n {
        fail!("{rows} posts after the table rebuild");
    }
    Ok(())
}
