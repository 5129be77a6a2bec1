//! What the pages' forms and the API's JSON bodies carry, and the checks
//! made before the database sees them. The database checks the rest
//! (lengths, unique values, foreign keys) and its refusals come back as
//! [`AppError`]s at the right field.

use crate::blog::PostInput;
use crate::error::AppError;
use serde::Deserialize;

/// Registration.
#[derive(Deserialize, Clone, Debug)]
pub struct Register {
    /// Letters, digits, `_` and `-`, 3 to 40 of them.
    pub username: String,
    /// An address with an `@`.
    pub email: String,
    /// At least 8 characters.
    pub password: String,
}

impl Register {
    /// Checks the fields.
    pub fn validate(&self) -> Result<(), AppError> {
        let name_ok = (3..=40).contains(&self.username.chars().count())
            && self
                .username
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if !name_ok {
            return Err(
                AppError::bad_request("a username is 3 to 40 letters, digits, '_' or '-'")
                    .at("username"),
            );
        }
        if !self.email.contains('@') || self.email.trim() != self.email {
            return Err(AppError::bad_request("that is not an email address").at("email"));
        }
        if self.password.chars().count() < 8 {
            return Err(
                AppError::bad_request("a password has at least 8 characters").at("password"),
            );
        }
        Ok(())
    }
}

/// Logging in.
#[derive(Deserialize, Clone, Debug)]
pub struct Login {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// A post from the HTML form: tags as one comma-separated field.
#[derive(Deserialize, Clone, Debug)]
pub struct PostForm {
    /// The title.
    pub title: String,
    /// The text.
    pub body: String,
    /// `rust, databases`.
    #[serde(default)]
    pub tags: String,
}

/// A post from the API: tags as a list.
#[derive(Deserialize, Clone, Debug)]
pub struct PostJson {
    /// The title.
    pub title: String,
    /// The text.
    pub body: String,
    /// Tag names.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl PostForm {
    /// The checked input.
    pub fn input(&self) -> Result<PostInput, AppError> {
        post_input(&self.title, &self.body, self.tags.split(','))
    }
}

impl PostJson {
    /// The checked input.
    pub fn input(&self) -> Result<PostInput, AppError> {
        post_input(
            &self.title,
            &self.body,
            self.tags.iter().map(String::as_str),
        )
    }
}

fn post_input<'a>(
    title: &str,
    body: &str,
    tags: impl Iterator<Item = &'a str>,
) -> Result<PostInput, AppError> {
    let title = title.trim();
    if title.is_empty() {
        return Err(AppError::bad_request("a post needs a title").at("title"));
    }
    Ok(PostInput {
        title: title.to_owned(),
        body: body.to_owned(),
        tags: tag_names(tags)?,
    })
}

/// Tag names as stored: trimmed, lower case, each once, in the order
/// given, empty ones dropped; at most 10, each at most 40 characters.
pub fn tag_names<'a>(raw: impl Iterator<Item = &'a str>) -> Result<Vec<String>, AppError> {
    let mut names: Vec<String> = Vec::new();
    for name in raw.map(|t| t.trim().to_lowercase()) {
        if name.is_empty() || names.contains(&name) {
            continue;
        }
        if name.chars().count() > 40 {
            return Err(AppError::bad_request("a tag has at most 40 characters").at("tags"));
        }
        names.push(name);
    }
    if names.len() > 10 {
        return Err(AppError::bad_request("a post has at most 10 tags").at("tags"));
    }
    Ok(names)
}

/// A comment.
#[derive(Deserialize, Clone, Debug)]
pub struct CommentForm {
    /// The text.
    pub body: String,
}

impl CommentForm {
    /// Checks the text.
    pub fn validate(&self) -> Result<(), AppError> {
        if self.body.trim().is_empty() {
            return Err(AppError::bad_request("a comment needs some text").at("body"));
        }
        Ok(())
    }
}

/// A profile.
#[derive(Deserialize, Clone, Debug)]
pub struct ProfileForm {
    /// A few words.
    #[serde(default)]
    pub bio: String,
    /// Where; empty means not said.
    #[serde(default)]
    pub location: Option<String>,
}

impl ProfileForm {
    /// The location, `None` when empty.
    pub fn location(&self) -> Option<String> {
        self.location
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
    }
}

/// A student, from the API.
#[derive(Deserialize, Clone, Debug)]
pub struct StudentJson {
    /// The name.
    pub name: String,
    /// Grade point average, 0 to 4.
    pub gpa: f64,
}

impl StudentJson {
    /// Checks the average.
    pub fn validate(&self) -> Result<(), AppError> {
        if !(0.0..=4.0).contains(&self.gpa) {
            return Err(AppError::bad_request("a GPA lies between 0 and 4").at("gpa"));
        }
        Ok(())
    }
}

/// `?page=2&per_page=20&q=text&tag=name` of a list.
#[derive(Deserialize, Clone, Debug, Default)]
pub struct ListParams {
    /// The page, from 1 (default 1).
    pub page: Option<usize>,
    /// Rows per page (default 10, at most [`crate::blog::MAX_PER_PAGE`]).
    pub per_page: Option<usize>,
    /// Case-insensitive search text.
    pub q: Option<String>,
    /// A tag's name.
    pub tag: Option<String>,
}

impl ListParams {
    /// The page number and size, clamped to what is served.
    pub fn page(&self) -> (usize, usize) {
        let per_page = self
            .per_page
            .unwrap_or(10)
            .clamp(1, crate::blog::MAX_PER_PAGE);
        (self.page.unwrap_or(1).max(1), per_page)
    }
}
