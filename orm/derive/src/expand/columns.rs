//! The columns: each field's `ColumnDef` in `Model::COLUMNS`, and its
//! typed column constant (`User::email`).

use crate::field::{Base, Default, Field, Stamp};
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
    if let Some(d) = &f.default {
        let v = default_value(f, d);
        c = quote!(#c.default(|| ::strata::ColumnType::to_value(&{ let v: #ty = #v; v })));
    }
    match f.stamp {
        Some(Stamp::Created) => c = quote!(#c.stamp(::strata::Stamp::Created)),
        Some(Stamp::Updated) => c = quote!(#c.stamp(::strata::Stamp::Updated)),
        None => {}
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

/// The expression of a field's default, of the field's type: the
/// expression as written (a string literal made a `String`, in `Some` for
/// an `Option`), or a call of the `default_fn`.
pub(super) fn default_value(f: &Field, d: &Default) -> Tokens {
    let (ty, span) = (&f.ty, syn::spanned::Spanned::span(&f.ty));
    match d {
        Default::Fn(path) => quote::quote_spanned!(span=> #path()),
        Default::Expr(
            e @ syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(_),
                ..
            }),
        ) if matches!(f.base, Base::Text | Base::Other) => {
            let s = quote!(::std::string::String::from(#e));
            if f.nullable {
                quote!(::core::option::Option::Some(#s))
            } else {
                quote!(#s)
            }
        }
        Default::Expr(e) => {
            let _ = ty;
            quote!(#e)
        }
    }
}

/// `impl Default` for a model with a field default or a timestamp: those
/// fields take their default, the others `Default::default()`. None
/// otherwise (the model may implement `Default` itself).
pub(super) fn default_impl(def: &ModelDef) -> Tokens {
    if def
        .fields
        .iter()
        .all(|f| f.default.is_none() && f.stamp.is_none())
    {
        return Tokens::new();
    }
    let name = &def.ident;
    let fields = def.fields.iter().map(|f| {
        let ident = &f.ident;
        match &f.default {
            Some(d) => {
                let v = default_value(f, d);
                quote!(#ident: #v,)
            }
            None => quote!(#ident: ::core::default::Default::default(),),
        }
    });
    quote! {
        impl ::core::default::Default for #name {
            fn default() -> Self {
                #name { #(#fields)* }
            }
        }
    }
}
