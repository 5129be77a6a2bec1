//! The planner's choices: each row of a table is a query, its plan as
//! `explain()` displays it, and the keys of its rows (see `cases.rs`).
//! The access path may only narrow what is read, never what matches:
//! every case checks its rows, and `plans_never_change_results` runs
//! each predicate through the full scan as well.

use crate::cases::{queries, query_table};
use crate::fixture::{Student, by_id, fixture};
use strata::{Access, Expr, TextColumn};

#[test]
#[rustfmt::skip]
fn plan_primary_key_eq_and_in() {
    query_table::<Student>(queries![
        |q| q.filter(Student::id.eq(3))                                 => "get by primary key"         => "3";
        // With another conjunct: still a point read, then filtered.
        |q| q.filter(Student::id.eq(3).and(Student::active.eq(false)))  => "get by primary key, filter" => "";
        // The key wins over a unique column.
        |q| q.filter(Student::name.eq("ada")).filter(Student::id.eq(1)) => "get by primary key, filter" => "1";
        |q| q.filter(Student::id.in_([8, 2, 5, 42]))                    => "get by primary key"         => "2 5 8";
        |q| q.filter(Student::id.in_([8, 2, 5, 42])).order_by(Student::id)
                                                                        => "get by primary key"         => "2 5 8";
        |q| q.filter(Student::id.in_([8, 2, 5, 42])).order_by(Student::id.desc())
                                                                        => "get by primary key, sort"   => "8 5 2";
        |q| q.filter(Student::id.in_([8, 2, 5, 42])).order_by(Student::gpa)
                                                                        => "get by primary key, sort"   => "2 5 8";
        |q| q.filter(Student::id.in_(Vec::<i64>::new()))                => "get by primary key …"       => "";
    ]);
}

#[test]
#[rustfmt::skip]
fn plan_unique_and_indexed_lookups() {
    query_table::<Student>(queries![
        |q| q.filter(Student::name.eq("cyd"))                       => "look up index on name"         => "6";
        |q| q.filter(Student::name.in_(["zoe", "ada", "xx"]))       => "look up index on name"         => "(1 9)";
        |q| q.filter(Student::year.eq(2))                           => "look up index on year"         => "(1 4 8)";
        |q| q.filter(Student::year.in_([3, 4]))                     => "look up index on year"         => "(3 6 7)";
        |q| q.filter(Student::gpa.eq(2.8))                          => "look up index on gpa"          => "4";
        |q| q.filter(Student::rank.eq(4))                           => "look up index on rank"         => "(2 7)";
        |q| q.filter(Student::rank.in_([1, 9]))                     => "look up index on rank"         => "(1 8)";
        // `eq(None)` is `IS NULL`, which reads the whole table, like
        // `is_null()` (`plan_unindexed_predicate_scans_the_table`).
        |q| q.filter(Student::rank.eq(None::<i64>))                 => "scan whole table, filter"      => "3 5 9";
        // `in_` with a null stays SQL's: the null matches nothing.
        |q| q.filter(Student::rank.in_([None, Some(9)]))            => "look up index on rank …"       => "8";
        // Unique columns are preferred over plain indexes.
        |q| q.filter(Student::year.eq(2)).filter(Student::name.eq("bea"))
                                                                    => "look up index on name, filter" => "4";
        |q| q.filter(Student::year.eq(1)).filter(Student::name.eq("bea"))
                                                                    => "look up index on name …"       => "";
        // A lookup beats a key range.
        |q| q.filter(Student::id.gt(3)).filter(Student::year.eq(2)) => "look up index on year, filter" => "(4 8)";
        // An ordered lookup is sorted.
        |q| q.filter(Student::year.in_([1, 2])).order_by(Student::year.desc()).order_by(Student::name)
                                                                    => "look up index on year, sort"   => "1 4 8 2 5 9";
    ]);
}

#[test]
#[rustfmt::skip]
fn plan_primary_key_range() {
    query_table::<Student>(queries![
        |q| q.filter(Student::id.gt(2).and(Student::id.le(6)))       => "scan primary key range"           => "3 4 5 6";
        |q| q.filter(Student::id.gt(2).and(Student::id.le(6))).order_by(Student::id)
                                                                     => "scan primary key range"           => "3 4 5 6";
        |q| q.filter(Student::id.gt(2).and(Student::id.le(6))).order_by(Student::id.desc())
                                                                     => "scan primary key range backwards" => "6 5 4 3";
        |q| q.filter(Student::id.gt(2).and(Student::id.le(6))).order_by(Student::gpa)
                                                                     => "scan primary key range, sort"     => "6 4 5 3";
        // A key range wins over an index range; the rest is filtered.
        |q| q.filter(Student::id.lt(5)).filter(Student::gpa.gt(3.0)) => "scan primary key range, filter"   => "1 2 3";
        // Between on the key.
        |q| q.filter(Student::id.between(4, 7))                      => "scan primary key range"           => "4 5 6 7";
    ]);
}

