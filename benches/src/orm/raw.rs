//! The ORM's work written by hand against Strata's engine API, as a
//! careful application would: hand-encoded keys (big-endian ids) and rows,
//! secondary index tables kept in step by hand, the unique columns and the
//! foreign key checked before writing. No schema table, no generic row
//! codec, no query planner: the difference to the ORM side is the ORM's
//! overhead.
//!
//! | table | key | value |
//! | --- | --- | --- |
//! | `users` | id | username length (u16), username, email |
//! | `users_username` | username | id |
//! | `users_email` | email | id |
//! | `students` | id | gpa (f64), then name, student number and major, each its length (u16; `u16::MAX` for none) and its text |
//! | `students_gpa` | gpa (order-preserving), id | empty |
//! | `person` | id | name |
//! | `address` | id | person id, email |
//! | `address_person` | person id, id | empty |
//! | `posts` | id | author id (i64), views (i64), title |
//! | `posts_author` | author id, id | empty |

use super::{Check, PER_PAGE, Post, Side, group};
use crate::{Result, fail};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;
use strata_engine::{Database, Transaction};
use strata_tests::models::{Address, Person, Student, User};

const USERS: &str = "users";
const USERS_USERNAME: &str = "users_username";
const USERS_EMAIL: &str = "users_email";
const STUDENTS: &str = "students";
const STUDENTS_GPA: &str = "students_gpa";
const PERSON: &str = "person";
const ADDRESS: &str = "address";
const ADDRESS_PERSON: &str = "address_person";
const POSTS: &str = "posts";
const POSTS_AUTHOR: &str = "posts_author";

fn id_key(id: i64) -> [u8; 8] {
    (id as u64).to_be_bytes()
}

fn id_of(b: &[u8]) -> Result<i64> {
    Ok(u64::from_be_bytes(b.try_into()?) as i64)
}

/// An `f64` as 8 bytes whose order is the numbers' order.
fn gpa_key(gpa: f64) -> [u8; 8] {
    let bits = gpa.to_bits();
    let sortable = if bits >> 63 == 0 {
        bits ^ (1 << 63)
    } else {
        !bits
    };
    sortable.to_be_bytes()
}

fn text(b: &[u8]) -> Result<String> {
    Ok(std::str::from_utf8(b)?.to_string())
}

fn encode_user(u: &User) -> Vec<u8> {
    let mut v = Vec::with_capacity(2 + u.username.len() + u.email.len());
    v.extend_from_slice(&(u.username.len() as u16).to_le_bytes());
    v.extend_from_slice(u.username.as_bytes());
    v.extend_from_slice(u.email.as_bytes());
    v
}

/// The email of an encoded user row, without decoding the rest.
fn user_email(row: &[u8]) -> Result<&[u8]> {
    let n = u16::from_le_bytes(row.get(..2).ok_or("short user row")?.try_into()?) as usize;
    Ok(row.get(2 + n..).ok_or("short user row")?)
}

fn decode_user(id: i64, row: &[u8]) -> Result<User> {
    let email = user_email(row)?;
    Ok(User {
        id,
        username: text(&row[2..row.len() - email.len()])?,
        email: text(email)?,
    })
}

/// Appends `t` as its length (u16; `u16::MAX` for none) and its bytes.
fn put_text(row: &mut Vec<u8>, t: Option<&str>) {
    match t {
        Some(t) => {
            row.extend_from_slice(&(t.len() as u16).to_le_bytes());
            row.extend_from_slice(t.as_bytes());
        }
        None => row.extend_from_slice(&u16::MAX.to_le_bytes()),
    }
}

/// The text [`put_text`] wrote at the start of `row`; moves `row` past it.
fn take_text(row: &mut &[u8]) -> Result<Option<String>> {
    let n = u16::from_le_bytes(row.get(..2).ok_or("short row")?.try_into()?);
    *row = &row[2..];
    if n == u16::MAX {
        return Ok(None);
    }
    let t = text(row.get(..n as usize).ok_or("short row")?)?;
    *row = &row[n as usize..];
    Ok(Some(t))
}

fn encode_student(s: &Student) -> Vec<u8> {
    let mut row = s.gpa.to_le_bytes().to_vec();
    put_text(&mut row, Some(&s.name));
    put_text(&mut row, s.student_number.as_deref());
    put_text(&mut row, s.major.as_deref());
    row
}

fn decode_student(id: i64, row: &[u8]) -> Result<Student> {
    let gpa = f64::from_le_bytes(row.get(..8).ok_or("short student row")?.try_into()?);
    let mut rest = &row[8..];
    Ok(Student {
        id,
        name: take_text(&mut rest)?.ok_or("a student without a name")?,
        student_number: take_text(&mut rest)?,
        major: take_text(&mut rest)?,
        gpa,
    })
}

fn decode_address(id: i64, row: &[u8]) -> Result<Address> {
    Ok(Address {
        id,
        person_id: i64::from_le_bytes(row.get(..8).ok_or("short address row")?.try_into()?),
        email: text(&row[8..])?,
    })
}

