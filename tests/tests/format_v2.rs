//! Databases written by format version 2 (committed in
//! `tests/fixtures/v2/`) still open, read-only and writable, with exactly
//! their contents, and pass `check()`:
//!
//! * `engine-v2-clean`: table `accounts` with keys `acct00000` to
//!   `acct00499` less every third (`i % 3 == 0` deleted), each valued
//!   `1000 + i` in decimal, and table `blobs` with key `big`, 20,000 bytes
//!   of 0xAB; closed cleanly.
//! * `engine-v2-unclean`: table `ledger`, `k0000` to `k0149` valued `v<i>`
//!   with `k0000` deleted, where `k0100` on and the delete are only in the
//!   log: a crash image, whose log must replay.
//! * `quickstart-v2`: the database `orm/examples/quickstart.rs` writes
//!   (`quickstart-v2.out` is what it printed), read through the engine and
//!   through the ORM with the quickstart's models, whose Student has
//!   gained two `Option` fields since (read as None in its rows).
//!
//! A writable open gives a version-2 database an id (format version 3,
//! `docs/file-format.md`, Versions): its page 0 keeps version 2, its meta
//! pages and its log get the id, and from then on it is protected like a
//! new database (its log is needed while it is open).
//!
//! Each test works on copies of the fixtures, in a temporary directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use strata_engine::{Database, Error, LogProblem, Options};
use strata_tests::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/v2")
        .join(name)
}

fn log_of(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    p.into()
}

/// Copies fixture `name` (`<name>.strata` and, if `with_log`, its log)
/// into `dir`; the copy's path.
fn copy(dir: &TempDir, name: &str, with_log: bool) -> PathBuf {
    let to = dir.path().join(format!("{name}.strata"));
    std::fs::copy(fixture(&format!("{name}.strata")), &to).unwrap();
    if with_log {
        std::fs::copy(fixture(&format!("{name}.strata-wal")), log_of(&to)).unwrap();
    }
    to
}

fn writable() -> Options {
    Options {
        log_preallocate: 0,
        ..Options::default()
    }
}

fn read_only() -> Options {
    Options {
        read_only: true,
        ..Options::default()
    }
}

type Table = BTreeMap<Vec<u8>, Vec<u8>>;

fn table(db: &Database, name: &str) -> Table {
    let tx = db.begin_read().unwrap();
    tx.range(name, ..).unwrap().map(|kv| kv.unwrap()).collect()
}

fn accounts() -> Table {
    (0..500u32)
        .filter(|i| i % 3 != 0)
        .map(|i| {
            (
                format!("acct{i:05}").into_bytes(),
                (1000 + i).to_string().into_bytes(),
            )
        })
        .collect()
}

fn ledger(through: u32) -> Table {
    (1..through)
        .map(|i| {
            (
                format!("k{i:04}").into_bytes(),
                format!("v{i}").into_bytes(),
            )
        })
        .collect()
}

/// The format version in page 0, and the database id in both meta pages.
fn header_version_and_ids(path: &Path) -> (u32, [u64; 2]) {
    let bytes = std::fs::read(path).unwrap();
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
    let ps = u32_at(12) as usize;
    (u32_at(8), [u64_at(ps + 64), u64_at(2 * ps + 64)])
}

fn check_clean(db: &Database) {
    let report = db.check().unwrap();
    assert_eq!(report.tables, 2);
    assert_eq!(table(db, "accounts"), accounts());
    let blobs = table(db, "blobs");
    assert_eq!(blobs.len(), 1);
    assert_eq!(blobs[&b"big"[..]], vec![0xAB; 20_000]);
}

#[test]
fn a_clean_version_2_database_opens() {
    let dir = TempDir::new("v2");
    let path = copy(&dir, "engine-v2-clean", true);
    let before = std::fs::read(&path).unwrap();
    check_clean(&Database::open_with(&path, read_only()).unwrap());
    assert!(
        std::fs::read(&path).unwrap() == before,
        "a read-only open wrote"
    );
    assert_eq!(header_version_and_ids(&path), (2, [0, 0]));
    {
        let db = Database::open_with(&path, writable()).unwrap();
        check_clean(&db);
        db.transaction(|tx| tx.put("blobs", b"new", b"written by format 3"))
            .unwrap();
    }
    // Page 0 keeps version 2; both meta pages now name the database.
    let (version, ids) = header_version_and_ids(&path);
    assert_eq!(version, 2);
    assert!(ids[0] != 0 && ids[0] == ids[1], "{ids:x?}");
    let db = Database::open_with(&path, writable()).unwrap();
    assert_eq!(table(&db, "accounts"), accounts());
    assert_eq!(table(&db, "blobs").len(), 2);
    db.check().unwrap();
    drop(db);
    // And the log is tied to it: another database's log is refused.
    let other = dir.path().join("other");
    drop(Database::open_with(&other, writable()).unwrap());
    std::fs::copy(log_of(&other), log_of(&path)).unwrap();
    match Database::open_with(&path, writable()) {
        Err(Error::LogUnusable { problem, .. }) => assert_eq!(problem, LogProblem::OtherDatabase),
        other => panic!("expected LogUnusable, got {other:?}"),
    }
}

