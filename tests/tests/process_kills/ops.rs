//! The operations' loops: the engine loop's bank (`engine.rs`, its
//! workers and its checks unchanged), with one more thread that backs the
//! database up (`Database::backup_to`) or deletes most groups and compacts
//! (`Database::compact`) over and over, with short pauses, while the
//! bank's threads go on committing. The child is killed with SIGKILL at a
//! random moment, so that many kills land inside a backup or a compaction
//! (the tally at the end says how many).
//!
//! After each kill the source must reopen with every acknowledged commit
//! and pass `check()` (the engine loop's checks). In the backup loop, every
//! backup begun in the round is then looked at:
//!
//! - a backup that returned is at its destination (unless the child
//!   removed it, having made a newer one), opens, passes `check()`, is the
//!   bank as of one commit, and holds every commit acknowledged before it
//!   began and everything the last recovery found;
//! - a backup the kill interrupted has either no file at its destination
//!   or a whole one, checked the same way. `backup_to` writes the copy
//!   under a temporary name beside the destination
//!   (`<dest>-creating-<16 hex digits>`), syncs it, and only then moves it
//!   into place without replacing anything, so a half-written copy never
//!   has the destination's name. What a kill can leave is that temporary
//!   file: only such names may remain, only of backups that did not
//!   return, and the first writable open of a copy at the destination
//!   removes them (a kill inside the move can leave both names).
//!
//! `backup_checks_see_a_half_copy_and_a_lost_one` hands the checks a
//! backup cut in half, and one taken away, and expects them to see both.
//!
//! `STRATA_BACKUP_KILLS` and `STRATA_COMPACT_KILLS` (10 each by default)
//! are the numbers of kills; `STRATA_KILL_SEED` seeds both loops.

use super::engine::{Bank, ENGINE, THREAD_SLOTS, bank_child, delete_group, read_bank};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use strata_engine::Database;
use strata_tests::kill::{
    CHILD_DB, KillLoop, Oracle, copy_database, env_u64, no_spawns, say, verify_options, wal,
};
use strata_tests::{Rng, TempDir};

/// The backup loop: its child is `kill_child_backup`.
const BACKUP: KillLoop = KillLoop {
    name: "backup kill loop",
    kills_var: "STRATA_BACKUP_KILLS",
    default_kills: 10,
    seed_mix: 0xBAC_0F00,
    tag: "backup",
    file: "bank.strata",
    role: "ops::kill_child_backup",
    max_threads: 4,
    is_ack: ENGINE.is_ack,
};

/// The compaction loop: its child is `kill_child_compact`.
const COMPACT: KillLoop = KillLoop {
    name: "compaction kill loop",
    kills_var: "STRATA_COMPACT_KILLS",
    default_kills: 10,
    seed_mix: 0xC0_3AC7_0000,
    tag: "compact",
    file: "bank.strata",
    role: "ops::kill_child_compact",
    max_threads: 4,
    is_ack: ENGINE.is_ack,
};

/// The id slot of the compaction thread's deletes: one no bank thread
/// uses (they number at most 4).
const OPS_SLOT: u64 = THREAD_SLOTS - 1;

/// Sleeps up to twice `last`, so that the operation runs about half of
/// the time.
fn pause(rng: &mut Rng, last: Duration) {
    let us = rng.below(2 * last.as_micros() as u64 + 1);
    std::thread::sleep(Duration::from_micros(us));
}

/// The name of backup `n` of round `round` of the database `db`: beside
/// it, so that the parent finds it.
fn backup_name(db: &Path, round: u64, n: u64) -> String {
    let file = db
        .file_name()
        .and_then(|f| f.to_str())
        .expect("a file name");
    format!("{file}-backup-{round}-{n}")
}

/// The child of the backup loop: the bank, and a thread backing up to a
/// new destination again and again. It says `B <name>` before a backup
/// and `BK <name>` once `backup_to` returned; it keeps only the latest
/// backup that returned, saying `BX <name>` before it removes an older
/// one.
#[test]
#[ignore = "a helper: run as a child process by backup_survives_sigkill_loop"]
fn kill_child_backup() {
    let db_path =
        PathBuf::from(std::env::var(CHILD_DB).expect("run by backup_survives_sigkill_loop"));
    let round = env_u64("STRATA_KILL_CHILD_ROUND");
    bank_child("backup_survives_sigkill_loop", &|db, child, _| {
        let mut rng = Rng::new(child.seed ^ 0xBAC0);
        let mut kept: Option<PathBuf> = None;
        let mut took = Duration::ZERO;
        for n in 1.. {
            if child.stopped() {
                break;
            }
            pause(&mut rng, took);
            let name = backup_name(&db_path, round, n);
            let dest = db_path.with_file_name(&name);
            say(&format!("B {name}"));
            let began = Instant::now();
            db.backup_to(&dest).expect("backup");
            took = began.elapsed();
            say(&format!("BK {name}"));
            if let Some(old) = kept.replace(dest) {
                say(&format!("BX {}", old.file_name().unwrap().display()));
                std::fs::remove_file(&old).expect("remove an older backup");
            }
        }
    });
}

