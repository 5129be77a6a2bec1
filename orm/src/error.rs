//! The ORM's error type, grouped by what the caller should do.

use crate::value::Value;
use std::fmt;

/// A `Result` whose error is the ORM's [`Error`].
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// # let (_dir, db) = blog()?;
/// fn usernames(db: &strata::Database) -> strata::Result<Vec<String>> {
///     db.read_session()?.query::<User>().values(User::username)
/// }
/// assert_eq!(usernames(&db)?, ["ann", "bob"]);
/// # Ok::<(), strata::Error>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the ORM.
///
/// | group | variants | what to do |
/// | --- | --- | --- |
/// | the data breaks a rule | [`UniqueViolation`](Error::UniqueViolation), [`DuplicateKey`](Error::DuplicateKey), [`ForeignKeyViolation`](Error::ForeignKeyViolation), [`Restricted`](Error::Restricted), [`TooLong`](Error::TooLong), [`KeyTooLarge`](Error::KeyTooLarge), [`NotANumber`](Error::NotANumber), [`KeysExhausted`](Error::KeysExhausted), [`KeyChanged`](Error::KeyChanged) | change the data; the session is still usable |
/// | the query's answer | [`NotFound`](Error::NotFound), [`NotExactlyOne`](Error::NotExactlyOne), [`Overflow`](Error::Overflow) | expected outcomes of `one()`, updates and sums |
/// | the program and the file disagree | [`SchemaMismatch`](Error::SchemaMismatch), [`FileNewer`](Error::FileNewer), [`MigrationNeeded`](Error::MigrationNeeded), [`DuplicateValues`](Error::DuplicateValues), [`MigrationFailed`](Error::MigrationFailed), [`Corruption`](Error::Corruption) | migrate (`Migrations`), use the newer program, or restore |
/// | the engine | [`Engine`](Error::Engine) | see [`strata_engine::Error`]; [`Error::is_retryable`] for deadlocks |
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::{Error, Value};
/// # let (_dir, db) = blog()?;
/// let mut s = db.session()?;
/// let mut dup = User { id: 0, username: "ann".into(), email: "another@example.com".into() };
/// match s.add(&mut dup) {
///     Err(Error::UniqueViolation { model, column, value }) => {
///         assert_eq!((model, column, value), ("User", "username", Value::Text("ann".into())));
///     }
///     other => panic!("expected a unique violation, got {other:?}"),
/// }
/// // The session is still usable after a refused write.
/// s.add(&mut User { id: 0, username: "carol".into(), email: "carol@example.com".into() })?;
/// s.commit()?;
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Error {
    /// A unique column already holds this value in another row.
    UniqueViolation {
        /// The model (Rust type name).
        model: &'static str,
        /// The column.
        column: &'static str,
        /// The value that is taken.
        value: Value,
    },
    /// A row with this primary key already exists.
    DuplicateKey {
        /// The model.
        model: &'static str,
        /// The key.
        key: Value,
    },
    /// A foreign key names a parent row that does not exist.
    ForeignKeyViolation {
        /// The child model.
        model: &'static str,
        /// The foreign-key column.
        column: &'static str,
        /// The missing parent key.
        value: Value,
        /// The parent's table.
        parent: &'static str,
    },
    /// A row cannot be deleted: rows of other tables still refer to it
    /// (the default `restrict` rule).
    Restricted {
        /// The model of the row being deleted.
        model: &'static str,
        /// The first table whose rows refer to it (`children[0]`).
        child_table: String,
        /// Its referring column.
        column: String,
        /// Every blocking relationship, as (table, column): first those
        /// the model declares (`has_many`, `has_one`), in declaration
        /// order, then the foreign keys of other models to it, by table
        /// name and column position.
        children: Vec<(String, String)>,
    },
    /// A string or byte column is longer than its declared maximum.
    TooLong {
        /// The model.
        model: &'static str,
        /// The column.
        column: &'static str,
        /// The declared maximum (characters for strings, bytes for bytes).
        max: usize,
        /// The length given.
        len: usize,
    },
    /// A key, or an indexed value with its key, is longer than the store's
    /// limit on keys (1 KiB with Strata's default page size); the engine's
    /// [`KeyTooLarge`](strata_engine::Error::KeyTooLarge), caught before
    /// anything is written and named by model and column.
    KeyTooLarge {
        /// The model.
        model: &'static str,
        /// The column.
        column: &'static str,
        /// The encoded length.
        len: usize,
        /// The store's limit.
        max: usize,
    },
    /// Every automatic key the key's type can hold is taken.
    KeysExhausted {
        /// The model.
        model: &'static str,
    },
    /// An update by query changed a row's primary key, which it may not.
    KeyChanged {
        /// The model.
        model: &'static str,
    },
    /// NaN in a float column that is a key or indexed (it has no place in
    /// an order).
    NotANumber {
        /// The model.
        model: &'static str,
        /// The column.
        column: &'static str,
    },
    /// No row has this key (on update).
    NotFound {
        /// The model.
        model: &'static str,
        /// The key.
        key: Value,
    },
    /// A sum of integers does not fit an `i64`.
    Overflow {
        /// The model.
        model: &'static str,
        /// The column summed.
        column: &'static str,
    },
    /// `one()` found no row, or more than one.
    NotExactlyOne {
        /// The model.
        model: &'static str,
        /// How many rows matched (up to 2).
        found: usize,
    },
    /// The model in the program differs from the schema stored in the file.
    SchemaMismatch {
        /// The model.
        model: String,
        /// The field that differs.
        field: String,
        /// How it differs.
        detail: String,
    },
    /// The file was migrated by a newer program: a later migration
    /// version than this program's last step. The file is unchanged.
    FileNewer {
        /// The file's migration version (its last step applied).
        file_version: u32,
        /// This program's migration version (its last step).
        code_version: u32,
    },
    /// The handle is read-only and the file needs migrating first (steps
    /// pending, or a model changed): open it read-write once.
    MigrationNeeded {
        /// What is pending.
        detail: String,
    },
    /// A unique index added by a migration would hold a value twice. The
    /// migration is refused and the file is unchanged.
    DuplicateValues {
        /// The model.
        model: String,
        /// The column made unique.
        column: String,
        /// Values held by more than one row (up to 10).
        values: Vec<Value>,
    },
    /// A migration step failed, or wrote a value its column cannot hold;
    /// nothing of the step was kept.
    MigrationFailed {
        /// The step (`version name`), or the model migrated.
        step: String,
        /// What went wrong.
        detail: String,
    },
    /// Bytes stored by the ORM (a row, an index entry, a schema) do not
    /// decode, or disagree with each other (the ORM's counterpart of the
    /// engine's [`Corruption`](strata_engine::Error::Corruption)).
    Corruption {
        /// The table.
        table: String,
        /// What is wrong.
        detail: String,
    },
    /// The engine failed.
    Engine(strata_engine::Error),
}

