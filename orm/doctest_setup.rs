// The models and rows the examples of the `strata` crate's documentation
// share: a small blog. An example includes this file in hidden lines,
//
//     # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
//     # let (_dir, db) = blog()?;
//
// and then reads or changes `db`, a database in a temporary directory that
// is removed afterwards. (The path is absolute because rustdoc compiles the
// examples together in a file of its own, where a relative one would not
// resolve; it would then compile each example alone, many times slower.)
// The crate's documentation shows this file (orm/src/lib.rs).

use serde::{Deserialize, Serialize};
use strata::{Database, Model};

/// A user: `has_many` posts (deleted with the user), `has_one` profile.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users", display = "username")]
#[strata(has_many(posts = Post, fk = author_id, backref = author, on_delete = cascade))]
#[strata(has_one(profile = Profile, fk = user_id, backref = user, on_delete = cascade))]
pub struct User {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(unique, max_len = 80)]
    pub username: String,
    #[strata(unique, max_len = 120)]
    pub email: String,
}

/// A post: its author's key, an indexed score, a topic that may be null,
/// and tags through the association table `post_tags`.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "posts", display = "title")]
#[strata(many_to_many(tags = Tag, through = "post_tags", backref = posts))]
pub struct Post {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(foreign_key = User)]
    pub author_id: i64,
    #[strata(max_len = 200)]
    pub title: String,
    #[strata(index)]
    pub score: f64,
    pub topic: Option<String>,
}

/// A tag of posts.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "tags", display = "name")]
pub struct Tag {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(unique, max_len = 40)]
    pub name: String,
}

/// One profile per user: the foreign key is unique.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "profiles")]
pub struct Profile {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(unique, foreign_key = User)]
    pub user_id: i64,
    pub bio: String,
}

/// A new, empty database in a temporary directory, removed when the
/// directory is dropped (after the database: keep the pair together).
pub fn empty() -> strata::Result<(tempfile::TempDir, Database)> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = Database::open(dir.path().join("blog.strata"))?;
    Ok((dir, db))
}

/// A database holding the blog:
///
/// | table | rows |
/// | --- | --- |
/// | users | 1 ann (ann@example.com), 2 bob (bob@example.org) |
/// | posts | 1 "Hello" by ann, score 4.0, topic "rust"; 2 "Again" by ann, score 2.0, no topic; 3 "Hi" by bob, score 5.0, topic "storage" |
/// | tags | 1 rust, 2 storage; post 1 is tagged rust, post 3 storage |
/// | profiles | 1 for ann, "writes about Rust" |
pub fn blog() -> strata::Result<(tempfile::TempDir, Database)> {
    let (dir, db) = empty()?;
    let mut s = db.session()?;
    let mut ann = User { id: 0, username: "ann".into(), email: "ann@example.com".into() };
    let mut bob = User { id: 0, username: "bob".into(), email: "bob@example.org".into() };
    s.add(&mut ann)?;
    s.add(&mut bob)?;
    let mut posts = [
        (ann.id, "Hello", 4.0, Some("rust")),
        (ann.id, "Again", 2.0, None),
        (bob.id, "Hi", 5.0, Some("storage")),
    ]
    .map(|(author_id, title, score, topic)| Post {
        id: 0,
        author_id,
        title: title.into(),
        score,
        topic: topic.map(String::from),
    });
    s.add_all(&mut posts)?;
    let mut rust = Tag { id: 0, name: "rust".into() };
    let mut storage = Tag { id: 0, name: "storage".into() };
    s.add(&mut rust)?;
    s.add(&mut storage)?;
    Post::tags.link(&mut s, &posts[0], &rust)?;
    Post::tags.link(&mut s, &posts[2], &storage)?;
    s.add(&mut Profile { id: 0, user_id: ann.id, bio: "writes about Rust".into() })?;
    s.commit()?;
    Ok((dir, db))
}

/// The titles of `posts`, in order: what the examples compare.
pub fn titles(posts: &[Post]) -> Vec<&str> {
    posts.iter().map(|p| p.title.as_str()).collect()
}
