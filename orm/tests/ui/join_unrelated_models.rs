// A join follows a relationship declared on the left model: `Tag` is not
// linked to `Post`, and `User::posts` starts from `User`, not `Post`.
use serde::{Deserialize, Serialize};
use strata::Model;

#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(has_many(posts = Post, fk = author_id, backref = author))]
struct User {
    #[strata(primary_key)]
    id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone)]
struct Post {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = User)]
    author_id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone)]
#[strata(many_to_many(pages = Post, through = "tag_posts"))]
struct Tag {
    #[strata(primary_key)]
    id: i64,
}

fn main() {
    let db = strata::Database::open("unused").unwrap();
    let s = db.session().unwrap();
    let _ = s.query::<Post>().join(Tag::pages);
    let _ = s.query::<Post>().join(User::posts);
}
