use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(has_many(cars = Car, fk = owner_id, on_delete = set_null))]
struct Person {
    #[strata(primary_key)]
    id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone)]
struct Car {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = Person)]
    owner_id: i64,
}

fn main() {}
