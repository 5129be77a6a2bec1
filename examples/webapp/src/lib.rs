//! The seed's Flask application, in Rust: a blog on axum and Strata.
//!
//! `cargo run -p strata-webapp` serves it on `127.0.0.1:8080` from
//! `strata-webapp.strata` in the working directory (`--listen`, `--db`).
//!
//! LAYOUT
//!
//! | file | what it holds |
//! | --- | --- |
//! | `models.rs` | the models and their delete rules |
//! | `db.rs` | [`db::Db`]: every database call on the blocking pool, no session across an `.await` |
//! | `blog.rs` | what the handlers do to the database, one session each, written once for both front ends |
//! | `forms.rs` | form and JSON inputs, checked before the database sees them |
//! | `auth.rs` | argon2 password hashes and the signed login cookie |
//! | `error.rs` | Strata's errors as HTTP statuses |
//! | `pages.rs` | the HTML pages (minijinja templates in `templates/`) |
//! | `api.rs` | the JSON API under `/api` |
//! | `main.rs` | command line, logging, serving |
//!
//! Imports point down this table, except that `pages.rs` and `api.rs`
//! both stand on everything above them and on [`AppState`] here.
//!
//! STARTUP
//!
//! [`open`] opens the file, brings every model's stored schema up to date
//! (registration creates the tables of a new model in its own
//! transaction and refuses a model that does not match what the file
//! holds), and adds the seed's students to an empty table.

#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod blog;
pub mod db;
pub mod error;
pub mod forms;
pub mod models;
pub mod pages;

use axum::Router;
use axum::extract::FromRef;
use axum_extra::extract::cookie::Key;
use request_log::trace_layer;
use std::path::Path;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: db::Db,
    /// The key that signs the login cookie.
    pub key: Key,
}

impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Key {
        state.key.clone()
    }
}

impl AppState {
    /// The state over an open database. `secret` (at least 64 bytes) signs
    /// the cookies; without it a random key is made.
    pub fn new(database: strata::Database, secret: Option<&[u8]>) -> AppState {
        let key = match secret {
            Some(s) => Key::from(s),
            None => Key::generate(),
        };
        AppState {
            db: db::Db::new(database),
            key,
        }
    }
}

/// Opens (or creates) the database at `path`, brings the models' schemas
/// up to date, and seeds the students.
pub fn open(path: impl AsRef<Path>) -> strata::Result<strata::Database> {
    let database = strata::Database::open(path)?;
    migrate(&database)?;
    database.transaction(blog::seed_students)?;
    Ok(database)
}

/// Checks each model against the schema stored in the file, storing it
/// and creating its tables when the model is new.
pub fn migrate(database: &strata::Database) -> strata::Result<()> {
    use models::*;
    database.register::<User>()?;
    database.register::<Post>()?;
    database.register::<Tag>()?;
    database.register::<Comment>()?;
    database.register::<Profile>()?;
    database.register::<Student>()?;
    Ok(())
}

/// The whole application: the pages, the API, and request logging.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .nest("/api", api::routes())
        .layer(axum::middleware::from_fn(trace_layer))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Request logging without another dependency: one `tracing` event per
/// request, with its method, path, status and time.
mod request_log {
    use axum::extract::Request;
    use axum::middleware::Next;
    use axum::response::Response;

    pub async fn trace_layer(request: Request, next: Next) -> Response {
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let started = std::time::Instant::now();
        let response = next.run(request).await;
        tracing::info!(
            %method,
            %path,
            status = response.status().as_u16(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "request"
        );
        response
    }
}
