//! The ORM's loop: a child runs sessions on the ORM with
//! `Durability::Full` and is killed with SIGKILL at a random moment.
//!
//! The workload adds, changes and deletes authors (a unique name) with
//! books (a unique isbn, an indexed title, a foreign key to the author,
//! cascade delete) and tags (a unique name) linked to books many-to-many,
//! from 1 or 2 threads that each own their rows. Before each commit the
//! child prints its intent (every row and link the session writes); after
//! the commit returns, its acknowledgement. After each kill the recovered
//! database must equal the parent's model of the acknowledged commits plus
//! some subset of the commits in flight, each whole; the ORM's integrity
//! check (rows, unique and secondary indexes, foreign keys, links both
//! ways) must pass, and queries by unique column, index and relationship,
//! in both directions, must agree with the model.
//! `orm_checks_see_a_lost_book` takes an acknowledged book away from a
//! copy and expects the checks to see it.
//!
//! `STRATA_ORM_KILLS` (default 100) is the number of kills.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;
use strata::{Model, TextColumn};
use strata_tests::kill::{
    CHILD_DB, Child, KillLoop, Oracle, child_options, copy_database, env_u64, no_spawns, say,
    start_protocol, verify_options,
};
use strata_tests::{Rng, TempDir};

/// The loop: its child is `kill_child_orm`.
const ORM: KillLoop = KillLoop {
    name: "ORM kill loop",
    kills_var: "STRATA_ORM_KILLS",
    default_kills: 100,
    seed_mix: 0x5EED,
    tag: "orm",
    file: "library.strata",
    role: "orm::kill_child_orm",
    max_threads: 2,
    is_ack: |l| l.starts_with("K "),
};

/// An author: a unique name, and books (deleted with the author).
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "authors", display = "name")]
#[strata(has_many(books = Book, fk = author_id, backref = author, on_delete = cascade))]
struct Author {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 64)]
    name: String,
    bio: String,
}

/// A book: a unique isbn, an indexed title, its author, and tags.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "books", display = "title")]
#[strata(many_to_many(tags = Tag, through = "book_tags", backref = books))]
struct Book {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 64)]
    isbn: String,
    #[strata(index)]
    title: String,
    #[strata(foreign_key = Author)]
    author_id: i64,
    pages: u32,
    blurb: String,
}

/// A tag of books: a unique name.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "tags", display = "name")]
struct Tag {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 64)]
    name: String,
}

/// Lower-case text of `len` characters from `seed`: long texts (bios and
/// blurbs) travel in the protocol as their seed and length.
fn text(seed: u64, len: usize) -> String {
    let mut rng = Rng::new(seed);
    (0..len)
        .map(|_| char::from(b'a' + rng.below(26) as u8))
        .collect()
}

/// One change a session makes, as the child reports it in its intent.
#[derive(Clone, Debug, PartialEq)]
enum Effect {
    /// An author added or updated: id, name, bio seed and length.
    Author(i64, String, u64, usize),
    /// A book added or updated: id, isbn, title, author, pages, blurb seed
    /// and length.
    Book(i64, String, String, i64, u32, u64, usize),
    /// A tag added.
    Tag(i64, String),
    /// An author deleted, with its books and their links.
    DelAuthor(i64),
    /// A book deleted, with its links.
    DelBook(i64),
    /// A book linked to a tag.
    Link(i64, i64),
    /// A book unlinked from a tag.
    Unlink(i64, i64),
}

impl Effect {
    fn encode(&self) -> String {
        match self {
            Effect::Author(id, name, seed, len) => format!("A {id} {name} {seed} {len}"),
            Effect::Book(id, isbn, title, author, pages, seed, len) => {
                format!("B {id} {isbn} {title} {author} {pages} {seed} {len}")
            }
            Effect::Tag(id, name) => format!("G {id} {name}"),
            Effect::DelAuthor(id) => format!("XA {id}"),
            Effect::DelBook(id) => format!("XB {id}"),
            Effect::Link(b, t) => format!("L {b} {t}"),
            Effect::Unlink(b, t) => format!("U {b} {t}"),
        }
    }

