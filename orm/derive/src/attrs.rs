//! Reading `#[strata(...)]` attributes: the items of every such attribute,
//! the literal values they take, and the gathering of several errors into
//! one, so that the derive reports every bad field at once.

use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Ident, Lit, Meta, Token};

/// The `Meta` items of every `#[strata(...)]` attribute in `attrs`.
pub(crate) fn strata_metas(attrs: &[syn::Attribute]) -> syn::Result<Vec<Meta>> {
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("strata")) {
        out.extend(a.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?);
    }
    Ok(out)
}

/// The items of an attribute list such as `has_many(a = B, fk = c)`.
pub(crate) fn list_items(list: &syn::MetaList) -> syn::Result<Punctuated<Meta, Token![,]>> {
    list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
}

/// The name of an attribute item (`""` for a path that is not one word).
pub(crate) fn name_of(path: &syn::Path) -> String {
    path.get_ident().map(Ident::to_string).unwrap_or_default()
}

/// A string literal's value.
pub(crate) fn lit_str(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// An integer literal's value.
pub(crate) fn lit_usize(e: &Expr) -> Option<usize> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        _ => None,
    }
}

/// A path such as `Person` or `crate::Person`.
pub(crate) fn expr_path(e: &Expr) -> Option<syn::Path> {
    match e {
        Expr::Path(p) if p.qself.is_none() => Some(p.path.clone()),
        _ => None,
    }
}

/// A single identifier.
pub(crate) fn expr_ident(e: &Expr) -> Option<Ident> {
    expr_path(e).and_then(|p| p.get_ident().cloned())
}

/// Tokens as a message shows them: `Vec<String>`, `crate::Person`.
pub(crate) fn text_of(tokens: impl ToTokens) -> String {
    quote!(#tokens).to_string().replace(' ', "")
}

/// An error underlining all of `tokens` (a type, an attribute, ...).
pub(crate) fn err<T>(tokens: impl ToTokens, msg: impl std::fmt::Display) -> syn::Result<T> {
    Err(syn::Error::new_spanned(tokens, msg))
}

/// Errors gathered while the analysis goes on, reported together.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    /// Adds `e` after the errors already gathered.
    pub(crate) fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// The value of `r`, or `None` with its error gathered.
    pub(crate) fn ok<T>(&mut self, r: syn::Result<T>) -> Option<T> {
        r.map_err(|e| self.push(e)).ok()
    }

    /// Whether no error was gathered.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// Every error gathered, as one, if there was any.
    pub(crate) fn check(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}
