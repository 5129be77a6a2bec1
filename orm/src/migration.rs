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
//! 2. the automatic changes of every listed model, all in one more
//!    transaction: whatever `StoredSchema::diff` accepts (fields added as an
//!    `Option` or with a default, fields moved or made an `Option`, indexes
//!    and unique constraints added or dropped, `max_len` relaxed, defaults,
//!    timestamps, delete rules and associations), each model's changes
//!    logged as one `automatic` entry.
//!
//! A handle that is not asked to migrate refuses every difference on a
//! model's first use, as before (`SchemaMismatch`), with a message that
//! says whether listing the model would make the change or a step is
//! needed, and how to write it.
//!
//! OLD ROWS
//!
//! Rows carry no version: a row is its struct's bincode, fields in order
//! (`layout.rs`). A migration that changes the row layout therefore
//! rewrites every row of the table in its transaction ([`rebuild`]): a kept
//! column's bytes are copied as they are (`layout::row_spans`), a new
//! column's value is encoded from its default or `None`
//! (`layout::encode_row_value`), a converted column from the step's
//! function. That costs one pass over the table, O(rows), and a
//! transaction as large as the table (the engine spills it to disk past
//! its memory bound); orm/DESIGN.md, "Schema evolution", gives the figures
//! and the lazy alternative.
//!
//! INDEXES
//!
//! An index whose column keeps its name, its values and its uniqueness is
//! kept. Any other index the new schema calls for is emptied and built
//! from the rows in the same pass; a unique one that finds a value twice
//! refuses the migration with [`Error::DuplicateValues`], and since the
//! transaction is then dropped, the file is unchanged. Engine tables are
//! never dropped: an index that is no longer declared is emptied.
//!
//! CRASHES
//!
//! Each step, and the automatic changes, are one engine transaction each,
//! the log entry inside it: after a crash the file is at the version of
//! the last committed one, every row in the layout its stored schema
//! says, and opening again runs what is left.
//!
//! THE LOG
//!
//! `__strata_migrations` maps a sequence number (u64, big-endian: the
//! order applied) to a record (bincode): its format (1), the step's
//! version (the program's version for an automatic entry), its name, and
//! the Unix time it committed. [`Database::schema_history`] lists it.

use crate::error::{Error, Result};
use crate::layout::{
    MIGRATIONS_TABLE, SCHEMA_TABLE, bincode_config, decode_row_values, encode_row_value, index_key,
    index_table, key_of, reverse_table, row_spans,
};
use crate::model::Model;
use crate::schema::{Source, StoredColumn, StoredSchema};
use crate::session::{Database, Session};
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::ops::Bound;
use std::path::Path;

/// Rows read per scan while a migration rewrites a table.
const BATCH: usize = 4096;

/// The format of a migration log record this build writes.
const LOG_FORMAT: u32 = 1;

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
    pub fn new() -> Migrations {
        Migrations::default()
    }

    /// Evolves `M` automatically when the database opens: its table is
    /// created, or its stored schema brought to `M`'s when every difference
    /// is automatic (see the module's documentation).
    pub fn model<M: Model>(mut self) -> Migrations {
        self.models.push(StoredSchema::of::<M>);
        self
    }

    /// Adds an explicit step. Versions start at 1 and increase with each
    /// step; a step runs once, in one transaction, when the file's version
    /// is below its own.
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

/// A migration applied to the file, as [`Database::schema_history`] lists
/// it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedMigration {
    /// The step's version; for automatic changes, the program's version.
    pub version: u32,
    /// The step's name, or `automatic: <model>: <changes>`.
    pub name: String,
    /// When it committed, in seconds since 1970-01-01 UTC.
    pub applied_at: u64,
}

/// A record of the migration log, as stored.
#[derive(Serialize, Deserialize)]
struct LogRecord {
    format: u32,
    version: u32,
    name: String,
    applied_at: u64,
}

/// The stored row a step's function reads: the values of the row's
/// columns under the stored schema, by field name.
#[derive(Debug)]
pub struct Row<'a> {
    columns: &'a [StoredColumn],
    values: &'a [Value],
}

impl Row<'_> {
    /// The value of `field`, if the stored row has that field.
    pub fn get(&self, field: &str) -> Option<&Value> {
        let at = self.columns.iter().position(|c| c.name == field)?;
        self.values.get(at)
    }
}

/// A column's values in a rebuilt table: a [`Source`] of the automatic
/// diff, or a step's function.
enum Fill<'f> {
    Old { at: usize, wrap: bool },
    Value(Value),
    Compute(&'f dyn Fn(&Row<'_>) -> Result<Value>),
}

