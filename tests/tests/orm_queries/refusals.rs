//! What `add` and `update` refuse: NaN in an indexed float, values over
//! their length limit, taken unique values; and -0.0 in a float index.

use crate::fixture::{Student, by_id, fixture, hand, ids, student};
use strata::{Error, TextColumn};

#[test]
fn nan_in_an_indexed_float_is_refused() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let mut bad = student("nan", 1, f64::NAN, None, None, false, &[], None);
    let err = s.add(&mut bad);
    assert!(
        matches!(
            err,
            Err(Error::NotANumber {
                model: "Student",
                column: "gpa"
            })
        ),
        "{err:?}"
    );
    // Nothing was written, and the session goes on.
    assert!(
        !s.query::<Student>()
            .filter(Student::name.eq("nan"))
            .exists()
            .unwrap()
    );
    assert_eq!(s.query::<Student>().count().unwrap(), 9);
    // Through an update too.
    let err = s
        .query_mut::<Student>()
        .filter(Student::id.eq(1))
        .update(|r| r.gpa = f64::NAN);
    assert!(
        matches!(err, Err(Error::NotANumber { column: "gpa", .. })),
        "{err:?}"
    );
    assert_eq!(s.get::<Student>(1).unwrap().unwrap().gpa, 3.9);
    // Infinities are numbers.
    let mut inf = student("inf", 1, f64::INFINITY, None, None, false, &[], None);
    s.add(&mut inf).unwrap();
    let top = s
        .query::<Student>()
        .order_by(Student::gpa.desc())
        .first()
        .unwrap();
    assert_eq!(top.map(|r| r.name), Some("inf".into()));
    assert_eq!(
        ids(&s
            .query::<Student>()
            .filter(Student::gpa.gt(4.0))
            .all()
            .unwrap()),
        [inf.id]
    );
    s.commit().unwrap();
}

#[test]
fn too_long_values_are_refused() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    // 13 characters where 12 are allowed.
    let err = s.add(&mut student(
        "abcdefghijklm",
        1,
        1.0,
        None,
        None,
        false,
        &[],
        None,
    ));
    match err {
        Err(Error::TooLong {
            model,
            column,
            max,
            len,
        }) => {
            assert_eq!((model, column, max, len), ("Student", "name", 12, 13));
        }
        other => panic!("expected TooLong, got {other:?}"),
    }
    // Characters, not bytes: 12 two-byte characters fit, 13 do not.
    let mut ok = student(&"é".repeat(12), 1, 1.0, None, None, false, &[], None);
    s.add(&mut ok).unwrap();
    let err = s.add(&mut student(
        &"é".repeat(13),
        1,
        1.0,
        None,
        None,
        false,
        &[],
        None,
    ));
    assert!(
        matches!(
            err,
            Err(Error::TooLong {
                max: 12,
                len: 13,
                ..
            })
        ),
        "{err:?}"
    );
    // A nullable limited column.
    let err = s.add(&mut student(
        "long-badge",
        1,
        1.0,
        None,
        None,
        false,
        &[],
        Some("abcdefghijklmnopq"),
    ));
    assert!(
        matches!(
            err,
            Err(Error::TooLong {
                column: "badge",
                max: 16,
                len: 17,
                ..
            })
        ),
        "{err:?}"
    );
    // Bytes count bytes.
    let err = s.add(&mut student(
        "photo", 1, 1.0, None, None, false, &[0; 9], None,
    ));
    assert!(
        matches!(
            err,
            Err(Error::TooLong {
                column: "photo",
                max: 8,
                len: 9,
                ..
            })
        ),
        "{err:?}"
    );
    // Through an update.
    let err = s
        .query_mut::<Student>()
        .filter(Student::id.eq(1))
        .update(|r| r.name = "x".repeat(20));
    assert!(
        matches!(
            err,
            Err(Error::TooLong {
                column: "name",
                max: 12,
                len: 20,
                ..
            })
        ),
        "{err:?}"
    );
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().count().unwrap(), 10);
    assert_eq!(s.get::<Student>(1).unwrap().unwrap().name, "ada");
    assert_eq!(
        s.query::<Student>()
            .filter(Student::name.starts_with("é"))
            .one()
            .unwrap()
            .id,
        ok.id
    );
}

#[test]
fn unique_violation_on_add() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let err = s.add(&mut student("eve", 1, 1.0, None, None, false, &[], None));
    assert!(
        matches!(
            err,
            Err(Error::UniqueViolation {
                model: "Student",
                column: "name",
                ..
            })
        ),
        "{err:?}"
    );
    // Any number of null badges; a taken badge is refused.
    s.add(&mut student("new1", 1, 1.0, None, None, false, &[], None))
        .unwrap();
    let err = s.add(&mut student(
        "new2",
        1,
        1.0,
        None,
        None,
        false,
        &[],
        Some("iron"),
    ));
    assert!(
        matches!(
            err,
            Err(Error::UniqueViolation {
                column: "badge",
                ..
            })
        ),
        "{err:?}"
    );
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    assert_eq!(
        s.query::<Student>()
            .filter(Student::badge.is_null())
            .count()
            .unwrap(),
        5
    );
    assert_eq!(
        s.query::<Student>()
            .filter(Student::name.eq("eve"))
            .count()
            .unwrap(),
        1
    );
}

/// `0.0 == -0.0` for the filter (IEEE equality), so a plan through the
/// float index must find a row stored with -0.0 when asked for 0.0, as the
/// full scan does.
#[test]
fn negative_zero_in_a_float_index() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let mut neg = student("negzero", 1, -0.0, None, None, false, &[], None);
    s.add(&mut neg).unwrap();
    s.commit().unwrap();
    let mut rows = fx.students.clone();
    rows.push(neg.clone());
    let s = fx.db.read_session().unwrap();
    let mut wrong = Vec::new();
    for (e, f) in [
        (
            Student::gpa.eq(0.0),
            Box::new(|r: &Student| r.gpa == 0.0) as Box<dyn Fn(&Student) -> bool>,
        ),
        (
            Student::gpa.in_([0.0]),
            Box::new(|r: &Student| r.gpa == 0.0),
        ),
        (Student::gpa.ge(0.0), Box::new(|r: &Student| r.gpa >= 0.0)),
        (Student::gpa.le(-0.0), Box::new(|r: &Student| r.gpa <= -0.0)),
        (
            Student::gpa.between(0.0, 1.0),
            Box::new(|r: &Student| (0.0..=1.0).contains(&r.gpa)),
        ),
    ] {
        let want = hand(&rows, f);
        assert!(want.iter().any(|r| r.id == neg.id));
        let direct = s.query::<Student>().filter(e.clone());
        let hidden = s.query::<Student>().filter(e.clone().or(e.clone()));
        assert_eq!(hidden.all().unwrap(), want, "{e:?} by a full scan");
        let got = by_id(direct.all().unwrap());
        if got != want {
            wrong.push(format!(
                "{:?} via {}: got ids {:?}, want {:?}",
                e,
                direct.explain(),
                ids(&got),
                ids(&want)
            ));
        }
    }
    assert!(wrong.is_empty(), "plans lose -0.0:\n{}", wrong.join("\n"));
}
