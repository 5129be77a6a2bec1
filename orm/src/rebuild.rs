//! Bringing a table to a new stored schema inside a transaction: its rows
//! (when their layout changes), its indexes, its schema record and the
//! migration log. Below `session.rs`, which applies a model's automatic
//! changes at its first use, and `migration.rs`, whose steps and
//! `Database::migrate` use the same machinery.
//!
//! OLD ROWS
//!
//! A column added as an `Option` or with a default is appended to the
//! stored columns and no row is rewritten: the rows written before hold a
//! prefix of the new layout and read the column's fill
//! (`layout::RowLayout`, R1 and R2). Every other change of the layout (a
//! field made an `Option`, dropped, converted, computed by a step, or an
//! appended column whose fill would change) rewrites every row in the
//! transaction: a kept column's bytes are copied as they are, a new one
//! encoded from its value. The stored schema's `min_columns` records
//! which: unchanged by a lazy change, every column after a rewrite.
//!
//! INDEXES
//!
//! An index whose column keeps its name, its values and its uniqueness is
//! kept. Any other index the new schema calls for is emptied and built
//! from the rows in one pass; a unique one that finds a value twice
//! refuses with [`Error::DuplicateValues`] (the caller drops the
//! transaction, so the file is unchanged). Engine tables are never
//! dropped: an index that is no longer declared is emptied.
//!
//! THE LOG
//!
//! `__strata_migrations` maps a sequence number (u64, big-endian: the
//! order applied) to a record (bincode): its format (1), the step's
//! version (for automatic changes, the program's version, or the file's
//! when they are made at a model's first use), its name, and the Unix
//! time it committed.
//!
//! EVENTS
//!
//! Each logged change is also a `strata::migration` tracing event at INFO:
//! an automatic change here ("automatic schema change": model, version,
//! changes, rows, elapsed_us), an explicit step in `migration.rs` (within
//! a "migration step" span; "migration step applied": version, name,
//! rows, elapsed_us). `rows` counts the rows a change touched: rewrote,
//! read to build an index, or moved to a renamed table; an appended column
//! touches none. An automatic change made at a model's first use belongs
//! to the session that made it, and is gone if that session rolls back.

use crate::error::{Error, Result};
use crate::kv::{KvIter, KvTxn};
use crate::layout::{
    ColumnPlan, MIGRATIONS_TABLE, RowLayout, SCHEMA_TABLE, bincode_config, encode_row_value,
    index_key, index_table, key_of, reverse_table,
};
use crate::schema::{Source, StoredColumn, StoredSchema};
use crate::value::{Value, ValueRef};
use serde::{Deserialize, Serialize};
use std::ops::Bound;
use std::time::Instant;

/// At most the rows, and about the bytes of keys and values, read per
/// scan while a table is rebuilt, cleared or moved. Each scan of a table
/// the transaction has written to orders that table's write set again
/// (the engine's `WriteSet`), so a pass that rewrites the table it reads
/// costs a sort of what it wrote so far per batch: batches are large.
const BATCH: usize = 65_536;
const BATCH_BYTES: usize = 8 << 20;

/// The format of a migration log record this build writes.
const LOG_FORMAT: u32 = 1;

/// A migration applied to the file, as `Database::schema_history` lists
/// it.
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
/// use strata::AppliedMigration;
/// let db = Database::open_migrated(&path, Default::default(), &Migrations::new().step(1, "first", |_| Ok(())))?;
/// let first: &AppliedMigration = &db.schema_history()?[0];
/// assert_eq!(first.name, "first");
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedMigration {
    /// The step's version; for automatic changes, the program's version
    /// (or the file's, when made at a model's first use).
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
///     summary: String,
/// }
/// let migrations = Migrations::new().step(1, "summary", |m| {
///     // The stored row, by field name, as the steps so far left it.
///     m.add_field::<Note>("summary", |row: &strata::Row<'_>| match (row.get("body"), row.get("stars")) {
///         (Some(Value::Text(body)), Some(Value::Int(stars))) => Ok(Value::Text(format!("{body}: {stars} stars"))),
///         _ => Ok(Value::Text(String::new())),
///     })
/// });
/// let db = Database::open_migrated(&path, Default::default(), &migrations)?;
/// assert_eq!(db.read_session()?.get::<Note>(1)?.map(|n| n.summary), Some("hello: 3 stars".into()));
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Debug)]
pub struct Row<'a> {
    columns: &'a [StoredColumn],
    pub(crate) values: &'a [Value],
}

