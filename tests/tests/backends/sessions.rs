//! Sessions on either store.

use std::collections::BTreeSet;
use strata::{Error, engine};
use strata_tests::TempDir;
use strata_tests::backend::Backend;
use strata_tests::models::{Student, User};

fn student(name: &str, gpa: f64) -> Student {
    Student {
        id: 0,
        name: name.into(),
        student_number: None,
        major: None,
        gpa,
    }
}

pub fn commit_rollback_and_read_only(b: Backend) {
    let dir = TempDir::new("conf-ses");
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    s.add(&mut student("kept", 3.0)).unwrap();
    s.commit().unwrap();
    let mut s = db.session().unwrap();
    s.add(&mut student("dropped", 3.5)).unwrap();
    // A session reads its own writes, in queries too.
    assert_eq!(s.query::<Student>().count().unwrap(), 2);
    assert_eq!(
        s.query::<Student>()
            .filter(Student::gpa.gt(3.2))
            .all()
            .unwrap()
            .len(),
        1
    );
    s.rollback();
    let mut s = db.read_session().unwrap();
    let names: Vec<String> = s
        .query::<Student>()
        .all()
        .unwrap()
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert_eq!(names, ["kept"]);
    assert!(matches!(
        s.add(&mut student("no", 1.0)),
        Err(Error::Engine(engine::Error::ReadOnly))
    ));
}

/// Eight threads increment one counter row 25 times each through
/// `Database::transaction`: every increment survives (a lost update
/// would show as a smaller total).
pub fn transaction_retries_lost_updates(b: Backend) {
    let dir = TempDir::new("conf-ses");
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    let mut c = student("counter", 0.0);
    s.add(&mut c).unwrap();
    s.commit().unwrap();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    db.transaction(|s| {
                        let mut row = s.get::<Student>(c.id)?.expect("the counter");
                        row.gpa += 1.0;
                        s.update(&row)
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = db.read_session().unwrap();
    assert_eq!(s.get::<Student>(c.id).unwrap().unwrap().gpa, 200.0);
}

/// Two handles on the same data (two processes, for etcd) add rows with
/// automatic keys, some given by hand: no key is handed out twice, and
/// no add fails.
pub fn automatic_keys_are_unique_across_handles(b: Backend) {
    let dir = TempDir::new("conf-ses");
    let db = b.open(&dir);
    let handles: Vec<strata::Database> = match b {
        // The file admits one handle: share it.
        Backend::File => vec![db.clone(), db],
        Backend::Etcd => vec![db, b.open(&dir)],
    };
    let threads: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(h, db)| {
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..60 {
                    let mut u = User {
                        // Negative keys by hand: the sequences never reach them.
                        id: if i % 20 == 7 {
                            -(h as i64 * 100 + i)
                        } else {
                            0
                        },
                        username: format!("h{h}-{i}"),
                        email: format!("h{h}-{i}@x"),
                    };
                    db.transaction(|s| s.add(&mut u)).unwrap();
                    ids.push(u.id);
                }
                ids
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for t in threads {
        for id in t.join().unwrap() {
            assert!(all.insert(id), "key {id} handed out twice");
        }
    }
    assert_eq!(all.len(), 120);
}

pub fn data_and_schemas_survive_a_reopen(b: Backend) {
    let dir = TempDir::new("conf-ses");
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    for i in 0..10 {
        s.add(&mut student(&format!("s{i}"), f64::from(i))).unwrap();
    }
    s.commit().unwrap();
    drop(db);
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    let mut next = student("next", 1.0);
    s.add(&mut next).unwrap();
    // The file's sequence resumes right after the largest stored key;
    // etcd's counter resumes after the blocks handed out before.
    match b {
        Backend::File => assert_eq!(next.id, 11),
        Backend::Etcd => assert!(next.id > 10, "{}", next.id),
    }
    s.commit().unwrap();
    let s = db.read_session().unwrap();
    let top = s
        .query::<Student>()
        .filter(Student::gpa.ge(8.0))
        .all()
        .unwrap();
    assert_eq!(top.len(), 2);
    drop(s);
    assert_eq!(db.check().unwrap(), 11);
}
