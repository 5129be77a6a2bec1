//! `#[derive(Model)]` for the Strata ORM.
//!
//! The derive works in three steps, each in its own modules, the way
//! diesel_derives and sea-orm-macros are laid out:
//!
//! | step | modules |
//! | --- | --- |
//! | read the `#[strata(...)]` attributes | `attrs` |
//! | analyse the fields, the relationships, and the model as a whole into a `ModelDef` | `field`, `relationship`, `model` |
//! | generate each item from the `ModelDef` | `expand` and its modules |
//!
//! Every misuse is a compile error at the offending tokens, never a panic;
//! every bad field and model attribute is reported, not only the first.
//! After an error, an inert placeholder impl keeps other models that
//! refer to this one from failing too. The generated code grows linearly
//! with the fields.
//!
//! The attributes are documented on the two derives, [`macro@Model`] and
//! [`macro@Column`], which the `strata` crate re-exports (`strata::Model`,
//! `strata::Column`), where an application developer reads them. Their
//! examples use the `strata` crate, a dev-dependency of this one, so that
//! `cargo test --doc` runs them.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod attrs;
mod column;
mod expand;
mod field;
mod model;
mod relationship;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use syn::DeriveInput;

/// Makes a struct a model: a table whose rows are the struct's values.
///
/// The struct has named fields and no generic parameters, and also
/// derives (or implements) serde's `Serialize` and `Deserialize`, which
/// encode its rows, and `Clone`. Exactly one field is the primary key.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use strata::{Column, Model};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #[strata(table = "users", display = "username")]
/// pub struct User {
///     #[strata(primary_key)]
///     pub id: i64,
///     #[strata(unique, max_len = 80)]
///     pub username: String,
///     #[strata(index)]
///     pub email: Option<String>,
/// }
///
/// // A column constant per field, for queries: `User::username.eq("ann")`.
/// let username: Column<User, String> = User::username;
/// assert_eq!(username.name(), "username");
/// // The model's table and columns, as the stored schema records them.
/// assert_eq!(User::TABLE, "users");
/// assert!(User::COLUMNS[1].unique && User::COLUMNS[2].nullable);
/// // `display` chooses what `Display` shows.
/// let ann = User { id: 1, username: "ann".into(), email: None };
/// assert_eq!(ann.to_string(), "<User 'ann'>");
/// ```
///
/// # What it generates
///
/// | item | for |
/// | --- | --- |
/// | `impl strata::Model` | the table, the columns, the key, the delete rules and associations |
/// | a constant per field, `User::email: Column<User, Option<String>>` | filters and orderings: `User::email.ends_with("@example.com")` |
/// | a constant per relationship, and one per `backref` on the other model | loading related rows: `Person::addresses.load(&s, &john)` |
/// | `impl Display` | `<User 'ann'>` with `display`; every field otherwise: `<User id=1 username='ann' email=None>` |
/// | `impl Default`, when a field has `default`, `default_fn`, `created_at` or `updated_at` | `Post { title, ..Default::default() }` |
///
/// The constants take the struct's visibility, and share the type's
/// namespace with its inherent items: a method named like a field or a
/// relationship (`fn email(&self)`) fails to compile with E0592.
/// `Debug`, `PartialEq` and the rest come from the struct's own derives.
///
/// # Attributes of the struct
///
/// | attribute | meaning |
/// | --- | --- |
/// | `table = "users"` | the table the rows live in. Default: the type's name in snake case (`BlogPost` is `blog_post`). Not empty, no `#` (index tables are named `table#column`) |
/// | `display = "username"` | the field `Display` shows, as `<User 'ann'>` (a `String` quoted, numbers and `Option`s as `Debug`). Default: every field |
/// | `has_many(addresses = Address, fk = person_id, backref = person, on_delete = cascade)` | one-to-many: the rows of `Address` whose foreign key `person_id` names this row. `fk` is required, `backref` and `on_delete` are optional |
/// | `has_one(passport = Passport, fk = holder_id, backref = holder, on_delete = restrict)` | one-to-one: as `has_many`, and the child's `fk` must be `unique` |
/// | `many_to_many(tags = Tag, through = "page_tags", backref = pages)` | many-to-many through an association table: `through` (required) names it; Strata keeps the links in the tables `page_tags` and `page_tags#rev`, with no struct for them |
///
/// Each `#[strata(...)]` may hold several items, and a struct may carry
/// several `#[strata(...)]` attributes.
///
/// In a relationship, the first item names the constant and the other
/// model (`addresses = Address` makes `Person::addresses`); `backref =
/// person` also puts a constant on the other model (`Address::person`).
/// The constants' types:
///
/// | declared on `Person` | constant | backref |
/// | --- | --- | --- |
/// | `has_many(addresses = Address, fk = person_id, backref = person)` | `Person::addresses: HasMany<Person, Address>` | `Address::person: BelongsTo<Address, Person>` |
/// | `has_one(passport = Passport, fk = holder_id, backref = holder)` | `Person::passport: HasOne<Person, Passport>` | `Passport::holder: BelongsTo<Passport, Person>` |
/// | `many_to_many(tags = Tag, through = "page_tags", backref = pages)` (on `Page`) | `Page::tags: ManyToMany<Page, Tag>` | `Tag::pages: ManyToMany<Tag, Page>` |
///
/// A backref is an inherent constant of the other model, so both models
/// must be in the same crate.
///
/// `on_delete` says what deleting the parent does to its children:
///
/// | `on_delete` | deleting a parent that has children |
/// | --- | --- |
/// | `restrict` (the default) | is refused with `Error::Restricted`, naming the children's table and column; nothing changes |
/// | `cascade` | deletes the children too, applying their own rules in turn |
/// | `set_null` | sets the children's foreign key to `None`; the foreign key must be an `Option` |
///
/// A delete checks the whole cascade before it deletes anything, and
/// removes the row's many-to-many links in every case.
///
/// # Attributes of a field
///
/// | attribute | meaning |
/// | --- | --- |
/// | `primary_key` | the row's key; exactly one field has it. An integer, `String`, `Vec<u8>` or another ordered column type; not an `Option`, a float or a `bool`; no other attribute. An integer key of 0 means "assign one": `add` writes the next free key into the struct |
/// | `unique` | a unique index: `add` and `update` refuse a value another row holds (`Error::UniqueViolation`). Any number of rows may hold `None` |
/// | `index` | a secondary index, which queries use for `=`, `in_`, ranges, `starts_with` and ordering |
/// | `max_len = 80` | the longest value: characters of a `String`, bytes of a `Vec<u8>` (or an `Option` of them); `add` and `update` refuse a longer one (`Error::TooLong`) |
/// | `foreign_key = Person` | the field holds the primary key of a `Person` row (`None` for none, if it is an `Option`); `add` and `update` refuse a key that names no row (`Error::ForeignKeyViolation`). Indexed. Its kind (signed, unsigned, text, ...) must be the parent key's |
/// | `default = <expr>` | the field's default: an expression of the field's type; a string literal is made a `String`, and wrapped in `Some` for an `Option<String>`. The model implements `Default` |
/// | `default_fn = path` | the same, with the value of a function `fn() -> T` |
/// | `created_at` | a date-and-time field (chrono's, feature `chrono`) set to the current time when the row is added. The model implements `Default` |
/// | `updated_at` | the same, set when the row is added and each time it is updated |
///
/// A field takes at most one of `default`, `default_fn`, `created_at` and
/// `updated_at`. `unique`, `index` and `foreign_key` each give the field
/// an index table (`users#username`), and need a type whose encoding
/// orders its values (not JSON). An indexed float refuses NaN.
///
/// When a model is used for the first time with a file, its schema
/// (columns, their attributes, the defaults) is stored in the file;
/// a model that changes later is compared with it (the guide's chapter
/// on schema evolution, `docs/guide/schema-evolution.md`).
///
/// # Field types
///
/// A field's type is a column type or an `Option` of one (`None` is SQL's
/// null): the integers from `i8` to `i128` and `u8` to `u128`, `f32`,
/// `f64`, `bool`, `String`, `Vec<u8>`; behind `strata`'s features,
/// chrono's `DateTime<Utc>`, `NaiveDateTime` and `NaiveDate` (`chrono`),
/// `uuid::Uuid` (`uuid`), `rust_decimal::Decimal` (`decimal`) and
/// `serde_json::Value` with `#[serde(with = "strata::json")]` (`json`); a
/// unit enum or a newtype with [`macro@Column`]; any type implementing
/// `strata::ColumnValue`. Type aliases work. References, tuples, arrays,
/// maps, sets and `Vec`s of anything but `u8` are refused.
///
/// # Examples
///
/// Relationships, with each delete rule:
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use strata::{Database, Error, Model};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #[strata(display = "name")]
/// #[strata(has_many(addresses = Address, fk = person_id, backref = person, on_delete = cascade))]
/// #[strata(has_many(cars = Car, fk = owner_id, backref = owner, on_delete = set_null))]
/// #[strata(has_one(passport = Passport, fk = holder_id, backref = holder))]
/// struct Person {
///     #[strata(primary_key)]
///     id: i64,
///     name: String,
/// }
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// struct Address {
///     #[strata(primary_key)]
///     id: i64,
///     email: String,
///     #[strata(foreign_key = Person)]
///     person_id: i64,
/// }
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// struct Car {
///     #[strata(primary_key)]
///     id: i64,
///     #[strata(foreign_key = Person)]
///     owner_id: Option<i64>,
/// }
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// struct Passport {
///     #[strata(primary_key)]
///     id: i64,
///     #[strata(unique, foreign_key = Person)] // a has_one's foreign key is unique
///     holder_id: i64,
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let db = Database::open(dir.path().join("people.strata"))?;
/// let mut s = db.session()?;
/// let mut john = Person { id: 0, name: "John".into() };
/// s.add(&mut john)?;
/// s.add(&mut Address { id: 0, email: "john@example.com".into(), person_id: john.id })?;
/// let mut car = Car { id: 0, owner_id: Some(john.id) };
/// s.add(&mut car)?;
/// let mut passport = Passport { id: 0, holder_id: john.id };
/// s.add(&mut passport)?;
///
/// // The constants load related rows, in both directions.
/// assert_eq!(Person::addresses.load(&s, &john)?.len(), 1);
/// assert_eq!(Passport::holder.load(&s, &passport)?, Some(john.clone()));
///
/// // restrict (the default): John has a passport, so he stays.
/// assert!(matches!(s.delete(&john), Err(Error::Restricted { .. })));
/// s.delete(&passport)?;
/// // cascade deletes his addresses; set_null keeps his car, ownerless.
/// s.delete(&john)?;
/// assert_eq!(s.query::<Address>().count()?, 0);
/// assert_eq!(s.get::<Car>(car.id)?.map(|c| c.owner_id), Some(None));
/// s.commit()?;
/// # Ok(())
/// # }
/// ```
///
/// Many-to-many, through an association table that has no struct:
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use strata::{Database, Model};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// #[strata(many_to_many(tags = Tag, through = "page_tags", backref = pages))]
/// struct Page {
///     #[strata(primary_key)]
///     id: i64,
///     title: String,
/// }
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// struct Tag {
///     #[strata(primary_key)]
///     id: i64,
///     #[strata(unique)]
///     name: String,
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let db = Database::open(dir.path().join("pages.strata"))?;
/// let mut s = db.session()?;
/// let mut page = Page { id: 0, title: "Embedded storage".into() };
/// let mut rust = Tag { id: 0, name: "rust".into() };
/// s.add(&mut page)?;
/// s.add(&mut rust)?;
/// Page::tags.link(&mut s, &page, &rust)?;
/// assert_eq!(Tag::pages.load(&s, &rust)?, vec![page.clone()]);
/// assert!(Page::tags.unlink(&mut s, &page, &rust)?);
/// s.commit()?;
/// # Ok(())
/// # }
/// ```
///
/// Defaults, which give the model a `Default`:
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use strata::Model;
///
/// fn first_rating() -> f64 {
///     2.5
/// }
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// struct Post {
///     #[strata(primary_key)]
///     id: i64,
///     title: String,
///     #[strata(default = "draft")]
///     status: String,
///     #[strata(default = "nobody")]
///     editor: Option<String>,
///     #[strata(default = 1)]
///     revision: i64,
///     #[strata(default_fn = first_rating)]
///     rating: f64,
/// }
///
/// let post = Post { title: "Hello".into(), ..Default::default() };
/// assert_eq!(post.id, 0); // fields without a default take `Default::default()`
/// assert_eq!(post.status, "draft");
/// assert_eq!(post.editor.as_deref(), Some("nobody"));
/// assert_eq!((post.revision, post.rating), (1, 2.5));
/// ```
///
/// Timestamps (feature `chrono` of `strata`, and the `chrono` crate):
///
/// ```
/// use chrono::{DateTime, Utc};
/// use serde::{Deserialize, Serialize};
/// use strata::{Database, Model};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// struct Note {
///     #[strata(primary_key)]
///     id: i64,
///     text: String,
///     #[strata(created_at)]
///     created: DateTime<Utc>,
///     #[strata(updated_at)]
///     updated: DateTime<Utc>,
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let db = Database::open(dir.path().join("notes.strata"))?;
/// let mut s = db.session()?;
/// let mut note = Note { text: "hello".into(), ..Default::default() };
/// s.add(&mut note)?; // sets both to the current time, in `note` too
/// let stored = s.get::<Note>(note.id)?.expect("just added");
/// assert!(stored.created > DateTime::<Utc>::UNIX_EPOCH);
/// assert_eq!((stored.created, stored.updated), (note.created, note.created));
/// # Ok(())
/// # }
/// ```
///
/// # Errors at compile time
///
/// Every misuse is a compile error at the offending tokens, and every bad
/// field and attribute of a struct is reported at once: an unknown
/// attribute (the message lists the valid ones), no primary key or two,
/// `max_len` on a field that is not text or bytes, `has_many` without
/// `fk`, `many_to_many` without `through`, an `on_delete` other than the
/// three rules, a `display` naming no field. What only the compiler can
/// see is checked by constant assertions in the generated code: that a
/// `foreign_key` names a model, that an `fk` is a foreign key to this
/// model (and `unique` for `has_one`, an `Option` for `set_null`), that a
/// default has the field's type. The `strata` crate's `tests/ui/` holds
/// each case with its message.
///
/// ```compile_fail
/// use serde::{Deserialize, Serialize};
///
/// // error: model `Note` has no primary key: mark one field #[strata(primary_key)]
/// #[derive(strata::Model, Serialize, Deserialize, Clone)]
/// struct Note {
///     id: i64,
///     text: String,
/// }
/// ```
#[proc_macro_derive(Model, attributes(strata))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand_or_error(&input).into()
}

