//! The migration's loop: a child opens a file holding 10,000 rows of
//! version 1 of a model and brings it to version 2, and is killed with
//! SIGKILL at a random moment: before the open, during the recovery, the
//! migration's transactions or their commits, or the clean close after
//! them. Each round is one of three modes:
//!
//! | mode | what the child does | the states a kill may leave |
//! | --- | --- | --- |
//! | `Migrate` | `Database::migrate`: step 1 converts `views` to text and drops `body` (every row rewritten), then the automatic changes (an index on `author`, an `Option` field) | old; new |
//! | `FirstWrite` | a plain open, then a session adds one row through a model with an index and a field with a default added: the first use makes the automatic changes in that session | old; new with the added row |
//! | `FirstRead` | a plain open, then a count through that model: the first use makes the changes in a transaction of its own | old; new |
//!
//! The last step commits in one transaction with the automatic changes
//! (`migration.rs`), so `Migrate` has no state between: a file whose log
//! holds step 1 without the automatic changes fails the round.
//!
//! After each kill the parent copies the files and checks the copy: read
//! only first (the log replayed into memory, nothing written back), the
//! migration log must be exactly one of the mode's states (each step
//! logged once, with its version and name), every row must equal that
//! state's rows read through the model of that state, `check()` must pass
//! and count them, and the pending work must be refused as
//! `MigrationNeeded`; then writable, opening with the migrations (or the
//! first use) must complete it, the rows equal the new version's, and a
//! second open must change nothing. In half the rounds that leave the
//! file not yet migrated, the next child works on it as the kill left it
//! (a recovery and a migration of a recovered file, killed again); the
//! other rounds start from a fresh copy of version 1, the fresh copies
//! taking the modes in turn. `migration_checks_see_a_changed_row` changes
//! one row of a migrated copy and expects the checks to see it.
//!
//! `STRATA_MIGRATION_KILLS` (default 24) is the number of kills.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use strata::{AppliedMigration, Database, Error, Migrations, Model, Value};
use strata_tests::kill::parent::round_options;
use strata_tests::kill::{
    CHILD_DB, Plan, Round, Tally, child_options, copy_database, env_u64, keep_for_post_mortem,
    no_spawns, run_round, say, seed, start_protocol, verify_options,
};
use strata_tests::{Rng, TempDir, env_count};

/// The rows of version 1.
const ROWS: i64 = 10_000;
/// The child: this module's ignored test.
const ROLE: &str = "migration::kill_child_migration";
/// The name of the explicit step.
const STEP: &str = "views as text, drop body";
/// The row `FirstWrite` adds.
const ADDED: i64 = ROWS + 1;

mod v1 {
    use super::*;
    /// Yesterday's post.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        pub author: String,
        pub body: String,
        pub views: i64,
    }
}

mod v2 {
    use super::*;
    /// Today's post, after the migrations: step 1, then `author` indexed
    /// and `tags` added.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        #[strata(index)]
        pub author: String,
        pub views: String,
        pub tags: Option<String>,
    }
}

mod indexed {
    use super::*;
    /// Version 1 with automatic changes only, made at its first use:
    /// `author` indexed, `score` added with a default.
    #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        pub title: String,
        #[strata(index)]
        pub author: String,
        pub body: String,
        pub views: i64,
        #[strata(default = 3)]
        pub score: i64,
    }
}

/// What a round's child does (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Migrate,
    FirstWrite,
    FirstRead,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Migrate, Mode::FirstWrite, Mode::FirstRead];

    fn of(n: u64) -> Mode {
        Mode::ALL[n as usize % Mode::ALL.len()]
    }

    fn number(self) -> u64 {
        Mode::ALL.iter().position(|m| *m == self).unwrap_or(0) as u64
    }
}

/// Where a kill left the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    /// Version 1, untouched: an empty migration log.
    Old,
    /// Migrated.
    New,
}

/// Version 1's rows.
fn v1_rows() -> Vec<v1::Post> {
    (1..=ROWS)
        .map(|i| v1::Post {
            id: i,
            title: format!("post number {i}"),
            author: format!("author {}", i % 97),
            body: format!("the body of post {i}, {}", "text ".repeat((i % 7) as usize)),
            views: i * 7 % 1000,
        })
        .collect()
}

