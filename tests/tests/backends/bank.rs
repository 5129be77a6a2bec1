//! Bank transfers through the ORM on either store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;
use strata_tests::TempDir;
use strata_tests::backend::Backend;
use strata_tests::orm_bank;

/// 8 clients, 2 snapshot auditors: every audit exact, the total exact at
/// the end, every acknowledged transfer stored; retries are counted (and
/// printed) but not asserted, since they depend on timing.
pub fn transfers_with_snapshot_auditors(b: Backend) {
    let dir = TempDir::new("conf-bank");
    let db = b.open(&dir);
    orm_bank::open_accounts(&db);
    let per_client = strata_tests::env_count("STRATA_BANK_TRANSFERS", 40) as i64;
    let stop = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(AtomicU64::new(0));
    let counts = orm_bank::run(&db, 8, per_client, 2, &stop, &progress);
    eprintln!(
        "{b:?}: {} committed, {} retries, {} failed, {} audits",
        counts.committed, counts.retries, counts.failed, counts.audits
    );
    assert_eq!(counts.failed, 0, "{:?}", counts.errors);
    assert!(counts.audits > 0);
    orm_bank::check_end(&db, &counts, Duration::ZERO);
}
