//! The column types of the ecosystem's crates, each behind the cargo
//! feature of its crate (none is on by default: a program pays for no
//! crate it does not use, and the derive needs none of them for models
//! that do not use them):
//!
//! | feature | type | kind | stored as (`layout.rs`) | indexable |
//! | --- | --- | --- | --- | --- |
//! | `chrono` | `chrono::DateTime<Utc>` | date and time | chrono's RFC 3339 text, `Z` | yes |
//! | `chrono` | `chrono::NaiveDateTime` | date and time | chrono's text | yes |
//! | `chrono` | `chrono::NaiveDate` | date | chrono's text | yes |
//! | `uuid` | `uuid::Uuid` | bytes | its 16 bytes | yes |
//! | `decimal` | `rust_decimal::Decimal` | decimal | its text (`serde-str`) | yes (`1.5` and `1.50` are one key) |
//! | `json` | `serde_json::Value`, with `#[serde(with = "strata::json")]` | text | its compact JSON text | no |
//!
//! Each compares and sorts by its value (a decimal by number whatever its
//! scale, a date and time by instant). `time` and `jiff` are not here yet:
//! chrono is the one date crate every Rust SQL layer supports, and each of
//! the others would be another feature with the same three types.
//!
//! The `decimal` feature turns on rust_decimal's `serde-str`, without
//! which a `Decimal` cannot be read back from bincode (it asks serde for
//! `deserialize_any`); cargo unifies features, so the program's other
//! uses of `Decimal` then read it from strings too.
//!
//! Each impl is `#[diagnostic::do_not_recommend]`: the compiler's list of
//! the types that are columns, in the error on a field that is not one,
//! then reads the same whatever features cargo turned on (the note of
//! `ColumnValue`'s error names the features instead), so the compile-fail
//! tests pass alone and in the workspace, where the test suites turn on
//! every feature.

#[cfg(any(
    feature = "chrono",
    feature = "uuid",
    feature = "decimal",
    feature = "json"
))]
use crate::value::{ColumnKind, ColumnValue, Value, ValueRef};

#[cfg(feature = "chrono")]
mod chrono_types {
    use super::*;
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

    /// Days from 0001-01-01 (chrono's `num_days_from_ce` 1) to 1970-01-01.
    const EPOCH_FROM_CE: i32 = 719_163;

    #[diagnostic::do_not_recommend]
    impl ColumnValue for DateTime<Utc> {
        const KIND: ColumnKind = ColumnKind::DateTime;
        const TYPE_NAME: &'static str = "DateTime<Utc>";
        const STORAGE: &'static str = "DateTime<Utc>";
        const INDEXABLE: bool = true;
        fn value_ref(&self) -> ValueRef<'_> {
            ValueRef::DateTime(self.timestamp(), self.timestamp_subsec_nanos())
        }
        fn from_value(v: Value) -> Option<Self> {
            match v {
                Value::DateTime(secs, nanos) => DateTime::from_timestamp(secs, nanos),
                _ => None,
            }
        }
    }

    #[diagnostic::do_not_recommend]
    impl ColumnValue for NaiveDateTime {
        const KIND: ColumnKind = ColumnKind::DateTime;
        const TYPE_NAME: &'static str = "NaiveDateTime";
        const STORAGE: &'static str = "NaiveDateTime";
        const INDEXABLE: bool = true;
        fn value_ref(&self) -> ValueRef<'_> {
            let utc = self.and_utc();
            ValueRef::DateTime(utc.timestamp(), utc.timestamp_subsec_nanos())
        }
        fn from_value(v: Value) -> Option<Self> {
            match v {
                Value::DateTime(secs, nanos) => {
                    DateTime::from_timestamp(secs, nanos).map(|d| d.naive_utc())
                }
                _ => None,
            }
        }
    }

    #[diagnostic::do_not_recommend]
    impl ColumnValue for NaiveDate {
        const KIND: ColumnKind = ColumnKind::Date;
        const TYPE_NAME: &'static str = "NaiveDate";
        const STORAGE: &'static str = "NaiveDate";
        const INDEXABLE: bool = true;
        fn value_ref(&self) -> ValueRef<'_> {
            use chrono::Datelike;
            ValueRef::Date(self.num_days_from_ce() - EPOCH_FROM_CE)
        }
        fn from_value(v: Value) -> Option<Self> {
            match v {
                Value::Date(d) => {
                    NaiveDate::from_num_days_from_ce_opt(d.checked_add(EPOCH_FROM_CE)?)
                }
                _ => None,
            }
        }
    }
}

