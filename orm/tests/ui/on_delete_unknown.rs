use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(has_many(addresses = Address, fk = person_id, on_delete = destroy))]
struct Person {
    #[strata(primary_key)]
    id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone)]
struct Address {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = Person)]
    person_id: i64,
}

fn main() {}
