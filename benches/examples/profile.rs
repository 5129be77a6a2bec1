//! The benchmark's read workloads, one at a time, in one process, for
//! instruction-count profiles (callgrind counts are stable on a noisy
//! machine, unlike timings). It drives the same engine adapters as
//! `strata-bench`, so a profile shows exactly the benchmark's work.
//!
//! ```sh
//! cargo build --release -p strata-benches --example profile
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='profile::phase' \
//!     target/release/examples/profile strata range
//! ```
//!
//! Arguments: the engine (`strata` or `lmdb` for the key-value workloads,
//! `orm` for the ORM ones), then the workload: `range` (scans of 10 from
//! random keys), `get` (random gets), `full` (whole-table scans) or
//! `batch` (100 transactions of 1,000 random inserts) for the key-value
//! engines; `get`, `first` (first by unique username), `count`
//! (count of emails ending with a domain), `icount` (count of usernames
//! containing a string, ignoring case), `page` (a page of 20 users by
//! username, with the total), `join` (1,000 queries, each in its own read
//! session, for the addresses of a person found by name: a join with a
//! filter on the parent) or `eager` (10 loads of every person with their
//! addresses) for the ORM; `join` and `eager` load 1,000 persons with
//! three addresses each besides the users. `raw get` and `raw first` run
//! the same lookups written by hand against the engine (the benchmark's
//! "by hand" side, `benches/src/orm/raw.rs`): the ORM's overhead is the
//! difference. Only `phase` is counted; loading is not.
//!
//! Environment: `N` (keys or users, default 200,000), `BATCHES` (batches
//! of 1,000 random inserts after the load, as the benchmark does before it
//! reads; default 100), `SETTLE=1` to checkpoint before reading (the
//! benchmark does not, so its reads meet the batches' dirty pages).

#![deny(unsafe_code)]

use std::path::PathBuf;
use strata::TextColumn;
use strata_benches::engines::{lmdb::LmdbKv, strata::StrataKv};
use strata_benches::kv::{KvEngine, key, value};
use strata_benches::rng::Rng;
use strata_benches::{Result, fail};
use strata_engine::Durability;
use strata_tests::TempDir;
use strata_tests::models::User;

use strata_tests::env_count as env;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (engine, work) = match args.as_slice() {
        [e, w] => (e.as_str(), w.as_str()),
        _ => fail!("usage: profile strata|lmdb|orm|raw WORKLOAD (see the source)"),
    };
    let dir = TempDir::new("profile");
    let n = env("N", 200_000);
    match engine {
        "strata" => kv(&mut StrataKv::open(dir.path(), Durability::Full)?, work, n),
        "lmdb" => kv(&mut LmdbKv::open(dir.path())?, work, n),
        "orm" => orm(dir.path(), work, n),
        "raw" => raw(dir.path(), work, n),
        other => Err(format!("unknown engine {other}").into()),
    }
}

/// Loads `n` keys and the batches, then profiles `work`.
fn kv(e: &mut dyn KvEngine, work: &str, n: u64) -> Result<()> {
    e.write(&mut |w| (0..n).try_for_each(|i| w.put(&key(i), &value(i))))?;
    e.settle()?;
    let mut next = n;
    for _ in 0..env("BATCHES", 100) {
        let first = next;
        e.write(&mut |w| (first..first + 1000).try_for_each(|i| w.put(&key(i), &value(i))))?;
        next += 1000;
    }
    if env("SETTLE", 0) == 1 {
        e.settle()?;
    }
    let t = std::time::Instant::now();
    let got = if work == "batch" {
        // The benchmark's batch writes: 100 transactions of 1,000 new
        // random keys.
        phase(&mut || {
            for b in 0..100 {
                let first = next + b * 1000;
                e.write(&mut |w| {
                    (first..first + 1000).try_for_each(|i| w.put(&key(i), &value(i)))
                })?;
            }
            Ok(100_000)
        })?
    } else {
        phase(&mut || kv_work(e, work, next))?
    };
    eprintln!("{work}: {:?}, {got} entries", t.elapsed());
    Ok(())
}

/// The counted part.
#[inline(never)]
fn phase(f: &mut dyn FnMut() -> Result<u64>) -> Result<u64> {
    f()
}

fn kv_work(e: &mut dyn KvEngine, work: &str, total: u64) -> Result<u64> {
    let mut rng = Rng::new(7);
    let mut got = 0u64;
    for _ in 0..100 {
        e.read(&mut |r| {
            for _ in 0..1000 {
                let i = rng.below(total);
                got += match work {
                    "range" => r.scan(&key(i), 10)?.0 as u64,
                    "get" => u64::from(r.get(&key(i))?.is_some()),
                    // LMDB refuses an empty key, even as a bound.
                    "full" => r.scan(&[0], usize::MAX)?.0 as u64,
                    other => fail!("unknown workload {other}"),
                };
                if work == "full" {
                    break;
                }
            }
            Ok(())
        })?;
        if work == "full" && got >= total * 5 {
            break;
        }
    }
    Ok(got)
}

