//! `QueryMut`: updates and deletes through a query keep every index in
//! step with the rows, and read like `Query` meanwhile.

use crate::cases::{check_filters, filters};
use crate::fixture::{Country, Student, assert_order_of, fixture, hand, ids, sorted, student};
use strata::{Access, Error, Plan, TextColumn, Value};

#[test]
fn update_changes_rows_and_keeps_indexes() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let n = s
        .query_mut::<Student>()
        .filter(Student::year.eq(1))
        .update(|r| {
            r.year = 5;
            r.gpa += 10.0;
            r.name = format!("{}-x", r.name);
        })
        .unwrap();
    assert_eq!(n, 3);
    // Visible in the same session.
    assert_eq!(
        ids(&s
            .query::<Student>()
            .filter(Student::year.eq(5))
            .all()
            .unwrap()),
        [2, 5, 9]
    );
    s.commit().unwrap();

    let mut want = fx.students.clone();
    for r in want.iter_mut().filter(|r| r.year == 1) {
        r.year = 5;
        r.gpa += 10.0;
        r.name = format!("{}-x", r.name);
    }
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().all().unwrap(), want);
    // Each changed index finds the rows under the new values only.
    let cases = filters![
        Student::year.eq(5),              |r| r.year == 5               => [2, 5, 9];
        Student::year.eq(1),              |_| false                     => [];
        Student::year.in_([5, 4]),        |r| r.year >= 4               => [2, 5, 7, 9];
        Student::year.gt(4),              |r| r.year > 4                => [2, 5, 9];
        Student::gpa.gt(10.0),            |r| r.gpa > 10.0              => [2, 5, 9];
        Student::gpa.lt(3.3),             |r| r.gpa < 3.3               => [4, 6, 7];
        Student::name.eq("bob-x"),        |r| r.name == "bob-x"         => [5];
        Student::name.eq("bob"),          |_| false                     => [];
        Student::name.starts_with("ada"), |r| r.name.starts_with("ada") => [1, 2];
    ];
    check_filters(&s, &want, cases);
    // Ordering through the changed index.
    let got = s
        .query::<Student>()
        .order_by(Student::gpa.desc())
        .all()
        .unwrap();
    assert_eq!(got, sorted(&want, |a, b| b.gpa.total_cmp(&a.gpa)));
    assert_eq!(ids(&got[..3]), [5, 2, 9]);
    let got = s.query::<Student>().order_by(Student::year).all().unwrap();
    assert_order_of(&got, &sorted(&want, |a, b| a.year.cmp(&b.year)), |r| r.year);
    // The old unique value is free again.
    drop(s);
    let mut s = fx.db.session().unwrap();
    let mut again = student("bob", 1, 2.0, None, None, false, &[], None);
    s.add(&mut again).unwrap();
    assert_eq!(again.id, 10);
    s.commit().unwrap();
}

#[test]
fn update_to_a_taken_unique_value_fails() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let err = s
        .query_mut::<Student>()
        .filter(Student::name.eq("bob"))
        .update(|r| r.name = "ada".into());
    match err {
        Err(Error::UniqueViolation {
            model,
            column,
            value,
        }) => {
            assert_eq!(model, "Student");
            assert_eq!(column, "name");
            assert_eq!(value, Value::Text("ada".into()));
        }
        other => panic!("expected UniqueViolation, got {other:?}"),
    }
    // The refused write changed nothing, and the session goes on.
    assert_eq!(s.get::<Student>(5).unwrap().unwrap().name, "bob");
    assert_eq!(
        s.query::<Student>()
            .filter(Student::name.eq("ada"))
            .one()
            .unwrap()
            .id,
        1
    );
    // The unique nullable column too; setting it to its own value is fine.
    let err = s
        .query_mut::<Student>()
        .filter(Student::id.eq(2))
        .update(|r| r.badge = Some("gold".into()));
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
    let n = s
        .query_mut::<Student>()
        .filter(Student::id.eq(1))
        .update(|r| {
            r.badge = Some("gold".into());
            r.name = "ada".into();
        })
        .unwrap();
    assert_eq!(n, 1);
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().all().unwrap(), fx.students);
}