impl Error {
    /// Whether running the same transaction again may succeed.
    ///
    /// ```
    /// use strata::Error;
    /// assert!(Error::Engine(strata::engine::Error::Deadlock).is_retryable());
    /// assert!(!Error::NotFound { model: "User", key: strata::Value::Int(1) }.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Engine(e) if e.is_retryable())
    }
}

impl From<strata_engine::Error> for Error {
    fn from(e: strata_engine::Error) -> Self {
        Error::Engine(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UniqueViolation {
                model,
                column,
                value,
            } => {
                write!(
                    f,
                    "{model}.{column} must be unique, and {value} is already taken"
                )
            }
            Error::DuplicateKey { model, key } => {
                write!(f, "a {model} with key {key} already exists")
            }
            Error::ForeignKeyViolation {
                model,
                column,
                value,
                parent,
            } => write!(f, "{model}.{column} = {value} refers to no row of {parent}"),
            Error::Restricted {
                model, children, ..
            } => {
                write!(f, "cannot delete the {model}: rows of ")?;
                for (i, (table, column)) in children.iter().enumerate() {
                    let sep = match i {
                        0 => "",
                        i if i + 1 == children.len() => " and ",
                        _ => ", ",
                    };
                    write!(f, "{sep}{table} ({column})")?;
                }
                write!(f, " refer to it")
            }
            Error::TooLong {
                model,
                column,
                max,
                len,
            } => {
                write!(f, "{model}.{column} is limited to {max}, got {len}")
            }
            Error::KeyTooLarge {
                model,
                column,
                len,
                max,
            } => {
                write!(
                    f,
                    "{model}.{column} makes a key of {len} bytes, over the limit of {max}"
                )
            }
            Error::KeysExhausted { model } => write!(f, "no automatic key of {model} is left"),
            Error::KeyChanged { model } => write!(
                f,
                "an update of {model} rows by query may not change their keys"
            ),
            Error::NotANumber { model, column } => {
                write!(f, "{model}.{column} is indexed and cannot hold NaN")
            }
            Error::NotFound { model, key } => write!(f, "no {model} with key {key}"),
            Error::Overflow { model, column } => {
                write!(f, "the sum of {model}.{column} does not fit an i64")
            }
            Error::NotExactlyOne { model, found } => {
                write!(
                    f,
                    "expected exactly one {model}, found {}",
                    if *found > 1 { "several" } else { "none" }
                )
            }
            Error::SchemaMismatch {
                model,
                field,
                detail,
            } => {
                write!(
                    f,
                    "model {model} does not match the schema stored in the file: field {field}: {detail}"
                )
            }
            Error::FileNewer {
                file_version,
                code_version,
            } => write!(
                f,
                "the file is at migration version {file_version}, newer than this program's \
                 version {code_version}: open it with the program that migrated it"
            ),
            Error::MigrationNeeded { detail } => write!(
                f,
                "the file needs migrating, which a read-only handle cannot do \
                 (open it read-write once): {detail}"
            ),
            Error::DuplicateValues {
                model,
                column,
                values,
            } => {
                write!(f, "{model}.{column} cannot be made unique: ")?;
                for (i, v) in values.iter().enumerate() {
                    write!(f, "{}{v}", if i == 0 { "" } else { ", " })?;
                }
                write!(f, " held by more than one row; the file is unchanged")
            }
            Error::MigrationFailed { step, detail } => {
                write!(f, "migration {step} failed, and changed nothing: {detail}")
            }
            Error::Corruption { table, detail } => {
                write!(f, "corrupt ORM data in {table}: {detail}")
            }
            Error::Engine(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Engine(e) => Some(e),
            _ => None,
        }
    }
}