/// Strata's engine, used directly.
pub struct StrataRaw {
    db: Database,
    next_user: i64,
    next_student: i64,
    next_person: i64,
    next_address: i64,
    next_post: i64,
}

impl StrataRaw {
    /// Opens `raw.strata` in `dir` and creates the tables.
    pub fn open(dir: &Path) -> Result<StrataRaw> {
        let db = Database::open(dir.join("raw.strata"))?;
        let mut tx = db.begin()?;
        for t in [
            USERS,
            USERS_USERNAME,
            USERS_EMAIL,
            STUDENTS,
            STUDENTS_GPA,
            PERSON,
            ADDRESS,
            ADDRESS_PERSON,
            POSTS,
            POSTS_AUTHOR,
        ] {
            tx.create_table(t)?;
        }
        tx.commit()?;
        Ok(StrataRaw {
            db,
            next_user: 1,
            next_student: 1,
            next_person: 1,
            next_address: 1,
            next_post: 1,
        })
    }
}

/// Fails if `value` is already in the unique index `table`; locks it.
fn check_unique(tx: &Transaction, table: &str, value: &str) -> Result<()> {
    if tx.get_for_update(table, value.as_bytes())?.is_some() {
        fail!("{table}: {value:?} is taken");
    }
    Ok(())
}

