//! A model as the file stores it, without its Rust type.

use crate::layout::{RowLayout, decode_key, parse_date, parse_datetime, parse_decimal};
use crate::model::{ColumnDef, Stamp};
use crate::query::Shape;
use crate::schema::{StoredColumn, StoredSchema};
use crate::session::Database;
use crate::value::{ColumnKind, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

/// One column of a stored model.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::ColumnKind;
/// # let (_dir, db) = blog()?;
/// let posts = db.table("posts").expect("stored");
/// let author = &posts.columns[posts.column("author_id").expect("a column")];
/// assert_eq!((author.kind, author.foreign_key.as_deref()), (ColumnKind::Int, Some("users")));
/// let topic = &posts.columns[posts.column("topic").expect("a column")];
/// assert!(topic.nullable && topic.type_name.starts_with("Option"));
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ColumnSchema {
    /// The field's name.
    pub name: String,
    /// The Rust type as declared, `Option<..>` around a nullable one.
    pub type_name: String,
    /// The built-in type whose bytes it is stored as (`"i64"`, `"String"`, ...).
    pub storage: String,
    /// The kind of value.
    pub kind: ColumnKind,
    /// Whether it may be null.
    pub nullable: bool,
    /// Whether it is the primary key.
    pub primary_key: bool,
    /// Whether a unique index enforces distinct values.
    pub unique: bool,
    /// Whether a (non-unique) index covers it.
    pub index: bool,
    /// The longest value allowed (characters of text, bytes of bytes).
    pub max_len: Option<u64>,
    /// The table of the model it refers to, for a foreign key.
    pub foreign_key: Option<String>,
    /// Its default, if it has one.
    pub default: Option<Value>,
    /// The automatic timestamp it takes, if any.
    pub stamp: Option<Stamp>,
}

impl ColumnSchema {
    /// Whether it has an index table: unique, indexed or a foreign key,
    /// and not the primary key.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let posts = db.table("posts").expect("stored");
    /// let indexed: Vec<&str> = posts.columns.iter().filter(|c| c.has_index()).map(|c| c.name.as_str()).collect();
    /// assert_eq!(indexed, ["author_id", "score"]); // a foreign key is indexed
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn has_index(&self) -> bool {
        !self.primary_key && (self.unique || self.index || self.foreign_key.is_some())
    }

    /// `v` as a value of this column's kind, when it stands for one
    /// exactly: an integer of another signedness or width that fits, an
    /// integer for a float or a decimal, `0`/`1` for a boolean, and text
    /// for a date (`YYYY-MM-DD`), a date and time (`YYYY-MM-DDTHH:MM:SS[.f][Z]`),
    /// a decimal or a 128-bit integer. A null stays null. `None` for
    /// anything else: a filter would compare it as unknown, a write would
    /// refuse it.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, Value};
    /// # #[derive(Model, Serialize, Deserialize, Clone)]
    /// # struct Student { #[strata(primary_key)] id: i64, gpa: f64 }
    /// # let dir = std::env::temp_dir().join(format!("strata-dyn-coerce-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("s.strata"))?;
    /// # db.register::<Student>()?;
    /// let t = db.table("student").unwrap();
    /// assert_eq!(t.columns[1].coerce(Value::Int(4)), Some(Value::Float(4.0)));
    /// assert_eq!(t.columns[0].coerce(Value::Float(4.5)), None);
    /// # drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn coerce(&self, v: Value) -> Option<Value> {
        use ColumnKind as K;
        Some(match (self.kind, v) {
            (_, Value::Null) => Value::Null,
            (K::Int, Value::Int(i)) => Value::Int(i),
            (K::Int, Value::UInt(u)) => Value::Int(i64::try_from(u).ok()?),
            (K::UInt, Value::UInt(u)) => Value::UInt(u),
            (K::UInt, Value::Int(i)) => Value::UInt(u64::try_from(i).ok()?),
            (K::Float, Value::Float(f)) => Value::Float(f),
            (K::Float, Value::Int(i)) => Value::Float(i as f64),
            (K::Float, Value::UInt(u)) => Value::Float(u as f64),
            (K::I128, Value::Int(i)) => Value::I128(i128::from(i)),
            (K::I128, Value::UInt(u)) => Value::I128(i128::from(u)),
            (K::I128, Value::Text(t)) => Value::I128(t.parse().ok()?),
            (K::U128, Value::UInt(u)) => Value::U128(u128::from(u)),
            (K::U128, Value::Int(i)) => Value::U128(u128::try_from(i).ok()?),
            (K::U128, Value::Text(t)) => Value::U128(t.parse().ok()?),
            (K::Bool, Value::Bool(b)) => Value::Bool(b),
            (K::Bool, Value::Int(i @ (0 | 1))) => Value::Bool(i == 1),
            (K::Date, Value::Text(t)) => Value::Date(parse_date(&t)?),
            (K::DateTime, Value::Text(t)) => {
                let (secs, nanos) = parse_datetime(&t)?;
                Value::DateTime(secs, nanos)
            }
            (K::Decimal, Value::Text(t)) => {
                let (m, scale) = parse_decimal(&t)?;
                Value::Decimal(m, scale)
            }
            (K::Decimal, Value::Int(i)) => Value::Decimal(i128::from(i), 0),
            (K::Decimal, Value::UInt(u)) => Value::Decimal(i128::from(u), 0),
            (_, v) if std::mem::discriminant(&v) == std::mem::discriminant(&self.sample()) => v,
            _ => return None,
        })
    }

    /// A value of the column's kind (for comparing kinds).
    fn sample(&self) -> Value {
        match self.kind {
            ColumnKind::Int => Value::Int(0),
            ColumnKind::UInt => Value::UInt(0),
            ColumnKind::Float => Value::Float(0.0),
            ColumnKind::Bool => Value::Bool(false),
            ColumnKind::Text => Value::Text(String::new()),
            ColumnKind::Bytes => Value::Bytes(Vec::new()),
            ColumnKind::I128 => Value::I128(0),
            ColumnKind::U128 => Value::U128(0),
            ColumnKind::Date => Value::Date(0),
            ColumnKind::DateTime => Value::DateTime(0, 0),
            ColumnKind::Decimal => Value::Decimal(0, 0),
        }
    }
}

