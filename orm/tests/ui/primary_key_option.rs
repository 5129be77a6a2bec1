use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
struct User {
    #[strata(primary_key)]
    id: Option<i64>,
}

fn main() {}