#[test]
#[rustfmt::skip]
fn plan_index_range() {
    query_table::<Student>(queries![
        // No order asked: index order is fine, the rows must be right.
        |q| q.filter(Student::gpa.gt(3.0))                               => "scan index on gpa"            => "(1 2 3 5 8)";
        |q| q.filter(Student::gpa.gt(3.0)).order_by(Student::gpa)        => "scan index on gpa"            => "2 5 3 1 8";
        |q| q.filter(Student::gpa.gt(3.0)).order_by(Student::gpa.desc()) => "scan index on gpa backwards"  => "8 1 3 5 2";
        |q| q.filter(Student::gpa.gt(3.0)).order_by(Student::name.desc())
                                                                         => "scan index on gpa, sort"      => "8 5 3 2 1";
        // Two bounds, and another conjunct.
        |q| q.filter(Student::gpa.between(1.0, 3.7)).filter(Student::active.eq(false))
                                                                         => "scan index on gpa, filter"    => "(2 4 9)";
        // Nullable index range skips nulls.
        |q| q.filter(Student::rank.lt(5)).order_by(Student::rank.desc()) => "scan index on rank backwards" => "(2 7) 6 1";
        // A unique nullable column's range.
        |q| q.filter(Student::badge.ge("h"))                             => "scan index on badge"          => "(3 7 9)";
    ]);
}

#[test]
#[rustfmt::skip]
fn plan_starts_with_on_an_indexed_text_column() {
    query_table::<Student>(queries![
        |q| q.filter(Student::name.starts_with("a"))     => "scan index on name"           => "1 2 3";
        |q| q.filter(Student::name.starts_with("a")).order_by(Student::name.desc())
                                                         => "scan index on name backwards" => "3 2 1";
        |q| q.filter(Student::name.starts_with("ad")).filter(Student::name.lt("adam"))
                                                         => "scan index on name …"         => "1";
        // Not on an unindexed text column: ends_with, contains never use one.
        |q| q.filter(Student::nickname.starts_with("C")) => "scan whole table, filter"     => "1 6";
        |q| q.filter(Student::name.ends_with("e"))       => "scan whole table, filter"     => "7 8 9";
        |q| q.filter(Student::name.contains("d"))        => "scan whole table …"           => "1 2 6 7";
    ]);
}

/// No access path serves these: the whole table in key order, filtered.
#[test]
#[rustfmt::skip]
fn plan_unindexed_predicate_scans_the_table() {
    query_table::<Student>(queries![
        |q| q.filter(Student::active.eq(true))                    => "scan whole table, filter"           => "1 3 5 7 8";
        |q| q.filter(Student::nickname.is_null())                 => "scan whole table, filter"           => "2 5 8";
        |q| q.filter(Student::rank.is_null())                     => "scan whole table, filter"           => "3 5 9";
        |q| q.filter(Student::badge.is_null())                    => "scan whole table, filter"           => "2 4 6 8";
        |q| q.filter(Student::year.ne(2))                         => "scan whole table, filter"           => "2 3 5 6 7 9";
        |q| q.filter(Student::id.ne(2))                           => "scan whole table, filter"           => "1 3 4 5 6 7 8 9";
        |q| q.filter(Student::year.eq(1).or(Student::year.eq(4))) => "scan whole table, filter"           => "2 5 7 9";
        |q| q.filter(Student::id.eq(3).not())                     => "scan whole table, filter"           => "1 2 4 5 6 7 8 9";
        |q| q.filter(Student::photo.eq(Vec::<u8>::new()))         => "scan whole table, filter"           => "2 5 7";
        // Ordered by the key, backwards.
        |q| q.filter(Student::active.eq(true)).order_by(Student::id.desc())
                                                                  => "scan whole table backwards, filter" => "8 7 5 3 1";
    ]);
}

#[test]
#[rustfmt::skip]
fn plan_no_filter() {
    query_table::<Student>(queries![
        |q| q                              => "scan whole table"           => "1 2 3 4 5 6 7 8 9";
        |q| q.order_by(Student::id.desc()) => "scan whole table backwards" => "9 8 7 6 5 4 3 2 1";
    ]);
}

