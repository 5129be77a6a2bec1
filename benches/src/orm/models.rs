//! The seed's models, as `orm/examples/quickstart.rs` declares them.
//! The raw-engine and SQLite sides fill the same structs, so that every
//! side materialises the same rows.

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

/// `Students` with an indexed GPA.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "students", display = "name")]
pub struct Student {
    /// The primary key, assigned on insert.
    #[strata(primary_key)]
    pub id: i64,
    /// The name.
    #[strata(max_len = 50)]
    pub name: String,
    /// Indexed.
    #[strata(index)]
    pub gpa: f64,
}

/// A person with many addresses.
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

/// One of a person's addresses (a foreign key, so indexed).
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
