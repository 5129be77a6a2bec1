//! Compile-fail tests of `#[derive(Model)]`: each `tests/ui/<case>.rs` is a
//! misuse of the derive, and `tests/ui/<case>.stderr` is the error it must
//! give. Regenerate the expected output with
//! `TRYBUILD=overwrite cargo test -p strata --test compile_fail`, then read
//! every changed `.stderr` before committing it.

#[test]
fn derive_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
