//! [`RowQuery`]: a query over one stored table, planned and filtered by
//! the typed path's own planner and evaluator.

use super::filter::Filter;
use super::schema::TableSchema;
use crate::error::{Error, Result};
use crate::expr::{Pred, SortKey};
use crate::layout::{decode_row_values, plan_columns};
use crate::query::{Plan, Spec, count_spec, visit_spec};
use crate::session::Session;
use crate::text::Fold;
use crate::value::Value;

/// A query over the rows of a stored table, by column position: a filter
/// ([`Filter`]), an ordering, an offset and a limit. It is planned as a
/// typed query on the same table would be (the primary key, an index
/// lookup or range, or the whole table; [`RowQuery::explain`]), and its
/// rows come out as [`Value`]s, every column in stored order (the stored schema's).
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use strata::{Compare, Database, Filter, Model, Value};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug)]
/// #[strata(table = "students")]
/// struct Student {
///     #[strata(primary_key)]
///     id: i64,
///     name: String,
///     #[strata(index)]
///     gpa: f64,
/// }
///
/// # let dir = std::env::temp_dir().join(format!("strata-dyn-rows-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let db = Database::open(dir.join("school.strata"))?;
/// let mut s = db.session()?;
/// for (name, gpa) in [("Alice", 3.45), ("Denise", 4.0)] {
///     s.add(&mut Student { id: 0, name: name.into(), gpa })?;
/// }
/// s.commit()?;
///
/// // SELECT * FROM Students WHERE GPA > 3.5, without the Student type:
/// let students = db.table("Students").unwrap();
/// let gpa = students.column("GPA").unwrap();
/// let s = db.read_session()?;
/// let q = s.rows(&students).filter(Filter::Cmp(gpa, Compare::Gt, Value::Float(3.5)));
/// assert_eq!(q.explain().to_string(), "scan index on gpa");
/// let rows = q.all()?;
/// assert_eq!(rows, [vec![Value::Int(2), Value::Text("Denise".into()), Value::Float(4.0)]]);
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Debug)]
pub struct RowQuery<'s> {
    session: &'s Session,
    table: TableSchema,
    spec: Spec,
    /// A column position given that the table does not have.
    bad_column: Option<usize>,
}

impl Session {
    /// A query over the rows of `table`, a stored model
    /// ([`Database::tables`](crate::Database::tables)).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Value;
    /// # let (_dir, db) = blog()?;
    /// let users = db.table("users").expect("stored");
    /// let s = db.read_session()?;
    /// let rows = s.rows(&users).all()?; // every column, in field order
    /// assert_eq!(rows[0], [Value::Int(1), Value::Text("ann".into()), Value::Text("ann@example.com".into())]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn rows(&self, table: &TableSchema) -> RowQuery<'_> {
        RowQuery {
            session: self,
            table: table.clone(),
            spec: Spec {
                filter: Pred::True,
                order: Vec::new(),
                limit: None,
                offset: 0,
            },
            bad_column: None,
        }
    }
}

