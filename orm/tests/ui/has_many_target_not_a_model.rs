use serde::{Deserialize, Serialize};
use strata::Model;

struct NotAModel;

#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(has_many(things = NotAModel, fk = person_id))]
struct Person {
    #[strata(primary_key)]
    id: i64,
}

fn main() {}
