//! `#[derive(Column)]`: a unit enum or a newtype as a column type. The
//! derive implements `strata::ColumnValue` and serde's `Serialize` and
//! `Deserialize` (so that the row bytes are the storage's, whatever serde
//! would write by default):
//!
//! | type | attribute | stored as | ordered by |
//! | --- | --- | --- | --- |
//! | unit enum | none, or `#[strata(by_name)]` | its variant's name, as `String` | the names, as text |
//! | unit enum | `#[strata(by_number)]`, every variant with `= n` | the number, as `i64` | the numbers |
//! | newtype `struct Id(i64)` or `struct Id { id: i64 }` | none, or `#[strata(transparent)]` | what it wraps | what it wraps |

use crate::attrs::{Errors, err, name_of, strata_metas, text_of};
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Meta};

/// The expansion of `#[derive(Column)]` on `input`.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    if !input.generics.params.is_empty() {
        return err(&input.generics, "a column type cannot be generic");
    }
    let mut by_number = false;
    let mut errors = Errors::default();
    for meta in strata_metas(&input.attrs)? {
        match (name_of(meta.path()).as_str(), &meta) {
            ("by_name" | "transparent", Meta::Path(_)) => {}
            ("by_number", Meta::Path(_)) => by_number = true,
            _ => errors.push(syn::Error::new_spanned(
                meta.path(),
                format!(
                    "unknown strata column attribute `{}`; expected one of: by_name, by_number, transparent",
                    text_of(meta.path())
                ),
            )),
        }
    }
    errors.check()?;
    match &input.data {
        Data::Enum(e) => enumeration(input, e, by_number),
        Data::Struct(s) => newtype(input, &s.fields),
        Data::Union(_) => err(
            &input.ident,
            "#[derive(Column)] applies to unit enums and newtypes",
        ),
    }
}

