//! Schema evolution: every automatic change and every kind of explicit
//! step, each followed by a reopen that compares every row with the model
//! and runs `check()`; the refusals; the log; read-only handles.

use serde::{Deserialize, Serialize};
use strata::engine::Options;
use strata::{Database, Error, Migrations, Model, Value};

mod v1 {
    use super::*;
    /// Yesterday's post.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(max_len = 20)]
        pub title: String,
        #[strata(index)]
        pub author: String,
        pub body: String,
    }
}

mod v2 {
    use super::*;
    /// Today's post: an `Option` field and a field with a default added,
    /// `max_len` relaxed, `author` no longer indexed, `title` indexed.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(index, max_len = 80)]
        pub title: String,
        pub views: Option<i64>,
        pub author: String,
        pub body: String,
        #[strata(default = 7)]
        pub score: i32,
    }
}

mod v2_unique {
    use super::*;
    /// `author` made unique, which the data does not allow.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(index, max_len = 80)]
        pub title: String,
        pub views: Option<i64>,
        #[strata(unique)]
        pub author: String,
        pub body: String,
        #[strata(default = 7)]
        pub score: i32,
    }
}

mod v3 {
    use super::*;
    /// After steps: `body` renamed to `text`, `views` dropped, `score`
    /// converted to a string `grade`... as `i64`, and `slug` filled.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "articles")]
    pub struct Article {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(index, max_len = 80)]
        pub title: String,
        pub author: String,
        pub text: String,
        pub score: i64,
        #[strata(unique)]
        pub slug: String,
    }
}

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("strata-mig-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn v1_rows(n: i64) -> Vec<v1::Post> {
    (1..=n)
        .map(|i| v1::Post {
            id: i,
            title: format!("title {i}"),
            author: format!("author {}", i % 7),
            body: format!("body of {i}"),
        })
        .collect()
}

/// A file with `n` posts of version 1.
fn write_v1(path: &std::path::Path, n: i64) -> Vec<v1::Post> {
    let db = Database::open(path).unwrap();
    let mut rows = v1_rows(n);
    let mut s = db.session().unwrap();
    s.add_all(&mut rows).unwrap();
    s.commit().unwrap();
    rows
}

fn as_v2(p: &v1::Post) -> v2::Post {
    v2::Post {
        id: p.id,
        title: p.title.clone(),
        views: None,
        author: p.author.clone(),
        body: p.body.clone(),
        score: 7,
    }
}

fn all<M: Model>(db: &Database) -> Vec<M> {
    db.read_session().unwrap().query::<M>().all().unwrap()
}

