//! Relationships: one-to-many with a backref, one-to-one, many-to-many
//! with link and unlink; referential integrity on add and update; delete
//! rules (restrict, cascade, set null); and the three loading strategies,
//! with eager loading of 1,000 parents shown by the scan counter to take
//! a bounded number of index passes.

use serde::{Deserialize, Serialize};
use strata::{Database, Error, Model};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(display = "name")]
#[strata(has_many(addresses = Address, fk = person_id, backref = person, on_delete = cascade))]
#[strata(has_many(cars = Car, fk = owner_id, backref = owner, on_delete = set_null))]
#[strata(has_one(passport = Passport, fk = holder_id, backref = holder))]
struct Person {
    #[strata(primary_key)]
    id: i64,
    name: String,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Address {
    #[strata(primary_key)]
    id: i64,
    email: String,
    #[strata(foreign_key = Person)]
    person_id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Car {
    #[strata(primary_key)]
    id: i64,
    plate: String,
    #[strata(foreign_key = Person)]
    owner_id: Option<i64>,
}

/// One-to-one: the foreign key is unique. No delete rule: restrict.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Passport {
    #[strata(primary_key)]
    id: i64,
    number: String,
    #[strata(unique, foreign_key = Person)]
    holder_id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(display = "title")]
#[strata(many_to_many(tags = Tag, through = "page_tags", backref = pages))]
struct Page {
    #[strata(primary_key)]
    id: i64,
    title: String,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(display = "name")]
struct Tag {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique)]
    name: String,
}

struct TempDb {
    dir: std::path::PathBuf,
    db: Database,
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn open(tag: &str) -> TempDb {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "strata-rel-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let opts = strata::engine::Options {
        log_preallocate: 0,
        ..Default::default()
    };
    let db = Database::open_with(dir.join("db"), opts).unwrap();
    TempDb { dir, db }
}

fn person(name: &str) -> Person {
    Person {
        id: 0,
        name: name.into(),
    }
}

fn address(email: &str, person_id: i64) -> Address {
    Address {
        id: 0,
        email: email.into(),
        person_id,
    }
}

#[test]
fn one_to_many_in_both_directions() {
    let t = open("o2m");
    let mut s = t.db.session().unwrap();
    let (mut ann, mut bob) = (person("Ann"), person("Bob"));
    s.add(&mut ann).unwrap();
    s.add(&mut bob).unwrap();
    for (email, p) in [
        ("a1", ann.id),
        ("b1", bob.id),
        ("a2", ann.id),
        ("a3", ann.id),
    ] {
        s.add(&mut address(email, p)).unwrap();
    }
    s.commit().unwrap();

    let s = t.db.read_session().unwrap();
    let emails = |v: Vec<Address>| v.into_iter().map(|a| a.email).collect::<Vec<_>>();
    assert_eq!(
        emails(Person::addresses.load(&s, &ann).unwrap()),
        ["a1", "a2", "a3"]
    );
    assert_eq!(emails(Person::addresses.load(&s, &bob).unwrap()), ["b1"]);
    let a2 = s
        .query::<Address>()
        .filter(Address::email.eq("a2"))
        .one()
        .unwrap();
    assert_eq!(Address::person.load(&s, &a2).unwrap(), Some(ann.clone()));
    // Dynamic: a query to refine further.
    let q = Person::addresses.query(&s, &ann);
    assert_eq!(q.count().unwrap(), 3);
    let later = Person::addresses
        .query(&s, &ann)
        .filter(Address::email.ge("a2"))
        .order_by(Address::email.desc());
    assert_eq!(emails(later.all().unwrap()), ["a3", "a2"]);
    // Eager: the whole result at once.
    let eager = s
        .query::<Person>()
        .order_by(Person::name)
        .all_with(Person::addresses)
        .unwrap();
    assert_eq!(eager.len(), 2);
    assert_eq!(eager[0].0, ann);
    assert_eq!(emails(eager[0].1.clone()), ["a1", "a2", "a3"]);
    assert_eq!(emails(eager[1].1.clone()), ["b1"]);
    // And the backref, eagerly.
    let all = s.query::<Address>().all_with(Address::person).unwrap();
    assert!(
        all.iter()
            .all(|(a, p)| p.as_ref().map(|p| p.id) == Some(a.person_id))
    );
}

