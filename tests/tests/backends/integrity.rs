//! Unique columns, foreign keys and delete rules on either store.

use strata::Error;
use strata_tests::TempDir;
use strata_tests::backend::Backend;
use strata_tests::models::{Address, Person, User};

fn user(name: &str, email: &str) -> User {
    User {
        id: 0,
        username: name.into(),
        email: email.into(),
    }
}

pub fn unique_columns_refuse_taken_values(b: Backend) {
    let dir = TempDir::new("conf-int");
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    s.add(&mut user("admin", "admin@x")).unwrap();
    s.commit().unwrap();
    let mut s = db.session().unwrap();
    let e = s.add(&mut user("admin", "other@x")).unwrap_err();
    assert!(
        matches!(
            e,
            Error::UniqueViolation {
                column: "username",
                ..
            }
        ),
        "{e:?}"
    );
    let mut peter = user("peter", "peter@x");
    s.add(&mut peter).unwrap();
    peter.email = "admin@x".into();
    assert!(matches!(
        s.update(&peter),
        Err(Error::UniqueViolation {
            column: "email",
            ..
        })
    ));
    // The session is still usable, and a freed value can be taken.
    let admin = s
        .query::<User>()
        .filter(User::username.eq("admin"))
        .one()
        .unwrap();
    s.delete(&admin).unwrap();
    s.update(&peter).unwrap();
    s.commit().unwrap();
    let s = db.read_session().unwrap();
    let all = s.query::<User>().all().unwrap();
    assert_eq!(all, vec![peter]);
}

/// Two sessions add the same username at once, through
/// `Database::transaction`: exactly one row is stored, and the other gets
/// `UniqueViolation` (the engine makes it wait for the first; etcd makes
/// its commit conflict, and the retry sees the value).
pub fn concurrent_adds_of_one_value_give_one_row(b: Backend) {
    let dir = TempDir::new("conf-int");
    let db = b.open(&dir);
    db.register::<User>().unwrap();
    for round in 0..10 {
        let results: Vec<_> = (0..2)
            .map(|i| {
                let db = db.clone();
                std::thread::spawn(move || {
                    db.transaction(|s| {
                        s.add(&mut user(&format!("u{round}"), &format!("{round}-{i}@x")))
                    })
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(Error::UniqueViolation { .. })))
            .count();
        assert_eq!((ok, refused), (1, 1), "round {round}: {results:?}");
    }
    let s = db.read_session().unwrap();
    assert_eq!(s.query::<User>().count().unwrap(), 10);
}

pub fn foreign_keys_must_name_a_parent(b: Backend) {
    let dir = TempDir::new("conf-int");
    let db = b.open(&dir);
    db.register::<Person>().unwrap();
    let mut s = db.session().unwrap();
    let mut a = Address {
        id: 0,
        email: "a@x".into(),
        person_id: 99,
    };
    assert!(matches!(
        s.add(&mut a),
        Err(Error::ForeignKeyViolation {
            column: "person_id",
            ..
        })
    ));
    let mut p = Person {
        id: 0,
        name: "p".into(),
    };
    s.add(&mut p).unwrap();
    a.person_id = p.id;
    s.add(&mut a).unwrap();
    a.person_id = 1234;
    assert!(matches!(
        s.update(&a),
        Err(Error::ForeignKeyViolation { .. })
    ));
    s.commit().unwrap();
    assert_eq!(db.check().unwrap(), 2);
}

pub fn restrict_cascade_and_set_null(b: Backend) {
    use super::relationships::{Holder, Passport};
    let dir = TempDir::new("conf-int");
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    // Cascade: Person -> Address.
    let mut p = Person {
        id: 0,
        name: "p".into(),
    };
    s.add(&mut p).unwrap();
    for e in ["1@x", "2@x"] {
        s.add(&mut Address {
            id: 0,
            email: e.into(),
            person_id: p.id,
        })
        .unwrap();
    }
    // Holder -> Passport cascades too; a Passport whose holder is gone
    // cannot be added.
    let mut h = Holder {
        id: 0,
        name: "h".into(),
    };
    s.add(&mut h).unwrap();
    s.add(&mut Passport {
        id: 0,
        number: "N".into(),
        holder_id: h.id,
    })
    .unwrap();
    s.commit().unwrap();
    let mut s = db.session().unwrap();
    s.delete(&p).unwrap();
    assert_eq!(s.query::<Address>().count().unwrap(), 0);
    s.delete(&h).unwrap();
    assert_eq!(s.query::<Passport>().count().unwrap(), 0);
    s.commit().unwrap();
    assert_eq!(db.check().unwrap(), 0);
    restrict_and_set_null(b);
}

/// Restrict (the default) and set-null, on models of their own.
fn restrict_and_set_null(b: Backend) {
    use serde::{Deserialize, Serialize};
    use strata::Model;

    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "team")]
    #[strata(has_many(players = Player, fk = team_id, backref = team, on_delete = set_null))]
    struct Team {
        #[strata(primary_key)]
        id: i64,
    }
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "player")]
    struct Player {
        #[strata(primary_key)]
        id: i64,
        #[strata(foreign_key = Team)]
        team_id: Option<i64>,
    }
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "badge")]
    struct Badge {
        #[strata(primary_key)]
        id: i64,
        #[strata(foreign_key = Team)]
        team_id: i64,
    }

    let dir = TempDir::new("conf-int");
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    let mut t = Team { id: 0 };
    s.add(&mut t).unwrap();
    let mut pl = Player {
        id: 0,
        team_id: Some(t.id),
    };
    s.add(&mut pl).unwrap();
    let mut badge = Badge {
        id: 0,
        team_id: t.id,
    };
    s.add(&mut badge).unwrap();
    s.commit().unwrap();
    let mut s = db.session().unwrap();
    assert!(matches!(s.delete(&t), Err(Error::Restricted { .. })));
    s.delete(&badge).unwrap();
    s.delete(&t).unwrap();
    assert_eq!(s.get::<Player>(pl.id).unwrap().unwrap().team_id, None);
    s.commit().unwrap();
    assert_eq!(db.check().unwrap(), 1);
}

pub fn refused_writes_change_nothing(b: Backend) {
    let dir = TempDir::new("conf-int");
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    s.add(&mut user("a", "a@x")).unwrap();
    let long = "x".repeat(81);
    assert!(matches!(
        s.add(&mut user(&long, "b@x")),
        Err(Error::TooLong { .. })
    ));
    let mut dup = user("a2", "a2@x");
    dup.id = 1;
    assert!(matches!(s.add(&mut dup), Err(Error::DuplicateKey { .. })));
    s.commit().unwrap();
    let s = db.read_session().unwrap();
    assert_eq!(s.query::<User>().count().unwrap(), 1);
    drop(s);
    assert_eq!(db.check().unwrap(), 1);
}
