//! The JSON API under `/api`: the same resources as the pages.
//!
//! | resource | routes |
//! | --- | --- |
//! | accounts | `POST /register` (201), `POST /login`, `POST /logout` (the same signed cookie as the pages) |
//! | users | `GET /users`, `GET,PUT,DELETE /users/{id}` (change or delete only oneself) |
//! | profiles | `GET,PUT /users/{id}/profile` |
//! | posts | `GET,POST /posts`, `GET,PUT,DELETE /posts/{id}` (`?page=&per_page=&q=&tag=`) |
//! | comments | `GET,POST /posts/{id}/comments`, `GET,PUT,DELETE /comments/{id}` |
//! | tags | `GET,POST /tags`, `GET,DELETE /tags/{name}` |
//! | students | `GET,POST /students` (`?min_gpa=`), `GET,PUT,DELETE /students/{id}` |
//! | counts | `GET /counts`: rows of each model |
//! | admin | `POST /admin/backup` (201, `{"path"}`): an online backup; `GET /admin/report?hold_ms=`: counts read twice from one snapshot held that long |
//!
//! Lists are pages: `{"items", "page", "per_page", "total", "pages",
//! "next", "prev"}`. Errors are `{"error", "field"}` with the statuses of
//! [`crate::error`]: a taken username is 409, a comment on a missing post
//! 404. Writing needs the login cookie (401 without); the admin routes
//! need the first account (id 1; 403 otherwise).

use crate::AppState;
use crate::auth::{CurrentUser, check_login, register_user};
use crate::blog::{self, CommentView, Listing, PostFilter, UserView};
use crate::error::AppError;
use crate::forms::{CommentForm, ListParams, Login, PostJson, ProfileForm, Register, StudentJson};
use crate::models::{Comment, Post, Profile, Student, Tag, User};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use axum_extra::extract::SignedCookieJar;
use serde::{Deserialize, Serialize};
use strata::{Model, Session};

/// The routes of the API, to be nested under `/api`.
pub fn routes() -> Router<AppState> {
    use axum::routing::post;
    Router::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/users", get(list_users))
        .route(
            "/users/{id}",
            get(get_user).put(put_user).delete(delete_user),
        )
        .route("/users/{id}/profile", get(get_profile).put(put_profile))
        .route("/posts", get(list_posts).post(create_post))
        .route(
            "/posts/{id}",
            get(get_post).put(put_post).delete(delete_post),
        )
        .route(
            "/posts/{id}/comments",
            get(list_comments).post(create_comment),
        )
        .route(
            "/comments/{id}",
            get(get_comment).put(put_comment).delete(delete_comment),
        )
        .route("/tags", get(list_tags).post(create_tag))
        .route("/tags/{name}", get(get_tag).delete(delete_tag))
        .route("/students", get(list_students).post(create_student))
        .route(
            "/students/{id}",
            get(get_student).put(put_student).delete(delete_student),
        )
        .route("/counts", get(counts))
        .route("/admin/report", get(report))
        .route("/admin/backup", axum::routing::post(backup))
}

type ApiResult<T> = Result<T, AppError>;
type Created<T> = (StatusCode, Json<T>);

fn created<T>(value: T) -> Created<T> {
    (StatusCode::CREATED, Json(value))
}

/// A row by key, or 404.
fn found<T>(row: Option<T>, what: &str) -> ApiResult<T> {
    row.ok_or_else(|| AppError::not_found(what))
}

// ---- accounts and users ----

async fn register(
    State(state): State<AppState>,
    jar: SignedCookieJar,
    Json(form): Json<Register>,
) -> ApiResult<(SignedCookieJar, Created<CurrentUserJson>)> {
    let user = register_user(&state, &form).await?;
    Ok((user.log_in(jar), created(CurrentUserJson::from(&user))))
}

async fn login(
    State(state): State<AppState>,
    jar: SignedCookieJar,
    Json(form): Json<Login>,
) -> ApiResult<(SignedCookieJar, Json<CurrentUserJson>)> {
    let user = check_login(&state, &form).await?;
    Ok((user.log_in(jar), Json(CurrentUserJson::from(&user))))
}

