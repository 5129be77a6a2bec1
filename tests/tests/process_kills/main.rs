//! Real crashes: a child process runs a workload on a real file with
//! `Durability::Full` and is killed with SIGKILL at a random moment, over
//! and over, on the same file. After each kill the parent copies the files
//! as the kill left them, recovers the copy and checks it; the next child
//! then recovers the original itself (and may be killed while it does), so
//! recoveries of recoveries are exercised. Five loops, each with its own
//! workload and checks, share the harness of `strata_tests::kill`:
//!
//! | file | the loop | its child |
//! | --- | --- | --- |
//! | `engine.rs` | `engine_survives_sigkill_loop`: bank transfers, groups of keys, per-thread counters on the engine's API | `engine::kill_child_engine` |
//! | `orm.rs` | `orm_survives_sigkill_loop`: authors, books and tags through ORM sessions | `orm::kill_child_orm` |
//! | `migration.rs` | `migration_survives_sigkill_loop`: a migration of 10,000 rows by a step and automatic changes, or automatic changes at a model's first use | `migration::kill_child_migration` |
//! | `ops.rs` | `backup_survives_sigkill_loop`: the engine loop's bank beside a thread of online backups; every backup is absent or whole | `ops::kill_child_backup` |
//! | `ops.rs` | `compact_survives_sigkill_loop`: the engine loop's bank beside a thread that deletes most groups and compacts | `ops::kill_child_compact` |
//!
//! The children are this test binary, run on their ignored test by name.
//! The loops run in this one binary, so that they run side by side.
//!
//! Kills land during process startup, open and recovery (also the
//! recovery of a recovery), explicit and automatic checkpoints (small
//! `Options::checkpoint_log_size` in many rounds; commits too large for
//! the log commit by checkpoint), log recycling, commits, clean closes,
//! and online backups and compactions (`ops.rs`); some rounds end with a
//! clean close instead. The tally printed at the end of each loop says how
//! many kills landed where.
//!
//! `STRATA_KILLS` (default 100) is the number of kills of the engine loop,
//! `STRATA_ORM_KILLS` (default 100) of the ORM loop,
//! `STRATA_MIGRATION_KILLS` (default 24) of the migration loop,
//! `STRATA_BACKUP_KILLS` and `STRATA_COMPACT_KILLS` (default 10 each) of
//! the backup and compaction loops; `STRATA_KILL_SEED` seeds the plans and
//! the workloads (fresh in each run if unset, and printed: the kills land
//! at moments no seed fixes, but a failure's seed replays the same plans).
//!
//! Unix only: the kills are SIGKILL, and the harness reads how the child
//! ended from its signal.
#![cfg(unix)]

mod engine;
mod migration;
mod ops;
mod orm;
