//! The Turso side: SQLite's side ([`super::sqlite`]) through the crate
//! `turso`, with the very same schema, indexes and queries
//! ([`super::sqlite::sql`]), on the key-value group's Turso settings
//! ([`crate::engines::turso`]: MVCC journal, `synchronous = FULL`,
//! `BEGIN CONCURRENT` for writes, prepared statements cached per
//! connection). Foreign keys are enforced as on SQLite's side.
//!
//! The eager load is the same single `LEFT JOIN`, grouped per person as
//! the rows stream.

use super::sqlite::sql;
use super::{Check, PER_PAGE, Post, Side, group};
use crate::Result;
use crate::engines::turso::{Conn, open, path};
use std::path::Path;
use strata_tests::models::{Address, Person, Student, User};
use turso::Row;

/// Turso with the models' schema.
pub struct TursoOrm {
    conn: Conn,
}

impl TursoOrm {
    /// Creates the schema in a fresh database in `dir`.
    pub fn open(dir: &Path) -> Result<TursoOrm> {
        let db = open(&path(dir))?;
        let conn = Conn::new(&db)?;
        conn.batch("PRAGMA foreign_keys=ON")?;
        conn.batch(sql::SCHEMA)?;
        Ok(TursoOrm { conn })
    }
}

fn user_row(r: &Row) -> Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        email: r.get(2)?,
    })
}

impl Side for TursoOrm {
    fn insert_users(&mut self, users: &mut [User]) -> Result<()> {
        self.conn.try_write(|c| {
            for u in users {
                c.exec(sql::INSERT_USER, (u.username.as_str(), u.email.as_str()))?;
                u.id = c.last_insert_rowid();
            }
            Ok(())
        })
    }

    fn insert_students(&mut self, students: &mut [Student]) -> Result<()> {
        self.conn.try_write(|c| {
            for s in students {
                c.exec(
                    sql::INSERT_STUDENT,
                    (
                        s.name.as_str(),
                        s.student_number.as_deref(),
                        s.major.as_deref(),
                        s.gpa,
                    ),
                )?;
                s.id = c.last_insert_rowid();
            }
            Ok(())
        })
    }

    fn insert_persons(&mut self, persons: &mut [(Person, Vec<Address>)]) -> Result<()> {
        self.conn.try_write(|c| {
            for (p, addresses) in persons {
                c.exec(sql::INSERT_PERSON, [p.name.as_str()])?;
                p.id = c.last_insert_rowid();
                for a in addresses {
                    a.person_id = p.id;
                    c.exec(sql::INSERT_ADDRESS, (a.email.as_str(), a.person_id))?;
                    a.id = c.last_insert_rowid();
                }
            }
            Ok(())
        })
    }

    fn users_by_id(&mut self, ids: &[i64]) -> Result<Check> {
        self.conn.read(|c| {
            let mut check = Check::default();
            for &id in ids {
                if let Some(u) = c.first(sql::USER_BY_ID, [id], user_row)? {
                    check.row(u.id);
                }
            }
            Ok(check)
        })
    }

    fn users_by_username(&mut self, names: &[String]) -> Result<Check> {
        self.conn.read(|c| {
            let mut check = Check::default();
            for name in names {
                if let Some(u) = c.first(sql::USER_BY_USERNAME, [name.as_str()], user_row)? {
                    check.row(u.id);
                }
            }
            Ok(check)
        })
    }

    fn count_email_suffix(&mut self, suffix: &str) -> Result<u64> {
        self.conn
            .read(|c| Ok(c.int(sql::COUNT_EMAIL_SUFFIX, [suffix])? as u64))
    }

    fn students_above(&mut self, bound: f64) -> Result<Check> {
        let mut rows = Vec::new();
        self.conn.read(|c| {
            c.each(sql::STUDENTS_ABOVE, [bound], |r| {
                rows.push(Student {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    student_number: r.get(2)?,
                    major: r.get(3)?,
                    gpa: r.get(4)?,
                });
                Ok(())
            })
        })?;
        let mut check = Check::default();
        for s in &rows {
            check.row(s.id);
        }
        Ok(check)
    }

    fn persons_with_addresses(&mut self) -> Result<Check> {
        let mut persons: Vec<(Person, Vec<Address>)> = Vec::new();
        self.conn.read(|c| {
            c.each(sql::PERSONS_WITH_ADDRESSES, (), |r| {
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
                if let Some(aid) = r.get::<Option<i64>>(2)?
                    && let Some((_, addresses)) = persons.last_mut()
                {
                    addresses.push(Address {
                        id: aid,
                        email: r.get(3)?,
                        person_id: r.get(4)?,
                    });
                }
                Ok(())
            })
        })?;
        let mut check = Check::default();
        for (p, addresses) in &persons {
            check.person(p, addresses);
        }
        Ok(check)
    }

    fn insert_posts(&mut self, posts: &mut [Post]) -> Result<()> {
        self.conn.try_write(|c| {
            for p in posts.iter_mut() {
                c.exec(sql::INSERT_POST, (p.author_id, p.views, p.title.as_str()))?;
                p.id = c.last_insert_rowid();
            }
            Ok(())
        })
    }

    fn posts_per_author(&mut self) -> Result<Check> {
        self.conn.read(|c| {
            let mut check = Check::default();
            c.each(sql::POSTS_PER_AUTHOR, (), |r| {
                group(&mut check, r.get(0)?, r.get::<i64>(1)? as u64, r.get(2)?);
                Ok(())
            })?;
            Ok(check)
        })
    }

    fn addresses_of_named(&mut self, name: &str) -> Result<Check> {
        self.conn.read(|c| {
            let mut pairs = Vec::new();
            c.each(sql::ADDRESSES_OF_NAMED, [name], |r| {
                pairs.push((
                    Address {
                        id: r.get(0)?,
                        email: r.get(1)?,
                        person_id: r.get(2)?,
                    },
                    Person {
                        id: r.get(3)?,
                        name: r.get(4)?,
                    },
                ));
                Ok(())
            })?;
            let mut check = Check::default();
            for (a, p) in &pairs {
                check.row(a.id + p.id);
            }
            Ok(check)
        })
    }

    fn count_username_icontains(&mut self, needle: &str) -> Result<u64> {
        self.conn
            .read(|c| Ok(c.int(sql::COUNT_USERNAME_CONTAINS, [needle])? as u64))
    }

    fn users_page(&mut self, page: usize) -> Result<Check> {
        self.conn.read(|c| {
            let total = c.int(sql::COUNT_USERS, ())?;
            let offset = ((page - 1) * PER_PAGE) as i64;
            let mut check = Check::default();
            c.each(sql::USERS_PAGE, (PER_PAGE as i64, offset), |r| {
                check.row(user_row(r)?.id);
                Ok(())
            })?;
            check.items = total as u64;
            Ok(check)
        })
    }
}