async fn logout(jar: SignedCookieJar) -> (SignedCookieJar, StatusCode) {
    (CurrentUser::log_out(jar), StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct CurrentUserJson {
    id: i64,
    username: String,
}

impl From<&CurrentUser> for CurrentUserJson {
    fn from(u: &CurrentUser) -> CurrentUserJson {
        CurrentUserJson {
            id: u.id,
            username: u.username.clone(),
        }
    }
}

async fn list_users(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<Listing<UserView>>> {
    let (page, per_page) = params.page();
    let listing = state
        .db
        .read(move |s| {
            let mut found = s.query::<User>().paginate(page, per_page)?;
            let users = std::mem::take(&mut found.items);
            Ok(Listing::of(
                found,
                users.iter().map(UserView::from).collect(),
            ))
        })
        .await?;
    Ok(Json(listing))
}

async fn get_user(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<UserView>> {
    let user = state.db.read(move |s| s.get::<User>(id)).await?;
    Ok(Json(UserView::from(&found(user, "user")?)))
}

/// Only oneself.
fn must_be(user: &CurrentUser, id: i64) -> ApiResult<()> {
    if user.id == id {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

#[derive(Deserialize)]
struct UserChange {
    email: String,
}

async fn put_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(change): Json<UserChange>,
) -> ApiResult<Json<UserView>> {
    must_be(&user, id)?;
    if !change.email.contains('@') {
        return Err(AppError::bad_request("that is not an email address").at("email"));
    }
    let updated = state
        .db
        .write(move |s| {
            let Some(mut u) = s.get::<User>(id)? else {
                return Ok(None);
            };
            u.email = change.email.clone();
            s.update(&u)?;
            Ok(Some(u))
        })
        .await?;
    Ok(Json(UserView::from(&found(updated, "user")?)))
}

/// Deletes the user and, by the models' delete rules, their posts (with
/// their comments and tag links), their comments and their profile.
async fn delete_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    must_be(&user, id)?;
    let deleted = state.db.write(move |s| blog::delete_user(s, id)).await?;
    found(deleted.then_some(StatusCode::NO_CONTENT), "user")
}

async fn get_profile(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Profile>> {
    let profile = state
        .db
        .read(move |s| match s.get::<User>(id)? {
            Some(u) => blog::profile(s, &u),
            None => Ok(None),
        })
        .await?;
    Ok(Json(found(profile, "profile")?))
}

async fn put_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(form): Json<ProfileForm>,
) -> ApiResult<Json<Profile>> {
    must_be(&user, id)?;
    let profile = state
        .db
        .write(move |s| blog::set_profile(s, id, &form.bio, form.location()))
        .await?;
    Ok(Json(profile))
}

// ---- posts and comments ----

async fn list_posts(
    State(state): State<AppState>,
    Query(params): Query<ListParams>,
) -> ApiResult<Json<Listing<blog::PostView>>> {
    let (page, per_page) = params.page();
    let filter = PostFilter {
        search: params.q,
        tag: params.tag,
        author_id: None,
    };
    let listing = state
        .db
        .read(move |s| blog::list_posts(s, &filter, page, per_page))
        .await?;
    Ok(Json(listing))
}

async fn create_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Json(body): Json<PostJson>,
) -> ApiResult<Created<blog::PostView>> {
    let input = body.input()?;
    let author = user.id;
    let post = state
        .db
        .write(move |s| blog::create_post(s, author, &input))
        .await?;
    Ok(created(post))
}

async fn get_post(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<blog::PostView>> {
    let post = state.db.read(move |s| blog::post(s, id)).await?;
    Ok(Json(found(post, "post")?))
}

async fn put_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<PostJson>,
) -> ApiResult<Json<blog::PostView>> {
    let input = body.input()?;
    let author = user.id;
    let post = state
        .db
        .write(move |s| blog::update_post(s, id, author, &input))
        .await?;
    post.map(Json).ok_or_else(AppError::forbidden)
}

async fn delete_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let author = user.id;
    let deleted = state
        .db
        .write(move |s| blog::delete_post(s, id, author))
        .await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::forbidden())
    }
}

