//! Writing a row of a stored table from values, with the checks a typed
//! `add` makes: the row is refused, changing nothing, when a value is not
//! of its column's type, is too long, is NaN where it is indexed, or when
//! its key is taken, a unique value is taken, or a foreign key names no
//! row.

use super::schema::TableSchema;
use crate::error::{Error, Result};
use crate::layout::{encode_row_values, key_of};
use crate::session::{RowView, Session, Values};
use crate::value::{ColumnKind, Value};
use std::ops::Bound;

impl Session {
    /// Adds a row to `table`, a stored model, from `values` (every column,
    /// in stored order), and returns its primary key. An integer key given
    /// as null or 0 is assigned: one past the largest key stored (the
    /// handle's sequence of a typed model is not consulted; see
    /// `orm/DESIGN.md` section 18). The checks are those of
    /// [`Session::add`], run before anything is written.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use strata::{Database, Error, Model, Value};
    ///
    /// #[derive(Model, Serialize, Deserialize, Clone, Debug)]
    /// #[strata(table = "users")]
    /// struct User {
    ///     #[strata(primary_key)]
    ///     id: i64,
    ///     #[strata(unique, max_len = 80)]
    ///     username: String,
    /// }
    ///
    /// # let dir = std::env::temp_dir().join(format!("strata-dyn-load-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// let db = Database::open(dir.join("app.strata"))?;
    /// db.register::<User>()?;
    /// let users = db.table("users").unwrap();
    /// let mut s = db.session()?;
    /// let key = s.insert_values(&users, vec![Value::Null, Value::Text("peter".into())])?;
    /// assert_eq!(key, Value::Int(1));
    /// let again = s.insert_values(&users, vec![Value::Null, Value::Text("peter".into())]);
    /// assert!(matches!(again, Err(Error::UniqueViolation { column: "username", .. })));
    /// s.commit()?;
    /// assert_eq!(db.read_session()?.get::<User>(1)?.map(|u| u.username), Some("peter".into()));
    /// # drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn insert_values(&mut self, table: &TableSchema, mut values: Vec<Value>) -> Result<Value> {
        self.writable()?;
        let shape = table.shape();
        let model = table.static_name();
        if values.len() != shape.columns.len() {
            return Err(Error::SchemaMismatch {
                model: table.model.clone(),
                field: String::new(),
                detail: format!(
                    "{} values for {} columns",
                    values.len(),
                    shape.columns.len()
                ),
            });
        }
        let k = shape.key;
        if shape.columns[k].kind.is_integer()
            && matches!(values[k], Value::Null | Value::Int(0) | Value::UInt(0))
        {
            values[k] = self.next_stored_key(table)?;
        }
        let row =
            encode_row_values(shape.columns, &values).map_err(|detail| Error::SchemaMismatch {
                model: table.model.clone(),
                field: String::new(),
                detail,
            })?;
        let view = RowView {
            model,
            table: shape.table,
            columns: shape.columns,
            key: k,
            values: Values::Owned(&values),
        };
        self.validate_row(&view)?;
        let key = key_of(&values[k]);
        if self.kv.get_for_update(shape.table, &key)?.is_some() {
            return Err(Error::DuplicateKey {
                model,
                key: values[k].clone(),
            });
        }
        self.check_parents_row(&view, None)?;
        self.check_unique_row(&view, None, &key)?;
        self.kv.put(shape.table, &key, &row)?;
        self.write_indexes_row(&view, None, &key, false)?;
        Ok(values[k].clone())
    }

    /// One past the largest integer key stored in `table` (1 when empty),
    /// of the key column's kind.
    fn next_stored_key(&self, table: &TableSchema) -> Result<Value> {
        let k = table.key_column();
        let mut last = None;
        self.scan_with(
            &table.table,
            Bound::Unbounded,
            Bound::Unbounded,
            true,
            &mut |key, _| {
                last = crate::layout::decode_key(key).map(|(v, _)| v);
                false
            },
        )?;
        let exhausted = || Error::KeysExhausted {
            model: table.static_name(),
        };
        Ok(match (table.columns[k].kind, last) {
            (ColumnKind::UInt, Some(Value::UInt(u))) => {
                Value::UInt(u.checked_add(1).ok_or_else(exhausted)?)
            }
            (ColumnKind::UInt, _) => Value::UInt(1),
            (_, Some(Value::Int(i))) => Value::Int(i.checked_add(1).ok_or_else(exhausted)?.max(1)),
            (ColumnKind::I128, Some(Value::I128(i))) => Value::I128(i.saturating_add(1).max(1)),
            (ColumnKind::U128, Some(Value::U128(u))) => Value::U128(u.saturating_add(1)),
            (ColumnKind::I128, _) => Value::I128(1),
            (ColumnKind::U128, _) => Value::U128(1),
            _ => Value::Int(1),
        })
    }
}
