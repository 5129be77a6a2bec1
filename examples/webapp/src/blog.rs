//! What the pages and the API do to the database, written once.
//!
//! Each function is one session's work, given a `&Session` (reads) or a
//! `&mut Session` (writes); the handlers run them through
//! [`crate::db::Db`], never on a runtime thread.
//!
//! PASSES OF THE INDEX PAGE
//!
//! [`list_posts`] answers a page of posts with their authors and tags in
//! a fixed number of passes, whatever the page size: the page (one scan),
//! its total (one more), the authors by key (`BelongsTo::load_all`, no
//! scan, one read per distinct author) and the tags (`ManyToMany::load_all`,
//! one scan of the link table, one read per distinct tag). The test
//! `index_page_loads_in_a_fixed_number_of_scans` holds it to that with
//! `Database::stats()`.

use crate::models::{Comment, Post, Profile, Student, Tag, User};
use chrono::{DateTime, Utc};
use serde::Serialize;
use strata::{Error, Query, Relation, Result, Session, TextColumn, Value};

/// The largest page the pages and the API hand out.
pub const MAX_PER_PAGE: usize = 100;

/// A post as shown: with its author's name and its tags' names.
#[derive(Serialize, Clone, Debug)]
pub struct PostView {
    /// The key.
    pub id: i64,
    /// The title.
    pub title: String,
    /// The text.
    pub body: String,
    /// The author's key.
    pub author_id: i64,
    /// The author's username.
    pub author: String,
    /// The tags' names, sorted.
    pub tags: Vec<String>,
    /// When added.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

/// A comment as shown.
#[derive(Serialize, Clone, Debug)]
pub struct CommentView {
    /// The key.
    pub id: i64,
    /// The post's key.
    pub post_id: i64,
    /// The author's key.
    pub author_id: i64,
    /// The author's username.
    pub author: String,
    /// The text.
    pub body: String,
    /// When added.
    pub created_at: DateTime<Utc>,
}

/// A user as shown: never the password hash.
#[derive(Serialize, Clone, Debug)]
pub struct UserView {
    /// The key.
    pub id: i64,
    /// The login name.
    pub username: String,
    /// The address.
    pub email: String,
    /// When registered.
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            created_at: u.created_at,
        }
    }
}

/// One page of a list, Flask-SQLAlchemy's `Pagination` as JSON.
#[derive(Serialize, Clone, Debug)]
pub struct Listing<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// The page number, from 1.
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
    /// Rows on all pages.
    pub total: u64,
    /// Number of pages.
    pub pages: usize,
    /// The next page's number, if there is one.
    pub next: Option<usize>,
    /// The previous page's number, if there is one.
    pub prev: Option<usize>,
}

impl<T> Listing<T> {
    /// The listing of `page`, whose rows are shown as `items`.
    pub fn of<M>(page: strata::Page<M>, items: Vec<T>) -> Listing<T> {
        Listing {
            items,
            page: page.page,
            per_page: page.per_page,
            total: page.total,
            pages: page.pages,
            next: page.next_num(),
            prev: page.prev_num(),
        }
    }
}

/// Which posts a list shows.
#[derive(Clone, Debug, Default)]
pub struct PostFilter {
    /// Case-insensitive text in the title or the body.
    pub search: Option<String>,
    /// Only posts with this tag.
    pub tag: Option<String>,
    /// Only posts by this user.
    pub author_id: Option<i64>,
}

/// A page of posts, newest first, with authors and tags eagerly loaded.
pub fn list_posts(
    s: &Session,
    filter: &PostFilter,
    page: usize,
    per_page: usize,
) -> Result<Listing<PostView>> {
    let mut query: Query<'_, Post> = match &filter.tag {
        Some(name) => match tag_by_name(s, name)? {
            Some(tag) => Tag::posts.query(s, &tag)?,
            None => return Ok(empty_listing(page, per_page)),
        },
        None => s.query::<Post>(),
    };
    if let Some(needle) = filter.search.as_deref().filter(|n| !n.is_empty()) {
        query = query.filter(
            Post::title
                .icontains(needle)
                .or(Post::body.icontains(needle)),
        );
    }
    if let Some(author) = filter.author_id {
        query = query.filter(Post::author_id.eq(author));
    }
    let mut found = query.order_by(Post::id.desc()).paginate(page, per_page)?;
    let posts = std::mem::take(&mut found.items);
    Ok(Listing::of(found, post_views(s, posts)?))
}

fn empty_listing<T>(page: usize, per_page: usize) -> Listing<T> {
    Listing {
        items: Vec::new(),
        page,
        per_page,
        total: 0,
        pages: 0,
        next: None,
        prev: None,
    }
}

