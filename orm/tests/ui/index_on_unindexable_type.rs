// A column type whose encoding does not order its values cannot be a key
// or indexed.
use serde::{Deserialize, Serialize};
use strata::{ColumnKind, ColumnValue, Model, Value, ValueRef};

/// Stored as bytes whose order means nothing.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
struct Blob(Vec<u8>);

impl ColumnValue for Blob {
    const KIND: ColumnKind = ColumnKind::Bytes;
    const TYPE_NAME: &'static str = "Blob";
    const STORAGE: &'static str = "Vec<u8>";
    const INDEXABLE: bool = false;
    fn value_ref(&self) -> ValueRef<'_> {
        ValueRef::Bytes(&self.0)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Bytes(b) => Some(Blob(b)),
            _ => None,
        }
    }
}

#[derive(Model, Serialize, Deserialize, Clone)]
struct Photo {
    #[strata(primary_key)]
    id: i64,
    #[strata(index)]
    data: Blob,
}

fn main() {}