#[test]
fn automatic_changes_keep_every_row_and_reopen() {
    let d = dir("auto");
    let path = d.join("db");
    let rows = write_v1(&path, 300);
    // A read-only open cannot make the changes, and says which they are.
    {
        let ro = Options {
            read_only: true,
            ..Options::default()
        };
        let db = Database::open_with(&path, ro).unwrap();
        let e = db
            .read_session()
            .unwrap()
            .query::<v2::Post>()
            .count()
            .unwrap_err();
        let shown = e.to_string();
        assert!(
            matches!(e, Error::MigrationNeeded { .. })
                && shown.contains("views")
                && shown.contains("score"),
            "{shown}"
        );
    }
    let migrations = Migrations::new().model::<v2::Post>();
    let db = Database::open_migrated(&path, Options::default(), &migrations).unwrap();
    let want: Vec<v2::Post> = rows.iter().map(as_v2).collect();
    assert_eq!(all::<v2::Post>(&db), want);
    assert_eq!(db.check().unwrap(), 300);
    // The new index answers queries; the dropped one is empty.
    let s = db.read_session().unwrap();
    let q = s.query::<v2::Post>().filter(v2::Post::title.eq("title 42"));
    assert_eq!(q.explain().to_string(), "look up index on title");
    assert_eq!(q.all().unwrap(), vec![want[41].clone()]);
    drop(s);
    let history = db.schema_history().unwrap();
    assert_eq!(history.len(), 1);
    assert!(
        history[0].name.starts_with("automatic: Post"),
        "{:?}",
        history
    );
    assert!(history[0].name.contains("views") && history[0].name.contains("score"));
    assert!(history[0].applied_at > 1_700_000_000);
    // New rows use the new fields; a plain reopen needs nothing.
    let mut s = db.session().unwrap();
    let mut p = as_v2(&rows[0]);
    p.id = 0;
    p.views = Some(5);
    s.add(&mut p).unwrap();
    s.commit().unwrap();
    drop(db);
    let db = Database::open(&path).unwrap();
    let mut want = want;
    want.push(p);
    assert_eq!(all::<v2::Post>(&db), want);
    assert_eq!(db.check().unwrap(), 301);
    // Migrating again changes nothing and logs nothing.
    db.migrate(&migrations).unwrap();
    assert_eq!(db.schema_history().unwrap().len(), 1);
    // Back to version 1's indexes and limits is refused (max_len tighter).
    let back = Migrations::new().model::<v1::Post>();
    let e = db.migrate(&back).unwrap_err();
    assert!(
        matches!(&e, Error::SchemaMismatch { field, .. } if field == "title"),
        "{e}"
    );
    drop(db);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_plain_open_makes_automatic_changes_at_first_use() {
    let d = dir("plain");
    let path = d.join("db");
    let rows = write_v1(&path, 300);
    let db = Database::open(&path).unwrap();
    // The first use is a write: the changes are made in its session.
    let mut s = db.session().unwrap();
    let mut p = as_v2(&rows[0]);
    p.id = 0;
    p.views = Some(9);
    s.add(&mut p).unwrap();
    s.commit().unwrap();
    let mut want: Vec<v2::Post> = rows.iter().map(as_v2).collect();
    want.push(p);
    assert_eq!(all::<v2::Post>(&db), want);
    let s = db.read_session().unwrap();
    let q = s.query::<v2::Post>().filter(v2::Post::title.eq("title 42"));
    assert_eq!(q.explain().to_string(), "look up index on title");
    assert_eq!(q.all().unwrap(), vec![want[41].clone()]);
    drop(s);
    let history = db.schema_history().unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(
        history[0].name.starts_with("automatic: Post")
            && history[0].name.contains("views")
            && history[0].name.contains("score"),
        "{history:?}"
    );
    assert_eq!(db.check().unwrap(), 301);
    drop(db);
    // Reopened, the old rows still read their fills; updates keep them.
    let db = Database::open(&path).unwrap();
    assert_eq!(all::<v2::Post>(&db), want);
    let mut s = db.session().unwrap();
    let mut first = want[0].clone();
    first.score = 8;
    s.update(&first).unwrap();
    s.commit().unwrap();
    want[0] = first;
    assert_eq!(all::<v2::Post>(&db), want);
    assert_eq!(db.check().unwrap(), 301);
    assert_eq!(db.schema_history().unwrap().len(), 1);
    drop(db);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_plain_open_refuses_a_unique_index_over_duplicates_and_changes_nothing() {
    let d = dir("plain-dups");
    let path = d.join("db");
    let rows = write_v1(&path, 50);
    let db = Database::open(&path).unwrap();
    let mut s = db.session().unwrap();
    let mut p = v2_unique::Post {
        id: 0,
        title: "new".into(),
        views: None,
        author: "someone new".into(),
        body: String::new(),
        score: 1,
    };
    let e = s.add(&mut p).unwrap_err();
    match &e {
        Error::DuplicateValues {
            model,
            column,
            values,
        } => {
            assert_eq!((model.as_str(), column.as_str()), ("Post", "author"));
            assert!(
                values.contains(&Value::Text("author 1".into())),
                "{values:?}"
            );
        }
        other => panic!("expected duplicate values, got {other:?}"),
    }
    // The session's transaction cannot commit what the change half did.
    assert!(s.commit().is_err());
    assert_eq!(all::<v1::Post>(&db), rows);
    assert!(db.schema_history().unwrap().is_empty());
    assert_eq!(db.check().unwrap(), 50);
    drop(db);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_unique_index_over_duplicates_is_refused_and_the_file_is_unchanged() {
    let d = dir("dups");
    let path = d.join("db");
    let rows = write_v1(&path, 50);
    let before = std::fs::read(&path).unwrap();
    let e = Database::open_migrated(
        &path,
        Options::default(),
        &Migrations::new().model::<v2_unique::Post>(),
    )
    .unwrap_err();
    match &e {
        Error::DuplicateValues {
            model,
            column,
            values,
        } => {
            assert_eq!((model.as_str(), column.as_str()), ("Post", "author"));
            assert!(
                values.contains(&Value::Text("author 1".into())),
                "{values:?}"
            );
            assert!(e.to_string().contains("author 1"), "{e}");
        }
        other => panic!("expected duplicate values, got {other:?}"),
    }
    // Nothing of it stayed: version 1 opens as before, no log entry.
    let db = Database::open(&path).unwrap();
    assert_eq!(all::<v1::Post>(&db), rows);
    assert!(db.schema_history().unwrap().is_empty());
    assert_eq!(db.check().unwrap(), 50);
    drop(db);
    let _ = before;
    std::fs::remove_dir_all(&d).unwrap();
}

/// The steps from version 2 to version 3.
fn to_v3() -> Migrations {
    Migrations::new()
        .model::<v3::Article>()
        .step(1, "rename body to text", |m| {
            m.rename_field("posts", "body", "text")
        })
        .step(2, "drop views", |m| m.drop_field("posts", "views"))
        .step(3, "posts become articles", |m| {
            m.rename_model("posts", "articles")
        })
        .step(4, "score as i64", |m| {
            m.convert::<v3::Article>("score", |old| match old {
                Value::Int(i) => Ok(Value::Int(i * 10)),
                other => Ok(other),
            })
        })
        .step(5, "fill slug", |m| {
            m.add_field::<v3::Article>("slug", |row| match row.get("id") {
                Some(Value::Int(i)) => Ok(Value::Text(format!("post-{i}"))),
                _ => Ok(Value::Text(String::new())),
            })
        })
}

#[test]
fn explicit_steps_rename_drop_convert_fill_and_move() {
    let d = dir("steps");
    let path = d.join("db");
    let rows = write_v1(&path, 120);
    let db = Database::open_migrated(
        &path,
        Options::default(),
        &Migrations::new().model::<v2::Post>(),
    )
    .unwrap();
    db.migrate(&to_v3()).unwrap();
    let want: Vec<v3::Article> = rows
        .iter()
        .map(|p| v3::Article {
            id: p.id,
            title: p.title.clone(),
            author: p.author.clone(),
            text: p.body.clone(),
            score: 70,
            slug: format!("post-{}", p.id),
        })
        .collect();
    assert_eq!(all::<v3::Article>(&db), want);
    assert_eq!(db.check().unwrap(), 120);
    let names: Vec<(u32, String)> = db
        .schema_history()
        .unwrap()
        .into_iter()
        .map(|h| (h.version, h.name))
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    assert_eq!(names[1], (1, "rename body to text".to_string()));
    assert_eq!(names[5].0, 5);
    drop(db);
    // Reopened, with the same migrations: nothing runs again.
    let db = Database::open_migrated(&path, Options::default(), &to_v3()).unwrap();
    assert_eq!(db.schema_history().unwrap().len(), 6);
    assert_eq!(all::<v3::Article>(&db), want);
    let s = db.read_session().unwrap();
    let hit = s
        .query::<v3::Article>()
        .filter(v3::Article::slug.eq("post-9"))
        .one()
        .unwrap();
    assert_eq!(hit, want[8]);
    drop(s);
    // Moving data with models: a step copies articles into a new table.
    let more = to_v3()
        .model::<Archived>()
        .step(6, "archive long titles", |m| {
            let s = m.session();
            let old: Vec<v3::Article> = s
                .query::<v3::Article>()
                .filter(v3::Article::id.le(10))
                .all()?;
            for a in old {
                s.add(&mut Archived {
                    id: a.id,
                    title: a.title.clone(),
                })?;
                s.delete(&a)?;
            }
            Ok(())
        });
    db.migrate(&more).unwrap();
    assert_eq!(all::<Archived>(&db).len(), 10);
    assert_eq!(all::<v3::Article>(&db), want[10..].to_vec());
    assert_eq!(db.check().unwrap(), 120);
    drop(db);
    std::fs::remove_dir_all(&d).unwrap();
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "archive")]
struct Archived {
    #[strata(primary_key)]
    id: i64,
    title: String,
}

#[test]
fn a_failing_step_changes_nothing_and_names_itself() {
    let d = dir("failing");
    let path = d.join("db");
    let rows = write_v1(&path, 20);
    let bad = Migrations::new()
        .step(1, "rename body", |m| {
            m.rename_field("posts", "body", "text")
        })
        .step(2, "a mistake", |m| m.drop_field("posts", "no_such_field"));
    let e = Database::open_migrated(&path, Options::default(), &bad).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.contains("2 \"a mistake\"") && shown.contains("no_such_field"),
        "{shown}"
    );
    // Step 1 committed; step 2 left nothing.
    let db = Database::open(&path).unwrap();
    let h = db.schema_history().unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].version, 1);
    assert_eq!(db.check().unwrap(), 20);
    drop(db);
    let _ = rows;
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn refusals_name_the_versions_and_the_step_to_write() {
    let d = dir("refusals");
    let path = d.join("db");
    write_v1(&path, 5);
    let db = Database::open(&path).unwrap();
    db.migrate(
        &Migrations::new()
            .step(1, "one", |_| Ok(()))
            .step(2, "two", |_| Ok(())),
    )
    .unwrap();
    // A program at version 1 meets a file at version 2.
    let e = db
        .migrate(&Migrations::new().step(1, "one", |_| Ok(())))
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::FileNewer {
                file_version: 2,
                code_version: 1
            }
        ),
        "{e:?}"
    );
    let shown = e.to_string();
    assert!(
        shown.contains("version 2") && shown.contains("version 1"),
        "{shown}"
    );
    // A field the program does not know: a newer program, or a drop.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    struct Fewer {
        #[strata(primary_key)]
        id: i64,
        #[strata(max_len = 20)]
        title: String,
        #[strata(index)]
        author: String,
    }
    let two = || {
        Migrations::new()
            .step(1, "one", |_| Ok(()))
            .step(2, "two", |_| Ok(()))
    };
    let e = db.migrate(&two().model::<Fewer>()).unwrap_err();
    let shown = e.to_string();
    assert!(
        matches!(&e, Error::SchemaMismatch { field, .. } if field == "body"),
        "{shown}"
    );
    assert!(
        shown.contains("drop_field(\"posts\", \"body\")") && shown.contains("version 2"),
        "{shown}"
    );
    // A type change without a step.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    struct Retyped {
        #[strata(primary_key)]
        id: i64,
        #[strata(max_len = 20)]
        title: String,
        #[strata(index)]
        author: Vec<u8>,
        body: String,
    }
    let e = db.migrate(&two().model::<Retyped>()).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.contains("author") && shown.contains("m.convert::<Retyped>"),
        "{shown}"
    );
    // A new field that is neither an Option nor has a default.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    struct Required {
        #[strata(primary_key)]
        id: i64,
        #[strata(max_len = 20)]
        title: String,
        #[strata(index)]
        author: String,
        body: String,
        rank: i64,
    }
    let e = db.migrate(&two().model::<Required>()).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.contains("rank") && shown.contains("add_field"),
        "{shown}"
    );
    // Nothing of these changed the file.
    assert_eq!(db.schema_history().unwrap().len(), 2);
    assert_eq!(all::<v1::Post>(&db).len(), 5);
    drop(db);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn read_only_handles_read_and_say_when_migration_is_needed() {
    let d = dir("read-only");
    let path = d.join("db");
    let rows = write_v1(&path, 30);
    let ro = Options {
        read_only: true,
        ..Options::default()
    };
    {
        let db = Database::open_with(&path, ro.clone()).unwrap();
        assert_eq!(all::<v1::Post>(&db), rows);
        assert_eq!(db.check().unwrap(), 30);
        assert!(
            db.session()
                .and_then(|mut s| s.add(&mut rows[0].clone()))
                .is_err()
        );
    }
    let e = Database::open_migrated(&path, ro.clone(), &Migrations::new().model::<v2::Post>())
        .unwrap_err();
    let shown = e.to_string();
    assert!(
        matches!(e, Error::MigrationNeeded { .. }) && shown.contains("views"),
        "{shown}"
    );
    // Once migrated, the read-only open with the same migrations works.
    drop(
        Database::open_migrated(
            &path,
            Options::default(),
            &Migrations::new().model::<v2::Post>(),
        )
        .unwrap(),
    );
    let db = Database::open_migrated(&path, ro, &Migrations::new().model::<v2::Post>()).unwrap();
    assert_eq!(all::<v2::Post>(&db).len(), 30);
    drop(db);
    // A file the ORM never opened read-write has no models, and reads as empty.
    let fresh = d.join("fresh");
    drop(strata::engine::Database::open(&fresh).unwrap());
    let db = Database::open_with(
        &fresh,
        Options {
            read_only: true,
            ..Options::default()
        },
    )
    .unwrap();
    assert!(all::<v1::Post>(&db).is_empty());
    drop(db);
    std::fs::remove_dir_all(&d).unwrap();
}