/// What step 1 makes of `views`.
fn as_text(views: i64) -> String {
    format!("{views} views")
}

fn v2_rows() -> Vec<v2::Post> {
    (v1_rows().into_iter())
        .map(|p| v2::Post {
            id: p.id,
            title: p.title,
            author: p.author,
            views: as_text(p.views),
            tags: None,
        })
        .collect()
}

/// The row `FirstWrite` adds.
fn added() -> indexed::Post {
    indexed::Post {
        id: ADDED,
        title: "added at the first use".into(),
        author: "author 0".into(),
        body: String::new(),
        views: 1,
        score: 9,
    }
}

/// Version 1's rows read through `indexed`, with the added row if `with`.
fn indexed_rows(with: bool) -> Vec<indexed::Post> {
    let mut rows: Vec<indexed::Post> = (v1_rows().into_iter())
        .map(|p| indexed::Post {
            id: p.id,
            title: p.title,
            author: p.author,
            body: p.body,
            views: p.views,
            score: 3,
        })
        .collect();
    rows.extend(with.then(added));
    rows
}

/// `Migrate`'s migrations: step 1, then version 2's automatic changes.
fn migrations() -> Migrations {
    Migrations::new().model::<v2::Post>().step(1, STEP, |m| {
        m.convert::<v2::Post>("views", |old| match old {
            Value::Int(v) => Ok(Value::Text(as_text(v))),
            other => Ok(other),
        })?;
        m.drop_field("posts", "body")
    })
}