    fn decode(s: &str) -> Effect {
        let f: Vec<&str> = s.split(' ').collect();
        let n = |i: usize| -> i64 { f[i].parse().expect("number in intent") };
        let u = |i: usize| -> u64 { f[i].parse().expect("number in intent") };
        match f[0] {
            "A" => Effect::Author(n(1), f[2].into(), u(3), u(4) as usize),
            "B" => Effect::Book(
                n(1),
                f[2].into(),
                f[3].into(),
                n(4),
                u(5) as u32,
                u(6),
                u(7) as usize,
            ),
            "G" => Effect::Tag(n(1), f[2].into()),
            "XA" => Effect::DelAuthor(n(1)),
            "XB" => Effect::DelBook(n(1)),
            "L" => Effect::Link(n(1), n(2)),
            "U" => Effect::Unlink(n(1), n(2)),
            other => panic!("unknown effect {other}"),
        }
    }

    fn of_author(a: &Author, seed: u64) -> Effect {
        Effect::Author(a.id, a.name.clone(), seed, a.bio.len())
    }

    fn of_book(b: &Book, seed: u64) -> Effect {
        Effect::Book(
            b.id,
            b.isbn.clone(),
            b.title.clone(),
            b.author_id,
            b.pages,
            seed,
            b.blurb.len(),
        )
    }
}

/// Every row and link: the parent's model, and what a recovery read.
#[derive(Clone, Default, PartialEq, Debug)]
struct World {
    authors: BTreeMap<i64, Author>,
    books: BTreeMap<i64, Book>,
    tags: BTreeMap<i64, Tag>,
    links: BTreeSet<(i64, i64)>,
}

impl World {
    fn apply(&mut self, e: &Effect) {
        match e.clone() {
            Effect::Author(id, name, seed, len) => {
                let bio = text(seed, len);
                self.authors.insert(id, Author { id, name, bio });
            }
            Effect::Book(id, isbn, title, author_id, pages, seed, len) => {
                let blurb = text(seed, len);
                let b = Book {
                    id,
                    isbn,
                    title,
                    author_id,
                    pages,
                    blurb,
                };
                self.books.insert(id, b);
            }
            Effect::Tag(id, name) => {
                self.tags.insert(id, Tag { id, name });
            }
            Effect::DelAuthor(id) => {
                self.authors.remove(&id);
                let books: Vec<i64> = (self.books.values())
                    .filter(|b| b.author_id == id)
                    .map(|b| b.id)
                    .collect();
                for b in books {
                    self.apply(&Effect::DelBook(b));
                }
            }
            Effect::DelBook(id) => {
                self.books.remove(&id);
                self.links.retain(|&(b, _)| b != id);
            }
            Effect::Link(b, t) => {
                self.links.insert((b, t));
            }
            Effect::Unlink(b, t) => {
                self.links.remove(&(b, t));
            }
        }
    }

    fn diff(&self, other: &World) -> String {
        fn keys<V: PartialEq>(a: &BTreeMap<i64, V>, b: &BTreeMap<i64, V>) -> Vec<i64> {
            a.keys()
                .chain(b.keys())
                .filter(|k| a.get(k) != b.get(k))
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        }
        let links: Vec<_> = self.links.symmetric_difference(&other.links).collect();
        format!(
            "authors differ at {:?}, books at {:?}, tags at {:?}, links at {links:?}",
            keys(&self.authors, &other.authors),
            keys(&self.books, &other.books),
            keys(&self.tags, &other.tags),
        )
    }
}