#[test]
fn foreign_keys_must_name_a_row() {
    let t = open("fk");
    let mut s = t.db.session().unwrap();
    let mut ann = person("Ann");
    s.add(&mut ann).unwrap();
    match s.add(&mut address("x", ann.id + 100)) {
        Err(Error::ForeignKeyViolation {
            model,
            column,
            parent,
            ..
        }) => {
            assert_eq!((model, column, parent), ("Address", "person_id", "person"));
        }
        other => panic!("expected a foreign key violation, got {other:?}"),
    }
    let mut a = address("y", ann.id);
    s.add(&mut a).unwrap();
    a.person_id = 12345;
    assert!(matches!(
        s.update(&a),
        Err(Error::ForeignKeyViolation { .. })
    ));
    // A null foreign key names nothing, and is fine.
    s.add(&mut Car {
        id: 0,
        plate: "P".into(),
        owner_id: None,
    })
    .unwrap();
    s.commit().unwrap();
    assert!(t.db.check().is_ok());
}

#[test]
fn delete_rules_restrict_cascade_and_set_null() {
    let t = open("rules");
    let mut s = t.db.session().unwrap();
    let mut ann = person("Ann");
    s.add(&mut ann).unwrap();
    s.add(&mut address("a1", ann.id)).unwrap();
    s.add(&mut address("a2", ann.id)).unwrap();
    let mut car = Car {
        id: 0,
        plate: "CAR".into(),
        owner_id: Some(ann.id),
    };
    s.add(&mut car).unwrap();
    let mut pass = Passport {
        id: 0,
        number: "N1".into(),
        holder_id: ann.id,
    };
    s.add(&mut pass).unwrap();
    s.commit().unwrap();

    // The passport has no rule: restrict, and nothing changes.
    let mut s = t.db.session().unwrap();
    match s.delete(&ann) {
        Err(Error::Restricted {
            model,
            child_table,
            column,
            ..
        }) => {
            assert_eq!(
                (model, child_table.as_str(), column.as_str()),
                ("Person", "passport", "holder_id")
            );
        }
        other => panic!("expected restrict, got {other:?}"),
    }
    assert_eq!(
        s.query::<Address>().count().unwrap(),
        2,
        "nothing deleted by a refused delete"
    );
    // Without the passport, the delete cascades to addresses and clears
    // the car's owner.
    assert!(s.delete(&pass).unwrap());
    assert!(s.delete(&ann).unwrap());
    s.commit().unwrap();
    let s = t.db.read_session().unwrap();
    assert_eq!(s.query::<Address>().count().unwrap(), 0);
    let car = s.get::<Car>(car.id).unwrap().unwrap();
    assert_eq!(car.owner_id, None);
    assert!(
        s.query::<Car>()
            .filter(Car::owner_id.is_null())
            .exists()
            .unwrap()
    );
    drop(s);
    assert_eq!(t.db.check().unwrap(), 1, "one row left: the car");
}

#[test]
fn one_to_one() {
    let t = open("o2o");
    let mut s = t.db.session().unwrap();
    let (mut ann, mut bob) = (person("Ann"), person("Bob"));
    s.add(&mut ann).unwrap();
    s.add(&mut bob).unwrap();
    let mut p = Passport {
        id: 0,
        number: "N1".into(),
        holder_id: ann.id,
    };
    s.add(&mut p).unwrap();
    // A second passport for Ann breaks the unique foreign key.
    let second = s.add(&mut Passport {
        id: 0,
        number: "N2".into(),
        holder_id: ann.id,
    });
    assert!(matches!(
        second,
        Err(Error::UniqueViolation {
            column: "holder_id",
            ..
        })
    ));
    s.commit().unwrap();
    let s = t.db.read_session().unwrap();
    assert_eq!(
        Person::passport.load(&s, &ann).unwrap().map(|p| p.number),
        Some("N1".into())
    );
    assert_eq!(Person::passport.load(&s, &bob).unwrap(), None);
    assert_eq!(Passport::holder.load(&s, &p).unwrap(), Some(ann.clone()));
    let eager = s
        .query::<Person>()
        .order_by(Person::id)
        .all_with(Person::passport)
        .unwrap();
    assert_eq!(
        eager.iter().map(|(_, p)| p.is_some()).collect::<Vec<_>>(),
        [true, false]
    );
}

