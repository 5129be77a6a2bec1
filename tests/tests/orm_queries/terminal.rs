//! The terminal operations (`first`, `one`, `all`, `count`, `exists`,
//! `get`, `iter`) beyond what every table row checks of them, and how
//! many rows a plan reads.

use crate::fixture::{Country, Student, by_id, fixture, hand, ids, open, sorted};
use strata::{Error, Expr};
use strata_tests::TempDir;

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
    let dir = TempDir::new("orm-queries");
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
    let dir = TempDir::new("orm-queries");
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
