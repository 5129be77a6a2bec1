//! The Flask-SQLAlchemy quickstart, slide by slide, in Strata.
//!
//! Run it with `cargo run --release -p strata --example quickstart`. It
//! starts a fresh database in `strata-quickstart.strata` (or the path
//! given as the first argument) and prints each step, in the seed's
//! Python on the left of `=>` where it helps, with what Strata returns.

use serde::{Deserialize, Serialize};
use std::io::Write;
use strata::{Database, Model, TextColumn};

/// `class User(db.Model)` with a unique username and email.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users", display = "username")]
pub struct User {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(unique, max_len = 80)]
    pub username: String,
    #[strata(unique, max_len = 120)]
    pub email: String,
}

/// `SELECT * FROM Students WHERE GPA > 3.5`: the seed's Students table,
/// with an indexed float column. The table is `students`, so the seed's
/// SQL runs as written through `strata sql` (SQL names ignore case). A
/// student number is text: "045628" keeps its leading zero. The number
/// and the major came after the name and the GPA, so they are `Option`s:
/// a file written before them opens as it is, its rows reading `None`.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "students", display = "name")]
pub struct Student {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(max_len = 50)]
    pub name: String,
    #[strata(max_len = 10)]
    pub student_number: Option<String>,
    #[strata(max_len = 50)]
    pub major: Option<String>,
    #[strata(index)]
    pub gpa: f64,
}

/// `addresses = db.relationship('Address', backref='person', lazy=True)`.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "person", display = "name")]
#[strata(has_many(addresses = Address, fk = person_id, backref = person, on_delete = cascade))]
pub struct Person {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(max_len = 50)]
    pub name: String,
}

/// `person_id = db.Column(db.Integer, db.ForeignKey('person.id'), nullable=False)`.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "address", display = "email")]
pub struct Address {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(max_len = 120)]
    pub email: String,
    #[strata(foreign_key = Person)]
    pub person_id: i64,
}

/// `tags = db.relationship('Tag', secondary=tags, backref=db.backref('pages'))`.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "page", display = "title")]
#[strata(many_to_many(tags = Tag, through = "tags", backref = pages))]
pub struct Page {
    #[strata(primary_key)]
    pub id: i64,
    pub title: String,
}

/// A tag of pages.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "tag", display = "name")]
pub struct Tag {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(unique)]
    pub name: String,
}

fn list<M: std::fmt::Display>(rows: &[M]) -> String {
    let items: Vec<String> = rows.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(", "))
}

fn user(name: &str, email: &str) -> User {
    User {
        id: 0,
        username: name.into(),
        email: email.into(),
    }
}

