//! Code generation: one module per generated item. The output, in order:
//!
//! | item | module |
//! | --- | --- |
//! | `impl strata::Model` | `model_impl` (with `columns` and `relations` for its tables) |
//! | an inherent impl with a column constant per field and a constant per relationship | `columns`, `relations` |
//! | an inherent impl on the other model per backref | `relations` |
//! | const assertions of what only the compiler can see (foreign keys, relationship fields) | `checks` |
//! | `impl Display` | `display` |
//! | `impl Default`, when a field has a default or a timestamp | `columns` |
//!
//! After an error, `placeholder` writes an inert `Model` impl instead.
//! The generated code grows linearly with the fields and relationships.

mod checks;
mod columns;
mod display;
mod model_impl;
mod placeholder;
mod relations;

pub(crate) use placeholder::placeholder;

use crate::model::ModelDef;
use proc_macro2::TokenStream as Tokens;
use quote::quote;

/// Everything the derive writes for the model `def`.
pub(crate) fn expand(def: &ModelDef) -> Tokens {
    let name = &def.ident;
    let model_impl = model_impl::model_impl(def);
    let column_consts = columns::column_consts(def);
    let relation_consts = relations::relation_consts(def);
    let backrefs = relations::backrefs(def);
    let foreign_key_checks = checks::foreign_key_checks(def);
    let relationship_checks = checks::relationship_checks(def);
    let display = display::display_impl(def);
    let field_checks = checks::field_checks(def);
    let default_impl = columns::default_impl(def);
    quote! {
        #model_impl

        #[allow(non_upper_case_globals)]
        impl #name {
            #(#column_consts)*
            #(#relation_consts)*
        }

        #(#backrefs)*

        #(#foreign_key_checks)*
        #(#relationship_checks)*
        #(#field_checks)*

        #display
        #default_impl
    }
}