/// Posts with their authors and tags: two passes for any number of posts.
fn post_views(s: &Session, posts: Vec<Post>) -> Result<Vec<PostView>> {
    let authors = Post::author.load_all(s, &posts)?;
    let tags = Post::tags.load_all(s, &posts)?;
    Ok(posts
        .into_iter()
        .zip(authors)
        .zip(tags)
        .map(|((post, author), tags)| view(post, author, tags))
        .collect())
}

fn view(post: Post, author: Option<User>, tags: Vec<Tag>) -> PostView {
    let mut tags: Vec<String> = tags.into_iter().map(|t| t.name).collect();
    tags.sort();
    PostView {
        id: post.id,
        title: post.title,
        body: post.body,
        author_id: post.author_id,
        author: author.map_or_else(|| "(deleted)".to_owned(), |a| a.username),
        tags,
        created_at: post.created_at,
        updated_at: post.updated_at,
    }
}

/// One post with its author and tags, or `None`.
pub fn post(s: &Session, id: i64) -> Result<Option<PostView>> {
    match s.get::<Post>(id)? {
        Some(p) => Ok(post_views(s, vec![p])?.pop()),
        None => Ok(None),
    }
}

/// A post's comments, oldest first, with their authors.
pub fn comments(s: &Session, post_id: i64) -> Result<Vec<CommentView>> {
    let comments = s
        .query::<Comment>()
        .filter(Comment::post_id.eq(post_id))
        .order_by(Comment::id)
        .all()?;
    let authors = Comment::author.load_all(s, &comments)?;
    Ok(comments
        .into_iter()
        .zip(authors)
        .map(|(c, a)| CommentView {
            id: c.id,
            post_id: c.post_id,
            author_id: c.author_id,
            author: a.map_or_else(|| "(deleted)".to_owned(), |a| a.username),
            body: c.body,
            created_at: c.created_at,
        })
        .collect())
}

/// What a new or edited post says.
#[derive(Clone, Debug)]
pub struct PostInput {
    /// The title.
    pub title: String,
    /// The text.
    pub body: String,
    /// Tag names, already normalised ([`crate::forms::tag_names`]).
    pub tags: Vec<String>,
}

/// Adds a post by `author_id` with its tags (made if new). A missing
/// author is `ForeignKeyViolation`.
pub fn create_post(s: &mut Session, author_id: i64, input: &PostInput) -> Result<PostView> {
    let mut post = Post {
        id: 0,
        author_id,
        title: input.title.clone(),
        body: input.body.clone(),
        created_at: DateTime::UNIX_EPOCH,
        updated_at: DateTime::UNIX_EPOCH,
    };
    s.add(&mut post)?;
    let tags = link_tags(s, &post, &input.tags)?;
    Ok(view(post, s.get::<User>(author_id)?, tags))
}

/// Changes a post's title, body and tags. `NotFound` if it is gone;
/// `None` if it is not `author_id`'s.
pub fn update_post(
    s: &mut Session,
    id: i64,
    author_id: i64,
    input: &PostInput,
) -> Result<Option<PostView>> {
    let mut post = s
        .get::<Post>(id)?
        .ok_or_else(|| not_found("Post", Value::Int(id)))?;
    if post.author_id != author_id {
        return Ok(None);
    }
    post.title = input.title.clone();
    post.body = input.body.clone();
    s.update(&post)?;
    // `updated_at` was stamped by the update: read the stored row.
    let post = s
        .get::<Post>(id)?
        .ok_or_else(|| not_found("Post", Value::Int(id)))?;
    for old in Post::tags.load(s, &post)? {
        if !input.tags.contains(&old.name) {
            Post::tags.unlink(s, &post, &old)?;
        }
    }
    let tags = link_tags(s, &post, &input.tags)?;
    Ok(Some(view(post, s.get::<User>(author_id)?, tags)))
}

/// Deletes a post (its comments and links go with it). `NotFound` if it
/// is gone; `false` if it is not `author_id`'s.
pub fn delete_post(s: &mut Session, id: i64, author_id: i64) -> Result<bool> {
    let post = s
        .get::<Post>(id)?
        .ok_or_else(|| not_found("Post", Value::Int(id)))?;
    if post.author_id != author_id {
        return Ok(false);
    }
    s.delete(&post)?;
    Ok(true)
}

/// Links `post` to each named tag, making the tags that do not exist.
fn link_tags(s: &mut Session, post: &Post, names: &[String]) -> Result<Vec<Tag>> {
    let mut tags = Vec::with_capacity(names.len());
    for name in names {
        let tag = tag_or_new(s, name)?;
        Post::tags.link(s, post, &tag)?;
        tags.push(tag);
    }
    Ok(tags)
}