#[test]
fn update_nullable_columns_keeps_indexes() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    // rank 4 -> null; null rank -> 8.
    let n = s
        .query_mut::<Student>()
        .filter(Student::rank.eq(4))
        .update(|r| r.rank = None)
        .unwrap();
    assert_eq!(n, 2);
    let n = s
        .query_mut::<Student>()
        .filter(Student::rank.is_null().and(Student::id.ne(2)))
        .filter(Student::id.ne(7))
        .update(|r| r.rank = Some(8))
        .unwrap();
    assert_eq!(n, 3);
    // Free "gold", then give it to another row.
    let n = s
        .query_mut::<Student>()
        .filter(Student::badge.eq("gold"))
        .update(|r| r.badge = None)
        .unwrap();
    assert_eq!(n, 1);
    let n = s
        .query_mut::<Student>()
        .filter(Student::name.eq("eve"))
        .update(|r| {
            r.badge = Some("gold".into());
            r.nickname = Some("Evie".into());
        })
        .unwrap();
    assert_eq!(n, 1);
    s.commit().unwrap();

    let mut want = fx.students.clone();
    for r in &mut want {
        r.rank = match (r.id, r.rank) {
            (2 | 7, _) => None,
            (_, None) => Some(8),
            (_, x) => x,
        };
        if r.id == 1 {
            r.badge = None;
        }
        if r.id == 8 {
            r.badge = Some("gold".into());
            r.nickname = Some("Evie".into());
        }
    }
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().all().unwrap(), want);
    let cases = filters![
        Student::rank.is_null(),            |r| r.rank.is_none()                   => [2, 7];
        Student::rank.eq(4),                |_| false                              => [];
        Student::rank.eq(8),                |r| r.rank == Some(8)                  => [3, 5, 9];
        Student::rank.ge(7),                |r| r.rank.is_some_and(|x| x >= 7)     => [3, 4, 5, 8, 9];
        Student::badge.eq("gold"),          |r| r.badge.as_deref() == Some("gold") => [8];
        Student::nickname.starts_with("E"), |r| r.nickname.as_deref().is_some_and(|x| x.starts_with('E')) => [8];
    ];
    check_filters(&s, &want, cases);
    let got = s.query::<Student>().order_by(Student::rank).all().unwrap();
    assert_order_of(&got, &sorted(&want, |a, b| a.rank.cmp(&b.rank)), |r| r.rank);
}

#[test]
fn update_refuses_a_changed_primary_key() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    // Every row is changed before any is written: a key changed in the
    // last row leaves the earlier ones as they were.
    let err = s
        .query_mut::<Student>()
        .filter(Student::id.le(3))
        .update(|r| {
            r.year += 1;
            if r.id == 3 {
                r.id = 30;
            }
        });
    assert!(
        matches!(err, Err(Error::KeyChanged { model: "Student" })),
        "{err:?}"
    );
    assert!(s.get::<Student>(30).unwrap().is_none());
    for i in 0..3 {
        assert_eq!(
            s.get::<Student>(i as i64 + 1).unwrap().as_ref(),
            Some(&fx.students[i])
        );
    }
}

#[test]
fn update_with_no_match_changes_nothing() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let mut calls = 0;
    let n = s
        .query_mut::<Student>()
        .filter(Student::gpa.gt(9.0))
        .update(|_| calls += 1)
        .unwrap();
    assert_eq!((n, calls), (0, 0));
    let n = s
        .query_mut::<Student>()
        .filter(Student::id.in_(Vec::<i64>::new()))
        .delete()
        .unwrap();
    assert_eq!(n, 0);
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().all().unwrap(), fx.students);
}

#[test]
fn update_respects_order_and_limit() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    // Only the two best are changed.
    let n = s
        .query_mut::<Student>()
        .order_by(Student::gpa.desc())
        .limit(2)
        .update(|r| r.active = false)
        .unwrap();
    assert_eq!(n, 2);
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    let inactive = s
        .query::<Student>()
        .filter(Student::active.eq(false))
        .all()
        .unwrap();
    assert_eq!(ids(&inactive), [1, 2, 4, 6, 8, 9]);
}

