//! Read-only SQL over the ORM's tables.
//!
//! The text is parsed by the `sqlparser` crate (SQLite's dialect), then
//! translated onto the ORM's schema-driven path ([`strata::RowQuery`]):
//! every table read is a query the ORM's planner plans (primary key,
//! index lookup or range, or the whole table), and every filter is a
//! [`strata::Filter`], with the ORM's semantics. Nothing is ever written.
//!
//! SUPPORTED
//!
//! | construct | notes |
//! | --- | --- |
//! | `SELECT *`, `t.*`, columns, `AS` aliases | |
//! | `FROM t [AS a]` | a table by its name or its model's name, any case |
//! | `[INNER] JOIN u ON t.x = u.y` | only along a declared foreign key, either way round |
//! | `WHERE` | `=`, `<>`, `<`, `<=`, `>`, `>=` between a column and a literal; `AND`, `OR`, `NOT`; `[NOT] LIKE` / `ILIKE` with `ESCAPE`; `[NOT] IN (...)`; `[NOT] BETWEEN`; `IS [NOT] NULL` |
//! | `COUNT(*)`, `COUNT([DISTINCT] c)`, `SUM`, `AVG`, `MIN`, `MAX` | with `GROUP BY` columns and `HAVING` on aggregates and grouped columns |
//! | `ORDER BY` | columns, aliases or output positions, `ASC` / `DESC` (nulls first ascending, last descending) |
//! | `LIMIT n [OFFSET m]` | |
//! | `EXPLAIN SELECT ...` | the plan of each table read, and what runs after |
//!
//! Literals are converted to the compared column's type when they stand
//! for one of its values exactly (`gpa > 3` compares with `3.0`; text
//! for dates, times and decimals); otherwise the query is refused. Any
//! other construct is refused with one error naming it.
//!
//! PLANS
//!
//! A query over one table without aggregates hands its whole `WHERE`,
//! `ORDER BY`, `LIMIT` and `OFFSET` to the planner, so `WHERE gpa > 3.5`
//! scans the index on `gpa`, and an `ORDER BY` the index delivers streams.
//! With joins, each `WHERE` conjunct on one table is pushed to that
//! table's query; the joined table is read by the values of the join
//! column (`IN`, so by primary key or through the foreign key's index);
//! the rest of the filter, grouping, sorting and limits run in memory.
//!
//! FILES
//!
//! `translate.rs` turns the syntax tree into a `Select`
//! over column positions; `exec.rs` runs it.

mod exec;
mod translate;

use crate::error::Result;
use strata::{Database, Value};

/// The result of a statement: named columns and rows, or a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The rows of a `SELECT`.
    Rows {
        /// The output columns' names.
        columns: Vec<String>,
        /// The rows, each with one value per column.
        rows: Vec<Vec<Value>>,
    },
    /// The lines of an `EXPLAIN`.
    Plan(Vec<String>),
}

/// Runs `sql`, one `SELECT` or `EXPLAIN SELECT`, over `db`'s stored
/// tables in one read-only session.
pub fn run(db: &Database, sql: &str) -> Result<Answer> {
    let (explain, select) = translate::parse(db, sql)?;
    let session = db.read_session()?;
    if explain {
        Ok(Answer::Plan(exec::explain(&session, &select)))
    } else {
        let (columns, rows) = exec::run(&session, &select)?;
        Ok(Answer::Rows { columns, rows })
    }
}
