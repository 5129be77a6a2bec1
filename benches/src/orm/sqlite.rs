//! The SQLite side: the same schema, unique columns and indexes as the
//! models declare (and foreign keys enforced), through prepared
//! statements, with the key-value group's connection settings (WAL,
//! `synchronous=FULL`, `BEGIN IMMEDIATE` for writes).
//!
//! The eager load is one query, a `LEFT JOIN` of person and address
//! ordered by person, as SQLAlchemy's `joinedload` issues it; the rows
//! are grouped per person as they stream.

use super::{Check, PER_PAGE, Post, Side, group};
use crate::Result;
use crate::engines::sqlite::{connect, path, read_txn, write_txn};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use strata_tests::models::{Address, Person, Student, User};

/// The schema and queries, shared with the other SQL side (Turso) so that
/// both run the same statements.
pub mod sql {
    /// The models' tables, unique columns and indexes.
    pub const SCHEMA: &str = "CREATE TABLE users (
             id INTEGER PRIMARY KEY,
             username VARCHAR(80) NOT NULL UNIQUE,
             email VARCHAR(120) NOT NULL UNIQUE);
         CREATE TABLE students (
             id INTEGER PRIMARY KEY,
             name VARCHAR(50) NOT NULL,
             student_number VARCHAR(10),
             major VARCHAR(50),
             gpa REAL NOT NULL);
         CREATE INDEX students_gpa ON students (gpa);
         CREATE TABLE person (
             id INTEGER PRIMARY KEY,
             name VARCHAR(50) NOT NULL);
         CREATE TABLE address (
             id INTEGER PRIMARY KEY,
             email VARCHAR(120) NOT NULL,
             person_id INTEGER NOT NULL REFERENCES person (id));
         CREATE INDEX address_person_id ON address (person_id);
         CREATE TABLE posts (
             id INTEGER PRIMARY KEY,
             author_id INTEGER NOT NULL,
             views INTEGER NOT NULL,
             title TEXT NOT NULL);
         CREATE INDEX posts_author_id ON posts (author_id);";
    /// Inserts a user: username, email.
    pub const INSERT_USER: &str = "INSERT INTO users (username, email) VALUES (?1, ?2)";
    /// Inserts a student: name, student number, major, gpa.
    pub const INSERT_STUDENT: &str =
        "INSERT INTO students (name, student_number, major, gpa) VALUES (?1, ?2, ?3, ?4)";
    /// Inserts a person: name.
    pub const INSERT_PERSON: &str = "INSERT INTO person (name) VALUES (?1)";
    /// Inserts an address: email, person id.
    pub const INSERT_ADDRESS: &str = "INSERT INTO address (email, person_id) VALUES (?1, ?2)";
    /// Inserts a post: author id, views, title.
    pub const INSERT_POST: &str = "INSERT INTO posts (author_id, views, title) VALUES (?1, ?2, ?3)";
    /// A user by id.
    pub const USER_BY_ID: &str = "SELECT id, username, email FROM users WHERE id = ?1";
    /// The first user by username.
    pub const USER_BY_USERNAME: &str =
        "SELECT id, username, email FROM users WHERE username = ?1 LIMIT 1";
    /// The users whose email ends with ?1.
    pub const COUNT_EMAIL_SUFFIX: &str = "SELECT count(*) FROM users WHERE email LIKE '%' || ?1";
    /// The students with a gpa above ?1.
    pub const STUDENTS_ABOVE: &str =
        "SELECT id, name, student_number, major, gpa FROM students WHERE gpa > ?1";
    /// Every person with their addresses, in one `LEFT JOIN`.
    pub const PERSONS_WITH_ADDRESSES: &str = "SELECT p.id, p.name, a.id, a.email, a.person_id \
         FROM person p LEFT JOIN address a ON a.person_id = p.id ORDER BY p.id";
    /// Posts per author, with their count and average views.
    pub const POSTS_PER_AUTHOR: &str =
        "SELECT author_id, count(*), avg(views) FROM posts GROUP BY author_id ORDER BY author_id";
    /// The addresses of the persons named ?1, with the person.
    pub const ADDRESSES_OF_NAMED: &str = "SELECT a.id, a.email, a.person_id, p.id, p.name \
         FROM address a JOIN person p ON p.id = a.person_id WHERE p.name = ?1";
    /// The users whose username contains ?1, in any case: `LIKE` ignores
    /// the case of ASCII letters (`case_sensitive_like` off).
    pub const COUNT_USERNAME_CONTAINS: &str =
        "SELECT count(*) FROM users WHERE username LIKE '%' || ?1 || '%'";
    /// Every user.
    pub const COUNT_USERS: &str = "SELECT count(*) FROM users";
    /// A page of ?1 users by username, from ?2 on.
    pub const USERS_PAGE: &str =
        "SELECT id, username, email FROM users ORDER BY username LIMIT ?1 OFFSET ?2";
}

