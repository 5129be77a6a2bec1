//! `order_by`, `limit` and `offset`: each row of a table is a query and
//! the keys of its rows in order (see `cases.rs`). The plans are the
//! subject of `plans.rs`; here they are left open (`"…"`).

use crate::cases::{queries, query_table};
use crate::fixture::{Country, Student};

#[test]
#[rustfmt::skip]
fn order_by_one_column_asc_and_desc() {
    query_table::<Student>(queries![
        |q| q.order_by(Student::gpa)          => "…" => "6 7 9 4 2 5 3 1 8";
        |q| q.order_by(Student::gpa.asc())    => "…" => "6 7 9 4 2 5 3 1 8";
        |q| q.order_by(Student::gpa.desc())   => "…" => "8 1 3 5 2 4 9 7 6";
        |q| q.order_by(Student::name.desc())  => "…" => "9 8 7 6 5 4 3 2 1";
        |q| q.order_by(Student::name)         => "…" => "1 2 3 4 5 6 7 8 9";
        |q| q.order_by(Student::id.desc())    => "…" => "9 8 7 6 5 4 3 2 1";
        |q| q.order_by(Student::id)           => "…" => "1 2 3 4 5 6 7 8 9";
        // Ties on `year` may come in any order; the years may not.
        |q| q.order_by(Student::year)         => "…" => "(2 5 9) (1 4 8) (3 6) 7";
        |q| q.order_by(Student::year.desc())  => "…" => "7 (3 6) (1 4 8) (2 5 9)";
        // Unindexed columns: a sort.
        |q| q.order_by(Student::active)       => "…" => "(2 4 6 9) (1 3 5 7 8)";
        |q| q.order_by(Student::photo.desc()) => "…" => "4 6 8 1 3 9 (2 5 7)";
    ]);
    // Country: key order by text, both ways.
    query_table::<Country>(queries![
        |q| q.order_by(Country::code.desc()) => "…" => "US NZ JP IS FR FI DE";
        |q| q.order_by(Country::population)  => "…" => "IS NZ FI FR DE JP US";
    ]);
}

#[test]
#[rustfmt::skip]
fn order_by_several_columns_breaks_ties() {
    query_table::<Student>(queries![
        |q| q.order_by(Student::year).order_by(Student::name.desc()) => "…" => "9 5 2 8 4 1 6 3 7";
        |q| q.order_by(Student::year.desc()).order_by(Student::gpa)  => "…" => "7 6 3 4 1 8 9 2 5";
        // The second column only matters on ties of the first.
        |q| q.order_by(Student::active).order_by(Student::rank.desc()).order_by(Student::id.desc())
                                                                     => "…" => "4 2 6 9 8 7 1 5 3";
        // With a filter, limit and offset on top.
        |q| q.filter(Student::year.ne(4)).order_by(Student::year).order_by(Student::gpa.desc()).offset(1).limit(4)
                                                                     => "…" => "2 9 8 1";
    ]);
}

#[test]
#[rustfmt::skip]
fn order_by_nullable_columns_puts_nulls_first_ascending() {
    query_table::<Student>(queries![
        // Unindexed nullable: a sort. Option's order is nulls first.
        |q| q.order_by(Student::nickname)                            => "…" => "(2 5 8) 4 1 6 7 3 9";
        |q| q.order_by(Student::nickname.desc())                     => "…" => "9 3 7 6 1 4 (2 5 8)";
        // Indexed nullable: nulls are in the index, first.
        |q| q.order_by(Student::rank)                                => "…" => "(3 5 9) 1 6 (2 7) 4 8";
        |q| q.order_by(Student::rank.desc())                         => "…" => "8 4 (2 7) 6 1 (3 5 9)";
        // Unique nullable: nulls are not in the index, yet come first.
        |q| q.order_by(Student::badge)                               => "…" => "(2 4 6 8) 5 1 7 3 9";
        |q| q.order_by(Student::badge.desc())                        => "…" => "9 3 7 1 5 (2 4 6 8)";
        // Nulls first, ties broken by a second column.
        |q| q.order_by(Student::rank).order_by(Student::name.desc()) => "…" => "9 5 3 1 6 7 2 4 8";
    ]);
}