#[test]
#[rustfmt::skip]
fn plan_order_by_an_indexed_column_reads_the_index() {
    query_table::<Student>(queries![
        |q| q.order_by(Student::gpa)         => "scan index on gpa"                   => "6 7 9 4 2 5 3 1 8";
        |q| q.order_by(Student::gpa.desc())  => "scan index on gpa backwards"         => "8 1 3 5 2 4 9 7 6";
        |q| q.order_by(Student::year)        => "scan index on year"                  => "(2 5 9) (1 4 8) (3 6) 7";
        // A unique non-null column.
        |q| q.order_by(Student::name.desc()) => "scan index on name backwards"        => "9 8 7 6 5 4 3 2 1";
        // A non-unique nullable index holds its nulls: usable, nulls first.
        |q| q.order_by(Student::rank)        => "scan index on rank"                  => "(3 5 9) 1 6 (2 7) 4 8";
        // With a filter the index cannot serve: still read in order, filtered.
        |q| q.filter(Student::active.eq(false)).order_by(Student::gpa.desc())
                                             => "scan index on gpa backwards, filter" => "2 4 9 6";
        // With a limit: the scan stops early, and the rows are the first ones.
        |q| q.filter(Student::active.eq(true)).order_by(Student::name).limit(2)
                                             => "scan index on name, filter"          => "1 3";
    ]);
}

#[test]
#[rustfmt::skip]
fn plan_order_by_an_unindexed_column_sorts() {
    query_table::<Student>(queries![
        |q| q.order_by(Student::nickname)                    => "scan whole table, sort"         => "(2 5 8) 4 1 6 7 3 9";
        |q| q.filter(Student::active.eq(true)).order_by(Student::photo.desc())
                                                             => "scan whole table, filter, sort" => "8 1 3 (5 7)";
        // Several columns, even all indexed: a sort.
        |q| q.order_by(Student::year).order_by(Student::gpa) => "scan whole table, sort"         => "9 2 5 4 1 8 6 3 7";
        |q| q.order_by(Student::id).order_by(Student::gpa)   => "…, sort"                        => "1 2 3 4 5 6 7 8 9";
    ]);
}

/// The planner (query.rs, "A unique index leaves nulls out") will not
/// read a unique nullable column's index for an ordering: rows with a
/// null would be missing. It scans the table and sorts.
#[test]
#[rustfmt::skip]
fn plan_unique_nullable_column() {
    query_table::<Student>(queries![
        |q| q.order_by(Student::badge)                                  => "scan whole table, sort"         => "(2 4 6 8) 5 1 7 3 9";
        |q| q.order_by(Student::badge.desc())                           => "scan whole table, sort"         => "9 3 7 1 5 (2 4 6 8)";
        // With an unusable filter, the same.
        |q| q.filter(Student::active.eq(true)).order_by(Student::badge) => "scan whole table, filter, sort" => "8 5 1 7 3";
        // Equality and ranges on it do use its index (they never match null).
        |q| q.filter(Student::badge.eq("silver"))                       => "look up index on badge"         => "3";
        |q| q.filter(Student::badge.lt("j")).order_by(Student::badge.desc())
                                                                        => "scan index on badge backwards"  => "7 1 5";
        // is_null cannot use it.
        |q| q.filter(Student::badge.is_null()).order_by(Student::badge) => "scan whole table, filter, sort" => "(2 4 6 8)";
    ]);
}

/// How `explain()` displays a plan (every whole plan of the tables is
/// compared in its display as well).
#[test]
#[rustfmt::skip]
fn plan_display() {
    query_table::<Student>(queries![
        |q| q.filter(Student::id.eq(1))                                  => "get by primary key"             => "…";
        |q| q.filter(Student::gpa.gt(3.5)).order_by(Student::gpa.desc()) => "scan index on gpa backwards"    => "…";
        |q| q.filter(Student::active.eq(true)).order_by(Student::nickname)
                                                                         => "scan whole table, filter, sort" => "…";
        |q| q.filter(Student::year.eq(1))                                => "look up index on year"          => "…";
        |q| q.filter(Student::id.lt(3))                                  => "scan primary key range"         => "…";
    ]);
}