/// The child of the compaction loop: the bank, and a thread that deletes
/// nine in ten of the groups in one transaction (acknowledged as one `D`
/// line per group) when there are 20 or more, then compacts, again and
/// again. It says `C` before a compaction and `CK <us>` after.
#[test]
#[ignore = "a helper: run as a child process by compact_survives_sigkill_loop"]
fn kill_child_compact() {
    bank_child("compact_survives_sigkill_loop", &|db, child, groups| {
        let mut rng = Rng::new(child.seed ^ 0xC0);
        let mut took = Duration::ZERO;
        while !child.stopped() {
            pause(&mut rng, took);
            if groups.live.load(Ordering::Relaxed) >= 20 {
                let deleted = db.transaction(|tx| {
                    let live = tx.range("groups", ..)?.count();
                    let mut acks = Vec::new();
                    for _ in 0..live * 9 / 10 {
                        match delete_group(tx, OPS_SLOT, 0)? {
                            Some(ack) => acks.push(ack),
                            None => break,
                        }
                    }
                    Ok(acks)
                });
                match deleted {
                    Ok(acks) => {
                        groups.live.fetch_sub(acks.len() as i64, Ordering::Relaxed);
                        acks.iter().for_each(|a| say(a));
                    }
                    Err(e) if e.is_retryable() => {}
                    Err(e) => panic!("deleting groups: {e}"),
                }
            }
            say("C");
            let began = Instant::now();
            db.compact().expect("compact");
            took = began.elapsed();
            say(&format!("CK {}", took.as_micros()));
        }
    });
}

/// What the backup loop knows: the bank (of the source), and the backups
/// of the round, each with what the bank knew when it began.
#[derive(Default)]
struct Backups {
    bank: Bank,
    begun: Vec<(String, Bank)>,
    returned: BTreeSet<String>,
    removed: BTreeSet<String>,
    tally: BackupTally,
}

/// How the backups of a loop ended.
#[derive(Debug, Default)]
struct BackupTally {
    /// Found whole and checked (returned, or the kill came after the move).
    checked: u64,
    /// Of those, interrupted by the kill after the copy was in place.
    whole_but_interrupted: u64,
    /// Interrupted before the copy was in place: no file at the destination.
    interrupted: u64,
    /// Removed by the child after a newer one returned.
    removed: u64,
}

impl Oracle for Backups {
    fn learn(&mut self, lines: &[String]) -> u64 {
        let mut acked = 0;
        let mut from = 0;
        for (i, l) in lines.iter().enumerate() {
            if let Some(name) = l.strip_prefix("B ") {
                acked += self.bank.learn(&lines[from..i]);
                from = i + 1;
                self.begun.push((name.to_string(), self.bank.clone()));
            } else if let Some(name) = l.strip_prefix("BK ") {
                self.returned.insert(name.to_string());
            } else if let Some(name) = l.strip_prefix("BX ") {
                self.removed.insert(name.to_string());
            }
        }
        acked + self.bank.learn(&lines[from..])
    }

    /// Checks and removes the round's backups, which lie beside the copy
    /// at `path`, then checks the source's copy.
    fn verify(&mut self, path: &Path) -> Result<u64, String> {
        let dir = path.parent().expect("a directory");
        for (name, bank) in std::mem::take(&mut self.begun) {
            self.check_backup(dir, &name, &bank)?;
        }
        let mut strays = files(dir);
        strays.retain(|n| n.contains("-backup-"));
        if !strays.is_empty() {
            return Err(format!("files of no backup begun: {strays:?}"));
        }
        self.returned.clear();
        self.removed.clear();
        self.bank.verify(path)
    }

    fn acked(&self) -> u64 {
        self.bank.acked()
    }
}

