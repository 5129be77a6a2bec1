use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
struct User {
    #[strata(primary_key)]
    id: i64,
    #[strata(max_len = 10)]
    age: u32,
}

fn main() {}
