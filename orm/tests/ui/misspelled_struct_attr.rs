use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(tabel = "x")]
struct User {
    #[strata(primary_key)]
    id: i64,
}

fn main() {}
