//! Filters: each row of a table is a filter, the same filter by hand, and
//! the ids of the fixture rows it matches (see `cases.rs`).

use crate::cases::{filter_table, filters, queries, query_table};
use crate::fixture::{Country, Student, and3, by_id, cmp, fixture, hand, ids, not3, or3};
use strata::TextColumn;

#[test]
#[rustfmt::skip]
fn eq_on_every_column_kind() {
    filter_table(filters![
        Student::id.eq(4),                     |r| r.id == 4                            => [4];
        Student::name.eq("bea"),               |r| r.name == "bea"                      => [4];
        Student::name.eq(String::from("zoe")), |r| r.name == "zoe"                      => [9];
        Student::year.eq(2),                   |r| r.year == 2                          => [1, 4, 8];
        Student::gpa.eq(3.5),                  |r| r.gpa == 3.5                         => [5];
        Student::nickname.eq("Zed"),           |r| r.nickname.as_deref() == Some("Zed") => [9];
        Student::rank.eq(4),                   |r| r.rank == Some(4)                    => [2, 7];
        Student::active.eq(false),             |r| !r.active                            => [2, 4, 6, 9];
        Student::photo.eq(vec![7u8, 7]),       |r| r.photo == [7, 7]                    => [6];
        Student::photo.eq(&[][..]),            |r| r.photo.is_empty()                   => [2, 5, 7];
        Student::badge.eq("tin"),              |r| r.badge.as_deref() == Some("tin")    => [9];
        // Values no row holds.
        Student::id.eq(99),                    |r| r.id == 99                           => [];
        Student::name.eq("nobody"),            |_| false                                => [];
        Student::year.eq(7),                   |_| false                                => [];
        Student::gpa.eq(3.55),                 |_| false                                => [];
    ]);
}

#[test]
#[rustfmt::skip]
fn ne_is_false_on_null() {
    filter_table(filters![
        Student::year.ne(2),         |r| r.year != 2                                       => [2, 3, 5, 6, 7, 9];
        Student::name.ne("ada"),     |r| r.name != "ada"                                   => [2, 3, 4, 5, 6, 7, 8, 9];
        Student::id.ne(1),           |r| r.id != 1                                         => [2, 3, 4, 5, 6, 7, 8, 9];
        // Nullable columns: a null is neither equal nor unequal to anything.
        Student::rank.ne(4),         |r| r.rank.is_some_and(|x| x != 4)                    => [1, 4, 6, 8];
        Student::nickname.ne("Zed"), |r| r.nickname.as_deref().is_some_and(|x| x != "Zed") => [1, 3, 4, 6, 7];
        Student::badge.ne("gold"),   |r| r.badge.as_deref().is_some_and(|x| x != "gold")   => [3, 5, 7, 9];
    ]);
}