impl Backups {
    /// Checks the backup `name` in `dir`, begun when the source's bank
    /// was `bank` (see the module's documentation), and removes its files.
    fn check_backup(&mut self, dir: &Path, name: &str, bank: &Bank) -> Result<(), String> {
        let returned = self.returned.contains(name);
        let fail = |what: String| format!("backup {name} (returned: {returned}): {what}");
        let dest = dir.join(name);
        let temporary = format!("{name}-creating-");
        let leftovers = files_starting(dir, &format!("{name}-"));
        if let Some(odd) = leftovers.iter().find(|f| !is_temporary(f, &temporary)) {
            return Err(fail(format!("a file {odd} beside it")));
        }
        if returned && !leftovers.is_empty() {
            return Err(fail(format!("it returned, and left {leftovers:?}")));
        }
        if !dest.exists() {
            if self.removed.contains(name) {
                self.tally.removed += 1;
                return Ok(());
            }
            if returned {
                return Err(fail("it is not at its destination".into()));
            }
            self.tally.interrupted += 1;
            for f in &leftovers {
                std::fs::remove_file(dir.join(f)).map_err(|e| fail(e.to_string()))?;
            }
            return Ok(());
        }
        let db = Database::open_with(&dest, verify_options()).map_err(|e| fail(e.to_string()))?;
        db.check().map_err(|e| fail(format!("check: {e}")))?;
        let image = read_bank(&db).map_err(fail)?;
        bank.check_image(&image).map_err(fail)?;
        drop(db);
        let left = files_starting(dir, &temporary);
        if !left.is_empty() {
            return Err(fail(format!("a writable open of the copy left {left:?}")));
        }
        for f in [wal(&dest), dest] {
            std::fs::remove_file(&f).map_err(|e| fail(e.to_string()))?;
        }
        self.tally.checked += 1;
        if !returned {
            self.tally.whole_but_interrupted += 1;
        }
        Ok(())
    }
}

/// The names of the files in `dir`.
fn files(dir: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(dir).expect("read the directory");
    (entries.filter_map(|e| e.ok()?.file_name().into_string().ok())).collect()
}

/// The names of the files in `dir` that start with `prefix`.
fn files_starting(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names = files(dir);
    names.retain(|n| n.starts_with(prefix));
    names
}

/// Whether `file` is `prefix` and 16 hex digits: a temporary name of
/// `backup_to`.
fn is_temporary(file: &str, prefix: &str) -> bool {
    file.strip_prefix(prefix)
        .is_some_and(|hex| hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What the compaction loop knows: the bank, and how many compactions
/// began and ended.
#[derive(Default)]
struct Compactions {
    bank: Bank,
    begun: u64,
    ended: u64,
    /// Kills that landed inside a compaction.
    interrupted: u64,
}

impl Oracle for Compactions {
    fn learn(&mut self, lines: &[String]) -> u64 {
        let began = lines.iter().filter(|l| *l == "C").count() as u64;
        let ended = lines.iter().filter(|l| l.starts_with("CK ")).count() as u64;
        self.begun += began;
        self.ended += ended;
        self.interrupted += began.saturating_sub(ended);
        self.bank.learn(lines)
    }

    fn verify(&mut self, path: &Path) -> Result<u64, String> {
        self.bank.verify(path)
    }

    fn acked(&self) -> u64 {
        self.bank.acked()
    }
}

#[test]
fn backup_survives_sigkill_loop() {
    let mut backups = Backups::default();
    BACKUP.run(&mut backups);
    println!("backup kill loop: {:?}", backups.tally);
    assert!(backups.tally.checked > 0, "no backup was ever checked");
}

#[test]
fn compact_survives_sigkill_loop() {
    let mut compactions = Compactions::default();
    COMPACT.run(&mut compactions);
    println!(
        "compaction kill loop: {} compactions begun, {} ended, {} kills inside one",
        compactions.begun, compactions.ended, compactions.interrupted
    );
    assert!(compactions.ended > 0, "no compaction ever ended");
}

// The backup checks themselves: a half copy and a lost one they must see.

#[test]
fn backup_checks_see_a_half_copy_and_a_lost_one() {
    let dir = TempDir::new("kill-self-backup");
    let db = dir.path().join("bank.strata");
    let copy = dir.path().join("verify.strata");
    let round = BACKUP.clean_round(&db, dir.path(), 300);
    let fresh = || {
        let mut b = Backups::default();
        b.learn(&round.lines);
        b
    };
    let removed = fresh().removed;
    let kept = (fresh().returned.into_iter())
        .rfind(|name| !removed.contains(name))
        .expect("a backup returned and was kept");
    let dest = dir.path().join(&kept);
    let bytes = std::fs::read(&dest).expect("the kept backup");
    let _g = no_spawns();
    // Each check starts from the files as the round left them, with the
    // kept backup as `backup` says (removed by the check it passes).
    let verify = |backup: Option<&[u8]>| {
        copy_database(&db, &copy);
        let _ = std::fs::remove_file(wal(&dest));
        match backup {
            Some(b) => std::fs::write(&dest, b).expect("write the backup"),
            None => {
                let _ = std::fs::remove_file(&dest);
            }
        }
        fresh().verify(&copy)
    };
    verify(Some(&bytes)).expect("the intact backups pass");
    let err = verify(Some(&bytes[..bytes.len() / 2])).expect_err("a half copy must be seen");
    assert!(err.contains(&kept), "{err}");
    let err = verify(None).expect_err("a lost backup must be seen");
    assert!(err.contains("not at its destination"), "{err}");
    verify(Some(&bytes)).expect("the backup put back passes");
}
