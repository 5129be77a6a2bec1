use serde::{Deserialize, Serialize};
use strata::Model;

use std::collections::HashMap;

#[derive(Model, Serialize, Deserialize, Clone)]
struct User {
    #[strata(primary_key)]
    id: i64,
    scores: HashMap<String, i64>,
}

fn main() {}
