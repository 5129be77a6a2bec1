//! One module per subcommand; each writes its result to `out` and
//! returns an error for the binary to print as one line.

pub mod check;
pub mod dump;
pub mod load;
pub mod migrate;
pub mod ops;
pub mod schema;
pub mod sql;
pub mod stats;
