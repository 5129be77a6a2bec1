//! One adapter per engine (Turso's with the cargo feature `turso`): each opens its database in a directory and
//! implements the key-value traits ([`crate::kv`]), the TPC-B traits
//! ([`crate::tpcb`]) and the readers-and-writers traits ([`crate::rw`]).

pub mod lmdb;
pub mod redb;
pub mod sqlite;
pub mod strata;
#[cfg(feature = "turso")]
pub mod turso;