#[test]
#[rustfmt::skip]
fn comparisons_lt_le_gt_ge() {
    filter_table(filters![
        // Primary key.
        Student::id.lt(3),                  |r| r.id < 3                                        => [1, 2];
        Student::id.le(3),                  |r| r.id <= 3                                       => [1, 2, 3];
        Student::id.gt(7),                  |r| r.id > 7                                        => [8, 9];
        Student::id.ge(7),                  |r| r.id >= 7                                       => [7, 8, 9];
        // Non-unique integer index.
        Student::year.lt(2),                |r| r.year < 2                                      => [2, 5, 9];
        Student::year.le(2),                |r| r.year <= 2                                     => [1, 2, 4, 5, 8, 9];
        Student::year.gt(2),                |r| r.year > 2                                      => [3, 6, 7];
        Student::year.ge(3),                |r| r.year >= 3                                     => [3, 6, 7];
        // Float index, across zero and negatives.
        Student::gpa.gt(3.0),               |r| r.gpa > 3.0                                     => [1, 2, 3, 5, 8];
        Student::gpa.ge(3.5),               |r| r.gpa >= 3.5                                    => [1, 3, 5, 8];
        Student::gpa.lt(0.0),               |r| r.gpa < 0.0                                     => [6];
        Student::gpa.le(0.0),               |r| r.gpa <= 0.0                                    => [6, 7];
        Student::gpa.lt(-10.0),             |r| r.gpa < -10.0                                   => [];
        Student::gpa.gt(f64::NEG_INFINITY), |_| true                                            => [1, 2, 3, 4, 5, 6, 7, 8, 9];
        // Unique text index.
        Student::name.lt("b"),              |r| r.name.as_str() < "b"                           => [1, 2, 3];
        Student::name.le("bea"),            |r| r.name.as_str() <= "bea"                        => [1, 2, 3, 4];
        Student::name.gt("ada"),            |r| r.name.as_str() > "ada"                         => [2, 3, 4, 5, 6, 7, 8, 9];
        Student::name.ge("dee"),            |r| r.name.as_str() >= "dee"                        => [7, 8, 9];
        // Nullable indexed: nulls never compare.
        Student::rank.lt(4),                |r| r.rank.is_some_and(|x| x < 4)                   => [1, 6];
        Student::rank.le(4),                |r| r.rank.is_some_and(|x| x <= 4)                  => [1, 2, 6, 7];
        Student::rank.gt(4),                |r| r.rank.is_some_and(|x| x > 4)                   => [4, 8];
        Student::rank.ge(i64::MIN),         |r| r.rank.is_some()                                => [1, 2, 4, 6, 7, 8];
        // Nullable, not indexed.
        Student::nickname.lt("D"),          |r| r.nickname.as_deref().is_some_and(|x| x < "D")  => [1, 4, 6];
        Student::nickname.ge("D"),          |r| r.nickname.as_deref().is_some_and(|x| x >= "D") => [3, 7, 9];
        // Bool and bytes.
        Student::active.gt(false),          |r| r.active                                        => [1, 3, 5, 7, 8];
        Student::photo.lt(vec![1u8]),       |r| r.photo < vec![1u8]                             => [2, 3, 5, 7, 9];
        Student::photo.ge(vec![5u8]),       |r| r.photo >= vec![5u8]                            => [4, 6, 8];
        // Extremes of the integer range.
        Student::id.gt(i64::MAX),           |_| false                                           => [];
        Student::id.le(i64::MAX),           |_| true                                            => [1, 2, 3, 4, 5, 6, 7, 8, 9];
        Student::year.lt(i64::MIN),         |_| false                                           => [];
        Student::year.ge(i64::MIN),         |_| true                                            => [1, 2, 3, 4, 5, 6, 7, 8, 9];
    ]);
}

#[test]
#[rustfmt::skip]
fn between_is_inclusive_at_both_ends() {
    filter_table(filters![
        Student::id.between(3, 5),            |r| (3..=5).contains(&r.id)                      => [3, 4, 5];
        Student::year.between(2, 3),          |r| (2..=3).contains(&r.year)                    => [1, 3, 4, 6, 8];
        Student::gpa.between(0.0, 3.5),       |r| (0.0..=3.5).contains(&r.gpa)                 => [2, 4, 5, 7, 9];
        Student::name.between("adam", "bea"), |r| ("adam"..="bea").contains(&r.name.as_str())  => [2, 3, 4];
        Student::rank.between(2, 7),          |r| r.rank.is_some_and(|x| (2..=7).contains(&x)) => [2, 4, 6, 7];
        Student::nickname.between("B", "Cz"), |r| r.nickname.as_deref().is_some_and(|x| ("B"..="Cz").contains(&x)) => [1, 4, 6];
        // A single point.
        Student::gpa.between(4.0, 4.0),       |r| r.gpa == 4.0                                 => [8];
    ]);
}

/// Upper bound below the lower one, on the key, an index, and text: no
/// rows, read forwards or backwards.
#[test]
#[rustfmt::skip]
fn empty_and_inverted_ranges_match_nothing() {
    filter_table(filters![
        Student::id.between(5, 2),                    |_| false => [];
        Student::id.gt(5).and(Student::id.lt(3)),     |_| false => [];
        Student::id.gt(3).and(Student::id.lt(3)),     |_| false => [];
        Student::id.gt(3).and(Student::id.le(3)),     |_| false => [];
        Student::id.ge(4).and(Student::id.lt(4)),     |_| false => [];
        Student::year.between(3, 1),                  |_| false => [];
        Student::year.gt(2).and(Student::year.lt(2)), |_| false => [];
        Student::gpa.between(3.0, 1.0),               |_| false => [];
        Student::gpa.gt(3.9).and(Student::gpa.lt(3.9)),
                                                      |_| false => [];
        Student::name.between("zz", "a"),             |_| false => [];
        Student::name.gt("bob").and(Student::name.lt("bob")),
                                                      |_| false => [];
        Student::rank.gt(7).and(Student::rank.le(2)), |_| false => [];
        Student::badge.gt("z").and(Student::badge.lt("a")),
                                                      |_| false => [];
    ]);
    query_table::<Country>(queries![
        |q| q.filter(Country::code.gt("US").and(Country::code.lt("DE"))) => "…" => "";
    ]);
}