/// A model as stored in `__strata_schema`: its names, columns, keys,
/// indexes and the associations it owns.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use strata::{Database, Model};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug)]
/// #[strata(table = "students")]
/// struct Student {
///     #[strata(primary_key)]
///     id: i64,
///     #[strata(index)]
///     gpa: f64,
/// }
///
/// # let dir = std::env::temp_dir().join(format!("strata-dyn-schema-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let db = Database::open(dir.join("school.strata"))?;
/// db.register::<Student>()?;
/// let t = db.table("Students").expect("found by any case, or by model name");
/// assert_eq!((t.model.as_str(), t.table.as_str()), ("Student", "students"));
/// assert_eq!(t.column("GPA"), Some(1));
/// assert!(t.columns[1].index && t.columns[0].primary_key);
/// # drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TableSchema {
    /// The Rust type's name when the schema was stored.
    pub model: String,
    /// The table.
    pub table: String,
    /// The version of the stored schema's encoding, as read.
    pub version: u32,
    /// The columns, in stored (row) order: a field added to the model
    /// after rows were written comes last, wherever it is declared.
    pub columns: Vec<ColumnSchema>,
    /// `(through, target)`: the link table and the target table of each
    /// many-to-many association the model owns.
    pub associations: Vec<(String, String)>,
    /// How many of the columns every row holds: the rest were appended
    /// after rows were written, and rows that end before them read their
    /// fills (`None`, or the default they were added with).
    pub min_columns: usize,
    /// The same columns as the planner reads them (interned names).
    defs: Vec<ColumnDef>,
    /// How the rows are laid out when some may end before the last
    /// column; an error when the stored fills do not decode.
    layout: std::result::Result<Option<Arc<RowLayout>>, String>,
}

/// Two schemas are equal when what they say is: the layout follows from it.
impl PartialEq for TableSchema {
    fn eq(&self, o: &TableSchema) -> bool {
        (&self.model, &self.table, self.version, &self.columns)
            == (&o.model, &o.table, o.version, &o.columns)
            && (&self.associations, self.min_columns) == (&o.associations, o.min_columns)
    }
}

impl TableSchema {
    pub(crate) fn from_stored(s: &StoredSchema) -> TableSchema {
        TableSchema {
            model: s.model.clone(),
            table: s.table.clone(),
            version: s.version,
            columns: s.columns.iter().map(column_schema).collect(),
            associations: s.associations.clone(),
            min_columns: s.min_columns as usize,
            defs: s.columns.iter().map(column_def).collect(),
            layout: s.layout().map(|l| (!l.is_plain()).then(|| Arc::new(l))),
        }
    }

    /// The position of the primary key.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let tags = db.table("tags").expect("stored");
    /// assert_eq!(tags.columns[tags.key_column()].name, "id");
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn key_column(&self) -> usize {
        self.columns.iter().position(|c| c.primary_key).unwrap_or(0)
    }

