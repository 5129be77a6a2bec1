//! Schema evolution: the models of a program change, and the files that
//! yesterday's program wrote still open, with nothing lost.
//!
//! WHAT MIGRATES
//!
//! [`Migrations`] lists the models a program wants evolved
//! ([`Migrations::model`]) and its explicit steps ([`Migrations::step`]),
//! each with a version. [`Database::open_migrated`] (or
//! [`Database::migrate`] on an open handle) runs, in order:
//!
//! 1. every step whose version is above the file's migration version (the
//!    highest version in the migration log), each in one transaction of its
//!    own that also appends the step to the log;
//! 2. the automatic changes of every listed model, all in the last step's
//!    transaction (or in one of their own when no step is pending), so that
//!    no crash leaves the file at a step's version with its models' changes
//!    still to make: whatever `StoredSchema::diff` accepts (fields added as an
//!    `Option` or with a default, fields moved or made an `Option`, indexes
//!    and unique constraints added or dropped, `max_len` relaxed, defaults,
//!    timestamps, delete rules and associations), each model's changes
//!    logged as one `automatic` entry.
//!
//! A handle that is not asked to migrate makes the same automatic changes
//! at a model's first use (`session.rs`), logged the same way; a change
//! that is not automatic and has no step is refused there
//! (`SchemaMismatch`), with a message that names the step to write.
//!
//! How rows and indexes are brought to a new schema, the log's record,
//! and the `strata::migration` tracing events of each applied step and
//! automatic change are in `rebuild.rs`: columns added as an `Option` or
//! with a default are appended and no row is rewritten; other layout
//! changes rewrite every row in the step's transaction.
//!
//! CRASHES
//!
//! Each step, and the automatic changes, are one engine transaction each,
//! the log entry inside it: after a crash the file is at the version of
//! the last committed one, every row in the layout its stored schema
//! says, and opening again runs what is left.

use crate::error::{Error, Result};
use crate::layout::{SCHEMA_TABLE, index_table};
use crate::model::Model;
pub use crate::rebuild::{AppliedMigration, Row};
use crate::rebuild::{
    Fill, apply_automatic, create_tables, history, identity, log, micros, move_entries, rebuild,
    step_error,
};
use crate::schema::{StoredColumn, StoredSchema};
use crate::session::{Database, Session};
use crate::value::Value;
use std::path::Path;
use std::time::Instant;

/// A step's function.
type StepFn = dyn Fn(&mut Migration<'_>) -> Result<()> + Send + Sync;

/// One explicit step.
struct Step {
    version: u32,
    name: String,
    run: Box<StepFn>,
}

/// The models a program evolves automatically and its explicit,
/// versioned steps, given to [`Database::open_migrated`].
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Migrations, Model};
/// # #[derive(Model, Serialize, Deserialize, Clone)]
/// # #[strata(table = "posts")]
/// # struct Post { #[strata(primary_key)] id: i64, title: String, views: Option<i64> }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-mig-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let migrations = Migrations::new()
///     .model::<Post>()
///     .step(1, "rename posts.body to text", |m| {
///         m.rename_field("posts", "body", "text")
///     });
/// # let migrations = Migrations::new().model::<Post>();
/// let db = Database::open_migrated(dir.join("app.strata"), Default::default(), &migrations)?;
/// # drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Default)]
pub struct Migrations {
    steps: Vec<Step>,
    models: Vec<fn() -> StoredSchema>,
}

impl std::fmt::Debug for Migrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrations")
            .field(
                "steps",
                &self.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
            )
            .field("models", &self.models.len())
            .finish()
    }
}

impl Migrations {
    /// No models and no steps.
    ///
    /// ```
    /// use strata::Migrations;
    /// let none = Migrations::new();
    /// assert_eq!(none.version(), 0); // no steps
    /// ```
    pub fn new() -> Migrations {
        Migrations::default()
    }

