//! Poisoning: after a failed write or sync the handle can no longer vouch
//! for what is on disk (its memory may be ahead of the disk, and a retried
//! sync could report success for data the kernel dropped), so every later
//! call fails, with the first cause, until the database is opened again
//! and recovery rebuilds memory from the files.

use crate::error::{Error, Result};
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write or sync has failed; checked by every call.
#[derive(Default)]
pub(crate) struct Poison {
    flag: AtomicBool,
    cause: Mutex<Option<String>>,
}

impl Poison {
    /// Whether the handle is poisoned.
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// `Error::Poisoned` with the first cause, if the handle is poisoned.
    pub(crate) fn check(&self) -> Result<()> {
        if self.flag.load(Ordering::Acquire) {
            let cause = self.cause.lock().clone().unwrap_or_default();
            return Err(Error::Poisoned { cause });
        }
        Ok(())
    }

    /// Poisons the handle; the first cause is the one reported.
    pub(crate) fn set(&self, e: &Error) {
        let mut cause = self.cause.lock();
        if cause.is_none() {
            *cause = Some(e.to_string());
        }
        self.flag.store(true, Ordering::Release);
    }
}
