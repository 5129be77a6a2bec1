//! `impl strata::Model`: the tables and columns as constants, then the
//! methods that read and change a row's fields and follow delete rules.

use super::{columns, relations};
use crate::model::ModelDef;
use proc_macro2::TokenStream as Tokens;
use quote::quote;

pub(super) fn model_impl(def: &ModelDef) -> Tokens {
    let name = &def.ident;
    let consts = consts(def);
    let values = value_fns(def);
    let set_auto_key = set_auto_key(def);
    let set_null = set_null(def);
    let delete_fns = delete_fns(def);
    quote! {
        impl ::strata::Model for #name {
            #consts
            #values
            #set_auto_key
            #set_null
            #delete_fns
        }
    }
}

/// The associated type and constants.
fn consts(def: &ModelDef) -> Tokens {
    let name_str = def.ident.to_string();
    let table = &def.table;
    let pk_ty = &def.key_field().ty;
    let pk_index = def.primary_key;
    let auto = def.auto_key();
    let columns = columns::column_defs(def);
    let rules = relations::delete_rules(def);
    let associations = relations::associations(def);
    quote! {
        type Key = #pk_ty;
        const NAME: &'static str = #name_str;
        const TABLE: &'static str = #table;
        const COLUMNS: &'static [::strata::ColumnDef] = &[#(#columns),*];
        const PRIMARY_KEY: usize = #pk_index;
        const AUTO_KEY: bool = #auto;
        const DELETE_RULES: &'static [::strata::DeleteRule] = &[#(#rules)*];
        const ASSOCIATIONS: &'static [::strata::AssociationDef] = &[#(#associations)*];
    }
}

/// `value` and `value_ref`: a column's value by index.
fn value_fns(def: &ModelDef) -> Tokens {
    let values = def.fields.iter().enumerate().map(|(i, f)| {
        let ident = &f.ident;
        quote!(#i => ::strata::ColumnType::to_value(&self.#ident),)
    });
    let value_refs = def.fields.iter().enumerate().map(|(i, f)| {
        let ident = &f.ident;
        quote!(#i => ::strata::ColumnType::value_ref(&self.#ident),)
    });
    let sets = def.fields.iter().enumerate().map(|(i, f)| {
        let (ident, ty) = (&f.ident, &f.ty);
        quote! {
            #i => match <#ty as ::strata::ColumnType>::from_value(value) {
                ::core::option::Option::Some(v) => {
                    self.#ident = v;
                    true
                }
                ::core::option::Option::None => false,
            },
        }
    });
    quote! {
        fn set_value(&mut self, column: usize, value: ::strata::Value) -> bool {
            match column {
                #(#sets)*
                _ => false,
            }
        }

        fn value(&self, column: usize) -> ::strata::Value {
            match column {
                #(#values)*
                _ => ::strata::Value::Null,
            }
        }

        fn value_ref(&self, column: usize) -> ::strata::ValueRef<'_> {
            match column {
                #(#value_refs)*
                _ => ::strata::ValueRef::Null,
            }
        }
    }
}

/// `set_auto_key`: stores an assigned key when the key is an integer (of
/// any integer type, or a newtype of one).
fn set_auto_key(def: &ModelDef) -> Tokens {
    let pk = def.key_field();
    let (ident, pk_ty) = (&pk.ident, &pk.ty);
    quote! {
        fn set_auto_key(&mut self, key: i64) -> bool {
            match ::strata::__auto_key::<#pk_ty>(key) {
                ::core::option::Option::Some(k) => {
                    self.#ident = k;
                    true
                }
                ::core::option::Option::None => false,
            }
        }
    }
}

/// `set_null`: clears a nullable column by index.
fn set_null(def: &ModelDef) -> Tokens {
    let nulls = def
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.nullable)
        .map(|(i, f)| {
            let ident = &f.ident;
            quote!(#i => { self.#ident = ::core::option::Option::None; true })
        });
    quote! {
        fn set_null(&mut self, column: usize) -> bool {
            match column {
                #(#nulls)*
                _ => false,
            }
        }
    }
}

/// `delete_children` and `check_cascade`: the delete rules of the
/// model's `has_many` and `has_one`, applied and checked.
fn delete_fns(def: &ModelDef) -> Tokens {
    let deletes = relations::delete_calls(def);
    let cascades = relations::cascade_checks(def);
    quote! {
        fn delete_children<S: ::strata::ReferentialActions>(
            &self,
            session: &mut S,
        ) -> ::strata::Result<()> {
            let key = ::strata::Model::key_value(self);
            let _ = (&key, &session);
            #(#deletes)*
            Ok(())
        }

        fn check_cascade<S: ::strata::ReferentialActions>(
            &self,
            session: &S,
            seen: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
        ) -> ::strata::Result<()> {
            let key = ::strata::Model::key_value(self);
            let _ = (&key, &session, &seen);
            #(#cascades)*
            Ok(())
        }
    }
}
