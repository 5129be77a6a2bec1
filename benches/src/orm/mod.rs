//! The ORM workloads, on three sides: Strata's ORM, the same work written
//! by hand against Strata's engine API (to state the ORM's overhead), and
//! SQLite through rusqlite with the same schema, indexes and prepared
//! statements.
//!
//! 1. insert users, 1,000 per transaction (unique username and email);
//! 2. get users by primary key;
//! 3. first user by unique username;
//! 4. count the users whose email ends with a domain (no index helps: a
//!    scan of the table on every side);
//! 5. students with `gpa > 3.5` (a range of the gpa index);
//! 6. every person (1,000) with their addresses, loaded eagerly in one call;
//! 7. posts per author: `group by author_id` with `count` and `avg(views)`
//!    over 100,000 posts by 1,000 authors;
//! 8. a join with a filter on the parent: the addresses of the person with
//!    a given name, as `(Address, Person)` pairs;
//! 9. a case-insensitive search: the count of users whose username
//!    contains a string, in any case (a scan on every side);
//! 10. a page of a paginated listing: page `n` of 20 users by username,
//!     with the total, as Flask-SQLAlchemy's `paginate()` gives it.
//!
//! Lookups run [`LOOKUPS_PER_TXN`] to a read transaction, as the key-value
//! reads do. Every side reports what it found (`check.*`), and the parent
//! fails the run if the sides disagree.
//!
//! The models are the quickstart's, from [`strata_tests::models`]; the
//! raw-engine and SQLite sides fill the same structs, so that every side
//! materialises the same rows.

pub mod raw;
pub mod sqlite;
pub mod strata_orm;
#[cfg(feature = "turso")]
pub mod turso;

use crate::rng::{Rng, mix};
use crate::{Out, Result, fail};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use strata::Model;
use strata_tests::models::{Address, Person, Student, User};

/// A blog post: what the group-by counts and averages.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "posts")]
pub struct Post {
    /// The primary key, assigned on insert.
    #[strata(primary_key)]
    pub id: i64,
    /// The author's number (1 to [`AUTHORS`]), indexed.
    #[strata(index)]
    pub author_id: i64,
    /// Views, 0 to 999.
    pub views: i64,
    /// The title.
    pub title: String,
}

/// Authors of the posts.
pub const AUTHORS: u64 = 1_000;
/// Users per page of the paginated listing.
pub const PER_PAGE: usize = 20;
/// The needle of the case-insensitive search (usernames are lowercase
/// hex).
pub const NEEDLE: &str = "ABC";
const POST_SEED: u64 = 0x0E_0004;

/// Lookups served by one read transaction.
pub const LOOKUPS_PER_TXN: usize = 1_000;
/// Rows inserted per write transaction.
pub const ROWS_PER_TXN: u64 = 1_000;
/// Addresses of each person.
pub const ADDRESSES_PER_PERSON: u64 = 3;
/// The domain of the count query.
pub const DOMAIN: &str = "@d3.example";
/// The GPA bound of the range query.
pub const GPA_BOUND: f64 = 3.5;

const USER_SEED: u64 = 0x0E_0001;
const STUDENT_SEED: u64 = 0x0E_0002;
const LOOKUP_SEED: u64 = 0x0E_0003;

/// How much work the ORM group does.
#[derive(Clone, Copy, Debug)]
pub struct OrmParams {
    /// Users inserted.
    pub users: u64,
    /// Lookups by primary key, and by username.
    pub lookups: u64,
    /// Runs of the count query.
    pub count_queries: u64,
    /// Students inserted.
    pub students: u64,
    /// Runs of the GPA query.
    pub gpa_queries: u64,
    /// Persons inserted (each with [`ADDRESSES_PER_PERSON`] addresses).
    pub persons: u64,
    /// Runs of the eager-loading query.
    pub eager_queries: u64,
    /// Posts inserted.
    pub posts: u64,
    /// Runs of the group-by query.
    pub group_queries: u64,
    /// Runs of the join.
    pub join_queries: u64,
    /// Runs of the case-insensitive search.
    pub search_queries: u64,
    /// Pages read of the paginated listing.
    pub pages: u64,
}