#[cfg(feature = "uuid")]
#[diagnostic::do_not_recommend]
impl ColumnValue for uuid::Uuid {
    const KIND: ColumnKind = ColumnKind::Bytes;
    const TYPE_NAME: &'static str = "Uuid";
    const STORAGE: &'static str = "Vec<u8>";
    const INDEXABLE: bool = true;
    fn value_ref(&self) -> ValueRef<'_> {
        ValueRef::Bytes(self.as_bytes())
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Bytes(b) => uuid::Uuid::from_slice(&b).ok(),
            _ => None,
        }
    }
}

#[cfg(feature = "decimal")]
#[diagnostic::do_not_recommend]
impl ColumnValue for rust_decimal::Decimal {
    const KIND: ColumnKind = ColumnKind::Decimal;
    const TYPE_NAME: &'static str = "Decimal";
    const STORAGE: &'static str = "Decimal";
    const INDEXABLE: bool = true;
    fn value_ref(&self) -> ValueRef<'_> {
        ValueRef::Decimal(self.mantissa(), self.scale())
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Decimal(m, scale) => {
                rust_decimal::Decimal::try_from_i128_with_scale(m, scale).ok()
            }
            _ => None,
        }
    }
}

/// `serde_json::Value` is stored as its compact JSON text, which is what
/// filters compare. Its value borrowed from the row is the text; from the
/// struct there is no text to borrow, so the value the model gives for it
/// is null: a JSON column is never a key, indexed, or a join's order.
#[cfg(feature = "json")]
#[diagnostic::do_not_recommend]
impl ColumnValue for serde_json::Value {
    const KIND: ColumnKind = ColumnKind::Text;
    const TYPE_NAME: &'static str = "serde_json::Value";
    const STORAGE: &'static str = "String";
    const INDEXABLE: bool = false;
    fn value_ref(&self) -> ValueRef<'_> {
        ValueRef::Null
    }
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Text(t) => serde_json::from_str(&t).ok(),
            _ => None,
        }
    }
}

/// `#[serde(with = "strata::json")]` on a `serde_json::Value` field (or an
/// `Option` of one): stores the value as its compact JSON text, the one
/// form bincode can read back (serde_json's own `Deserialize` asks for
/// `deserialize_any`, which bincode does not have). The derive refuses a
/// JSON field without it.
///
/// ```
/// # #[cfg(feature = "json")] {
/// use serde::{Deserialize, Serialize};
/// use strata::Model;
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// struct Event {
///     #[strata(primary_key)]
///     id: i64,
///     #[serde(with = "strata::json")]
///     payload: serde_json::Value,
/// }
/// # }
/// ```
#[cfg(feature = "json")]
pub mod json {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// A JSON field: a value, or an `Option` of one.
    ///
    /// ```
    /// use strata::json::JsonField;
    /// let v = serde_json::json!({"tags": ["a", "b"]});
    /// assert_eq!(v.text().as_deref(), Some(r#"{"tags":["a","b"]}"#));
    /// assert_eq!(None::<serde_json::Value>.text(), None); // an Option field's null
    /// ```
    pub trait JsonField: Sized {
        /// Its text, if it is not null.
        ///
        /// ```
        /// use strata::json::JsonField;
        /// assert_eq!(serde_json::json!([1, 2]).text().as_deref(), Some("[1,2]"));
        /// ```
        fn text(&self) -> Option<String>;
        /// The field of `text` (`None`: null).
        ///
        /// ```
        /// use strata::json::JsonField;
        /// let v = <serde_json::Value as JsonField>::from_text(Some("[1,2]".into()))?;
        /// assert_eq!(v, serde_json::json!([1, 2]));
        /// assert!(<serde_json::Value as JsonField>::from_text(None).is_err()); // not an Option
        /// assert_eq!(<Option<serde_json::Value> as JsonField>::from_text(None)?, None);
        /// # Ok::<(), String>(())
        /// ```
        fn from_text(text: Option<String>) -> Result<Self, String>;
        /// Whether the field is an `Option`.
        ///
        /// ```
        /// use strata::json::JsonField;
        /// assert!(<Option<serde_json::Value> as JsonField>::NULLABLE);
        /// assert!(!<serde_json::Value as JsonField>::NULLABLE);
        /// ```
        const NULLABLE: bool;
    }

