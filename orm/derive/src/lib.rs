//! `#[derive(Model)]` for the Strata ORM.
//!
//! The entry point parses the struct and its `#[strata(...)]` attributes
//! into a [`ModelDef`], reporting every misuse as a compile error at the
//! offending tokens (never a panic), then writes the `strata::Model`
//! implementation, one typed column constant per field, the relationship
//! constants, and `Display`. The generated code grows linearly with the
//! fields; the documentation of the attributes is on `strata::Model`'s
//! crate page.

#![deny(unsafe_code)]
#![warn(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Data, DeriveInput, Expr, ExprLit, Fields, GenericArgument, Ident, Lit, Meta, PathArguments,
    Token, Type,
};

/// Derives `strata::Model`. See the `strata` crate for the attributes.
#[proc_macro_derive(Model, attributes(strata))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand_or_error(&input).into()
}

/// The expansion of the derive on `input`; after an error, the error
/// followed by a placeholder implementation.
fn expand_or_error(input: &DeriveInput) -> Tokens {
    match parse(input).and_then(|def| expand(input, &def)) {
        Ok(tokens) => tokens,
        Err(e) => {
            let mut out = e.into_compile_error();
            out.extend(placeholder(input));
            out
        }
    }
}

#[cfg(test)]
mod snapshots;

/// After an error, an inert `Model` impl for a plain struct, so that other
/// models referring to this one report nothing more than the real error.
fn placeholder(input: &DeriveInput) -> Tokens {
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
            fn delete_children(&self, _: &mut ::strata::Session) -> ::strata::Result<()> {
                Ok(())
            }
            fn check_cascade(
                &self,
                _: &::strata::Session,
                _: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
            ) -> ::strata::Result<()> {
                Ok(())
            }
        }
    }
}

const FIELD_ATTRS: &str = "primary_key, unique, index, max_len, foreign_key";
const STRUCT_ATTRS: &str = "table, display, has_many, has_one, many_to_many";

/// The Rust types a column can have.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    Signed,
    Unsigned,
    Float,
    Bool,
    Text,
    Bytes,
}

struct Field {
    ident: Ident,
    ty: Type,
    base: Base,
    nullable: bool,
    primary_key: bool,
    unique: bool,
    index: bool,
    max_len: Option<usize>,
    foreign_key: Option<syn::Path>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    HasMany,
    HasOne,
    ManyToMany,
}

struct Relationship {
    kind: Kind,
    name: Ident,
    target: syn::Path,
    fk: Option<Ident>,
    through: Option<String>,
    backref: Option<Ident>,
    on_delete: Option<Ident>,
    span: Span,
}

struct ModelDef {
    table: String,
    display: Option<Ident>,
    fields: Vec<Field>,
    relationships: Vec<Relationship>,
    primary_key: usize,
}

/// An error underlining all of `tokens` (a type, an attribute, ...).
fn err<T>(tokens: impl quote::ToTokens, msg: impl std::fmt::Display) -> syn::Result<T> {
    Err(syn::Error::new_spanned(tokens, msg))
}

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Recognises a field type: a supported base type, or `Option` of one.
fn classify(ty: &Type) -> Option<(Base, bool)> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let seg = p.path.segments.last()?;
    let generic = |seg: &syn::PathSegment| -> Option<Type> {
        let PathArguments::AngleBracketed(a) = &seg.arguments else {
            return None;
        };
        match (a.args.len(), a.args.first()?) {
            (1, GenericArgument::Type(t)) => Some(t.clone()),
            _ => None,
        }
    };
    let base = match seg.ident.to_string().as_str() {
        "Option" => {
            let (base, nullable) = classify(&generic(seg)?)?;
            return (!nullable).then_some((base, true));
        }
        "Vec" => {
            let inner = generic(seg)?;
            let Type::Path(ip) = inner else { return None };
            return ip.path.is_ident("u8").then_some((Base::Bytes, false));
        }
        _ if !seg.arguments.is_empty() => return None,
        "i8" | "i16" | "i32" | "i64" => Base::Signed,
        "u8" | "u16" | "u32" | "u64" => Base::Unsigned,
        "f64" => Base::Float,
        "bool" => Base::Bool,
        "String" => Base::Text,
        _ => return None,
    };
    Some((base, false))
}

fn lit_str(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

fn lit_usize(e: &Expr) -> Option<usize> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        _ => None,
    }
}

fn expr_path(e: &Expr) -> Option<syn::Path> {
    match e {
        Expr::Path(p) if p.qself.is_none() => Some(p.path.clone()),
        _ => None,
    }
}