#[test]
#[rustfmt::skip]
fn order_by_with_each_access_path() {
    query_table::<Student>(queries![
        // Key range, sorted by another column.
        |q| q.filter(Student::id.between(2, 8)).order_by(Student::gpa.desc())
                                                                       => "…" => "8 3 5 2 4 7 6";
        // Index lookup, sorted.
        |q| q.filter(Student::year.in_([1, 2])).order_by(Student::gpa) => "…" => "9 4 2 5 1 8";
        // Index range on one column, sorted by another.
        |q| q.filter(Student::gpa.ge(1.0)).order_by(Student::name.desc())
                                                                       => "…" => "9 8 5 4 3 2 1";
        // Key lookup of several keys, sorted descending.
        |q| q.filter(Student::id.in_([2, 9, 4])).order_by(Student::id.desc())
                                                                       => "…" => "9 4 2";
        // Whole index in order, filtered by another column.
        |q| q.filter(Student::active.eq(true)).order_by(Student::gpa.desc())
                                                                       => "…" => "8 1 3 5 7";
    ]);
}

#[test]
#[rustfmt::skip]
fn limit() {
    query_table::<Student>(queries![
        // No order: the whole table in key order.
        |q| q.limit(3)                                    => "…" => "1 2 3";
        |q| q.limit(0)                                    => "…" => "";
        |q| q.limit(100)                                  => "…" => "1 2 3 4 5 6 7 8 9";
        // Streamed in index order: the limit stops the scan early.
        |q| q.order_by(Student::gpa).limit(3)             => "…" => "6 7 9";
        // Backwards.
        |q| q.order_by(Student::gpa.desc()).limit(2)      => "…" => "8 1";
        // Sorted in memory: the limit applies after the sort.
        |q| q.order_by(Student::nickname.desc()).limit(2) => "…" => "9 3";
        // With a filter that rejects some of the rows read.
        |q| q.filter(Student::active.eq(false)).order_by(Student::gpa.desc()).limit(2)
                                                          => "…" => "2 4";
        // A later limit replaces the earlier one.
        |q| q.limit(1).limit(4)                           => "…" => "1 2 3 4";
    ]);
}

#[test]
#[rustfmt::skip]
fn offset() {
    query_table::<Student>(queries![
        |q| q.offset(6)                                => "…" => "7 8 9";
        |q| q.offset(0)                                => "…" => "1 2 3 4 5 6 7 8 9";
        |q| q.offset(9)                                => "…" => "";
        |q| q.offset(100)                              => "…" => "";
        |q| q.order_by(Student::name.desc()).offset(5) => "…" => "4 3 2 1";
        |q| q.filter(Student::year.eq(2)).order_by(Student::gpa).offset(1)
                                                       => "…" => "1 8";
    ]);
}

#[test]
#[rustfmt::skip]
fn limit_and_offset() {
    query_table::<Student>(queries![
        // Pages of 4 cover every row once, in order (8 1 3 5 2 4 9 7 6).
        |q| q.order_by(Student::gpa.desc()).offset(0).limit(4) => "…" => "8 1 3 5";
        |q| q.order_by(Student::gpa.desc()).offset(4).limit(4) => "…" => "2 4 9 7";
        |q| q.order_by(Student::gpa.desc()).offset(8).limit(4) => "…" => "6";
        |q| q.order_by(Student::gpa.desc()).offset(2).limit(3) => "…" => "3 5 2";
        |q| q.order_by(Student::gpa.desc()).offset(3).limit(0) => "…" => "";
        // No order (key order), and the order of the calls does not matter.
        |q| q.offset(2).limit(3)                               => "…" => "3 4 5";
        |q| q.limit(3).offset(2)                               => "…" => "3 4 5";
        // Through a key range.
        |q| q.filter(Student::id.ge(4)).offset(1).limit(2)     => "…" => "5 6";
        // Through an index range, backwards.
        |q| q.filter(Student::name.lt("eve")).order_by(Student::name.desc()).offset(1).limit(3)
                                                               => "…" => "6 5 4";
    ]);
}