    impl JsonField for serde_json::Value {
        fn text(&self) -> Option<String> {
            Some(self.to_string())
        }
        fn from_text(text: Option<String>) -> Result<Self, String> {
            serde_json::from_str(&text.ok_or("a null in a JSON field that is not an Option")?)
                .map_err(|e| e.to_string())
        }
        const NULLABLE: bool = false;
    }

    impl JsonField for Option<serde_json::Value> {
        fn text(&self) -> Option<String> {
            self.as_ref().map(|v| v.to_string())
        }
        fn from_text(text: Option<String>) -> Result<Self, String> {
            text.map(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
                .transpose()
        }
        const NULLABLE: bool = true;
    }

    /// Writes the field as its JSON text.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use strata::{Database, Model};
    ///
    /// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// struct Event {
    ///     #[strata(primary_key)]
    ///     id: i64,
    ///     #[serde(with = "strata::json")] // stored as its JSON text
    ///     payload: serde_json::Value,
    /// }
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let db = Database::open(dir.path().join("events.strata"))?;
    /// let mut s = db.session()?;
    /// s.add(&mut Event { id: 0, payload: serde_json::json!({"kind": "login"}) })?;
    /// // A JSON column compares by its text in filters.
    /// let logins = s.query::<Event>().filter(Event::payload.eq(serde_json::json!({"kind": "login"}))).count()?;
    /// assert_eq!(logins, 1);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn serialize<T: JsonField, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        match (T::NULLABLE, v.text()) {
            (true, t) => t.serialize(s),
            (false, Some(t)) => t.serialize(s),
            (false, None) => Err(serde::ser::Error::custom("no JSON text")),
        }
    }

    /// Reads the field from its JSON text.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use strata::{Database, Model};
    ///
    /// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// struct Event {
    ///     #[strata(primary_key)]
    ///     id: i64,
    ///     #[serde(with = "strata::json")]
    ///     extra: Option<serde_json::Value>,
    /// }
    ///
    /// # let dir = tempfile::tempdir().unwrap();
    /// let db = Database::open(dir.path().join("events.strata"))?;
    /// let mut s = db.session()?;
    /// s.add(&mut Event { id: 0, extra: Some(serde_json::json!([1, 2, 3])) })?;
    /// s.add(&mut Event { id: 0, extra: None })?;
    /// let read: Vec<Option<serde_json::Value>> = s.query::<Event>().all()?.into_iter().map(|e| e.extra).collect();
    /// assert_eq!(read, [Some(serde_json::json!([1, 2, 3])), None]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn deserialize<'de, T: JsonField, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        let text = if T::NULLABLE {
            Option::<String>::deserialize(d)?
        } else {
            Some(String::deserialize(d)?)
        };
        T::from_text(text).map_err(serde::de::Error::custom)
    }
}