#[test]
#[rustfmt::skip]
fn in_list() {
    filter_table(filters![
        Student::id.in_([5, 1, 3, 99]),              |r| [5, 1, 3, 99].contains(&r.id)             => [1, 3, 5];
        // Repeated values do not repeat rows.
        Student::id.in_([2, 2, 2]),                  |r| r.id == 2                                 => [2];
        Student::year.in_([4, 1, 4]),                |r| [1, 4].contains(&r.year)                  => [2, 5, 7, 9];
        Student::name.in_(["zoe", "ada", "nobody", "ada"]),
                                                     |r| ["zoe", "ada"].contains(&r.name.as_str()) => [1, 9];
        Student::gpa.in_([3.9, 0.0, 2.0]),           |r| [3.9, 0.0].contains(&r.gpa)               => [1, 7];
        Student::rank.in_([4, 7]),                   |r| r.rank.is_some_and(|x| [4, 7].contains(&x)) => [2, 4, 7];
        Student::nickname.in_(["Zed", "Bee"]),       |r| r.nickname.as_deref().is_some_and(|x| ["Zed", "Bee"].contains(&x)) => [4, 9];
        Student::badge.in_(["tin", "gold", "lead"]), |r| r.badge.as_deref().is_some_and(|x| ["tin", "gold"].contains(&x)) => [1, 9];
        Student::active.in_([true]),                 |r| r.active                                  => [1, 3, 5, 7, 8];
    ]);
}

#[test]
#[rustfmt::skip]
fn in_empty_list_matches_nothing() {
    filter_table(filters![
        Student::id.in_(Vec::<i64>::new()),        |_| false                => [];
        Student::name.in_(Vec::<&str>::new()),     |_| false                => [];
        Student::year.in_(Vec::<i64>::new()),      |_| false                => [];
        Student::gpa.in_(Vec::<f64>::new()),       |_| false                => [];
        Student::rank.in_(Vec::<i64>::new()),      |_| false                => [];
        Student::nickname.in_(Vec::<&str>::new()), |_| false                => [];
        Student::badge.in_(Vec::<&str>::new()),    |_| false                => [];
        Student::active.in_(Vec::<bool>::new()),   |_| false                => [];
        // Its negation is true on every row, a null included: SQL's
        // `x IN ()` is false whatever x is, so `NOT` makes it true.
        Student::id.in_(Vec::<i64>::new()).not(),  |_| true                 => [1, 2, 3, 4, 5, 6, 7, 8, 9];
        Student::nickname.in_(Vec::<&str>::new()).not(),
                                                   |_| true                 => [1, 2, 3, 4, 5, 6, 7, 8, 9];
        Student::rank.in_(Vec::<i64>::new()).not(),
                                                   |_| true                 => [1, 2, 3, 4, 5, 6, 7, 8, 9];
    ]);
}

/// `x IN (a, NULL)` is true when x is a, and unknown otherwise (never
/// false: x might be the null), so its negation is false or unknown and
/// matches no row. On a null x, `IN` of a non-empty list is unknown.
#[test]
#[rustfmt::skip]
fn in_a_list_holding_null_is_never_false() {
    filter_table(filters![
        Student::nickname.in_([Some("Zed".to_string()), None]),
                                                   |r| r.nickname.as_deref() == Some("Zed") => [9];
        Student::nickname.in_([Some("Zed".to_string()), None]).not(),
                                                   |_| false                => [];
        Student::rank.in_([None, Some(9)]).not(),  |_| false                => [];
        // Without the null, NOT IN is false on a match, true on a
        // non-null miss, and unknown on a null.
        Student::rank.in_([Some(9), Some(4)]).not(),
                                                   |r| r.rank.is_some_and(|x| x != 9 && x != 4) => [1, 4, 6];
        Student::nickname.in_(["Zed"]).not(),      |r| r.nickname.as_deref().is_some_and(|x| x != "Zed") => [1, 3, 4, 6, 7];
        // OR with a true side is true whatever the unknown side.
        Student::rank.in_([None, Some(9)]).or(Student::active.eq(false)),
                                                   |r| r.rank == Some(9) || !r.active => [2, 4, 6, 8, 9];
    ]);
}