fn expr_ident(e: &Expr) -> Option<Ident> {
    expr_path(e).and_then(|p| p.get_ident().cloned())
}

/// The `Meta` items of every `#[strata(...)]` attribute.
fn strata_metas(attrs: &[syn::Attribute]) -> syn::Result<Vec<Meta>> {
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("strata")) {
        let list = a.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?;
        out.extend(list);
    }
    Ok(out)
}

fn parse_field(f: &syn::Field) -> syn::Result<Field> {
    let ident = f
        .ident
        .clone()
        .ok_or_else(|| syn::Error::new_spanned(f, "a model's fields must be named"))?;
    let Some((base, nullable)) = classify(&f.ty) else {
        let ty = &f.ty;
        return err(
            ty,
            format!(
                "unsupported field type `{}`: a model field is an integer (i8..i64, u8..u64), f64, bool, String, Vec<u8>, or an Option of one of these",
                quote!(#ty).to_string().replace(' ', "")
            ),
        );
    };
    let mut field = Field {
        ident,
        ty: f.ty.clone(),
        base,
        nullable,
        primary_key: false,
        unique: false,
        index: false,
        max_len: None,
        foreign_key: None,
    };
    for meta in strata_metas(&f.attrs)? {
        let name = meta
            .path()
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default();
        match (name.as_str(), &meta) {
            ("primary_key", Meta::Path(_)) => field.primary_key = true,
            ("unique", Meta::Path(_)) => field.unique = true,
            ("index", Meta::Path(_)) => field.index = true,
            ("max_len", Meta::NameValue(nv)) => {
                let Some(n) = lit_usize(&nv.value) else {
                    return err(&nv.value, "max_len takes a number: #[strata(max_len = 80)]");
                };
                if !matches!(base, Base::Text | Base::Bytes) {
                    let ty = &f.ty;
                    return err(
                        &meta,
                        format!(
                            "max_len applies to String and Vec<u8> fields only, and `{}` is `{}`",
                            field.ident,
                            quote!(#ty).to_string().replace(' ', "")
                        ),
                    );
                }
                field.max_len = Some(n);
            }
            ("foreign_key", Meta::NameValue(nv)) => {
                let Some(p) = expr_path(&nv.value) else {
                    return err(
                        &nv.value,
                        "foreign_key takes a model type: #[strata(foreign_key = Person)]",
                    );
                };
                field.foreign_key = Some(p);
            }
            ("primary_key" | "unique" | "index", _) => {
                return err(&meta, format!("`{name}` takes no value: #[strata({name})]"));
            }
            ("max_len" | "foreign_key", _) => {
                return err(
                    &meta,
                    format!("`{name}` needs a value: #[strata({name} = ...)]"),
                );
            }
            _ => {
                return err(
                    meta.path(),
                    format!(
                        "unknown strata field attribute `{}`; expected one of: {FIELD_ATTRS}",
                        quote_path(meta.path())
                    ),
                );
            }
        }
    }
    if field.primary_key {
        if field.nullable {
            return err(&f.ty, "a primary key cannot be an Option: it is never null");
        }
        if matches!(base, Base::Float | Base::Bool) {
            return err(
                &f.ty,
                "a primary key is an integer, String or Vec<u8> (a float has NaN, a bool two values)",
            );
        }
        if field.unique || field.index || field.foreign_key.is_some() {
            return err(
                &f.ty,
                "a primary key is unique and indexed already; it takes no other attribute",
            );
        }
    }
    Ok(field)
}

fn quote_path(p: &syn::Path) -> String {
    quote!(#p).to_string().replace(' ', "")
}

fn parse_relationship(kind: Kind, list: &syn::MetaList) -> syn::Result<Relationship> {
    let items = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?;
    let mut iter = items.iter();
    let usage = match kind {
        Kind::HasMany | Kind::HasOne => {
            "has_many(addresses = Address, fk = person_id, backref = person, on_delete = cascade)"
        }
        Kind::ManyToMany => "many_to_many(tags = Tag, through = \"page_tags\", backref = pages)",
    };
    let Some(Meta::NameValue(first)) = iter.next() else {
        return err(list, format!("expected `name = Model` first: {usage}"));
    };
    let (Some(name), Some(target)) = (first.path.get_ident().cloned(), expr_path(&first.value))
    else {
        return err(first, format!("expected `name = Model` first: {usage}"));
    };
    let mut rel = Relationship {
        kind,
        name,
        target,
        fk: None,
        through: None,
        backref: None,
        on_delete: None,
        span: list.span(),
    };
    for m in iter {
        let Meta::NameValue(nv) = m else {
            return err(m, format!("expected `key = value`: {usage}"));
        };
        let key = nv
            .path
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default();
        match (key.as_str(), kind) {
            ("fk", Kind::HasMany | Kind::HasOne) => {
                rel.fk = Some(expr_ident(&nv.value).ok_or_else(|| {
                    syn::Error::new(nv.value.span(), "fk names a field of the child")
                })?)
            }
            ("on_delete", Kind::HasMany | Kind::HasOne) => {
                let id = expr_ident(&nv.value);
                if !id
                    .as_ref()
                    .is_some_and(|i| i == "restrict" || i == "cascade" || i == "set_null")
                {
                    return err(&nv.value, "on_delete is restrict, cascade or set_null");
                }
                rel.on_delete = id;
            }
            ("through", Kind::ManyToMany)
                if lit_str(&nv.value).is_some_and(|t| t.is_empty() || t.contains('#')) =>
            {
                return err(
                    &nv.value,
                    "an association table name is not empty and has no `#`",
                );
            }
            ("through", Kind::ManyToMany) => {
                rel.through = Some(lit_str(&nv.value).ok_or_else(|| {
                    syn::Error::new(
                        nv.value.span(),
                        "through names the association table: through = \"page_tags\"",
                    )
                })?)
            }
            ("backref", _) => {
                rel.backref = Some(expr_ident(&nv.value).ok_or_else(|| {
                    syn::Error::new(nv.value.span(), "backref is a name: backref = person")
                })?)
            }
            _ => return err(&nv.path, format!("unknown key `{key}`: {usage}")),
        }
    }
    if matches!(kind, Kind::HasMany | Kind::HasOne) && rel.fk.is_none() {
        return err(list, format!("missing `fk = field`: {usage}"));
    }
    if kind == Kind::ManyToMany && rel.through.is_none() {
        return err(list, format!("missing `through = \"table\"`: {usage}"));
    }
    Ok(rel)
}

fn parse(input: &DeriveInput) -> syn::Result<ModelDef> {
    if !input.generics.params.is_empty() {
        return err(&input.generics, "a model cannot be generic");
    }
    let Data::Struct(data) = &input.data else {
        return err(
            &input.ident,
            "#[derive(Model)] applies to structs with named fields",
        );
    };
    let Fields::Named(named) = &data.fields else {
        return err(
            &input.ident,
            "#[derive(Model)] applies to structs with named fields",
        );
    };
    let fields = named
        .named
        .iter()
        .map(parse_field)
        .collect::<syn::Result<Vec<_>>>()?;
    let mut def = ModelDef {
        table: snake_case(&input.ident.to_string()),
        display: None,
        fields,
        relationships: Vec::new(),
        primary_key: 0,
    };
    for meta in strata_metas(&input.attrs)? {
        let name = meta
            .path()
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default();
        match (name.as_str(), &meta) {
            ("table", Meta::NameValue(nv)) => {
                def.table = lit_str(&nv.value).ok_or_else(|| {
                    syn::Error::new(
                        nv.value.span(),
                        "table takes a string: #[strata(table = \"users\")]",
                    )
                })?;
                if def.table.is_empty() || def.table.contains('#') {
                    return err(&nv.value, "a table name is not empty and has no `#`");
                }
            }
            ("display", Meta::NameValue(nv)) => {
                let Some(id) = lit_str(&nv.value).map(|s| format_ident!("{}", s)) else {
                    return err(
                        &nv.value,
                        "display names a field: #[strata(display = \"username\")]",
                    );
                };
                if !def.fields.iter().any(|f| f.ident == id) {
                    return err(
                        &nv.value,
                        format!("display names no field of this struct: `{id}`"),
                    );
                }
                def.display = Some(id);
            }
            ("has_many", Meta::List(l)) => def
                .relationships
                .push(parse_relationship(Kind::HasMany, l)?),
            ("has_one", Meta::List(l)) => {
                def.relationships.push(parse_relationship(Kind::HasOne, l)?)
            }
            ("many_to_many", Meta::List(l)) => def
                .relationships
                .push(parse_relationship(Kind::ManyToMany, l)?),
            _ => {
                return err(
                    meta.path(),
                    format!(
                        "unknown strata model attribute `{}`; expected one of: {STRUCT_ATTRS}",
                        quote_path(meta.path())
                    ),
                );
            }
        }
    }
    let keys: Vec<usize> = (0..def.fields.len())
        .filter(|&i| def.fields[i].primary_key)
        .collect();
    match keys.as_slice() {
        [k] => def.primary_key = *k,
        [] => {
            return err(
                &input.ident,
                format!(
                    "model `{}` has no primary key: mark one field #[strata(primary_key)]",
                    input.ident
                ),
            );
        }
        [first, second, ..] => {
            return err(
                &def.fields[*second].ident,
                format!(
                    "a model has one primary key, and `{}` is already it",
                    def.fields[*first].ident
                ),
            );
        }
    }
    Ok(def)
}

fn expand(input: &DeriveInput, def: &ModelDef) -> syn::Result<Tokens> {
    let name = &input.ident;
    let vis = &input.vis;
    let name_str = name.to_string();
    let table = &def.table;
    let pk = &def.fields[def.primary_key];
    let pk_ty = &pk.ty;
    let pk_index = def.primary_key;
    let auto = matches!(pk.base, Base::Signed | Base::Unsigned);

    let columns = def.fields.iter().map(|f| {
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
        if !f.primary_key && (f.unique || f.index || f.foreign_key.is_some()) {
            let it = format!("{table}#{ident}");
            c = quote!(#c.index_table(#it));
        }
        c
    });
    // Checked at compile time, where the derive cannot see the other model.
    let fk_checks = def.fields.iter().filter_map(|f| {
        let p = f.foreign_key.as_ref()?;
        let ty = &f.ty;
        // Spanned so that a failure points at the field's type.
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
    });
    let values = def.fields.iter().enumerate().map(|(i, f)| {
        let ident = &f.ident;
        quote!(#i => ::strata::ColumnType::to_value(&self.#ident),)
    });
    let value_refs = def.fields.iter().enumerate().map(|(i, f)| {
        let ident = &f.ident;
        quote!(#i => ::strata::ColumnType::value_ref(&self.#ident),)
    });
    let set_key = if auto {
        let ident = &pk.ident;
        quote! {
            match <#pk_ty as ::core::convert::TryFrom<i64>>::try_from(key) {
                ::core::result::Result::Ok(k) if k != 0 => {
                    self.#ident = k;
                    true
                }
                _ => false,
            }
        }
    } else {
        quote! {
            let _ = key;
            false
        }
    };
    let nulls = def
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.nullable)
        .map(|(i, f)| {
            let ident = &f.ident;
            quote!(#i => { self.#ident = ::core::option::Option::None; true })
        });
    let column_consts = def.fields.iter().enumerate().map(|(i, f)| {
        let (ident, ty) = (&f.ident, &f.ty);
        let doc = format!("The `{ident}` column, for queries.");
        quote! {
            #[doc = #doc]
            #vis const #ident: ::strata::Column<#name, #ty> = ::strata::Column::new(#i);
        }
    });

    let mut rules = Vec::new();
    let mut deletes = Vec::new();
    let mut associations = Vec::new();
    let mut rel_consts = Vec::new();
    let mut backrefs = Vec::new();
    let mut checks = Vec::new();
    let mut cascades = Vec::new();
    for r in &def.relationships {
        let (rname, target) = (&r.name, &r.target);
        match r.kind {
            Kind::HasMany | Kind::HasOne => {
                let fk =
                    r.fk.as_ref()
                        .ok_or_else(|| syn::Error::new(r.span, "missing fk"))?;
                let fk_str = fk.to_string();
                let (ty, doc) = if r.kind == Kind::HasMany {
                    (
                        quote!(::strata::HasMany),
                        format!(
                            "The `{target}` rows whose `{fk}` refers to this one (one-to-many).",
                            target = quote_path(target)
                        ),
                    )
                } else {
                    (
                        quote!(::strata::HasOne),
                        format!(
                            "The `{target}` row whose `{fk}` refers to this one (one-to-one).",
                            target = quote_path(target)
                        ),
                    )
                };
                rel_consts.push(quote! {
                    #[doc = #doc]
                    #vis const #rname: #ty<#name, #target> = #ty::new(#target::#fk);
                });
                let rule = match r.on_delete.as_ref().map(Ident::to_string).as_deref() {
                    Some("cascade") => quote!(::strata::OnDelete::Cascade),
                    Some("set_null") => quote!(::strata::OnDelete::SetNull),
                    _ => quote!(::strata::OnDelete::Restrict),
                };
                rules.push(quote! {
                    ::strata::DeleteRule { child_table: <#target as ::strata::Model>::TABLE, column: #fk_str, rule: #rule },
                });
                deletes.push(quote! {
                    session.apply_delete_rule::<#target>(#target::#fk.index(), &key, #rule)?;
                });
                if r.on_delete.as_ref().is_some_and(|i| i == "cascade") {
                    cascades.push(quote! {
                        session.check_cascade_of::<#target>(#target::#fk.index(), &key, seen)?;
                    });
                }
                checks.push(quote_spanned! {fk.span()=>
                    const _: () = assert!(
                        ::strata::__refers_to(<#target as ::strata::Model>::COLUMNS, #target::#fk.index(), #table),
                        "the `fk` of has_many/has_one must be a field of the child marked #[strata(foreign_key = <this model>)]",
                    );
                });
                if r.kind == Kind::HasOne {
                    checks.push(quote_spanned! {fk.span()=>
                        const _: () = assert!(
                            ::strata::__unique(<#target as ::strata::Model>::COLUMNS, #target::#fk.index()),
                            "the `fk` of has_one must be unique: mark it #[strata(unique, foreign_key = ...)]",
                        );
                    });
                }
                if r.on_delete.as_ref().is_some_and(|i| i == "set_null") {
                    checks.push(quote_spanned! {fk.span()=>
                        const _: () = assert!(
                            ::strata::__nullable(<#target as ::strata::Model>::COLUMNS, #target::#fk.index()),
                            "on_delete = set_null needs the child's foreign key to be an Option",
                        );
                    });
                }
                if let Some(b) = &r.backref {
                    let doc = format!("The `{name}` row this one's `{fk}` refers to.");
                    backrefs.push(quote! {
                        #[allow(non_upper_case_globals)]
                        impl #target {
                            #[doc = #doc]
                            pub const #b: ::strata::BelongsTo<#target, #name> = ::strata::BelongsTo::new(#target::#fk);
                        }
                    });
                }
            }
            Kind::ManyToMany => {
                let through = r.through.clone().unwrap_or_default();
                associations.push(quote! {
                    ::strata::AssociationDef { through: #through, target: <#target as ::strata::Model>::TABLE },
                });
                let doc = format!(
                    "The `{}` rows linked to this one through `{through}` (many-to-many).",
                    quote_path(target)
                );
                rel_consts.push(quote! {
                    #[doc = #doc]
                    #vis const #rname: ::strata::ManyToMany<#name, #target> = ::strata::ManyToMany::owned(#through);
                });
                if let Some(b) = &r.backref {
                    let doc = format!(
                        "The `{name}` rows linked to this one through `{through}` (many-to-many)."
                    );
                    backrefs.push(quote! {
                        #[allow(non_upper_case_globals)]
                        impl #target {
                            #[doc = #doc]
                            pub const #b: ::strata::ManyToMany<#target, #name> = ::strata::ManyToMany::backref(#through);
                        }
                    });
                }
            }
        }
    }

    let show = |f: &Field| {
        let ident = &f.ident;
        match (f.base, f.nullable) {
            (Base::Text, false) => quote!(write!(f, "'{}'", self.#ident)?;),
            _ => quote!(write!(f, "{:?}", self.#ident)?;),
        }
    };
    let display_body = match &def.display {
        Some(d) => {
            let field = def
                .fields
                .iter()
                .find(|f| &f.ident == d)
                .ok_or_else(|| syn::Error::new(d.span(), "no such field"))?;
            let s = show(field);
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

    Ok(quote! {
        impl ::strata::Model for #name {
            type Key = #pk_ty;
            const NAME: &'static str = #name_str;
            const TABLE: &'static str = #table;
            const COLUMNS: &'static [::strata::ColumnDef] = &[#(#columns),*];
            const PRIMARY_KEY: usize = #pk_index;
            const AUTO_KEY: bool = #auto;
            const DELETE_RULES: &'static [::strata::DeleteRule] = &[#(#rules)*];
            const ASSOCIATIONS: &'static [::strata::AssociationDef] = &[#(#associations)*];

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

            fn set_auto_key(&mut self, key: i64) -> bool {
                #set_key
            }

            fn set_null(&mut self, column: usize) -> bool {
                match column {
                    #(#nulls)*
                    _ => false,
                }
            }

            fn delete_children(&self, session: &mut ::strata::Session) -> ::strata::Result<()> {
                let key = ::strata::Model::key_value(self);
                let _ = (&key, &session);
                #(#deletes)*
                Ok(())
            }

            fn check_cascade(
                &self,
                session: &::strata::Session,
                seen: &mut ::std::vec::Vec<(&'static str, ::strata::Value)>,
            ) -> ::strata::Result<()> {
                let key = ::strata::Model::key_value(self);
                let _ = (&key, &session, &seen);
                #(#cascades)*
                Ok(())
            }
        }

        #[allow(non_upper_case_globals)]
        impl #name {
            #(#column_consts)*
            #(#rel_consts)*
        }

        #(#backrefs)*

        #(#fk_checks)*
        #(#checks)*

        impl ::core::fmt::Display for #name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #display_body
            }
        }
    })
}
