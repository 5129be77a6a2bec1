//! The sample models: those of the quickstart (`orm/examples/quickstart.rs`,
//! the Flask-SQLAlchemy seed's `User`, `Student`, `Person` and `Address`,
//! `Page` and `Tag`), for the suites and the benchmark harness to share.
//!
//! The quickstart keeps its own declarations, so that the README's example
//! reads whole on its own. `tests/tests/sample_models.rs` holds the two
//! sets to each other: the same tables, columns, keys, indexes, relations
//! and display, and these models read the file the quickstart writes.

use serde::{Deserialize, Serialize};
use strata::Model;

/// `class User(db.Model)` with a unique username and email.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users", display = "username")]
pub struct User {
    /// The primary key, assigned on insert.
    #[strata(primary_key)]
    pub id: i64,
    /// Unique.
    #[strata(unique, max_len = 80)]
    pub username: String,
    /// Unique.
    #[strata(unique, max_len = 120)]
    pub email: String,
}

/// `SELECT * FROM Students WHERE GPA > 3.5`: the seed's Students table,
/// with an indexed float column.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "students", display = "name")]
pub struct Student {
    /// The primary key, assigned on insert.
    #[strata(primary_key)]
    pub id: i64,
    /// The name.
    #[strata(max_len = 50)]
    pub name: String,
    /// The student number, as text ("045628" keeps its leading zero);
    /// `None` in rows written before the field existed.
    #[strata(max_len = 10)]
    pub student_number: Option<String>,
    /// The major; `None` in rows written before the field existed.
    #[strata(max_len = 50)]
    pub major: Option<String>,
    /// Indexed.
    #[strata(index)]
    pub gpa: f64,
}

/// `addresses = db.relationship('Address', backref='person', lazy=True)`:
/// a person with many addresses, deleted with the person.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "person", display = "name")]
#[strata(has_many(addresses = Address, fk = person_id, backref = person, on_delete = cascade))]
pub struct Person {
    /// The primary key, assigned on insert.
    #[strata(primary_key)]
    pub id: i64,
    /// The name.
    #[strata(max_len = 50)]
    pub name: String,
}

/// `person_id = db.Column(db.Integer, db.ForeignKey('person.id'), nullable=False)`:
/// one of a person's addresses (a foreign key, so indexed).
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "address", display = "email")]
pub struct Address {
    /// The primary key, assigned on insert.
    #[strata(primary_key)]
    pub id: i64,
    /// The address.
    #[strata(max_len = 120)]
    pub email: String,
    /// The owner.
    #[strata(foreign_key = Person)]
    pub person_id: i64,
}

/// `tags = db.relationship('Tag', secondary=tags, backref=db.backref('pages'))`:
/// pages and tags, many-to-many through the `tags` table.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "page", display = "title")]
#[strata(many_to_many(tags = Tag, through = "tags", backref = pages))]
pub struct Page {
    /// The primary key, assigned on insert.
    #[strata(primary_key)]
    pub id: i64,
    /// The title.
    pub title: String,
}

/// A tag of pages.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "tag", display = "name")]
pub struct Tag {
    /// The primary key, assigned on insert.
    #[strata(primary_key)]
    pub id: i64,
    /// Unique.
    #[strata(unique)]
    pub name: String,
}