#[test]
fn an_unclean_version_2_database_replays_its_log() {
    let dir = TempDir::new("v2");
    // Without its log, the data file holds k0000 to k0099 only: the rest,
    // and the delete of k0000, are in the log. A version-2 meta page says
    // nothing of whether commits follow it, so the log is required.
    let bare = copy(&dir, "engine-v2-unclean", false);
    match Database::open_with(&bare, writable()) {
        Err(Error::LogUnusable {
            problem: LogProblem::Missing,
            commits_at_risk: true,
            ..
        }) => {}
        other => panic!("expected LogUnusable, got {other:?}"),
    }
    let without = Options {
        recover_without_log: true,
        read_only: true,
        ..Options::default()
    };
    let db = Database::open_with(&bare, without).unwrap();
    let mut checkpointed = ledger(100);
    checkpointed.insert(b"k0000".to_vec(), b"v0".to_vec());
    assert_eq!(table(&db, "ledger"), checkpointed);
    drop(db);

    let path = copy(&dir, "engine-v2-unclean", true);
    for options in [read_only(), writable(), writable()] {
        let db = Database::open_with(&path, options).unwrap();
        assert_eq!(db.check().unwrap().tables, 1);
        assert_eq!(table(&db, "ledger"), ledger(150));
    }
    let (version, ids) = header_version_and_ids(&path);
    assert_eq!(version, 2);
    assert!(ids[0] != 0 && ids[0] == ids[1], "{ids:x?}");
}

#[test]
fn the_quickstarts_version_2_database_opens() {
    let dir = TempDir::new("v2");
    let path = copy(&dir, "quickstart-v2", true);
    let rows = [
        ("__strata_schema", 6),
        ("users", 4),
        ("users#username", 4),
        ("users#email", 4),
        ("students", 5),
        ("students#gpa", 5),
        ("person", 0),
        ("address", 0),
        ("address#person_id", 0),
        ("page", 2),
        ("tag", 2),
        ("tag#name", 2),
        ("tags", 2),
        ("tags#rev", 2),
    ];
    for options in [read_only(), writable()] {
        let db = Database::open_with(&path, options).unwrap();
        let report = db.check().unwrap();
        assert_eq!(report.tables, rows.len());
        for (name, n) in rows {
            assert_eq!(table(&db, name).len(), n, "{name}");
        }
    }
    // Through the ORM, with the quickstart's models.
    use strata_tests::models::{Student, User};
    let db = strata::Database::open(&path).unwrap();
    db.register::<User>().unwrap();
    db.register::<Student>().unwrap();
    let s = db.read_session().unwrap();
    let names: Vec<String> = s
        .query::<User>()
        .all()
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["admin", "peter", "guest", "mary"]);
    assert_eq!(s.query::<Student>().all().unwrap().len(), 5);
    drop(s);
    assert_eq!(db.check().unwrap(), 13);
    // The Student model has gained a student number and a major since
    // this file was written, both `Option`s: its rows read them as None,
    // the index on gpa answers as before, and a new row holds both.
    let s = db.read_session().unwrap();
    let students = s.query::<Student>().all().unwrap();
    assert!(
        students
            .iter()
            .all(|st| st.student_number.is_none() && st.major.is_none()),
        "{students:?}"
    );
    let above: Vec<String> = s
        .query::<Student>()
        .filter(Student::gpa.gt(3.5))
        .order_by(Student::gpa.desc())
        .all()
        .unwrap()
        .into_iter()
        .map(|st| st.name)
        .collect();
    assert_eq!(above, ["Ada", "Cy"]);
    drop(s);
    let mut eve = Student {
        id: 0,
        name: "Eve".into(),
        student_number: Some("045628".into()),
        major: Some("CS".into()),
        gpa: 3.9,
    };
    let mut s = db.session().unwrap();
    s.add(&mut eve).unwrap();
    s.commit().unwrap();
    let s = db.read_session().unwrap();
    assert_eq!(s.get::<Student>(eve.id).unwrap(), Some(eve));
    drop(s);
    assert_eq!(db.check().unwrap(), 14);
}
