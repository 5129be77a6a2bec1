//! Fuzz target `orm_decode`: see `strata::fuzzing::decode` for the input
//! format and what counts as a failure.
//!
//! No `#![deny(unsafe_code)]` here: `fuzz_target!` expands to the
//! `#[unsafe(no_mangle)] extern "C"` entry point libFuzzer calls, which that
//! lint rejects. This file has no unsafe code of its own.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::decode(data));
