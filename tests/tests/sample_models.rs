//! The sample models of `strata_tests::models`, which the benchmark
//! harness measures, are the quickstart's: the example declares its own
//! (so that it reads whole in the README), and this suite holds the two
//! sets to each other. Each pair must declare the same table, columns,
//! key, indexes and relations, and the shared models must open and read
//! the database the quickstart writes, showing every row as it does.

#[path = "../../orm/examples/quickstart.rs"]
mod quickstart;

use std::fmt::{Debug, Display};
use strata::{Database, Model};
use strata_tests::{TempDir, models};

/// The declarations of `Q` (the quickstart's) and `S` (the shared one).
fn same_declaration<Q: Model, S: Model>() {
    let table = Q::TABLE;
    assert_eq!(Q::NAME, S::NAME, "{table}");
    assert_eq!(Q::TABLE, S::TABLE, "{table}");
    assert_eq!(Q::COLUMNS, S::COLUMNS, "{table}");
    assert_eq!(Q::PRIMARY_KEY, S::PRIMARY_KEY, "{table}");
    assert_eq!(Q::AUTO_KEY, S::AUTO_KEY, "{table}");
    assert_eq!(Q::DELETE_RULES, S::DELETE_RULES, "{table}");
    assert_eq!(Q::ASSOCIATIONS, S::ASSOCIATIONS, "{table}");
}

/// Every row of the table, read through `Q` and through `S`: the same
/// rows (by their `Debug`, which names the type and every field) and the
/// same display. Returns how many.
fn same_rows<Q, S>(db: &Database) -> usize
where
    Q: Model + Debug + Display,
    S: Model + Debug + Display,
{
    db.register::<S>()
        .unwrap_or_else(|e| panic!("{} against the stored schema: {e}", S::TABLE));
    let s = db.read_session().expect("read session");
    let q = s
        .query::<Q>()
        .all()
        .expect("rows through the quickstart's model");
    let shared = s.query::<S>().all().expect("rows through the shared model");
    let show = |debug: String, display: String| format!("{debug} shown as {display}");
    let q: Vec<String> = q
        .iter()
        .map(|r| show(format!("{r:?}"), r.to_string()))
        .collect();
    let shared: Vec<String> = shared
        .iter()
        .map(|r| show(format!("{r:?}"), r.to_string()))
        .collect();
    assert_eq!(q, shared, "{}", Q::TABLE);
    q.len()
}

#[test]
fn the_sample_models_are_the_quickstarts() {
    same_declaration::<quickstart::User, models::User>();
    same_declaration::<quickstart::Student, models::Student>();
    same_declaration::<quickstart::Person, models::Person>();
    same_declaration::<quickstart::Address, models::Address>();
    same_declaration::<quickstart::Page, models::Page>();
    same_declaration::<quickstart::Tag, models::Tag>();
}

#[test]
fn the_sample_models_read_the_quickstarts_database() {
    let dir = TempDir::new("sample-models");
    let path = dir.path().join("quickstart.strata");
    quickstart::run(&path, &mut Vec::new()).expect("the quickstart runs");
    let db = Database::open(&path).expect("open the quickstart's database");
    let counts = [
        same_rows::<quickstart::User, models::User>(&db),
        same_rows::<quickstart::Student, models::Student>(&db),
        same_rows::<quickstart::Person, models::Person>(&db),
        same_rows::<quickstart::Address, models::Address>(&db),
        same_rows::<quickstart::Page, models::Page>(&db),
        same_rows::<quickstart::Tag, models::Tag>(&db),
    ];
    // Users admin, peter, guest and mary; the seed's four students; John
    // and his addresses were deleted; two pages and two tags.
    assert_eq!(counts, [4, 4, 0, 0, 2, 2]);
    // The links of the association table, both ways.
    let s = db.read_session().expect("read session");
    let page = s.get::<models::Page>(1).expect("get").expect("page 1");
    let tags = models::Page::tags.load(&s, &page).expect("its tags");
    assert_eq!(
        tags.iter().map(|t| &t.name).collect::<Vec<_>>(),
        ["databases"]
    );
    let rust = s.get::<models::Tag>(1).expect("get").expect("tag 1");
    let pages = models::Tag::pages.load(&s, &rust).expect("its pages");
    assert_eq!(
        pages.iter().map(|p| &p.title).collect::<Vec<_>>(),
        ["Ownership"]
    );
    drop(s);
    assert_eq!(db.check().expect("integrity check"), 12);
}
