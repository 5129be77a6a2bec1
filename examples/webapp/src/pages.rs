//! The HTML pages: the Flask tutorial's blog views, the tags, the
//! profiles and the seed's students, rendered with minijinja from
//! `templates/` (compiled into the binary, autoescaped).
//!
//! | route | page |
//! | --- | --- |
//! | `GET /` | newest posts, `?page=`, `?q=` (case-insensitive), `?author=` |
//! | `GET /tags`, `GET /tags/{name}` | every tag; the posts of one |
//! | `GET /posts/{id}` | a post with its comments; `POST .../comments` adds one |
//! | `GET,POST /posts/new`, `/posts/{id}/edit`; `POST /posts/{id}/delete` | writing (the author only) |
//! | `GET,POST /register`, `/login`; `POST /logout` | accounts; a taken name is a form error with status 409 |
//! | `GET /users/{name}`; `POST /profile`, `/account/delete` | profile, and deleting one's account |
//! | `GET /students` | the seed's `GPA > 3.5` |

use crate::AppState;
use crate::auth::{CurrentUser, Viewer, check_login, register_user};
use crate::blog::{self, PostFilter};
use crate::error::AppError;
use crate::forms::{CommentForm, ListParams, Login, PostForm, ProfileForm, Register};
use crate::models::{Post, Student};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::SignedCookieJar;
use minijinja::{Environment, Value, context};
use serde::Deserialize;
use std::sync::LazyLock;

/// The routes of the pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/tags", get(tags))
        .route("/tags/{name}", get(tag_page))
        .route("/students", get(students))
        .route("/register", get(register_form).post(register))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/posts/new", get(new_post_form).post(create_post))
        .route("/posts/{id}", get(show_post))
        .route("/posts/{id}/edit", get(edit_post_form).post(edit_post))
        .route("/posts/{id}/delete", post(delete_post))
        .route("/posts/{id}/comments", post(add_comment))
        .route("/users/{username}", get(user_page))
        .route("/profile", post(set_profile))
        .route("/account/delete", post(delete_account))
}

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(templates);

/// The templates, compiled into the binary.
fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("../templates/base.html")),
        ("posts.html", include_str!("../templates/posts.html")),
        ("post.html", include_str!("../templates/post.html")),
        (
            "post_form.html",
            include_str!("../templates/post_form.html"),
        ),
        ("account.html", include_str!("../templates/account.html")),
        ("user.html", include_str!("../templates/user.html")),
        ("tags.html", include_str!("../templates/tags.html")),
        ("students.html", include_str!("../templates/students.html")),
        ("error.html", include_str!("../templates/error.html")),
    ] {
        if let Err(e) = env.add_template(name, source) {
            panic!("template {name} does not parse: {e}");
        }
    }
    env.add_filter("excerpt", |s: String| -> String {
        match s.char_indices().nth(200) {
            Some((i, _)) => format!("{}…", &s[..i]),
            None => s,
        }
    });
    // RFC 3339 (`2026-12-05T18:58:40.123Z`) to `2026-12-05 18:58`.
    env.add_filter("when", |s: String| -> String {
        s.get(..16).unwrap_or(&s).replacen('T', " ", 1)
    });
    env
}

/// A page, or an error shown as one.
type PageResult = Result<Response, PageError>;

/// An [`AppError`] rendered as an HTML page with its status.
#[derive(Debug)]
pub struct PageError(AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> PageError {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status;
        let ctx = context! { status => status.to_string(), message => self.0.message };
        match render_with("error.html", ctx, status) {
            Ok(r) => r,
            Err(e) => (status, e.message).into_response(),
        }
    }
}

fn render(name: &str, ctx: Value) -> PageResult {
    Ok(render_with(name, ctx, StatusCode::OK)?)
}

fn render_with(name: &str, ctx: Value, status: StatusCode) -> Result<Response, AppError> {
    let html = TEMPLATES
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| AppError::internal(format!("template {name}: {e}")))?;
    Ok((status, Html(html)).into_response())
}

