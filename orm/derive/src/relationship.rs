//! Relationship analysis: the `has_many(...)`, `has_one(...)` and
//! `many_to_many(...)` attributes of a model.

use crate::attrs::{err, expr_ident, expr_path, list_items, lit_str, name_of};
use syn::spanned::Spanned;
use syn::{Ident, Meta};

/// Which attribute declared the relationship.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    HasMany,
    HasOne,
    ManyToMany,
}

impl Kind {
    /// How the attribute is written, for messages.
    fn usage(self) -> &'static str {
        match self {
            Kind::HasMany | Kind::HasOne => {
                "has_many(addresses = Address, fk = person_id, backref = person, on_delete = cascade)"
            }
            Kind::ManyToMany => {
                "many_to_many(tags = Tag, through = \"page_tags\", backref = pages)"
            }
        }
    }
}

/// What a delete of the parent does to its children.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDelete {
    Restrict,
    Cascade,
    SetNull,
}

/// How the two models are linked.
pub(crate) enum Link {
    /// `has_many` / `has_one`: the child's foreign-key field, and the rule.
    ForeignKey { fk: Ident, on_delete: OnDelete },
    /// `many_to_many`: the association table.
    Through(String),
}

/// One relationship declared on the model.
pub(crate) struct Relationship {
    pub(crate) kind: Kind,
    /// The constant on this model (`addresses`).
    pub(crate) name: Ident,
    /// The other model.
    pub(crate) target: syn::Path,
    /// The constant on the other model, if any (`person`).
    pub(crate) backref: Option<Ident>,
    pub(crate) link: Link,
}

/// The `key = value` items after `name = Model`, as written.
#[derive(Default)]
struct Keys {
    fk: Option<Ident>,
    on_delete: Option<OnDelete>,
    through: Option<String>,
    backref: Option<Ident>,
}

impl Relationship {
    /// Analyses the attribute list of a relationship of kind `kind`.
    pub(crate) fn parse(kind: Kind, list: &syn::MetaList) -> syn::Result<Relationship> {
        let items = list_items(list)?;
        let mut iter = items.iter();
        let first_error = || format!("expected `name = Model` first: {}", kind.usage());
        let Some(Meta::NameValue(first)) = iter.next() else {
            return err(list, first_error());
        };
        let (Some(name), Some(target)) = (first.path.get_ident().cloned(), expr_path(&first.value))
        else {
            return err(first, first_error());
        };
        let mut keys = Keys::default();
        for m in iter {
            keys.apply(kind, m)?;
        }
        let link = match (kind, keys.fk, keys.through) {
            (Kind::HasMany | Kind::HasOne, Some(fk), _) => Link::ForeignKey {
                fk,
                on_delete: keys.on_delete.unwrap_or(OnDelete::Restrict),
            },
            (Kind::HasMany | Kind::HasOne, None, _) => {
                return err(list, format!("missing `fk = field`: {}", kind.usage()));
            }
            (Kind::ManyToMany, _, Some(through)) => Link::Through(through),
            (Kind::ManyToMany, _, None) => {
                return err(
                    list,
                    format!("missing `through = \"table\"`: {}", kind.usage()),
                );
            }
        };
        Ok(Relationship {
            kind,
            name,
            target,
            backref: keys.backref,
            link,
        })
    }
}

impl Keys {
    /// Reads one `key = value` item of a relationship of kind `kind`.
    fn apply(&mut self, kind: Kind, m: &Meta) -> syn::Result<()> {
        let Meta::NameValue(nv) = m else {
            return err(m, format!("expected `key = value`: {}", kind.usage()));
        };
        let key = name_of(&nv.path);
        let value = &nv.value;
        let child = matches!(kind, Kind::HasMany | Kind::HasOne);
        match key.as_str() {
            "fk" if child => {
                self.fk = Some(expr_ident(value).ok_or_else(|| {
                    syn::Error::new(value.span(), "fk names a field of the child")
                })?)
            }
            "on_delete" if child => self.on_delete = Some(on_delete(value)?),
            "through" if !child => self.through = Some(through(value)?),
            "backref" => {
                self.backref = Some(expr_ident(value).ok_or_else(|| {
                    syn::Error::new(value.span(), "backref is a name: backref = person")
                })?)
            }
            _ => return err(&nv.path, format!("unknown key `{key}`: {}", kind.usage())),
        }
        Ok(())
    }
}

/// The rule of `on_delete = ...`.
fn on_delete(value: &syn::Expr) -> syn::Result<OnDelete> {
    match expr_ident(value).map(|i| i.to_string()).as_deref() {
        Some("restrict") => Ok(OnDelete::Restrict),
        Some("cascade") => Ok(OnDelete::Cascade),
        Some("set_null") => Ok(OnDelete::SetNull),
        _ => err(value, "on_delete is restrict, cascade or set_null"),
    }
}

/// The association table of `through = "..."`.
fn through(value: &syn::Expr) -> syn::Result<String> {
    match lit_str(value) {
        Some(t) if t.is_empty() || t.contains('#') => err(
            value,
            "an association table name is not empty and has no `#`",
        ),
        Some(t) => Ok(t),
        None => Err(syn::Error::new(
            value.span(),
            "through names the association table: through = \"page_tags\"",
        )),
    }
}
