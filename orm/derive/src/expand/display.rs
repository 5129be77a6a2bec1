//! `impl Display`: `<User 'admin'>` with `display = "username"`, every
//! field otherwise (`<User id=1 username='admin' ...>`).

use crate::field::{Base, Field};
use crate::model::ModelDef;
use proc_macro2::TokenStream as Tokens;
use quote::quote;

pub(super) fn display_impl(def: &ModelDef) -> Tokens {
    let name = &def.ident;
    let name_str = name.to_string();
    let body = match def.display {
        Some(i) => {
            let s = show(&def.fields[i]);
            quote! { write!(f, "<{} ", #name_str)?; #s write!(f, ">") }
        }
        None => {
            let parts = def.fields.iter().map(|fd| {
                let label = format!(" {}=", fd.ident);
                let s = show(fd);
                quote! { f.write_str(#label)?; #s }
            });
            quote! { write!(f, "<{}", #name_str)?; #(#parts)* write!(f, ">") }
        }
    };
    quote! {
        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #body
            }
        }
    }
}

/// Writes one field's value: a string quoted, anything else as `Debug`.
fn show(f: &Field) -> Tokens {
    let ident = &f.ident;
    match (f.base, f.nullable) {
        (Base::Text, false) => quote!(write!(f, "'{}'", self.#ident)?;),
        // A type the derive does not know shows as its column value.
        (Base::Other, _) => {
            quote!(write!(f, "{}", ::strata::ColumnType::to_value(&self.#ident))?;)
        }
        _ => quote!(write!(f, "{:?}", self.#ident)?;),
    }
}