/// An index added over a float column that holds NaN cannot order it: the
/// build is refused, naming the column, and the file is unchanged.
#[test]
fn an_index_over_nan_is_refused_and_the_file_is_unchanged() {
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "readings")]
    struct Reading {
        #[strata(primary_key)]
        id: i64,
        value: f64,
    }
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "readings")]
    struct Indexed {
        #[strata(primary_key)]
        id: i64,
        #[strata(index)]
        value: f64,
    }
    let d = dir("nan");
    let path = d.join("db");
    let db = Database::open(&path).unwrap();
    let mut s = db.session().unwrap();
    for (id, value) in [(1, 0.5), (2, f64::NAN), (3, 2.0)] {
        s.add(&mut Reading { id, value }).unwrap();
    }
    s.commit().unwrap();
    drop(db);
    let e = Database::open_migrated(
        &path,
        Options::default(),
        &Migrations::new().model::<Indexed>(),
    )
    .unwrap_err();
    let shown = e.to_string();
    assert!(
        matches!(e, Error::MigrationFailed { .. }) && shown.contains("Indexed.value holds NaN"),
        "{shown}"
    );
    let db = Database::open(&path).unwrap();
    assert!(db.schema_history().unwrap().is_empty());
    let rows = all::<Reading>(&db);
    assert_eq!(rows.len(), 3);
    assert!(rows[1].value.is_nan());
    assert_eq!(db.check().unwrap(), 3);
    drop(db);
    std::fs::remove_dir_all(&d).unwrap();
}
