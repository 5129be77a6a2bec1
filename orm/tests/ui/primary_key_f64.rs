use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
struct Reading {
    #[strata(primary_key)]
    id: f64,
}

fn main() {}