#[test]
fn many_to_many_both_ways_with_link_and_unlink() {
    let t = open("m2m");
    let mut s = t.db.session().unwrap();
    let mut pages: Vec<Page> = (0..3)
        .map(|i| Page {
            id: 0,
            title: format!("p{i}"),
        })
        .collect();
    let mut tags: Vec<Tag> = ["x", "y", "z"]
        .iter()
        .map(|n| Tag {
            id: 0,
            name: n.to_string(),
        })
        .collect();
    s.add_all(&mut pages).unwrap();
    s.add_all(&mut tags).unwrap();
    for (p, t) in [(0, 0), (0, 1), (1, 1), (2, 0), (2, 1), (2, 2)] {
        Page::tags.link(&mut s, &pages[p], &tags[t]).unwrap();
    }
    // Linking twice is harmless; linking a row that is not stored is not.
    Page::tags.link(&mut s, &pages[0], &tags[0]).unwrap();
    let ghost = Tag {
        id: 999,
        name: "ghost".into(),
    };
    assert!(matches!(
        Page::tags.link(&mut s, &pages[0], &ghost),
        Err(Error::NotFound { .. })
    ));
    s.commit().unwrap();

    let s = t.db.read_session().unwrap();
    let names = |v: Vec<Tag>| v.into_iter().map(|t| t.name).collect::<Vec<_>>();
    let titles = |v: Vec<Page>| v.into_iter().map(|p| p.title).collect::<Vec<_>>();
    assert_eq!(names(Page::tags.load(&s, &pages[0]).unwrap()), ["x", "y"]);
    assert_eq!(
        names(Page::tags.load(&s, &pages[2]).unwrap()),
        ["x", "y", "z"]
    );
    assert_eq!(
        titles(Tag::pages.load(&s, &tags[1]).unwrap()),
        ["p0", "p1", "p2"]
    );
    assert_eq!(titles(Tag::pages.load(&s, &tags[2]).unwrap()), ["p2"]);
    let q = Tag::pages
        .query(&s, &tags[0])
        .unwrap()
        .filter(Page::title.ne("p0"));
    assert_eq!(titles(q.all().unwrap()), ["p2"]);
    let eager = s.query::<Page>().all_with(Page::tags).unwrap();
    assert_eq!(
        eager.iter().map(|(_, t)| t.len()).collect::<Vec<_>>(),
        [2, 1, 3]
    );
    drop(s);

    let mut s = t.db.session().unwrap();
    assert!(Page::tags.unlink(&mut s, &pages[2], &tags[1]).unwrap());
    assert!(
        !Tag::pages.unlink(&mut s, &tags[1], &pages[2]).unwrap(),
        "already unlinked, seen from the other side"
    );
    // Deleting a tag removes its links; deleting a page removes its links.
    assert!(s.delete(&tags[0]).unwrap());
    assert!(s.delete(&pages[1]).unwrap());
    s.commit().unwrap();
    let s = t.db.read_session().unwrap();
    assert_eq!(names(Page::tags.load(&s, &pages[0]).unwrap()), ["y"]);
    assert_eq!(names(Page::tags.load(&s, &pages[2]).unwrap()), ["z"]);
    assert_eq!(titles(Tag::pages.load(&s, &tags[1]).unwrap()), ["p0"]);
    drop(s);
    t.db.check().unwrap();
}

#[test]
fn eager_loading_a_thousand_parents_takes_a_bounded_number_of_passes() {
    let t = open("eager");
    let mut s = t.db.session().unwrap();
    let mut people: Vec<Person> = (0..1000).map(|i| person(&format!("p{i:04}"))).collect();
    s.add_all(&mut people).unwrap();
    for (i, p) in people.iter().enumerate() {
        for j in 0..(i % 4) {
            s.add(&mut address(&format!("{i}-{j}"), p.id)).unwrap();
        }
    }
    s.commit().unwrap();

    let s = t.db.read_session().unwrap();
    let before = t.db.stats();
    let eager = s.query::<Person>().all_with(Person::addresses).unwrap();
    let after = t.db.stats();
    assert_eq!(eager.len(), 1000);
    for (i, (p, a)) in eager.iter().enumerate() {
        assert_eq!(p.name, format!("p{i:04}"));
        assert_eq!(a.len(), i % 4);
        assert!(a.iter().all(|a| a.person_id == p.id));
    }
    // One scan of the people, one of the foreign-key index, and, as a
    // read session loads this many children in one pass of their table,
    // one count of that table's range and the pass itself: not 1,000.
    assert_eq!(after.scans - before.scans, 4, "eager load scans");
    // Loading on access, by contrast, takes one index scan per parent.
    let before = t.db.stats();
    let lazy: usize = eager
        .iter()
        .map(|(p, _)| Person::addresses.load(&s, p).unwrap().len())
        .sum();
    assert_eq!(lazy, (0..1000).map(|i| i % 4).sum::<usize>());
    assert_eq!(t.db.stats().scans - before.scans, 1000);
}

/// A cascade three levels deep, blocked at the bottom by a restricting
/// child: the delete is refused before anything is deleted.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(has_many(teams = Team, fk = org_id, on_delete = cascade))]
struct Org {
    #[strata(primary_key)]
    id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(has_many(members = Member, fk = team_id, on_delete = cascade))]