impl Side for StrataRaw {
    fn insert_users(&mut self, users: &mut [User]) -> Result<()> {
        let mut tx = self.db.begin()?;
        for u in users {
            check_unique(&tx, USERS_USERNAME, &u.username)?;
            check_unique(&tx, USERS_EMAIL, &u.email)?;
            u.id = self.next_user;
            self.next_user += 1;
            let key = id_key(u.id);
            tx.put(USERS, &key, &encode_user(u))?;
            tx.put(USERS_USERNAME, u.username.as_bytes(), &key)?;
            tx.put(USERS_EMAIL, u.email.as_bytes(), &key)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn insert_students(&mut self, students: &mut [Student]) -> Result<()> {
        let mut tx = self.db.begin()?;
        for s in students {
            s.id = self.next_student;
            self.next_student += 1;
            let key = id_key(s.id);
            tx.put(STUDENTS, &key, &encode_student(s))?;
            let mut ik = gpa_key(s.gpa).to_vec();
            ik.extend_from_slice(&key);
            tx.put(STUDENTS_GPA, &ik, &[])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn insert_persons(&mut self, persons: &mut [(Person, Vec<Address>)]) -> Result<()> {
        let mut tx = self.db.begin()?;
        for (p, addresses) in persons {
            p.id = self.next_person;
            self.next_person += 1;
            let pk = id_key(p.id);
            tx.put(PERSON, &pk, p.name.as_bytes())?;
            for a in addresses {
                a.person_id = p.id;
                // The foreign key: the person must exist.
                if tx.get(PERSON, &pk)?.is_none() {
                    fail!("person {} is missing", p.id);
                }
                a.id = self.next_address;
                self.next_address += 1;
                let ak = id_key(a.id);
                let mut row = a.person_id.to_le_bytes().to_vec();
                row.extend_from_slice(a.email.as_bytes());
                tx.put(ADDRESS, &ak, &row)?;
                let mut ik = pk.to_vec();
                ik.extend_from_slice(&ak);
                tx.put(ADDRESS_PERSON, &ik, &[])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn users_by_id(&mut self, ids: &[i64]) -> Result<Check> {
        let tx = self.db.begin_read()?;
        let mut c = Check::default();
        for &id in ids {
            if let Some(row) = tx.get(USERS, &id_key(id))? {
                c.row(decode_user(id, &row)?.id);
            }
        }
        tx.commit()?;
        Ok(c)
    }

    fn users_by_username(&mut self, names: &[String]) -> Result<Check> {
        let tx = self.db.begin_read()?;
        let mut c = Check::default();
        for name in names {
            let Some(key) = tx.get(USERS_USERNAME, name.as_bytes())? else {
                continue;
            };
            if let Some(row) = tx.get(USERS, &key)? {
                c.row(decode_user(id_of(&key)?, &row)?.id);
            }
        }
        tx.commit()?;
        Ok(c)
    }

    fn count_email_suffix(&mut self, suffix: &str) -> Result<u64> {
        let tx = self.db.begin_read()?;
        let mut n = 0;
        for item in tx.range(USERS, ..)? {
            let (_, row) = item?;
            if user_email(&row)?.ends_with(suffix.as_bytes()) {
                n += 1;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    fn students_above(&mut self, bound: f64) -> Result<Check> {
        let tx = self.db.begin_read()?;
        let mut lo = gpa_key(bound).to_vec();
        lo.extend_from_slice(&[0xFF; 8]);
        let mut rows = Vec::new();
        for item in tx.range(STUDENTS_GPA, (Bound::Excluded(lo), Bound::Unbounded))? {
            let (ik, _) = item?;
            let key = &ik[8..];
            let Some(row) = tx.get(STUDENTS, key)? else {
                fail!("index entry without a student");
            };
            rows.push(decode_student(id_of(key)?, &row)?);
        }
        tx.commit()?;
        let mut c = Check::default();
        for s in &rows {
            c.row(s.id);
        }
        Ok(c)
    }

    fn persons_with_addresses(&mut self) -> Result<Check> {
        let tx = self.db.begin_read()?;
        let mut persons = Vec::new();
        for item in tx.range(PERSON, ..)? {
            let (k, v) = item?;
            persons.push((
                Person {
                    id: id_of(&k)?,
                    name: text(&v)?,
                },
                Vec::new(),
            ));
        }
        // One pass over the index for every person at once (persons and
        // index are both in id order), then each address by key.
        if let (Some(first), Some(last)) = (persons.first(), persons.last()) {
            let lo = id_key(first.0.id);
            let hi = id_key(last.0.id + 1);
            let mut slot = 0;
            for item in tx.range(ADDRESS_PERSON, &lo[..]..&hi[..])? {
                let (ik, _) = item?;
                let pid = id_of(&ik[..8])?;
                while slot < persons.len() && persons[slot].0.id < pid {
                    slot += 1;
                }
                if slot == persons.len() || persons[slot].0.id != pid {
                    continue;
                }
                let ak = &ik[8..];
                let Some(row) = tx.get(ADDRESS, ak)? else {
                    fail!("index entry without an address");
                };
                persons[slot].1.push(decode_address(id_of(ak)?, &row)?);
            }
        }
        tx.commit()?;
        let mut c = Check::default();
        for (p, addresses) in &persons {
            c.person(p, addresses);
        }
        Ok(c)
    }

    fn insert_posts(&mut self, posts: &mut [Post]) -> Result<()> {
        let mut tx = self.db.begin()?;
        for p in posts {
            p.id = self.next_post;
            self.next_post += 1;
            let key = id_key(p.id);
            let mut row = p.author_id.to_le_bytes().to_vec();
            row.extend_from_slice(&p.views.to_le_bytes());
            row.extend_from_slice(p.title.as_bytes());
            tx.put(POSTS, &key, &row)?;
            let mut ik = id_key(p.author_id).to_vec();
            ik.extend_from_slice(&key);
            tx.put(POSTS_AUTHOR, &ik, &[])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn posts_per_author(&mut self) -> Result<Check> {
        let tx = self.db.begin_read()?;
        let mut groups: BTreeMap<i64, (u64, i64)> = BTreeMap::new();
        for item in tx.range(POSTS, ..)? {
            let (_, row) = item?;
            let author = i64::from_le_bytes(row.get(..8).ok_or("short post")?.try_into()?);
            let views = i64::from_le_bytes(row.get(8..16).ok_or("short post")?.try_into()?);
            let g = groups.entry(author).or_default();
            g.0 += 1;
            g.1 += views;
        }
        tx.commit()?;
        let mut c = Check::default();
        for (author, (n, sum)) in groups {
            group(&mut c, author, n, Some(sum as f64 / n as f64));
        }
        Ok(c)
    }

    fn addresses_of_named(&mut self, name: &str) -> Result<Check> {
        let tx = self.db.begin_read()?;
        let mut c = Check::default();
        let mut persons = Vec::new();
        for item in tx.range(PERSON, ..)? {
            let (k, v) = item?;
            if v == name.as_bytes() {
                persons.push(Person {
                    id: id_of(&k)?,
                    name: text(&v)?,
                });
            }
        }
        for p in &persons {
            let lo = id_key(p.id);
            let hi = id_key(p.id + 1);
            for item in tx.range(ADDRESS_PERSON, &lo[..]..&hi[..])? {
                let (ik, _) = item?;
                let ak = &ik[8..];
                let Some(row) = tx.get(ADDRESS, ak)? else {
                    fail!("index entry without an address");
                };
                let a = decode_address(id_of(ak)?, &row)?;
                c.row(a.id + p.id);
            }
        }
        tx.commit()?;
        Ok(c)
    }

    fn count_username_icontains(&mut self, needle: &str) -> Result<u64> {
        let tx = self.db.begin_read()?;
        let needle = needle.to_lowercase();
        let mut n = 0;
        for item in tx.range(USERS, ..)? {
            let (_, row) = item?;
            let email = user_email(&row)?;
            let username = std::str::from_utf8(&row[2..row.len() - email.len()])?;
            if username.to_lowercase().contains(&needle) {
                n += 1;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    fn users_page(&mut self, page: usize) -> Result<Check> {
        let tx = self.db.begin_read()?;
        // The engine counts and skips entries without reading them.
        let total = tx.range(USERS, ..)?.count_entries()?;
        let mut c = Check::default();
        let mut index = tx.range(USERS_USERNAME, ..)?;
        index.skip_entries(((page - 1) * PER_PAGE) as u64)?;
        for item in index.take(PER_PAGE) {
            let (_, key) = item?;
            let Some(row) = tx.get(USERS, &key)? else {
                fail!("index entry without a user");
            };
            c.row(decode_user(id_of(&key)?, &row)?.id);
        }
        tx.commit()?;
        c.items = total;
        Ok(c)
    }
}
