//! The ORM's query suite (`tests/tests/orm_queries/`), every file of it
//! unchanged, on the etcd backend: the fixture asks
//! `Backend::of_suite(env!("CARGO_CRATE_NAME"))`, which is etcd for this
//! binary, and each fixture gets its own key prefix on the process's
//! shared 3-member cluster.

#[path = "../orm_queries/cases.rs"]
mod cases;
#[path = "../orm_queries/filters.rs"]
mod filters;
#[path = "../orm_queries/fixture.rs"]
mod fixture;
#[path = "../orm_queries/ordering.rs"]
mod ordering;
#[path = "../orm_queries/plans.rs"]
mod plans;
#[path = "../orm_queries/query_mut.rs"]
mod query_mut;
#[path = "../orm_queries/refusals.rs"]
mod refusals;
#[path = "../orm_queries/string_key.rs"]
mod string_key;
#[path = "../orm_queries/terminal.rs"]
mod terminal;

#[test]
fn the_suite_runs_on_etcd() {
    assert_eq!(fixture::BACKEND, strata_tests::backend::Backend::Etcd);
}