impl Row<'_> {
    /// The value of `field`, if the stored row has that field.
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
    ///     popular: bool,
    /// }
    /// let migrations = Migrations::new().step(1, "popular", |m| {
    ///     m.add_field::<Note>("popular", |row| {
    ///         assert!(row.get("no such field").is_none());
    ///         Ok(Value::Bool(matches!(row.get("stars"), Some(Value::Int(n)) if *n >= 3)))
    ///     })
    /// });
    /// let db = Database::open_migrated(&path, Default::default(), &migrations)?;
    /// assert_eq!(db.read_session()?.get::<Note>(1)?.map(|n| n.popular), Some(true));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn get(&self, field: &str) -> Option<&Value> {
        let at = self.columns.iter().position(|c| c.name == field)?;
        self.values.get(at)
    }
}

/// A step's function computing a column's value from the stored row.
pub(crate) type ComputeFn<'f> = &'f dyn Fn(&Row<'_>) -> Result<Value>;

/// Where a column of a rebuilt table takes its values: a [`Source`] of
/// the automatic diff, or a step's function.
pub(crate) enum Fill<'f> {
    Old { at: usize, wrap: bool },
    Value(Value),
    Compute(ComputeFn<'f>),
}

impl From<Source> for Fill<'_> {
    fn from(s: Source) -> Self {
        match s {
            Source::Old { at, wrap } => Fill::Old { at, wrap },
            Source::Fill(v) => Fill::Value(v),
        }
    }
}

/// Every column of `old` kept as it is, but the one at `except`.
pub(crate) fn identity(old: &StoredSchema, except: Option<usize>) -> Vec<Fill<'static>> {
    (0..old.columns.len())
        .filter(|&i| Some(i) != except)
        .map(|at| Fill::Old { at, wrap: false })
        .collect()
}

/// An error of a step's own making; the step's name is added by the
/// caller.
pub(crate) fn step_error(detail: String) -> Error {
    Error::MigrationFailed {
        step: String::new(),
        detail,
    }
}

pub(crate) fn corrupt(table: &str, detail: String) -> Error {
    Error::Corruption {
        table: table.to_string(),
        detail,
    }
}

/// Brings the table of `old` to `declared`'s columns when every
/// difference is automatic (`StoredSchema::diff`), in `kv`'s transaction:
/// rebuilds it, stores the new schema and logs the changes as one entry
/// of version `version`, reported as a `strata::migration` event (the
/// model, the version, the changes, the rows touched, the time). Returns
/// the schema stored.
pub(crate) fn apply_automatic(
    kv: &mut dyn KvTxn,
    old: &StoredSchema,
    declared: &StoredSchema,
    version: u32,
) -> Result<StoredSchema> {
    let began = Instant::now();
    let diff = old.diff(declared, Some((version, version)))?;
    let mut target = diff.target;
    let fills: Vec<Fill<'_>> = diff.sources.into_iter().map(Fill::from).collect();
    let rows = rebuild(kv, old, &mut target, &fills)?;
    kv.put(SCHEMA_TABLE, target.table.as_bytes(), &target.encode())?;
    if !diff.changes.is_empty() {
        let what: Vec<String> = diff
            .changes
            .iter()
            .map(|c| format!("{} {}", c.field, c.what))
            .collect();
        let name = format!("automatic: {}: {}", declared.model, what.join("; "));
        log(kv, version, &name)?;
        tracing::info!(
            target: "strata::migration",
            model = %declared.model,
            version,
            changes = %what.join("; "),
            rows,
            elapsed_us = micros(began),
            "automatic schema change"
        );
    }
    Ok(target)
}

