//! Strata's ORM: typed models over the Strata engine, in the way
//! Flask-SQLAlchemy users work.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use strata::{Database, Model, TextColumn};
//!
//! #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
//! #[strata(table = "users", display = "username")]
//! struct User {
//!     #[strata(primary_key)]
//!     id: i64,
//!     #[strata(unique, max_len = 80)]
//!     username: String,
//!     #[strata(unique, max_len = 120)]
//!     email: String,
//! }
//!
//! # let dir = std::env::temp_dir().join(format!("strata-orm-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let db = Database::open(dir.join("app.strata"))?;
//! let mut s = db.session()?;
//! let mut admin = User { id: 0, username: "admin".into(), email: "admin@example.com".into() };
//! s.add(&mut admin)?; // assigns admin.id
//! s.commit()?;
//!
//! let s = db.session()?;
//! let found = s.query::<User>().filter(User::username.eq("admin")).first()?;
//! assert_eq!(found.map(|u| u.id), Some(admin.id));
//! let all = s.query::<User>().filter(User::email.ends_with("@example.com")).all()?;
//! assert_eq!(format!("{}", all[0]), "<User 'admin'>");
//! # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), strata::Error>(())
//! ```
//!
//! `orm/DESIGN.md` explains the choices (columns as associated constants,
//! relationships loaded through an explicit session) and the mapping of
//! each SQLAlchemy construct.
//!
//! THE GUIDE
//!
//! The repository's `docs/guide/` is the guide for application developers,
//! a chapter per topic: getting started, models and column types, queries,
//! relationships and loading strategies, transactions and retries, async
//! code, durability, schema evolution, operations, limits. Every Rust block
//! of it is a doc test of this crate.
//!
//! THE DERIVE
//!
//! `#[derive(Model)]` makes a struct a model, and `#[derive(Column)]` a unit
//! enum or a newtype a column type. Their documentation,
//! [`Model`](derive@Model) and [`Column`](derive@Column), lists every
//! `#[strata(...)]` attribute with examples: on the struct, `table`,
//! `display`, `has_many`, `has_one` and `many_to_many` (with `fk`,
//! `backref`, `on_delete`, `through`); on a field, `primary_key`, `unique`,
//! `index`, `max_len`, `foreign_key`, `default`, `default_fn`, `created_at`
//! and `updated_at`; on a column type, `by_name`, `by_number` and
//! `transparent`.
//!
//! THE EXAMPLES
//!
//! The examples on this crate's items share a small blog. Each includes
//! `orm/doctest_setup.rs`, which follows, in hidden lines, and calls
//! `blog()`: `db` is then a database in a temporary directory holding the
//! blog's rows.
//!
#![doc = concat!("```\n", include_str!("../doctest_setup.rs"), "```\n")]
//!
//! COLUMN TYPES
//!
//! A field is a [`ColumnValue`] or an `Option` of one: the integers
//! (`i128` and `u128` too), `f32`, `f64`, `bool`, `String`, `Vec<u8>`;
//! behind features, chrono's `DateTime<Utc>`, `NaiveDateTime` and
//! `NaiveDate` (`chrono`), `uuid::Uuid` (`uuid`), `rust_decimal::Decimal`
//! (`decimal`), `serde_json::Value` with `#[serde(with = "strata::json")]`
//! (`json`); unit enums and newtypes with `#[derive(Column)]`; any type
//! that implements [`ColumnValue`]. Type aliases work.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use strata::{Column, Model};
//!
//! #[derive(Column, Clone, Copy, Debug, PartialEq, Default)]
//! enum Status {
//!     #[default]
//!     Draft,
//!     Published,
//! }
//!
//! #[derive(Column, Clone, Copy, Debug, PartialEq, Default)]
//! struct AuthorId(i64);
//!
//! #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
//! struct Post {
//!     #[strata(primary_key)]
//!     id: i64,
//!     #[strata(index)]
//!     author: AuthorId,
//!     #[strata(index, default = Status::Draft)]
//!     status: Status,
//!     #[strata(default = "untitled")]
//!     title: String,
//! }
//!
//! let p = Post { author: AuthorId(7), ..Default::default() };
//! assert_eq!((p.status, p.title.as_str()), (Status::Draft, "untitled"));
//! let published = Post::status.eq(Status::Published);
//! # let _ = published;
//! ```

#![deny(unsafe_code)]
#![warn(missing_docs)]

// The derive names this crate `::strata`; this lets it do so inside the
// crate too (its unit tests).
extern crate self as strata;

