//! The first use of a model inside a session: its schema is stored and its
//! tables created in the session's own transaction (published to the
//! handle when the session commits), and a session never waits on a
//! registration of its own. A model no session has written yet reads as
//! empty.
//!
//! Every test runs with a short lock timeout, so that a session waiting on
//! itself would fail in a fraction of a second, not after five.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use strata::{Database, Error, Model};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "person")]
#[strata(has_many(addresses = Address, fk = person_id, backref = person))]
struct Person {
    #[strata(primary_key)]
    id: i64,
    name: String,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "address")]
struct Address {
    #[strata(primary_key)]
    id: i64,
    email: String,
    #[strata(foreign_key = Person)]
    person_id: i64,
}

struct TempDb {
    dir: std::path::PathBuf,
    db: Option<Database>,
}

impl TempDb {
    fn db(&self) -> &Database {
        self.db.as_ref().unwrap()
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.db = None;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn open(tag: &str) -> TempDb {
    let dir = std::env::temp_dir().join(format!("strata-first-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let opts = strata::engine::Options {
        log_preallocate: 0,
        lock_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let db = Database::open_with(dir.join("db"), opts).unwrap();
    TempDb { dir, db: Some(db) }
}

fn person(name: &str) -> Person {
    Person {
        id: 0,
        name: name.into(),
    }
}

fn address(email: &str, person_id: i64) -> Address {
    Address {
        id: 0,
        email: email.into(),
        person_id,
    }
}

/// The case: a child added before its parent model was ever used
/// is refused as a foreign-key violation, and the session goes on to add
/// the parent.
#[test]
fn a_child_before_its_parent_model_was_ever_used() {
    let t = open("child-first");
    let mut s = t.db().session().unwrap();
    let r = s.add(&mut address("a", 999));
    assert!(
        matches!(
            r,
            Err(Error::ForeignKeyViolation {
                model: "Address",
                column: "person_id",
                parent: "person",
                ..
            })
        ),
        "{r:?}"
    );
    let mut ann = person("Ann");
    s.add(&mut ann).unwrap();
    s.add(&mut address("ann@example.org", ann.id)).unwrap();
    s.commit().unwrap();
    let s = t.db().read_session().unwrap();
    assert_eq!(s.query::<Address>().count().unwrap(), 1);
    assert_eq!(Person::addresses.load(&s, &ann).unwrap().len(), 1);
    drop(s);
    assert_eq!(t.db().check().unwrap(), 2);
}

/// Every order of first uses inside one session: reads and writes of
/// both models, each model's first use at any point.
#[test]
fn first_uses_in_any_order_inside_one_session() {
    type Step = fn(&mut strata::Session) -> strata::Result<()>;
    let steps: [(&str, Step); 5] = [
        ("query people", |s| s.query::<Person>().count().map(drop)),
        ("query addresses", |s| {
            s.query::<Address>().count().map(drop)
        }),
        ("get a person", |s| s.get::<Person>(7).map(drop)),
        ("add a person", |s| s.add(&mut person("Bo"))),
        ("add an orphan address", |s| {
            match s.add(&mut address("x", 999)) {
                Err(Error::ForeignKeyViolation { .. }) => Ok(()),
                other => panic!("expected a foreign-key violation, got {other:?}"),
            }
        }),
    ];
    for (i, first) in steps.iter().enumerate() {
        for (j, second) in steps.iter().enumerate() {
            let t = open(&format!("order-{i}-{j}"));
            let mut s = t.db().session().unwrap();
            (first.1)(&mut s).unwrap_or_else(|e| panic!("{} first: {e}", first.0));
            (second.1)(&mut s).unwrap_or_else(|e| panic!("{} after {}: {e}", second.0, first.0));
            s.add(&mut person("Cy")).unwrap();
            s.commit().unwrap();
            t.db().check().unwrap();
        }
    }
}

/// A read session on the same thread, while a write session has the
/// model's first use open, neither writes nor waits: the model reads as
/// empty until the writer commits.
#[test]
fn a_read_session_beside_an_open_first_use() {
    let t = open("read-beside");
    let mut w = t.db().session().unwrap();
    assert!(matches!(
        w.add(&mut address("a", 1)),
        Err(Error::ForeignKeyViolation { .. })
    ));
    let r = t.db().read_session().unwrap();
    assert_eq!(r.query::<Person>().count().unwrap(), 0);
    assert_eq!(r.get::<Person>(1).unwrap(), None);
    drop(r);
    let mut ann = person("Ann");
    w.add(&mut ann).unwrap();
    w.commit().unwrap();
    let r = t.db().read_session().unwrap();
    assert_eq!(r.query::<Person>().all().unwrap(), vec![ann]);
}

/// A session that stored a model's schema and rolls back leaves nothing:
/// the next session stores it again and works.
#[test]
fn a_rolled_back_first_use_leaves_nothing() {
    let t = open("rollback");
    let mut s = t.db().session().unwrap();
    s.add(&mut person("Ann")).unwrap();
    s.rollback();
    assert_eq!(t.db().check().unwrap(), 0);
    let mut s = t.db().session().unwrap();
    let mut bo = person("Bo");
    s.add(&mut bo).unwrap();
    s.add(&mut address("bo@example.org", bo.id)).unwrap();
    s.commit().unwrap();
    assert_eq!(t.db().check().unwrap(), 2);
    // And the schemas were stored: a reopened handle knows both tables.
    let path = t.dir.join("db");
    let mut t = t;
    t.db = None;
    let db = Database::open(&path).unwrap();
    assert_eq!(db.check().unwrap(), 2);
}

/// Deleting a parent in the session that stored its child's schema sees
/// the child's foreign key, before that session commits.
#[test]
fn a_delete_sees_a_child_table_stored_in_the_same_session() {
    let t = open("delete-sees");
    let mut s = t.db().session().unwrap();
    let mut ann = person("Ann");
    s.add(&mut ann).unwrap();
    s.add(&mut address("ann@example.org", ann.id)).unwrap();
    assert!(matches!(s.delete(&ann), Err(Error::Restricted { .. })));
    s.commit().unwrap();
}
