//! The engine's `tracing` spans and events: a subscriber installed by the
//! test (the library installs none) sees the open with its recovery
//! counts, commits with their log rounds, checkpoints with their pages and
//! bytes, a backup and a compaction.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

#[test]
fn a_subscriber_sees_open_commit_checkpoint_backup_and_compaction() {
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
