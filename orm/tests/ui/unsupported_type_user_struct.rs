use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Serialize, Deserialize, Clone)]
struct Point {
    x: i64,
    y: i64,
}

#[derive(Model, Serialize, Deserialize, Clone)]
struct Place {
    #[strata(primary_key)]
    id: i64,
    location: Point,
}

fn main() {}
