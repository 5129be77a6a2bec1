//! The one door to the database: every call runs on tokio's blocking pool.
//!
//! WHY
//!
//! Strata is synchronous: a call reads pages from the file, may wait for
//! a lock (strict two-phase locking, up to the lock timeout) and waits for
//! `fsync` at commit. Made on a runtime thread, such a call stops every
//! other task scheduled on that thread; on a small machine that is the
//! whole server. [`tokio::task::spawn_blocking`] moves the call to a
//! thread made for blocking, and the handler awaits its result.
//!
//! NO SESSION ACROSS AN `.await`
//!
//! A read-write session holds its locks until it ends. Held across an
//! `.await` it keeps them while the task waits on the network or on other
//! tasks, and every writer of what it read waits too (until the lock
//! timeout). The helpers below make that impossible rather than merely
//! discouraged: the closure receives `&Session` or `&mut Session`, runs
//! to completion on one blocking thread, and the session ends (commit or
//! rollback) before the future resolves. Nothing the closure returns can
//! borrow the session.
//!
//! | helper | session | on a deadlock or lock timeout |
//! | --- | --- | --- |
//! | [`Db::read`] | `read_session`: a snapshot, no locks, never waits | cannot happen |
//! | [`Db::write`] | `Database::transaction`: read-write, committed at the end | rolled back and run again (the closure may run more than once) |
//!
//! ```no_run
//! # use strata_webapp::{db::Db, models::Post};
//! # async fn example(db: Db) -> Result<(), strata_webapp::error::AppError> {
//! let count = db.read(|s| s.query::<Post>().count()).await?;
//! # Ok(()) }
//! ```

use crate::error::AppError;
use strata::{Database, Session};

/// The application's handle on the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    database: Database,
}

impl Db {
    /// Wraps an open database.
    pub fn new(database: Database) -> Db {
        Db { database }
    }

    /// The database itself, for what runs outside a request (startup, tests).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Runs `f` on a read-only snapshot session, on the blocking pool.
    /// The snapshot takes no locks: it never waits for a writer and no
    /// writer waits for it.
    pub async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Session) -> strata::Result<T> + Send + 'static,
    {
        let database = self.database.clone();
        blocking(move || {
            let s = database.read_session()?;
            f(&s)
        })
        .await
    }

    /// Runs `f` in a read-write session on the blocking pool and commits
    /// it; the commit is durable when the future resolves. A session that
    /// loses a deadlock or times out on a lock is rolled back and `f` runs
    /// again ([`Database::transaction`]), so `f` must have no effect
    /// outside the session.
    pub async fn write<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnMut(&mut Session) -> strata::Result<T> + Send + 'static,
    {
        let database = self.database.clone();
        blocking(move || database.transaction(f)).await
    }

    /// Runs `f` with the database handle on the blocking pool, for work
    /// that is neither one session nor the other (a backup, a check).
    pub async fn with<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> strata::Result<T> + Send + 'static,
    {
        let database = self.database.clone();
        blocking(move || f(&database)).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> strata::Result<T> + Send + 'static,
) -> Result<T, AppError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(AppError::from),
        Err(join) => Err(AppError::internal(format!("database task failed: {join}"))),
    }
}