    /// Evolves `M` automatically when the database opens: its table is
    /// created, or its stored schema brought to `M`'s when every difference
    /// is automatic (see the module's documentation).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #[strata(table = "notes")]
    /// struct Note {
    ///     #[strata(primary_key)]
    ///     id: i64,
    ///     body: String,
    ///     stars: i32,
    ///     pinned: Option<bool>, // new: an automatic change
    /// }
    /// let migrations = Migrations::new().model::<Note>();
    /// let db = Database::open_migrated(&path, Default::default(), &migrations)?; // changed at open
    /// assert!(db.schema_history()?[0].name.starts_with("automatic: Note"));
    /// assert_eq!(db.read_session()?.get::<Note>(1)?.map(|n| n.pinned), Some(None));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn model<M: Model>(mut self) -> Migrations {
        self.models.push(StoredSchema::of::<M>);
        self
    }

    /// Adds an explicit step. Versions start at 1 and increase with each
    /// step; a step runs once, in one transaction, when the file's version
    /// is below its own.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// let migrations = Migrations::new()
    ///     .step(1, "body is text", |m| m.rename_field("notes", "body", "text"))
    ///     .step(2, "no stars", |m| m.drop_field("notes", "stars"));
    /// let db = Database::open_migrated(&path, Default::default(), &migrations)?;
    /// let names: Vec<String> = db.schema_history()?.into_iter().map(|h| h.name).collect();
    /// assert_eq!(names, ["body is text", "no stars"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn step(
        mut self,
        version: u32,
        name: &str,
        run: impl Fn(&mut Migration<'_>) -> Result<()> + Send + Sync + 'static,
    ) -> Migrations {
        self.steps.push(Step {
            version,
            name: name.to_string(),
            run: Box::new(run),
        });
        self
    }

    /// The program's migration version: its last step's (0 without steps).
    ///
    /// ```
    /// use strata::Migrations;
    /// let m = Migrations::new().step(1, "one", |_| Ok(())).step(2, "two", |_| Ok(()));
    /// assert_eq!(m.version(), 2);
    /// ```
    pub fn version(&self) -> u32 {
        self.steps.iter().map(|s| s.version).max().unwrap_or(0)
    }

    /// Versions must start at 1 and increase.
    fn validate(&self) -> Result<()> {
        let mut last = 0;
        for s in &self.steps {
            if s.version <= last {
                return Err(Error::MigrationFailed {
                    step: format!("{} {}", s.version, s.name),
                    detail: format!("step versions must increase from 1; this one follows {last}"),
                });
            }
            last = s.version;
        }
        Ok(())
    }
}

/// What a step's function works with: its transaction, and the changes a
/// program cannot declare on a model (renames, drops, conversions).
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Migration, Migrations, Model, Value};
/// # mod v1 {
/// #     use serde::{Deserialize, Serialize};
/// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #     #[strata(table = "notes")]
/// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
/// # }
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("notes.strata");
/// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #[strata(table = "notes")]
/// struct Note {
///     #[strata(primary_key)]
///     id: i64,
///     text: String,
///     stars: i64,
/// }
/// let migrations = Migrations::new()
///     .step(1, "body is text", |m: &mut Migration<'_>| m.rename_field("notes", "body", "text"))
///     .step(2, "stars as i64", |m| m.convert::<Note>("stars", Ok));
/// let db = Database::open_migrated(&path, Default::default(), &migrations)?;
/// assert_eq!(db.read_session()?.get::<Note>(1)?.map(|n| n.stars), Some(3));
/// # Ok::<(), strata::Error>(())
/// ```
pub struct Migration<'a> {
    s: &'a mut Session,
    /// Rows the step's changes touched so far (`rebuild.rs`, EVENTS).
    rows: u64,
}

impl std::fmt::Debug for Migration<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migration").finish_non_exhaustive()
    }
}

