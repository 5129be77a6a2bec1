//! The parent's side of a kill loop. [`KillLoop::run`] runs rounds until
//! enough children have been killed: each round picks a plan and the
//! child's settings from the seeded generator, runs the child on the
//! database file until the kill ([`run_round`]), copies the files as the
//! kill left them, and has the loop's [`Oracle`] recover and check the
//! copy. The original is left for the next child to recover itself, so
//! that recoveries of recoveries are exercised too.
//!
//! `STRATA_KILL_SEED` seeds the plans and the workloads (see
//! [`seed`]); a failure names the seed, the round, its plan
//! and settings, and keeps the database as the kill left it.

use super::{
    Phase, Plan, Round, Tally, copy_database, keep_for_post_mortem, no_spawns, run_round, seed,
};
use crate::{Rng, TempDir, env_count};
use std::path::Path;
use std::time::Instant;
use strata_engine::Options;

/// What the parent knows of the children's work, from the lines they
/// printed, and the check of a recovered copy against it.
pub trait Oracle {
    /// Takes in every line a child printed; returns how many commits
    /// they acknowledged.
    fn learn(&mut self, lines: &[String]) -> u64;

    /// Recovers the copy at `path` and checks it. Returns how many commits
    /// it holds that were never acknowledged (in flight at the kill), or
    /// what is wrong.
    fn verify(&mut self, path: &Path) -> Result<u64, String>;

    /// How many acknowledged commits a check covers now.
    fn acked(&self) -> u64;
}

/// One kill loop: its child, and how its rounds are set up.
pub struct KillLoop {
    /// Names the loop in its messages, e.g. `engine kill loop`.
    pub name: &'static str,
    /// The variable that sets the number of kills.
    pub kills_var: &'static str,
    /// The number of kills when `kills_var` is unset.
    pub default_kills: u64,
    /// Mixed into the seed, so that two loops run on one seed explore
    /// different plans.
    pub seed_mix: u64,
    /// Names the temporary directory (`kill-<tag>`) and the post-mortem
    /// copy.
    pub tag: &'static str,
    /// The database file's name.
    pub file: &'static str,
    /// The child: the name of the ignored test that runs the workload.
    pub role: &'static str,
    /// A child runs 1 to this many threads.
    pub max_threads: u64,
    /// The child's lines that acknowledge a commit.
    pub is_ack: fn(&str) -> bool,
}

impl KillLoop {
    /// Runs rounds until `kills_var` (default `default_kills`) children
    /// were killed, checking the database after each; panics at the first
    /// failed check, or if no commit was ever acknowledged.
    pub fn run(&self, oracle: &mut dyn Oracle) {
        let kills = env_count(self.kills_var, self.default_kills);
        let seed = seed();
        println!("{}: STRATA_KILL_SEED={seed}, {kills} kills", self.name);
        let mut rng = Rng::new(seed ^ self.seed_mix);
        let dir = TempDir::new(&format!("kill-{}", self.tag));
        let db = dir.path().join(self.file);
        let copy = dir.path().join("verify.strata");
        let stderr = dir.path().join("child-stderr");
        let mut timings = Timings::default();
        let mut tally = Tally::default();
        let started = Instant::now();
        while tally.kills < kills {
            let plan = timings.plan(&mut rng);
            let mut env = round_options(&mut rng);
            env.push(("STRATA_KILL_CHILD_SEED", rng.next_u64().to_string()));
            env.push(("STRATA_KILL_CHILD_ROUND", (tally.rounds + 1).to_string()));
            let threads = 1 + rng.below(self.max_threads);
            env.push(("STRATA_KILL_CHILD_THREADS", threads.to_string()));
            env.push(("STRATA_KILL_CHILD_CKPT", checkpoint_every(&plan, &mut rng)));
            let round = run_round(self.role, &db, &env, plan, &self.is_ack, &stderr);
            tally.round(&round);
            timings.learn(&round);
            tally.acked += oracle.learn(&round.lines);
            copy_database(&db, &copy);
            let verified = {
                let _g = no_spawns();
                oracle.verify(&copy)
            };
            match verified {
                Ok(unacked) => {
                    tally.recoveries += 1;
                    tally.acked_checks += oracle.acked();
                    tally.unacked_found += unacked;
                }
                Err(e) => {
                    let kept = keep_for_post_mortem(&db, self.tag);
                    panic!(
                        "STRATA_KILL_SEED={seed}, round {} ({plan:?}, {env:?}, kill in {:?}): {e}\n\
                         the database as the kill left it is kept in {}",
                        tally.rounds,
                        round.phase,
                        kept.display()
                    );
                }
            }
        }
        tally.print(self.name, started);
        assert!(tally.acked > 0, "no commit was ever acknowledged");
    }

