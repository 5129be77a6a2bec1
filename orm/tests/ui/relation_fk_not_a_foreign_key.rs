use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(has_many(addresses = Address, fk = email))]
struct Person {
    #[strata(primary_key)]
    id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone)]
struct Address {
    #[strata(primary_key)]
    id: i64,
    email: String,
    #[strata(foreign_key = Person)]
    person_id: i64,
}

fn main() {}
