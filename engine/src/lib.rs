//! Strata's storage engine: tables of ordered keys and values in one file,
//! with atomic, durable transactions.
//!
//! ```
//! use strata_engine::{Database, Options};
//! # let dir = std::env::temp_dir().join(format!("strata-doc-lib-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! # let opts = Options { log_preallocate: 0, ..Options::default() };
//! let db = Database::open_with(dir.join("bank.strata"), opts)?;
//! let mut tx = db.begin()?;
//! tx.create_table("accounts")?;
//! tx.put("accounts", b"alice", b"100")?;
//! tx.commit()?;
//!
//! let tx = db.begin()?;
//! assert_eq!(tx.get("accounts", b"alice")?, Some(b"100".to_vec()));
//! # drop(tx); drop(db); std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), strata_engine::Error>(())
//! ```
//!
//! The source is laid out by layer, one folder each (listed top first).
//! A file uses its own layer and the layers below, never one above, and no
//! files import each other around a circle: `tests/layers.rs` declares the
//! order (`LAYERS`) and fails on any import against it. Each folder's
//! `mod.rs` says what the layer owns and what it may use.
//!
//! ```text
//! db/        the public handle: options, open and recovery, the integrity check
//! txn/       transactions: the lock manager, private write sets and their spills, range reads
//! store/     the committed state every transaction shares: commit, checkpoint
//! tree/      B+trees over pages: nodes, overflow chains, the cursor, the catalog
//! page/      pages: headers, meta pages, the free list, the cache, the pager
//! log/       the write-ahead log: records, frames and recovery scan, group commit
//! storage/   the file I/O seam: real files, or the simulated disk of the tests
//! error.rs   the one error enum
//! base/      shared helpers: little-endian accessors, the fast hasher
//! ```
//!
//! Transactions are serializable: point reads and writes lock keys, range
//! scans lock the table, and every lock is held until the commit's record
//! is in the log (the commit returns once it is durable). A transaction
//! that loses a deadlock gets [`Error::Deadlock`]; [`Database::transaction`]
//! runs a closure and retries it on such errors.
//!
//! A transaction may be larger than memory: past
//! [`Options::txn_memory_limit`] its writes spill to a scratch file beside
//! the database, and a commit too large for the log writes its pages out
//! as it goes, so its memory stays bounded whatever its size.
//!
//! `ARCHITECTURE.md` explains the design and `docs/file-format.md` the
//! bytes on disk.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod base;
mod db;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod log;
mod page;
pub mod storage;
mod store;
mod tree;
mod txn;

pub use db::check::CheckReport;
pub use db::database::{CompactReport, Database, Stats};
pub use db::info::Info;
pub use db::options::Options;
pub use error::LogProblem;
pub use error::{Error, Location, OpenFailure, Result};
pub use page::file_header::{FORMAT_VERSION, OLDEST_FORMAT_VERSION};
pub use page::page_header::{MAX_PAGE_SIZE, MIN_PAGE_SIZE};
pub use store::durability::Durability;
pub use tree::catalog::MAX_TABLE_NAME;
pub use tree::node::MAX_VALUE_LEN;
pub use txn::range::{KeyRange, Range};
pub use txn::transaction::Transaction;