/// Walks through the seed on a fresh database at `path` (which must not
/// exist yet), writing each step to `out`.
pub fn run(path: &std::path::Path, out: &mut impl Write) -> Result<(), Box<dyn std::error::Error>> {
    if path.exists() {
        return Err(format!(
            "{} exists; the quickstart starts from a fresh file",
            path.display()
        )
        .into());
    }
    let db = Database::open(path)?;
    writeln!(out, "== Strata quickstart: the Flask-SQLAlchemy slides ==")?;

    writeln!(out, "\n-- Users: add admin, peter and guest, then commit")?;
    let mut s = db.session()?;
    let mut users = [
        user("admin", "admin@example.com"),
        user("peter", "peter@example.org"),
        user("guest", "guest@example.com"),
    ];
    for u in &mut users {
        s.add(u)?;
        writeln!(out, "db.session.add({u})  => id {}", u.id)?;
    }
    s.commit()?;
    writeln!(out, "db.session.commit()")?;

    let s = db.read_session()?;
    writeln!(out, "\n-- Queries")?;
    writeln!(
        out,
        "User.query.all()  => {}",
        list(&s.query::<User>().all()?)
    )?;
    let admin = s
        .query::<User>()
        .filter(User::username.eq("admin"))
        .first()?;
    writeln!(
        out,
        "User.query.filter_by(username='admin').first()  => {}",
        admin.as_ref().map_or("None".into(), |u| u.to_string())
    )?;
    let peter = s
        .query::<User>()
        .filter(User::username.eq("peter"))
        .first()?
        .ok_or("peter is missing")?;
    writeln!(
        out,
        "peter = User.query.filter_by(username='peter').first()"
    )?;
    writeln!(out, "peter.id  => {}", peter.id)?;
    writeln!(out, "peter.email  => '{}'", peter.email)?;
    let missing = s
        .query::<User>()
        .filter(User::username.eq("missing"))
        .first()?;
    writeln!(
        out,
        "missing = User.query.filter_by(username='missing').first()"
    )?;
    writeln!(
        out,
        "missing is None  => {}",
        if missing.is_none() { "True" } else { "False" }
    )?;
    let q = s
        .query::<User>()
        .filter(User::email.ends_with("@example.com"));
    writeln!(
        out,
        "User.query.filter(User.email.endswith('@example.com')).all()  => {}",
        list(&q.all()?)
    )?;
    let q = s.query::<User>().order_by(User::username);
    writeln!(
        out,
        "User.query.order_by(User.username).all()  => {}",
        list(&q.all()?)
    )?;
    writeln!(
        out,
        "User.query.limit(1).all()  => {}",
        list(&s.query::<User>().limit(1).all()?)
    )?;
    writeln!(
        out,
        "User.query.get(1)  => {}",
        s.get::<User>(1)?.map_or("None".into(), |u| u.to_string())
    )?;
    let q = s.query::<User>().order_by(User::id.desc());
    writeln!(
        out,
        "User.query.order_by(User.id.desc()).all()  => {}",
        list(&q.all()?)
    )?;
    writeln!(out, "User.query.count()  => {}", s.query::<User>().count()?)?;
    drop(s);

    writeln!(
        out,
        "\n-- A unique column refuses a taken value, and the session goes on"
    )?;
    let mut s = db.session()?;
    match s.add(&mut user("peter", "another@example.org")) {
        Err(e) => writeln!(out, "add(User(username='peter', ...))  => error: {e}")?,
        Ok(()) => writeln!(
            out,
            "add(User(username='peter', ...))  => accepted (unexpected)"
        )?,
    }
    s.add(&mut user("mary", "mary@example.org"))?;
    s.commit()?;
    writeln!(
        out,
        "add(User(username='mary', ...)); commit()  => {} users",
        db.read_session()?.query::<User>().count()?
    )?;

    writeln!(out, "\n-- Students: SELECT * FROM Students WHERE GPA > 3.5")?;
    let mut s = db.session()?;
    // The seed's Students table, every column of it.
    for (name, number, major, gpa) in [
        ("Alice", "334322", "CS", 3.45),
        ("Bob", "546346", "Math", 3.23),
        ("Charlie", "045628", "CS", 2.75),
        ("Denise", "964389", "Art", 4.0),
    ] {
        s.add(&mut Student {
            id: 0,
            name: name.into(),
            student_number: Some(number.into()),
            major: Some(major.into()),
            gpa,
        })?;
    }
    s.commit()?;
    let s = db.read_session()?;
    let q = s
        .query::<Student>()
        .filter(Student::gpa.gt(3.5))
        .order_by(Student::gpa.desc());
    let found = q.all()?;
    writeln!(
        out,
        "Student.query.filter(Student.gpa > 3.5).order_by(Student.gpa.desc()).all()  => {}",
        list(&found)
    )?;
    for st in &found {
        writeln!(
            out,
            "  {} {} {} {}",
            st.name,
            st.student_number.as_deref().unwrap_or("-"),
            st.major.as_deref().unwrap_or("-"),
            st.gpa
        )?;
    }
    writeln!(out, "  plan: {}", q.explain())?;
    drop(s);

    writeln!(out, "\n-- Person and Address: one-to-many with a backref")?;
    let mut s = db.session()?;
    let mut john = Person {
        id: 0,
        name: "John".into(),
    };
    s.add(&mut john)?;
    for email in ["john@home.example", "john@work.example"] {
        s.add(&mut Address {
            id: 0,
            email: email.into(),
            person_id: john.id,
        })?;
    }
    match s.add(&mut Address {
        id: 0,
        email: "nobody@example.com".into(),
        person_id: 999,
    }) {
        Err(e) => writeln!(out, "Address(person_id=999)  => error: {e}")?,
        Ok(()) => writeln!(out, "Address(person_id=999)  => accepted (unexpected)")?,
    }
    s.commit()?;
    let s = db.read_session()?;
    let addresses = Person::addresses.load(&s, &john)?;
    writeln!(out, "john.addresses  => {}", list(&addresses))?;
    let owner = Address::person.load(&s, &addresses[0])?;
    writeln!(
        out,
        "john.addresses[0].person  => {}",
        owner.map_or("None".into(), |p| p.to_string())
    )?;
    let work = Person::addresses
        .query(&s, &john)
        .filter(Address::email.contains("work"))
        .all()?;
    writeln!(
        out,
        "john.addresses (dynamic).filter(email contains 'work')  => {}",
        list(&work)
    )?;
    let eager = s.query::<Person>().all_with(Person::addresses)?;
    for (p, a) in &eager {
        writeln!(
            out,
            "Person.query.options(joinedload(Person.addresses))  => {p}: {}",
            list(a)
        )?;
    }
    drop(s);

    writeln!(
        out,
        "\n-- Page and Tag: many-to-many through the `tags` table"
    )?;
    let mut s = db.session()?;
    let mut rust = Tag {
        id: 0,
        name: "rust".into(),
    };
    let mut db_tag = Tag {
        id: 0,
        name: "databases".into(),
    };
    s.add(&mut rust)?;
    s.add(&mut db_tag)?;
    let mut p1 = Page {
        id: 0,
        title: "Embedded storage".into(),
    };
    let mut p2 = Page {
        id: 0,
        title: "Ownership".into(),
    };
    s.add(&mut p1)?;
    s.add(&mut p2)?;
    Page::tags.link(&mut s, &p1, &rust)?;
    Page::tags.link(&mut s, &p1, &db_tag)?;
    Page::tags.link(&mut s, &p2, &rust)?;
    s.commit()?;
    let s = db.read_session()?;
    writeln!(out, "page1.tags  => {}", list(&Page::tags.load(&s, &p1)?))?;
    writeln!(out, "page2.tags  => {}", list(&Page::tags.load(&s, &p2)?))?;
    writeln!(out, "rust.pages  => {}", list(&Tag::pages.load(&s, &rust)?))?;
    writeln!(
        out,
        "databases.pages  => {}",
        list(&Tag::pages.load(&s, &db_tag)?)
    )?;
    drop(s);
    let mut s = db.session()?;
    Page::tags.unlink(&mut s, &p1, &rust)?;
    s.commit()?;
    let s = db.read_session()?;
    writeln!(
        out,
        "page1.tags.remove(rust)  => page1.tags {}, rust.pages {}",
        list(&Page::tags.load(&s, &p1)?),
        list(&Tag::pages.load(&s, &rust)?)
    )?;
    drop(s);

    writeln!(out, "\n-- Deleting John cascades to his addresses")?;
    let mut s = db.session()?;
    s.delete(&john)?;
    s.commit()?;
    writeln!(
        out,
        "db.session.delete(john); commit()  => {} addresses left",
        db.read_session()?.query::<Address>().count()?
    )?;

    let rows = db.check()?;
    writeln!(
        out,
        "\nintegrity check passed ({rows} rows, every index matches its rows)"
    )?;
    Ok(())
}

const DEFAULT_FILE: &str = "strata-quickstart.strata";

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = match std::env::args().nth(1) {
        Some(p) => p,
        None => {
            // The default file is the quickstart's own: start it afresh.
            for f in [DEFAULT_FILE.to_string(), format!("{DEFAULT_FILE}-wal")] {
                if let Err(e) = std::fs::remove_file(&f)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    return Err(e.into());
                }
            }
            DEFAULT_FILE.to_string()
        }
    };
    run(std::path::Path::new(&path), &mut std::io::stdout().lock())
}
