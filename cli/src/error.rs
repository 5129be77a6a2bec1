//! The command's one error type: a message printed as one line on stderr
//! before the command exits with a non-zero status.

use std::fmt;

/// What went wrong, as one line for a person to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(pub String);

impl CliError {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> CliError {
        CliError(msg.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the source said.
        f.write_str(&self.0.replace('\n', " "))
    }
}

impl std::error::Error for CliError {}

impl From<strata::Error> for CliError {
    fn from(e: strata::Error) -> CliError {
        CliError(e.to_string())
    }
}

impl From<strata::engine::Error> for CliError {
    fn from(e: strata::engine::Error) -> CliError {
        CliError(e.to_string())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError(e.to_string())
    }
}

/// The command's results.
pub type Result<T> = std::result::Result<T, CliError>;

/// Returns early with a [`CliError`] formatted like `format!`.
#[macro_export]
macro_rules! bail {
    ($($t:tt)*) => {
        return Err($crate::error::CliError(format!($($t)*)))
    };
}
