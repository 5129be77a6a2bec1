//! Slow queries: a query that takes at least its handle's threshold
//! ([`Database::set_slow_query_threshold`], 100 ms by default) is reported
//! as a `strata::query` tracing event at INFO level, with what `EXPLAIN`
//! would say of it, so that a program's log names the queries an index
//! would speed up.
//!
//! | field | what it is |
//! | --- | --- |
//! | `table` | the table read |
//! | `plan` | the access path, as [`Plan`](super::Plan)'s `Display` writes it (what [`Query::explain`](super::Query::explain) and the command line's `EXPLAIN` print) |
//! | `rows_read` | rows read along the path (the rows a filter then refused included) |
//! | `rows_returned` | rows the query handed on, after its filter, offset and limit |
//! | `elapsed_us` | from the start of the read to its end, in microseconds |
//!
//! Every query that reads a table through `visit_spec` (`all`, `first`,
//! `one`, `count`, `exists`, `values`, `paginate`, and the stored-schema
//! queries of `dynamic/`, which the command line's SQL runs) or through
//! `Core::visit_columns` (aggregates and groups) is timed. A query's
//! plan is worked out again only when it is reported, and only when a
//! subscriber listens to `strata::query` at INFO: the cost of a fast query
//! is one clock read at each end.

use super::plan::{Shape, Spec};
use crate::session::{Database, Session};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

impl Database {
    /// Reports every query through this handle (and its clones) that takes
    /// at least `threshold` as a `strata::query` tracing event at INFO
    /// level, with the table, the plan as [`Query::explain`] shows it, the
    /// rows read and returned, and the time taken. A new handle reports
    /// queries of 100 ms or more; `Duration::ZERO` reports every query. As
    /// with every event of the library, nothing is written unless the
    /// program installs a `tracing` subscriber.
    ///
    /// [`Query::explain`]: crate::Query::explain
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-slow-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// use std::time::Duration;
    /// let db = strata::Database::open(dir.join("app.strata"))?;
    /// assert_eq!(db.slow_query_threshold(), Duration::from_millis(100));
    /// db.set_slow_query_threshold(Duration::from_millis(20));
    /// assert_eq!(db.slow_query_threshold(), Duration::from_millis(20));
    /// # drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn set_slow_query_threshold(&self, threshold: Duration) {
        let us = u64::try_from(threshold.as_micros()).unwrap_or(u64::MAX);
        self.inner.slow_query_us.store(us, Ordering::Relaxed);
    }

    /// How long a query takes before it is reported
    /// ([`Database::set_slow_query_threshold`]).
    pub fn slow_query_threshold(&self) -> Duration {
        Duration::from_micros(self.inner.slow_query_us.load(Ordering::Relaxed))
    }
}

/// Reports the query `spec` over the table of shape `t`, which began at
/// `began` and read `read` rows and returned `returned`, if it took at
/// least the handle's threshold and a subscriber listens.
pub(super) fn report(
    s: &Session,
    t: &Shape<'_>,
    spec: &Spec,
    began: Instant,
    read: u64,
    returned: u64,
) {
    let elapsed = began.elapsed();
    let threshold = Duration::from_micros(s.db.slow_query_us.load(Ordering::Relaxed));
    if elapsed < threshold || !tracing::enabled!(target: "strata::query", tracing::Level::INFO) {
        return;
    }
    let (_, plan) = spec.plan_on(t);
    tracing::info!(
        target: "strata::query",
        table = t.table,
        plan = %plan,
        rows_read = read,
        rows_returned = returned,
        elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "slow query"
    );
}
