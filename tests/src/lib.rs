//! Shared helpers for Strata's scenario suites (see `tests/tests/`).

#![deny(unsafe_code)]
#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strata_engine::storage::SimVfs;
use strata_engine::{Database, Options, Result};

/// The number of proptest cases to run: `default` in CI, or the value of
/// the `STRATA_PROPTEST_CASES` environment variable when set.
pub fn proptest_cases(default: u32) -> u32 {
    env_count("STRATA_PROPTEST_CASES", default as u64) as u32
}

/// A count from environment variable `name`, or `default`.
pub fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The path the simulated suites use for their database.
pub fn sim_path() -> PathBuf {
    PathBuf::from("/sim/db.strata")
}

/// Options for a database on the simulated disk: small log preallocation
/// and checkpoint thresholds so that checkpoints happen within short
/// workloads.
pub fn sim_options(vfs: &SimVfs) -> Options {
    Options {
        storage: Arc::new(vfs.clone()),
        log_preallocate: 64 << 10,
        checkpoint_log_size: 256 << 10,
        checkpoint_dirty_size: 1 << 20,
        cache_size: 256 << 10,
        ..Options::default()
    }
}

/// Opens the database on `vfs` with [`sim_options`].
pub fn open_sim(vfs: &SimVfs) -> Result<Database> {
    Database::open_with(sim_path(), sim_options(vfs))
}

/// A plain model of the database: table -> key -> value.
pub type Model = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Everything in `db`, read in one transaction, as a [`Model`] of the
/// given tables (missing tables read as empty).
pub fn dump(db: &Database, tables: &[&str]) -> Result<Model> {
    let tx = db.begin()?;
    let mut out = Model::new();
    for t in tables {
        let mut m = BTreeMap::new();
        if tx.table_exists(t)? {
            for kv in tx.range(t, ..)? {
                let (k, v) = kv?;
                m.insert(k, v);
            }
        }
        out.insert(t.to_string(), m);
    }
    Ok(out)
}

/// A fresh temporary directory under the system's temp dir, removed when
/// the guard drops.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/strata-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "strata-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