/// What the child's writer `w` does in one session; returns the effects,
/// or `None` if there was nothing to do.
fn orm_op(
    s: &mut strata::Session,
    w: u64,
    rng: &mut Rng,
    uniq: &mut dyn FnMut() -> u64,
) -> strata::Result<Option<Vec<Effect>>> {
    let prefix = format!("w{w}-");
    let mine = s
        .query::<Author>()
        .filter(Author::name.starts_with(&prefix))
        .all()?;
    let tags = s.query::<Tag>().all()?;
    let mut fx = Vec::new();
    let book = |rng: &mut Rng, author_id: i64, uniq: &mut dyn FnMut() -> u64| {
        let seed = rng.next_u64();
        let len = match rng.below(20) {
            0 => 3_000 + rng.below(6_000) as usize,
            _ => rng.below(200) as usize,
        };
        (
            Book {
                id: 0,
                isbn: format!("w{w}-i{}", uniq()),
                title: format!("title{}", rng.below(40)),
                author_id,
                pages: rng.below(1000) as u32,
                blurb: text(seed, len),
            },
            seed,
        )
    };
    let link_some = |s: &mut strata::Session,
                     rng: &mut Rng,
                     b: &Book,
                     fx: &mut Vec<Effect>|
     -> strata::Result<()> {
        for _ in 0..rng.below(3) {
            if tags.is_empty() {
                break;
            }
            let t = &tags[rng.below(tags.len() as u64) as usize];
            Book::tags.link(s, b, t)?;
            fx.push(Effect::Link(b.id, t.id));
        }
        Ok(())
    };
    let many = mine.len() > 40;
    let dice = rng.below(100);
    let pick_author = |rng: &mut Rng| mine.get(rng.below(mine.len().max(1) as u64) as usize);
    match dice {
        // Deliberate failures first, which must change nothing; then a
        // new author below.
        0..=4 if !mine.is_empty() => {
            let taken = mine[rng.below(mine.len() as u64) as usize].name.clone();
            let mut dup = Author {
                id: 0,
                name: taken,
                bio: String::new(),
            };
            match s.add(&mut dup) {
                Err(strata::Error::UniqueViolation { .. }) => {}
                Err(e) if e.is_retryable() => return Err(e),
                other => panic!("adding a taken name: {other:?}"),
            }
            let (mut orphan, _) = book(rng, -7, uniq);
            match s.add(&mut orphan) {
                Err(strata::Error::ForeignKeyViolation { .. }) => {}
                Err(e) if e.is_retryable() => return Err(e),
                other => panic!("adding a book of no author: {other:?}"),
            }
            if let Some(t) = tags.first() {
                let mut dup = Tag {
                    id: 0,
                    name: t.name.clone(),
                };
                match s.add(&mut dup) {
                    Err(strata::Error::UniqueViolation { .. }) => {}
                    Err(e) if e.is_retryable() => return Err(e),
                    other => panic!("adding a taken tag: {other:?}"),
                }
            }
        }
        5..=14 if tags.len() < 150 => {
            let mut t = Tag {
                id: 0,
                name: format!("w{w}-t{}", uniq()),
            };
            s.add(&mut t)?;
            fx.push(Effect::Tag(t.id, t.name.clone()));
            return Ok(Some(fx));
        }
        15..=34 if !mine.is_empty() => {
            let a = pick_author(rng).expect("an author");
            let (mut b, seed) = book(rng, a.id, uniq);
            s.add(&mut b)?;
            fx.push(Effect::of_book(&b, seed));
            link_some(s, rng, &b, &mut fx)?;
            return Ok(Some(fx));
        }
        35..=49 if !mine.is_empty() => {
            let a = pick_author(rng).expect("an author");
            let books = Author::books.load(s, a)?;
            if books.is_empty() {
                return Ok(None);
            }
            let b = &books[rng.below(books.len() as u64) as usize];
            link_some(s, rng, b, &mut fx)?;
            let linked = Book::tags.load(s, b)?;
            if !linked.is_empty() && rng.below(2) == 0 {
                let t = &linked[rng.below(linked.len() as u64) as usize];
                if fx.iter().all(|e| *e != Effect::Link(b.id, t.id)) {
                    assert!(Book::tags.unlink(s, b, t)?, "a loaded link is not there");
                    fx.push(Effect::Unlink(b.id, t.id));
                }
            }
            return Ok((!fx.is_empty()).then_some(fx));
        }
        50..=57 if !mine.is_empty() => {
            let mut a = pick_author(rng).expect("an author").clone();
            if mine.len() > 1 && rng.below(2) == 0 {
                let other = mine.iter().find(|o| o.id != a.id).expect("another");
                let mut clash = a.clone();
                clash.name = other.name.clone();
                match s.update(&clash) {
                    Err(strata::Error::UniqueViolation { .. }) => {}
                    Err(e) if e.is_retryable() => return Err(e),
                    other => panic!("renaming to a taken name: {other:?}"),
                }
            }
            let seed = rng.next_u64();
            a.name = format!("w{w}-r{}", uniq());
            a.bio = text(seed, rng.below(300) as usize);
            s.update(&a)?;
            fx.push(Effect::of_author(&a, seed));
            return Ok(Some(fx));
        }
        58..=65 if !mine.is_empty() => {
            let a = pick_author(rng).expect("an author");
            let books = Author::books.load(s, a)?;
            if books.is_empty() {
                return Ok(None);
            }
            let mut b = books[rng.below(books.len() as u64) as usize].clone();
            let seed = rng.next_u64();
            b.isbn = format!("w{w}-j{}", uniq());
            b.title = format!("title{}", rng.below(40));
            b.pages += 1;
            b.blurb = text(seed, rng.below(400) as usize);
            s.update(&b)?;
            fx.push(Effect::of_book(&b, seed));
            return Ok(Some(fx));
        }
        66..=73 if !mine.is_empty() => {
            let a = pick_author(rng).expect("an author");
            let books = Author::books.load(s, a)?;
            if books.is_empty() {
                return Ok(None);
            }
            let b = &books[rng.below(books.len() as u64) as usize];
            assert!(s.delete(b)?, "a loaded book is not there");
            fx.push(Effect::DelBook(b.id));
            return Ok(Some(fx));
        }
        74..=79 if !mine.is_empty() || many => {
            let a = pick_author(rng).expect("an author");
            assert!(s.delete(a)?, "a loaded author is not there");
            fx.push(Effect::DelAuthor(a.id));
            return Ok(Some(fx));
        }
        _ if many && rng.below(3) > 0 => {
            let a = pick_author(rng).expect("an author");
            assert!(s.delete(a)?, "a loaded author is not there");
            fx.push(Effect::DelAuthor(a.id));
            return Ok(Some(fx));
        }
        _ => {}
    }
    // A new author with up to three books, each linked to some tags.
    let seed = rng.next_u64();
    let mut a = Author {
        id: 0,
        name: format!("w{w}-a{}", uniq()),
        bio: text(seed, rng.below(300) as usize),
    };
    s.add(&mut a)?;
    fx.push(Effect::of_author(&a, seed));
    for _ in 0..rng.below(4) {
        let (mut b, seed) = book(rng, a.id, uniq);
        s.add(&mut b)?;
        fx.push(Effect::of_book(&b, seed));
        link_some(s, rng, &b, &mut fx)?;
    }
    Ok(Some(fx))
}

