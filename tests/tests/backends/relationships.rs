//! Relationships on either store.

use serde::{Deserialize, Serialize};
use strata::{Model, Relation};
use strata_tests::TempDir;
use strata_tests::backend::Backend;
use strata_tests::models::{Address, Page, Person, Tag};

pub fn one_to_many_with_backref(b: Backend) {
    let dir = TempDir::new("conf-rel");
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    let mut john = Person {
        id: 0,
        name: "john".into(),
    };
    s.add(&mut john).unwrap();
    for e in ["a@x", "b@x", "c@x"] {
        let mut a = Address {
            id: 0,
            email: e.into(),
            person_id: john.id,
        };
        s.add(&mut a).unwrap();
    }
    s.commit().unwrap();
    let s = db.read_session().unwrap();
    let addrs = Person::addresses.load(&s, &john).unwrap();
    let emails: Vec<&str> = addrs.iter().map(|a| a.email.as_str()).collect();
    assert_eq!(emails, ["a@x", "b@x", "c@x"]);
    assert_eq!(
        Address::person.load(&s, &addrs[1]).unwrap(),
        Some(john.clone())
    );
    let dynamic = Person::addresses
        .query(&s, &john)
        .filter(Address::email.eq("b@x"))
        .all()
        .unwrap();
    assert_eq!(dynamic, vec![addrs[1].clone()]);
}

pub fn eager_loading_reads_each_table_once(b: Backend) {
    let dir = TempDir::new("conf-rel");
    let db = b.open(&dir);
    db.transaction(|s| {
        for i in 0..40 {
            let mut p = Person {
                id: 0,
                name: format!("p{i}"),
            };
            s.add(&mut p)?;
            for j in 0..(i % 3) {
                s.add(&mut Address {
                    id: 0,
                    email: format!("{i}-{j}@x"),
                    person_id: p.id,
                })?;
            }
        }
        Ok(())
    })
    .unwrap();
    let s = db.read_session().unwrap();
    let before = db.stats().scans;
    let all = s.query::<Person>().all_with(Person::addresses).unwrap();
    assert_eq!(db.stats().scans - before, 2, "the people, then the index");
    assert_eq!(all.len(), 40);
    for (p, addrs) in &all {
        let i: usize = p.name[1..].parse().unwrap();
        assert_eq!(addrs.len(), i % 3, "{}", p.name);
        assert!(addrs.iter().all(|a| a.person_id == p.id));
    }
}

/// A read session loads many children in one scan of their table (a merge
/// with the index's keys); a read-write session reads each by key. Both
/// give every parent its children, in the index's order, with children of
/// parents not loaded between them in the table, and a parent listed twice.
pub fn eager_loading_of_many_children_in_one_scan(b: Backend) {
    let dir = TempDir::new("conf-rel");
    let db = b.open(&dir);
    db.transaction(|s| {
        let mut ids = Vec::new();
        for i in 0..60 {
            let mut p = Person {
                id: 0,
                name: format!("p{i}"),
            };
            s.add(&mut p)?;
            ids.push(p.id);
        }
        // Round robin: a person's addresses are spread over the table.
        for j in 0..4 {
            for (i, &person_id) in ids.iter().enumerate() {
                s.add(&mut Address {
                    id: 0,
                    email: format!("{i}-{j}@x"),
                    person_id,
                })?;
            }
        }
        Ok(())
    })
    .unwrap();
    let load = |s: &strata::Session| {
        let mut people = s.query::<Person>().filter(Person::id.lt(41)).all().unwrap();
        people.push(people[3].clone());
        Person::addresses.load_all(s, &people).unwrap()
    };
    let before = db.stats().scans;
    let scanned = load(&db.read_session().unwrap());
    assert_eq!(
        db.stats().scans - before,
        4,
        "the people, the index, then the addresses counted and read in one pass"
    );
    let read = load(&db.session().unwrap());
    assert_eq!(scanned, read);
    assert_eq!(scanned.len(), 41);
    for (i, addrs) in scanned.iter().enumerate() {
        let i = if i == 40 { 3 } else { i };
        let emails: Vec<String> = addrs.iter().map(|a| a.email.clone()).collect();
        assert_eq!(
            emails,
            (0..4).map(|j| format!("{i}-{j}@x")).collect::<Vec<_>>()
        );
    }
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "holder")]
#[strata(has_one(passport = Passport, fk = holder_id, backref = holder, on_delete = cascade))]
pub struct Holder {
    #[strata(primary_key)]
    pub id: i64,
    pub name: String,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "passport")]