impl RowQuery<'_> {
    /// Keeps the rows `f` matches too (`AND`).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::{Compare, Filter, Value};
    /// # let (_dir, db) = blog()?;
    /// let posts = db.table("posts").expect("stored");
    /// let score = posts.column("score").expect("a column");
    /// let s = db.read_session()?;
    /// let q = s.rows(&posts).filter(Filter::Cmp(score, Compare::Gt, Value::Float(3.0)));
    /// assert_eq!(q.count()?, 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn filter(mut self, f: Filter) -> Self {
        self.check_column(f.max_column());
        let f = f.to_pred();
        self.spec.filter = match std::mem::replace(&mut self.spec.filter, Pred::True) {
            Pred::True => f,
            old => Pred::And(Box::new(old), Box::new(f)),
        };
        self
    }

    /// Orders by column `column`, after the orderings given before;
    /// nulls come first ascending and last descending.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Value;
    /// # let (_dir, db) = blog()?;
    /// let posts = db.table("posts").expect("stored");
    /// let title = posts.column("title").expect("a column");
    /// let s = db.read_session()?;
    /// let rows = s.rows(&posts).order_by(title, true).all()?;
    /// assert_eq!(rows[0][title], Value::Text("Hi".into()));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn order_by(mut self, column: usize, desc: bool) -> Self {
        self.check_column(Some(column));
        self.spec.order.push(SortKey {
            column,
            desc,
            fold: Fold::None,
        });
        self
    }

    /// At most `n` rows.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let posts = db.table("posts").expect("stored");
    /// let s = db.read_session()?;
    /// assert_eq!(s.rows(&posts).limit(2).all()?.len(), 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn limit(mut self, n: usize) -> Self {
        self.spec.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::Value;
    /// # let (_dir, db) = blog()?;
    /// let posts = db.table("posts").expect("stored");
    /// let s = db.read_session()?;
    /// let rows = s.rows(&posts).offset(2).all()?;
    /// assert_eq!(rows.len(), 1);
    /// assert_eq!(rows[0][0], Value::Int(3));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn offset(mut self, n: usize) -> Self {
        self.spec.offset = n;
        self
    }

    /// How the query reads its rows.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::{Compare, Filter, Value};
    /// # let (_dir, db) = blog()?;
    /// let users = db.table("users").expect("stored");
    /// let name = users.column("username").expect("a column");
    /// let s = db.read_session()?;
    /// let q = s.rows(&users).filter(Filter::Cmp(name, Compare::Eq, Value::Text("bob".into())));
    /// assert_eq!(q.explain().to_string(), "look up index on username"); // the typed path's planner
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn explain(&self) -> Plan {
        self.spec.plan_on(&self.table.shape()).1
    }

    /// Calls `f` with each matching row, in order, until it returns
    /// `false`.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let posts = db.table("posts").expect("stored");
    /// let s = db.read_session()?;
    /// let mut seen = 0;
    /// s.rows(&posts).visit(&mut |_row| {
    ///     seen += 1;
    ///     Ok(seen < 2) // stop after two rows
    /// })?;
    /// assert_eq!(seen, 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn visit(&self, f: &mut dyn FnMut(Vec<Value>) -> Result<bool>) -> Result<()> {
        let shape = self.table.shape();
        if let Some(c) = self.bad_column {
            return Err(Error::Corruption {
                table: self.table.table.clone(),
                detail: format!("no column {c}"),
            });
        }
        let layout = self
            .table
            .row_layout()
            .map_err(|detail| self.corrupt(detail.to_string()))?;
        let plan = plan_columns(shape.columns, |_| true).map_err(|detail| self.corrupt(detail))?;
        visit_spec(self.session, &shape, &self.spec, None, &mut |row| {
            // The stored schema's columns are in stored order: a layout
            // only fills the columns a short row ends before.
            let values = match layout {
                Some(l) => l.values(row),
                None => decode_row_values(&plan, row),
            };
            f(values.map_err(|detail| self.corrupt(detail))?)
        })
    }

    /// Every matching row, in order.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let tags = db.table("tags").expect("stored");
    /// let s = db.read_session()?;
    /// assert_eq!(s.rows(&tags).all()?.len(), 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn all(&self) -> Result<Vec<Vec<Value>>> {
        let mut out = Vec::new();
        self.visit(&mut |row| {
            out.push(row);
            Ok(true)
        })?;
        Ok(out)
    }

    /// How many rows match (after offset and limit).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let users = db.table("Users").expect("found ignoring case");
    /// let s = db.read_session()?;
    /// assert_eq!(s.rows(&users).count()?, 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn count(&self) -> Result<u64> {
        if let Some(c) = self.bad_column {
            return Err(Error::Corruption {
                table: self.table.table.clone(),
                detail: format!("no column {c}"),
            });
        }
        count_spec(self.session, &self.table.shape(), &self.spec)
    }

    fn corrupt(&self, detail: String) -> Error {
        Error::Corruption {
            table: self.table.table.clone(),
            detail,
        }
    }

    fn check_column(&mut self, c: Option<usize>) {
        if let Some(c) = c.filter(|&c| c >= self.table.columns.len()) {
            self.bad_column.get_or_insert(c);
        }
    }
}