/// A unit enum, by name or by number.
fn enumeration(input: &DeriveInput, e: &syn::DataEnum, by_number: bool) -> syn::Result<Tokens> {
    let name = &input.ident;
    let name_str = name.to_string();
    let mut errors = Errors::default();
    let mut variants = Vec::new();
    for v in &e.variants {
        if !matches!(v.fields, Fields::Unit) {
            errors.push(syn::Error::new_spanned(
                v,
                "#[derive(Column)] applies to enums whose variants have no fields",
            ));
            continue;
        }
        let number = match (&v.discriminant, by_number) {
            (Some((_, d)), true) => Some(d.clone()),
            (None, true) => {
                errors.push(syn::Error::new_spanned(
                    v,
                    "by_number needs every variant's number: `Active = 1`",
                ));
                continue;
            }
            _ => None,
        };
        variants.push((v.ident.clone(), v.ident.to_string(), number));
    }
    errors.check()?;
    if variants.is_empty() {
        return err(name, "a column enum has at least one variant");
    }
    let serde = quote!(::strata::__private::serde);
    let (kind, storage, value_ref, from_value, ser, de) = if by_number {
        let arms = variants.iter().map(|(v, _, n)| quote!(#name::#v => #n,));
        let back = variants
            .iter()
            .map(|(v, _, n)| quote!(x if x == (#n) as i64 => #name::#v,));
        let back2 = back.clone();
        (
            quote!(::strata::ColumnKind::Int),
            "i64",
            quote!(::strata::ValueRef::Int(match self { #(#arms)* } as i64)),
            quote! {
                match v {
                    ::strata::Value::Int(x) => ::core::option::Option::Some(match x {
                        #(#back)*
                        _ => return ::core::option::Option::None,
                    }),
                    _ => ::core::option::Option::None,
                }
            },
            quote! {
                match ::strata::ColumnValue::value_ref(self) {
                    ::strata::ValueRef::Int(n) => s.serialize_i64(n),
                    _ => ::core::unreachable!(),
                }
            },
            quote! {
                let x = <i64 as #serde::Deserialize>::deserialize(d)?;
                ::core::result::Result::Ok(match x {
                    #(#back2)*
                    _ => return ::core::result::Result::Err(
                        <D::Error as #serde::de::Error>::custom(::core::format_args!("no {} numbered {}", #name_str, x)),
                    ),
                })
            },
        )
    } else {
        let arms = variants.iter().map(|(v, s, _)| quote!(#name::#v => #s,));
        let back = variants.iter().map(|(v, s, _)| quote!(#s => #name::#v,));
        let back2 = back.clone();
        (
            quote!(::strata::ColumnKind::Text),
            "String",
            quote!(::strata::ValueRef::Text(match self { #(#arms)* })),
            quote! {
                match v {
                    ::strata::Value::Text(x) => ::core::option::Option::Some(match x.as_str() {
                        #(#back)*
                        _ => return ::core::option::Option::None,
                    }),
                    _ => ::core::option::Option::None,
                }
            },
            quote! {
                match ::strata::ColumnValue::value_ref(self) {
                    ::strata::ValueRef::Text(t) => s.serialize_str(t),
                    _ => ::core::unreachable!(),
                }
            },
            quote! {
                let x = <::std::string::String as #serde::Deserialize>::deserialize(d)?;
                ::core::result::Result::Ok(match x.as_str() {
                    #(#back2)*
                    _ => return ::core::result::Result::Err(
                        <D::Error as #serde::de::Error>::custom(::core::format_args!("no {} named {:?}", #name_str, x)),
                    ),
                })
            },
        )
    };
    Ok(quote! {
        impl ::strata::ColumnValue for #name {
            const KIND: ::strata::ColumnKind = #kind;
            const TYPE_NAME: &'static str = #name_str;
            const STORAGE: &'static str = #storage;
            const INDEXABLE: bool = true;
            fn value_ref(&self) -> ::strata::ValueRef<'_> {
                #value_ref
            }
            fn from_value(v: ::strata::Value) -> ::core::option::Option<Self> {
                #from_value
            }
        }

        impl #serde::Serialize for #name {
            fn serialize<S: #serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                #ser
            }
        }

        impl<'de> #serde::Deserialize<'de> for #name {
            fn deserialize<D: #serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                #de
            }
        }
    })
}

/// A struct of one field: the type it wraps, under its own name.
fn newtype(input: &DeriveInput, fields: &Fields) -> syn::Result<Tokens> {
    let name = &input.ident;
    let name_str = name.to_string();
    let (field, access, build) = match fields {
        Fields::Unnamed(f) if f.unnamed.len() == 1 => {
            (&f.unnamed[0], quote!(self.0), quote!(#name))
        }
        Fields::Named(f) if f.named.len() == 1 => {
            let ident = f.named[0].ident.clone();
            (
                &f.named[0],
                quote!(self.#ident),
                quote!(|x| #name { #ident: x }),
            )
        }
        _ => {
            return err(
                &input.ident,
                "#[derive(Column)] applies to unit enums and to structs of exactly one field",
            );
        }
    };
    let inner = &field.ty;
    let serde = quote!(::strata::__private::serde);
    Ok(quote! {
        impl ::strata::ColumnValue for #name {
            const KIND: ::strata::ColumnKind = <#inner as ::strata::ColumnValue>::KIND;
            const TYPE_NAME: &'static str = #name_str;
            const STORAGE: &'static str = <#inner as ::strata::ColumnValue>::STORAGE;
            const INDEXABLE: bool = <#inner as ::strata::ColumnValue>::INDEXABLE;
            fn value_ref(&self) -> ::strata::ValueRef<'_> {
                ::strata::ColumnValue::value_ref(&#access)
            }
            fn from_value(v: ::strata::Value) -> ::core::option::Option<Self> {
                <#inner as ::strata::ColumnValue>::from_value(v).map(#build)
            }
        }

        impl #serde::Serialize for #name {
            fn serialize<S: #serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                #serde::Serialize::serialize(&#access, s)
            }
        }

        impl<'de> #serde::Deserialize<'de> for #name {
            fn deserialize<D: #serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                <#inner as #serde::Deserialize>::deserialize(d).map(#build)
            }
        }
    })
}
