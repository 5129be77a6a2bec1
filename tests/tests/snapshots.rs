//! Snapshot reads: read-only transactions read the committed state as of
//! their start, take no locks, never wait for a writer and never hold one
//! up; their memory is bounded; a wait that only its own thread could end
//! fails at once.
//!
//! A step "did not wait" is shown by the lock manager's counters
//! (`Stats::lock_waits`, `waiting_now`), never by a timer; the channel
//! timeouts below only turn a hang into a failure with a message.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;
use strata_engine::{Database, Error, Options, Transaction};
use strata_tests::{Rng, TempDir, Turn, env_count};

/// How long a step may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(120);

fn open(dir: &TempDir, opts: Options) -> Database {
    Database::open_with(dir.path().join("db"), opts).unwrap()
}

fn small() -> Options {
    Options {
        log_preallocate: 0,
        ..Options::default()
    }
}

fn put(db: &Database, table: &str, k: &[u8], v: &[u8]) {
    db.transaction(|tx| {
        tx.create_table(table)?;
        tx.put(table, k, v)
    })
    .unwrap();
}

fn scan(tx: &Transaction, table: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    tx.range(table, ..).unwrap().map(Result::unwrap).collect()
}

fn scan_back(tx: &Transaction, table: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut v: Vec<_> = tx
        .range(table, ..)
        .unwrap()
        .rev()
        .map(Result::unwrap)
        .collect();
    v.reverse();
    v
}

