use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(display = "username")]
struct User {
    #[strata(primary_key)]
    id: i64,
    name: String,
}

fn main() {}
