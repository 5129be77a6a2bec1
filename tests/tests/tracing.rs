//! The `tracing` spans and events of the engine and the ORM: a subscriber
//! installed by the test (the libraries install none) sees the open with
//! its recovery counts, commits with their log rounds, checkpoints with
//! their pages and bytes, a backup and a compaction; migration steps and
//! automatic schema changes with the rows they touched; and slow queries
//! with their plans, the threshold at zero so that every query is one
//! (no timing decides what the test sees).

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata::{Migrations, Model, count};
use strata_engine::Database;
use strata_tests::TempDir;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records the names of the spans opened and of the fields and messages
/// of the events: all a test needs, without a subscriber crate.
#[derive(Default)]
struct Collect {
    next: AtomicU64,
    seen: Mutex<Vec<String>>,
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl Subscriber for Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut f = Fields(format!("span {}:", span.metadata().name()));
        span.record(&mut f);
        self.seen.lock().unwrap().push(f.0);
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut f = Fields(format!("event {}:", event.metadata().target()));
        event.record(&mut f);
        self.seen.lock().unwrap().push(f.0);
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The tests of this file, one at a time: tracing caches each event's
/// interest across threads, and a scoped subscriber of one test that ends
/// while another test's is live can leave an event cached as wanted by
/// nobody, so that the other test's subscriber misses it.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_subscriber_sees_open_commit_checkpoint_backup_and_compaction() {
    let _one = one_at_a_time();
    let collect = Arc::new(Collect::default());
    let dir = TempDir::new("tracing");
    tracing::subscriber::with_default(collect.clone(), || {
        let db = Database::open(dir.path().join("db")).unwrap();
        db.transaction(|tx| {
            tx.create_table("t")?;
            tx.put("t", b"k", b"v")
        })
        .unwrap();
        db.checkpoint().unwrap();
        db.backup_to(dir.path().join("copy")).unwrap();
        db.compact().unwrap();
    });
    let seen = collect.seen.lock().unwrap().join("\n");
    for want in [
        "span open:",
        "event strata::open: message=recovered checkpoint_lsn=0 replayed=0",
        "span commit:",
        "event strata::commit: message=log round group=1",
        "span checkpoint:",
        "event strata::checkpoint: message=checkpoint written",
        "event strata::backup: message=backup written",
        "event strata::compact: message=compacted",
    ] {
        assert!(seen.contains(want), "no {want:?} in:\n{seen}");
    }
}

mod v1 {
    use super::*;
    /// Yesterday's post.
    #[derive(Model, Serialize, Deserialize, Clone, Debug)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(index)]
        pub title: String,
        pub body: String,
        pub obsolete: i64,
    }
}

mod v2 {
    use super::*;
    /// Today's: `body` renamed to `text` and `obsolete` dropped by steps,
    /// `views` added automatically.
    #[derive(Model, Serialize, Deserialize, Clone, Debug)]
    #[strata(table = "posts")]
    pub struct Post {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(index)]
        pub title: String,
        pub text: String,
        pub views: Option<i64>,
    }
}

#[test]
fn a_subscriber_sees_migrations_and_slow_queries_with_their_plans() {
    let _one = one_at_a_time();
    let dir = TempDir::new("tracing-orm");
    let path = dir.path().join("db");
    {
        let db = strata::Database::open(&path).unwrap();
        let mut s = db.session().unwrap();
        for i in 1..=3 {
            s.add(&mut v1::Post {
                id: 0,
                title: format!("post {i}"),
                body: format!("body {i}"),
                obsolete: i,
            })
            .unwrap();
        }
        s.commit().unwrap();
    }
    let migrations = Migrations::new()
        .model::<v2::Post>()
        .step(1, "rename body to text", |m| {
            m.rename_field("posts", "body", "text")
        })
        .step(2, "drop obsolete", |m| m.drop_field("posts", "obsolete"));
    let collect = Arc::new(Collect::default());
    let plans = tracing::subscriber::with_default(collect.clone(), || {
        let db = strata::Database::open_migrated(&path, Default::default(), &migrations).unwrap();
        db.set_slow_query_threshold(Duration::ZERO);
        let s = db.read_session().unwrap();
        let by_title = s.query::<v2::Post>().filter(v2::Post::title.eq("post 2"));
        assert_eq!(by_title.all().unwrap().len(), 1);
        let unviewed = s.query::<v2::Post>().filter(v2::Post::views.is_null());
        assert_eq!(unviewed.aggregate(count()).unwrap(), 3);
        // A threshold no query reaches reports nothing more.
        db.set_slow_query_threshold(Duration::MAX);
        assert_eq!(s.query::<v2::Post>().count().unwrap(), 3);
        [
            by_title.explain().to_string(),
            unviewed.explain().to_string(),
        ]
    });
    let seen = collect.seen.lock().unwrap().join("\n");
    for want in [
        "span migration step: version=1 name=rename body to text",
        "event strata::migration: message=migration step applied version=1 \
         name=rename body to text rows=0",
        "span migration step: version=2 name=drop obsolete",
        "event strata::migration: message=migration step applied version=2 \
         name=drop obsolete rows=3",
        "event strata::migration: message=automatic schema change model=Post version=2 \
         changes=views",
        &format!(
            "event strata::query: message=slow query table=\"posts\" plan={} rows_read=1 \
             rows_returned=1 elapsed_us=",
            plans[0]
        ),
        &format!(
            "event strata::query: message=slow query table=\"posts\" plan={} rows_read=3 \
             rows_returned=3 elapsed_us=",
            plans[1]
        ),
    ] {
        assert!(seen.contains(want), "no {want:?} in:\n{seen}");
    }
    assert_eq!(plans[0], "look up index on title");
    let slow = seen.matches("message=slow query").count();
    assert_eq!(slow, 2, "one event per query under the threshold:\n{seen}");
}