impl Migration<'_> {
    /// The step's session, to move data between models with their Rust
    /// types (split or merge models, fill new ones). A model used here must
    /// match its stored schema as the steps so far left it.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #[strata(table = "stars")]
    /// struct Star {
    ///     #[strata(primary_key)]
    ///     note_id: i64,
    ///     count: i32,
    /// }
    /// // Move data with the models' Rust types: each note's stars into a table of their own.
    /// let migrations = Migrations::new().step(1, "stars apart", |m| {
    ///     let s = m.session();
    ///     for note in s.query::<v1::Note>().all()? {
    ///         s.add(&mut Star { note_id: note.id, count: note.stars })?;
    ///     }
    ///     Ok(())
    /// });
    /// let db = Database::open_migrated(&path, Default::default(), &migrations)?;
    /// assert_eq!(db.read_session()?.get::<Star>(1)?.map(|s| s.count), Some(3));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn session(&mut self) -> &mut Session {
        self.s
    }

    /// Renames field `from` of the model stored in `table` to `to`. Rows
    /// are not rewritten (they hold no names); its index, if any, moves.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #[strata(table = "notes")]
    /// struct Note {
    ///     #[strata(primary_key)]
    ///     id: i64,
    ///     text: String, // was `body`
    ///     stars: i32,
    /// }
    /// let migrations = Migrations::new().step(1, "body is text", |m| m.rename_field("notes", "body", "text"));
    /// let db = Database::open_migrated(&path, Default::default(), &migrations)?;
    /// assert_eq!(db.read_session()?.get::<Note>(1)?.map(|n| n.text), Some("hello".into()));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn rename_field(&mut self, table: &str, from: &str, to: &str) -> Result<()> {
        let old = self.schema(table)?;
        let at = column_at(&old, from)?;
        if old.columns.iter().any(|c| c.name == to) {
            return Err(step_error(format!("{table} already has a field {to}")));
        }
        let mut new = old.clone();
        new.columns[at].name = to.to_string();
        let fills = identity(&old, None);
        self.rebuild(&old, &new, &fills)
    }

    /// Drops field `field` of the model stored in `table`: every row is
    /// rewritten without it, and its index emptied.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #[strata(table = "notes")]
    /// struct Note {
    ///     #[strata(primary_key)]
    ///     id: i64,
    ///     body: String, // `stars` is gone
    /// }
    /// let migrations = Migrations::new().step(1, "no stars", |m| m.drop_field("notes", "stars"));
    /// let db = Database::open_migrated(&path, Default::default(), &migrations)?;
    /// assert_eq!(db.read_session()?.get::<Note>(1)?.map(|n| n.body), Some("hello".into()));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn drop_field(&mut self, table: &str, field: &str) -> Result<()> {
        let old = self.schema(table)?;
        let at = column_at(&old, field)?;
        if old.columns[at].primary_key {
            return Err(step_error(format!("{table}.{field} is the primary key")));
        }
        let mut new = old.clone();
        new.columns.remove(at);
        let fills = identity(&old, Some(at));
        self.rebuild(&old, &new, &fills)
    }

    /// Gives field `field` of `M`'s table the column `M` declares (its
    /// type, limits, index, foreign key), each stored value converted by
    /// `convert`. New values are checked against `max_len` and the foreign
    /// key; the index is built again.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #[strata(table = "notes")]
    /// struct Note {
    ///     #[strata(primary_key)]
    ///     id: i64,
    ///     body: String,
    ///     stars: String, // was an i32
    /// }
    /// let migrations = Migrations::new().step(1, "stars as text", |m| {
    ///     m.convert::<Note>("stars", |old| match old {
    ///         Value::Int(n) => Ok(Value::Text("*".repeat(n as usize))),
    ///         other => Ok(other),
    ///     })
    /// });
    /// let db = Database::open_migrated(&path, Default::default(), &migrations)?;
    /// assert_eq!(db.read_session()?.get::<Note>(1)?.map(|n| n.stars), Some("***".into()));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn convert<M: Model>(
        &mut self,
        field: &str,
        convert: impl Fn(Value) -> Result<Value>,
    ) -> Result<()> {
        let old = self.schema(M::TABLE)?;
        let at = column_at(&old, field)?;
        let declared = declared_column::<M>(field)?;
        let mut new = old.clone();
        new.columns[at] = declared;
        let f = move |row: &Row<'_>| convert(row.values[at].clone());
        let mut fills = identity(&old, None);
        fills[at] = Fill::Compute(&f);
        self.rebuild(&old, &new, &fills)
    }

    /// Adds field `field` as `M` declares it, its value in each stored row
    /// given by `value` (for a field that is neither an `Option` nor has a
    /// default, which the automatic changes cannot fill).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #[strata(table = "notes")]
    /// struct Note {
    ///     #[strata(primary_key)]
    ///     id: i64,
    ///     body: String,
    ///     stars: i32,
    ///     length: i64, // required: neither an Option nor a default
    /// }
    /// let migrations = Migrations::new().step(1, "length", |m| {
    ///     m.add_field::<Note>("length", |row| match row.get("body") {
    ///         Some(Value::Text(body)) => Ok(Value::Int(body.chars().count() as i64)),
    ///         _ => Ok(Value::Int(0)),
    ///     })
    /// });
    /// let db = Database::open_migrated(&path, Default::default(), &migrations)?;
    /// assert_eq!(db.read_session()?.get::<Note>(1)?.map(|n| n.length), Some(5));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn add_field<M: Model>(
        &mut self,
        field: &str,
        value: impl Fn(&Row<'_>) -> Result<Value>,
    ) -> Result<()> {
        let old = self.schema(M::TABLE)?;
        if old.columns.iter().any(|c| c.name == field) {
            return Err(step_error(format!(
                "{} already has a field {field}",
                M::TABLE
            )));
        }
        let mut new = old.clone();
        new.columns.push(declared_column::<M>(field)?);
        let mut fills = identity(&old, None);
        fills.push(Fill::Compute(&value));
        self.rebuild(&old, &new, &fills)
    }

    /// Renames the model stored in `from` to table `to`: its rows and index
    /// entries move, and foreign keys and associations of other models that
    /// named `from` name `to`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #[strata(table = "memos")]
    /// struct Memo {
    ///     #[strata(primary_key)]
    ///     id: i64,
    ///     body: String,
    ///     stars: i32,
    /// }
    /// let migrations = Migrations::new().step(1, "notes are memos", |m| m.rename_model("notes", "memos"));
    /// let db = Database::open_migrated(&path, Default::default(), &migrations)?;
    /// assert_eq!(db.read_session()?.get::<Memo>(1)?.map(|m| m.body), Some("hello".into()));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn rename_model(&mut self, from: &str, to: &str) -> Result<()> {
        let old = self.schema(from)?;
        if self.s.db.schemas.read().contains_key(to) {
            return Err(step_error(format!("a model is stored in {to} already")));
        }
        let mut new = old.clone();
        new.table = to.to_string();
        create_tables(&mut *self.s.kv, &new)?;
        self.rows += move_entries(&mut *self.s.kv, from, to)?;
        for c in old.columns.iter().filter(|c| c.has_index()) {
            move_entries(
                &mut *self.s.kv,
                &index_table(from, &c.name),
                &index_table(to, &c.name),
            )?;
        }
        self.s.kv.delete(SCHEMA_TABLE, from.as_bytes())?;
        self.s.db.schemas.write().remove(from);
        self.store(&new)?;
        let others: Vec<StoredSchema> = self.s.db.schemas.read().values().cloned().collect();
        for mut other in others {
            let before = other.clone();
            for c in &mut other.columns {
                if c.foreign_key.as_deref() == Some(from) {
                    c.foreign_key = Some(to.to_string());
                }
            }
            for (_, target) in &mut other.associations {
                if target == from {
                    *target = to.to_string();
                }
            }
            if other != before {
                self.store(&other)?;
            }
        }
        Ok(())
    }

    fn schema(&self, table: &str) -> Result<StoredSchema> {
        self.s
            .db
            .schemas
            .read()
            .get(table)
            .cloned()
            .ok_or_else(|| step_error(format!("no model is stored in table {table}")))
    }

    /// Writes `schema` to the file and to the handle, so that the step's
    /// later calls (and its session) see it.
    fn store(&mut self, schema: &StoredSchema) -> Result<()> {
        self.s
            .kv
            .put(SCHEMA_TABLE, schema.table.as_bytes(), &schema.encode())?;
        self.s
            .db
            .schemas
            .write()
            .insert(schema.table.clone(), schema.clone());
        Ok(())
    }

    fn rebuild(
        &mut self,
        old: &StoredSchema,
        new: &StoredSchema,
        fills: &[Fill<'_>],
    ) -> Result<()> {
        let mut new = new.clone();
        self.rows += rebuild(&mut *self.s.kv, old, &mut new, fills)?;
        self.store(&new)
    }
}

