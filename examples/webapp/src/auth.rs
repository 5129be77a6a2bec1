//! Passwords, the login cookie, registering and logging in.
//!
//! PASSWORDS are stored as argon2id hashes in PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), each with its own
//! random salt, made and checked on the blocking pool: a hash costs tens
//! of milliseconds of CPU by design.
//!
//! THE SESSION is one cookie, `user`, holding `<id>:<username>` and signed
//! with HMAC-SHA256 under the server's key (axum-extra's
//! `SignedCookieJar`): the client can read it but not forge it. It is
//! `HttpOnly` and `SameSite=Lax`, so a script cannot read it and another
//! site's form cannot post with it. The key is made at random when the
//! server starts unless `--secret` gives one, so a restart logs everyone
//! out. A deleted user's cookie still parses; what it then tries to write
//! fails as a foreign-key violation (404).

use crate::AppState;
use crate::blog;
use crate::error::AppError;
use crate::forms::{Login, Register};
use crate::models::User;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum_extra::extract::SignedCookieJar;
use axum_extra::extract::cookie::{Cookie, Key, SameSite};

const COOKIE: &str = "user";

/// The logged-in user, from the signed cookie. As an extractor it
/// refuses the request with 401 when nobody is logged in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CurrentUser {
    /// The user's key.
    pub id: i64,
    /// The user's name.
    pub username: String,
}

/// The logged-in user, if any (an extractor that never refuses).
#[derive(Clone, Debug)]
pub struct Viewer(pub Option<CurrentUser>);

impl CurrentUser {
    fn from_jar(jar: &SignedCookieJar) -> Option<CurrentUser> {
        let cookie = jar.get(COOKIE)?;
        let (id, username) = cookie.value().split_once(':')?;
        Some(CurrentUser {
            id: id.parse().ok()?,
            username: username.to_owned(),
        })
    }

    /// The jar with this user's cookie added.
    pub fn log_in(&self, jar: SignedCookieJar) -> SignedCookieJar {
        let cookie = Cookie::build((COOKIE, format!("{}:{}", self.id, self.username)))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax);
        jar.add(cookie)
    }

    /// The jar without the cookie.
    pub fn log_out(jar: SignedCookieJar) -> SignedCookieJar {
        jar.remove(Cookie::build(COOKIE).path("/"))
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    Key: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let jar = SignedCookieJar::<Key>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::unauthorized())?;
        CurrentUser::from_jar(&jar).ok_or_else(AppError::unauthorized)
    }
}

impl<S> FromRequestParts<S> for Viewer
where
    S: Send + Sync,
    Key: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let jar = SignedCookieJar::<Key>::from_request_parts(parts, state).await?;
        Ok(Viewer(CurrentUser::from_jar(&jar)))
    }
}

/// A salted argon2id hash of `password`, made on the blocking pool.
pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(format!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::internal(format!("hashing task failed: {e}")))?
}

/// Whether `password` matches the stored `hash`, checked on the blocking
/// pool.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// Checks, hashes (off the database session) and stores a new user.
pub async fn register_user(state: &AppState, form: &Register) -> Result<CurrentUser, AppError> {
    form.validate()?;
    // A taken name is refused before the hash is made, which costs tens
    // of milliseconds of CPU; the unique indexes still decide the races.
    let (username, email) = (form.username.clone(), form.email.clone());
    state
        .db
        .read(move |s| blog::check_free(s, &username, &email))
        .await?;
    let hash = hash_password(form.password.clone()).await?;
    let (username, email) = (form.username.clone(), form.email.clone());
    let user = state
        .db
        .write(move |s| blog::register(s, &username, &email, &hash))
        .await?;
    Ok(CurrentUser {
        id: user.id,
        username: user.username,
    })
}

/// The user whose name and password these are.
pub async fn check_login(state: &AppState, form: &Login) -> Result<CurrentUser, AppError> {
    let username = form.username.clone();
    let user: Option<User> = state
        .db
        .read(move |s| blog::user_by_name(s, &username))
        .await?;
    let refused = || AppError::new(StatusCode::UNAUTHORIZED, "wrong username or password");
    let user = user.ok_or_else(refused)?;
    if !verify_password(form.password.clone(), user.password_hash.clone()).await {
        return Err(refused());
    }
    Ok(CurrentUser {
        id: user.id,
        username: user.username,
    })
}