/// Microseconds since `began`, for the `strata::migration` events.
pub(crate) fn micros(began: Instant) -> u64 {
    u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// The migration log, oldest first.
pub(crate) fn history(kv: &dyn KvTxn) -> Result<Vec<AppliedMigration>> {
    let mut out = Vec::new();
    for kv in absent_scan(kv, MIGRATIONS_TABLE, Bound::Unbounded, false)? {
        let (_, v) = kv?;
        let (r, _): (LogRecord, usize) = bincode::serde::decode_from_slice(&v, bincode_config())
            .map_err(|e| {
                corrupt(
                    MIGRATIONS_TABLE,
                    format!("a log record does not decode: {e}"),
                )
            })?;
        out.push(AppliedMigration {
            version: r.version,
            name: r.name,
            applied_at: r.applied_at,
        });
    }
    Ok(out)
}

/// The file's migration version: the highest in its log (0 without one).
pub(crate) fn file_version(kv: &dyn KvTxn) -> Result<u32> {
    Ok(history(kv)?.iter().map(|h| h.version).max().unwrap_or(0))
}

/// Appends an entry to the migration log, in `kv`'s transaction, after
/// the last one.
pub(crate) fn log(kv: &mut dyn KvTxn, version: u32, name: &str) -> Result<()> {
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
    kv.create_table(MIGRATIONS_TABLE)?;
    let seq = match kv
        .scan(MIGRATIONS_TABLE, Bound::Unbounded, Bound::Unbounded, true)?
        .next()
        .transpose()?
    {
        Some((k, _)) => {
            let b: [u8; 8] = k.as_slice().try_into().map_err(|_| {
                corrupt(MIGRATIONS_TABLE, format!("log key {k:02x?} is not 8 bytes"))
            })?;
            u64::from_be_bytes(b) + 1
        }
        None => 0,
    };
    kv.put(MIGRATIONS_TABLE, &seq.to_be_bytes(), &bytes)?;
    Ok(())
}

/// Creates the tables `schema` calls for (those that exist stay).
pub(crate) fn create_tables(kv: &mut dyn KvTxn, schema: &StoredSchema) -> Result<()> {
    kv.create_table(&schema.table)?;
    for c in schema.columns.iter().filter(|c| c.has_index()) {
        kv.create_table(&index_table(&schema.table, &c.name))?;
    }
    for (through, _) in &schema.associations {
        kv.create_table(through)?;
        kv.create_table(&reverse_table(through))?;
    }
    Ok(())
}

/// [`KvTxn::scan`] from `lo`, a missing table read as empty.
fn absent_scan<'a>(
    kv: &'a dyn KvTxn,
    table: &str,
    lo: Bound<&[u8]>,
    reverse: bool,
) -> Result<KvIter<'a>> {
    match kv.scan(table, lo, Bound::Unbounded, reverse) {
        Err(strata_engine::Error::NoSuchTable(_)) => Ok(Box::new(std::iter::empty())),
        r => Ok(r?),
    }
}

/// The next entries of `table` after `after`: `BATCH` of them, or fewer
/// that reach `BATCH_BYTES`.
fn batch(kv: &dyn KvTxn, table: &str, after: Option<&[u8]>) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let lo = after.map_or(Bound::Unbounded, Bound::Excluded);
    let mut out = Vec::new();
    let mut bytes = 0;
    for entry in absent_scan(kv, table, lo, false)? {
        let (k, v) = entry?;
        bytes += k.len() + v.len();
        out.push((k, v));
        if out.len() == BATCH || bytes >= BATCH_BYTES {
            break;
        }
    }
    Ok(out)
}

/// Deletes every entry of `table`.
pub(crate) fn clear(kv: &mut dyn KvTxn, table: &str) -> Result<()> {
    loop {
        let entries = batch(kv, table, None)?;
        if entries.is_empty() {
            return Ok(());
        }
        for (k, _) in entries {
            kv.delete(table, &k)?;
        }
    }
}

/// Moves every entry of `from` into `to`; returns how many.
pub(crate) fn move_entries(kv: &mut dyn KvTxn, from: &str, to: &str) -> Result<u64> {
    kv.create_table(to)?;
    let mut moved = 0;
    loop {
        let entries = batch(kv, from, None)?;
        if entries.is_empty() {
            return Ok(moved);
        }
        for (k, v) in entries {
            kv.put(to, &k, &v)?;
            kv.delete(from, &k)?;
            moved += 1;
        }
    }
}