// The files, from the ground up; each imports only files before it here
// (orm/DESIGN.md, "Source files"):
//
//   value     column values and the Rust types a column can have
//   types     the column types of chrono, uuid, rust_decimal, serde_json
//   error     the error type
//   model     the Model trait the derive implements, ColumnDef
//   text      case folding and LIKE patterns
//   layout    the storage mapping: tables, key encoding, row codecs
//   schema    the stored schemas
//   kv        the key-value interface the ORM stands on
//   etcd/     the etcd backend of kv (feature `etcd`)
//   rebuild   bringing a table to a new stored schema, the migration log
//   session   Database and Session: registration, reads, add, update
//   migration schema evolution: Migrations, the migration log
//   expr      typed columns, filters (relationship tests among them) and
//             orderings
//   query/    Session::query, the planner, reading along access paths,
//             aggregates, joins, pages
//   relation  relationships, their plumbing, and every delete
//   check     Database::check, the integrity check
//   dynamic/  the schema-driven path: stored tables, filters and queries
//             by column position, rows as values, loading rows
//   ops       Database::backup_to and compact, forwarded to the engine
//   fuzzing   the fuzz target's entry point (hidden)
mod check;
mod dynamic;
mod error;
#[cfg(feature = "etcd")]
pub mod etcd;
mod expr;
#[doc(hidden)]
pub mod fuzzing;
mod kv;
mod layout;
mod migration;
mod model;
mod ops;
mod query;
mod rebuild;
mod relation;
mod row_decoder;
mod schema;
mod session;
mod text;
mod types;
mod value;

/// What the unit tests share.
#[cfg(test)]
mod test_support {
    /// How many cases a property test runs: `default`, or
    /// `STRATA_PROPTEST_CASES` when it is set (to run many more by hand).
    pub(crate) fn proptest_cases(default: u32) -> u32 {
        std::env::var("STRATA_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}

#[cfg(feature = "json")]
pub use types::json;

pub use dynamic::{ColumnSchema, Compare, Filter, RowQuery, TableSchema};
pub use error::{Error, Result};
pub use expr::{Column, Expr, Folded, Order, TextColumn};
pub use kv::{KvIter, KvStore, KvTxn};
pub use migration::{AppliedMigration, Migration, Migrations, Row};
pub use model::{
    __auto_key, __is_json, __nullable, __refers_to, __same_kind, __unique, AssociationDef,
    ColumnDef, DefaultValue, DeleteRule, Model, OnDelete, ReferentialActions, Stamp,
};
pub use query::{
    Access, Agg, Aggregate, GroupKey, Grouped, Having, Join, JoinFilter, JoinOrder, JoinPlan,
    JoinRelation, Joined, LeftSide, Page, Plan, Query, QueryMut, Relation, RightSide, count,
};
#[doc(hidden)]
pub use query::{AggKind, SortKeyHandle};
pub use relation::{BelongsTo, HasMany, HasOne, ManyToMany};
pub use session::{Database, OrmStats, Session};
pub use value::{ColumnKind, ColumnType, ColumnValue, Numeric, ToColumn, Value, ValueRef};

// The derives' own documentation (orm/derive/src/lib.rs) is what rustdoc
// shows for these: every attribute, with examples.
pub use strata_derive::{Column, Model};

/// What the derives' generated code names.
#[doc(hidden)]
pub mod __private {
    pub use serde;
}

/// The storage engine underneath.
pub use strata_engine as engine;

/// The guide's chapters (`docs/guide/`), run as doc tests: the code a
/// chapter shows is code that compiles and does what the chapter says.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../docs/guide/getting-started.md")]
    struct GettingStarted;
    #[doc = include_str!("../../docs/guide/models.md")]
    struct Models;
    #[doc = include_str!("../../docs/guide/queries.md")]
    struct Queries;
    #[doc = include_str!("../../docs/guide/relationships.md")]
    struct Relationships;
    #[doc = include_str!("../../docs/guide/transactions.md")]
    struct Transactions;
    #[doc = include_str!("../../docs/guide/async.md")]
    struct Async;
    #[doc = include_str!("../../docs/guide/durability.md")]
    struct Durability;
    #[doc = include_str!("../../docs/guide/schema-evolution.md")]
    struct SchemaEvolution;
    #[doc = include_str!("../../docs/guide/operations.md")]
    struct Operations;
    #[doc = include_str!("../../docs/guide/limits.md")]
    struct Limits;
}