/// One writer of the ORM child: sessions until killed (or until the child
/// stops). `round` makes its unique values unique across rounds.
fn orm_writer(db: &strata::Database, w: u64, child: &Child, round: u64) {
    let mut rng = Rng::new(child.seed ^ (w + 1).wrapping_mul(0x9FB2_1C65_1E98_DF25));
    let mut next = 0u64;
    let mut uniq = move || {
        next += 1;
        round * 1_000_000 + next
    };
    let mut seq = 0u64;
    let mut mine = 0u64;
    while !child.stopped() {
        let mut s = match db.session() {
            Ok(s) => s,
            Err(e) => panic!("writer {w}: session: {e}"),
        };
        let fx = match orm_op(&mut s, w, &mut rng, &mut uniq) {
            Ok(Some(fx)) => fx,
            Ok(None) => continue,
            Err(e) if e.is_retryable() => continue,
            Err(e) => panic!("writer {w}: {e}"),
        };
        seq += 1;
        let id = format!("{w}.{seq}");
        let body: Vec<String> = fx.iter().map(Effect::encode).collect();
        say(&format!("W {id} {}", body.join(" ; ")));
        match s.commit() {
            Ok(()) => say(&format!("K {id}")),
            Err(e) if e.is_retryable() => {
                say(&format!("N {id}"));
                continue;
            }
            Err(e) => panic!("writer {w}: commit: {e}"),
        }
        mine += 1;
        child.committed(w, mine, || db.engine().expect("the engine").checkpoint());
    }
}

