//! Field analysis: the column type a field's Rust type stands for, and the
//! field's own attributes (`primary_key`, `unique`, `index`, `max_len`,
//! `foreign_key`), with the rules a primary key obeys.

use crate::attrs::{Errors, err, expr_path, lit_usize, name_of, strata_metas, text_of};
use syn::{GenericArgument, Ident, Meta, PathArguments, Type};

/// The field attributes, as the message of an unknown one lists them.
const FIELD_ATTRS: &str =
    "primary_key, unique, index, max_len, foreign_key, default, default_fn, created_at, updated_at";

/// The Rust types a column can have, `Option` aside, as far as the derive
/// can tell from the type's name. Anything else is `Other`: a type whose
/// `ColumnType` the compiler checks (a type of a feature, a
/// `#[derive(Column)]` type, a user's `ColumnValue`, an alias), with
/// const assertions for the rules that need its kind.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    Signed,
    Unsigned,
    Float,
    Bool,
    Text,
    Bytes,
    Other,
}

/// A field's default, as written.
pub(crate) enum Default {
    /// `default = <expr>`.
    Expr(syn::Expr),
    /// `default_fn = path`.
    Fn(syn::Path),
}

/// An automatic timestamp.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    Created,
    Updated,
}

/// One field of the model, analysed.
pub(crate) struct Field {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) base: Base,
    pub(crate) nullable: bool,
    pub(crate) primary_key: bool,
    pub(crate) unique: bool,
    pub(crate) index: bool,
    pub(crate) max_len: Option<usize>,
    /// The model the field refers to.
    pub(crate) foreign_key: Option<syn::Path>,
    pub(crate) default: Option<Default>,
    pub(crate) stamp: Option<Stamp>,
    /// The field has `#[serde(with = ...)]` (a JSON field needs it).
    pub(crate) serde_with: bool,
}

impl Field {
    /// Analyses field `f`: its type, then its attributes (every bad one
    /// reported), then the rules of a primary key.
    pub(crate) fn parse(f: &syn::Field) -> syn::Result<Field> {
        let ident = f
            .ident
            .clone()
            .ok_or_else(|| syn::Error::new_spanned(f, "a model's fields must be named"))?;
        let Some((base, nullable)) = classify(&f.ty) else {
            return err(
                &f.ty,
                format!(
                    "unsupported field type `{}`: a model field is a column type (an integer, f32, f64, bool, String, Vec<u8>, a type of an enabled feature, a `#[derive(strata::Column)]` type, a `strata::ColumnValue`), or an Option of one",
                    text_of(&f.ty)
                ),
            );
        };
        let mut field = Field {
            ident,
            ty: f.ty.clone(),
            base,
            nullable,
            primary_key: false,
            unique: false,
            index: false,
            max_len: None,
            foreign_key: None,
            default: None,
            stamp: None,
            serde_with: f.attrs.iter().any(|a| {
                a.path().is_ident("serde")
                    && a.meta
                        .require_list()
                        .is_ok_and(|l| l.tokens.to_string().contains("with"))
            }),
        };
        let mut errors = Errors::default();
        for meta in strata_metas(&f.attrs)? {
            errors.ok(field.apply(&meta));
        }
        errors.check()?;
        field.check_primary_key()?;
        Ok(field)
    }

    /// Whether the field has an index table (unique, indexed or a foreign
    /// key, and not the primary key).
    pub(crate) fn has_index(&self) -> bool {
        !self.primary_key && (self.unique || self.index || self.foreign_key.is_some())
    }

    /// Applies one attribute item.
    fn apply(&mut self, meta: &Meta) -> syn::Result<()> {
        let name = name_of(meta.path());
        match (name.as_str(), meta) {
            ("primary_key", Meta::Path(_)) => self.primary_key = true,
            ("unique", Meta::Path(_)) => self.unique = true,
            ("index", Meta::Path(_)) => self.index = true,
            ("max_len", Meta::NameValue(nv)) => self.max_len = Some(self.max_len(meta, &nv.value)?),
            ("foreign_key", Meta::NameValue(nv)) => {
                let Some(p) = expr_path(&nv.value) else {
                    return err(
                        &nv.value,
                        "foreign_key takes a model type: #[strata(foreign_key = Person)]",
                    );
                };
                self.foreign_key = Some(p);
            }
            ("default", Meta::NameValue(nv)) => {
                self.set_default(meta, Default::Expr(nv.value.clone()))?
            }
            ("default_fn", Meta::NameValue(nv)) => {
                let Some(p) = expr_path(&nv.value) else {
                    return err(
                        &nv.value,
                        "default_fn takes a function's path: #[strata(default_fn = now)]",
                    );
                };
                self.set_default(meta, Default::Fn(p))?
            }
            ("created_at", Meta::Path(_)) => self.set_stamp(meta, Stamp::Created)?,
            ("updated_at", Meta::Path(_)) => self.set_stamp(meta, Stamp::Updated)?,
            ("primary_key" | "unique" | "index" | "created_at" | "updated_at", _) => {
                return err(meta, format!("`{name}` takes no value: #[strata({name})]"));
            }
            ("max_len" | "foreign_key" | "default" | "default_fn", _) => {
                return err(
                    meta,
                    format!("`{name}` needs a value: #[strata({name} = ...)]"),
                );
            }
            _ => {
                return err(
                    meta.path(),
                    format!(
                        "unknown strata field attribute `{}`; expected one of: {FIELD_ATTRS}",
                        text_of(meta.path())
                    ),
                );
            }
        }
        Ok(())
    }