async fn list_comments(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<CommentView>>> {
    let comments = state
        .db
        .read(move |s| match s.get::<Post>(id)? {
            Some(_) => blog::comments(s, id).map(Some),
            None => Ok(None),
        })
        .await?;
    Ok(Json(found(comments, "post")?))
}

/// A comment on a post that does not exist is the database's
/// `ForeignKeyViolation`, answered 404.
async fn create_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(form): Json<CommentForm>,
) -> ApiResult<Created<Comment>> {
    form.validate()?;
    let author = user.id;
    let comment = state
        .db
        .write(move |s| blog::add_comment(s, id, author, &form.body))
        .await?;
    Ok(created(comment))
}

async fn get_comment(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Comment>> {
    let comment = state.db.read(move |s| s.get::<Comment>(id)).await?;
    Ok(Json(found(comment, "comment")?))
}

async fn put_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Json(form): Json<CommentForm>,
) -> ApiResult<Json<Comment>> {
    form.validate()?;
    let author = user.id;
    let comment = state
        .db
        .write(move |s| {
            let Some(mut c) = s.get::<Comment>(id)? else {
                return Ok(None);
            };
            if c.author_id == author {
                c.body = form.body.clone();
                s.update(&c)?;
            }
            Ok(Some(c))
        })
        .await?;
    let comment = found(comment, "comment")?;
    if comment.author_id != user.id {
        return Err(AppError::forbidden());
    }
    Ok(Json(comment))
}

async fn delete_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let author = user.id;
    let outcome = state
        .db
        .write(move |s| match s.get::<Comment>(id)? {
            Some(c) if c.author_id == author => s.delete(&c).map(|_| Some(true)),
            Some(_) => Ok(Some(false)),
            None => Ok(None),
        })
        .await?;
    match found(outcome, "comment")? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(AppError::forbidden()),
    }
}

// ---- tags ----

#[derive(Serialize)]
struct TagJson {
    id: i64,
    name: String,
    posts: usize,
}

