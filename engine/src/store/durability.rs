//! When a commit counts as done.

/// When a commit counts as done.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// use strata_engine::{Database, Durability, Options};
/// let buffered = Options { durability: Durability::Buffered, ..Options::default() };
/// let db = Database::open_with(dir.path().join("db"), buffered)?;
/// db.transaction(|tx| tx.create_table("t"))?;
/// assert_eq!(db.stats().log_syncs, 0); // committed, not synced
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `commit` returns once the transaction's log record is synced to the
    /// device: a power failure right after cannot lose it. Concurrent
    /// committers share syncs (group commit).
    #[default]
    Full,
    /// `commit` returns once the log record is handed to the operating
    /// system, without a sync. A crash of the process loses nothing; a
    /// power failure may lose the last commits, never part of one, and
    /// never an earlier commit without the later ones.
    Buffered,
}
