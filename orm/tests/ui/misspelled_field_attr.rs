use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
struct User {
    #[strata(primary_key)]
    id: i64,
    #[strata(uniqe)]
    email: String,
}

fn main() {}
