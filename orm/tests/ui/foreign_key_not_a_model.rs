use serde::{Deserialize, Serialize};
use strata::Model;

struct NotAModel;

#[derive(Model, Serialize, Deserialize, Clone)]
struct Address {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = NotAModel)]
    owner_id: i64,
}

fn main() {}