/// `eq(None)` and `ne(None)` mean `IS NULL` and `IS NOT NULL`, as
/// SQLAlchemy's `== None` and `filter_by(note=None)` do; ordering
/// comparisons with null and a null in a list stay SQL's unknown.
#[test]
#[rustfmt::skip]
fn comparing_with_null() {
    filter_table(filters![
        Student::rank.eq(None::<i64>),        |r| r.rank.is_none()                => [3, 5, 9];
        Student::rank.ne(None::<i64>),        |r| r.rank.is_some()                => [1, 2, 4, 6, 7, 8];
        Student::nickname.eq(None::<String>), |r| r.nickname.is_none()            => [2, 5, 8];
        Student::nickname.ne(None::<String>), |r| r.nickname.is_some()            => [1, 3, 4, 6, 7, 9];
        // The unique index leaves nulls out; eq(None) still finds them.
        Student::badge.eq(None::<String>),    |r| r.badge.is_none()               => [2, 4, 6, 8];
        Student::badge.eq(None::<String>).not(),
                                              |r| r.badge.is_some()               => [1, 3, 5, 7, 9];
        // A runtime Option: Some compares, None tests for null.
        Student::rank.eq(Some(4)),            |r| r.rank == Some(4)               => [2, 7];
        Student::rank.ne(Some(4)),            |r| r.rank.is_some_and(|x| x != 4)  => [1, 4, 6, 8];
        // `x < NULL` is unknown in SQL, and so is a null in a list.
        Student::rank.lt(None::<i64>),        |_| false                           => [];
        Student::rank.ge(None::<i64>),        |_| false                           => [];
        Student::rank.in_([None::<i64>]),     |_| false                           => [];
        Student::badge.in_([None::<String>]), |_| false                           => [];
        // A null in a list is skipped, the other values still match.
        Student::rank.in_([None, Some(9)]),   |r| r.rank == Some(9)               => [8];
    ]);
}

#[test]
#[rustfmt::skip]
fn is_null_and_is_not_null() {
    filter_table(filters![
        Student::nickname.is_null(),     |r| r.nickname.is_none() => [2, 5, 8];
        Student::nickname.is_not_null(), |r| r.nickname.is_some() => [1, 3, 4, 6, 7, 9];
        Student::rank.is_null(),         |r| r.rank.is_none()     => [3, 5, 9];
        Student::rank.is_not_null(),     |r| r.rank.is_some()     => [1, 2, 4, 6, 7, 8];
        // The unique index leaves nulls out; the filter still finds them.
        Student::badge.is_null(),        |r| r.badge.is_none()    => [2, 4, 6, 8];
        Student::badge.is_not_null(),    |r| r.badge.is_some()    => [1, 3, 5, 7, 9];
        // Columns that cannot be null.
        Student::year.is_null(),         |_| false                => [];
        Student::name.is_not_null(),     |_| true                 => [1, 2, 3, 4, 5, 6, 7, 8, 9];
    ]);
}

#[test]
#[rustfmt::skip]
fn text_starts_with_ends_with_contains() {
    filter_table(filters![
        // On the unique indexed `String` column.
        Student::name.starts_with("a"),     |r| r.name.starts_with('a')                             => [1, 2, 3];
        Student::name.starts_with("ada"),   |r| r.name.starts_with("ada")                           => [1, 2];
        Student::name.starts_with("adam"),  |r| r.name.starts_with("adam")                          => [2];
        Student::name.starts_with("z"),     |r| r.name.starts_with('z')                             => [9];
        Student::name.starts_with("x"),     |_| false                                               => [];
        Student::name.starts_with("A"),     |_| false                                               => [];
        Student::name.starts_with(""),      |_| true                                                => [1, 2, 3, 4, 5, 6, 7, 8, 9];
        Student::name.ends_with("e"),       |r| r.name.ends_with('e')                               => [7, 8, 9];
        Student::name.ends_with("am"),      |r| r.name.ends_with("am")                              => [2];
        Student::name.contains("o"),        |r| r.name.contains('o')                                => [5, 9];
        Student::name.contains("da"),       |r| r.name.contains("da")                               => [1, 2];
        // On the nullable `Option<String>` column: nulls never match.
        Student::nickname.starts_with("C"), |r| r.nickname.as_deref().is_some_and(|x| x.starts_with('C')) => [1, 6];
        Student::nickname.ends_with("e"),   |r| r.nickname.as_deref().is_some_and(|x| x.ends_with('e')) => [4, 6, 7];
        Student::nickname.contains("e"),    |r| r.nickname.as_deref().is_some_and(|x| x.contains('e')) => [1, 4, 6, 7, 9];
        Student::nickname.contains(""),     |r| r.nickname.is_some()                                => [1, 3, 4, 6, 7, 9];
        // On the unique nullable column.
        Student::badge.starts_with("b"),    |r| r.badge.as_deref().is_some_and(|x| x.starts_with('b')) => [5];
        Student::badge.contains("i"),       |r| r.badge.as_deref().is_some_and(|x| x.contains('i')) => [3, 7, 9];
    ]);
}

