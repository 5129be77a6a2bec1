//! One adapter per engine: each opens its database in a directory and
//! implements the key-value traits ([`crate::kv`]) and the TPC-B traits
//! ([`crate::tpcb`]).

pub mod lmdb;
pub mod redb;
pub mod sqlite;
pub mod strata;
