//! The models both sides hold, their SQLite tables, and the random data
//! loaded into both: users, their posts, and comments on the posts.

use crate::filter::word;
use crate::rng::Rng;
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};
use strata::Model;

/// `users`: a unique name, a nullable indexed age.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users")]
#[strata(has_many(posts = Post, fk = author_id, backref = author))]
#[strata(has_many(comments = Comment, fk = author_id, backref = author, on_delete = set_null))]
pub struct User {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(unique)]
    pub name: String,
    pub email: Option<String>,
    #[strata(index)]
    pub age: Option<i64>,
    pub score: f64,
}

/// `posts`: each by a user (restrict), with indexed title and topic.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "posts")]
#[strata(has_many(comments = Comment, fk = post_id, backref = post, on_delete = cascade))]
pub struct Post {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(foreign_key = User)]
    pub author_id: i64,
    #[strata(index)]
    pub title: String,
    #[strata(index)]
    pub topic: Option<String>,
    pub views: i64,
    pub rating: Option<f64>,
    pub published: bool,
}

/// `comments`: deleted with their post, orphaned (null author) with
/// their user.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "comments")]
pub struct Comment {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(foreign_key = Post)]
    pub post_id: i64,
    #[strata(foreign_key = User)]
    pub author_id: Option<i64>,
    pub body: String,
}

pub const SQLITE_SCHEMA: &str = "
    PRAGMA foreign_keys = ON;
    PRAGMA case_sensitive_like = ON;
    CREATE TABLE users (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, email TEXT,
        age INTEGER, score REAL NOT NULL);
    CREATE INDEX users_age ON users (age);
    CREATE TABLE posts (
        id INTEGER PRIMARY KEY,
        author_id INTEGER NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
        title TEXT NOT NULL, topic TEXT, views INTEGER NOT NULL, rating REAL,
        published INTEGER NOT NULL);
    CREATE INDEX posts_author ON posts (author_id);
    CREATE INDEX posts_title ON posts (title);
    CREATE INDEX posts_topic ON posts (topic);
    CREATE TABLE comments (
        id INTEGER PRIMARY KEY,
        post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
        author_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
        body TEXT NOT NULL);
    CREATE INDEX comments_post ON comments (post_id);
    CREATE INDEX comments_author ON comments (author_id);
";

pub const POST_COLUMNS: &str =
    "p.id, p.author_id, p.title, p.topic, p.views, p.rating, p.published";
pub const USER_COLUMNS: &str = "u.id, u.name, u.email, u.age, u.score";
pub const COMMENT_COLUMNS: &str = "c.id, c.post_id, c.author_id, c.body";

pub fn post_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Post> {
    Ok(Post {
        id: r.get(0)?,
        author_id: r.get(1)?,
        title: r.get(2)?,
        topic: r.get(3)?,
        views: r.get(4)?,
        rating: r.get(5)?,
        published: r.get(6)?,
    })
}

pub fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        age: r.get(3)?,
        score: r.get(4)?,
    })
}

pub fn comment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Comment> {
    Ok(Comment {
        id: r.get(0)?,
        post_id: r.get(1)?,
        author_id: r.get(2)?,
        body: r.get(3)?,
    })
}

fn quarter(r: &mut Rng) -> f64 {
    (r.below(33) as f64 - 16.0) / 4.0
}

fn maybe<T>(r: &mut Rng, f: impl FnOnce(&mut Rng) -> T) -> Option<T> {
    (r.below(4) != 0).then(|| f(r))
}

/// Random rows, the same into both: ids from 1, names unique (a repeated
/// name is left out of both).
pub fn load(r: &mut Rng, s: &mut strata::Session, sql: &Connection) {
    let users = r.below(9) + 2;
    let mut names = std::collections::HashSet::new();
    let mut user_ids = Vec::new();
    for id in 1..=users as i64 {
        let name = word(r);
        if !names.insert(name.clone()) {
            continue;
        }
        let mut u = User {
            id,
            name,
            email: maybe(r, word),
            age: maybe(r, |r| r.below(6) as i64 + 18),
            score: quarter(r),
        };
        s.add(&mut u).unwrap();
        sql.execute(
            "INSERT INTO users VALUES (?1, ?2, ?3, ?4, ?5)",
            params![u.id, u.name, u.email, u.age, u.score],
        )
        .unwrap();
        user_ids.push(id);
    }
    let topics = ["rust", "Rust", "go", "a%b", "x_y"];
    let posts = r.below(24);
    for id in 1..=posts as i64 {
        let mut p = Post {
            id,
            author_id: user_ids[r.below(user_ids.len())],
            title: word(r),
            topic: maybe(r, |r| topics[r.below(topics.len())].to_string()),
            views: r.below(8) as i64,
            rating: maybe(r, quarter),
            published: r.below(2) == 0,
        };
        s.add(&mut p).unwrap();
        sql.execute(
            "INSERT INTO posts VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                p.id,
                p.author_id,
                p.title,
                p.topic,
                p.views,
                p.rating,
                p.published
            ],
        )
        .unwrap();
    }
    if posts == 0 {
        return;
    }
    for id in 1..=r.below(20) as i64 {
        let mut c = Comment {
            id,
            post_id: r.below(posts) as i64 + 1,
            author_id: maybe(r, |r| user_ids[r.below(user_ids.len())]),
            body: word(r),
        };
        s.add(&mut c).unwrap();
        sql.execute(
            "INSERT INTO comments VALUES (?1, ?2, ?3, ?4)",
            params![c.id, c.post_id, c.author_id, c.body],
        )
        .unwrap();
    }
}