pub struct Passport {
    #[strata(primary_key)]
    pub id: i64,
    pub number: String,
    #[strata(unique, foreign_key = Holder)]
    pub holder_id: i64,
}

pub fn one_to_one(b: Backend) {
    let dir = TempDir::new("conf-rel");
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    let mut h = Holder {
        id: 0,
        name: "h".into(),
    };
    s.add(&mut h).unwrap();
    let mut p = Passport {
        id: 0,
        number: "N1".into(),
        holder_id: h.id,
    };
    s.add(&mut p).unwrap();
    let mut again = Passport {
        id: 0,
        number: "N2".into(),
        holder_id: h.id,
    };
    assert!(matches!(
        s.add(&mut again),
        Err(strata::Error::UniqueViolation { .. })
    ));
    s.commit().unwrap();
    let s = db.read_session().unwrap();
    assert_eq!(Holder::passport.load(&s, &h).unwrap(), Some(p.clone()));
    assert_eq!(Passport::holder.load(&s, &p).unwrap(), Some(h.clone()));
    drop(s);
    let mut s = db.session().unwrap();
    s.delete(&h).unwrap();
    s.commit().unwrap();
    let s = db.read_session().unwrap();
    assert_eq!(s.query::<Passport>().count().unwrap(), 0, "cascaded");
}

pub fn many_to_many_link_and_unlink(b: Backend) {
    let dir = TempDir::new("conf-rel");
    let db = b.open(&dir);
    let mut s = db.session().unwrap();
    let mut pages: Vec<Page> = (0..3)
        .map(|i| Page {
            id: 0,
            title: format!("page{i}"),
        })
        .collect();
    s.add_all(&mut pages).unwrap();
    let mut tags: Vec<Tag> = ["rust", "db"]
        .iter()
        .map(|n| Tag {
            id: 0,
            name: (*n).into(),
        })
        .collect();
    s.add_all(&mut tags).unwrap();
    Page::tags.link(&mut s, &pages[0], &tags[0]).unwrap();
    Page::tags.link(&mut s, &pages[0], &tags[1]).unwrap();
    Page::tags.link(&mut s, &pages[1], &tags[0]).unwrap();
    Page::tags.link(&mut s, &pages[1], &tags[0]).unwrap();
    s.commit().unwrap();
    let mut s = db.session().unwrap();
    assert_eq!(Page::tags.load(&s, &pages[0]).unwrap(), tags);
    assert_eq!(
        Tag::pages.load(&s, &tags[0]).unwrap(),
        vec![pages[0].clone(), pages[1].clone()]
    );
    assert!(Page::tags.unlink(&mut s, &pages[0], &tags[0]).unwrap());
    assert!(!Page::tags.unlink(&mut s, &pages[2], &tags[0]).unwrap());
    s.delete(&tags[1]).unwrap();
    s.commit().unwrap();
    let s = db.read_session().unwrap();
    assert!(Page::tags.load(&s, &pages[0]).unwrap().is_empty());
    assert_eq!(
        Tag::pages.load(&s, &tags[0]).unwrap(),
        vec![pages[1].clone()]
    );
    drop(s);
    assert_eq!(db.check().unwrap(), 4, "3 pages and 1 tag");
}