#[test]
#[rustfmt::skip]
fn and_or_not() {
    filter_table(filters![
        Student::year.eq(2).and(Student::gpa.gt(3.0)), |r| r.year == 2 && r.gpa > 3.0             => [1, 8];
        Student::year.eq(4).or(Student::name.starts_with("b")),
                                                       |r| r.year == 4 || r.name.starts_with('b') => [4, 5, 7];
        Student::year.eq(2).not(),                     |r| r.year != 2                            => [2, 3, 5, 6, 7, 9];
        Student::active.eq(true).not().not(),          |r| r.active                               => [1, 3, 5, 7, 8];
        // Nested: (year = 1 or year = 3) and not (gpa < 2).
        Student::year.eq(1).or(Student::year.eq(3)).and(Student::gpa.lt(2.0).not()),
                                                       |r| (r.year == 1 || r.year == 3) && r.gpa >= 2.0 => [2, 3, 5];
        // An index-usable conjunct with a non-usable one.
        Student::name.starts_with("a").and(Student::active.eq(true)),
                                                       |r| r.name.starts_with('a') && r.active    => [1, 3];
        // De Morgan holds on non-null columns: the same rows both ways.
        Student::year.eq(1).or(Student::active.eq(true)).not(),
                                                       |r| !(r.year == 1 || r.active)             => [4, 6];
        Student::year.ne(1).and(Student::active.eq(false)),
                                                       |r| r.year != 1 && !r.active               => [4, 6];
    ]);
}

#[test]
fn chained_filters_are_anded() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let q = s
        .query::<Student>()
        .filter(Student::year.le(2))
        .filter(Student::active.eq(true))
        .filter(Student::gpa.gt(3.6));
    let want = hand(&fx.students, |r| r.year <= 2 && r.active && r.gpa > 3.6);
    assert_eq!(ids(&want), [1, 8]);
    assert_eq!(by_id(q.all().unwrap()), want);
    assert_eq!(q.count().unwrap(), 2);
    // A key lookup narrowed further by a later filter that rules it out.
    let q = s
        .query::<Student>()
        .filter(Student::id.eq(1))
        .filter(Student::active.eq(false));
    assert!(q.all().unwrap().is_empty());
    assert!(q.first().unwrap().is_none());
}

/// SQL's logic, by hand with `cmp`, `not3`, `and3` and `or3` of
/// `fixture.rs`: a comparison with a null is unknown.
#[test]
#[rustfmt::skip]
fn three_valued_logic_with_nulls() {
    filter_table(filters![
        // not(eq) on a null row is false: rows 3, 5 and 9 (null rank) are
        // in neither result.
        Student::rank.eq(4),                   |r| r.rank == Some(4)                           => [2, 7];
        Student::rank.eq(4).not(),             |r| not3(cmp(r.rank, |x| x == 4)) == Some(true) => [1, 4, 6, 8];
        // Text tests on a null nickname are unknown, and so is their negation.
        Student::nickname.contains("e").not(), |r| r.nickname.as_deref().is_some_and(|x| !x.contains('e')) => [3];
        Student::nickname.eq("Zed").not(),     |r| r.nickname.as_deref().is_some_and(|x| x != "Zed") => [1, 3, 4, 6, 7];
        // unknown OR true is true.
        Student::rank.gt(100).or(Student::active.eq(true)),
                                               |r| or3(cmp(r.rank, |x| x > 100), Some(r.active)) == Some(true) => [1, 3, 5, 7, 8];
        // NOT (unknown OR false) is unknown: row 9 (null rank, inactive) is out.
        Student::rank.gt(100).or(Student::active.eq(true)).not(),
                                               |r| not3(or3(cmp(r.rank, |x| x > 100), Some(r.active))) == Some(true) => [2, 4, 6];
        // NOT (unknown AND false) is true: row 9 is in; rows 3 and 5
        // (unknown AND true) are out.
        Student::rank.lt(5).and(Student::active.eq(true)).not(),
                                               |r| not3(and3(cmp(r.rank, |x| x < 5), Some(r.active))) == Some(true) => [2, 4, 6, 8, 9];
        // x = v OR NOT x = v is not every row when x can be null.
        Student::rank.eq(4).or(Student::rank.eq(4).not()),
                                               |r| r.rank.is_some()                            => [1, 2, 4, 6, 7, 8];
        // is_null is never unknown, so its negation is exact.
        Student::rank.is_null().not(),         |r| r.rank.is_some()                            => [1, 2, 4, 6, 7, 8];
    ]);
}