/// Whether the rows of `old` read as `new`'s without being rewritten:
/// every stored column kept in place, only columns appended whose fills
/// are their values, and no appended column's fill changed
/// (`layout::RowLayout`, R1 and R2).
fn lazy(old: &StoredSchema, new: &StoredSchema, fills: &[Fill<'_>]) -> bool {
    let min = old.min_columns as usize;
    let same_fill = |j: usize| j < min || old.columns[j].fill() == new.columns[j].fill();
    fills.len() >= old.columns.len()
        && fills.iter().enumerate().all(|(j, f)| match f {
            Fill::Old { at, wrap: false } => *at == j && same_fill(j),
            Fill::Value(v) => {
                let mut bytes = Vec::new();
                let c = &new.columns[j];
                j >= old.columns.len()
                    && encode_row_value(&c.storage, c.nullable, v, &mut bytes).is_ok()
                    && c.fill().ok() == Some(bytes)
            }
            _ => false,
        })
}

/// Brings the table of `old` (rows and indexes) to `new`, whose column
/// `j` takes its values from `fills[j]`, in `kv`'s transaction: rows are
/// rewritten unless the change is [`lazy`], indexes built where they are
/// new or their values change, and emptied where no longer declared.
/// Sets `new.min_columns`; does not store `new`. Returns the rows it
/// touched: rewrote, or read to build an index (0 when it did neither).
pub(crate) fn rebuild(
    kv: &mut dyn KvTxn,
    old: &StoredSchema,
    new: &mut StoredSchema,
    fills: &[Fill<'_>],
) -> Result<u64> {
    debug_assert_eq!(fills.len(), new.columns.len(), "one fill per column");
    create_tables(kv, new)?;
    let rewrite = !lazy(old, new, fills);
    new.min_columns = if rewrite {
        new.columns.len() as u32
    } else {
        old.min_columns
    };
    let new: &StoredSchema = new;
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
            clear(kv, &index_table(&old.table, &o.name))?;
        }
    }
    let build: Vec<usize> = (0..fills.len())
        .filter(|&j| new.columns[j].has_index() && !kept(j))
        .collect();
    for &j in &build {
        clear(kv, &index_table(&new.table, &new.columns[j].name))?;
    }
    if !rewrite && build.is_empty() {
        return Ok(0);
    }
    let layout = old.layout().map_err(|e| corrupt(&old.table, e))?;
    let compute = fills.iter().any(|f| matches!(f, Fill::Compute(_)));
    let indexes: Vec<Option<String>> = (0..fills.len())
        .map(|j| {
            build
                .contains(&j)
                .then(|| index_table(&new.table, &new.columns[j].name))
        })
        .collect();
    // A row's stored columns are decoded only where a step's function
    // reads the row (all of them) or an index is built from them.
    let read = |p: usize| {
        compute
            || fills
                .iter()
                .zip(&indexes)
                .any(|(f, i)| i.is_some() && matches!(f, Fill::Old { at, .. } if *at == p))
    };
    let pass = Pass {
        old,
        new,
        fills,
        plan: layout.stored_plan(read),
        layout,
        indexes,
        rewrite,
        decode: compute || !build.is_empty(),
        compute,
    };
    let mut dups: Option<(usize, Vec<Value>)> = None;
    let mut last: Option<Vec<u8>> = None;
    let mut touched = 0;
    loop {
        let rows = batch(kv, &old.table, last.as_deref())?;
        let Some((k, _)) = rows.last() else { break };
        last = Some(k.clone());
        touched += rows.len() as u64;
        for (k, v) in &rows {
            pass.row(kv, k, v, &mut dups)?;
        }
    }
    if let Some((j, values)) = dups {
        return Err(Error::DuplicateValues {
            model: new.model.clone(),
            column: new.columns[j].name.clone(),
            values,
        });
    }
    Ok(touched)
}

/// What [`rebuild`] does to each row of the table.
struct Pass<'a> {
    old: &'a StoredSchema,
    new: &'a StoredSchema,
    fills: &'a [Fill<'a>],
    layout: RowLayout,
    /// The stored plan a row is decoded with: the columns read needed.
    plan: Vec<ColumnPlan>,
    /// The index table of each column of `new` whose index is built.
    indexes: Vec<Option<String>>,
    /// Rows are rewritten in `new`'s layout.
    rewrite: bool,
    /// Rows are decoded (`plan`'s needed columns).
    decode: bool,
    /// A step's function computes a column from every stored value.
    compute: bool,
}