/// Makes a unit enum or a newtype a column type, so that a model's field
/// may have it: implements `strata::ColumnValue`, and serde's `Serialize`
/// and `Deserialize` (do not derive those as well).
///
/// | type | attribute | stored as | ordered by |
/// | --- | --- | --- | --- |
/// | a unit enum | none, or `#[strata(by_name)]` | its variant's name, as text | the names, as text |
/// | a unit enum | `#[strata(by_number)]`, every variant with `= n` | the number, as an `i64` | the numbers |
/// | a newtype, `struct UserId(i64)` or `struct UserId { id: i64 }` | none, or `#[strata(transparent)]` | what it wraps | what it wraps |
///
/// By name, renaming a variant changes what it stores, and the rows that
/// hold the old name no longer read; by number, the numbers must not
/// change. A newtype is what it wraps in the file, in filters and in
/// indexes, so it may be a primary key or a foreign key wherever the
/// wrapped type may. The type may not be generic.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use strata::{Column, Database, Model};
///
/// #[derive(Column, Clone, Copy, Debug, PartialEq, Default)]
/// enum Status {
///     #[default]
///     Draft,
///     Published,
/// }
///
/// #[derive(Column, Clone, Copy, Debug, PartialEq)]
/// #[strata(by_number)]
/// enum Priority {
///     Low = 1,
///     High = 9,
/// }
///
/// #[derive(Column, Clone, Copy, Debug, PartialEq, Default)]
/// struct AuthorId(i64);
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
/// struct Post {
///     #[strata(primary_key)]
///     id: i64,
///     #[strata(index)]
///     author: AuthorId,
///     #[strata(index)]
///     status: Status,
///     priority: Option<Priority>,
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let db = Database::open(dir.path().join("posts.strata"))?;
/// let mut s = db.session()?;
/// for (status, priority) in [(Status::Draft, None), (Status::Published, Some(Priority::High))] {
///     s.add(&mut Post { id: 0, author: AuthorId(7), status, priority })?;
/// }
/// let published = s.query::<Post>().filter(Post::status.eq(Status::Published)).all()?;
/// assert_eq!(published[0].priority, Some(Priority::High));
/// assert_eq!(s.query::<Post>().filter(Post::author.eq(AuthorId(7))).count()?, 2);
/// # Ok(())
/// # }
/// ```
#[proc_macro_derive(Column, attributes(strata))]
pub fn derive_column(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    column::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// The expansion of the derive on `input`; after an error, the error
/// followed by a placeholder implementation.
fn expand_or_error(input: &DeriveInput) -> Tokens {
    match model::ModelDef::parse(input) {
        Ok(def) => expand::expand(&def),
        Err(e) => {
            let mut out = e.into_compile_error();
            out.extend(expand::placeholder(input));
            out
        }
    }
}

#[cfg(test)]
mod snapshots;
