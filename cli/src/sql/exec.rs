//! Running a [`Select`]: each table read through the ORM's planner, then
//! joins, the rest of the filter, groups, order, offset, limit and the
//! select list, in memory.

use super::translate::{Agg, Func, Grouping, Select};
use crate::bail;
use crate::error::Result;
use std::cmp::Ordering;
use std::collections::HashMap;
use strata::{Filter, RowQuery, Session, Value};

/// The output columns' names and the rows of `q`.
pub(crate) fn run(s: &Session, q: &Select) -> Result<(Vec<String>, Vec<Vec<Value>>)> {
    let names = q.output.iter().map(|(n, _)| n.clone()).collect();
    let rows = match whole_query(s, q) {
        // One table, nothing after the read: the planner does it all.
        Some(rq) => rq.all()?,
        None => {
            let rows = joined(s, q)?;
            let mut rows = match &q.grouping {
                Some(g) => group(rows, g)?,
                None => rows,
            };
            sort(&mut rows, &q.order);
            rows.into_iter()
                .skip(q.offset)
                .take(q.limit.unwrap_or(usize::MAX))
                .collect()
        }
    };
    let project = |row: Vec<Value>| q.output.iter().map(|(_, p)| row[*p].clone()).collect();
    Ok((names, rows.into_iter().map(project).collect()))
}

/// The plan of `q`, one line per step.
pub(crate) fn explain(s: &Session, q: &Select) -> Vec<String> {
    let first = &q.sources[0];
    if let Some(rq) = whole_query(s, q) {
        return vec![format!("{}: {}", first.schema.table, rq.explain())];
    }
    let mut lines = vec![format!(
        "{}: {}",
        first.schema.table,
        s.rows(&first.schema).filter(q.pushed[0].clone()).explain()
    )];
    for (i, j) in q.joins.iter().enumerate() {
        let src = &q.sources[i + 1];
        // The values are known only when it runs: any list plans alike.
        let probe = Filter::In(j.right, Vec::new());
        let plan = s
            .rows(&src.schema)
            .filter(q.pushed[i + 1].clone())
            .filter(probe)
            .explain();
        let col = &src.schema.columns[j.right].name;
        lines.push(format!(
            "join {} by {col} in the values read: {plan}",
            src.schema.table
        ));
    }
    if q.residual != Filter::True {
        lines.push("filter the joined rows".into());
    }
    if let Some(g) = &q.grouping {
        lines.push(format!(
            "group by {} column(s), {} aggregate(s), in memory",
            g.keys.len(),
            g.aggs.len()
        ));
        if g.having != Filter::True {
            lines.push("filter the groups (HAVING)".into());
        }
    }
    if !q.order.is_empty() {
        lines.push("sort in memory".into());
    }
    if q.limit.is_some() || q.offset > 0 {
        lines.push("offset and limit".into());
    }
    lines
}

/// `q` as one query of the planner, when it reads one table and does
/// nothing the planner cannot: no join, no group, no residual filter.
fn whole_query<'s>(s: &'s Session, q: &Select) -> Option<RowQuery<'s>> {
    if q.sources.len() != 1 || q.grouping.is_some() || q.residual != Filter::True {
        return None;
    }
    let mut rq = s.rows(&q.sources[0].schema).filter(q.pushed[0].clone());
    for &(p, desc) in &q.order {
        rq = rq.order_by(p, desc);
    }
    rq = rq.offset(q.offset);
    if let Some(n) = q.limit {
        rq = rq.limit(n);
    }
    Some(rq)
}

/// A value as a hash key: equal keys for equal values of one column.
fn key(v: &Value) -> String {
    format!("{v:?}")
}