impl Pass<'_> {
    /// Rewrites the row `v` under key `k` if the pass rewrites rows, and
    /// writes its entries in the indexes built; a value a unique index
    /// holds already goes to `dups`.
    fn row(
        &self,
        kv: &mut dyn KvTxn,
        k: &[u8],
        v: &[u8],
        dups: &mut Option<(usize, Vec<Value>)>,
    ) -> Result<()> {
        let bad = |e: String| corrupt(&self.old.table, format!("row {k:02x?}: {e}"));
        let mut refs = Vec::new();
        if self.decode {
            self.layout.refs(&self.plan, v, &mut refs).map_err(bad)?;
        }
        let values: Vec<Value> = match self.compute {
            true => refs.iter().map(ValueRef::to_value).collect(),
            false => Vec::new(),
        };
        let spans = match self.rewrite {
            true => self.layout.spans(v).map_err(bad)?,
            false => Vec::new(),
        };
        let mut row = Vec::with_capacity(v.len() + 8);
        for (j, fill) in self.fills.iter().enumerate() {
            let d = &self.new.columns[j];
            let computed;
            let x = match fill {
                Fill::Old { at, wrap } => {
                    if self.rewrite {
                        if *wrap {
                            row.push(1);
                        }
                        row.extend_from_slice(self.layout.column(v, &spans, *at));
                    }
                    refs.get(*at).copied().unwrap_or(ValueRef::Null)
                }
                Fill::Value(x) => {
                    if self.rewrite {
                        encode_row_value(&d.storage, d.nullable, x, &mut row)
                            .map_err(|e| step_error(format!("{}: {e}", d.name)))?;
                    }
                    x.as_ref()
                }
                Fill::Compute(f) => {
                    computed = f(&Row {
                        columns: &self.old.columns,
                        values: &values,
                    })?;
                    check_value(&*kv, self.new, d, &computed)?;
                    encode_row_value(&d.storage, d.nullable, &computed, &mut row)
                        .map_err(|e| step_error(format!("{}: {e}", d.name)))?;
                    computed.as_ref()
                }
            };
            if let Some(table) = &self.indexes[j] {
                index_entry(kv, (self.new, j, table), x, k, dups)?;
            }
        }
        if self.rewrite {
            kv.put(&self.new.table, k, &row)?;
        }
        Ok(())
    }
}

/// Writes the index entry of value `x` of column `j` of `schema` (whose
/// index table is `table`) for the row under `key`, noting a value a
/// unique index already holds in `dups` (the first column found, up to
/// 10 values).
fn index_entry(
    kv: &mut dyn KvTxn,
    (schema, j, table): (&StoredSchema, usize, &str),
    x: ValueRef<'_>,
    key: &[u8],
    dups: &mut Option<(usize, Vec<Value>)>,
) -> Result<()> {
    let c = &schema.columns[j];
    if c.unique && x.is_null() {
        return Ok(());
    }
    if matches!(x, ValueRef::Float(f) if f.is_nan()) {
        return Err(step_error(format!(
            "{}.{} holds NaN, which an index cannot order",
            schema.model, c.name
        )));
    }
    let ik = index_key(x, c.unique, key);
    if !c.unique {
        return Ok(kv.put(table, &ik, &[])?);
    }
    match kv.get(table, &ik)? {
        Some(holder) if holder != key => {
            let (col, values) = dups.get_or_insert_with(|| (j, Vec::new()));
            let x = x.to_value();
            if *col == j && values.len() < 10 && !values.contains(&x) {
                values.push(x);
            }
            Ok(())
        }
        _ => Ok(kv.put(table, &ik, key)?),
    }
}

/// Checks a value a step computed against its column's `max_len` and
/// foreign key.
fn check_value(kv: &dyn KvTxn, schema: &StoredSchema, c: &StoredColumn, x: &Value) -> Result<()> {
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
    if let Some(parent) = c.foreign_key.as_deref().filter(|_| !x.is_null()) {
        let found = match kv.get(parent, &key_of(x)) {
            Err(strata_engine::Error::NoSuchTable(_)) => None,
            r => r?,
        };
        if found.is_none() {
            return Err(step_error(format!(
                "{}.{} = {x} refers to no row of {parent}",
                schema.model, c.name
            )));
        }
    }
    Ok(())
}
