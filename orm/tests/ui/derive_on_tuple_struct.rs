use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
struct User(#[strata(primary_key)] i64, String);

fn main() {}
