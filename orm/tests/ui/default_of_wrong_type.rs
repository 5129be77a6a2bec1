// A default must have the field's type.
use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
struct Post {
    #[strata(primary_key)]
    id: i64,
    #[strata(default = "draft")]
    views: i64,
    #[strata(default = 3)]
    title: String,
}

fn main() {}