#[test]
fn a_reader_keeps_seeing_the_state_it_started_with() {
    let dir = TempDir::new("snap-keeps");
    let db = open(&dir, small());
    let big_old = vec![7u8; 5000]; // past a quarter page: overflow pages
    let big_new = vec![9u8; 6000];
    db.transaction(|tx| {
        tx.create_table("t")?;
        tx.put("t", b"a", b"1")?;
        tx.put("t", b"b", b"2")?;
        tx.put("t", b"c", b"3")?;
        tx.put("t", b"big", &big_old)?;
        tx.put("t", b"gone", &big_old)
    })
    .unwrap();
    let reader = db.begin_read().unwrap();
    let before = scan(&reader, "t");
    // Writers change every kind of thing while the reader is open.
    db.transaction(|tx| {
        tx.put("t", b"a", b"10")?; // overwritten
        tx.delete("t", b"b")?; // deleted
        tx.put("t", b"d", b"4")?; // inserted
        tx.put("t", b"big", &big_new)?; // overflow value replaced
        tx.delete("t", b"gone")?; // overflow value deleted (its pages freed)
        tx.create_table("later")?;
        tx.put("later", b"x", b"y")
    })
    .unwrap();
    // Reuse the freed overflow pages for other values.
    db.transaction(|tx| {
        for i in 0..8u8 {
            tx.put("t", &[b'z', i], &vec![i; 4000])?;
        }
        Ok(())
    })
    .unwrap();
    db.checkpoint().unwrap();
    assert_eq!(reader.get("t", b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(reader.get("t", b"b").unwrap(), Some(b"2".to_vec()));
    assert_eq!(reader.get("t", b"d").unwrap(), None);
    assert_eq!(reader.get("t", b"big").unwrap(), Some(big_old.clone()));
    assert_eq!(reader.get("t", b"gone").unwrap(), Some(big_old.clone()));
    let mut seen = None;
    reader
        .get_with("t", b"a", |v| seen = v.map(<[u8]>::to_vec))
        .unwrap();
    assert_eq!(seen, Some(b"1".to_vec()));
    assert!(matches!(
        reader.get("later", b"x"),
        Err(Error::NoSuchTable(_))
    ));
    assert!(!reader.table_exists("later").unwrap());
    assert_eq!(scan(&reader, "t"), before, "a range sees the snapshot");
    assert_eq!(scan_back(&reader, "t"), before, "and so does its reverse");
    let keys: Vec<Vec<u8>> = reader
        .range("t", b"b".as_slice()..=b"d".as_slice())
        .unwrap()
        .map(|kv| kv.unwrap().0)
        .collect();
    assert_eq!(keys, [b"b".to_vec(), b"big".to_vec(), b"c".to_vec()]);
    reader.commit().unwrap();
    // A new reader sees the new state.
    let now = db.begin_read().unwrap();
    assert_eq!(now.get("t", b"a").unwrap(), Some(b"10".to_vec()));
    assert_eq!(now.get("t", b"b").unwrap(), None);
    assert_eq!(now.get("t", b"big").unwrap(), Some(big_new));
    assert_eq!(now.get("later", b"x").unwrap(), Some(b"y".to_vec()));
    drop(now);
    let stats = db.stats();
    assert_eq!(stats.snapshots_open, 0);
    assert_eq!(stats.snapshot_bytes, 0, "no snapshot open: no version kept");
    assert_eq!(stats.lock_waits, 0);
}

#[test]
fn a_reader_never_waits_for_a_writer_and_never_holds_one_up() {
    let dir = TempDir::new("snap-never-waits");
    let db = open(&dir, small());
    put(&db, "t", b"x", b"old");
    // A reader reads x and stays open on its own thread.
    let (read_tx, read_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let reader = {
        let db = db.clone();
        thread::spawn(move || {
            let r = db.begin_read().unwrap();
            read_tx.send(r.get("t", b"x").unwrap()).unwrap();
            go_rx.recv().unwrap(); // stays open until told
            let again = r.get("t", b"x").unwrap();
            let all = scan(&r, "t");
            (again, all)
        })
    };
    assert_eq!(read_rx.recv_timeout(HANG).unwrap(), Some(b"old".to_vec()));
    // A writer of the very key the reader read commits while it is open.
    let (done_tx, done_rx) = mpsc::channel();
    {
        let db = db.clone();
        thread::spawn(move || {
            let r = db.transaction(|tx| {
                tx.put("t", b"x", b"new")?;
                tx.put("t", b"y", b"added")
            });
            done_tx.send(r).unwrap();
        });
    }
    done_rx
        .recv_timeout(HANG)
        .expect("the writer must commit while the reader is open")
        .unwrap();
    assert_eq!(db.stats().lock_waits, 0, "the writer never waited");
    // The other way round: a writer holds x's exclusive lock, uncommitted,
    // and a new reader reads x without waiting, seeing the committed value.
    let writer = strata_tests::Session::new(&db);
    writer
        .run(|tx| tx.put("t", b"x", b"uncommitted").map(|()| Vec::new()))
        .unwrap();
    let second = strata_tests::Session::new(&db);
    let t = second.step(|_| Ok(Vec::new()));
    assert!(matches!(t, Turn::Done(Ok(_))));
    let r = db.begin_read().unwrap();
    assert_eq!(r.get("t", b"x").unwrap(), Some(b"new".to_vec()));
    assert_eq!(scan(&r, "t").len(), 2);
    assert_eq!(db.stats().waiting_now, 0);
    drop(r);
    writer.commit().unwrap();
    go_tx.send(()).unwrap();
    let (again, all) = reader.join().unwrap();
    assert_eq!(
        again,
        Some(b"old".to_vec()),
        "the first reader kept its snapshot"
    );
    assert_eq!(all, vec![(b"x".to_vec(), b"old".to_vec())]);
    assert_eq!(db.stats().lock_waits, 0);
}

#[test]
fn a_read_inside_a_transaction_on_the_same_thread_does_not_wait() {
    let dir = TempDir::new("snap-same-thread");
    let db = open(&dir, small());
    put(&db, "t", b"k", b"committed");
    let seen = db
        .transaction(|tx| {
            tx.put("t", b"k", b"mine")?;
            // The ORM's read session inside a write transaction's closure.
            let r = db.begin_read()?;
            let v = r.get("t", b"k")?;
            let n = r.range("t", ..)?.count();
            Ok((v, n))
        })
        .unwrap();
    assert_eq!(seen, (Some(b"committed".to_vec()), 1));
    assert_eq!(db.stats().retries, 0);
}

#[test]
fn a_wait_on_a_lock_of_the_same_thread_fails_at_once_and_is_not_retried() {
    let dir = TempDir::new("snap-self-wait");
    let db = open(&dir, small());
    put(&db, "t", b"k", b"v");
    let mut first = db.begin().unwrap();
    first.put("t", b"k", b"first").unwrap();
    // A second transaction of this thread wants the same key.
    let second = db.begin().unwrap();
    let e = second.get("t", b"k").unwrap_err();
    assert!(matches!(e, Error::SelfDeadlock { .. }), "got {e:?}");
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("same thread") || e.to_string().contains("this thread"));
    drop(second);
    // Through `Database::transaction`: refused at once, not retried.
    let r = db.transaction(|tx| tx.put("t", b"k", b"other"));
    assert!(matches!(r, Err(Error::SelfDeadlock { .. })), "got {r:?}");
    assert_eq!(db.stats().retries, 0);
    assert_eq!(db.stats().lock_timeouts, 0);
    assert_eq!(db.stats().self_deadlocks, 2);
    first.commit().unwrap();
    assert_eq!(
        db.begin_read().unwrap().get("t", b"k").unwrap(),
        Some(b"first".to_vec())
    );
}

#[test]
fn a_wait_that_only_this_threads_other_transaction_could_end_fails_at_once() {
    let dir = TempDir::new("snap-thread-cycle");
    let db = open(&dir, small());
    db.transaction(|tx| {
        tx.create_table("t")?;
        tx.put("t", b"k1", b"1")?;
        tx.put("t", b"k2", b"2")
    })
    .unwrap();
    // This thread: T1 holds k1.
    let mut t1 = db.begin().unwrap();
    t1.put("t", b"k1", b"t1").unwrap();
    // Another thread: T2 holds k2, then waits for k1.
    let other = strata_tests::Session::new(&db);
    other
        .run(|tx| tx.put("t", b"k2", b"t2").map(|()| Vec::new()))
        .unwrap();
    let t = other.step(|tx| tx.put("t", b"k1", b"t2").map(|()| Vec::new()));
    assert!(matches!(t, Turn::Blocked));
    // This thread: T3 wants k2. T2 waits for T1, which only this thread
    // can finish: the wait could never end.
    let t3 = db.begin().unwrap();
    let e = t3.get("t", b"k2").unwrap_err();
    assert!(matches!(e, Error::SelfDeadlock { .. }), "got {e:?}");
    drop(t3);
    t1.commit().unwrap();
    other.finish().unwrap();
    other.commit().unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.get("t", b"k1").unwrap(), Some(b"t2".to_vec()));
    assert_eq!(r.get("t", b"k2").unwrap(), Some(b"t2".to_vec()));
}

#[test]
fn the_memory_snapshots_pin_is_bounded() {
    let dir = TempDir::new("snap-bounded");
    let limit = 256 << 10;
    let db = open(
        &dir,
        Options {
            max_snapshot_memory: limit,
            ..small()
        },
    );
    db.transaction(|tx| {
        tx.create_table("t")?;
        for i in 0..200u32 {
            tx.put("t", &i.to_be_bytes(), &[1u8; 1000])?;
        }
        Ok(())
    })
    .unwrap();
    let old = db.begin_read().unwrap();
    assert_eq!(old.get("t", &0u32.to_be_bytes()).unwrap().unwrap()[0], 1);
    // Writers overwrite far more than the bound while the reader is open.
    let mut expired_at = None;
    for round in 2..20u8 {
        db.transaction(|tx| {
            for i in 0..200u32 {
                tx.put("t", &i.to_be_bytes(), &[round; 1000])?;
            }
            Ok(())
        })
        .unwrap();
        let stats = db.stats();
        assert!(
            stats.snapshot_bytes <= limit as u64,
            "versions take {} bytes, over the bound {limit}",
            stats.snapshot_bytes
        );
        match old.get("t", &7u32.to_be_bytes()) {
            Ok(v) => assert_eq!(
                v.unwrap()[0],
                1,
                "until it expires, the old snapshot is exact"
            ),
            Err(Error::SnapshotTooOld { .. }) => {
                expired_at.get_or_insert(round);
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert!(
        expired_at.is_some(),
        "the old snapshot expired past the bound"
    );
    assert!(matches!(
        old.range("t", ..).unwrap().next(),
        Some(Err(Error::SnapshotTooOld { .. }))
    ));
    assert!(db.stats().snapshots_expired >= 1);
    drop(old);
    assert_eq!(db.stats().snapshot_bytes, 0);
    // A new snapshot reads the current state.
    let r = db.begin_read().unwrap();
    assert_eq!(r.get("t", &7u32.to_be_bytes()).unwrap().unwrap()[0], 19);
}

#[test]
fn a_long_reader_does_not_stall_writers_or_checkpoints() {
    let dir = TempDir::new("snap-long-reader");
    let opts = Options {
        checkpoint_log_size: 1 << 20,
        log_preallocate: 256 << 10,
        max_snapshot_memory: 4 << 20,
        ..Options::default()
    };
    let log_limit = opts.checkpoint_log_size.max(opts.log_preallocate) + (2 << 20);
    let db = open(&dir, opts);
    db.transaction(|tx| {
        tx.create_table("t")?;
        tx.create_table("pad")?;
        for i in 0..1000u32 {
            tx.put("t", &i.to_be_bytes(), &0u64.to_le_bytes())?;
        }
        Ok(())
    })
    .unwrap();
    let reader = db.begin_read().unwrap();
    let sum = |tx: &Transaction| -> Result<u64, Error> {
        let mut s = 0;
        for kv in tx.range("t", ..)? {
            s += u64::from_le_bytes(kv?.1.try_into().unwrap());
        }
        Ok(s)
    };
    assert_eq!(sum(&reader).unwrap(), 0);
    let checkpoints = db.stats().checkpoints;
    let per_writer = env_count("STRATA_SNAPSHOT_WRITES", 400);
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let db = db.clone();
            thread::spawn(move || {
                let mut rng = Rng::new(w + 1);
                for _ in 0..per_writer {
                    let k = (rng.below(1000) as u32).to_be_bytes();
                    db.transaction(|tx| {
                        let v = u64::from_le_bytes(
                            tx.get_for_update("t", &k)?.unwrap().try_into().unwrap(),
                        );
                        tx.put("t", &k, &(v + 1).to_le_bytes())?;
                        // Padding, so that the log fills and checkpoints run.
                        tx.put("pad", &w.to_be_bytes(), &vec![w as u8; 3000])
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let stats = db.stats();
    assert!(
        stats.commits >= 4 * per_writer,
        "every writer committed ({} commits)",
        stats.commits
    );
    assert!(
        stats.checkpoints > checkpoints,
        "checkpoints ran while the reader was open"
    );
    let log_len = std::fs::metadata(dir.path().join("db-wal")).unwrap().len();
    assert!(
        log_len <= log_limit,
        "the log stayed bounded ({log_len} bytes)"
    );
    assert!(stats.snapshot_bytes <= 4 << 20);
    // The reader, still open, sees its snapshot, or says it is too old.
    match sum(&reader) {
        Ok(s) => assert_eq!(s, 0),
        Err(Error::SnapshotTooOld { .. }) => {}
        Err(e) => panic!("{e}"),
    }
    drop(reader);
    assert_eq!(sum(&db.begin_read().unwrap()).unwrap(), 4 * per_writer);
}

/// One committed transaction of the serial-order checker: its sequence
/// number and what it wrote (`None`: a delete).
type Commit = (u64, Vec<(Vec<u8>, Option<Vec<u8>>)>);

#[test]
fn snapshots_read_a_prefix_of_the_serial_order() {
    let dir = TempDir::new("snap-serial");
    let db = open(
        &dir,
        Options {
            checkpoint_log_size: 512 << 10,
            cache_size: 1 << 20,
            ..small()
        },
    );
    db.transaction(|tx| {
        tx.create_table("t")?;
        tx.create_table("meta")?;
        tx.put("meta", b"seq", &0u64.to_le_bytes())
    })
    .unwrap();
    let rounds = env_count("STRATA_SNAPSHOT_ROUNDS", 150);
    let log: Arc<Mutex<Vec<Commit>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3u64)
        .map(|w| {
            let (db, log) = (db.clone(), log.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(100 + w);
                for _ in 0..rounds {
                    let mut writes = Vec::new();
                    for _ in 0..1 + rng.below(4) {
                        let k = format!("k{:02}", rng.below(40)).into_bytes();
                        let v = match rng.below(4) {
                            0 => None,
                            // Sometimes a value in overflow pages.
                            1 => Some(vec![rng.below(250) as u8; 1500 + rng.below(3000) as usize]),
                            _ => Some(rng.next_u64().to_le_bytes().to_vec()),
                        };
                        writes.push((k, v));
                    }
                    let seq = db
                        .transaction(|tx| {
                            let seq = u64::from_le_bytes(
                                tx.get_for_update("meta", b"seq")?
                                    .unwrap()
                                    .try_into()
                                    .unwrap(),
                            ) + 1;
                            tx.put("meta", b"seq", &seq.to_le_bytes())?;
                            for (k, v) in &writes {
                                match v {
                                    Some(v) => tx.put("t", k, v)?,
                                    None => _ = tx.delete("t", k)?,
                                }
                            }
                            Ok(seq)
                        })
                        .unwrap();
                    log.lock().unwrap().push((seq, writes));
                }
            })
        })
        .collect();
    // Readers record what each snapshot showed.
    type Seen = (
        u64,
        Vec<(Vec<u8>, Vec<u8>)>,
        Vec<(Vec<u8>, Option<Vec<u8>>)>,
    );
    let readers: Vec<_> = (0..2u64)
        .map(|r| {
            let (db, stop) = (db.clone(), stop.clone());
            thread::spawn(move || {
                let mut rng = Rng::new(200 + r);
                let mut seen: Vec<Seen> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let tx = db.begin_read().unwrap();
                    let seq = u64::from_le_bytes(
                        tx.get("meta", b"seq").unwrap().unwrap().try_into().unwrap(),
                    );
                    // Pause inside the snapshot now and then, so commits land
                    // between its reads.
                    if rng.below(3) == 0 {
                        thread::yield_now();
                    }
                    let all = if rng.below(2) == 0 {
                        scan(&tx, "t")
                    } else {
                        scan_back(&tx, "t")
                    };
                    let points: Vec<_> = (0..4)
                        .map(|_| {
                            let k = format!("k{:02}", rng.below(40)).into_bytes();
                            let v = tx.get("t", &k).unwrap();
                            (k, v)
                        })
                        .collect();
                    seen.push((seq, all, points));
                }
                seen
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let mut log = log.lock().unwrap().clone();
    log.sort_by_key(|c| c.0);
    assert_eq!(log.len() as u64, 3 * rounds);
    // The state after each prefix of the serial order.
    let mut states = vec![BTreeMap::new()];
    for (i, (seq, writes)) in log.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1, "sequence numbers have no gap");
        let mut s = states.last().unwrap().clone();
        for (k, v) in writes {
            match v {
                Some(v) => s.insert(k.clone(), v.clone()),
                None => s.remove(k),
            };
        }
        states.push(s);
    }
    let mut checked = 0;
    for r in readers {
        for (seq, all, points) in r.join().unwrap() {
            let expect = &states[seq as usize];
            let got: BTreeMap<_, _> = all.into_iter().collect();
            assert_eq!(&got, expect, "snapshot at seq {seq}");
            for (k, v) in points {
                assert_eq!(v.as_ref(), expect.get(&k), "point read at seq {seq}");
            }
            checked += 1;
        }
    }
    assert!(checked > 0);
    assert_eq!(db.stats().snapshots_open, 0);
}

/// A commit too large for the log is applied in chunks, and readers go on
/// between them: every snapshot, begun before, during or after such a
/// commit, sees all of it or none of it.
#[test]
fn snapshots_see_a_commit_applied_in_chunks_whole_or_not_at_all() {
    let dir = TempDir::new("snap-chunked");
    let db = open(
        &dir,
        Options {
            checkpoint_log_size: 1 << 20,
            txn_memory_limit: 2 << 20,
            ..small()
        },
    );
    const KEYS: u32 = 40_000; // 40,000 values of 200 bytes: two 4 MiB chunks
    let fill = |tx: &mut Transaction, generation: u8| -> Result<(), Error> {
        for i in 0..KEYS {
            tx.put("t", &i.to_be_bytes(), &[generation; 200])?;
        }
        Ok(())
    };
    db.transaction(|tx| {
        tx.create_table("t")?;
        fill(tx, 0)
    })
    .unwrap();
    let before = db.begin_read().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (db, stop) = (db.clone(), stop.clone());
            thread::spawn(move || {
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let tx = db.begin_read().unwrap();
                    let mut generations = BTreeMap::new();
                    let mut n = 0u32;
                    for kv in tx.range("t", ..).unwrap() {
                        let (_, v) = kv.unwrap();
                        *generations.entry(v[0]).or_insert(0u32) += 1;
                        n += 1;
                    }
                    assert_eq!(n, KEYS);
                    assert_eq!(
                        generations.len(),
                        1,
                        "a snapshot saw parts of two commits: {generations:?}"
                    );
                    seen.push(*generations.keys().next().unwrap());
                }
                seen
            })
        })
        .collect();
    for generation in 1..=3u8 {
        db.transaction(|tx| fill(tx, generation)).unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        let seen = r.join().unwrap();
        assert!(!seen.is_empty());
    }
    // The snapshot begun before the big commits saw none of them.
    let old: Vec<_> = before
        .range("t", ..)
        .unwrap()
        .map(|kv| kv.unwrap().1[0])
        .collect();
    assert_eq!(old.len() as u32, KEYS);
    assert!(old.iter().all(|&g| g == 0));
    drop(before);
    assert!(db.stats().pages_written_early > 0 || db.stats().checkpoints > 0);
    let now = db.begin_read().unwrap();
    assert_eq!(now.get("t", &7u32.to_be_bytes()).unwrap().unwrap()[0], 3);
}

#[test]
fn a_snapshot_counts_and_skips_what_it_sees_not_what_was_committed_since() {
    let dir = TempDir::new("snap-count");
    let db = open(&dir, Options::default());
    let key = |i: u32| i.to_be_bytes().to_vec();
    let mut tx = db.begin().unwrap();
    tx.create_table("t").unwrap();
    for i in (0..20_000).step_by(2) {
        tx.put("t", &key(i), b"v").unwrap();
    }
    tx.commit().unwrap();
    db.checkpoint().unwrap();
    let before = db.begin_read().unwrap();
    let seen = scan(&before, "t");
    // Commits after the snapshot: deletes and inserts spread over many
    // leaves, and a run of inserts inside one.
    let mut tx = db.begin().unwrap();
    for i in (0..20_000).step_by(14) {
        tx.delete("t", &key(i)).unwrap();
    }
    for i in (1..20_000).step_by(10) {
        tx.put("t", &key(i), b"w").unwrap();
    }
    tx.commit().unwrap();
    let now = db.begin_read().unwrap();
    for (tx, want) in [(&before, seen), (&now, scan(&now, "t"))] {
        assert_eq!(
            tx.range("t", ..).unwrap().count_entries().unwrap(),
            want.len() as u64
        );
        let (lo, hi) = (key(3_001), key(15_000));
        let inside: Vec<_> = want
            .iter()
            .filter(|(k, _)| *k >= lo && *k < hi)
            .cloned()
            .collect();
        let range = || tx.range("t", lo.clone()..hi.clone()).unwrap();
        assert_eq!(range().count_entries().unwrap(), inside.len() as u64);
        for skip in [
            0,
            1,
            500,
            1_234,
            inside.len() - 1,
            inside.len(),
            inside.len() + 7,
        ] {
            let mut r = range();
            assert_eq!(
                r.skip_entries(skip as u64).unwrap(),
                skip.min(inside.len()) as u64
            );
            assert_eq!(
                r.next().transpose().unwrap(),
                inside.get(skip).cloned(),
                "after {skip}"
            );
            let mut r = range();
            r.skip_entries_back(skip as u64).unwrap();
            let back = inside
                .len()
                .checked_sub(skip + 1)
                .map(|i| inside[i].clone());
            assert_eq!(
                r.next_back().transpose().unwrap(),
                back,
                "before the last {skip}"
            );
        }
    }
}
