//! The columns: each field's `ColumnDef` in `Model::COLUMNS`, and its
//! typed column constant (`User::email`).

use crate::field::Field;
use crate::model::ModelDef;
use proc_macro2::TokenStream as Tokens;
use quote::quote;

/// The `ColumnDef` expression of every field, in order.
pub(super) fn column_defs(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    def.fields.iter().map(|f| column_def(&def.table, f))
}

/// `ColumnDef::of::<T>("name")` with a builder call per attribute.
fn column_def(table: &str, f: &Field) -> Tokens {
    let (ident, ty) = (f.ident.to_string(), &f.ty);
    let mut c = quote!(::strata::ColumnDef::of::<#ty>(#ident));
    if f.primary_key {
        c = quote!(#c.primary_key());
    }
    if f.unique {
        c = quote!(#c.unique());
    }
    if f.index {
        c = quote!(#c.index());
    }
    if let Some(n) = f.max_len {
        c = quote!(#c.max_len(#n));
    }
    if let Some(p) = &f.foreign_key {
        c = quote!(#c.foreign_key(<#p as ::strata::Model>::TABLE));
    }
    if f.has_index() {
        let it = format!("{table}#{ident}");
        c = quote!(#c.index_table(#it));
    }
    c
}

/// The typed column constant of every field, in order.
pub(super) fn column_consts(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    let (name, vis) = (&def.ident, &def.vis);
    def.fields.iter().enumerate().map(move |(i, f)| {
        let (ident, ty) = (&f.ident, &f.ty);
        let doc = format!("The `{ident}` column, for queries.");
        quote! {
            #[doc = #doc]
            #vis const #ident: ::strata::Column<#name, #ty> = ::strata::Column::new(#i);
        }
    })
}
