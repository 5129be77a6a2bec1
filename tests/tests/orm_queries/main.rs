//! The ORM's query layer: every filter, ordering, limit and terminal
//! operation, `QueryMut`'s update and delete, and the planner's choices.
//!
//! Most cases are rows of tables over one fixture (`fixture.rs`: nine
//! students, seven countries), written with the two macros of `cases.rs`:
//!
//! - `filters![filter, by hand => ids; ...]`: every filter is checked,
//!   every way a caller can run it, against the same filter computed by
//!   hand over a `Vec` of the fixture rows, and the ids it matches are
//!   pinned.
//! - `queries![|q| query => "plan" => "rows"; ...]`: the plan as
//!   `explain()` displays it, and the rows in their order. Every plan case
//!   also checks its rows: the access path may only narrow what is read,
//!   never what matches.
//!
//! Behaviours that are not a query and its rows (errors, the terminal
//! operations, `QueryMut`, what `add` refuses, comparisons of one query
//! with another) are ordinary tests.
//!
//! | file | what |
//! | --- | --- |
//! | `filters.rs` | comparisons, `in`, null tests, text tests, and/or/not, three-valued logic |
//! | `ordering.rs` | `order_by`, `limit`, `offset` |
//! | `terminal.rs` | `first`, `one`, `all`, `count`, `exists`, `get`, `iter`, and the rows a plan reads |
//! | `query_mut.rs` | `QueryMut`'s update and delete, and the integrity check after them |
//! | `string_key.rs` | the model keyed by a string |
//! | `plans.rs` | the planner's choices, and that no plan changes a result |
//! | `refusals.rs` | what `add` and `update` refuse |

mod cases;
mod filters;
mod fixture;
mod ordering;
mod plans;
mod query_mut;
mod refusals;
mod string_key;
mod terminal;
