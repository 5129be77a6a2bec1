use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(many_to_many(tags = Tag, through = "page#tags"))]
struct Page {
    #[strata(primary_key)]
    id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone)]
struct Tag {
    #[strata(primary_key)]
    id: i64,
}

fn main() {}