async fn list_tags(State(state): State<AppState>) -> ApiResult<Json<Vec<TagJson>>> {
    let tags = state.db.read(blog::tags_with_counts).await?;
    Ok(Json(
        tags.into_iter()
            .map(|(t, posts)| TagJson {
                id: t.id,
                name: t.name,
                posts,
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
struct NewTag {
    name: String,
}

/// A taken name is the unique index's refusal: 409.
async fn create_tag(
    State(state): State<AppState>,
    _user: CurrentUser,
    Json(body): Json<NewTag>,
) -> ApiResult<Created<Tag>> {
    let name = crate::forms::tag_names(std::iter::once(body.name.as_str()))?
        .pop()
        .ok_or_else(|| AppError::bad_request("a tag needs a name").at("name"))?;
    let tag = state
        .db
        .write(move |s| {
            let mut tag = Tag {
                id: 0,
                name: name.clone(),
            };
            s.add(&mut tag)?;
            Ok(tag)
        })
        .await?;
    Ok(created(tag))
}

async fn get_tag(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<TagJson>> {
    let tag = state
        .db
        .read(move |s| match blog::tag_by_name(s, &name)? {
            Some(t) => {
                let posts = Tag::posts.load(s, &t)?.len();
                Ok(Some(TagJson {
                    id: t.id,
                    name: t.name,
                    posts,
                }))
            }
            None => Ok(None),
        })
        .await?;
    Ok(Json(found(tag, "tag")?))
}

/// Deleting a tag removes its links; the posts stay.
async fn delete_tag(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let deleted = state
        .db
        .write(move |s| match blog::tag_by_name(s, &name)? {
            Some(t) => s.delete(&t),
            None => Ok(false),
        })
        .await?;
    found(deleted.then_some(StatusCode::NO_CONTENT), "tag")
}

// ---- students ----

#[derive(Deserialize)]
struct StudentParams {
    min_gpa: Option<f64>,
    page: Option<usize>,
    per_page: Option<usize>,
}

/// `SELECT * FROM Students WHERE GPA > :min_gpa` (default: every student),
/// best first.
async fn list_students(
    State(state): State<AppState>,
    Query(params): Query<StudentParams>,
) -> ApiResult<Json<Listing<Student>>> {
    let list = ListParams {
        page: params.page,
        per_page: params.per_page,
        ..ListParams::default()
    };
    let (page, per_page) = list.page();
    let min = params.min_gpa.unwrap_or(f64::NEG_INFINITY);
    let listing = state
        .db
        .read(move |s| {
            let mut found = s
                .query::<Student>()
                .filter(Student::gpa.gt(min))
                .order_by(Student::gpa.desc())
                .paginate(page, per_page)?;
            let items = std::mem::take(&mut found.items);
            Ok(Listing::of(found, items))
        })
        .await?;
    Ok(Json(listing))
}

async fn create_student(
    State(state): State<AppState>,
    _user: CurrentUser,
    Json(body): Json<StudentJson>,
) -> ApiResult<Created<Student>> {
    body.validate()?;
    let student = state
        .db
        .write(move |s| {
            let mut st = Student {
                id: 0,
                name: body.name.clone(),
                gpa: body.gpa,
            };
            s.add(&mut st)?;
            Ok(st)
        })
        .await?;
    Ok(created(student))
}

async fn get_student(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Student>> {
    let student = state.db.read(move |s| s.get::<Student>(id)).await?;
    Ok(Json(found(student, "student")?))
}

async fn put_student(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
    Json(body): Json<StudentJson>,
) -> ApiResult<Json<Student>> {
    body.validate()?;
    let student = Student {
        id,
        name: body.name,
        gpa: body.gpa,
    };
    let stored = student.clone();
    state.db.write(move |s| s.update(&stored)).await?;
    Ok(Json(student))
}

async fn delete_student(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let deleted = state
        .db
        .write(move |s| s.delete_by_key::<Student>(id))
        .await?;
    found(deleted.then_some(StatusCode::NO_CONTENT), "student")
}

// ---- counts and admin ----

/// Rows of each model.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Users.
    pub users: u64,
    /// Posts.
    pub posts: u64,
    /// Comments.
    pub comments: u64,
    /// Tags.
    pub tags: u64,
    /// Profiles.
    pub profiles: u64,
    /// Students.
    pub students: u64,
}

impl Counts {
    /// Counts every model in one session.
    pub fn read(s: &Session) -> strata::Result<Counts> {
        fn n<M: Model>(s: &Session) -> strata::Result<u64> {
            s.query::<M>().count()
        }
        Ok(Counts {
            users: n::<User>(s)?,
            posts: n::<Post>(s)?,
            comments: n::<Comment>(s)?,
            tags: n::<Tag>(s)?,
            profiles: n::<Profile>(s)?,
            students: n::<Student>(s)?,
        })
    }
}

async fn counts(State(state): State<AppState>) -> ApiResult<Json<Counts>> {
    Ok(Json(state.db.read(Counts::read).await?))
}

/// Only the first account administers.
fn must_be_admin(user: &CurrentUser) -> ApiResult<()> {
    if user.id == 1 {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

#[derive(Deserialize)]
struct ReportParams {
    #[serde(default)]
    hold_ms: u64,
}

#[derive(Serialize)]
struct Report {
    before: Counts,
    after: Counts,
    held_ms: u64,
}

/// A long report: counts every model, holds the same snapshot for
/// `hold_ms` (at most a minute) as a slow report would, and counts again.
/// The two counts are equal whatever was written meanwhile, and no writer
/// waited for it: a read session takes no locks.
async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<ReportParams>,
) -> ApiResult<Json<Report>> {
    must_be_admin(&user)?;
    let hold = std::time::Duration::from_millis(params.hold_ms.min(60_000));
    let report = state
        .db
        .read(move |s| {
            let before = Counts::read(s)?;
            std::thread::sleep(hold);
            let after = Counts::read(s)?;
            Ok(Report {
                before,
                after,
                held_ms: hold.as_millis() as u64,
            })
        })
        .await?;
    Ok(Json(report))
}

#[derive(Serialize)]
struct BackupMade {
    path: String,
}

/// An online backup into the state's backup directory, named by the
/// time: `blog-20261205T190102.123Z.strata`. Writers go on while it runs
/// (`Database::backup_to` copies the durable tree as of one checkpoint);
/// the copy opens as a database of its own and passes `check()`.
async fn backup(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Created<BackupMade>> {
    must_be_admin(&user)?;
    let dir = state.backup_dir.clone();
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| AppError::internal(format!("cannot make {}: {e}", dir.display())))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let dest = dir.join(format!("blog-{stamp}.strata"));
    let path = dest.display().to_string();
    state.db.with(move |db| db.backup_to(&dest)).await?;
    tracing::info!(%path, "backup made");
    Ok(created(BackupMade { path }))
}
