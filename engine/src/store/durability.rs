//! When a commit counts as done.

/// When a commit counts as done.
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
