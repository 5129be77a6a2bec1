//! A panic inside the closure of `Database::transaction` rolls the
//! transaction back: its writes are gone, its locks released (a waiter in
//! another thread goes on), and the handle is not poisoned.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::time::Duration;
use strata_engine::storage::{CrashMode, SimVfs};
use strata_engine::{Database, Options};
use strata_tests::{dump, sim_options, sim_path};

fn open(vfs: &SimVfs, lock_timeout: Duration) -> Database {
    Database::open_with(
        sim_path(),
        Options {
            lock_timeout,
            ..sim_options(vfs)
        },
    )
    .unwrap()
}

fn setup(db: &Database) {
    db.transaction(|tx| {
        tx.create_table("t")?;
        tx.put("t", b"k", b"before")
    })
    .unwrap();
}

/// Runs `f` in `db.transaction`, expecting it to panic.
fn panicking(db: &Database, f: impl FnMut(&mut strata_engine::Transaction)) {
    let mut f = f;
    let r = catch_unwind(AssertUnwindSafe(|| {
        db.transaction(|tx| -> strata_engine::Result<()> {
            f(tx);
            panic!("the closure panics");
        })
    }));
    assert!(r.is_err(), "the panic went through");
}

#[test]
fn a_panic_rolls_back_and_releases_locks() {
    let vfs = SimVfs::new(1);
    // Locks leaked by the panic would make the writes below time out.
    let db = open(&vfs, Duration::from_millis(200));
    setup(&db);
    // Key locks (X on "k", S on "other"), a created table, and a range
    // still open (the table's S lock) when the panic unwinds.
    panicking(&db, |tx| {
        tx.put("t", b"k", b"lost").unwrap();
        tx.put("t", b"new", b"lost").unwrap();
        assert_eq!(tx.get("t", b"other").unwrap(), None);
        tx.create_table("u").unwrap();
        tx.put("u", b"x", b"lost").unwrap();
        let mut range = tx.range("t", ..).unwrap();
        assert!(range.next().is_some());
        panic!("the closure panics with a range open");
    });
    // Nothing of it is visible, from another thread too, and every lock
    // it held can be taken.
    std::thread::scope(|s| {
        s.spawn(|| {
            let tx = db.begin().unwrap();
            assert_eq!(tx.get("t", b"k").unwrap(), Some(b"before".to_vec()));
            assert_eq!(tx.get("t", b"new").unwrap(), None);
            assert!(!tx.table_exists("u").unwrap());
        });
    });
    db.transaction(|tx| {
        tx.put("t", b"k", b"after")?;
        tx.put("t", b"other", b"after")?;
        tx.create_table("u")?;
        tx.put("u", b"x", b"after")
    })
    .unwrap();
    db.check().unwrap();
    // And the state survives a power loss.
    let image = vfs.crash(CrashMode::DropAll);
    drop(db);
    let db = open(&image, Duration::from_secs(5));
    let got = dump(&db, &["t", "u"]).unwrap();
    assert_eq!(got["t"].get(&b"k"[..]), Some(&b"after".to_vec()));
    assert_eq!(got["t"].get(&b"new"[..]), None);
    assert_eq!(got["u"].get(&b"x"[..]), Some(&b"after".to_vec()));
}

#[test]
fn a_waiter_goes_on_when_the_holder_panics() {
    let vfs = SimVfs::new(2);
    // Long enough that the waiter never times out here.
    let db = open(&vfs, Duration::from_secs(600));
    setup(&db);
    let (locked_tx, locked_rx) = mpsc::channel();
    std::thread::scope(|s| {
        let holder = s.spawn(|| {
            let r = catch_unwind(AssertUnwindSafe(|| {
                db.transaction(|tx| -> strata_engine::Result<()> {
                    tx.put("t", b"k", b"lost")?;
                    locked_tx.send(()).unwrap();
                    // Panic only once the waiter waits for the lock.
                    while db.stats().waiting_now == 0 {
                        std::thread::yield_now();
                    }
                    panic!("the holder panics");
                })
            }));
            assert!(r.is_err());
        });
        locked_rx.recv().unwrap();
        let waiter = s.spawn(|| {
            db.transaction(|tx| {
                let seen = tx.get("t", b"k")?;
                tx.put("t", b"k", b"waiter")?;
                Ok(seen)
            })
        });
        holder.join().unwrap();
        // The waiter read the value from before the panicked transaction.
        assert_eq!(waiter.join().unwrap().unwrap(), Some(b"before".to_vec()));
    });
    assert_eq!(
        db.begin_read().unwrap().get("t", b"k").unwrap(),
        Some(b"waiter".to_vec())
    );
    assert_eq!(db.stats().waiting_now, 0);
    db.check().unwrap();
}

#[test]
fn panics_in_many_threads_leave_the_handle_usable() {
    let vfs = SimVfs::new(3);
    let db = open(&vfs, Duration::from_secs(600));
    setup(&db);
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let db = &db;
            s.spawn(move || {
                for i in 0..50u8 {
                    let key = [t, i];
                    if i % 3 == 0 {
                        panicking(db, |tx| tx.put("t", &key, b"lost").unwrap());
                    } else {
                        db.transaction(|tx| tx.put("t", &key, &[i])).unwrap();
                    }
                }
            });
        }
    });
    let got = dump(&db, &["t"]).unwrap();
    for t in 0..4u8 {
        for i in 0..50u8 {
            let want = (i % 3 != 0).then(|| vec![i]);
            assert_eq!(got["t"].get(&[t, i][..]), want.as_ref(), "key {t}/{i}");
        }
    }
    db.check().unwrap();
    db.checkpoint().unwrap();
}
