//! Shared helpers, the bottom layer: nothing here knows about pages,
//! logs or trees, and every layer above may use it.
//!
//! * `bytes.rs`: the little-endian accessors every on-disk structure is
//!   read and written with, checked (for bytes read from disk) and
//!   unchecked (for buffers already validated).
//! * `hash.rs`: the fast hasher of the engine's internal maps
//!   ([`FastMap`](hash::FastMap)), and the hash that names a key's lock
//!   and indexes a transaction's writes ([`key_hash`](hash::key_hash)).
//!
//! May use: nothing of the engine.

pub(crate) mod bytes;
pub(crate) mod hash;
