//! Runs `strata-bench --quick` end to end: every engine, every workload
//! (the key-value ones at both sizes),
//! the TPC-B balance check, the readers-and-writers checks, Strata's
//! backup and compaction, and the written report.

use std::process::Command;

const ENGINES: [&str; 6] = [
    "strata",
    "strata-buffered",
    "sqlite",
    "redb",
    "lmdb",
    "device",
];

const WORKLOADS: [&str; 35] = [
    // The device limit.
    "4 KiB overwrite + fdatasync",
    "4 KiB append + fdatasync",
    // Key-value.
    "bulk load",
    "individual writes",
    "batch writes",
    "random reads, pass 1",
    "random reads, pass 2",
    "random range reads",
    "concurrent random reads, 1 thread",
    "concurrent random reads, 2 threads",
    "concurrent random reads, 4 threads",
    "removals",
    "file size after load",
    "file size after compaction",
    // TPC-B.
    "1 client: transactions/s",
    "16 clients: transactions/s",
    "p50 latency",
    "p99 latency",
    // Readers and writers.
    "0 long-lived readers: writer transactions/s",
    "4 long-lived readers: writer transactions/s, ÷ with 0 long-lived",
    "4 long-lived readers: gets/s per long-lived reader",
    "4 long-lived readers: files at the end",
    "4 long-lived readers: of which log or WAL",
    // ORM.
    "users, 1,000 per transaction",
    "get by primary key",
    "first by unique username",
    "email ends with a domain",
    "students with gpa > 3.5",
    "persons with their",
    // Schema migration.
    "add an Option field and a field with a default",
    "build an index on an integer column",
    "convert a column in every row",
    // Operations.
    "longest writer transaction during the backup",
    "backup speed",
    "data file after compaction",
];

#[test]
fn quick_run_covers_every_engine_and_workload() {
    let dir = std::env::temp_dir().join(format!("strata-bench-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.md");
    let out = Command::new(env!("CARGO_BIN_EXE_strata-bench"))
        .arg("--quick")
        .arg("--dir")
        .arg(&dir)
        .arg("--write")
        .arg(&report)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "strata-bench --quick failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );

    for engine in ENGINES {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with('|') && l.contains(engine)),
            "no table shows {engine}:\n{stdout}"
        );
    }
    // Turso, where the build has it, has its column, whether or not it
    // could run every workload (its reasons are in the report).
    if cfg!(feature = "turso") {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("| workload") && l.contains("turso")),
            "no table shows turso:\n{stdout}"
        );
    }
    for workload in WORKLOADS {
        let row = stdout
            .lines()
            .find(|l| l.starts_with("| ") && l.contains(workload))
            .unwrap_or_else(|| panic!("no row for {workload:?}:\n{stdout}"));
        assert!(
            row.split('|').nth(2).is_some_and(|c| c.trim() != "—"),
            "no figure for {workload:?}: {row}"
        );
    }
    assert!(
        stdout.contains(
            "TPC-B balance check: passed for strata, strata-buffered, sqlite, redb, lmdb"
        ),
        "no passed balance check:\n{stdout}"
    );
    assert!(
        stdout.contains("Readers-and-writers checks: passed for strata, sqlite, redb, lmdb"),
        "no passed readers-and-writers check:\n{stdout}"
    );

    let doc = std::fs::read_to_string(&report).unwrap();
    for part in [
        "# Strata benchmarks",
        "## Machine",
        "nproc",
        "kernel",
        "rustc",
        "## Key-value workloads",
        "## Key-value workloads at N = 20,000",
        "strata: 20,000 ÷ 2,000",
        "## Readers and writers",
        "## Operations",
    ] {
        assert!(doc.contains(part), "the report lacks {part:?}:\n{doc}");
    }
    assert!(
        doc.contains(&*stdout),
        "the report lacks the printed tables"
    );

    // Every child removed its directory.
    std::fs::remove_file(&report).unwrap();
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(left.is_empty(), "children left {left:?}");
    std::fs::remove_dir(&dir).unwrap();
}
