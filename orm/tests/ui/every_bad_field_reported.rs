use serde::{Deserialize, Serialize};
use strata::Model;

// Every bad field and model attribute is reported, not only the first.
#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(tabel = "users")]
struct User {
    #[strata(primary_key)]
    id: i64,
    tags: Vec<String>,
    #[strata(max_len = 80)]
    age: u32,
    #[strata(uniqe)]
    name: String,
}

fn main() {}
