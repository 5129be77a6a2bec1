//! Every input the `orm_decode` fuzz target ever failed on, and its seed
//! corpus, re-run through the same checks (`strata::fuzzing::decode`) by
//! the ordinary `cargo test`.
//!
//! The inputs live beside the fuzz crate: `fuzz/regressions/orm_decode/`
//! (one file per finding) and `fuzz/corpus/orm_decode/` (the committed
//! seeds, `seed-*`). `STRATA_FUZZ_CORPUS=1` also runs every other file in
//! the corpus directory. `cargo test -p strata --test fuzz_regressions --
//! --ignored write_seeds` rewrites the seeds from `strata::fuzzing::seeds`.

use std::path::{Path, PathBuf};

fn dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz")
        .join(kind)
        .join("orm_decode")
}

fn run_dir(dir: &Path, seeds_only: bool) -> usize {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.is_file()
            && (!seeds_only
                || p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("seed-")))
    });
    files.sort();
    for f in &files {
        eprintln!("orm_decode: {}", f.display());
        strata::fuzzing::decode(&std::fs::read(f).expect("read input"));
    }
    files.len()
}

#[test]
fn regressions_and_seeds() {
    let all = std::env::var_os("STRATA_FUZZ_CORPUS").is_some();
    assert!(run_dir(&dir("corpus"), !all) > 0, "no seed corpus");
    run_dir(&dir("regressions"), false);
}

#[test]
fn fresh_seeds() {
    for (_, bytes) in strata::fuzzing::seeds() {
        strata::fuzzing::decode(&bytes);
    }
}

/// Not a check: rewrites the committed seed corpus from the current code.
#[test]
#[ignore = "a tool: rewrites fuzz/corpus (cargo test -- --ignored write_seeds)"]
fn write_seeds() {
    let d = dir("corpus");
    std::fs::create_dir_all(&d).expect("create corpus dir");
    for (name, bytes) in strata::fuzzing::seeds() {
        std::fs::write(d.join(format!("seed-{name}")), bytes).expect("write seed");
    }
}