async fn index(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Query(params): Query<IndexParams>,
) -> PageResult {
    let list = ListParams {
        page: params.page,
        per_page: params.per_page,
        q: params.q.clone(),
        tag: None,
    };
    let (page, per_page) = list.page();
    let author = params.author.clone();
    let filter_search = params.q.clone();
    let listing = state
        .db
        .read(move |s| {
            let author_id = match author {
                Some(name) => match blog::user_by_name(s, &name)? {
                    Some(u) => Some(u.id),
                    None => Some(0),
                },
                None => None,
            };
            let filter = PostFilter {
                search: filter_search,
                tag: None,
                author_id,
            };
            blog::list_posts(s, &filter, page, per_page)
        })
        .await?;
    let heading = match &params.author {
        Some(a) => format!("Posts by {a}"),
        None => "Posts".to_owned(),
    };
    render(
        "posts.html",
        context! { user, listing, heading, base => "/", q => params.q.unwrap_or_default() },
    )
}

/// `serde(flatten)` would read every field as text, so the list's
/// fields are repeated here.
#[derive(Deserialize, Debug, Default)]
struct IndexParams {
    page: Option<usize>,
    per_page: Option<usize>,
    q: Option<String>,
    author: Option<String>,
}

async fn tag_page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(name): Path<String>,
    Query(params): Query<ListParams>,
) -> PageResult {
    let (page, per_page) = params.page();
    let filter = PostFilter {
        search: params.q.clone(),
        tag: Some(name.clone()),
        author_id: None,
    };
    let listing = state
        .db
        .read(move |s| blog::list_posts(s, &filter, page, per_page))
        .await?;
    render(
        "posts.html",
        context! {
            user, listing, heading => format!("Posts tagged {name}"),
            base => format!("/tags/{name}"), q => params.q.unwrap_or_default(),
        },
    )
}

async fn tags(State(state): State<AppState>, Viewer(user): Viewer) -> PageResult {
    let tags = state.db.read(blog::tags_with_counts).await?;
    let tags: Vec<Value> = tags
        .into_iter()
        .map(|(t, posts)| context! { name => t.name, posts })
        .collect();
    render("tags.html", context! { user, tags })
}

async fn students(State(state): State<AppState>, Viewer(user): Viewer) -> PageResult {
    const MIN_GPA: f64 = 3.5;
    let (students, plan) = state
        .db
        .read(|s| {
            let plan = s
                .query::<Student>()
                .filter(Student::gpa.gt(MIN_GPA))
                .order_by(Student::gpa.desc())
                .explain()
                .to_string();
            Ok((blog::students_above(s, MIN_GPA)?, plan))
        })
        .await?;
    render(
        "students.html",
        context! { user, students, plan, min_gpa => MIN_GPA },
    )
}

async fn show_post(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(id): Path<i64>,
) -> PageResult {
    let found = state
        .db
        .read(move |s| match blog::post(s, id)? {
            Some(p) => Ok(Some((p, blog::comments(s, id)?))),
            None => Ok(None),
        })
        .await?;
    let (post, comments) = found.ok_or_else(|| AppError::not_found("post"))?;
    render("post.html", context! { user, post, comments })
}

async fn add_comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CommentForm>,
) -> PageResult {
    form.validate()?;
    let author = user.id;
    state
        .db
        .write(move |s| blog::add_comment(s, id, author, &form.body))
        .await?;
    Ok(Redirect::to(&format!("/posts/{id}")).into_response())
}

fn post_form(heading: &str, action: &str, form: &PostForm, user: &CurrentUser) -> Value {
    context! { heading, action, form => context! {
        title => form.title, body => form.body, tags => form.tags,
    }, user }
}

async fn new_post_form(user: CurrentUser) -> PageResult {
    let empty = PostForm {
        title: String::new(),
        body: String::new(),
        tags: String::new(),
    };
    render(
        "post_form.html",
        post_form("New post", "/posts/new", &empty, &user),
    )
}

