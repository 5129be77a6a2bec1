//! Scripted isolation tests, one per anomaly of Adya's hierarchy (the
//! Hermitage set): two or three transactions interleaved step by step on
//! their own threads. Each anomaly must be prevented: the step that would
//! expose it blocks (seen through the lock manager's waiter count, never a
//! timer), or one party is aborted as a deadlock victim; the final state is
//! what a serial order gives.

use strata_engine::{Database, Error, Options};
use strata_tests::{Reply, Session, TempDir, Turn};

fn setup() -> (TempDir, Database) {
    let dir = TempDir::new("isolation");
    let opts = Options {
        log_preallocate: 0,
        ..Options::default()
    };
    let db = Database::open_with(dir.path().join("db"), opts).unwrap();
    let mut tx = db.begin().unwrap();
    tx.create_table("t").unwrap();
    tx.put("t", b"x", b"10").unwrap();
    tx.put("t", b"y", b"20").unwrap();
    tx.commit().unwrap();
    (dir, db)
}

fn put(
    k: &'static str,
    v: &'static str,
) -> impl FnOnce(&mut strata_engine::Transaction) -> Reply + Send {
    move |tx| tx.put("t", k.as_bytes(), v.as_bytes()).map(|()| Vec::new())
}

fn get(k: &'static str) -> impl FnOnce(&mut strata_engine::Transaction) -> Reply + Send {
    move |tx| Ok(tx.get("t", k.as_bytes())?.into_iter().collect())
}

/// The values of keys in `t` whose value is `v` (a predicate read: a scan).
fn select(v: &'static str) -> impl FnOnce(&mut strata_engine::Transaction) -> Reply + Send {
    move |tx| {
        let mut out = Vec::new();
        for kv in tx.range("t", ..)? {
            let (k, val) = kv?;
            if val == v.as_bytes() {
                out.push(k);
            }
        }
        Ok(out)
    }
}

fn vals(r: Reply) -> Vec<String> {
    r.unwrap()
        .into_iter()
        .map(|v| String::from_utf8(v).unwrap())
        .collect()
}