#[test]
fn delete_returns_the_count_and_removes_rows_and_index_entries() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let n = s
        .query_mut::<Student>()
        .filter(Student::gpa.lt(3.0))
        .delete()
        .unwrap();
    assert_eq!(n, 4);
    // Gone inside the session already.
    assert!(s.get::<Student>(4).unwrap().is_none());
    assert_eq!(s.query::<Student>().count().unwrap(), 5);
    s.commit().unwrap();

    let want = hand(&fx.students, |r| r.gpa >= 3.0);
    assert_eq!(ids(&want), [1, 2, 3, 5, 8]);
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.query::<Student>().all().unwrap(), want);
    for id in [4, 6, 7, 9] {
        assert!(s.get::<Student>(id).unwrap().is_none(), "row {id}");
    }
    // No index still finds them.
    let cases = filters![
        Student::gpa.lt(3.0),              |_| false                          => [];
        Student::name.eq("bea"),           |_| false                          => [];
        Student::name.in_(["cyd", "zoe"]), |_| false                          => [];
        Student::year.eq(4),               |_| false                          => [];
        Student::year.eq(3),               |r| r.year == 3                    => [3];
        Student::rank.le(4),               |r| r.rank.is_some_and(|x| x <= 4) => [1, 2];
        Student::badge.eq("tin"),          |_| false                          => [];
    ];
    check_filters(&s, &want, cases);
    let got = s.query::<Student>().order_by(Student::gpa).all().unwrap();
    assert_eq!(got, sorted(&want, |a, b| a.gpa.total_cmp(&b.gpa)));
    let got = s
        .query::<Student>()
        .order_by(Student::rank.desc())
        .all()
        .unwrap();
    assert_order_of(&got, &sorted(&want, |a, b| b.rank.cmp(&a.rank)), |r| r.rank);
    drop(s);

    // Their unique values are free again; a second delete finds nothing.
    let mut s = fx.db.session().unwrap();
    s.add(&mut student(
        "bea",
        2,
        2.0,
        None,
        None,
        true,
        &[],
        Some("tin"),
    ))
    .unwrap();
    let n = s
        .query_mut::<Student>()
        .filter(Student::gpa.lt(-1.0))
        .delete()
        .unwrap();
    assert_eq!(n, 0);
    // Delete by an index lookup, and the whole table.
    let n = s
        .query_mut::<Student>()
        .filter(Student::year.eq(2))
        .delete()
        .unwrap();
    assert_eq!(n, 3);
    let n = s.query_mut::<Student>().delete().unwrap();
    assert_eq!(n, 3);
    assert!(!s.query::<Student>().exists().unwrap());
    s.commit().unwrap();
}

#[test]
fn delete_with_order_and_limit() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    let n = s
        .query_mut::<Student>()
        .filter(Student::active.eq(true))
        .order_by(Student::gpa)
        .limit(2)
        .delete()
        .unwrap();
    assert_eq!(n, 2);
    s.commit().unwrap();
    let s = fx.db.read_session().unwrap();
    // The two lowest active: dee (0.0) and bob (3.5).
    assert_eq!(
        ids(&s.query::<Student>().all().unwrap()),
        [1, 2, 3, 4, 6, 8, 9]
    );
}

#[test]
fn query_mut_reads_like_query() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    s.query_mut::<Student>()
        .filter(Student::id.eq(1))
        .update(|r| r.gpa = 1.0)
        .unwrap();
    let q = s
        .query_mut::<Student>()
        .filter(Student::gpa.le(1.25))
        .order_by(Student::gpa);
    assert_eq!(
        q.explain(),
        Plan {
            access: Access::IndexRange("gpa"),
            ordered: true,
            reverse: false,
            filtered: false,
        }
    );
    // Sees the session's own change.
    assert_eq!(ids(&q.all().unwrap()), [6, 7, 1, 9]);
    assert_eq!(q.count().unwrap(), 4);
    assert!(q.exists().unwrap());
    assert_eq!(q.first().unwrap().map(|r| r.id), Some(6));
    let q = s.query_mut::<Student>().filter(Student::id.eq(1));
    assert_eq!(q.one().unwrap().gpa, 1.0);
    drop(s);
    // Rolled back.
    let s = fx.db.read_session().unwrap();
    assert_eq!(s.get::<Student>(1).unwrap().unwrap().gpa, 3.9);
}

/// The integrity check (every index holds exactly its rows' entries)
/// passes on the fixture as added.
#[test]
fn integrity_check_passes_on_the_fixture() {
    let fx = fixture();
    match fx.db.check() {
        Ok(rows) => assert_eq!(rows, 16),
        Err(e) => panic!("integrity check of the fixture: {e:?}"),
    }
}

/// QueryMut's updates and deletes keep every index in step with the rows.
#[test]
fn integrity_check_passes_after_query_mut() {
    let fx = fixture();
    let mut s = fx.db.session().unwrap();
    s.query_mut::<Student>()
        .filter(Student::year.eq(1))
        .update(|r| {
            r.year = 5;
            r.gpa += 10.0;
            r.name.push('x');
        })
        .unwrap();
    s.query_mut::<Student>()
        .filter(Student::rank.eq(4))
        .update(|r| r.rank = None)
        .unwrap();
    s.query_mut::<Student>()
        .filter(Student::badge.eq("gold"))
        .update(|r| r.badge = None)
        .unwrap();
    s.query_mut::<Student>()
        .filter(Student::id.eq(8))
        .update(|r| r.badge = Some("gold".into()))
        .unwrap();
    assert_eq!(
        s.query_mut::<Student>()
            .filter(Student::gpa.lt(3.0))
            .delete()
            .unwrap(),
        3
    );
    assert_eq!(
        s.query_mut::<Country>()
            .filter(Country::code.ge("NZ"))
            .delete()
            .unwrap(),
        2
    );
    s.commit().unwrap();
    match fx.db.check() {
        Ok(rows) => assert_eq!(rows, 6 + 5),
        Err(e) => panic!("integrity check after updates and deletes: {e:?}"),
    }
}