async fn create_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<PostForm>,
) -> PageResult {
    let author = user.id;
    let result = match form.input() {
        Ok(input) => {
            state
                .db
                .write(move |s| blog::create_post(s, author, &input))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(post) => Ok(Redirect::to(&format!("/posts/{}", post.id)).into_response()),
        Err(e) => form_error(
            "post_form.html",
            post_form("New post", "/posts/new", &form, &user),
            e,
        ),
    }
}

async fn edit_post_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> PageResult {
    let post = state.db.read(move |s| blog::post(s, id)).await?;
    let post = post.ok_or_else(|| AppError::not_found("post"))?;
    if post.author_id != user.id {
        return Err(AppError::forbidden().into());
    }
    let form = PostForm {
        title: post.title,
        body: post.body,
        tags: post.tags.join(", "),
    };
    let action = format!("/posts/{id}/edit");
    render(
        "post_form.html",
        post_form("Edit post", &action, &form, &user),
    )
}

async fn edit_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<PostForm>,
) -> PageResult {
    let author = user.id;
    let result = match form.input() {
        Ok(input) => {
            state
                .db
                .write(move |s| blog::update_post(s, id, author, &input))
                .await
        }
        Err(e) => Err(e),
    };
    let action = format!("/posts/{id}/edit");
    match result {
        Ok(Some(_)) => Ok(Redirect::to(&format!("/posts/{id}")).into_response()),
        Ok(None) => Err(AppError::forbidden().into()),
        Err(e) => form_error(
            "post_form.html",
            post_form("Edit post", &action, &form, &user),
            e,
        ),
    }
}

async fn delete_post(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> PageResult {
    let author = user.id;
    let deleted = state
        .db
        .write(move |s| blog::delete_post(s, id, author))
        .await?;
    if !deleted {
        return Err(AppError::forbidden().into());
    }
    Ok(Redirect::to("/").into_response())
}

/// The form again, with the error at its field and the error's status
/// (409 for a taken value).
fn form_error(template: &str, ctx: Value, e: AppError) -> PageResult {
    let ctx = context! { error => e.message, field => e.field, ..ctx };
    Ok(render_with(template, ctx, e.status)?)
}

fn account_form(register: bool, username: &str, email: &str) -> Value {
    let (heading, action) = if register {
        ("Register", "/register")
    } else {
        ("Log in", "/login")
    };
    context! { heading, action, register, form => context! { username, email } }
}

async fn register_form() -> PageResult {
    render("account.html", account_form(true, "", ""))
}

async fn register(
    State(state): State<AppState>,
    jar: SignedCookieJar,
    Form(form): Form<Register>,
) -> PageResult {
    match register_user(&state, &form).await {
        Ok(user) => Ok((user.log_in(jar), Redirect::to("/")).into_response()),
        Err(e) => form_error(
            "account.html",
            account_form(true, &form.username, &form.email),
            e,
        ),
    }
}

async fn login_form() -> PageResult {
    render("account.html", account_form(false, "", ""))
}

async fn login(
    State(state): State<AppState>,
    jar: SignedCookieJar,
    Form(form): Form<Login>,
) -> PageResult {
    match check_login(&state, &form).await {
        Ok(user) => Ok((user.log_in(jar), Redirect::to("/")).into_response()),
        Err(e) => form_error("account.html", account_form(false, &form.username, ""), e),
    }
}

async fn logout(jar: SignedCookieJar) -> Response {
    (CurrentUser::log_out(jar), Redirect::to("/")).into_response()
}

async fn user_page(
    State(state): State<AppState>,
    Viewer(user): Viewer,
    Path(username): Path<String>,
) -> PageResult {
    let found = state
        .db
        .read(move |s| {
            let Some(owner) = blog::user_by_name(s, &username)? else {
                return Ok(None);
            };
            let profile = blog::profile(s, &owner)?;
            let posts = s
                .query::<Post>()
                .filter(Post::author_id.eq(owner.id))
                .count()?;
            Ok(Some((blog::UserView::from(&owner), profile, posts)))
        })
        .await?;
    let (owner, profile, posts) = found.ok_or_else(|| AppError::not_found("user"))?;
    render("user.html", context! { user, owner, profile, posts })
}

async fn set_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<ProfileForm>,
) -> PageResult {
    let id = user.id;
    state
        .db
        .write(move |s| blog::set_profile(s, id, &form.bio, form.location()))
        .await?;
    Ok(Redirect::to(&format!("/users/{}", user.username)).into_response())
}

async fn delete_account(
    State(state): State<AppState>,
    jar: SignedCookieJar,
    user: CurrentUser,
) -> PageResult {
    let id = user.id;
    state.db.write(move |s| blog::delete_user(s, id)).await?;
    Ok((CurrentUser::log_out(jar), Redirect::to("/")).into_response())
}
