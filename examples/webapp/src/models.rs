//! The models: the Flask tutorial's blog plus the seed's own.
//!
//! | Flask-SQLAlchemy | here |
//! | --- | --- |
//! | `User` with `username`, `email` unique | [`User`], unique indexes on both |
//! | `Post` with `author_id = ForeignKey('user.id')`, `created` | [`Post`], `created_at` / `updated_at` stamped by the ORM |
//! | `tags = db.Table('post_tags', ...)`, `secondary=` | `many_to_many(tags = Tag, through = "post_tags")` on [`Post`] |
//! | `Comment` one-to-many on posts | [`Comment`], `has_many(comments ...)` on [`Post`] |
//! | a profile, `uselist=False` | [`Profile`], `has_one(profile ...)` on [`User`] |
//! | `Students` with `GPA > 3.5` | [`Student`], `gpa` indexed |
//!
//! DELETE RULES
//!
//! Deleting a user deletes what is theirs: their posts (and with each post
//! its comments and its tag links), their comments on other posts, and
//! their profile (`on_delete = cascade` on all three). Tags stay. Deleting
//! a post deletes its comments and its links. The rules are declared here
//! and carried out by the ORM in the deleting session, so a delete is
//! whole or not at all.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strata::Model;

/// An account.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users", display = "username")]
#[strata(has_many(posts = Post, fk = author_id, backref = author, on_delete = cascade))]
#[strata(has_many(comments = Comment, fk = author_id, backref = author, on_delete = cascade))]
#[strata(has_one(profile = Profile, fk = user_id, backref = user, on_delete = cascade))]
pub struct User {
    /// Assigned on add.
    #[strata(primary_key)]
    pub id: i64,
    /// The login name.
    #[strata(unique, max_len = 40)]
    pub username: String,
    /// The address.
    #[strata(unique, max_len = 120)]
    pub email: String,
    /// The argon2 hash in its PHC string (algorithm, parameters, salt).
    pub password_hash: String,
    /// When the account was made.
    #[strata(created_at)]
    pub created_at: DateTime<Utc>,
}

/// A blog post.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "posts", display = "title")]
#[strata(has_many(comments = Comment, fk = post_id, backref = post, on_delete = cascade))]
#[strata(many_to_many(tags = Tag, through = "post_tags", backref = posts))]
pub struct Post {
    /// Assigned on add.
    #[strata(primary_key)]
    pub id: i64,
    /// The author.
    #[strata(foreign_key = User)]
    pub author_id: i64,
    /// The title.
    #[strata(max_len = 200)]
    pub title: String,
    /// The text.
    #[strata(max_len = 20000)]
    pub body: String,
    /// Set by the ORM when the post is added.
    #[strata(created_at)]
    pub created_at: DateTime<Utc>,
    /// Set by the ORM on every update.
    #[strata(updated_at)]
    pub updated_at: DateTime<Utc>,
}

/// A tag, linked to posts through `post_tags`.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "tags", display = "name")]
pub struct Tag {
    /// Assigned on add.
    #[strata(primary_key)]
    pub id: i64,
    /// The name, lower case (see [`crate::forms::tag_names`]).
    #[strata(unique, max_len = 40)]
    pub name: String,
}

/// A comment on a post.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "comments")]
pub struct Comment {
    /// Assigned on add.
    #[strata(primary_key)]
    pub id: i64,
    /// The post commented on.
    #[strata(foreign_key = Post)]
    pub post_id: i64,
    /// Who wrote it.
    #[strata(foreign_key = User)]
    pub author_id: i64,
    /// The text.
    #[strata(max_len = 4000)]
    pub body: String,
    /// Set when added.
    #[strata(created_at)]
    pub created_at: DateTime<Utc>,
}

/// A user's profile: at most one per user (a unique foreign key).
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "profiles")]
pub struct Profile {
    /// Assigned on add.
    #[strata(primary_key)]
    pub id: i64,
    /// Whose profile.
    #[strata(unique, foreign_key = User)]
    pub user_id: i64,
    /// A few words.
    #[strata(max_len = 2000)]
    pub bio: String,
    /// Where they are, if they say.
    #[strata(max_len = 100)]
    pub location: Option<String>,
}

/// The seed's `Students` table.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "students", display = "name")]
pub struct Student {
    /// Assigned on add.
    #[strata(primary_key)]
    pub id: i64,
    /// The name.
    #[strata(max_len = 100)]
    pub name: String,
    /// Grade point average; indexed, so `GPA > 3.5` is an index range.
    #[strata(index)]
    pub gpa: f64,
}
