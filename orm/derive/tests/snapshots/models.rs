// Input of the derive's snapshot test (`src/snapshots.rs`), never compiled:
// models covering what the quickstart's do not.

/// Every field type, plain and nullable; the default table name and
/// display; an unsigned automatic key; crate visibility.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) struct AllKinds {
    #[strata(primary_key)]
    pub id: u64,
    pub a_bool: bool,
    pub a_u8: u8,
    pub a_i8: i8,
    pub a_u16: u16,
    #[strata(index)]
    pub a_i16: i16,
    pub a_u32: u32,
    pub a_i32: i32,
    pub a_f64: f64,
    #[strata(unique, max_len = 64)]
    pub a_string: String,
    #[strata(max_len = 16)]
    pub a_bytes: Vec<u8>,
    pub maybe_i64: Option<i64>,
    pub maybe_f64: Option<f64>,
    #[strata(index)]
    pub maybe_string: Option<String>,
    pub maybe_bytes: Option<Vec<u8>>,
    pub maybe_bool: Option<bool>,
}

/// `set_null`, `has_one`, and a relationship without a backref.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(display = "name")]
#[strata(has_many(cars = Car, fk = owner_id, backref = owner, on_delete = set_null))]
#[strata(has_one(passport = Passport, fk = holder_id, backref = holder))]
#[strata(has_many(notes = Note, fk = about, on_delete = restrict))]
struct CarOwner {
    #[strata(primary_key)]
    id: i64,
    #[strata(max_len = 40)]
    name: Option<String>,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "cars")]
struct Car {
    #[strata(primary_key)]
    id: i32,
    plate: String,
    #[strata(foreign_key = CarOwner)]
    owner_id: Option<i64>,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Passport {
    #[strata(primary_key)]
    number: String,
    #[strata(unique, foreign_key = CarOwner)]
    holder_id: i64,
}

/// A byte-string key (never assigned) and a many-to-many without a backref.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(many_to_many(owners = CarOwner, through = "note_owners"))]
struct Note {
    #[strata(primary_key)]
    key: Vec<u8>,
    #[strata(foreign_key = CarOwner)]
    about: i64,
}

/// Not a model: the error, then the placeholder implementation.
#[derive(Model, Serialize, Deserialize, Clone)]
struct NoKey {
    id: i64,
}
