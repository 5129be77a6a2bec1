use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
struct User {
    #[strata(primary_key = true)]
    id: i64,
}

fn main() {}