fn column_at(s: &StoredSchema, field: &str) -> Result<usize> {
    s.columns
        .iter()
        .position(|c| c.name == field)
        .ok_or_else(|| step_error(format!("{} has no field {field}", s.table)))
}

fn declared_column<M: Model>(field: &str) -> Result<StoredColumn> {
    StoredSchema::of::<M>()
        .columns
        .into_iter()
        .find(|c| c.name == field)
        .ok_or_else(|| step_error(format!("{} declares no field {field}", M::NAME)))
}

/// The event of a step committed.
fn step_applied(step: &Step, rows: u64, began: Instant) {
    tracing::info!(
        target: "strata::migration",
        version = step.version,
        name = %step.name,
        rows,
        elapsed_us = micros(began),
        "migration step applied"
    );
}

impl Database {
    /// Opens (or creates) the database at `path` and migrates it: pending
    /// steps, then the automatic changes of the listed models
    /// ([`Database::migrate`]).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// use strata::engine::Options;
    /// let migrations = Migrations::new().step(1, "body is text", |m| m.rename_field("notes", "body", "text"));
    /// let db = Database::open_migrated(&path, Options::default(), &migrations)?;
    /// drop(db);
    /// // Again: the step ran once, and does not run twice.
    /// let db = Database::open_migrated(&path, Options::default(), &migrations)?;
    /// assert_eq!(db.schema_history()?.len(), 1);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn open_migrated(
        path: impl AsRef<Path>,
        options: strata_engine::Options,
        migrations: &Migrations,
    ) -> Result<Database> {
        let db = Database::open_with(path, options)?;
        db.migrate(migrations)?;
        Ok(db)
    }

    /// Runs the steps of `migrations` the file has not had, each in a
    /// transaction of its own, then the automatic changes of its models in
    /// the last step's transaction (in one of their own if no step is
    /// pending); logs each. Refuses a file migrated by a newer program
    /// ([`Error::FileNewer`]); on a read-only handle, refuses any pending
    /// work ([`Error::MigrationNeeded`]). Meant to run at start-up, before
    /// other sessions use the models it changes.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// use strata::Error;
    /// let db = Database::open(&path)?;
    /// db.migrate(&Migrations::new().step(1, "one", |_| Ok(())).step(2, "two", |_| Ok(())))?;
    /// // A program whose last step is older refuses the file, and changes nothing.
    /// let older = Migrations::new().step(1, "one", |_| Ok(()));
    /// assert!(matches!(db.migrate(&older), Err(Error::FileNewer { file_version: 2, code_version: 1 })));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn migrate(&self, migrations: &Migrations) -> Result<()> {
        let done = self.migrate_steps(migrations);
        // Whatever committed, the handle reads the schemas the file has.
        let reloaded = self.inner.reload_schemas();
        done.and(reloaded)
    }

    fn migrate_steps(&self, migrations: &Migrations) -> Result<()> {
        migrations.validate()?;
        let history = self.schema_history()?;
        let file_version = history.iter().map(|h| h.version).max().unwrap_or(0);
        let code_version = migrations.version();
        if file_version > code_version {
            return Err(Error::FileNewer {
                file_version,
                code_version,
            });
        }
        let pending: Vec<&Step> = migrations
            .steps
            .iter()
            .filter(|s| s.version > file_version)
            .collect();
        if self.inner.read_only() {
            return self.refuse_pending(migrations, &pending, (file_version, code_version));
        }
        // The last step commits together with the automatic changes, so
        // that no crash leaves the file at a step's version with the
        // changes its models declare still pending.
        let mut last = None;
        let count = pending.len();
        for (i, step) in pending.into_iter().enumerate() {
            let named = |e: Error| match e {
                Error::MigrationFailed { step: s, detail } if s.is_empty() => {
                    Error::MigrationFailed {
                        step: format!("{} \"{}\"", step.version, step.name),
                        detail,
                    }
                }
                e => e,
            };
            let span = tracing::info_span!(
                target: "strata::migration",
                "migration step",
                version = step.version,
                name = %step.name
            );
            let _entered = span.enter();
            let began = Instant::now();
            let mut s = self.session()?;
            let mut m = Migration { s: &mut s, rows: 0 };
            (step.run)(&mut m).map_err(named)?;
            let rows = m.rows;
            log(&mut *s.kv, step.version, &step.name)?;
            if i + 1 == count {
                last = Some((s, (step, rows, began)));
                break;
            }
            s.commit()?;
            step_applied(step, rows, began);
        }
        let (mut s, applied) = match last {
            Some((s, applied)) => (s, Some(applied)),
            None => (self.session()?, None),
        };
        for declared in migrations.models.iter().map(|f| f()) {
            let stored = s.db.schemas.read().get(&declared.table).cloned();
            match stored {
                Some(old)
                    if old.reads_as(&declared) && old.associations == declared.associations => {}
                Some(old) => {
                    apply_automatic(&mut *s.kv, &old, &declared, code_version)?;
                }
                None => {
                    create_tables(&mut *s.kv, &declared)?;
                    s.kv.put(SCHEMA_TABLE, declared.table.as_bytes(), &declared.encode())?;
                }
            }
        }
        s.commit()?;
        if let Some((step, rows, began)) = applied {
            step_applied(step, rows, began);
        }
        Ok(())
    }

    /// On a read-only handle: fails if anything is pending, naming it;
    /// refuses changes no migration could make as a writable handle would.
    fn refuse_pending(
        &self,
        migrations: &Migrations,
        pending: &[&Step],
        versions: (u32, u32),
    ) -> Result<()> {
        let mut what: Vec<String> = pending
            .iter()
            .map(|s| format!("step {} \"{}\"", s.version, s.name))
            .collect();
        for declared in migrations.models.iter().map(|f| f()) {
            let stored = self.inner.schemas.read().get(&declared.table).cloned();
            let same = |old: &StoredSchema| {
                old.reads_as(&declared) && old.associations == declared.associations
            };
            match stored {
                None => what.push(format!("model {} has no table yet", declared.model)),
                Some(old) if !same(&old) && pending.is_empty() => {
                    let diff = old.diff(&declared, Some(versions))?;
                    let changes: Vec<String> = diff
                        .changes
                        .iter()
                        .map(|c| format!("{} {}", c.field, c.what))
                        .collect();
                    what.push(format!("model {}: {}", declared.model, changes.join("; ")));
                }
                Some(old) if !same(&old) => {
                    what.push(format!("model {} changed", declared.model));
                }
                Some(_) => {}
            }
        }
        if what.is_empty() {
            return Ok(());
        }
        Err(Error::MigrationNeeded {
            detail: what.join("; "),
        })
    }

    /// The migrations applied to the file, oldest first: the steps, and
    /// the automatic changes, each with its version and when it committed.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Migration, Migrations, Model, Value};
    /// # mod v1 {
    /// #     use serde::{Deserialize, Serialize};
    /// #     #[derive(strata::Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// #     #[strata(table = "notes")]
    /// #     pub struct Note { #[strata(primary_key)] pub id: i64, pub body: String, pub stars: i32 }
    /// # }
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("notes.strata");
    /// # { let db = Database::open(&path)?; db.transaction(|s| s.add(&mut v1::Note { id: 0, body: "hello".into(), stars: 3 }))?; }
    /// let db = Database::open_migrated(&path, Default::default(), &Migrations::new().step(1, "nothing yet", |_| Ok(())))?;
    /// let history = db.schema_history()?;
    /// assert_eq!((history[0].version, history[0].name.as_str()), (1, "nothing yet"));
    /// assert!(history[0].applied_at > 1_600_000_000); // seconds since 1970
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn schema_history(&self) -> Result<Vec<AppliedMigration>> {
        let tx = self.inner.store.begin_read()?;
        history(&*tx)
    }
}
