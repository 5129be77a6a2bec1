//! One million random 24-byte keys with 150-byte values: load, read back
//! every one, scan them all in order both ways, reopen, check, and keep the
//! file within 2.5 times the raw data. Runs optimised (the `ci` profile).
//!
//! `STRATA_LARGE_KEYS` changes the number of keys.

use std::collections::HashSet;
use strata_engine::{Database, Options};
use strata_tests::{Rng, TempDir, env_count};

fn key(rng: &mut Rng) -> [u8; 24] {
    let mut k = [0u8; 24];
    for chunk in k.chunks_mut(8) {
        chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    k
}

fn value(k: &[u8]) -> [u8; 150] {
    let mut v = [0u8; 150];
    for (i, b) in v.iter_mut().enumerate() {
        *b = k[i % 24] ^ (i as u8);
    }
    v
}

#[test]
fn a_million_keys_load_read_back_and_scan() {
    let n = env_count("STRATA_LARGE_KEYS", 1_000_000) as usize;
    let dir = TempDir::new("large");
    let path = dir.path().join("large.strata");
    let opts = Options {
        log_preallocate: 0,
        ..Options::default()
    };
    let mut rng = Rng::new(2024);
    let mut keys: Vec<[u8; 24]> = (0..n).map(|_| key(&mut rng)).collect();
    assert_eq!(
        keys.iter().collect::<HashSet<_>>().len(),
        n,
        "keys are distinct"
    );

    let db = Database::open_with(&path, opts.clone()).unwrap();
    let mut tx = db.begin().unwrap();
    tx.create_table("kv").unwrap();
    tx.commit().unwrap();
    for batch in keys.chunks(100_000) {
        let mut tx = db.begin().unwrap();
        for k in batch {
            tx.put("kv", k, &value(k)).unwrap();
        }
        tx.commit().unwrap();
    }

    // Every key reads back, in a shuffled order.
    let tx = db.begin().unwrap();
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    for &i in &order {
        let got = tx.get("kv", &keys[i]).unwrap();
        assert!(
            got.as_deref() == Some(&value(&keys[i])[..]),
            "key {i} reads back"
        );
    }
    drop(tx);

    // A full scan returns exactly the sorted keys, forwards and backwards.
    keys.sort_unstable();
    let tx = db.begin().unwrap();
    let mut count = 0;
    for (kv, want) in tx.range("kv", ..).unwrap().zip(&keys) {
        let (k, v) = kv.unwrap();
        assert!(k == want && v == value(want), "scan entry {count}");
        count += 1;
    }
    assert_eq!(count, n);
    let back = tx.range("kv", ..).unwrap().rev().map(|kv| kv.unwrap().0);
    assert!(
        back.eq(keys.iter().rev().map(|k| k.to_vec())),
        "reverse scan"
    );
    // A bounded range.
    let (lo, hi) = (keys[n / 3], keys[n / 2]);
    assert_eq!(tx.range("kv", lo..hi).unwrap().count(), n / 2 - n / 3);
    drop(tx);
    drop(db);

    // Reopened: intact, and the file is compact.
    let db = Database::open_with(&path, opts).unwrap();
    let report = db.check().unwrap();
    println!("{report:?}");
    assert_eq!(report.entries as usize, n);
    let raw = n as u64 * (24 + 150);
    let file = std::fs::metadata(&path).unwrap().len();
    let log = std::fs::metadata(dir.path().join("large.strata-wal"))
        .unwrap()
        .len();
    println!(
        "{n} keys: raw {raw} bytes, data file {file} ({:.2}x), log {log}",
        file as f64 / raw as f64
    );
    assert!(
        (file + log) as f64 <= 2.5 * raw as f64,
        "file {file} + log {log} exceeds 2.5x raw {raw}"
    );
}
