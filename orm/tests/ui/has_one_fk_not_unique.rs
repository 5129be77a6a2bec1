use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(has_one(passport = Passport, fk = holder_id))]
struct Person {
    #[strata(primary_key)]
    id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone)]
struct Passport {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = Person)]
    holder_id: i64,
}

fn main() {}