/// The joined rows that pass the whole `WHERE`.
fn joined(s: &Session, q: &Select) -> Result<Vec<Vec<Value>>> {
    let mut rows = s
        .rows(&q.sources[0].schema)
        .filter(q.pushed[0].clone())
        .all()?;
    for (i, j) in q.joins.iter().enumerate() {
        let mut seen = std::collections::HashSet::new();
        let values: Vec<Value> = rows
            .iter()
            .map(|r| &r[j.left])
            .filter(|v| !matches!(v, Value::Null) && seen.insert(key(v)))
            .cloned()
            .collect();
        let right = s
            .rows(&q.sources[i + 1].schema)
            .filter(q.pushed[i + 1].clone())
            .filter(Filter::In(j.right, values))
            .all()?;
        let mut by: HashMap<String, Vec<usize>> = HashMap::new();
        for (at, r) in right.iter().enumerate() {
            by.entry(key(&r[j.right])).or_default().push(at);
        }
        rows = rows
            .into_iter()
            .flat_map(|l| {
                let matches = by.get(&key(&l[j.left])).cloned().unwrap_or_default();
                let right = &right;
                matches.into_iter().map(move |at| {
                    let mut row = l.clone();
                    row.extend(right[at].iter().cloned());
                    row
                })
            })
            .collect();
    }
    rows.retain(|r| q.residual.matches(r));
    Ok(rows)
}

/// Group rows: the key columns, then the aggregates; in the order of
/// their keys (nulls first), those `HAVING` keeps. Without key columns,
/// exactly one group, even over no rows.
fn group(rows: Vec<Vec<Value>>, g: &Grouping) -> Result<Vec<Vec<Value>>> {
    let mut groups: Vec<(Vec<Value>, Vec<Vec<Value>>)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    if g.keys.is_empty() {
        groups.push((Vec::new(), rows));
    } else {
        for row in rows {
            let k: Vec<Value> = g.keys.iter().map(|&c| row[c].clone()).collect();
            let i = *at.entry(format!("{k:?}")).or_insert_with(|| {
                groups.push((k, Vec::new()));
                groups.len() - 1
            });
            groups[i].1.push(row);
        }
    }
    groups.sort_by(|a, b| compare_rows(&a.0, &b.0));
    let mut out = Vec::with_capacity(groups.len());
    for (k, members) in groups {
        let mut row = k;
        for a in &g.aggs {
            row.push(aggregate(a, &members)?);
        }
        if g.having.matches(&row) {
            out.push(row);
        }
    }
    Ok(out)
}

fn compare_rows(a: &[Value], b: &[Value]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.sort_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// One aggregate over a group's rows: nulls skipped; `SUM`, `AVG`,
/// `MIN` and `MAX` of no value are null; `SUM` of integers is an
/// integer, checked for overflow.
fn aggregate(a: &Agg, rows: &[Vec<Value>]) -> Result<Value> {
    let Some(c) = a.column else {
        return Ok(Value::Int(rows.len() as i64));
    };
    let mut seen = std::collections::HashSet::new();
    let values: Vec<&Value> = rows
        .iter()
        .map(|r| &r[c])
        .filter(|v| !matches!(v, Value::Null))
        .filter(|v| !a.distinct || seen.insert(key(v)))
        .collect();
    if a.func == Func::Count {
        return Ok(Value::Int(values.len() as i64));
    }
    if values.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match a.func {
        Func::Count => unreachable!("counted above"),
        Func::Min => values
            .into_iter()
            .min_by(|x, y| x.sort_cmp(y))
            .cloned()
            .unwrap_or(Value::Null),
        Func::Max => values
            .into_iter()
            .max_by(|x, y| x.sort_cmp(y))
            .cloned()
            .unwrap_or(Value::Null),
        Func::Sum => match values[0] {
            Value::Float(_) => Value::Float(values.iter().map(|v| float(v)).sum()),
            _ => {
                let mut sum: i64 = 0;
                for v in values {
                    let n = match v {
                        Value::Int(i) => *i,
                        Value::UInt(u) => i64::try_from(*u).unwrap_or(i64::MAX),
                        other => bail!("SUM of {other}"),
                    };
                    sum = sum.checked_add(n).ok_or_else(|| {
                        crate::error::CliError::new("SUM overflows a 64-bit integer")
                    })?;
                }
                Value::Int(sum)
            }
        },
        Func::Avg => {
            Value::Float(values.iter().map(|v| float(v)).sum::<f64>() / values.len() as f64)
        }
    })
}

fn float(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::UInt(u) => *u as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

/// Sorts `rows` stably by `order` (position, descending).
fn sort(rows: &mut [Vec<Value>], order: &[(usize, bool)]) {
    if order.is_empty() {
        return;
    }
    rows.sort_by(|a, b| {
        for &(p, desc) in order {
            let o = a[p].sort_cmp(&b[p]);
            let o = if desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    });
}
