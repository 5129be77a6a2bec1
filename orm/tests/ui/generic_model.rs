use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
struct Wrapper<T> {
    #[strata(primary_key)]
    id: i64,
    value: T,
}

fn main() {}
