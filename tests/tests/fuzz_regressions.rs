//! Every input a fuzzer ever failed on, and the seed corpus, re-run through
//! the same checks as the fuzz targets (`strata_engine::fuzzing`), by the
//! ordinary `cargo test`.
//!
//! The inputs live beside the fuzz crate: `fuzz/regressions/<target>/` (one
//! file per finding, named after what it found) and `fuzz/corpus/<target>/`
//! (the committed seeds, `seed-*`). `STRATA_FUZZ_CORPUS=1` also runs every
//! other file in the corpus directories (what local fuzzing added).
//! `cargo test --test fuzz_regressions -- --ignored write_seeds` rewrites
//! the seeds from `strata_engine::fuzzing::seeds`.

use std::path::{Path, PathBuf};
use strata_engine::fuzzing;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 4] = [
    ("open_bytes", fuzzing::open_bytes),
    ("replay_log", fuzzing::replay_log),
    ("decode_page", fuzzing::decode_page),
    ("model", fuzzing::model),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files under `dir` (sorted; none if it does not exist), keeping only
/// seeds in corpus directories unless all are asked for.
fn inputs(dir: &Path, seeds_only: bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.retain(|p| {
        p.is_file()
            && (!seeds_only
                || p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("seed-")))
    });
    out.sort();
    out
}

fn run_dir(target: &str, f: Target, dir: &Path, seeds_only: bool) -> usize {
    let files = inputs(dir, seeds_only);
    for file in &files {
        let bytes = std::fs::read(file).expect("read input");
        eprintln!("{target}: {}", file.display());
        f(&bytes);
    }
    files.len()
}

#[test]
fn regressions_and_seeds() {
    let all = std::env::var_os("STRATA_FUZZ_CORPUS").is_some();
    for (target, f) in TARGETS {
        let seeds = run_dir(target, f, &fuzz_dir().join("corpus").join(target), !all);
        assert!(seeds > 0, "no seed corpus for {target}");
        run_dir(
            target,
            f,
            &fuzz_dir().join("regressions").join(target),
            false,
        );
    }
}

/// The seeds still pass when built from the current code (they are the
/// files' source; a failure here means the committed seeds are stale or
/// the code broke).
#[test]
fn fresh_seeds() {
    for (target, f) in TARGETS {
        for (_, bytes) in fuzzing::seeds(target) {
            f(&bytes);
        }
    }
}

/// Not a check: rewrites the committed seed corpus from the current code.
#[test]
#[ignore = "a tool: rewrites fuzz/corpus (cargo test -- --ignored write_seeds)"]
fn write_seeds() {
    for (target, _) in TARGETS {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).expect("create corpus dir");
        for (name, bytes) in fuzzing::seeds(target) {
            std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("write seed");
        }
    }
}