/// The child of the loop (run by `migration_survives_sigkill_loop`).
#[test]
#[ignore = "a helper: run as a child process by migration_survives_sigkill_loop"]
fn kill_child_migration() {
    let path = std::env::var(CHILD_DB).expect("run by migration_survives_sigkill_loop");
    let mode = Mode::of(env_u64("STRATA_KILL_CHILD_MODE"));
    start_protocol();
    say("opening");
    let t0 = Instant::now();
    let db = Database::open_with(&path, child_options()).expect("open");
    match mode {
        Mode::Migrate => db.migrate(&migrations()).expect("migrate"),
        Mode::FirstWrite => {
            let mut s = db.session().expect("session");
            s.add(&mut added()).expect("add at the first use");
            s.commit().expect("commit");
        }
        Mode::FirstRead => {
            let n = first_read(&db, false).expect("first use");
            assert_eq!(n, ROWS as u64, "rows at the first use");
        }
    }
    say(&format!("ready {}", t0.elapsed().as_micros()));
    say("closing");
    drop(db);
    say(&format!("closed {}", t0.elapsed().as_micros()));
    if env_u64("STRATA_KILL_CHILD_STOP") > 0 {
        return;
    }
    // Waits for the kill: a child that ends by itself was not asked to.
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Counts the rows through `indexed`: its first use. On a writable
/// handle the read makes the automatic changes in a transaction of its
/// own, and, since they build an index its session's snapshot does not
/// hold, asks for a new session (`MigrationNeeded`), which counts.
fn first_read(db: &Database, read_only: bool) -> strata::Result<u64> {
    match db.read_session()?.query::<indexed::Post>().count() {
        Err(Error::MigrationNeeded { .. }) if !read_only => {
            db.read_session()?.query::<indexed::Post>().count()
        }
        r => r,
    }
}

/// Writes version 1's rows to a new database at `path`.
fn write_base(path: &Path) {
    let _g = no_spawns();
    let db = Database::open_with(path, child_options()).expect("create the base");
    let mut s = db.session().expect("session");
    s.add_all(&mut v1_rows()).expect("add the rows");
    s.commit().expect("commit the rows");
}

/// The state a migration log says the file is in, if it is one of
/// `mode`'s: each entry exactly as that state logs it.
fn state_of(mode: Mode, history: &[AppliedMigration]) -> Result<State, String> {
    let step = |h: &AppliedMigration| h.version == 1 && h.name == STEP;
    let automatic = |h: &AppliedMigration, version: u32| {
        h.version == version && h.name.starts_with("automatic: Post: ")
    };
    match (mode, history) {
        (_, []) => Ok(State::Old),
        (Mode::Migrate, [s, a]) if step(s) && automatic(a, 1) => Ok(State::New),
        (Mode::FirstWrite | Mode::FirstRead, [a]) if automatic(a, 0) => Ok(State::New),
        _ => Err(format!(
            "the migration log is no state of {mode:?}: {history:?}"
        )),
    }
}

/// Every row of `M`, compared with `want`.
fn same_rows<M: Model + PartialEq + std::fmt::Debug>(
    db: &Database,
    want: &[M],
    what: &str,
) -> Result<(), String> {
    let s = db.read_session().map_err(|e| format!("{what}: {e}"))?;
    let got = (s.query::<M>().all()).map_err(|e| format!("{what}: reading the rows: {e}"))?;
    if got == want {
        return Ok(());
    }
    let at = (got.iter().zip(want)).position(|(g, w)| g != w);
    Err(format!(
        "{what}: {} rows, {} expected; first difference at {at:?}: {:?} against {:?}",
        got.len(),
        want.len(),
        at.map(|i| &got[i]),
        at.map(|i| &want[i])
    ))
}

/// The rows of `state` in `mode`, read through its model; `with_added`
/// says whether `FirstWrite`'s row is there.
fn state_rows(db: &Database, mode: Mode, state: State, with_added: bool) -> Result<(), String> {
    let what = format!("{mode:?} at {state:?}");
    match (mode, state) {
        (_, State::Old) => same_rows(db, &v1_rows(), &what),
        (Mode::Migrate, State::New) => same_rows(db, &v2_rows(), &what),
        (_, State::New) => same_rows(db, &indexed_rows(with_added), &what),
    }
}

/// The integrity check, which must count `rows`.
fn checked(db: &Database, rows: u64, what: &str) -> Result<(), String> {
    match db.check() {
        Ok(n) if n == rows => Ok(()),
        Ok(n) => Err(format!("{what}: check() counted {n} rows, {rows} expected")),
        Err(e) => Err(format!("{what}: check(): {e}")),
    }
}

/// Opens `path` with `options` and completes `mode`'s migration (or
/// makes it, read only, which must then fail if anything is pending).
fn complete(path: &Path, mode: Mode, options: strata::engine::Options) -> strata::Result<Database> {
    match mode {
        Mode::Migrate => Database::open_migrated(path, options, &migrations()),
        Mode::FirstWrite | Mode::FirstRead => {
            let read_only = options.read_only;
            let db = Database::open_with(path, options)?;
            first_read(&db, read_only)?;
            Ok(db)
        }
    }
}

/// Checks the copy at `path` of a file a `mode` child was killed on (see
/// the module docs); returns the state the kill left.
fn verify(path: &Path, mode: Mode) -> Result<State, String> {
    let read_only = strata::engine::Options {
        read_only: true,
        ..verify_options()
    };
    let ro = Database::open_with(path, read_only.clone())
        .map_err(|e| format!("read-only recovery: {e}"))?;
    let history = ro.schema_history().map_err(|e| format!("history: {e}"))?;
    let state = state_of(mode, &history)?;
    let with_added = mode == Mode::FirstWrite && state == State::New;
    let rows = ROWS as u64 + u64::from(with_added);
    checked(&ro, rows, "as recovered")?;
    state_rows(&ro, mode, state, with_added)?;
    drop(ro);
    match (complete(path, mode, read_only), state) {
        (Ok(_), State::New) | (Err(Error::MigrationNeeded { .. }), _) => {}
        (Ok(_), _) => return Err(format!("a read-only open at {state:?} migrated nothing")),
        (Err(e), _) => return Err(format!("a read-only open at {state:?}: {e}")),
    }
    let mut entries = history.len();
    for round in ["completing", "opening again"] {
        let db = complete(path, mode, verify_options()).map_err(|e| format!("{round}: {e}"))?;
        let history = db.schema_history().map_err(|e| format!("history: {e}"))?;
        if state_of(mode, &history)? != State::New || history.len() < entries {
            return Err(format!("{round} from {state:?}: the log is {history:?}"));
        }
        entries = history.len();
        checked(&db, rows, round)?;
        state_rows(&db, mode, State::New, with_added)?;
    }
    Ok(state)
}

/// How long the last child of each mode that closed cleanly took, from
/// the spawn: to `ready` (its work committed) and to `closed`, in
/// microseconds; where kills are spread.
#[derive(Default)]
struct Timings(BTreeMap<Mode, (u64, u64)>);

impl Timings {
    /// A kill somewhere in a child's life (half the time in its last
    /// quarter of work and its close, where the commits are), or a clean
    /// run of the mode while its length is unknown.
    fn plan(&self, mode: Mode, rng: &mut Rng) -> Plan {
        let Some(&(ready, closed)) = self.0.get(&mode) else {
            return Plan::Close(1, None);
        };
        let end = closed + closed / 8;
        let from = if rng.below(2) == 0 { 0 } else { ready * 3 / 4 };
        Plan::AfterSpawn(Duration::from_micros(from + rng.below(end - from)))
    }

    fn learn(&mut self, mode: Mode, round: &Round) {
        let at = |marker: &str| {
            (round.lines.iter())
                .find_map(|l| l.strip_prefix(marker).and_then(|n| n.parse::<u64>().ok()))
        };
        if let (Some(start), Some(ready), Some(closed)) =
            (round.startup_us, at("ready "), at("closed "))
        {
            self.0.insert(mode, (start + ready, start + closed));
        }
    }
}

#[test]
fn migration_survives_sigkill_loop() {
    let kills = env_count("STRATA_MIGRATION_KILLS", 24);
    let seed = seed();
    println!("migration kill loop: STRATA_KILL_SEED={seed}, {kills} kills");
    let mut rng = Rng::new(seed ^ 0x316A);
    let dir = TempDir::new("kill-migration");
    let base = dir.path().join("base.strata");
    let db = dir.path().join("posts.strata");
    let copy = dir.path().join("verify.strata");
    let stderr = dir.path().join("child-stderr");
    write_base(&base);
    let (mut tally, mut timings) = (Tally::default(), Timings::default());
    let mut states: BTreeMap<(Mode, State), u64> = BTreeMap::new();
    let (mut going_on, mut fresh) = (None, 0);
    let started = Instant::now();
    while tally.kills < kills {
        // Fresh files take the modes in turn, so that each is killed.
        let mode = going_on.unwrap_or_else(|| {
            fresh += 1;
            copy_database(&base, &db);
            Mode::of(fresh - 1)
        });
        let plan = timings.plan(mode, &mut rng);
        let mut env = round_options(&mut rng);
        env.push(("STRATA_KILL_CHILD_MODE", mode.number().to_string()));
        let round = run_round(ROLE, &db, &env, plan, &|_| false, &stderr);
        tally.round(&round);
        timings.learn(mode, &round);
        copy_database(&db, &copy);
        let verified = {
            let _g = no_spawns();
            verify(&copy, mode)
        };
        match verified {
            Ok(state) => {
                tally.recoveries += 1;
                *states.entry((mode, state)).or_default() += 1;
                going_on = (state != State::New && rng.below(2) == 0).then_some(mode);
            }
            Err(e) => {
                let kept = keep_for_post_mortem(&db, "migration");
                panic!(
                    "STRATA_KILL_SEED={seed}, round {} ({mode:?}, {plan:?}, {env:?}, kill in \
                     {:?}): {e}\nthe database as the kill left it is kept in {}",
                    tally.rounds,
                    round.phase,
                    kept.display()
                );
            }
        }
    }
    println!(
        "migration kill loop: {} rounds, {} kills {:?}, states found {states:?}, {:.1?}",
        tally.rounds,
        tally.kills,
        tally.phases,
        started.elapsed()
    );
}

// The check itself: a change it must see.

#[test]
fn migration_checks_see_a_changed_row() {
    let dir = TempDir::new("kill-self-migration");
    let db = dir.path().join("posts.strata");
    write_base(&db);
    let _g = no_spawns();
    drop(Database::open_migrated(&db, verify_options(), &migrations()).expect("migrate"));
    assert_eq!(verify(&db, Mode::Migrate), Ok(State::New));
    // Change one row properly, through the ORM: the file stays
    // consistent, and only the expected rows say it was otherwise.
    let d = Database::open_with(&db, verify_options()).expect("open");
    let mut s = d.session().expect("session");
    let mut p = s.get::<v2::Post>(4321).expect("get").expect("row 4321");
    p.views = as_text(1);
    s.update(&p).expect("update");
    s.commit().expect("commit");
    drop(d);
    let err = verify(&db, Mode::Migrate).expect_err("a changed row must be seen");
    assert!(err.contains("first difference at Some(4320)"), "{err}");
}
