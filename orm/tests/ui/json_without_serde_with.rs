// A serde_json::Value field needs `#[serde(with = "strata::json")]`: the
// derive says so instead of failing when a row is read back.
use serde::{Deserialize, Serialize};
use strata::{ColumnKind, ColumnValue, Model, Value, ValueRef};

/// Stands for serde_json::Value (the crate's feature is off here): the
/// check goes by the type's recorded name.
#[derive(Clone, Serialize, Deserialize)]
struct FakeJson(String);

impl ColumnValue for FakeJson {
    const KIND: ColumnKind = ColumnKind::Text;
    const TYPE_NAME: &'static str = "serde_json::Value";
    const STORAGE: &'static str = "String";
    const INDEXABLE: bool = false;
    fn value_ref(&self) -> ValueRef<'_> {
        ValueRef::Null
    }
    fn from_value(_: Value) -> Option<Self> {
        None
    }
}

#[derive(Model, Serialize, Deserialize, Clone)]
struct Event {
    #[strata(primary_key)]
    id: i64,
    payload: FakeJson,
}

fn main() {}
