//! The Hermitage cases of `isolation.rs` on the etcd backend, through the
//! ORM's key-value interface: the same schedules of the same steps. The
//! engine prevents each anomaly by making a step wait for a lock or by
//! aborting a deadlock victim; etcd's transactions never wait: each reads
//! one snapshot (its read revision), and the anomaly is prevented at
//! commit, where the second committer's compares fail (`Conflict`). The
//! final state is always that of a serial order.
//!
//! Also: write skew through range reads, with an insert and with a
//! delete (the delete marker, `orm/src/etcd/txn.rs`), a transaction too
//! large for one etcd `Txn`, and the check at connect of the cluster's
//! `--max-txn-ops`.

use std::ops::Bound;
use strata::engine::Error;
use strata::etcd::EtcdStore;
use strata::{KvStore, KvTxn};
use strata_tests::etcd::EtcdCluster;

fn setup(name: &str) -> EtcdStore {
    let store = EtcdStore::connect(&EtcdCluster::shared().url(&format!("hermitage-{name}")))
        .expect("connect");
    let mut tx = store.begin().unwrap();
    tx.create_table("t").unwrap();
    tx.put("t", b"x", b"10").unwrap();
    tx.put("t", b"y", b"20").unwrap();
    tx.commit().unwrap();
    store
}

fn get(tx: &dyn KvTxn, k: &str) -> String {
    String::from_utf8(tx.get("t", k.as_bytes()).unwrap().expect("key")).unwrap()
}

fn put(tx: &mut Box<dyn KvTxn>, k: &str, v: &str) {
    tx.put("t", k.as_bytes(), v.as_bytes()).unwrap();
}

/// Keys whose value is `v` (a predicate read: a scan of the table).
fn select(tx: &dyn KvTxn, v: &str) -> Vec<String> {
    tx.scan("t", Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(Result::unwrap)
        .filter(|(_, val)| val == v.as_bytes())
        .map(|(k, _)| String::from_utf8(k).unwrap())
        .collect()
}

fn state(store: &EtcdStore) -> Vec<(String, String)> {
    let tx = store.begin_read().unwrap();
    tx.scan("t", Bound::Unbounded, Bound::Unbounded, false)
        .unwrap()
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap())
        })
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn conflict(r: strata::engine::Result<()>) {
    assert!(
        matches!(r, Err(Error::Conflict)),
        "expected a conflict, got {r:?}"
    );
}

#[test]
fn g0_dirty_write() {
    let db = setup("g0");
    let (mut t1, mut t2) = (db.begin().unwrap(), db.begin().unwrap());
    put(&mut t1, "x", "11");
    put(&mut t2, "x", "12");
    put(&mut t1, "y", "21");
    t1.commit().unwrap();
    put(&mut t2, "y", "22");
    t2.commit().unwrap();
    // T1 then T2, never a mix.
    assert_eq!(state(&db), pairs(&[("x", "12"), ("y", "22")]));
}

#[test]
fn g1a_aborted_read() {
    let db = setup("g1a");
    let (mut t1, t2) = (db.begin().unwrap(), db.begin().unwrap());
    put(&mut t1, "x", "101");
    assert_eq!(get(&*t2, "x"), "10");
    drop(t1);
    assert_eq!(get(&*t2, "x"), "10");
    t2.commit().unwrap();
}

#[test]
fn g1b_intermediate_read() {
    let db = setup("g1b");
    let (mut t1, t2) = (db.begin().unwrap(), db.begin().unwrap());
    put(&mut t1, "x", "101");
    assert_eq!(get(&*t2, "x"), "10", "never the intermediate 101");
    put(&mut t1, "x", "11");
    t1.commit().unwrap();
    // T2 reads its snapshot: it is serialised before T1.
    assert_eq!(get(&*t2, "x"), "10");
    t2.commit().unwrap();
}

