use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
struct User {
    #[strata(primary_key)]
    id: i64,
    #[strata(primary_key)]
    other_id: i64,
}

fn main() {}