/// SQLite with the models' schema.
pub struct SqliteOrm {
    conn: Connection,
}

impl SqliteOrm {
    /// Creates the schema in a fresh database in `dir`.
    pub fn open(dir: &Path) -> Result<SqliteOrm> {
        let conn = connect(&path(dir))?;
        conn.execute_batch("PRAGMA foreign_keys=ON")?;
        conn.execute_batch(sql::SCHEMA)?;
        Ok(SqliteOrm { conn })
    }
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
    })
}

impl Side for SqliteOrm {
    fn insert_users(&mut self, users: &mut [User]) -> Result<()> {
        write_txn(&self.conn, |c| {
            let mut st = c.prepare_cached(sql::INSERT_USER)?;
            for u in users {
                st.execute(params![u.username, u.email])?;
                u.id = c.last_insert_rowid();
            }
            Ok(())
        })
    }

    fn insert_students(&mut self, students: &mut [Student]) -> Result<()> {
        write_txn(&self.conn, |c| {
            let mut st = c.prepare_cached(sql::INSERT_STUDENT)?;
            for s in students {
                st.execute(params![s.name, s.student_number, s.major, s.gpa])?;
                s.id = c.last_insert_rowid();
            }
            Ok(())
        })
    }

    fn insert_persons(&mut self, persons: &mut [(Person, Vec<Address>)]) -> Result<()> {
        write_txn(&self.conn, |c| {
            let mut person = c.prepare_cached(sql::INSERT_PERSON)?;
            let mut address = c.prepare_cached(sql::INSERT_ADDRESS)?;
            for (p, addresses) in persons {
                person.execute([&p.name])?;
                p.id = c.last_insert_rowid();
                for a in addresses {
                    a.person_id = p.id;
                    address.execute(params![a.email, a.person_id])?;
                    a.id = c.last_insert_rowid();
                }
            }
            Ok(())
        })
    }

    fn users_by_id(&mut self, ids: &[i64]) -> Result<Check> {
        read_txn(&self.conn, |c| {
            let mut st = c.prepare_cached(sql::USER_BY_ID)?;
            let mut check = Check::default();
            for id in ids {
                if let Some(u) = st.query_row([id], user_row).optional()? {
                    check.row(u.id);
                }
            }
            Ok(check)
        })
    }

    fn users_by_username(&mut self, names: &[String]) -> Result<Check> {
        read_txn(&self.conn, |c| {
            let mut st = c.prepare_cached(sql::USER_BY_USERNAME)?;
            let mut check = Check::default();
            for name in names {
                if let Some(u) = st.query_row([name], user_row).optional()? {
                    check.row(u.id);
                }
            }
            Ok(check)
        })
    }

    fn count_email_suffix(&mut self, suffix: &str) -> Result<u64> {
        read_txn(&self.conn, |c| {
            let n: i64 = c
                .prepare_cached(sql::COUNT_EMAIL_SUFFIX)?
                .query_row([suffix], |r| r.get(0))?;
            Ok(n as u64)
        })
    }

