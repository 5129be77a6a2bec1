//! The relationships: the constants on this model (`Person::addresses`)
//! and on the other (`Address::person`, the backref), and their parts of
//! the `Model` impl (delete rules, associations, and the calls that apply
//! and check the rules).

use crate::attrs::text_of;
use crate::model::ModelDef;
use crate::relationship::{Kind, Link, OnDelete, Relationship};
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::Ident;

/// The relationships through a child's foreign key, with it and the rule.
fn child_links(def: &ModelDef) -> impl Iterator<Item = (&Relationship, &Ident, OnDelete)> {
    def.relationships.iter().filter_map(|r| match &r.link {
        Link::ForeignKey { fk, on_delete } => Some((r, fk, *on_delete)),
        Link::Through(_) => None,
    })
}

/// The many-to-many relationships, with their association table.
fn associations_of(def: &ModelDef) -> impl Iterator<Item = (&Relationship, &str)> {
    def.relationships.iter().filter_map(|r| match &r.link {
        Link::Through(through) => Some((r, through.as_str())),
        Link::ForeignKey { .. } => None,
    })
}

fn rule_tokens(rule: OnDelete) -> Tokens {
    match rule {
        OnDelete::Cascade => quote!(::strata::OnDelete::Cascade),
        OnDelete::SetNull => quote!(::strata::OnDelete::SetNull),
        OnDelete::Restrict => quote!(::strata::OnDelete::Restrict),
    }
}

/// The constant on this model of every relationship, in order.
pub(super) fn relation_consts(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    def.relationships.iter().map(|r| relation_const(def, r))
}

fn relation_const(def: &ModelDef, r: &Relationship) -> Tokens {
    let (name, vis, rname, target) = (&def.ident, &def.vis, &r.name, &r.target);
    let target_text = text_of(target);
    match (&r.link, r.kind) {
        (Link::ForeignKey { fk, .. }, Kind::HasOne) => {
            let doc =
                format!("The `{target_text}` row whose `{fk}` refers to this one (one-to-one).");
            quote! {
                #[doc = #doc]
                #vis const #rname: ::strata::HasOne<#name, #target> = ::strata::HasOne::new(#target::#fk);
            }
        }
        (Link::ForeignKey { fk, .. }, _) => {
            let doc =
                format!("The `{target_text}` rows whose `{fk}` refers to this one (one-to-many).");
            quote! {
                #[doc = #doc]
                #vis const #rname: ::strata::HasMany<#name, #target> = ::strata::HasMany::new(#target::#fk);
            }
        }
        (Link::Through(through), _) => {
            let doc = format!(
                "The `{target_text}` rows linked to this one through `{through}` (many-to-many)."
            );
            quote! {
                #[doc = #doc]
                #vis const #rname: ::strata::ManyToMany<#name, #target> = ::strata::ManyToMany::owned(#through);
            }
        }
    }
}

/// The constant each backref puts on the other model, in order.
pub(super) fn backrefs(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    def.relationships
        .iter()
        .filter_map(|r| Some(backref(def, r, r.backref.as_ref()?)))
}

fn backref(def: &ModelDef, r: &Relationship, b: &Ident) -> Tokens {
    let (name, target) = (&def.ident, &r.target);
    let (doc, ty, value) = match &r.link {
        Link::ForeignKey { fk, .. } => (
            format!("The `{name}` row this one's `{fk}` refers to."),
            quote!(::strata::BelongsTo<#target, #name>),
            quote!(::strata::BelongsTo::new(#target::#fk)),
        ),
        Link::Through(through) => (
            format!("The `{name}` rows linked to this one through `{through}` (many-to-many)."),
            quote!(::strata::ManyToMany<#target, #name>),
            quote!(::strata::ManyToMany::backref(#through)),
        ),
    };
    quote! {
        #[allow(non_upper_case_globals)]
        impl #target {
            #[doc = #doc]
            pub const #b: #ty = #value;
        }
    }
}

/// `Model::DELETE_RULES`: one per `has_many` / `has_one`.
pub(super) fn delete_rules(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    child_links(def).map(|(r, fk, on_delete)| {
        let (target, fk_str, rule) = (&r.target, fk.to_string(), rule_tokens(on_delete));
        quote! {
            ::strata::DeleteRule { child_table: <#target as ::strata::Model>::TABLE, column: #fk_str, rule: #rule },
        }
    })
}

/// `Model::ASSOCIATIONS`: one per `many_to_many`.
pub(super) fn associations(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    associations_of(def).map(|(r, through)| {
        let target = &r.target;
        quote! {
            ::strata::AssociationDef { through: #through, target: <#target as ::strata::Model>::TABLE },
        }
    })
}

/// The body of `delete_children`: each rule applied to the children.
pub(super) fn delete_calls(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    child_links(def).map(|(r, fk, on_delete)| {
        let (target, rule) = (&r.target, rule_tokens(on_delete));
        quote! {
            session.apply_delete_rule::<#target>(#target::#fk.index(), &key, #rule)?;
        }
    })
}

/// The body of `check_cascade`: the children each cascade would delete,
/// checked in turn.
pub(super) fn cascade_checks(def: &ModelDef) -> impl Iterator<Item = Tokens> + '_ {
    child_links(def)
        .filter(|(_, _, on_delete)| *on_delete == OnDelete::Cascade)
        .map(|(r, fk, _)| {
            let target = &r.target;
            quote! {
                session.check_cascade_of::<#target>(#target::#fk.index(), &key, seen)?;
            }
        })
}
