//! Const assertions of what the derive cannot see but the compiler can:
//! the other model's columns. Each is spanned so that a failure points at
//! the field or the `fk` at fault.

use crate::field::{Base, Field};
use crate::model::ModelDef;
use crate::relationship::{Kind, Link, OnDelete};
use proc_macro2::TokenStream as Tokens;
use quote::quote_spanned;
use syn::spanned::Spanned;

/// For each `foreign_key` field: its kind is that of the parent's key.
pub(super) fn foreign_key_checks(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    def.fields.iter().filter_map(|f| {
        let p = f.foreign_key.as_ref()?;
        let ty = &f.ty;
        Some(quote_spanned! {ty.span()=>
            const _: () = assert!(
                ::strata::__same_kind(
                    <#ty as ::strata::ColumnType>::KIND,
                    <#p as ::strata::Model>::COLUMNS,
                    <#p as ::strata::Model>::PRIMARY_KEY,
                ),
                "a foreign key must have the type of the primary key it refers to",
            );
        })
    })
}

/// For each `has_many` / `has_one`: the `fk` refers to this model; for a
/// `has_one`, it is unique; for `set_null`, it is nullable.
pub(super) fn relationship_checks(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    def.relationships.iter().flat_map(move |r| {
        let mut out = Vec::new();
        let Link::ForeignKey { fk, on_delete } = &r.link else {
            return out;
        };
        let (target, table) = (&r.target, &def.table);
        out.push(quote_spanned! {fk.span()=>
            const _: () = assert!(
                ::strata::__refers_to(<#target as ::strata::Model>::COLUMNS, #target::#fk.index(), #table),
                "the `fk` of has_many/has_one must be a field of the child marked #[strata(foreign_key = <this model>)]",
            );
        });
        if r.kind == Kind::HasOne {
            out.push(quote_spanned! {fk.span()=>
                const _: () = assert!(
                    ::strata::__unique(<#target as ::strata::Model>::COLUMNS, #target::#fk.index()),
                    "the `fk` of has_one must be unique: mark it #[strata(unique, foreign_key = ...)]",
                );
            });
        }
        if *on_delete == OnDelete::SetNull {
            out.push(quote_spanned! {fk.span()=>
                const _: () = assert!(
                    ::strata::__nullable(<#target as ::strata::Model>::COLUMNS, #target::#fk.index()),
                    "on_delete = set_null needs the child's foreign key to be an Option",
                );
            });
        }
        out
    })
}

/// For each field, what needs its type's kind: an indexed field (key,
/// unique, index, foreign key) has an ordered encoding; a key of a type
/// the derive does not know is not null, a float or a bool; `max_len` is
/// on text or bytes; a timestamp is a date and time.
pub(super) fn field_checks(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    def.fields.iter().flat_map(move |f| {
        let ty = &f.ty;
        let mut out = Vec::new();
        let mut check = |cond: Tokens, msg: String| {
            out.push(quote_spanned! {ty.span()=>
                const _: () = assert!(#cond, #msg);
            });
        };
        if f.primary_key || f.has_index() {
            check(
                quote_spanned!(ty.span()=> <#ty as ::strata::ColumnType>::INDEXABLE),
                format!("`{}` cannot be a key or indexed: its type's encoding does not order its values", f.ident),
            );
        }
        if f.primary_key && f.base == Base::Other {
            check(
                quote_spanned!(ty.span()=> !<#ty as ::strata::ColumnType>::NULLABLE
                    && !matches!(<#ty as ::strata::ColumnType>::KIND, ::strata::ColumnKind::Float | ::strata::ColumnKind::Bool)),
                "a primary key is not an Option, a float or a bool".to_string(),
            );
        }
        if f.max_len.is_some() && f.base == Base::Other {
            check(
                quote_spanned!(ty.span()=> matches!(<#ty as ::strata::ColumnType>::KIND, ::strata::ColumnKind::Text | ::strata::ColumnKind::Bytes)),
                format!("max_len applies to text and bytes, and `{}` is neither", f.ident),
            );
        }
        if f.stamp.is_some() {
            check(
                quote_spanned!(ty.span()=> matches!(<#ty as ::strata::ColumnType>::KIND, ::strata::ColumnKind::DateTime)),
                format!("created_at and updated_at apply to a date and time (chrono's DateTime<Utc> or NaiveDateTime), and `{}` is not one", f.ident),
            );
        }
        if f.base == Base::Other && !f.serde_with {
            check(
                quote_spanned!(ty.span()=> !::strata::__is_json(<#ty as ::strata::ColumnType>::TYPE_NAME)),
                format!("`{}`: a serde_json::Value field needs #[serde(with = \"strata::json\")] (bincode cannot read serde_json's own form)", f.ident),
            );
        }
        let _: &Field = f;
        out
    })
}