/// The child of the ORM loop (run by `orm_survives_sigkill_loop`).
#[test]
#[ignore = "a helper: run as a child process by orm_survives_sigkill_loop"]
fn kill_child_orm() {
    let path = std::env::var(CHILD_DB).expect("run by orm_survives_sigkill_loop");
    let child = Child::from_env(4);
    let round = env_u64("STRATA_KILL_CHILD_ROUND");
    start_protocol();
    say("opening");
    let t0 = Instant::now();
    let db = strata::Database::open_with(&path, child_options()).expect("open");
    db.register::<Author>().expect("register");
    db.register::<Book>().expect("register");
    db.register::<Tag>().expect("register");
    say(&format!("ready {}", t0.elapsed().as_micros()));
    std::thread::scope(|s| {
        for w in 0..child.threads {
            let (db, child) = (&db, &child);
            s.spawn(move || orm_writer(db, w, child, round));
        }
    });
    say("closing");
    drop(db);
    say("closed");
}

/// What the ORM loop knows: the model of the acknowledged commits, and
/// the commits in flight (intent said, no acknowledgement yet).
#[derive(Default)]
struct Library {
    model: World,
    pending: Vec<(String, Vec<Effect>)>,
    acked: u64,
}

impl Oracle for Library {
    fn learn(&mut self, lines: &[String]) -> u64 {
        let mut n = 0;
        for l in lines {
            if let Some(rest) = l.strip_prefix("W ") {
                let (id, body) = rest.split_once(' ').expect("intent");
                let fx = body.split(" ; ").map(Effect::decode).collect();
                self.pending.push((id.to_string(), fx));
            } else if let Some(id) = l.strip_prefix("K ") {
                let i = (self.pending.iter().position(|(p, _)| p == id))
                    .expect("acknowledged without intent");
                let (_, fx) = self.pending.remove(i);
                for e in &fx {
                    self.model.apply(e);
                }
                self.acked += 1;
                n += 1;
            } else if let Some(id) = l.strip_prefix("N ") {
                self.pending.retain(|(p, _)| p != id);
            }
        }
        n
    }

