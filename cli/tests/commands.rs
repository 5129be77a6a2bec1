//! Every subcommand, run as the built binary on real files: the
//! quickstart's file (the seed's Students table among its models), a
//! corrupted copy, a missing file, a file that is not a Strata database,
//! a file an application holds open, and a file with a migration
//! history.

#[path = "../../orm/examples/quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{RwLock, RwLockWriteGuard};

/// A scratch directory of its own per test, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("strata-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    /// The quickstart's database, made fresh in this directory.
    fn quickstart(&self) -> PathBuf {
        let p = self.0.join("quickstart.strata");
        let _alone = alone();
        quickstart::run(&p, &mut Vec::new()).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Spawns of `strata` and the tests' own database handles exclude each
/// other. The engine locks its file with `flock`, which belongs to the
/// open file, and a child forked by another thread holds a copy of every
/// descriptor until its `exec` closes them: a handle a test drops
/// meanwhile leaves its file locked for that moment, and the `strata` the
/// test runs next on it finds it `Locked`. Spawns share this lock; a
/// thread holds it alone while it has a database open ([`alone`]), and its
/// own spawns then go on.
static SPAWNS: RwLock<()> = RwLock::new(());

thread_local! {
    /// Whether this thread holds [`SPAWNS`] alone.
    static ALONE: Cell<bool> = const { Cell::new(false) };
}

/// [`SPAWNS`], held alone by this thread until dropped.
struct Alone {
    _guard: RwLockWriteGuard<'static, ()>,
}

fn alone() -> Alone {
    let _guard = SPAWNS.write().unwrap_or_else(|e| e.into_inner());
    ALONE.set(true);
    Alone { _guard }
}

impl Drop for Alone {
    fn drop(&mut self) {
        ALONE.set(false);
    }
}

/// A database the test opens itself, with [`SPAWNS`] held alone until it
/// is dropped (the handle first).
struct Open {
    db: strata::Database,
    _alone: Alone,
}

impl std::ops::Deref for Open {
    type Target = strata::Database;
    fn deref(&self) -> &strata::Database {
        &self.db
    }
}

fn open(path: &Path) -> Open {
    let _alone = alone();
    Open {
        db: strata::Database::open(path).unwrap(),
        _alone,
    }
}

/// Runs `strata ARGS` with stdout and stderr piped (so not terminals),
/// and `stdin` as its input.
fn strata_with(args: &[&str], stdin: &str) -> Output {
    let mut child = {
        let _shared = (!ALONE.get()).then(|| SPAWNS.read().unwrap_or_else(|e| e.into_inner()));
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    use std::io::Write;
    // A command that fails before reading its input closes the pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn strata(args: &[&str]) -> Output {
    strata_with(args, "")
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// The run succeeded and wrote nothing on stderr (no progress in a pipe).
fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}", stderr(o));
    assert_eq!(stderr(o), "", "stderr of a successful run in a pipe");
    stdout(o)
}

/// The run failed with exactly one line on stderr, which is returned.
fn fails(o: &Output) -> String {
    assert!(!o.status.success(), "succeeded: {}", stdout(o));
    let e = stderr(o);
    assert_eq!(e.lines().count(), 1, "one line: {e:?}");
    assert!(e.starts_with("strata: "), "{e}");
    e
}

fn json(o: &Output) -> Json {
    serde_json::from_str(&ok(o)).unwrap()
}

#[test]
fn the_seeds_query_runs_literally_on_the_quickstarts_file_and_returns_denise() {
    let d = Dir::new("seed");
    let f = d.quickstart();
    let q = "SELECT * FROM Students WHERE GPA > 3.5";
    let out = ok(&strata(&["sql", p(&f), q]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["id", "name", "student_number", "major", "gpa"]
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["4", "Denise", "964389", "Art", "4"]
    );
    assert_eq!(lines[3], "(1 row)");
    // Parsed back from --json: the same row, with its types (the student
    // number is text).
    let j = json(&strata(&["sql", "--json", p(&f), q]));
    assert_eq!(
        j["columns"],
        serde_json::json!(["id", "name", "student_number", "major", "gpa"])
    );
    assert_eq!(
        j["rows"],
        serde_json::json!([[4, "Denise", "964389", "Art", 4.0]])
    );
    // Every student of the seed's table, every column: Charlie's number
    // keeps its leading zero.
    let all = json(&strata(&[
        "sql",
        "--json",
        p(&f),
        "SELECT name, student_number, major, gpa FROM Students ORDER BY id",
    ]));
    assert_eq!(
        all["rows"],
        serde_json::json!([
            ["Alice", "334322", "CS", 3.45],
            ["Bob", "546346", "Math", 3.23],
            ["Charlie", "045628", "CS", 2.75],
            ["Denise", "964389", "Art", 4.0]
        ])
    );
    // Answered from the index on gpa, as the ORM's planner plans it.
    let plan = ok(&strata(&["sql", p(&f), &format!("EXPLAIN {q}")]));
    assert_eq!(plan.trim(), "students: scan index on gpa");
}

#[test]
fn sql_answers_the_supported_subset_and_names_what_it_refuses() {
    let d = Dir::new("sql");
    let f = d.quickstart();
    let rows = |q: &str| json(&strata(&["sql", "--json", p(&f), q]))["rows"].clone();
    assert_eq!(
        rows(
            "select name from STUDENTS where name in ('Alice', 'Bob', 'Charlie') and not gpa between 3 and 3.3 order by name desc"
        ),
        serde_json::json!([["Charlie"], ["Alice"]])
    );
    assert_eq!(
        rows("SELECT COUNT(*) AS n, MAX(gpa), MIN(name) FROM students WHERE gpa < 3.5"),
        serde_json::json!([[3, 3.45, "Alice"]])
    );
    assert_eq!(
        rows(
            "SELECT name, COUNT(*) FROM student GROUP BY name HAVING MAX(gpa) > 3.3 ORDER BY name"
        ),
        serde_json::json!([["Alice", 1], ["Denise", 1]])
    );
    assert_eq!(
        rows("SELECT name FROM students WHERE name ILIKE '%LI%' ORDER BY 1 LIMIT 1 OFFSET 1"),
        serde_json::json!([["Charlie"]])
    );
    assert_eq!(
        rows("SELECT COUNT(*) FROM users WHERE email LIKE '%@example.com'"),
        serde_json::json!([[2]])
    );
    // Joins go along declared foreign keys (the quickstart's tags link
    // pages by a link table, and its addresses were deleted with John).
    let e = fails(&strata(&[
        "sql",
        p(&f),
        "SELECT * FROM students JOIN users ON users.id = students.id",
    ]));
    assert!(e.contains("not along a declared foreign key"), "{e}");
    for (q, named) in [
        ("DELETE FROM students", "DELETE is not supported"),
        (
            "SELECT name FROM students UNION SELECT username FROM users",
            "UNION is not supported",
        ),
        ("SELECT upper(name) FROM students", "upper(name)"),
        ("SELECT * FROM nowhere", "no table nowhere"),
        (
            "SELECT * FROM students WHERE gpa > 'x'",
            "cannot be compared with gpa (f64)",
        ),
        ("SELEC *", "SQL syntax"),
    ] {
        let e = fails(&strata(&["sql", p(&f), q]));
        assert!(e.contains(named), "{q}: {e}");
    }
}

#[test]
fn check_passes_a_healthy_file_and_fails_a_corrupted_one_naming_the_fault() {
    let d = Dir::new("check");
    let f = d.quickstart();
    let out = ok(&strata(&["check", p(&f)]));
    assert!(out.starts_with("ok: "), "{out}");
    let j = json(&strata(&["check", "--json", p(&f)]));
    assert_eq!(
        (j["ok"].as_bool(), j["rows_checked"].as_u64()),
        (Some(true), Some(12))
    );

    // Flip a byte in the middle of the last page (a leaf): its checksum
    // no longer matches.
    let mut bytes = std::fs::read(&f).unwrap();
    let at = bytes.len() - 4096 + 2000;
    bytes[at] ^= 0x40;
    std::fs::write(&f, &bytes).unwrap();
    let e = fails(&strata(&["check", p(&f)]));
    assert!(
        e.to_lowercase().contains("corrupt") || e.contains("checksum"),
        "{e}"
    );
    assert!(e.contains("page"), "the fault names its page: {e}");
}

#[test]
fn a_missing_file_and_a_foreign_file_are_one_line_errors() {
    let d = Dir::new("errors");
    let missing = d.0.join("missing.strata");
    for cmd in ["check", "stats", "tables", "schema"] {
        let e = fails(&strata(&[cmd, p(&missing)]));
        assert!(
            e.contains("missing.strata") && e.contains("no such file"),
            "{cmd}: {e}"
        );
    }
    assert!(!missing.exists(), "a reading command created the file");
    let e = fails(&strata_with(&["load", p(&missing), "--table", "t"], "{}\n"));
    assert!(e.contains("no such file"), "{e}");
    assert!(!missing.exists(), "load created the file");

    let foreign = d.0.join("notes.txt");
    std::fs::write(&foreign, "just some text, not a database\n".repeat(200)).unwrap();
    for cmd in ["check", "stats", "tables"] {
        let e = fails(&strata(&[cmd, p(&foreign)]));
        assert!(e.contains("not a Strata"), "{cmd}: {e}");
    }
    assert!(fails(&strata(&["sql", p(&foreign), "SELECT 1"])).contains("not a Strata"));
}

#[test]
fn reading_commands_never_write_and_a_live_writer_is_reported_as_locked() {
    let d = Dir::new("readonly");
    let f = d.quickstart();
    let before = std::fs::read(&f).unwrap();
    let wal = PathBuf::from(format!("{}-wal", f.display()));
    let wal_before = std::fs::read(&wal).unwrap();
    for args in [
        vec!["check", p(&f)],
        vec!["stats", p(&f)],
        vec!["tables", p(&f)],
        vec!["schema", p(&f)],
        vec!["dump", p(&f)],
        vec!["sql", p(&f), "SELECT * FROM students"],
    ] {
        ok(&strata(&args));
    }
    assert!(
        std::fs::read(&f).unwrap() == before,
        "the data file changed"
    );
    assert!(
        std::fs::read(&wal).unwrap() == wal_before,
        "the log changed"
    );

    // An application holding the file: the engine's lock refuses a
    // second handle, read-only ones included, and the message says so.
    let app = open(&f);
    let e = fails(&strata(&["tables", p(&f)]));
    assert!(e.to_lowercase().contains("lock"), "{e}");
    drop(app);
    ok(&strata(&["tables", p(&f)]));
}

#[test]
fn stats_tables_and_schema_describe_the_stored_models() {
    let d = Dir::new("describe");
    let f = d.quickstart();
    let stats = json(&strata(&["stats", "--json", p(&f)]));
    assert_eq!(stats["format_version"], 3);
    assert_eq!(stats["page_size"], 4096);
    assert_eq!(stats["schema_version"], 3);
    assert!(stats["log_bytes"].as_u64().unwrap() > 0);
    let students = stats["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "students")
        .unwrap();
    assert_eq!(students["rows"], 4);
    assert!(ok(&strata(&["stats", p(&f)])).contains("last checkpoint"));

    let tables = json(&strata(&["tables", "--json", p(&f)]));
    let names: Vec<&str> = tables
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["address", "page", "person", "students", "tag", "users"]
    );

    let s = json(&strata(&["schema", "--json", p(&f), "Student"]));
    let cols = s[0]["columns"].as_array().unwrap();
    let gpa = cols.iter().find(|c| c["name"] == "gpa").unwrap();
    assert_eq!(
        (gpa["type"].as_str(), gpa["index"].as_bool()),
        (Some("f64"), Some(true))
    );
    let name = cols.iter().find(|c| c["name"] == "name").unwrap();
    assert_eq!(
        (name["unique"].as_bool(), name["max_len"].as_u64()),
        (Some(false), Some(50))
    );
    let users = json(&strata(&["schema", "--json", p(&f), "USERS"]));
    let username = &users[0]["columns"][1];
    assert_eq!(
        (username["name"].as_str(), username["unique"].as_bool()),
        (Some("username"), Some(true))
    );
    let person = json(&strata(&["schema", "--json", p(&f), "person"]));
    assert_eq!(
        person[0]["referenced_by"],
        serde_json::json!([{"table": "address", "column": "person_id"}])
    );
    let page = ok(&strata(&["schema", p(&f), "page"]));
    assert!(page.contains("many to many with tag through"), "{page}");
    let e = fails(&strata(&["schema", p(&f), "nobody"]));
    assert!(e.contains("no model nobody"), "{e}");
}

#[test]
fn dump_writes_rows_through_the_schema_and_load_reads_them_back_checked() {
    let d = Dir::new("dump");
    let f = d.quickstart();
    let jsonl = ok(&strata(&["dump", p(&f), "--table", "Students"]));
    let rows: Vec<Json> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        (rows[2]["name"].as_str(), rows[2]["gpa"].as_f64()),
        (Some("Charlie"), Some(2.75))
    );
    assert_eq!(
        (
            rows[2]["student_number"].as_str(),
            rows[2]["major"].as_str()
        ),
        (Some("045628"), Some("CS"))
    );
    let csv = ok(&strata(&[
        "dump",
        p(&f),
        "--table",
        "students",
        "--format",
        "csv",
    ]));
    assert_eq!(csv.lines().next(), Some("id,name,student_number,major,gpa"));
    assert!(csv.contains("3,Charlie,045628,CS,2.75"), "{csv}");
    // Everything: rows tagged with their table, link tables as hex.
    let all = ok(&strata(&["dump", p(&f)]));
    assert!(all.lines().any(|l| l.contains(r#""table":"users""#)));
    assert!(
        all.lines().any(|l| l.contains(r#""key":""#)),
        "link tables as hex"
    );

    // Load: new rows, keys assigned, checked as an add is.
    let new = r#"{"name": "Eve", "gpa": 3.9}
{"id": 10, "name": "Fred", "gpa": 3}
"#;
    let out = ok(&strata_with(&["load", p(&f), "--table", "students"], new));
    assert_eq!(out.trim(), "loaded 2 rows into students");
    let got = json(&strata(&[
        "sql",
        "--json",
        p(&f),
        "SELECT id, name FROM students WHERE gpa > 3.5 ORDER BY id",
    ]));
    assert_eq!(got["rows"], serde_json::json!([[4, "Denise"], [5, "Eve"]]));
    ok(&strata(&["check", p(&f)]));

    // A taken unique value on line 2 refuses the whole load.
    let bad = r#"{"username": "gil", "email": "gil@example.com"}
{"username": "admin", "email": "admin2@example.com"}
"#;
    let e = fails(&strata_with(&["load", p(&f), "--table", "users"], bad));
    assert!(e.contains("line 2") && e.contains("username"), "{e}");
    // A foreign key naming no row, a wrong type, a length over the limit.
    for (table, line, says) in [
        (
            "address",
            r#"{"email": "x@y", "person_id": 99}"#.to_string(),
            "person_id",
        ),
        (
            "students",
            r#"{"name": "Ida", "gpa": "high"}"#.to_string(),
            "gpa",
        ),
        (
            "students",
            format!(r#"{{"name": "{}", "gpa": 1}}"#, "j".repeat(51)),
            "limited to 50",
        ),
    ] {
        let e = fails(&strata_with(&["load", p(&f), "--table", table], &line));
        assert!(e.contains(says), "{line}: {e}");
    }
    let n = json(&strata(&[
        "sql",
        "--json",
        p(&f),
        "SELECT COUNT(*) FROM students",
    ]));
    assert_eq!(
        n["rows"],
        serde_json::json!([[6]]),
        "refused loads wrote nothing"
    );
    let n = json(&strata(&[
        "sql",
        "--json",
        p(&f),
        "SELECT COUNT(*) FROM users",
    ]));
    assert_eq!(
        n["rows"],
        serde_json::json!([[4]]),
        "refused loads wrote nothing"
    );
}

#[test]
fn help_describes_every_subcommand() {
    let out = ok(&strata(&["--help"]));
    for cmd in [
        "check", "stats", "tables", "schema", "sql", "dump", "load", "backup", "compact", "migrate",
    ] {
        assert!(out.contains(cmd), "{cmd} missing from --help");
    }
    assert!(ok(&strata(&["sql", "--help"])).contains("SELECT * FROM Students WHERE GPA > 3.5"));
    let e = fails(&strata(&["frobnicate"]));
    assert!(e.contains("frobnicate"), "{e}");
}

#[test]
fn backup_writes_a_copy_that_checks_and_compact_reports_the_sizes_it_leaves() {
    let d = Dir::new("ops");
    let f = d.quickstart();
    let copy = d.0.join("copy.strata");
    let out = ok(&strata(&["backup", p(&f), p(&copy)]));
    assert!(out.starts_with("copied "), "{out}");
    ok(&strata(&["check", p(&copy)]));
    let q = "SELECT * FROM students ORDER BY id";
    assert_eq!(
        ok(&strata(&["sql", p(&copy), q])),
        ok(&strata(&["sql", p(&f), q]))
    );
    let e = fails(&strata(&["backup", p(&f), p(&copy)]));
    assert!(e.contains("already exists"), "{e}");

    // 3,000 rows, the first 90% deleted; compaction reports the sizes
    // it leaves the files at, and keeps every row.
    {
        let db = open(&f);
        let mut s = db.session().unwrap();
        for i in 0..3000 {
            s.add(&mut quickstart::Student {
                id: 0,
                name: format!("student {i} {}", "x".repeat(30)),
                student_number: Some(format!("{i:06}")),
                major: None,
                gpa: f64::from(i % 400) / 100.0,
            })
            .unwrap();
        }
        s.commit().unwrap();
        db.engine().unwrap().checkpoint().unwrap();
        let mut s = db.session().unwrap();
        s.query_mut::<quickstart::Student>()
            .filter(quickstart::Student::id.le(2704))
            .delete()
            .unwrap();
        s.commit().unwrap();
    }
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    let wal = PathBuf::from(format!("{}-wal", f.display()));
    let log = size(&wal);
    let r = json(&strata(&["compact", "--json", p(&f)]));
    let field = |k: &str| r[k].as_u64().unwrap();
    assert_eq!(field("log_before"), log);
    assert_eq!(
        (field("data_after"), field("log_after")),
        (size(&f), size(&wal))
    );
    ok(&strata(&["check", p(&f)]));
    let n = json(&strata(&[
        "sql",
        "--json",
        p(&f),
        "SELECT COUNT(*) FROM students",
    ]));
    assert_eq!(n["rows"], serde_json::json!([[300]]));
}

/// A model as first written, and as it is after two fields were added.
mod evolved {
    use serde::{Deserialize, Serialize};
    use strata::Model;

    pub mod v1 {
        use super::*;
        #[derive(Model, Serialize, Deserialize, Clone, Debug)]
        #[strata(table = "items")]
        pub struct Item {
            #[strata(primary_key)]
            pub id: i64,
            pub name: String,
        }
    }

    pub mod v2 {
        use super::*;
        /// `note` declared in the middle: it is still stored last.
        #[derive(Model, Serialize, Deserialize, Clone, Debug)]
        #[strata(table = "items")]
        pub struct Item {
            #[strata(primary_key)]
            pub id: i64,
            pub note: Option<String>,
            pub name: String,
            #[strata(default = 7)]
            pub qty: i64,
        }
    }
}

#[test]
fn rows_written_before_fields_were_added_read_their_fills_through_sql_and_dump() {
    use evolved::{v1, v2};
    let d = Dir::new("evolved");
    let f = d.0.join("items.strata");
    {
        let db = open(&f);
        let mut s = db.session().unwrap();
        s.add(&mut v1::Item {
            id: 1,
            name: "old".into(),
        })
        .unwrap();
        s.commit().unwrap();
    }
    {
        // The fields are appended at the model's first use; the old row is
        // not rewritten, so it ends before them.
        let db = open(&f);
        let mut s = db.session().unwrap();
        s.add(&mut v2::Item {
            id: 2,
            note: Some("new".into()),
            name: "new".into(),
            qty: 3,
        })
        .unwrap();
        s.commit().unwrap();
    }
    // Stored order: the appended columns come last.
    let j = json(&strata(&[
        "sql",
        "--json",
        p(&f),
        "SELECT * FROM items ORDER BY id",
    ]));
    assert_eq!(
        j["columns"],
        serde_json::json!(["id", "name", "note", "qty"])
    );
    assert_eq!(
        j["rows"],
        serde_json::json!([[1, "old", null, 7], [2, "new", "new", 3]])
    );
    let j = json(&strata(&[
        "sql",
        "--json",
        p(&f),
        "SELECT name FROM items WHERE qty = 7",
    ]));
    assert_eq!(j["rows"], serde_json::json!([["old"]]));
    let dump = ok(&strata(&["dump", p(&f), "--table", "items"]));
    let rows: Vec<Json> = dump
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[0]["qty"], 7);
    assert_eq!(rows[0]["note"], Json::Null);
    ok(&strata(&["check", p(&f)]));
}

/// Yesterday's post, for a file with a migration history.
mod post_v1 {
    use super::*;
    #[derive(strata::Model, Serialize, Deserialize, Clone, Debug)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        pub body: String,
    }
}

/// Today's post: `body` renamed to `text` by a step, `views` added
/// automatically.
mod post_v2 {
    use super::*;
    #[derive(strata::Model, Serialize, Deserialize, Clone, Debug)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        pub text: String,
        pub views: Option<i64>,
    }
}

#[test]
fn migrate_status_shows_the_history_and_migrate_alone_says_where_migrations_run() {
    let d = Dir::new("migrate");
    let f = d.0.join("blog.strata");
    {
        let db = open(&f);
        let mut s = db.session().unwrap();
        for i in 1..=3 {
            s.add(&mut post_v1::Post {
                id: 0,
                title: format!("post {i}"),
                body: format!("body {i}"),
            })
            .unwrap();
        }
        s.commit().unwrap();
    }
    let migrations =
        strata::Migrations::new()
            .model::<post_v2::Post>()
            .step(1, "rename body to text", |m| {
                m.rename_field("posts", "body", "text")
            });
    let history = {
        let _alone = alone();
        let db = strata::Database::open_migrated(&f, Default::default(), &migrations).unwrap();
        db.schema_history().unwrap()
    };
    assert_eq!(history.len(), 2, "{history:?}");

    // --json, parsed back: the log as the ORM lists it, the file's
    // migration version, each stored model's schema version.
    let j = json(&strata(&["migrate", "--json", p(&f), "--status"]));
    assert_eq!(j["migration_version"], 1);
    let applied = j["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 2);
    for (a, h) in applied.iter().zip(&history) {
        assert_eq!(a["version"], h.version);
        assert_eq!(a["name"], h.name.as_str());
        assert_eq!(a["applied_at"], h.applied_at);
        let utc = a["applied_at_utc"].as_str().unwrap();
        assert!(
            utc.len() == 20 && utc.ends_with('Z') && &utc[10..11] == "T",
            "{utc}"
        );
        assert!(utc >= "2024-01-01T00:00:00Z", "{utc}");
    }
    assert_eq!(applied[0]["name"], "rename body to text");
    let auto = applied[1]["name"].as_str().unwrap();
    assert!(
        auto.starts_with("automatic: Post") && auto.contains("views"),
        "{auto}"
    );
    let stats = json(&strata(&["stats", "--json", p(&f)]));
    assert_eq!(j["schema_version"], stats["schema_version"]);
    assert_eq!(
        j["tables"],
        serde_json::json!([{"table": "posts", "model": "Post",
                            "schema_version": stats["schema_version"]}])
    );

    // The table for people: the versions, then a row per applied step.
    let out = ok(&strata(&["migrate", p(&f), "--status"]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("migration version  1"), "{out}");
    let step = lines
        .iter()
        .find(|l| l.ends_with("rename body to text"))
        .unwrap_or_else(|| panic!("no row of the step in:\n{out}"));
    assert_eq!(step.split_whitespace().next(), Some("1"), "{step}");
    assert!(lines.iter().any(|l| l.contains("automatic: Post")), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.split_whitespace().take(2).eq(["posts", "Post"])),
        "{out}"
    );

    // A file no migration touched: version 0, an empty log.
    let q = d.quickstart();
    let j = json(&strata(&["migrate", "--json", p(&q), "--status"]));
    assert_eq!(
        (
            j["migration_version"].as_u64(),
            j["applied"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    assert!(ok(&strata(&["migrate", p(&q), "--status"])).contains("no migrations applied"));

    // Without --status: one line saying where migrations run, whatever
    // the file.
    for file in [p(&f), "nowhere.strata"] {
        let e = fails(&strata(&["migrate", file]));
        assert!(
            e.contains("application's code") && e.contains("--status"),
            "{e}"
        );
    }
    // A missing file and a foreign one: one-line errors, nothing created.
    let missing = d.0.join("missing.strata");
    let e = fails(&strata(&["migrate", p(&missing), "--status"]));
    assert!(
        e.contains("missing.strata") && e.contains("no such file"),
        "{e}"
    );
    assert!(!missing.exists(), "migrate --status created the file");
    let foreign = d.0.join("notes.txt");
    std::fs::write(&foreign, "just some text, not a database\n".repeat(200)).unwrap();
    let e = fails(&strata(&["migrate", "--json", p(&foreign), "--status"]));
    assert!(e.contains("not a Strata"), "{e}");
}
