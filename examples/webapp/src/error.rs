//! Errors as HTTP statuses.
//!
//! Strata's errors are grouped by what the caller should do, and each
//! group has its status:
//!
//! | `strata::Error` | status | why |
//! | --- | --- | --- |
//! | `UniqueViolation`, `DuplicateKey` | 409 Conflict | the value is taken; the form shows it at its field |
//! | `Restricted` | 409 Conflict | rows still refer to what is being deleted |
//! | the engine's `DestinationExists` | 409 Conflict | a backup's file is there already |
//! | `ForeignKeyViolation`, `NotFound` | 404 Not Found | what the request refers to does not exist (any more) |
//! | `TooLong`, `KeyTooLarge`, `NotANumber` | 422 Unprocessable Content | the input breaks a column's rule |
//! | retryable engine errors (after the retries) | 503 Service Unavailable | try again |
//! | anything else | 500 | logged |

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error a handler answers with: a status, a message, and the form
/// field it belongs to, if any. As a response it is JSON
/// (`{"error": ..., "field": ...}`); the HTML pages render it themselves.
#[derive(Debug)]
pub struct AppError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for a person.
    pub message: String,
    /// The form field at fault (`username`, `email`, ...).
    pub field: Option<String>,
}

impl AppError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> AppError {
        AppError {
            status,
            message: message.into(),
            field: None,
        }
    }

    /// 404.
    pub fn not_found(what: &str) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, format!("no such {what}"))
    }

    /// 400, for input that the handler refuses before the database sees it.
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401.
    pub fn unauthorized() -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, "log in first")
    }

    /// 403.
    pub fn forbidden() -> AppError {
        AppError::new(StatusCode::FORBIDDEN, "not yours")
    }

    /// 500; the message is logged.
    pub fn internal(message: impl Into<String>) -> AppError {
        let message = message.into();
        tracing::error!(%message, "internal error");
        AppError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// The same error, attributed to a form field.
    pub fn at(mut self, field: &str) -> AppError {
        self.field = Some(field.to_owned());
        self
    }
}

impl From<strata::Error> for AppError {
    fn from(e: strata::Error) -> AppError {
        use strata::Error as E;
        let status = match &e {
            E::UniqueViolation { .. } | E::DuplicateKey { .. } | E::Restricted { .. } => {
                StatusCode::CONFLICT
            }
            E::Engine(strata::engine::Error::DestinationExists { .. }) => StatusCode::CONFLICT,
            E::ForeignKeyViolation { .. } | E::NotFound { .. } => StatusCode::NOT_FOUND,
            E::TooLong { .. } | E::KeyTooLarge { .. } | E::NotANumber { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            e if e.is_retryable() => StatusCode::SERVICE_UNAVAILABLE,
            _ => return AppError::internal(e.to_string()),
        };
        let field = match &e {
            E::UniqueViolation { column, .. } | E::TooLong { column, .. } => {
                Some((*column).to_owned())
            }
            _ => None,
        };
        AppError {
            status,
            message: e.to_string(),
            field,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.message, "field": self.field });
        (self.status, Json(body)).into_response()
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}
