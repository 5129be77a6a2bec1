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
//! | `error.rs` | Strata's errors as HTTP statuses |
//! | `db.rs` | [`db::Db`]: every database call on the blocking pool, no session across an `.await` |
//! | `blog.rs` | what the handlers do to the database, one session each, written once for both front ends |
//! | `forms.rs` | form and JSON inputs, checked before the database sees them |
//! | `auth.rs` | argon2 password hashes, the signed login cookie, registering and logging in |
//! | `pages.rs` | the HTML pages (minijinja templates in `templates/`) |
//! | `api.rs` | the JSON API under `/api` |
//! | `main.rs` | command line, logging, serving |
//!
//! Each file imports only files above it in this table (and
//! [`AppState`] from here); the two front ends, `pages.rs` and `api.rs`,
//! never import each other.
//!
//! STARTUP
//!
//! [`open`] opens the file with the schema migrations of [`migrations`]
//! (new models get their tables; changed models are evolved, or the open
//! is refused with a message naming the change), and adds the seed's
//! students to an empty table.

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
use std::path::{Path, PathBuf};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: db::Db,
    /// The key that signs the login cookie.
    pub key: Key,
    /// Where `POST /api/admin/backup` writes its copies.
    pub backup_dir: PathBuf,
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
            backup_dir: PathBuf::from("strata-webapp-backups"),
        }
    }

    /// The same state, with backups written into `dir` (made if missing).
    pub fn with_backup_dir(mut self, dir: impl Into<PathBuf>) -> AppState {
        self.backup_dir = dir.into();
        self
    }
}

/// Opens (or creates) the database at `path`, runs the schema
/// migrations ([`migrations`]), and seeds the students.
pub fn open(path: impl AsRef<Path>) -> strata::Result<strata::Database> {
    let database = strata::Database::open_migrated(path, Default::default(), &migrations())?;
    database.transaction(blog::seed_students)?;
    Ok(database)
}

/// The application's schema migrations, run at every startup by
/// [`open`]: each model is listed, so a model changed in a way Strata
/// evolves by itself (a field added as an `Option` or with a default, an
/// index added or dropped, ...) has its table brought up to date when the
/// server starts, and a new model gets its tables. A change that needs a
/// decision (a rename, a conversion) is a versioned step added here, e.g.
/// `.step(1, "rename posts.body to text", |m| m.rename_field("posts", "body", "text"))`;
/// `Database::schema_history` lists what ran.
pub fn migrations() -> strata::Migrations {
    use models::*;
    strata::Migrations::new()
        .model::<User>()
        .model::<Post>()
        .model::<Tag>()
        .model::<Comment>()
        .model::<Profile>()
        .model::<Student>()
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
