//! `strata tables FILE` and `strata schema FILE [MODEL]`: the models as
//! the file stores them: fields and types, keys, indexes, foreign keys
//! both ways, and many-to-many associations.

use crate::bail;
use crate::error::Result;
use crate::open::{Mode, open};
use crate::output::{print_json, table};
use serde_json::{Value as Json, json};
use std::io::Write;
use std::path::Path;
use strata::{ColumnSchema, TableSchema};

/// Lists the models: table, model, columns, indexes, rows.
pub fn tables(out: &mut impl Write, path: &Path, as_json: bool) -> Result<()> {
    let db = open(path, Mode::Read)?;
    let s = db.read_session()?;
    let mut rows = Vec::new();
    for t in db.tables() {
        let indexes = t.columns.iter().filter(|c| c.has_index()).count();
        rows.push((
            t.table.clone(),
            t.model.clone(),
            t.columns.len(),
            indexes,
            s.rows(&t).count()?,
        ));
    }
    if as_json {
        let j: Vec<Json> = rows
            .iter()
            .map(|(t, m, c, i, n)| json!({"table": t, "model": m, "columns": c, "indexes": i, "rows": n}))
            .collect();
        print_json(out, &Json::Array(j))?;
        return Ok(());
    }
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(t, m, c, i, n)| vec![t, m, c.to_string(), i.to_string(), n.to_string()])
        .collect();
    let headers = ["table", "model", "columns", "indexes", "rows"].map(String::from);
    table(out, &headers, &cells)?;
    Ok(())
}

/// Describes every model, or the one `model` names (its table or model
/// name, any case).
pub fn schema(out: &mut impl Write, path: &Path, model: Option<&str>, as_json: bool) -> Result<()> {
    let db = open(path, Mode::Read)?;
    let all = db.tables();
    let chosen: Vec<&TableSchema> = match model {
        None => all.iter().collect(),
        Some(name) => match db.table(name) {
            Some(t) => all.iter().filter(|a| a.table == t.table).collect(),
            None => {
                let names: Vec<&str> = all.iter().map(|t| t.table.as_str()).collect();
                bail!("no model {name} (tables: {})", names.join(", "));
            }
        },
    };
    if as_json {
        let j: Vec<Json> = chosen.iter().map(|t| describe_json(t, &all)).collect();
        print_json(out, &Json::Array(j))?;
        return Ok(());
    }
    for (i, t) in chosen.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        describe(out, t, &all)?;
    }
    Ok(())
}

/// The column's flags, as words.
fn flags(c: &ColumnSchema) -> String {
    let mut f = Vec::new();
    if c.primary_key {
        f.push("primary key".to_string());
    }
    if c.unique {
        f.push("unique".into());
    }
    if c.index {
        f.push("indexed".into());
    }
    if let Some(n) = c.max_len {
        f.push(format!("max {n}"));
    }
    if let Some(d) = &c.default {
        f.push(format!("default {d}"));
    }
    if let Some(s) = c.stamp {
        f.push(format!("{s:?} timestamp").to_lowercase());
    }
    f.join(", ")
}

/// Foreign keys of other tables that name `t`: (table, column).
fn referenced_by<'a>(t: &TableSchema, all: &'a [TableSchema]) -> Vec<(&'a str, &'a str)> {
    all.iter()
        .flat_map(|o| {
            o.columns
                .iter()
                .filter(|c| c.foreign_key.as_deref() == Some(t.table.as_str()))
                .map(move |c| (o.table.as_str(), c.name.as_str()))
        })
        .collect()
}

/// Many-to-many associations `t` is the target of: (owner, through).
fn targeted_by<'a>(t: &TableSchema, all: &'a [TableSchema]) -> Vec<(&'a str, &'a str)> {
    all.iter()
        .flat_map(|o| {
            o.associations
                .iter()
                .filter(|(_, target)| *target == t.table)
                .map(move |(through, _)| (o.table.as_str(), through.as_str()))
        })
        .collect()
}

fn describe(out: &mut impl Write, t: &TableSchema, all: &[TableSchema]) -> Result<()> {
    writeln!(
        out,
        "model {} (table {}, schema version {})",
        t.model, t.table, t.version
    )?;
    let rows: Vec<Vec<String>> = t
        .columns
        .iter()
        .map(|c| {
            let null = if c.nullable { "null" } else { "not null" };
            let fk = c
                .foreign_key
                .as_ref()
                .map_or(String::new(), |p| format!("-> {p}"));
            vec![
                c.name.clone(),
                c.type_name.clone(),
                null.into(),
                flags(c),
                fk,
            ]
        })
        .collect();
    let headers = ["field", "type", "null", "key, index, limits", "foreign key"].map(String::from);
    table(out, &headers, &rows)?;
    let indexes: Vec<String> = t
        .columns
        .iter()
        .filter(|c| c.has_index())
        .map(|c| {
            format!(
                "{}#{} ({})",
                t.table,
                c.name,
                if c.unique { "unique" } else { "not unique" }
            )
        })
        .collect();
    if !indexes.is_empty() {
        writeln!(out, "indexes: {}", indexes.join(", "))?;
    }
    for c in t.columns.iter().filter(|c| c.foreign_key.is_some()) {
        writeln!(
            out,
            "belongs to {} through {}",
            c.foreign_key.as_deref().unwrap_or(""),
            c.name
        )?;
    }
    for (child, col) in referenced_by(t, all) {
        writeln!(out, "has {child} rows through {child}.{col}")?;
    }
    for (through, target) in &t.associations {
        writeln!(out, "many to many with {target} through {through}")?;
    }
    for (owner, through) in targeted_by(t, all) {
        writeln!(out, "many to many with {owner} through {through}")?;
    }
    if !referenced_by(t, all).is_empty() {
        writeln!(
            out,
            "delete rules: not stored by this format; deleting a referenced row is refused (restrict) unless the parent's Rust type declares cascade or set_null"
        )?;
    }
    Ok(())
}

fn describe_json(t: &TableSchema, all: &[TableSchema]) -> Json {
    let columns: Vec<Json> = t
        .columns
        .iter()
        .map(|c| {
            json!({
                "name": c.name, "type": c.type_name, "storage": c.storage,
                "nullable": c.nullable, "primary_key": c.primary_key, "unique": c.unique,
                "index": c.index, "max_len": c.max_len, "foreign_key": c.foreign_key,
                "default": c.default.as_ref().map(crate::output::to_json),
            })
        })
        .collect();
    let referenced: Vec<Json> = referenced_by(t, all)
        .into_iter()
        .map(|(table, column)| json!({"table": table, "column": column}))
        .collect();
    let many: Vec<Json> = t
        .associations
        .iter()
        .map(|(through, target)| json!({"through": through, "target": target}))
        .chain(
            targeted_by(t, all)
                .into_iter()
                .map(|(owner, through)| json!({"through": through, "target": owner})),
        )
        .collect();
    json!({
        "model": t.model, "table": t.table, "version": t.version, "columns": columns,
        "referenced_by": referenced, "many_to_many": many,
    })
}