impl From<Source> for Fill<'_> {
    fn from(s: Source) -> Self {
        match s {
            Source::Old { at, wrap } => Fill::Old { at, wrap },
            Source::Fill(v) => Fill::Value(v),
        }
    }
}

/// What a step's function works with: its transaction, and the changes a
/// program cannot declare on a model (renames, drops, conversions).
pub struct Migration<'a> {
    s: &'a mut Session,
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
    pub fn session(&mut self) -> &mut Session {
        self.s
    }

    /// Renames field `from` of the model stored in `table` to `to`. Rows
    /// are not rewritten (they hold no names); its index, if any, moves.
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
    pub fn rename_model(&mut self, from: &str, to: &str) -> Result<()> {
        let old = self.schema(from)?;
        if self.s.db.schemas.read().contains_key(to) {
            return Err(step_error(format!("a model is stored in {to} already")));
        }
        let mut new = old.clone();
        new.table = to.to_string();
        create_tables(self.s, &new)?;
        move_entries(self.s, from, to)?;
        for c in old.columns.iter().filter(|c| c.has_index()) {
            move_entries(
                self.s,
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
        rebuild(self.s, old, new, fills)?;
        self.store(new)
    }
}

/// Every column of `old` kept as it is, but the one at `except`.
fn identity(old: &StoredSchema, except: Option<usize>) -> Vec<Fill<'static>> {
    (0..old.columns.len())
        .filter(|&i| Some(i) != except)
        .map(|at| Fill::Old { at, wrap: false })
        .collect()
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

/// An error of a step's own making; the step's name is added by the caller.
fn step_error(detail: String) -> Error {
    Error::MigrationFailed {
        step: String::new(),
        detail,
    }
}

impl Database {
    /// Opens (or creates) the database at `path` and migrates it: pending
    /// steps, then the automatic changes of the listed models
    /// ([`Database::migrate`]).
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
    /// one more; logs each. Refuses a file migrated by a newer program
    /// ([`Error::FileNewer`]); on a read-only handle, refuses any pending
    /// work ([`Error::MigrationNeeded`]). Meant to run at start-up, before
    /// other sessions use the models it changes.
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
        let mut seq = history.len() as u64;
        for step in pending {
            let named = |e: Error| match e {
                Error::MigrationFailed { step: s, detail } if s.is_empty() => {
                    Error::MigrationFailed {
                        step: format!("{} \"{}\"", step.version, step.name),
                        detail,
                    }
                }
                e => e,
            };
            let mut s = self.session()?;
            (step.run)(&mut Migration { s: &mut s }).map_err(named)?;
            log(&mut s, &mut seq, step.version, &step.name)?;
            s.commit()?;
        }
        let versions = (code_version, code_version);
        let mut s = self.session()?;
        for declared in migrations.models.iter().map(|f| f()) {
            let stored = s.db.schemas.read().get(&declared.table).cloned();
            match stored {
                Some(old) if old == declared => {}
                Some(old) => {
                    let diff = old.diff(&declared, Some(versions))?;
                    let fills: Vec<Fill<'_>> = diff.sources.into_iter().map(Fill::from).collect();
                    rebuild(&mut s, &old, &declared, &fills)?;
                    s.kv.put(SCHEMA_TABLE, declared.table.as_bytes(), &declared.encode())?;
                    if !diff.changes.is_empty() {
                        let what: Vec<String> = diff
                            .changes
                            .iter()
                            .map(|c| format!("{} {}", c.field, c.what))
                            .collect();
                        let name = format!("automatic: {}: {}", declared.model, what.join("; "));
                        log(&mut s, &mut seq, code_version, &name)?;
                    }
                }
                None => {
                    create_tables(&mut s, &declared)?;
                    s.kv.put(SCHEMA_TABLE, declared.table.as_bytes(), &declared.encode())?;
                }
            }
        }
        s.commit()
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
            match self.inner.schemas.read().get(&declared.table) {
                None => what.push(format!("model {} has no table yet", declared.model)),
                Some(old) if *old != declared && pending.is_empty() => {
                    let diff = old.diff(&declared, Some(versions))?;
                    let changes: Vec<String> = diff
                        .changes
                        .iter()
                        .map(|c| format!("{} {}", c.field, c.what))
                        .collect();
                    what.push(format!("model {}: {}", declared.model, changes.join("; ")));
                }
                Some(old) if *old != declared => {
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
    pub fn schema_history(&self) -> Result<Vec<AppliedMigration>> {
        let tx = self.inner.store.begin_read()?;
        let rows = match tx.scan(MIGRATIONS_TABLE, Bound::Unbounded, Bound::Unbounded, false) {
            Err(strata_engine::Error::NoSuchTable(_)) => return Ok(Vec::new()),
            r => r?,
        };
        let mut out = Vec::new();
        for kv in rows {
            let (_, v) = kv?;
            let (r, _): (LogRecord, usize) =
                bincode::serde::decode_from_slice(&v, bincode_config()).map_err(|e| {
                    Error::Corruption {
                        table: MIGRATIONS_TABLE.to_string(),
                        detail: format!("a log record does not decode: {e}"),
                    }
                })?;
            out.push(AppliedMigration {
                version: r.version,
                name: r.name,
                applied_at: r.applied_at,
            });
        }
        Ok(out)
    }
}

/// Appends an entry to the migration log, in `s`'s transaction.
fn log(s: &mut Session, seq: &mut u64, version: u32, name: &str) -> Result<()> {
    let applied_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let record = LogRecord {
        format: LOG_FORMAT,
        version,
        name: name.to_string(),
        applied_at,
    };
    let bytes = bincode::serde::encode_to_vec(&record, bincode_config()).unwrap_or_default();
    s.kv.create_table(MIGRATIONS_TABLE)?;
    s.kv.put(MIGRATIONS_TABLE, &seq.to_be_bytes(), &bytes)?;
    *seq += 1;
    Ok(())
}

/// Creates the tables `schema` calls for (those that exist stay).
fn create_tables(s: &mut Session, schema: &StoredSchema) -> Result<()> {
    s.kv.create_table(&schema.table)?;
    for c in schema.columns.iter().filter(|c| c.has_index()) {
        s.kv.create_table(&index_table(&schema.table, &c.name))?;
    }
    for (through, _) in &schema.associations {
        s.kv.create_table(through)?;
        s.kv.create_table(&reverse_table(through))?;
    }
    Ok(())
}

/// The next `BATCH` entries of `table` after `after`.
fn batch(s: &Session, table: &str, after: Option<&[u8]>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let lo = after.map_or(Bound::Unbounded, Bound::Excluded);
    Ok(s.scan_raw(table, lo, Bound::Unbounded, false)?
        .take(BATCH)
        .collect::<strata_engine::Result<_>>()?)
}

/// Deletes every entry of `table`.
fn clear(s: &mut Session, table: &str) -> Result<()> {
    loop {
        let entries = batch(s, table, None)?;
        if entries.is_empty() {
            return Ok(());
        }
        for (k, _) in entries {
            s.kv.delete(table, &k)?;
        }
    }
}

/// Moves every entry of `from` into `to`.
fn move_entries(s: &mut Session, from: &str, to: &str) -> Result<()> {
    s.kv.create_table(to)?;
    loop {
        let entries = batch(s, from, None)?;
        if entries.is_empty() {
            return Ok(());
        }
        for (k, v) in entries {
            s.kv.put(to, &k, &v)?;
            s.kv.delete(from, &k)?;
        }
    }
}

/// Brings the table of `old` (rows and indexes) to `new`, whose column
/// `j` takes its values from `fills[j]`, in `s`'s transaction: rows are
/// rewritten when their layout changes, indexes built where they are new
/// or their values change, and emptied where no longer declared. Does not
/// store `new`.
fn rebuild(
    s: &mut Session,
    old: &StoredSchema,
    new: &StoredSchema,
    fills: &[Fill<'_>],
) -> Result<()> {
    debug_assert_eq!(fills.len(), new.columns.len(), "one fill per column");
    create_tables(s, new)?;
    let rewrite = fills.len() != old.columns.len()
        || fills
            .iter()
            .enumerate()
            .any(|(j, f)| !matches!(f, Fill::Old { at, wrap: false } if *at == j));
    // An index is kept when its column keeps its name, values and kind.
    let kept = |j: usize| match fills[j] {
        Fill::Old { at, .. } => {
            let (o, d) = (&old.columns[at], &new.columns[j]);
            o.name == d.name && o.has_index() && d.has_index() && o.unique == d.unique
        }
        _ => false,
    };
    for o in old.columns.iter().filter(|o| o.has_index()) {
        if !(0..fills.len()).any(|j| new.columns[j].name == o.name && kept(j)) {
            clear(s, &index_table(&old.table, &o.name))?;
        }
    }
    let build: Vec<usize> = (0..fills.len())
        .filter(|&j| new.columns[j].has_index() && !kept(j))
        .collect();
    for &j in &build {
        clear(s, &index_table(&new.table, &new.columns[j].name))?;
    }
    let computes = fills.iter().any(|f| matches!(f, Fill::Compute(_)));
    if !rewrite && build.is_empty() {
        return Ok(());
    }
    let plan = old.row_plan().map_err(|e| corrupt(&old.table, e))?;
    let decode = computes || !build.is_empty();
    let mut dups: Option<(usize, Vec<Value>)> = None;
    let mut last: Option<Vec<u8>> = None;
    loop {
        let rows = batch(s, &old.table, last.as_deref())?;
        let Some((k, _)) = rows.last() else { break };
        last = Some(k.clone());
        for (k, v) in &rows {
            let bad = |e: String| corrupt(&old.table, format!("row {k:02x?}: {e}"));
            let values = if decode {
                decode_row_values(&plan, v).map_err(bad)?
            } else {
                Vec::new()
            };
            let spans = if rewrite {
                row_spans(&plan, v).map_err(bad)?
            } else {
                Vec::new()
            };
            let mut row = Vec::with_capacity(v.len() + 8);
            let mut indexed: Vec<(usize, Value)> = Vec::new();
            for (j, fill) in fills.iter().enumerate() {
                let d = &new.columns[j];
                let value = match fill {
                    Fill::Old { at, wrap } => {
                        if rewrite {
                            if *wrap {
                                row.push(1);
                            }
                            row.extend_from_slice(&v[spans[*at].clone()]);
                        }
                        build.contains(&j).then(|| values[*at].clone())
                    }
                    Fill::Value(x) => {
                        encode_row_value(&d.storage, d.nullable, x, &mut row)
                            .map_err(|e| step_error(format!("{}: {e}", d.name)))?;
                        Some(x.clone())
                    }
                    Fill::Compute(f) => {
                        let x = f(&Row {
                            columns: &old.columns,
                            values: &values,
                        })?;
                        check_value(s, new, d, &x)?;
                        encode_row_value(&d.storage, d.nullable, &x, &mut row)
                            .map_err(|e| step_error(format!("{}: {e}", d.name)))?;
                        Some(x)
                    }
                };
                if let Some(x) = value.filter(|_| build.contains(&j)) {
                    indexed.push((j, x));
                }
            }
            if rewrite {
                s.kv.put(&new.table, k, &row)?;
            }
            for (j, x) in indexed {
                index_entry(s, new, j, &x, k, &mut dups)?;
            }
        }
    }
    if let Some((j, values)) = dups {
        return Err(Error::DuplicateValues {
            model: new.model.clone(),
            column: new.columns[j].name.clone(),
            values,
        });
    }
    Ok(())
}

/// Writes the index entry of value `x` of column `j` for the row under
/// `key`, noting a value a unique index already holds in `dups` (the first
/// column found, up to 10 values).
fn index_entry(
    s: &mut Session,
    schema: &StoredSchema,
    j: usize,
    x: &Value,
    key: &[u8],
    dups: &mut Option<(usize, Vec<Value>)>,
) -> Result<()> {
    let c = &schema.columns[j];
    if c.unique && x.is_null() {
        return Ok(());
    }
    if matches!(x, Value::Float(f) if f.is_nan()) {
        return Err(step_error(format!(
            "{}.{} holds NaN, which an index cannot order",
            schema.model, c.name
        )));
    }
    let table = index_table(&schema.table, &c.name);
    let ik = index_key(x.as_ref(), c.unique, key);
    if !c.unique {
        return Ok(s.kv.put(&table, &ik, &[])?);
    }
    match s.kv.get(&table, &ik)? {
        Some(holder) if holder != key => {
            let (col, values) = dups.get_or_insert_with(|| (j, Vec::new()));
            if *col == j && values.len() < 10 && !values.contains(x) {
                values.push(x.clone());
            }
            Ok(())
        }
        _ => Ok(s.kv.put(&table, &ik, key)?),
    }
}

/// Checks a value a step computed against its column's `max_len` and
/// foreign key.
fn check_value(s: &Session, schema: &StoredSchema, c: &StoredColumn, x: &Value) -> Result<()> {
    let len = match x {
        Value::Text(t) => t.chars().count(),
        Value::Bytes(b) => b.len(),
        _ => 0,
    } as u64;
    if c.max_len.is_some_and(|max| len > max) {
        return Err(step_error(format!(
            "{}.{} = {x} is longer than its max_len",
            schema.model, c.name
        )));
    }
    if let Some(parent) = c.foreign_key.as_deref().filter(|_| !x.is_null())
        && s.get_raw(parent, &key_of(x))?.is_none()
    {
        return Err(step_error(format!(
            "{}.{} = {x} refers to no row of {parent}",
            schema.model, c.name
        )));
    }
    Ok(())
}

fn corrupt(table: &str, detail: String) -> Error {
    Error::Corruption {
        table: table.to_string(),
        detail,
    }
}