    fn set_default(&mut self, meta: &Meta, d: Default) -> syn::Result<()> {
        if self.default.is_some() || self.stamp.is_some() {
            return err(
                meta,
                "a field has one default: default, default_fn, created_at or updated_at",
            );
        }
        self.default = Some(d);
        Ok(())
    }

    fn set_stamp(&mut self, meta: &Meta, stamp: Stamp) -> syn::Result<()> {
        if self.default.is_some() || self.stamp.is_some() {
            return err(
                meta,
                "a field has one default: default, default_fn, created_at or updated_at",
            );
        }
        self.stamp = Some(stamp);
        Ok(())
    }

    /// The limit of `max_len = value`, for a text or bytes field.
    fn max_len(&self, meta: &Meta, value: &syn::Expr) -> syn::Result<usize> {
        let Some(n) = lit_usize(value) else {
            return err(value, "max_len takes a number: #[strata(max_len = 80)]");
        };
        if !matches!(self.base, Base::Text | Base::Bytes | Base::Other) {
            return err(
                meta,
                format!(
                    "max_len applies to String and Vec<u8> fields only, and `{}` is `{}`",
                    self.ident,
                    text_of(&self.ty)
                ),
            );
        }
        Ok(n)
    }

    /// A primary key is never null, has a total order with more than two
    /// values, and takes no other attribute.
    fn check_primary_key(&self) -> syn::Result<()> {
        if !self.primary_key {
            return Ok(());
        }
        if self.nullable {
            return err(
                &self.ty,
                "a primary key cannot be an Option: it is never null",
            );
        }
        if matches!(self.base, Base::Float | Base::Bool) {
            return err(
                &self.ty,
                "a primary key is an integer, String or Vec<u8> (a float has NaN, a bool two values)",
            );
        }
        if self.unique
            || self.index
            || self.foreign_key.is_some()
            || self.default.is_some()
            || self.stamp.is_some()
        {
            return err(
                &self.ty,
                "a primary key is unique and indexed already; it takes no other attribute",
            );
        }
        Ok(())
    }
}

/// Recognises a field type: a base type the derive knows, `Option` of
/// one, or a path it leaves to the compiler (`Base::Other`). `Vec` of
/// anything but `u8`, and types that are not paths (references, tuples,
/// arrays), are refused here.
fn classify(ty: &Type) -> Option<(Base, bool)> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let seg = p.path.segments.last()?;
    let base = match seg.ident.to_string().as_str() {
        "Option" => {
            let (base, nullable) = classify(&only_argument(seg)?)?;
            return (!nullable).then_some((base, true));
        }
        "Vec" => {
            let Type::Path(inner) = only_argument(seg)? else {
                return None;
            };
            return inner.path.is_ident("u8").then_some((Base::Bytes, false));
        }
        "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" | "Box" | "Rc" | "Arc" => return None,
        _ if !seg.arguments.is_empty() => Base::Other,
        "i8" | "i16" | "i32" | "i64" | "i128" => Base::Signed,
        "u8" | "u16" | "u32" | "u64" | "u128" => Base::Unsigned,
        "f32" | "f64" => Base::Float,
        "bool" => Base::Bool,
        "String" => Base::Text,
        _ => Base::Other,
    };
    Some((base, false))
}

/// The one type argument of a path segment such as `Option<T>`.
fn only_argument(seg: &syn::PathSegment) -> Option<Type> {
    let PathArguments::AngleBracketed(a) = &seg.arguments else {
        return None;
    };
    match (a.args.len(), a.args.first()?) {
        (1, GenericArgument::Type(t)) => Some(t.clone()),
        _ => None,
    }
}
