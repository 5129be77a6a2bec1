//! The SQLite side: the same schema, unique columns and indexes as the
//! models declare (and foreign keys enforced), through prepared
//! statements, with the key-value group's connection settings (WAL,
//! `synchronous=FULL`, `BEGIN IMMEDIATE` for writes).
//!
//! The eager load is one query, a `LEFT JOIN` of person and address
//! ordered by person, as SQLAlchemy's `joinedload` issues it; the rows
//! are grouped per person as they stream.

use super::{Check, Side};
use crate::Result;
use crate::engines::sqlite::{connect, path, read_txn, write_txn};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use strata_tests::models::{Address, Person, Student, User};

/// SQLite with the models' schema.
pub struct SqliteOrm {
    conn: Connection,
}

impl SqliteOrm {
    /// Creates the schema in a fresh database in `dir`.
    pub fn open(dir: &Path) -> Result<SqliteOrm> {
        let conn = connect(&path(dir))?;
        conn.execute_batch(
            "PRAGMA foreign_keys=ON;
             CREATE TABLE users (
                 id INTEGER PRIMARY KEY,
                 username VARCHAR(80) NOT NULL UNIQUE,
                 email VARCHAR(120) NOT NULL UNIQUE);
             CREATE TABLE students (
                 id INTEGER PRIMARY KEY,
                 name VARCHAR(50) NOT NULL,
                 gpa REAL NOT NULL);
             CREATE INDEX students_gpa ON students (gpa);
             CREATE TABLE person (
                 id INTEGER PRIMARY KEY,
                 name VARCHAR(50) NOT NULL);
             CREATE TABLE address (
                 id INTEGER PRIMARY KEY,
                 email VARCHAR(120) NOT NULL,
                 person_id INTEGER NOT NULL REFERENCES person (id));
             CREATE INDEX address_person_id ON address (person_id);",
        )?;
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
            let mut st = c.prepare_cached("INSERT INTO users (username, email) VALUES (?1, ?2)")?;
            for u in users {
                st.execute(params![u.username, u.email])?;
                u.id = c.last_insert_rowid();
            }
            Ok(())
        })
    }

    fn insert_students(&mut self, students: &mut [Student]) -> Result<()> {
        write_txn(&self.conn, |c| {
            let mut st = c.prepare_cached("INSERT INTO students (name, gpa) VALUES (?1, ?2)")?;
            for s in students {
                st.execute(params![s.name, s.gpa])?;
                s.id = c.last_insert_rowid();
            }
            Ok(())
        })
    }

    fn insert_persons(&mut self, persons: &mut [(Person, Vec<Address>)]) -> Result<()> {
        write_txn(&self.conn, |c| {
            let mut person = c.prepare_cached("INSERT INTO person (name) VALUES (?1)")?;
            let mut address =
                c.prepare_cached("INSERT INTO address (email, person_id) VALUES (?1, ?2)")?;
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
            let mut st = c.prepare_cached("SELECT id, username, email FROM users WHERE id = ?1")?;
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
            let mut st = c.prepare_cached(
                "SELECT id, username, email FROM users WHERE username = ?1 LIMIT 1",
            )?;
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
                .prepare_cached("SELECT count(*) FROM users WHERE email LIKE '%' || ?1")?
                .query_row([suffix], |r| r.get(0))?;
            Ok(n as u64)
        })
    }

    fn students_above(&mut self, bound: f64) -> Result<Check> {
        let rows = read_txn(&self.conn, |c| {
            let mut st = c.prepare_cached("SELECT id, name, gpa FROM students WHERE gpa > ?1")?;
            let rows = st
                .query_map([bound], |r| {
                    Ok(Student {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        gpa: r.get(2)?,
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
            let mut st = c.prepare_cached(
                "SELECT p.id, p.name, a.id, a.email, a.person_id \
                 FROM person p LEFT JOIN address a ON a.person_id = p.id ORDER BY p.id",
            )?;
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
}
