//! Schema evolution timings, beside SQLite: opening a table of `N` rows
//! (default 1,000,000) whose model gained an `Option` field and a field
//! with a default, with no code: a plain open and the model's first use
//! (Strata appends the columns to the stored schema and rewrites no row;
//! SQLite's `ALTER TABLE ADD COLUMN` changes only its schema), and
//! building a new index over the same rows (Strata's migration against
//! SQLite's `CREATE INDEX`).
//!
//! ```sh
//! cargo run --release -p strata-benches --example migration
//! ```

#![deny(unsafe_code)]

use serde::{Deserialize, Serialize};
use std::time::Instant;
use strata::{Database, Migrations, Model};

mod v1 {
    use super::*;
    #[derive(Model, Serialize, Deserialize, Clone)]
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
    #[derive(Model, Serialize, Deserialize, Clone)]
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
    #[derive(Model, Serialize, Deserialize, Clone)]
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: i64 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("strata-bench-migration-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    {
        let db = Database::open(dir.join("db.strata"))?;
        let mut s = db.session()?;
        for i in 1..=n {
            s.add(&mut v1::Post {
                id: i,
                title: format!("post {i}"),
                author: i % 1000,
            })?;
        }
        s.commit()?;
    }
    let opts = strata::engine::Options::default();
    let t = Instant::now();
    let db = Database::open_with(dir.join("db.strata"), opts.clone())?;
    db.register::<v2::Post>()?;
    let added = t.elapsed();
    let first = db
        .read_session()?
        .get::<v2::Post>(1)?
        .map(|p| (p.views, p.score));
    assert_eq!(first, Some((None, 1)));
    drop(db);
    let t = Instant::now();
    let db = Database::open_migrated(
        dir.join("db.strata"),
        opts,
        &Migrations::new().model::<v3::Post>(),
    )?;
    let indexed = t.elapsed();
    drop(db);

    let sql = rusqlite::Connection::open(dir.join("db.sqlite"))?;
    sql.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author INTEGER NOT NULL);")?;
    let tx = sql.unchecked_transaction()?;
    {
        let mut st = tx.prepare("INSERT INTO posts VALUES (?1, ?2, ?3)")?;
        for i in 1..=n {
            st.execute(rusqlite::params![i, format!("post {i}"), i % 1000])?;
        }
    }
    tx.commit()?;
    let t = Instant::now();
    sql.execute_batch("ALTER TABLE posts ADD COLUMN views INTEGER; ALTER TABLE posts ADD COLUMN score INTEGER NOT NULL DEFAULT 1;")?;
    let sql_added = t.elapsed();
    let t = Instant::now();
    sql.execute_batch("CREATE INDEX posts_author ON posts(author);")?;
    let sql_indexed = t.elapsed();
    println!("rows: {n}");
    println!(
        "add an Option field and a default: strata open and first use {added:.2?} (no row rewritten), sqlite {sql_added:.2?}"
    );
    println!("build an index: strata {indexed:.2?}, sqlite CREATE INDEX {sql_indexed:.2?}");
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