fn state(db: &Database) -> Vec<(String, String)> {
    let tx = db.begin_read().unwrap();
    tx.range("t", ..)
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

fn blocked(t: Turn) {
    assert!(
        matches!(t, Turn::Blocked),
        "expected the step to wait for a lock, got {t:?}"
    );
}

fn deadlock(t: Turn) {
    assert!(
        matches!(t, Turn::Done(Err(Error::Deadlock))),
        "expected a deadlock victim, got {t:?}"
    );
}

#[test]
fn g0_dirty_write() {
    let (_d, db) = setup();
    let (t1, t2) = (Session::new(&db), Session::new(&db));
    t1.run(put("x", "11")).unwrap();
    blocked(t2.step(put("x", "12")));
    t1.run(put("y", "21")).unwrap();
    t1.commit().unwrap();
    t2.finish().unwrap();
    t2.run(put("y", "22")).unwrap();
    t2.commit().unwrap();
    // T1 then T2, never a mix.
    assert_eq!(state(&db), pairs(&[("x", "12"), ("y", "22")]));
}

#[test]
fn g1a_aborted_read() {
    let (_d, db) = setup();
    let (t1, t2) = (Session::new(&db), Session::new(&db));
    t1.run(put("x", "101")).unwrap();
    blocked(t2.step(get("x")));
    t1.rollback().unwrap();
    assert_eq!(vals(t2.finish()), ["10"]);
    t2.commit().unwrap();
}

#[test]
fn g1b_intermediate_read() {
    let (_d, db) = setup();
    let (t1, t2) = (Session::new(&db), Session::new(&db));
    t1.run(put("x", "101")).unwrap();
    blocked(t2.step(get("x")));
    t1.run(put("x", "11")).unwrap();
    t1.commit().unwrap();
    assert_eq!(vals(t2.finish()), ["11"]);
    t2.commit().unwrap();
}

#[test]
fn g1c_circular_information_flow() {
    let (_d, db) = setup();
    let (t1, t2) = (Session::new(&db), Session::new(&db));
    t1.run(put("x", "11")).unwrap();
    t2.run(put("y", "22")).unwrap();
    blocked(t1.step(get("y")));
    // T2 closes the cycle; it is the younger, so it is the victim.
    deadlock(t2.step(get("x")));
    assert_eq!(vals(t1.finish()), ["20"]);
    t1.commit().unwrap();
    assert_eq!(state(&db), pairs(&[("x", "11"), ("y", "20")]));
    assert_eq!(db.stats().deadlocks, 1);
}

#[test]
fn otv_observed_transaction_vanishes() {
    let (_d, db) = setup();
    let (t1, t2, t3) = (Session::new(&db), Session::new(&db), Session::new(&db));
    t1.run(put("x", "11")).unwrap();
    t1.run(put("y", "19")).unwrap();
    blocked(t2.step(put("x", "12")));
    t1.commit().unwrap();
    t2.finish().unwrap();
    t2.run(put("y", "18")).unwrap();
    blocked(t3.step(get("x")));
    t2.commit().unwrap();
    // T3 sees all of T2, so it cannot see T1's y afterwards.
    assert_eq!(vals(t3.finish()), ["12"]);
    assert_eq!(vals(t3.run(get("y"))), ["18"]);
    t3.commit().unwrap();
}

#[test]
fn pmp_predicate_many_preceders() {
    let (_d, db) = setup();
    let (t1, t2) = (Session::new(&db), Session::new(&db));
    assert!(vals(t1.run(select("30"))).is_empty());
    // Inserting a row that matches T1's predicate waits for T1.
    blocked(t2.step(put("z", "30")));
    assert!(vals(t1.run(select("30"))).is_empty(), "no phantom");
    t1.commit().unwrap();
    t2.finish().unwrap();
    t2.commit().unwrap();
    assert_eq!(vals(Session::new(&db).run(select("30"))), ["z"]);
}

#[test]
fn p4_lost_update() {
    let (_d, db) = setup();
    let (t1, t2) = (Session::new(&db), Session::new(&db));
    assert_eq!(vals(t1.run(get("x"))), ["10"]);
    assert_eq!(vals(t2.run(get("x"))), ["10"]);
    blocked(t1.step(put("x", "11")));
    deadlock(t2.step(put("x", "11")));
    t1.finish().unwrap();
    t1.commit().unwrap();
    // One increment committed, the other was aborted (to be retried): none lost.
    assert_eq!(state(&db), pairs(&[("x", "11"), ("y", "20")]));
}

#[test]
fn g_single_read_skew() {
    let (_d, db) = setup();
    let (t1, t2) = (Session::new(&db), Session::new(&db));
    assert_eq!(vals(t1.run(get("x"))), ["10"]);
    assert_eq!(vals(t2.run(get("x"))), ["10"]);
    assert_eq!(vals(t2.run(get("y"))), ["20"]);
    blocked(t2.step(put("x", "12")));
    // T1 still reads y as it was: x + y stays 30 for it.
    assert_eq!(vals(t1.run(get("y"))), ["20"]);
    t1.commit().unwrap();
    t2.finish().unwrap();
    t2.run(put("y", "18")).unwrap();
    t2.commit().unwrap();
    assert_eq!(state(&db), pairs(&[("x", "12"), ("y", "18")]));
}

#[test]
fn g2_item_write_skew() {
    let (_d, db) = setup();
    let (t1, t2) = (Session::new(&db), Session::new(&db));
    for s in [&t1, &t2] {
        assert_eq!(vals(s.run(get("x"))), ["10"]);
        assert_eq!(vals(s.run(get("y"))), ["20"]);
    }
    blocked(t1.step(put("x", "11")));
    deadlock(t2.step(put("y", "21")));
    t1.finish().unwrap();
    t1.commit().unwrap();
    assert_eq!(state(&db), pairs(&[("x", "11"), ("y", "20")]));
}

#[test]
fn g2_anti_dependency_on_a_predicate() {
    let (_d, db) = setup();
    let (t1, t2) = (Session::new(&db), Session::new(&db));
    // Both read "rows with value 30" (none), then each inserts one.
    assert!(vals(t1.run(select("30"))).is_empty());
    assert!(vals(t2.run(select("30"))).is_empty());
    blocked(t1.step(put("a", "30")));
    deadlock(t2.step(put("b", "30")));
    t1.finish().unwrap();
    t1.commit().unwrap();
    assert_eq!(vals(Session::new(&db).run(select("30"))), ["a"]);
}

#[test]
fn get_for_update_serialises_read_modify_write_without_deadlock() {
    let (_d, db) = setup();
    let (t1, t2) = (Session::new(&db), Session::new(&db));
    assert_eq!(
        vals(t1.run(|tx| Ok(tx.get_for_update("t", b"x")?.into_iter().collect()))),
        ["10"]
    );
    // The second reader waits instead of sharing the read and deadlocking later.
    blocked(t2.step(|tx| Ok(tx.get_for_update("t", b"x")?.into_iter().collect())));
    t1.run(put("x", "11")).unwrap();
    t1.commit().unwrap();
    assert_eq!(vals(t2.finish()), ["11"]);
    t2.run(put("x", "12")).unwrap();
    t2.commit().unwrap();
    assert_eq!(state(&db), pairs(&[("x", "12"), ("y", "20")]));
    assert_eq!(db.stats().deadlocks, 0);
}

#[test]
fn read_only_transactions_cannot_write() {
    let (_d, db) = setup();
    let mut tx = db.begin_read().unwrap();
    assert!(tx.is_read_only());
    assert_eq!(tx.get("t", b"x").unwrap(), Some(b"10".to_vec()));
    assert!(matches!(tx.put("t", b"x", b"1"), Err(Error::ReadOnly)));
    assert!(matches!(tx.delete("t", b"x"), Err(Error::ReadOnly)));
    assert!(matches!(tx.create_table("u"), Err(Error::ReadOnly)));
    tx.commit().unwrap();
}

/// Read skew (G-single) with a read-only reader: it reads a snapshot, so a
/// writer that commits between its two reads neither waits for it nor
/// shows it half of the change.
#[test]
fn a_snapshot_reader_sees_no_read_skew_and_holds_no_one_up() {
    let (_d, db) = setup();
    let reader = db.begin_read().unwrap();
    assert_eq!(reader.get("t", b"x").unwrap(), Some(b"10".to_vec()));
    let writer = Session::new(&db);
    // Moves 1 from x to y: neither step waits for the reader.
    writer.run(put("x", "9")).unwrap();
    writer.run(put("y", "21")).unwrap();
    writer.commit().unwrap();
    // The reader, begun before that commit, keeps seeing the old values.
    assert_eq!(reader.get("t", b"y").unwrap(), Some(b"20".to_vec()));
    assert_eq!(reader.get("t", b"x").unwrap(), Some(b"10".to_vec()));
    let all: Vec<_> = reader.range("t", ..).unwrap().map(Result::unwrap).collect();
    assert_eq!(
        all,
        vec![
            (b"x".to_vec(), b"10".to_vec()),
            (b"y".to_vec(), b"20".to_vec())
        ]
    );
    reader.commit().unwrap();
    assert_eq!(state(&db), pairs(&[("x", "9"), ("y", "21")]));
    assert_eq!(db.stats().lock_waits, 0, "nobody waited");
}