    /// Recovers the copy at `path` and checks it against the model (see
    /// the module docs); the commits in flight that it holds join the
    /// model. Returns how many did.
    fn verify(&mut self, path: &Path) -> Result<u64, String> {
        if !path.exists() {
            if self.acked > 0 {
                return Err("the database is gone".into());
            }
            self.pending.clear();
            return Ok(0);
        }
        let db = strata::Database::open_with(path, verify_options())
            .map_err(|e| format!("recovery failed: {e}"))?;
        let found = read_world(&db)?;
        // The recovered state is the model plus some of the commits in
        // flight, each whole: try every subset (at most one per writer).
        let n = self.pending.len();
        let mut matched = None;
        for mask in 0..1u32 << n {
            let mut w = self.model.clone();
            for (i, (_, fx)) in self.pending.iter().enumerate() {
                if mask & 1 << i != 0 {
                    fx.iter().for_each(|e| w.apply(e));
                }
            }
            if w == found {
                matched = Some((mask, w));
                break;
            }
        }
        let Some((mask, world)) = matched else {
            let mut all = self.model.clone();
            for (_, fx) in &self.pending {
                fx.iter().for_each(|e| all.apply(e));
            }
            return Err(format!(
                "the recovered rows are not the acknowledged commits plus whole commits in \
                 flight ({} in flight: {:?}).\nagainst the acknowledged: {}\n\
                 against all: {}",
                n,
                self.pending,
                self.model.diff(&found),
                all.diff(&found)
            ));
        };
        let names: Vec<String> = (self.pending.iter())
            .flat_map(|(_, fx)| fx.iter())
            .filter_map(|e| match e {
                Effect::Author(_, name, ..) | Effect::Tag(_, name) => Some(name.clone()),
                Effect::Book(_, isbn, ..) => Some(isbn.clone()),
                _ => None,
            })
            .collect();
        query_world(&db, &world, &names)?;
        drop(db);
        // A clean reopen reads the same.
        let db = strata::Database::open_with(path, verify_options())
            .map_err(|e| format!("second open: {e}"))?;
        if read_world(&db)? != world {
            return Err("a clean reopen reads another state".into());
        }
        self.model = world;
        self.pending.clear();
        Ok(u64::from(mask.count_ones()))
    }

    fn acked(&self) -> u64 {
        self.acked
    }
}

/// Every row and link of the database, after the engine's and the ORM's
/// integrity checks; links are read from both sides and must agree.
fn read_world(db: &strata::Database) -> Result<World, String> {
    let e = |e: strata::Error| format!("reading: {e}");
    let checked = db.check().map_err(|e| format!("integrity check: {e}"))?;
    let s = db.read_session().map_err(e)?;
    let mut w = World {
        authors: (s.query::<Author>().all().map_err(e)?.into_iter())
            .map(|a| (a.id, a))
            .collect(),
        books: (s.query::<Book>().all().map_err(e)?.into_iter())
            .map(|b| (b.id, b))
            .collect(),
        tags: (s.query::<Tag>().all().map_err(e)?.into_iter())
            .map(|t| (t.id, t))
            .collect(),
        links: BTreeSet::new(),
    };
    for b in w.books.values() {
        for t in Book::tags.load(&s, b).map_err(e)? {
            w.links.insert((b.id, t.id));
        }
    }
    let mut back = BTreeSet::new();
    for t in w.tags.values() {
        for b in Tag::books.load(&s, t).map_err(e)? {
            back.insert((b.id, t.id));
        }
    }
    if back != w.links {
        return Err("links read from the tags differ from links read from the books".into());
    }
    let rows = (w.authors.len() + w.books.len() + w.tags.len()) as u64;
    if checked != rows {
        return Err(format!(
            "the integrity check saw {checked} rows, the queries {rows}"
        ));
    }
    Ok(w)
}

