//! The storage seam: every byte Strata reads or writes goes through here.
//!
//! Two traits cover all file operations the engine performs. [`Vfs`] names
//! files (open, rename with or without replacing, remove, directory sync
//! and listing, a file's identity); [`StorageFile`] reads and writes one
//! open file at byte offsets, and locks it. Nothing else in the engine touches
//! `std::fs`, so a test can swap the real file system ([`RealVfs`]) for the
//! simulated one ([`SimVfs`]), which keeps the bytes *written* apart from the
//! bytes made *durable* by a sync and can crash, tear writes and fail calls
//! on demand.
//!
//! ```
//! use std::sync::Arc;
//! use strata_engine::storage::{CrashMode, SimVfs};
//! use strata_engine::{Database, Durability, Options};
//!
//! // A database on the simulated disk, committing without syncs.
//! let vfs = SimVfs::new(1);
//! let options = Options {
//!     storage: Arc::new(vfs.clone()),
//!     durability: Durability::Buffered,
//!     ..Options::default()
//! };
//! let db = Database::open_with("/sim/db", options.clone())?;
//! db.transaction(|tx| tx.create_table("t"))?;
//! db.transaction(|tx| tx.put("t", b"k", b"v"))?;
//! // Power fails before anything is synced: the database opens, whole,
//! // as of its last sync, without the commits that were not synced.
//! let after = vfs.crash(CrashMode::DropAll);
//! std::mem::forget(db);
//! let db = Database::open_with("/sim/db", Options { storage: Arc::new(after), ..options })?;
//! db.check()?;
//! # Ok::<(), strata_engine::Error>(())
//! ```
//!
//! ASSUMPTIONS ABOUT THE MEDIA
//!
//! The engine assumes as little as SQLite does, and less in one respect:
//!
//! 1. `sync_data` returning `Ok` means every byte written to that file
//!    before the call is durable.
//! 2. Writes that were not followed by a successful sync may reach the disk
//!    whole, partly (torn at any sector), not at all, or in any order; a
//!    torn sector may hold garbage. No write is assumed atomic, not even a
//!    512-byte sector: every page and every log frame carries a CRC32.
//! 3. A failed `sync_data` may have discarded the dirty data (Linux marks
//!    the pages clean). A sync is therefore never retried: the handle is
//!    poisoned and recovery starts again from what is durable.
//! 4. A created or renamed directory entry is durable only after
//!    [`Vfs::sync_dir`] on its directory.
//!
//! Owns: every file operation. `vfs.rs` has the traits, `file.rs` the real
//! file system, `sim.rs` the simulated one, `mapping.rs` a read-only
//! mapping of a real file.
//!
//! May use: nothing of the engine (the bottom of the stack, with
//! `base/` and `error.rs`).

mod file;
mod mapping;
mod sim;
mod vfs;

pub use file::RealVfs;
pub use mapping::Mapping;
pub use sim::{CrashMode, FaultPlan, SimVfs};
pub use vfs::{FileId, NotARegularFile, OpenMode, StorageFile, Vfs};