    /// The position of the column named `name`, ignoring ASCII case (as
    /// SQL does for names), an exact match first.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let users = db.table("users").expect("stored");
    /// assert_eq!(users.column("EMAIL"), Some(2)); // ASCII case ignored
    /// assert_eq!(users.column("phone"), None);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn column(&self, name: &str) -> Option<usize> {
        let cols = &self.columns;
        cols.iter()
            .position(|c| c.name == name)
            .or_else(|| cols.iter().position(|c| c.name.eq_ignore_ascii_case(name)))
    }

    /// Whether `name` names this table: its table name or its model's name,
    /// ignoring ASCII case.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let users = db.table("users").expect("stored");
    /// assert!(users.is_named("Users") && users.is_named("user")); // the table, or the model (User)
    /// assert!(!users.is_named("posts"));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn is_named(&self, name: &str) -> bool {
        self.table.eq_ignore_ascii_case(name) || self.model.eq_ignore_ascii_case(name)
    }

    /// What the planner and the readers need of the table.
    pub(crate) fn shape(&self) -> Shape<'_> {
        Shape {
            table: &self.table,
            columns: &self.defs,
            key: self.key_column(),
            layout: self.layout.as_ref().ok().and_then(Option::as_ref),
        }
    }

    /// The layout of the rows (`None` when they are plain), or why the
    /// stored schema cannot give one.
    pub(crate) fn row_layout(&self) -> std::result::Result<Option<&Arc<RowLayout>>, &str> {
        match &self.layout {
            Ok(l) => Ok(l.as_ref()),
            Err(e) => Err(e),
        }
    }

    /// An interned name of the table, for errors that name it.
    pub(crate) fn static_name(&self) -> &'static str {
        intern(&self.model)
    }
}

impl Database {
    /// Every model stored in the file, by table name: what
    /// `__strata_schema` holds, whether or not this program has the Rust
    /// types.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let names: Vec<String> = db.tables().into_iter().map(|t| t.table).collect();
    /// assert_eq!(names, ["posts", "profiles", "tags", "users"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn tables(&self) -> Vec<TableSchema> {
        let mut all: Vec<TableSchema> = self
            .inner
            .schemas
            .read()
            .values()
            .map(TableSchema::from_stored)
            .collect();
        all.sort_by(|a, b| a.table.cmp(&b.table));
        all
    }

    /// The stored model named `name`: its table name, exactly, or else
    /// its table name or model name ignoring ASCII case.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// // Found by its table name, or its model's, ignoring ASCII case, as SQL does.
    /// assert_eq!(db.table("Post").map(|t| t.table), Some("posts".into()));
    /// assert!(db.table("comments").is_none());
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn table(&self, name: &str) -> Option<TableSchema> {
        let all = self.tables();
        let exact = all.iter().position(|t| t.table == name);
        let at = exact.or_else(|| all.iter().position(|t| t.is_named(name)))?;
        all.into_iter().nth(at)
    }
}

fn column_schema(c: &StoredColumn) -> ColumnSchema {
    ColumnSchema {
        name: c.name.clone(),
        type_name: c.type_name.clone(),
        storage: c.storage.clone(),
        kind: c.kind,
        nullable: c.nullable,
        primary_key: c.primary_key,
        unique: c.unique,
        index: c.index,
        max_len: c.max_len,
        foreign_key: c.foreign_key.clone(),
        default: c.default.as_deref().and_then(decode_key).map(|(v, _)| v),
        stamp: c.stamp,
    }
}

/// The column as the derive would have declared it.
fn column_def(c: &StoredColumn) -> ColumnDef {
    ColumnDef {
        name: intern(&c.name),
        type_name: intern(&c.type_name),
        storage: intern(&c.storage),
        indexable: true,
        kind: c.kind,
        nullable: c.nullable,
        primary_key: c.primary_key,
        unique: c.unique,
        index: c.index,
        max_len: c.max_len.and_then(|n| usize::try_from(n).ok()),
        foreign_key: c.foreign_key.as_deref().map(intern),
        index_table: None,
        default: None,
        stamp: c.stamp,
    }
}

/// `s`, as a string that lives as long as the process: each distinct
/// string is leaked once. Plans and errors name columns by `&'static str`
/// (a model's names are constants); a stored schema's names become such
/// strings here. The set grows with the distinct names of the files a
/// process opens, not with the number of opens or queries.
fn intern(s: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.get(s) {
        return n;
    }
    let n: &'static str = Box::leak(s.to_string().into_boxed_str());
    names.insert(n);
    n
}
