//! Member faults under the ORM's bank transfers on a 3-member etcd
//! cluster of each test's own (8 clients, 2 snapshot auditors; see
//! `strata_tests::orm_bank`). Throughout, every audit must see the exact
//! total; at the end the total is exact, every acknowledged transfer is
//! stored, and every stored transfer was acknowledged or had an unknown
//! outcome.
//!
//! - One member of three killed (SIGKILL) and later restarted: clients
//!   keep committing on the other two, and go on after the restart.
//! - Two of three killed: no quorum; a transaction fails with
//!   `Unavailable` within a bounded time; after one is restarted the
//!   clients resume.
//! - Each member in turn stopped with SIGSTOP (it keeps its sockets and
//!   answers nothing, as behind a partition), then continued: clients
//!   keep committing through it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};
use strata::{Database, Error, engine};
use strata_tests::etcd::EtcdCluster;
use strata_tests::orm_bank::{self, Account, Counts};

/// A bank on its own cluster, running in the background.
struct Run {
    db: Database,
    stop: Arc<AtomicBool>,
    progress: Arc<AtomicU64>,
    bank: Option<std::thread::JoinHandle<Counts>>,
}

fn start(cluster: &EtcdCluster) -> Run {
    // Calls give up after 2 s, so that an outage shows quickly.
    let db = Database::connect(&(cluster.url("bank") + "?timeout_ms=2000")).unwrap();
    orm_bank::open_accounts(&db);
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicU64::new(0));
    let bank = {
        let (db, stop, progress) = (db.clone(), stop.clone(), progress.clone());
        std::thread::spawn(move || orm_bank::run(&db, 8, i64::MAX, 2, &stop, &progress))
    };
    Run {
        db,
        stop,
        progress,
        bank: Some(bank),
    }
}

impl Run {
    /// Commits made during the next `d`.
    fn commits_during(&self, d: Duration) -> u64 {
        let before = self.progress.load(Ordering::Relaxed);
        sleep(d);
        self.progress.load(Ordering::Relaxed) - before
    }

    /// Waits until the clients commit, and returns how many they committed
    /// in the half second that showed it. An election and the client's
    /// failover come first after a member is lost, and on a loaded machine
    /// they can take seconds: the bound only turns a stall into a failure.
    fn wait_for_commits(&self, what: &str) -> u64 {
        let t = Instant::now();
        loop {
            let n = self.commits_during(Duration::from_millis(500));
            if n > 0 {
                return n;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "no commit in 30 s {what}"
            );
        }
    }

    fn finish(mut self) -> Counts {
        self.stop.store(true, Ordering::Relaxed);
        let counts = self.bank.take().unwrap().join().expect("the bank run");
        eprintln!(
            "{} committed, {} retries, {} failed ({} unknown), {} audits; errors: {:?}",
            counts.committed,
            counts.retries,
            counts.failed,
            counts.unknown.len(),
            counts.audits,
            counts.errors
        );
        orm_bank::check_end(&self.db, &counts, Duration::from_secs(20));
        assert!(counts.audits > 0);
        counts
    }
}

#[test]
fn one_member_killed_and_restarted() {
    let mut cluster = EtcdCluster::start(3);
    let run = start(&cluster);
    run.wait_for_commits("at the start");
    cluster.kill(0);
    // The first moments may see the leader's loss; then commits go on.
    let down = run.wait_for_commits("with one member of three down");
    cluster.restart(0);
    let after = run.wait_for_commits("after the restart");
    cluster.kill(1);
    run.wait_for_commits("with another member down");
    cluster.restart(1);
    let counts = run.finish();
    eprintln!("with a member down: {down} commits in 0.5 s; after the restart: {after}");
    assert!(counts.committed > 0);
}

#[test]
fn two_members_killed_then_one_restarted() {
    let mut cluster = EtcdCluster::start(3);
    let run = start(&cluster);
    run.wait_for_commits("at the start");
    cluster.kill(0);
    cluster.kill(1);
    // Without a quorum a transaction fails, clearly and in bounded time.
    sleep(Duration::from_millis(500));
    let t = Instant::now();
    let r = run.db.transaction(|s| s.get::<Account>(1));
    let took = t.elapsed();
    assert!(
        matches!(
            r,
            Err(Error::Engine(
                engine::Error::Unavailable { .. } | engine::Error::OutcomeUnknown { .. }
            ))
        ),
        "{r:?}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    eprintln!("without a quorum: {r:?} after {took:?}");
    // In-flight commits may still land in the first moments; then none.
    sleep(Duration::from_secs(1));
    assert_eq!(run.commits_during(Duration::from_secs(2)), 0);
    cluster.restart(1);
    let t = Instant::now();
    while run.progress.load(Ordering::Relaxed) == 0
        || run.commits_during(Duration::from_millis(500)) == 0
    {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "clients did not resume"
        );
    }
    eprintln!("clients resumed {:?} after the restart", t.elapsed());
    cluster.restart(0);
    run.finish();
}

#[test]
fn each_member_stopped_with_sigstop_in_turn() {
    let mut cluster = EtcdCluster::start(3);
    let run = start(&cluster);
    run.wait_for_commits("at the start");
    for i in 0..cluster.len() {
        cluster.pause(i);
        // A stopped leader costs an election (and the client a failover)
        // first, which on a loaded machine can take several seconds; the
        // clients must then commit with the member still stopped.
        run.wait_for_commits(&format!("while member {i} was stopped"));
        cluster.resume(i);
        cluster.wait_healthy(i);
        sleep(Duration::from_millis(500));
    }
    run.finish();
}