impl OrmParams {
    /// The benchmark's sizes, or the `--quick` ones.
    pub fn new(quick: bool) -> OrmParams {
        if quick {
            OrmParams {
                users: 2_000,
                lookups: 2_000,
                count_queries: 2,
                students: 2_000,
                gpa_queries: 2,
                persons: 100,
                eager_queries: 2,
                posts: 2_000,
                group_queries: 2,
                join_queries: 20,
                search_queries: 2,
                pages: 20,
            }
        } else {
            OrmParams {
                users: 100_000,
                lookups: 100_000,
                count_queries: 10,
                students: 100_000,
                gpa_queries: 10,
                persons: 1_000,
                eager_queries: 20,
                posts: 100_000,
                group_queries: 10,
                join_queries: 1_000,
                search_queries: 10,
                pages: 1_000,
            }
        }
    }
}

/// User number `i` (from 1), not yet inserted.
pub fn user(i: u64) -> User {
    let h = mix(i ^ USER_SEED);
    let username = format!("user{h:016x}");
    let email = format!("{username}@d{}.example", h % 10);
    User {
        id: 0,
        username,
        email,
    }
}

/// The majors students are given, in turn.
const MAJORS: [&str; 4] = ["CS", "Math", "Art", "Physics"];

/// Student number `i` (from 1), with every column of the seed's table:
/// GPA 0.00 to 4.00 in steps of 0.01.
pub fn student(i: u64) -> Student {
    Student {
        id: 0,
        name: format!("student{i}"),
        student_number: Some(format!("{i:06}")),
        major: Some(MAJORS[(i % MAJORS.len() as u64) as usize].to_string()),
        gpa: (mix(i ^ STUDENT_SEED) % 401) as f64 / 100.0,
    }
}

/// Person number `i` (from 1) and their addresses.
pub fn person(i: u64) -> (Person, Vec<Address>) {
    let p = Person {
        id: 0,
        name: format!("person{i}"),
    };
    let addresses = (0..ADDRESSES_PER_PERSON)
        .map(|k| Address {
            id: 0,
            email: format!("p{i}.a{k}@mail.example"),
            person_id: 0,
        })
        .collect();
    (p, addresses)
}

/// Post number `i` (from 1), not yet inserted.
pub fn post(i: u64) -> Post {
    let h = mix(i ^ POST_SEED);
    Post {
        id: 0,
        author_id: (h % AUTHORS) as i64 + 1,
        views: ((h >> 20) % 1000) as i64,
        title: format!("post {i}"),
    }
}

/// What a query found: rows, items inside them, and a checksum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Check {
    /// Rows returned.
    pub rows: u64,
    /// Nested items (addresses).
    pub items: u64,
    /// A sum over the rows' ids, for comparison between sides.
    pub sum: u64,
}

impl Check {
    /// Counts a row with id `id`.
    pub fn row(&mut self, id: i64) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(id as u64);
    }

    /// Counts a person and their addresses.
    pub fn person(&mut self, p: &Person, addresses: &[Address]) {
        self.row(p.id.wrapping_mul(1_000_003));
        for a in addresses {
            if a.person_id != p.id {
                self.sum = self.sum.wrapping_add(1 << 40);
            }
            self.items += 1;
            self.sum = self.sum.wrapping_add(a.id as u64);
        }
    }

    fn add(&mut self, other: Check) {
        self.rows += other.rows;
        self.items += other.items;
        self.sum = self.sum.wrapping_add(other.sum);
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.rows, self.items, self.sum)
    }
}

