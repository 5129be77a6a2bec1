//! Files written by earlier builds keep opening: `tests/fixtures/` holds
//! databases written by this crate's code (a version of the quickstart's
//! models with data); each is opened as it is, then migrated to a newer
//! version of the models, every row compared and `check()` run.
//!
//! `cargo test -p strata --test fixtures -- --ignored write_fixtures`
//! writes the fixtures again (only when the encoding is meant to change:
//! commit the old ones under a new name).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use strata::engine::Options;
use strata::{Database, Migrations, Model};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users", display = "username")]
struct User {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 80)]
    username: String,
    #[strata(unique, max_len = 120)]
    email: String,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "posts")]
struct Post {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = User)]
    author_id: i64,
    #[strata(max_len = 200)]
    title: String,
}

mod next {
    use super::*;
    /// The user of a later version: a bio, a karma with a default, the
    /// email no longer unique but indexed.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "users", display = "username")]
    pub struct User {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(unique, max_len = 80)]
        pub username: String,
        #[strata(index, max_len = 200)]
        pub email: String,
        pub bio: Option<String>,
        #[strata(default = 1)]
        pub karma: i64,
    }
}

fn users() -> Vec<User> {
    ["admin", "guest", "peter", "ann"]
        .iter()
        .enumerate()
        .map(|(i, n)| User {
            id: i as i64 + 1,
            username: n.to_string(),
            email: format!("{n}@example.com"),
        })
        .collect()
}

fn posts() -> Vec<Post> {
    (1..=10)
        .map(|i| Post {
            id: i,
            author_id: i % 4 + 1,
            title: format!("post {i}"),
        })
        .collect()
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/quickstart-v1.strata")
}

/// A copy of the fixture (and its log, if any) in a fresh directory.
fn copy(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("strata-fixture-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let to = d.join("quickstart.strata");
    std::fs::copy(fixture(), &to).unwrap();
    let wal = PathBuf::from(format!("{}-wal", fixture().display()));
    if wal.exists() {
        std::fs::copy(&wal, format!("{}-wal", to.display())).unwrap();
    }
    to
}

#[test]
#[ignore = "a tool: rewrites tests/fixtures (cargo test -p strata --test fixtures -- --ignored write_fixtures)"]
fn write_fixtures() {
    let _ = std::fs::remove_file(fixture());
    let db = Database::open(fixture()).unwrap();
    let mut s = db.session().unwrap();
    s.add_all(&mut users()).unwrap();
    s.add_all(&mut posts()).unwrap();
    s.commit().unwrap();
    // A clean close leaves nothing the data file needs in its log, and
    // the fixture is the data file alone.
    drop(db);
    std::fs::remove_file(format!("{}-wal", fixture().display())).unwrap();
}

#[test]
fn the_v1_fixture_opens_as_it_is() {
    let path = copy("as-is");
    let db = Database::open(&path).unwrap();
    let s = db.read_session().unwrap();
    assert_eq!(s.query::<User>().all().unwrap(), users());
    assert_eq!(s.query::<Post>().all().unwrap(), posts());
    drop(s);
    assert_eq!(db.check().unwrap(), 14);
    drop(db);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}

#[test]
fn the_v1_fixture_migrates_to_the_next_models() {
    let path = copy("next");
    let m = Migrations::new().model::<next::User>().model::<Post>();
    let db = Database::open_migrated(&path, Options::default(), &m).unwrap();
    let want: Vec<next::User> = users()
        .into_iter()
        .map(|u| next::User {
            id: u.id,
            username: u.username,
            email: u.email,
            bio: None,
            karma: 1,
        })
        .collect();
    let s = db.read_session().unwrap();
    assert_eq!(s.query::<next::User>().all().unwrap(), want);
    assert_eq!(s.query::<Post>().all().unwrap(), posts());
    drop(s);
    assert_eq!(db.check().unwrap(), 14);
    assert_eq!(db.schema_history().unwrap().len(), 1);
    drop(db);
    // Reopened read-only with the same models: nothing is pending.
    let ro = Options {
        read_only: true,
        ..Options::default()
    };
    let db = Database::open_migrated(&path, ro, &m).unwrap();
    assert_eq!(db.check().unwrap(), 14);
    drop(db);
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
}
