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
//! with the fields; the documentation of the attributes is on
//! `strata::Model`'s crate page.

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

/// Derives `strata::Model`. See the `strata` crate for the attributes.
#[proc_macro_derive(Model, attributes(strata))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand_or_error(&input).into()
}

/// Derives `strata::ColumnValue` (and serde's `Serialize` and
/// `Deserialize`) for a unit enum or a newtype. See the `strata` crate.
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