/// One side of the comparison.
pub trait Side {
    /// Inserts `users` in one transaction, setting their ids.
    fn insert_users(&mut self, users: &mut [User]) -> Result<()>;
    /// Inserts `students` in one transaction, setting their ids.
    fn insert_students(&mut self, students: &mut [Student]) -> Result<()>;
    /// Inserts persons and their addresses in one transaction.
    fn insert_persons(&mut self, persons: &mut [(Person, Vec<Address>)]) -> Result<()>;
    /// Reads the users with primary keys `ids`, in one read transaction.
    fn users_by_id(&mut self, ids: &[i64]) -> Result<Check>;
    /// Reads the first user with each username, in one read transaction.
    fn users_by_username(&mut self, names: &[String]) -> Result<Check>;
    /// Counts the users whose email ends with `suffix`.
    fn count_email_suffix(&mut self, suffix: &str) -> Result<u64>;
    /// Reads the students with `gpa > bound`.
    fn students_above(&mut self, bound: f64) -> Result<Check>;
    /// Reads every person with their addresses, in one call.
    fn persons_with_addresses(&mut self) -> Result<Check>;
    /// Inserts `posts` in one transaction, setting their ids.
    fn insert_posts(&mut self, posts: &mut [Post]) -> Result<()>;
    /// Per author: the number of posts and their average views.
    fn posts_per_author(&mut self) -> Result<Check>;
    /// The addresses of the persons named `name`, each with its person.
    fn addresses_of_named(&mut self, name: &str) -> Result<Check>;
    /// Counts the users whose username contains `needle`, ignoring case.
    fn count_username_icontains(&mut self, needle: &str) -> Result<u64>;
    /// Page `page` (from 1) of [`PER_PAGE`] users by username, and the
    /// total: rows and ids in `Check`, the total in `items`.
    fn users_page(&mut self, page: usize) -> Result<Check>;
}

/// Counts one group of the group-by: its key, its count, its average.
pub fn group(c: &mut Check, author: i64, count: u64, avg: Option<f64>) {
    c.row(author);
    c.items += count;
    c.sum = c
        .sum
        .wrapping_add((avg.unwrap_or(-1.0) * 1000.0).round() as i64 as u64);
}

/// Inserts rows `1..=count` made by `make`, [`ROWS_PER_TXN`] a transaction.
fn insert_all<T>(
    count: u64,
    make: impl Fn(u64) -> T,
    mut insert: impl FnMut(&mut [T]) -> Result<()>,
) -> Result<()> {
    let mut i = 1;
    while i <= count {
        let end = (i + ROWS_PER_TXN).min(count + 1);
        let mut batch: Vec<T> = (i..end).map(&make).collect();
        insert(&mut batch)?;
        i = end;
    }
    Ok(())
}

