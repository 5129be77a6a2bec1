//! Fuzz target `decode_page`: see `strata_engine::fuzzing::decode_page` for the input
//! format and what counts as a failure.
//!
//! No `#![deny(unsafe_code)]` here: `fuzz_target!` expands to the
//! `#[unsafe(no_mangle)] extern "C"` entry point libFuzzer calls, which that
//! lint rejects. This file has no unsafe code of its own.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata_engine::fuzzing::decode_page(data));
