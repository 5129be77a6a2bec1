//! Model analysis: the struct's shape, its fields, its own attributes
//! (`table`, `display`, relationships), and the rules that span fields:
//! one primary key, a `display` that names a field.

use crate::attrs::{Errors, err, lit_str, name_of, strata_metas, text_of};
use crate::field::Field;
use crate::relationship::{Kind, Relationship};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, FieldsNamed, Ident, Meta};

/// The model attributes, as the message of an unknown one lists them.
const STRUCT_ATTRS: &str = "table, display, has_many, has_one, many_to_many";

/// Everything the derive generates code from.
pub(crate) struct ModelDef {
    pub(crate) ident: Ident,
    pub(crate) vis: syn::Visibility,
    pub(crate) table: String,
    /// The field `Display` shows, by index (every field when `None`).
    pub(crate) display: Option<usize>,
    pub(crate) fields: Vec<Field>,
    pub(crate) relationships: Vec<Relationship>,
    /// The index of the primary key among the fields.
    pub(crate) primary_key: usize,
}

/// What the struct's own `#[strata(...)]` attributes say.
#[derive(Default)]
struct ModelAttrs {
    table: Option<String>,
    /// The field named by `display`, and the value that named it.
    display: Option<(String, syn::Expr)>,
    relationships: Vec<Relationship>,
}

impl ModelDef {
    /// Analyses the struct. Every bad field and model attribute is
    /// reported; the checks that need every field (the primary key, the
    /// `display` field) run only when all the fields are good.
    pub(crate) fn parse(input: &DeriveInput) -> syn::Result<ModelDef> {
        let named = named_fields(input)?;
        let mut errors = Errors::default();
        let fields: Vec<Field> = named
            .named
            .iter()
            .filter_map(|f| errors.ok(Field::parse(f)))
            .collect();
        let fields_ok = errors.is_empty();
        let attrs = ModelAttrs::parse(&input.attrs, &mut errors);
        // The checks that need every field.
        let (display, primary_key) = if fields_ok {
            let display = attrs.display.as_ref().map(|d| display_field(&fields, d));
            (
                display.and_then(|d| errors.ok(d)),
                errors.ok(primary_key(input, &fields)),
            )
        } else {
            (None, None)
        };
        errors.check()?;
        Ok(ModelDef {
            ident: input.ident.clone(),
            vis: input.vis.clone(),
            table: attrs
                .table
                .unwrap_or_else(|| snake_case(&input.ident.to_string())),
            display,
            fields,
            relationships: attrs.relationships,
            // Both are set whenever no error was gathered.
            primary_key: primary_key.unwrap_or_default(),
        })
    }

    /// The primary-key field.
    pub(crate) fn key_field(&self) -> &Field {
        &self.fields[self.primary_key]
    }

    /// Whether the key is an integer assigned on `add` when it is 0, as
    /// a constant expression (the compiler knows the kind of any type).
    pub(crate) fn auto_key(&self) -> proc_macro2::TokenStream {
        let ty = &self.key_field().ty;
        quote::quote!(<#ty as ::strata::ColumnType>::KIND.is_integer())
    }
}

/// The named fields of a non-generic struct.
fn named_fields(input: &DeriveInput) -> syn::Result<&FieldsNamed> {
    if !input.generics.params.is_empty() {
        return err(&input.generics, "a model cannot be generic");
    }
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => Ok(named),
            _ => err(
                &input.ident,
                "#[derive(Model)] applies to structs with named fields",
            ),
        },
        _ => err(
            &input.ident,
            "#[derive(Model)] applies to structs with named fields",
        ),
    }
}

impl ModelAttrs {
    /// Reads every model attribute, gathering the errors in `errors`.
    fn parse(attrs: &[syn::Attribute], errors: &mut Errors) -> ModelAttrs {
        let mut out = ModelAttrs::default();
        for meta in errors.ok(strata_metas(attrs)).unwrap_or_default() {
            errors.ok(out.apply(&meta));
        }
        out
    }

    /// Applies one attribute item.
    fn apply(&mut self, meta: &Meta) -> syn::Result<()> {
        match (name_of(meta.path()).as_str(), meta) {
            ("table", Meta::NameValue(nv)) => self.table = Some(table_name(&nv.value)?),
            ("display", Meta::NameValue(nv)) => {
                let Some(name) = lit_str(&nv.value) else {
                    return err(
                        &nv.value,
                        "display names a field: #[strata(display = \"username\")]",
                    );
                };
                self.display = Some((name, nv.value.clone()));
            }
            ("has_many", Meta::List(l)) => self.relate(Kind::HasMany, l)?,
            ("has_one", Meta::List(l)) => self.relate(Kind::HasOne, l)?,
            ("many_to_many", Meta::List(l)) => self.relate(Kind::ManyToMany, l)?,
            _ => {
                return err(
                    meta.path(),
                    format!(
                        "unknown strata model attribute `{}`; expected one of: {STRUCT_ATTRS}",
                        text_of(meta.path())
                    ),
                );
            }
        }
        Ok(())
    }

    fn relate(&mut self, kind: Kind, list: &syn::MetaList) -> syn::Result<()> {
        self.relationships.push(Relationship::parse(kind, list)?);
        Ok(())
    }
}

/// The table name of `table = "..."`: not empty, without `#`.
fn table_name(value: &syn::Expr) -> syn::Result<String> {
    let table = lit_str(value).ok_or_else(|| {
        syn::Error::new(
            value.span(),
            "table takes a string: #[strata(table = \"users\")]",
        )
    })?;
    if table.is_empty() || table.contains('#') {
        return err(value, "a table name is not empty and has no `#`");
    }
    Ok(table)
}

/// The index of the field `display = "..."` names.
fn display_field(fields: &[Field], (name, value): &(String, syn::Expr)) -> syn::Result<usize> {
    match fields.iter().position(|f| f.ident == name) {
        Some(i) => Ok(i),
        None => err(
            value,
            format!("display names no field of this struct: `{name}`"),
        ),
    }
}

/// The index of the one field marked `primary_key`.
fn primary_key(input: &DeriveInput, fields: &[Field]) -> syn::Result<usize> {
    let keys: Vec<usize> = (0..fields.len())
        .filter(|&i| fields[i].primary_key)
        .collect();
    match keys.as_slice() {
        [k] => Ok(*k),
        [] => err(
            &input.ident,
            format!(
                "model `{}` has no primary key: mark one field #[strata(primary_key)]",
                input.ident
            ),
        ),
        [first, second, ..] => err(
            &fields[*second].ident,
            format!(
                "a model has one primary key, and `{}` is already it",
                fields[*first].ident
            ),
        ),
    }
}

/// The default table name: the type's name in snake case.
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