/// The tag of that name, made if missing. Two sessions making the same
/// tag at once: the unique index makes the second wait for the first, then
/// refuse with `UniqueViolation`, after which the first's tag is there to
/// read (strict two-phase locking reads the latest commit).
fn tag_or_new(s: &mut Session, name: &str) -> Result<Tag> {
    if let Some(tag) = tag_by_name(s, name)? {
        return Ok(tag);
    }
    let mut tag = Tag {
        id: 0,
        name: name.to_owned(),
    };
    match s.add(&mut tag) {
        Ok(()) => Ok(tag),
        Err(Error::UniqueViolation { .. }) => {
            tag_by_name(s, name)?.ok_or_else(|| not_found("Tag", Value::Text(name.to_owned())))
        }
        Err(e) => Err(e),
    }
}

/// The tag of that name.
pub fn tag_by_name(s: &Session, name: &str) -> Result<Option<Tag>> {
    s.query::<Tag>().filter(Tag::name.eq(name)).first()
}

/// Every tag with its number of posts, by name.
pub fn tags_with_counts(s: &Session) -> Result<Vec<(Tag, usize)>> {
    let tags = s.query::<Tag>().order_by(Tag::name).all()?;
    let posts = Tag::posts.load_all(s, &tags)?;
    Ok(tags.into_iter().zip(posts.iter().map(Vec::len)).collect())
}

/// Adds a comment by `author_id` on post `post_id`. A missing post or
/// author is `ForeignKeyViolation`.
pub fn add_comment(s: &mut Session, post_id: i64, author_id: i64, body: &str) -> Result<Comment> {
    let mut comment = Comment {
        id: 0,
        post_id,
        author_id,
        body: body.to_owned(),
        created_at: DateTime::UNIX_EPOCH,
    };
    s.add(&mut comment)?;
    Ok(comment)
}

/// A new user, whose hash was made beforehand (off the session: argon2
/// takes tens of milliseconds). A taken username or email is
/// `UniqueViolation` naming the column.
pub fn register(s: &mut Session, username: &str, email: &str, password_hash: &str) -> Result<User> {
    let mut user = User {
        id: 0,
        username: username.to_owned(),
        email: email.to_owned(),
        password_hash: password_hash.to_owned(),
        created_at: DateTime::UNIX_EPOCH,
    };
    s.add(&mut user)?;
    Ok(user)
}

/// `UniqueViolation`, as `add` would report it, when the username or the
/// email is taken.
pub fn check_free(s: &Session, username: &str, email: &str) -> Result<()> {
    let taken = |column, value: &str| Error::UniqueViolation {
        model: "User",
        column,
        value: Value::Text(value.to_owned()),
    };
    if user_by_name(s, username)?.is_some() {
        return Err(taken("username", username));
    }
    if s.query::<User>().filter(User::email.eq(email)).exists()? {
        return Err(taken("email", email));
    }
    Ok(())
}

/// The user of that name.
pub fn user_by_name(s: &Session, username: &str) -> Result<Option<User>> {
    s.query::<User>()
        .filter(User::username.eq(username))
        .first()
}

/// Deletes a user by key, and with it (the delete rules of
/// [`crate::models`]) their posts, comments and profile. `false` if there
/// was no such user.
pub fn delete_user(s: &mut Session, id: i64) -> Result<bool> {
    s.delete_by_key::<User>(id)
}

/// A user's profile, or `None`.
pub fn profile(s: &Session, user: &User) -> Result<Option<Profile>> {
    User::profile.load(s, user)
}

/// Sets a user's profile, making it if there is none.
pub fn set_profile(
    s: &mut Session,
    user_id: i64,
    bio: &str,
    location: Option<String>,
) -> Result<Profile> {
    let user = s
        .get::<User>(user_id)?
        .ok_or_else(|| not_found("User", Value::Int(user_id)))?;
    match User::profile.load(s, &user)? {
        Some(mut p) => {
            p.bio = bio.to_owned();
            p.location = location;
            s.update(&p)?;
            Ok(p)
        }
        None => {
            let mut p = Profile {
                id: 0,
                user_id,
                bio: bio.to_owned(),
                location,
            };
            s.add(&mut p)?;
            Ok(p)
        }
    }
}

/// The seed's query: `SELECT * FROM Students WHERE GPA > min`, best first,
/// answered from the index on `gpa`.
pub fn students_above(s: &Session, min_gpa: f64) -> Result<Vec<Student>> {
    s.query::<Student>()
        .filter(Student::gpa.gt(min_gpa))
        .order_by(Student::gpa.desc())
        .all()
}

/// The seed's students, added when the table is empty.
pub fn seed_students(s: &mut Session) -> Result<()> {
    if s.query::<Student>().exists()? {
        return Ok(());
    }
    let seed = [
        ("Ada", 3.9),
        ("Brian", 3.2),
        ("Chen", 3.7),
        ("Dana", 2.8),
        ("Emeka", 3.55),
        ("Farah", 3.5),
    ];
    for (name, gpa) in seed {
        s.add(&mut Student {
            id: 0,
            name: name.to_owned(),
            gpa,
        })?;
    }
    Ok(())
}

fn not_found(model: &'static str, key: Value) -> Error {
    Error::NotFound { model, key }
}