#[test]
fn g1c_circular_information_flow() {
    let db = setup("g1c");
    let (mut t1, mut t2) = (db.begin().unwrap(), db.begin().unwrap());
    put(&mut t1, "x", "11");
    put(&mut t2, "y", "22");
    assert_eq!(get(&*t1, "y"), "20");
    assert_eq!(get(&*t2, "x"), "10");
    t1.commit().unwrap();
    // T2 read the x that T1 overwrote: it would close the cycle.
    conflict(t2.commit());
    assert_eq!(state(&db), pairs(&[("x", "11"), ("y", "20")]));
}

#[test]
fn otv_observed_transaction_vanishes() {
    let db = setup("otv");
    let (mut t1, mut t2, t3) = (
        db.begin().unwrap(),
        db.begin().unwrap(),
        db.begin().unwrap(),
    );
    put(&mut t1, "x", "11");
    put(&mut t1, "y", "19");
    put(&mut t2, "x", "12");
    t1.commit().unwrap();
    put(&mut t2, "y", "18");
    assert_eq!(get(&*t3, "x"), "11");
    t2.commit().unwrap();
    // T3 saw T1's x, so it sees T1's y too, and nothing of T2.
    assert_eq!(get(&*t3, "y"), "19");
    t3.commit().unwrap();
}

#[test]
fn pmp_predicate_many_preceders() {
    let db = setup("pmp");
    let (t1, mut t2) = (db.begin().unwrap(), db.begin().unwrap());
    assert!(select(&*t1, "30").is_empty());
    put(&mut t2, "z", "30");
    t2.commit().unwrap();
    assert!(select(&*t1, "30").is_empty(), "no phantom");
    t1.commit().unwrap();
    assert_eq!(select(&*db.begin().unwrap(), "30"), ["z"]);
}

#[test]
fn p4_lost_update() {
    let db = setup("p4");
    let (mut t1, mut t2) = (db.begin().unwrap(), db.begin().unwrap());
    assert_eq!(get(&*t1, "x"), "10");
    assert_eq!(get(&*t2, "x"), "10");
    put(&mut t1, "x", "11");
    put(&mut t2, "x", "11");
    t1.commit().unwrap();
    conflict(t2.commit());
    assert_eq!(state(&db), pairs(&[("x", "11"), ("y", "20")]));
}

#[test]
fn g_single_read_skew() {
    let db = setup("gsingle");
    let (t1, mut t2) = (db.begin().unwrap(), db.begin().unwrap());
    assert_eq!(get(&*t1, "x"), "10");
    assert_eq!(get(&*t2, "x"), "10");
    assert_eq!(get(&*t2, "y"), "20");
    put(&mut t2, "x", "12");
    put(&mut t2, "y", "18");
    t2.commit().unwrap();
    // T1 still reads y as it was: x + y stays 30 for it.
    assert_eq!(get(&*t1, "y"), "20");
    t1.commit().unwrap();
    assert_eq!(state(&db), pairs(&[("x", "12"), ("y", "18")]));
}

#[test]
fn g2_item_write_skew() {
    let db = setup("g2item");
    let (mut t1, mut t2) = (db.begin().unwrap(), db.begin().unwrap());
    for t in [&t1, &t2] {
        assert_eq!(get(&**t, "x"), "10");
        assert_eq!(get(&**t, "y"), "20");
    }
    put(&mut t1, "x", "11");
    put(&mut t2, "y", "21");
    t1.commit().unwrap();
    conflict(t2.commit());
    assert_eq!(state(&db), pairs(&[("x", "11"), ("y", "20")]));
}

#[test]
fn g2_anti_dependency_on_a_predicate() {
    let db = setup("g2pred");
    let (mut t1, mut t2) = (db.begin().unwrap(), db.begin().unwrap());
    // Both read "rows with value 30" (none), then each inserts one.
    assert!(select(&*t1, "30").is_empty());
    assert!(select(&*t2, "30").is_empty());
    put(&mut t1, "a", "30");
    put(&mut t2, "b", "30");
    t1.commit().unwrap();
    conflict(t2.commit());
    assert_eq!(select(&*db.begin().unwrap(), "30"), ["a"]);
}