struct Team {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = Org)]
    org_id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Member {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = Team)]
    team_id: i64,
}

/// Refers to a member with no rule declared: restricts deleting it.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Badge {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = Member)]
    member_id: i64,
}

#[test]
fn a_cascade_blocked_deep_down_deletes_nothing() {
    let t = open("deep");
    let mut s = t.db.session().unwrap();
    let mut org = Org { id: 0 };
    s.add(&mut org).unwrap();
    let mut teams = vec![
        Team {
            id: 0,
            org_id: org.id,
        },
        Team {
            id: 0,
            org_id: org.id,
        },
    ];
    s.add_all(&mut teams).unwrap();
    let mut members: Vec<Member> = teams
        .iter()
        .flat_map(|t| {
            [
                Member {
                    id: 0,
                    team_id: t.id,
                },
                Member {
                    id: 0,
                    team_id: t.id,
                },
            ]
        })
        .collect();
    s.add_all(&mut members).unwrap();
    let mut badge = Badge {
        id: 0,
        member_id: members[3].id,
    };
    s.add(&mut badge).unwrap();
    s.commit().unwrap();

    let mut s = t.db.session().unwrap();
    match s.delete(&org) {
        Err(Error::Restricted {
            model: "Member",
            child_table,
            ..
        }) => assert_eq!(child_table, "badge"),
        other => panic!("expected the badge to restrict, got {other:?}"),
    }
    assert_eq!(s.query::<Team>().count().unwrap(), 2, "nothing deleted");
    assert_eq!(s.query::<Member>().count().unwrap(), 4, "nothing deleted");
    // Without the badge the whole tree goes.
    s.delete(&badge).unwrap();
    assert!(s.delete(&org).unwrap());
    assert_eq!(
        s.query::<Team>().count().unwrap() + s.query::<Member>().count().unwrap(),
        0
    );
    s.commit().unwrap();
    t.db.check().unwrap();
}

/// A blog's user with both posts and comments: deleting the user names
/// every blocking relationship, in the order the model declares them, the
/// same in every run (the stored schemas are a hash map underneath).
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users")]
#[strata(has_many(posts = Post, fk = author_id, backref = author))]
#[strata(has_many(comments = Comment, fk = author_id, backref = author))]
struct User {
    #[strata(primary_key)]
    id: i64,
    name: String,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "posts")]
struct Post {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = User)]
    author_id: i64,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "comments")]
struct Comment {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = User)]
    author_id: i64,
}

/// Refers to a user without the user declaring it: named after the
/// declared ones.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "a_likes")]
struct Like {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = User)]
    user_id: i64,
}

#[test]
fn restricted_names_every_blocking_relationship_in_declaration_order() {
    for run in 0..12 {
        let t = open(&format!("restrict-order-{run}"));
        let mut s = t.db.session().unwrap();
        let mut ann = User {
            id: 0,
            name: "ann".into(),
        };
        s.add(&mut ann).unwrap();
        // Tables first used in an order unlike the declarations.
        if run % 2 == 0 {
            s.add(&mut Like {
                id: 0,
                user_id: ann.id,
            })
            .unwrap();
        }
        s.add(&mut Comment {
            id: 0,
            author_id: ann.id,
        })
        .unwrap();
        s.add(&mut Post {
            id: 0,
            author_id: ann.id,
        })
        .unwrap();
        s.commit().unwrap();
        let mut s = t.db.session().unwrap();
        let err = s.delete(&ann).unwrap_err();
        let mut want = vec![
            ("posts".to_string(), "author_id".to_string()),
            ("comments".to_string(), "author_id".to_string()),
        ];
        if run % 2 == 0 {
            want.push(("a_likes".to_string(), "user_id".to_string()));
        }
        match &err {
            Error::Restricted {
                model: "User",
                child_table,
                column,
                children,
            } => {
                assert_eq!((child_table, column), (&want[0].0, &want[0].1), "run {run}");
                assert_eq!(children, &want, "run {run}");
            }
            other => panic!("expected restrict, got {other:?}"),
        }
        assert_eq!(
            err.to_string(),
            if run % 2 == 0 {
                "cannot delete the User: rows of posts (author_id), comments (author_id) and a_likes (user_id) refer to it"
            } else {
                "cannot delete the User: rows of posts (author_id) and comments (author_id) refer to it"
            }
        );
    }
}