/// Adds `n` users as the ORM benchmark does, then profiles `work`.
fn orm(dir: &std::path::Path, work: &str, n: u64) -> Result<()> {
    let path: PathBuf = dir.join("orm.strata");
    let db = strata::Database::open(&path)?;
    for c in 0..n.div_ceil(1000) {
        let mut s = db.session()?;
        for i in c * 1000..((c + 1) * 1000).min(n) {
            s.add(&mut strata_benches::orm::user(i + 1))?;
        }
        s.commit()?;
    }
    if work == "join" || work == "eager" {
        return orm_persons(&db, work);
    }
    let (mut rng, names) = lookups(n);
    let t = std::time::Instant::now();
    let got = phase(&mut || {
        let mut got = 0u64;
        for chunk in names.chunks(1000) {
            let s = db.read_session()?;
            for (j, name) in chunk.iter().enumerate() {
                got += match work {
                    "get" => u64::from(s.get::<User>(rng.below(n) as i64 + 1)?.is_some()),
                    "first" => u64::from(
                        s.query::<User>()
                            .filter(User::username.eq(name.as_str()))
                            .first()?
                            .is_some(),
                    ),
                    "count" if j < 2 => s
                        .query::<User>()
                        .filter(User::email.ends_with("@d3.example"))
                        .count()?,
                    "count" => 0,
                    "icount" if j < 2 => s
                        .query::<User>()
                        .filter(User::username.icontains("ABC"))
                        .count()?,
                    "icount" => 0,
                    "page" if j < 20 => {
                        s.query::<User>()
                            .order_by(User::username)
                            .paginate(1 + rng.below(n / 20) as usize, 20)?
                            .total
                    }
                    "page" => 0,
                    other => fail!("unknown workload {other}"),
                };
            }
            s.commit()?;
        }
        Ok(got)
    })?;
    eprintln!("{work}: {:?}, {got}", t.elapsed());
    Ok(())
}

/// Adds `n` users as the by-hand side of the ORM benchmark does, then
/// profiles `work` (`get` or `first`) with the keys and names `orm` uses.
fn raw(dir: &std::path::Path, work: &str, n: u64) -> Result<()> {
    use strata_benches::orm::Side;
    let mut side = strata_benches::orm::raw::StrataRaw::open(dir)?;
    for c in 0..n.div_ceil(1000) {
        let mut users: Vec<User> = (c * 1000..((c + 1) * 1000).min(n))
            .map(|i| strata_benches::orm::user(i + 1))
            .collect();
        side.insert_users(&mut users)?;
    }
    let (mut rng, names) = lookups(n);
    let t = std::time::Instant::now();
    let got = phase(&mut || {
        let mut got = 0u64;
        for chunk in names.chunks(1000) {
            got += match work {
                "get" => {
                    let ids: Vec<i64> = chunk.iter().map(|_| rng.below(n) as i64 + 1).collect();
                    side.users_by_id(&ids)?.rows
                }
                "first" => side.users_by_username(chunk)?.rows,
                other => fail!("unknown workload {other}"),
            };
        }
        Ok(got)
    })?;
    eprintln!("{work}: {:?}, {got}", t.elapsed());
    Ok(())
}

/// Adds the benchmark's 1,000 persons and their addresses, then profiles
/// `work` (`join` or `eager`) as the benchmark's ORM side runs it.
fn orm_persons(db: &strata::Database, work: &str) -> Result<()> {
    use strata_tests::models::{Address, Person};
    const PERSONS: u64 = 1_000;
    let mut s = db.session()?;
    for i in 1..=PERSONS {
        let (mut p, addresses) = strata_benches::orm::person(i);
        s.add(&mut p)?;
        for mut a in addresses {
            a.person_id = p.id;
            s.add(&mut a)?;
        }
    }
    s.commit()?;
    let mut rng = Rng::new(13);
    let names: Vec<String> = (0..1_000)
        .map(|_| format!("person{}", rng.below(PERSONS) + 1))
        .collect();
    let t = std::time::Instant::now();
    let got = phase(&mut || {
        let mut got = 0u64;
        match work {
            "join" => {
                for name in &names {
                    let s = db.read_session()?;
                    got += s
                        .query::<Address>()
                        .join(Address::person)
                        .filter(Person::name.eq(name.as_str()))
                        .all()?
                        .len() as u64;
                    s.commit()?;
                }
            }
            _ => {
                for _ in 0..10 {
                    let s = db.read_session()?;
                    got += s.query::<Person>().all_with(Person::addresses)?.len() as u64;
                    s.commit()?;
                }
            }
        }
        Ok(got)
    })?;
    eprintln!("{work}: {:?}, {got}", t.elapsed());
    Ok(())
}

/// The 10,000 usernames the lookups ask for (the `orm` and `raw` sides
/// alike), and the generator that then draws the keys of the gets.
fn lookups(n: u64) -> (Rng, Vec<String>) {
    let mut rng = Rng::new(11);
    let names = (0..10_000)
        .map(|_| strata_benches::orm::user(rng.below(n) + 1).username)
        .collect();
    (rng, names)
}