/// Write skew through a range read where the other transaction deletes a
/// key of the range: the deleted key is gone from the range compare, and
/// the table's delete marker catches it.
#[test]
fn g2_write_skew_through_a_delete_in_a_scanned_range() {
    let db = setup("g2del");
    let (mut t1, mut t2) = (db.begin().unwrap(), db.begin().unwrap());
    // T1: "if x and y both exist, record it"; T2 deletes y.
    let seen: Vec<String> = select(&*t1, "10")
        .into_iter()
        .chain(select(&*t1, "20"))
        .collect();
    assert_eq!(seen, ["x", "y"]);
    assert!(t2.delete("t", b"y").unwrap());
    t2.commit().unwrap();
    put(&mut t1, "both", "yes");
    conflict(t1.commit());
    assert_eq!(state(&db), pairs(&[("x", "10")]));
}

#[test]
fn get_for_update_serialises_read_modify_write() {
    let db = setup("gfu");
    let (mut t1, mut t2) = (db.begin().unwrap(), db.begin().unwrap());
    assert_eq!(t1.get_for_update("t", b"x").unwrap().unwrap(), b"10");
    assert_eq!(t2.get_for_update("t", b"x").unwrap().unwrap(), b"10");
    put(&mut t1, "x", "11");
    t1.commit().unwrap();
    put(&mut t2, "x", "11");
    conflict(t2.commit());
    // Run again, T2 reads 11 and writes 12.
    let mut t2 = db.begin().unwrap();
    assert_eq!(get(&*t2, "x"), "11");
    put(&mut t2, "x", "12");
    t2.commit().unwrap();
    assert_eq!(state(&db), pairs(&[("x", "12"), ("y", "20")]));
}

#[test]
fn read_only_transactions_cannot_write() {
    let db = setup("ro");
    let mut tx = db.begin_read().unwrap();
    assert_eq!(get(&*tx, "x"), "10");
    assert!(matches!(tx.put("t", b"x", b"1"), Err(Error::ReadOnly)));
    assert!(matches!(tx.delete("t", b"x"), Err(Error::ReadOnly)));
    assert!(matches!(tx.create_table("u"), Err(Error::ReadOnly)));
    tx.commit().unwrap();
}

/// More writes than one etcd `Txn` may hold: `CommitTooLarge`, and nothing
/// of it is stored.
#[test]
fn a_transaction_too_large_for_one_txn_commits_nothing() {
    let db = setup("large");
    let mut tx = db.begin().unwrap();
    for i in 0..1100 {
        tx.put("t", format!("k{i:04}").as_bytes(), b"v").unwrap();
    }
    let r = tx.commit();
    assert!(matches!(r, Err(Error::CommitTooLarge { .. })), "{r:?}");
    // Too many bytes: four values of 400 KiB.
    let mut tx = db.begin().unwrap();
    for i in 0..4 {
        tx.put("t", format!("b{i}").as_bytes(), &vec![7; 400 << 10])
            .unwrap();
    }
    let r = tx.commit();
    assert!(matches!(r, Err(Error::CommitTooLarge { .. })), "{r:?}");
    assert_eq!(state(&db), pairs(&[("x", "10"), ("y", "20")]));
    // One value over the request limit is refused at once.
    let mut tx = db.begin().unwrap();
    assert!(matches!(
        tx.put("t", b"big", &vec![0; 2 << 20]),
        Err(Error::ValueTooLarge { .. })
    ));
}

/// A cluster started with fewer `--max-txn-ops` than the backend asks
/// for is refused at connect, with the flag named.
#[test]
fn connect_checks_the_clusters_max_txn_ops() {
    let url = EtcdCluster::shared().url("ops") + "?max_txn_ops=5000";
    let e = EtcdStore::connect(&url).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidOptions(m) if m.contains("--max-txn-ops=5000")),
        "{e}"
    );
}
