//! `strata-bench`: see the library's documentation.

fn main() {
    std::process::exit(strata_benches::main());
}
