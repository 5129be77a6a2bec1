//! The schema-driven path: tables as the file stores them, read and
//! written without their Rust types. Tools (the `strata` command line,
//! a SQL front end) see every model of a file through it; a program with
//! the models at hand uses the typed API instead.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `schema.rs` | [`TableSchema`] and [`ColumnSchema`]: a model as stored (`__strata_schema`), [`Database::tables`](crate::Database::tables), and the [`Shape`](crate::query::Shape) the planner works over |
//! | `filter.rs` | [`Filter`]: a filter over column positions, turned into the typed path's own predicates (three-valued logic, `LIKE` / `ILIKE`) |
//! | `rows.rs` | [`RowQuery`]: filter, order, offset and limit over one table, planned by the ORM's planner ([`RowQuery::explain`]), rows as [`Value`](crate::Value)s |
//! | `load.rs` | [`Session::insert_values`](crate::Session::insert_values): a row from values, checked against the stored rules (types, lengths, key, unique values, foreign keys) |
//!
//! THE SEAM
//!
//! The typed path already plans and filters over column positions and
//! [`Value`](crate::Value)s: a model contributes only its table name, its
//! [`ColumnDef`](crate::ColumnDef)s and its key's position (a `Shape`).
//! A stored schema gives the same three at run time, so both paths share
//! one planner, one row reader and one filter evaluator; `orm/DESIGN.md`
//! section 18 has the reasons. The names a `Shape` holds must live as
//! long as the plans that name them (`&'static str`, as a model's do):
//! a stored schema's names are interned, once per distinct name for the
//! life of the process.

mod filter;
mod load;
mod rows;
mod schema;

pub use filter::{Compare, Filter};
pub use rows::RowQuery;
pub use schema::{ColumnSchema, TableSchema};
