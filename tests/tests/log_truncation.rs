//! A log cut short at every byte offset of its last records (as a crash
//! mid-append leaves it) reopens to a committed prefix: the state after
//! some number of whole commits, never more as the cut moves earlier,
//! reaching every commit boundary in the window, and passing `check()`.

use std::path::PathBuf;
use strata_engine::storage::{CrashMode, SimVfs};
use strata_tests::{Model, WORKLOAD_TABLES, create_tables, dump, empty_model, open_sim, sim_path};

fn wal_path() -> PathBuf {
    let mut p = sim_path().into_os_string();
    p.push("-wal");
    PathBuf::from(p)
}

/// Builds a database whose log holds `after` transactions past a
/// checkpoint, then takes the disk as a crash would leave it (nothing
/// lost, no clean close). Returns the data file, the log, and the state
/// after each commit.
fn build(after: usize) -> (Vec<u8>, Vec<u8>, Vec<Model>) {
    let vfs = SimVfs::new(5);
    let db = open_sim(&vfs).unwrap();
    create_tables(&db).unwrap();
    let mut model = empty_model();
    let mut history = Vec::new();
    for i in 0..4 + after {
        let mut tx = db.begin().unwrap();
        let key = format!("k{:03}", i % 7).into_bytes();
        let value = vec![i as u8; 40 + 97 * (i % 5)];
        tx.put("t1", &key, &value).unwrap();
        model.get_mut("t1").unwrap().insert(key.clone(), value);
        if i % 3 == 2 {
            let gone = format!("k{:03}", (i + 3) % 7).into_bytes();
            tx.delete("t1", &gone).unwrap();
            model.get_mut("t1").unwrap().remove(&gone);
        }
        tx.commit().unwrap();
        if i == 3 {
            db.checkpoint().unwrap();
            history.clear();
        }
        history.push(model.clone());
    }
    let image = vfs.crash(CrashMode::KeepAll);
    drop(db);
    let data = image.read_file(&sim_path()).unwrap();
    let log = image.read_file(&wal_path()).unwrap();
    (data, log, history)
}

fn open_with_log(data: &[u8], log: &[u8]) -> Model {
    let vfs = SimVfs::new(9);
    vfs.write_file(&sim_path(), data);
    vfs.write_file(&wal_path(), log);
    let db =
        open_sim(&vfs).unwrap_or_else(|e| panic!("reopen with a log of {} bytes: {e}", log.len()));
    db.check().unwrap();
    dump(&db, &WORKLOAD_TABLES).unwrap()
}

#[test]
fn a_log_cut_at_every_byte_reopens_to_a_committed_prefix() {
    let after = 6;
    let (data, log, history) = build(after);
    // history[0] is the state the checkpoint wrote; the log holds the rest.
    assert_eq!(history.len(), after + 1);
    // The used part of the (preallocated, zero-filled) log ends at its last
    // non-zero byte, give or take a frame's zero padding.
    let used = log.iter().rposition(|&b| b != 0).unwrap() + 1;
    let used = used.next_multiple_of(8);
    // The window covers the last four records (each a few hundred bytes).
    let start = used.saturating_sub(2400).max(32);
    let mut last = 0;
    let mut reached = std::collections::BTreeSet::new();
    for cut in start..=used {
        // Cut short, and cut then zero-filled back to the preallocated size.
        let truncated = open_with_log(&data, &log[..cut]);
        let mut zeroed = log[..cut].to_vec();
        zeroed.resize(log.len(), 0);
        let zero_filled = open_with_log(&data, &zeroed);
        assert!(
            truncated == zero_filled,
            "cut at {cut}: truncated and zero-filled logs differ"
        );
        let at = history
            .iter()
            .position(|m| *m == truncated)
            .unwrap_or_else(|| panic!("cut at {cut}: not the state of a committed prefix"));
        assert!(
            at >= last,
            "cut at {cut}: went back from prefix {last} to {at}"
        );
        last = at;
        reached.insert(at);
    }
    assert_eq!(last, after, "the whole log replays every commit");
    assert!(
        reached.len() >= 4,
        "the window crosses at least four commit boundaries: {reached:?}"
    );
}
