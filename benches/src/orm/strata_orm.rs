//! The ORM side: Strata's ORM with `Durability::Full` and default options,
//! or on an etcd cluster (`connect`; `examples/orm_etcd.rs` runs it).

use super::{Check, PER_PAGE, Post, Side, group};
use crate::Result;
use std::path::Path;
use strata::{Database, TextColumn, count};
use strata_tests::models::{Address, Person, Student, User};

/// Strata's ORM over a fresh database.
pub struct StrataOrm {
    db: Database,
    /// Rows added per session: all of a batch on the file; on etcd a
    /// tenth, so that a commit stays within the cluster's 1,024
    /// operations per transaction.
    per_session: usize,
}

impl StrataOrm {
    /// Opens `orm.strata` in `dir` and registers the models.
    pub fn open(dir: &Path) -> Result<StrataOrm> {
        StrataOrm::over(Database::open(dir.join("orm.strata"))?, usize::MAX)
    }

    /// Connects to the etcd cluster `url` names and registers the models.
    pub fn connect(url: &str) -> Result<StrataOrm> {
        StrataOrm::over(Database::connect(url)?, 100)
    }

    fn over(db: Database, per_session: usize) -> Result<StrataOrm> {
        db.register::<User>()?;
        db.register::<Student>()?;
        db.register::<Person>()?;
        db.register::<Address>()?;
        db.register::<Post>()?;
        Ok(StrataOrm { db, per_session })
    }
}

impl Side for StrataOrm {
    fn insert_users(&mut self, users: &mut [User]) -> Result<()> {
        for batch in users.chunks_mut(self.per_session) {
            let mut s = self.db.session()?;
            s.add_all(batch)?;
            s.commit()?;
        }
        Ok(())
    }

    fn insert_students(&mut self, students: &mut [Student]) -> Result<()> {
        for batch in students.chunks_mut(self.per_session) {
            let mut s = self.db.session()?;
            s.add_all(batch)?;
            s.commit()?;
        }
        Ok(())
    }

    fn insert_persons(&mut self, persons: &mut [(Person, Vec<Address>)]) -> Result<()> {
        for batch in persons.chunks_mut(self.per_session / 4 + 1) {
            let mut s = self.db.session()?;
            for (p, addresses) in batch {
                s.add(p)?;
                for a in addresses {
                    a.person_id = p.id;
                    s.add(a)?;
                }
            }
            s.commit()?;
        }
        Ok(())
    }

    fn users_by_id(&mut self, ids: &[i64]) -> Result<Check> {
        let s = self.db.read_session()?;
        let mut c = Check::default();
        for &id in ids {
            if let Some(u) = s.get::<User>(id)? {
                c.row(u.id);
            }
        }
        s.commit()?;
        Ok(c)
    }

    fn users_by_username(&mut self, names: &[String]) -> Result<Check> {
        let s = self.db.read_session()?;
        let mut c = Check::default();
        for name in names {
            let found = s
                .query::<User>()
                .filter(User::username.eq(name.as_str()))
                .first()?;
            if let Some(u) = found {
                c.row(u.id);
            }
        }
        s.commit()?;
        Ok(c)
    }

    fn count_email_suffix(&mut self, suffix: &str) -> Result<u64> {
        let s = self.db.read_session()?;
        let n = s
            .query::<User>()
            .filter(User::email.ends_with(suffix))
            .count()?;
        s.commit()?;
        Ok(n)
    }

    fn students_above(&mut self, bound: f64) -> Result<Check> {
        let s = self.db.read_session()?;
        let rows = s.query::<Student>().filter(Student::gpa.gt(bound)).all()?;
        s.commit()?;
        let mut c = Check::default();
        for st in &rows {
            c.row(st.id);
        }
        Ok(c)
    }

    fn persons_with_addresses(&mut self) -> Result<Check> {
        let s = self.db.read_session()?;
        let rows = s.query::<Person>().all_with(Person::addresses)?;
        s.commit()?;
        let mut c = Check::default();
        for (p, addresses) in &rows {
            c.person(p, addresses);
        }
        Ok(c)
    }

    fn insert_posts(&mut self, posts: &mut [Post]) -> Result<()> {
        let mut s = self.db.session()?;
        s.add_all(posts)?;
        s.commit()?;
        Ok(())
    }

    fn posts_per_author(&mut self) -> Result<Check> {
        let s = self.db.read_session()?;
        let groups = s.query::<Post>().group_by(Post::author_id).aggregate((
            Post::author_id,
            count(),
            Post::views.avg(),
        ))?;
        s.commit()?;
        let mut c = Check::default();
        for (author, n, avg) in groups {
            group(&mut c, author, n, avg);
        }
        Ok(c)
    }

    fn addresses_of_named(&mut self, name: &str) -> Result<Check> {
        let s = self.db.read_session()?;
        let pairs = s
            .query::<Address>()
            .join(Address::person)
            .filter(Person::name.eq(name))
            .all()?;
        s.commit()?;
        let mut c = Check::default();
        for (a, p) in &pairs {
            c.row(a.id + p.id);
        }
        Ok(c)
    }

    fn count_username_icontains(&mut self, needle: &str) -> Result<u64> {
        let s = self.db.read_session()?;
        let n = s
            .query::<User>()
            .filter(User::username.icontains(needle))
            .count()?;
        s.commit()?;
        Ok(n)
    }

    fn users_page(&mut self, page: usize) -> Result<Check> {
        let s = self.db.read_session()?;
        let p = s
            .query::<User>()
            .order_by(User::username)
            .paginate(page, PER_PAGE)?;
        s.commit()?;
        let mut c = Check::default();
        for u in &p.items {
            c.row(u.id);
        }
        c.items = p.total;
        Ok(c)
    }
}