    /// Runs one round of the child that stops by itself after `commits`
    /// commits, from one thread, on `db` (its standard error in `dir`);
    /// returns its lines. For the self-tests, which then take a commit
    /// away and expect the oracle to see it.
    pub fn clean_round(&self, db: &Path, dir: &Path, commits: u64) -> Round {
        let env = vec![
            ("STRATA_KILL_CHILD_SEED", "7".to_string()),
            ("STRATA_KILL_CHILD_ROUND", "1".to_string()),
            ("STRATA_KILL_CHILD_THREADS", "1".to_string()),
            ("STRATA_KILL_CHILD_CKPT", "1000".to_string()),
        ];
        let plan = Plan::Close(commits, None);
        let stderr = dir.join("child-stderr");
        let round = run_round(self.role, db, &env, plan, &self.is_ack, &stderr);
        assert_eq!(round.phase, Phase::CleanExit, "{:?}", round.lines);
        round
    }
}

/// Engine options of one round, from its random choices: small logs (many
/// checkpoints, large commits by checkpoint), small caches, no
/// preallocation, small transaction memory limits (spills), and the
/// defaults. The child reads them back with
/// [`child_options`](super::child::child_options).
pub fn round_options(rng: &mut Rng) -> Vec<(&'static str, String)> {
    let log = match rng.below(6) {
        0 => 32 << 20,
        1 => 1 << 20,
        2 | 3 => 256 << 10,
        _ => 64 << 10,
    };
    let prealloc = match rng.below(3) {
        0 => 0,
        1 => 64 << 10,
        _ => 1 << 20,
    };
    let cache = if rng.below(3) == 0 {
        256 << 10
    } else {
        64 << 20
    };
    let dirty = if rng.below(4) == 0 {
        512 << 10
    } else {
        64 << 20
    };
    // Small transaction memory limits make the larger transactions spill
    // their writes to the scratch file, and those that commit by
    // checkpoint write pages out early.
    let txn_memory = match rng.below(3) {
        0 => 16 << 10,
        1 => 64 << 10,
        _ => 64 << 20,
    };
    vec![
        ("STRATA_KILL_CHILD_LOG", log.to_string()),
        ("STRATA_KILL_CHILD_PREALLOC", prealloc.to_string()),
        ("STRATA_KILL_CHILD_CACHE", cache.to_string()),
        ("STRATA_KILL_CHILD_DIRTY", dirty.to_string()),
        ("STRATA_KILL_CHILD_TXN_MEMORY", txn_memory.to_string()),
    ]
}

/// Options for the parent's recovery of a copy.
pub fn verify_options() -> Options {
    Options {
        create: false,
        log_preallocate: 0,
        ..Options::default()
    }
}

/// How the loops pick the next plan: adapted to how long the child's
/// startup, open and checkpoints took in earlier rounds.
#[derive(Default)]
struct Timings {
    startup_us: u64,
    open_us: u64,
    ckpt_us: u64,
}

impl Timings {
    fn learn(&mut self, r: &Round) {
        if let Some(v) = r.startup_us {
            self.startup_us = v;
        }
        if let Some(v) = r.open_us {
            self.open_us = v;
        }
        if let Some(v) = r.ckpt_us {
            self.ckpt_us = v;
        }
    }

    fn plan(&self, rng: &mut Rng) -> Plan {
        Plan::random(rng, self.startup_us, self.open_us, self.ckpt_us)
    }
}

/// How often the child checkpoints explicitly (commits of its first
/// thread between checkpoints): often when the plan kills in one.
fn checkpoint_every(plan: &Plan, rng: &mut Rng) -> String {
    match plan {
        Plan::InCheckpoint(..) => 3 + rng.below(20),
        _ => 20 + rng.below(200),
    }
    .to_string()
}
