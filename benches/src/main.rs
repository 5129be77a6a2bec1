//! `strata-bench`: see the library's documentation.

#![deny(unsafe_code)]

fn main() {
    std::process::exit(strata_benches::main());
}