/// Runs the ORM workloads on `side`, writing each figure to `out`.
pub fn run(side: &mut dyn Side, p: OrmParams, out: &mut Out) -> Result<()> {
    // 1. Insert users.
    let t = Instant::now();
    insert_all(p.users, user, |b| side.insert_users(b))?;
    out.rate("insert_users", p.users, t.elapsed());

    // 2. Get by primary key.
    let mut rng = Rng::new(LOOKUP_SEED);
    let ids: Vec<i64> = (0..p.lookups)
        .map(|_| rng.below(p.users) as i64 + 1)
        .collect();
    let t = Instant::now();
    let mut check = Check::default();
    for chunk in ids.chunks(LOOKUPS_PER_TXN) {
        check.add(side.users_by_id(chunk)?);
    }
    out.rate("get_by_pk", p.lookups, t.elapsed());
    if check.rows != p.lookups {
        fail!(
            "get by primary key found {} of {} users",
            check.rows,
            p.lookups
        );
    }
    out.put("check.get_by_pk", check);

    // 3. First by unique username.
    let names: Vec<String> = (0..p.lookups)
        .map(|_| user(rng.below(p.users) + 1).username)
        .collect();
    let t = Instant::now();
    let mut check = Check::default();
    for chunk in names.chunks(LOOKUPS_PER_TXN) {
        check.add(side.users_by_username(chunk)?);
    }
    out.rate("first_by_username", p.lookups, t.elapsed());
    if check.rows != p.lookups {
        fail!(
            "first by username found {} of {} users",
            check.rows,
            p.lookups
        );
    }
    out.put("check.first_by_username", check);

    // 4. Count of users whose email ends with a domain.
    let expected = (1..=p.users)
        .filter(|&i| user(i).email.ends_with(DOMAIN))
        .count() as u64;
    let t = Instant::now();
    for _ in 0..p.count_queries {
        let n = side.count_email_suffix(DOMAIN)?;
        if n != expected {
            fail!("counted {n} users in {DOMAIN}, expected {expected}");
        }
    }
    out.rate("count_email_domain", p.count_queries, t.elapsed());
    out.put("check.count_email_domain", expected);

    // 5. Students with gpa > 3.5.
    let t = Instant::now();
    insert_all(p.students, student, |b| side.insert_students(b))?;
    out.rate("insert_students", p.students, t.elapsed());
    let expected = (1..=p.students)
        .filter(|&i| student(i).gpa > GPA_BOUND)
        .count() as u64;
    let t = Instant::now();
    let mut check = Check::default();
    for _ in 0..p.gpa_queries {
        check = side.students_above(GPA_BOUND)?;
        if check.rows != expected {
            fail!(
                "{} students above {GPA_BOUND}, expected {expected}",
                check.rows
            );
        }
    }
    out.rate("gpa_range", p.gpa_queries, t.elapsed());
    out.put("gpa_range_rows", expected);
    out.put("check.gpa_range", check);

    // 6. Persons with their addresses, eagerly.
    let t = Instant::now();
    let mut i = 1;
    while i <= p.persons {
        let end = (i + 100).min(p.persons + 1);
        let mut batch: Vec<_> = (i..end).map(person).collect();
        side.insert_persons(&mut batch)?;
        i = end;
    }
    out.rate("insert_persons", p.persons, t.elapsed());
    let t = Instant::now();
    let mut check = Check::default();
    for _ in 0..p.eager_queries {
        check = side.persons_with_addresses()?;
        if check.rows != p.persons || check.items != p.persons * ADDRESSES_PER_PERSON {
            fail!(
                "eager load found {} persons and {} addresses",
                check.rows,
                check.items
            );
        }
    }
    out.rate("eager_persons", p.eager_queries, t.elapsed());
    out.put("check.eager_persons", check);

    // 7. Posts per author.
    let t = Instant::now();
    insert_all(p.posts, post, |b| side.insert_posts(b))?;
    out.rate("insert_posts", p.posts, t.elapsed());
    let t = Instant::now();
    let mut check = Check::default();
    for _ in 0..p.group_queries {
        check = side.posts_per_author()?;
        if check.items != p.posts {
            fail!("the groups count {} posts of {}", check.items, p.posts);
        }
    }
    out.rate("group_by_author", p.group_queries, t.elapsed());
    out.put("check.group_by_author", check);

    // 8. A join with a filter on the parent.
    let t = Instant::now();
    let mut check = Check::default();
    for q in 0..p.join_queries {
        let name = format!("person{}", rng.below(p.persons) + 1);
        let c = side.addresses_of_named(&name)?;
        if c.rows != ADDRESSES_PER_PERSON {
            fail!("join {q}: {} addresses of {name}", c.rows);
        }
        check.add(c);
    }
    out.rate("join_parent_filter", p.join_queries, t.elapsed());
    out.put("check.join_parent_filter", check);

    // 9. A case-insensitive search.
    let expected = (1..=p.users)
        .filter(|&i| {
            user(i)
                .username
                .to_lowercase()
                .contains(&NEEDLE.to_lowercase())
        })
        .count() as u64;
    let t = Instant::now();
    for _ in 0..p.search_queries {
        let n = side.count_username_icontains(NEEDLE)?;
        if n != expected {
            fail!("found {n} usernames containing {NEEDLE}, expected {expected}");
        }
    }
    out.rate("icontains_search", p.search_queries, t.elapsed());
    out.put("check.icontains_search", expected);

    // 10. Pages of a listing: the first pages, as a listing is read.
    let t = Instant::now();
    let mut check = Check::default();
    for q in 0..p.pages {
        let page = (q % 50) as usize + 1;
        let c = side.users_page(page)?;
        if c.rows != PER_PAGE as u64 || c.items != p.users {
            fail!("page {page}: {} rows of {} users", c.rows, c.items);
        }
        check.add(c);
    }
    out.rate("paginate_users", p.pages, t.elapsed());
    out.put("check.paginate_users", check);
    Ok(())
}