/// How many random cases the eager-load property runs: 16, or
/// `STRATA_PROPTEST_CASES`.
fn proptest_cases() -> u32 {
    std::env::var("STRATA_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
}

/// One random world for the eager-load property: persons, each address's
/// owner (an index into the persons), which persons hold a passport, the
/// page-tag links, and the lists of parents to load (indexes, repeats
/// allowed, in any order).
#[derive(Debug, Clone)]
struct World {
    persons: usize,
    addresses: Vec<usize>,
    passports: Vec<bool>,
    pages: usize,
    tags: usize,
    links: Vec<(usize, usize)>,
    loads: Vec<Vec<usize>>,
}

fn world() -> impl proptest::strategy::Strategy<Value = World> {
    use proptest::prelude::*;
    (1usize..40, 1usize..8, 1usize..8).prop_flat_map(|(persons, pages, tags)| {
        (
            // Up to about 7 addresses a person, so that both the point
            // reads (under 64 children) and the one-pass read are taken.
            proptest::collection::vec(0..persons, 0..persons * 7),
            proptest::collection::vec(any::<bool>(), persons),
            proptest::collection::vec((0..pages, 0..tags), 0..pages * tags),
            proptest::collection::vec(proptest::collection::vec(0..persons, 0..persons * 2), 1..4),
        )
            .prop_map(move |(addresses, passports, links, loads)| World {
                persons,
                addresses,
                passports,
                pages,
                tags,
                links,
                loads,
            })
    })
}

/// Sorted by key, for comparing what two ways of loading found.
fn by_id<M: Model>(mut v: Vec<M>) -> Vec<M> {
    v.sort_by_key(|m| m.key_value().to_string());
    v
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(proptest_cases()))]

    /// Eager loading (`load_all` over many parents at once: one pass of
    /// the foreign-key index, then one pass of the children's table or a
    /// point read each) finds, for every parent of any list, repeats and
    /// all, exactly what loading that parent alone finds, in read and
    /// read-write sessions, for one-to-many, one-to-one and many-to-many.
    #[test]
    fn eager_loads_agree_with_loading_one_parent_at_a_time(w in world()) {
        use proptest::prop_assert_eq;
        use strata::Relation;
        let t = open("eager-prop");
        let mut s = t.db.session().unwrap();
        let mut people: Vec<Person> = (0..w.persons).map(|i| person(&format!("p{i}"))).collect();
        s.add_all(&mut people).unwrap();
        for (j, &owner) in w.addresses.iter().enumerate() {
            s.add(&mut address(&format!("a{j}"), people[owner].id)).unwrap();
        }
        for (i, _) in w.passports.iter().enumerate().filter(|(_, has)| **has) {
            let mut p = Passport { id: 0, number: format!("n{i}"), holder_id: people[i].id };
            s.add(&mut p).unwrap();
        }
        let mut pages: Vec<Page> =
            (0..w.pages).map(|i| Page { id: 0, title: format!("t{i}") }).collect();
        let mut tags: Vec<Tag> =
            (0..w.tags).map(|i| Tag { id: 0, name: format!("g{i}") }).collect();
        s.add_all(&mut pages).unwrap();
        s.add_all(&mut tags).unwrap();
        for &(p, g) in &w.links {
            // Linking twice is allowed and links once.
            Page::tags.link(&mut s, &pages[p], &tags[g]).unwrap();
        }
        s.commit().unwrap();

        for snapshot in [true, false] {
            let s = if snapshot { t.db.read_session() } else { t.db.session() }.unwrap();
            for load in &w.loads {
                let parents: Vec<Person> = load.iter().map(|&i| people[i].clone()).collect();
                let many = Person::addresses.load_all(&s, &parents).unwrap();
                let one = Person::passport.load_all(&s, &parents).unwrap();
                prop_assert_eq!(many.len(), parents.len());
                prop_assert_eq!(one.len(), parents.len());
                for (k, p) in parents.iter().enumerate() {
                    prop_assert_eq!(
                        by_id(many[k].clone()),
                        by_id(Person::addresses.load(&s, p).unwrap())
                    );
                    prop_assert_eq!(&one[k], &Person::passport.load(&s, p).unwrap());
                }
                let pick: Vec<Page> =
                    load.iter().map(|&i| pages[i % w.pages].clone()).collect();
                let linked = Page::tags.load_all(&s, &pick).unwrap();
                for (k, p) in pick.iter().enumerate() {
                    prop_assert_eq!(by_id(linked[k].clone()), by_id(Page::tags.load(&s, p).unwrap()));
                }
            }
            // The whole table through the query, as the benchmark loads it.
            let eager = s.query::<Person>().all_with(Person::addresses).unwrap();
            let total: usize = eager.iter().map(|(_, a)| a.len()).sum();
            prop_assert_eq!(total, w.addresses.len());
        }
    }
}