/// Every predicate gives the same rows whichever plan runs it: as written
/// (the planner may use the key or an index), and hidden in `e OR e`,
/// which no access path can use, so the whole table is read and filtered.
#[test]
fn plans_never_change_results() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let preds: Vec<Expr<Student>> = vec![
        Student::id.eq(4),
        Student::id.in_([9, 1, 4, 4]),
        Student::id.gt(3),
        Student::id.between(2, 6),
        Student::name.eq("eve"),
        Student::name.in_(["eve", "bob"]),
        Student::name.ge("bob"),
        Student::name.starts_with("a"),
        Student::name.starts_with("ad"),
        Student::year.eq(3),
        Student::year.in_([1, 3]),
        Student::year.lt(3),
        Student::gpa.gt(3.2),
        Student::gpa.le(3.2),
        Student::gpa.between(-2.0, 2.0),
        Student::gpa.eq(1.25),
        Student::rank.eq(4),
        Student::rank.gt(1),
        Student::rank.le(4),
        Student::badge.eq("iron"),
        Student::badge.gt("c"),
        Student::badge.starts_with("s"),
        Student::year.eq(2).and(Student::gpa.gt(3.0)),
        Student::gpa.gt(1.0).and(Student::name.lt("c")),
        Student::id.ge(3).and(Student::name.starts_with("b")),
        Student::rank.ge(2).and(Student::rank.lt(9)),
        // Several conjuncts on one column: the planner narrows to the
        // tighter bounds, or looks up one list and filters by the other.
        Student::id.eq(1).and(Student::id.eq(2)),
        Student::id.in_([1, 2, 3]).and(Student::id.in_([2, 3, 4])),
        Student::id.ge(3).and(Student::id.gt(3)),
        Student::id
            .le(6)
            .and(Student::id.lt(6))
            .and(Student::id.gt(1)),
        Student::name.eq("ada").and(Student::name.eq("bob")),
        Student::name.starts_with("a").and(Student::name.gt("ada")),
        Student::name.starts_with("ad").and(Student::name.le("ada")),
        Student::name
            .starts_with("a")
            .and(Student::name.starts_with("al")),
        Student::gpa.gt(3.0).and(Student::gpa.gt(3.6)),
        Student::gpa.ge(3.5).and(Student::gpa.gt(3.5)),
        Student::gpa.le(3.5).and(Student::gpa.lt(3.5)),
        Student::gpa.lt(3.9).and(Student::gpa.le(3.9)),
        Student::rank.lt(5).and(Student::rank.gt(1)),
        Student::badge.lt("j").and(Student::badge.ge("bronze")),
        Student::year
            .in_([1, 2])
            .and(Student::gpa.between(1.0, 3.6)),
        Student::gpa.gt(0.5).and(Student::rank.is_null()),
    ];
    let orders: Vec<Vec<(strata::Order<Student>, &str)>> = vec![
        vec![],
        vec![(Student::id.desc(), "id desc")],
        vec![(Student::gpa.asc(), "gpa")],
        vec![(Student::name.desc(), "name desc")],
        vec![
            (Student::year.asc(), "year"),
            (Student::id.desc(), "id desc"),
        ],
    ];
    for e in &preds {
        let direct = s.query::<Student>().filter(e.clone());
        let hidden = s.query::<Student>().filter(e.clone().or(e.clone()));
        assert_eq!(
            hidden.explain().access,
            Access::PrimaryKeyRange { bounded: false }
        );
        assert_eq!(
            by_id(direct.all().unwrap()),
            hidden.all().unwrap(),
            "{e:?} with plan {:?}",
            direct.explain()
        );
        for order in &orders {
            let mut direct = s.query::<Student>().filter(e.clone());
            let mut hidden = s.query::<Student>().filter(e.clone().or(e.clone()));
            for (o, _) in order {
                direct = direct.order_by(o.clone());
                hidden = hidden.order_by(o.clone());
            }
            let names: Vec<&str> = order.iter().map(|(_, n)| *n).collect();
            if order.is_empty() {
                // No order asked: any order of the same rows will do.
                assert_eq!(
                    by_id(direct.all().unwrap()),
                    hidden.all().unwrap(),
                    "{e:?}, plan {:?}",
                    direct.explain()
                );
                assert_eq!(
                    direct.limit(2).count().unwrap(),
                    hidden.limit(2).count().unwrap()
                );
                continue;
            }
            assert_eq!(
                direct.all().unwrap(),
                hidden.all().unwrap(),
                "{e:?} ordered by {names:?}, plan {:?}",
                direct.explain()
            );
            assert_eq!(
                direct.limit(2).all().unwrap(),
                hidden.limit(2).all().unwrap(),
                "{e:?} ordered by {names:?}, limit 2"
            );
        }
    }
}
