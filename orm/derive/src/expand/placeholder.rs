//! After an error: an inert `Model` impl for a plain struct, so that other
//! models referring to this one report nothing more than the real error.

use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Data, DeriveInput};

/// The inert impl, for a non-generic struct (nothing otherwise).
pub(crate) fn placeholder(input: &DeriveInput) -> Tokens {
    let Data::Struct(_) = &input.data else {
        return Tokens::new();
    };
    if !input.generics.params.is_empty() {
        return Tokens::new();
    }
    let name = &input.ident;
    let name_str = name.to_string();
    quote! {
        impl ::strata::Model for #name {
            type Key = i64;
            const NAME: &'static str = #name_str;
            const TABLE: &'static str = #name_str;
            const COLUMNS: &'static [::strata::ColumnDef] = &[];
            const PRIMARY_KEY: usize = 0;
            const AUTO_KEY: bool = false;
            const DELETE_RULES: &'static [::strata::DeleteRule] = &[];
            const ASSOCIATIONS: &'static [::strata::AssociationDef] = &[];
            fn set_value(&mut self, _: usize, _: ::strata::Value) -> bool {
                false
            }
            fn value(&self, _: usize) -> ::strata::Value {
                ::strata::Value::Null
            }
            fn value_ref(&self, _: usize) -> ::strata::ValueRef<'_> {
                ::strata::ValueRef::Null
            }
            fn set_auto_key(&mut self, _: i64) -> bool {
                false
            }
            fn set_null(&mut self, _: usize) -> bool {
                false
            }
            fn delete_children<S: ::strata::ReferentialActions>(
                &self,
                _: &mut S,
            ) -> ::strata::Result<()> {
                Ok(())
            }
            fn check_cascade<S: ::strata::ReferentialActions>(
                &self,
                _: &S,
                _: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
            ) -> ::strata::Result<()> {
                Ok(())
            }
        }
    }
}
