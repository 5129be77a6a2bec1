use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
enum Status {
    Active,
    Banned,
}

fn main() {}