    fn students_above(&mut self, bound: f64) -> Result<Check> {
        let rows = read_txn(&self.conn, |c| {
            let mut st = c.prepare_cached(sql::STUDENTS_ABOVE)?;
            let rows = st
                .query_map([bound], |r| {
                    Ok(Student {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        student_number: r.get(2)?,
                        major: r.get(3)?,
                        gpa: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })?;
        let mut check = Check::default();
        for s in &rows {
            check.row(s.id);
        }
        Ok(check)
    }

    fn persons_with_addresses(&mut self) -> Result<Check> {
        let persons = read_txn(&self.conn, |c| {
            let mut st = c.prepare_cached(sql::PERSONS_WITH_ADDRESSES)?;
            let mut rows = st.query([])?;
            let mut persons: Vec<(Person, Vec<Address>)> = Vec::new();
            while let Some(r) = rows.next()? {
                let pid: i64 = r.get(0)?;
                if persons.last().is_none_or(|(p, _)| p.id != pid) {
                    persons.push((
                        Person {
                            id: pid,
                            name: r.get(1)?,
                        },
                        Vec::new(),
                    ));
                }
                if let Some(aid) = r.get::<_, Option<i64>>(2)?
                    && let Some((_, addresses)) = persons.last_mut()
                {
                    addresses.push(Address {
                        id: aid,
                        email: r.get(3)?,
                        person_id: r.get(4)?,
                    });
                }
            }
            Ok(persons)
        })?;
        let mut check = Check::default();
        for (p, addresses) in &persons {
            check.person(p, addresses);
        }
        Ok(check)
    }

    fn insert_posts(&mut self, posts: &mut [Post]) -> Result<()> {
        write_txn(&self.conn, |c| {
            let mut st = c.prepare_cached(sql::INSERT_POST)?;
            for p in posts.iter_mut() {
                st.execute(params![p.author_id, p.views, p.title])?;
                p.id = c.last_insert_rowid();
            }
            Ok(())
        })
    }

    fn posts_per_author(&mut self) -> Result<Check> {
        read_txn(&self.conn, |c| {
            let mut st = c.prepare_cached(sql::POSTS_PER_AUTHOR)?;
            let mut rows = st.query([])?;
            let mut check = Check::default();
            while let Some(r) = rows.next()? {
                group(&mut check, r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?);
            }
            Ok(check)
        })
    }

    fn addresses_of_named(&mut self, name: &str) -> Result<Check> {
        read_txn(&self.conn, |c| {
            let mut st = c.prepare_cached(sql::ADDRESSES_OF_NAMED)?;
            let pairs = st
                .query_map([name], |r| {
                    Ok((
                        Address {
                            id: r.get(0)?,
                            email: r.get(1)?,
                            person_id: r.get(2)?,
                        },
                        Person {
                            id: r.get(3)?,
                            name: r.get(4)?,
                        },
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut check = Check::default();
            for (a, p) in &pairs {
                check.row(a.id + p.id);
            }
            Ok(check)
        })
    }

    fn count_username_icontains(&mut self, needle: &str) -> Result<u64> {
        read_txn(&self.conn, |c| {
            let n: i64 = c
                .prepare_cached(sql::COUNT_USERNAME_CONTAINS)?
                .query_row([needle], |r| r.get(0))?;
            Ok(n as u64)
        })
    }

    fn users_page(&mut self, page: usize) -> Result<Check> {
        read_txn(&self.conn, |c| {
            let total: i64 = c
                .prepare_cached(sql::COUNT_USERS)?
                .query_row([], |r| r.get(0))?;
            let mut st = c.prepare_cached(sql::USERS_PAGE)?;
            let offset = ((page - 1) * PER_PAGE) as i64;
            let users = st
                .query_map(params![PER_PAGE as i64, offset], user_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut check = Check::default();
            for u in &users {
                check.row(u.id);
            }
            check.items = total as u64;
            Ok(check)
        })
    }
}
