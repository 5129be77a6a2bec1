//! Records, for the report, the compiler that built the harness and the
//! versions of the peers' crates as `Cargo.lock` pins them.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=STRATA_BENCH_RUSTC={version}");

    let lock_path = "../Cargo.lock";
    println!("cargo:rerun-if-changed={lock_path}");
    println!("cargo:rerun-if-changed=build.rs");
    let lock = std::fs::read_to_string(lock_path).unwrap_or_default();
    let mut pins = Vec::new();
    for krate in [
        "rusqlite",
        "libsqlite3-sys",
        "redb",
        "heed",
        "lmdb-master-sys",
        "turso",
    ] {
        let needle = format!("name = \"{krate}\"\nversion = \"");
        let version = lock
            .find(&needle)
            .map(|i| &lock[i + needle.len()..])
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("unknown");
        pins.push(format!("{krate} {version}"));
    }
    println!("cargo:rustc-env=STRATA_BENCH_CRATES={}", pins.join(", "));
}