/// Checks `world` through queries: counts, every unique value by its
/// index, titles by theirs, relationships both ways and eagerly; and the
/// `names` (unique values of commits in flight) find exactly the row the
/// world has with them, if any.
fn query_world(db: &strata::Database, world: &World, names: &[String]) -> Result<(), String> {
    let e = |e: strata::Error| format!("querying: {e}");
    let s = db.read_session().map_err(e)?;
    let count = |n: u64, want: usize, what: &str| {
        if n != want as u64 {
            return Err(format!("count of {what}: {n}, model {want}"));
        }
        Ok(())
    };
    count(
        s.query::<Author>().count().map_err(e)?,
        world.authors.len(),
        "authors",
    )?;
    count(
        s.query::<Book>().count().map_err(e)?,
        world.books.len(),
        "books",
    )?;
    count(
        s.query::<Tag>().count().map_err(e)?,
        world.tags.len(),
        "tags",
    )?;
    for a in world.authors.values() {
        let by_name = (s.query::<Author>())
            .filter(Author::name.eq(a.name.as_str()))
            .all()
            .map_err(e)?;
        if by_name != [a.clone()] {
            return Err(format!("author {} by name: {by_name:?}", a.id));
        }
        let mut books: Vec<i64> = (Author::books.load(&s, a).map_err(e)?.iter())
            .map(|b| b.id)
            .collect();
        books.sort_unstable();
        let want: Vec<i64> = (world.books.values())
            .filter(|b| b.author_id == a.id)
            .map(|b| b.id)
            .collect();
        if books != want {
            return Err(format!(
                "books of author {}: {books:?}, model {want:?}",
                a.id
            ));
        }
    }
    for (a, books) in s.query::<Author>().all_with(Author::books).map_err(e)? {
        if books
            .iter()
            .any(|b| b.author_id != a.id || world.books.get(&b.id) != Some(b))
        {
            return Err(format!("eager books of author {}", a.id));
        }
    }
    for b in world.books.values() {
        let by_isbn = (s.query::<Book>())
            .filter(Book::isbn.eq(b.isbn.as_str()))
            .first()
            .map_err(e)?;
        if by_isbn.as_ref() != Some(b) {
            return Err(format!("book {} by isbn: {by_isbn:?}", b.id));
        }
        let by_title = (s.query::<Book>())
            .filter(Book::title.eq(b.title.as_str()))
            .all()
            .map_err(e)?;
        let want = world.books.values().filter(|x| x.title == b.title).count();
        if by_title.len() != want || !by_title.contains(b) {
            return Err(format!(
                "books titled {}: {} found, model {want}",
                b.title,
                by_title.len()
            ));
        }
        let author = Book::author.load(&s, b).map_err(e)?;
        if author.as_ref() != world.authors.get(&b.author_id) || author.is_none() {
            return Err(format!("author of book {}: {author:?}", b.id));
        }
    }
    for t in world.tags.values() {
        let by_name = (s.query::<Tag>())
            .filter(Tag::name.eq(t.name.as_str()))
            .first()
            .map_err(e)?;
        if by_name.as_ref() != Some(t) {
            return Err(format!("tag {} by name: {by_name:?}", t.id));
        }
    }
    for n in names {
        let a = (s.query::<Author>())
            .filter(Author::name.eq(n.as_str()))
            .first()
            .map_err(e)?;
        let b = (s.query::<Book>())
            .filter(Book::isbn.eq(n.as_str()))
            .first()
            .map_err(e)?;
        let t = (s.query::<Tag>())
            .filter(Tag::name.eq(n.as_str()))
            .first()
            .map_err(e)?;
        if a.as_ref() != world.authors.values().find(|x| &x.name == n)
            || b.as_ref() != world.books.values().find(|x| &x.isbn == n)
            || t.as_ref() != world.tags.values().find(|x| &x.name == n)
        {
            return Err(format!("unique value {n} finds {a:?} {b:?} {t:?}"));
        }
    }
    Ok(())
}

#[test]
fn orm_survives_sigkill_loop() {
    ORM.run(&mut Library::default());
}

// The check itself: a loss it must see.

#[test]
fn orm_checks_see_a_lost_book() {
    let dir = TempDir::new("kill-self-orm");
    let db = dir.path().join("library.strata");
    let copy = dir.path().join("verify.strata");
    let round = ORM.clean_round(&db, dir.path(), 60);
    let fresh = || {
        let mut lib = Library::default();
        lib.learn(&round.lines);
        lib
    };
    let _g = no_spawns();
    copy_database(&db, &copy);
    fresh().verify(&copy).expect("the intact copy passes");
    // Delete one acknowledged book properly, through the ORM: the
    // database stays consistent, and only the model says it was there.
    let lib = fresh();
    let book = lib.model.books.values().next().expect("a book").clone();
    let d = strata::Database::open_with(&copy, verify_options()).expect("open the copy");
    let mut s = d.session().expect("session");
    assert!(s.delete(&book).expect("delete"), "the book is there");
    s.commit().expect("commit");
    drop(d);
    let err = fresh().verify(&copy).expect_err("a lost book must be seen");
    assert!(err.contains(&format!("books at [{}]", book.id)), "{err}");
}
