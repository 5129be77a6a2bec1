//! The child's side of a kill loop: the settings its parent passes in
//! the environment, the options it opens the database with, and the count
//! of its commits (with the explicit checkpoints and the stop they lead
//! to).

use super::say;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;
use strata_engine::Options;

/// The number in environment variable `name`, 0 if unset (or not a
/// number).
pub fn env_u64(name: &str) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The options a child opens with, from its environment (see
/// [`round_options`](super::parent::round_options)); the durability is the default,
/// `Full`.
pub fn child_options() -> Options {
    let or = |name, default| match env_u64(name) {
        0 => default,
        v => v,
    };
    Options {
        checkpoint_log_size: or("STRATA_KILL_CHILD_LOG", 32 << 20),
        log_preallocate: env_u64("STRATA_KILL_CHILD_PREALLOC"),
        cache_size: or("STRATA_KILL_CHILD_CACHE", 64 << 20) as usize,
        checkpoint_dirty_size: or("STRATA_KILL_CHILD_DIRTY", 64 << 20) as usize,
        txn_memory_limit: or("STRATA_KILL_CHILD_TXN_MEMORY", 64 << 20) as usize,
        ..Options::default()
    }
}

/// What the threads of a child share: its settings from the environment
/// and the count of its commits.
pub struct Child {
    /// Seeds the workload (`STRATA_KILL_CHILD_SEED`).
    pub seed: u64,
    /// Threads doing the work (`STRATA_KILL_CHILD_THREADS`).
    pub threads: u64,
    /// Thread 0 checkpoints after this many commits of its own
    /// (`STRATA_KILL_CHILD_CKPT`).
    ckpt_every: u64,
    /// Stop after this many commits (0: run until killed).
    stop_after: u64,
    commits: AtomicU64,
    stop: AtomicBool,
}

impl Child {
    /// The settings from the environment, with at most `max_threads`
    /// threads.
    pub fn from_env(max_threads: u64) -> Child {
        Child {
            seed: env_u64("STRATA_KILL_CHILD_SEED"),
            threads: env_u64("STRATA_KILL_CHILD_THREADS").clamp(1, max_threads),
            ckpt_every: env_u64("STRATA_KILL_CHILD_CKPT").max(1),
            stop_after: env_u64("STRATA_KILL_CHILD_STOP"),
            commits: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        }
    }

    /// Whether the child has made the commits it was asked for and should
    /// close the database.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Counts an acknowledged commit, the `mine`-th of thread `t`; stops
    /// the child after `stop_after` of them, and has thread 0 checkpoint
    /// explicitly every `ckpt_every` of its own, through `checkpoint`.
    pub fn committed<E: std::fmt::Display>(
        &self,
        t: u64,
        mine: u64,
        checkpoint: impl FnOnce() -> Result<(), E>,
    ) {
        let all = self.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if self.stop_after > 0 && all >= self.stop_after {
            self.stop.store(true, Ordering::Relaxed);
        }
        if t == 0 && mine.is_multiple_of(self.ckpt_every) {
            say("ckpt");
            let t0 = Instant::now();
            if let Err(e) = checkpoint() {
                panic!("explicit checkpoint: {e}");
            }
            say(&format!("ckpt-done {}", t0.elapsed().as_micros()));
        }
    }
}
