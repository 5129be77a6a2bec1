//! From `sqlparser`'s syntax tree to a [`Select`] over column positions:
//! names resolved against the stored schemas, literals converted to the
//! columns' types, joins checked against the declared foreign keys, the
//! `WHERE` split into what each table's query can take and the rest.

use crate::bail;
use crate::error::{CliError, Result};
use sqlparser::ast::{
    BinaryOperator, Distinct, DuplicateTreatment, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, GroupByExpr, Ident, JoinConstraint, JoinOperator, LimitClause, ObjectName,
    OrderByKind, Query, SelectItem, SetExpr, Statement, TableFactor, UnaryOperator,
    Value as Literal,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;
use strata::{ColumnKind, ColumnSchema, Compare, Database, Filter, TableSchema, Value};

/// A table the query reads, and where its columns start in a joined row.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub schema: TableSchema,
    /// What the query calls it: its alias, or its name as written.
    pub name: String,
    /// The position of its first column in a joined row.
    pub offset: usize,
}

/// How source `i + 1` joins the sources before it: its column `right`
/// equals the joined row's column `left`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JoinOn {
    pub left: usize,
    pub right: usize,
}

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

/// One aggregate: `func(column)`, `COUNT(*)` having no column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Agg {
    pub func: Func,
    pub column: Option<usize>,
    pub distinct: bool,
}

/// Grouping: a group row holds the key columns, then the aggregates.
#[derive(Debug, Clone)]
pub(crate) struct Grouping {
    /// Joined-row positions of the `GROUP BY` columns.
    pub keys: Vec<usize>,
    pub aggs: Vec<Agg>,
    /// `HAVING`, over group rows.
    pub having: Filter,
}

/// A `SELECT`, over positions. Without grouping, `order` and `output`
/// name joined-row positions; with it, group-row positions.
#[derive(Debug, Clone)]
pub(crate) struct Select {
    pub sources: Vec<Source>,
    pub joins: Vec<JoinOn>,
    /// Per source, the `WHERE` conjuncts on it alone (its own positions).
    pub pushed: Vec<Filter>,
    /// The other conjuncts, over joined rows.
    pub residual: Filter,
    pub grouping: Option<Grouping>,
    /// Position and descending.
    pub order: Vec<(usize, bool)>,
    pub limit: Option<usize>,
    pub offset: usize,
    /// Name and position of each output column.
    pub output: Vec<(String, usize)>,
}

/// Parses `sql`: whether it is an `EXPLAIN`, and the `SELECT`.
pub(crate) fn parse(db: &Database, sql: &str) -> Result<(bool, Select)> {
    let mut stmts = Parser::parse_sql(&SQLiteDialect {}, sql)
        .map_err(|e| CliError(format!("SQL syntax: {e}")))?;
    if stmts.len() != 1 {
        bail!("expected one statement, found {}", stmts.len());
    }
    match stmts.remove(0) {
        Statement::Query(q) => Ok((false, select(db, &q)?)),
        Statement::Explain { statement, .. } => match *statement {
            Statement::Query(q) => Ok((true, select(db, &q)?)),
            other => bail!("EXPLAIN of {} is not supported", first_word(&other)),
        },
        other => bail!(
            "{} is not supported: only SELECT and EXPLAIN SELECT (the command never writes)",
            first_word(&other)
        ),
    }
}

fn first_word(s: &Statement) -> String {
    s.to_string()
        .split_whitespace()
        .next()
        .unwrap_or("this statement")
        .to_uppercase()
}

fn unsupported<T>(what: impl std::fmt::Display) -> Result<T> {
    Err(CliError(format!("{what} is not supported")))
}

fn select(db: &Database, q: &Query) -> Result<Select> {
    if q.with.is_some() {
        return unsupported("WITH");
    }
    if q.fetch.is_some() || !q.locks.is_empty() {
        return unsupported("FETCH and FOR UPDATE");
    }
    let s = match &*q.body {
        SetExpr::Select(s) => s,
        SetExpr::SetOperation { op, .. } => return unsupported(op.to_string().to_uppercase()),
        other => return unsupported(format!("{other} as a query body")),
    };
    match &s.distinct {
        None => {}
        Some(Distinct::Distinct) => return unsupported("SELECT DISTINCT"),
        Some(Distinct::On(_)) => return unsupported("DISTINCT ON"),
    }
    if s.top.is_some() || s.into.is_some() || !s.lateral_views.is_empty() || s.qualify.is_some() {
        return unsupported("TOP, INTO, LATERAL VIEW and QUALIFY");
    }
    let mut t = Translator::from(db, &s.from)?;
    let conjuncts = match &s.selection {
        Some(e) => conjuncts(e),
        None => Vec::new(),
    };
    for c in conjuncts {
        t.push_where(c)?;
    }
    let group_exprs: &[Expr] = match &s.group_by {
        GroupByExpr::Expressions(es, mods) if mods.is_empty() => es,
        _ => return unsupported("GROUP BY ALL and GROUP BY modifiers"),
    };
    let grouped = !group_exprs.is_empty()
        || s.having.is_some()
        || s.projection.iter().any(|i| match i {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                has_aggregate(e)
            }
            _ => false,
        });
    if grouped {
        let keys = group_exprs
            .iter()
            .map(|e| t.column_ref(e)?.ok_or_else(|| only_columns("GROUP BY", e)))
            .collect::<Result<Vec<usize>>>()?;
        t.grouping = Some(Grouping {
            keys,
            aggs: Vec::new(),
            having: Filter::True,
        });
    }
    let output = t.projection(&s.projection)?;
    if let Some(h) = &s.having {
        let having = t.filter(h, Context::Group)?;
        if let Some(g) = &mut t.grouping {
            g.having = having;
        }
    }
    let order = match &q.order_by {
        None => Vec::new(),
        Some(o) => match &o.kind {
            OrderByKind::Expressions(items) => items
                .iter()
                .map(|i| {
                    if i.with_fill.is_some() || i.options.nulls_first.is_some() {
                        return unsupported("NULLS FIRST / LAST and WITH FILL");
                    }
                    let desc = i.options.asc == Some(false);
                    Ok((t.order_position(&i.expr, &output)?, desc))
                })
                .collect::<Result<_>>()?,
            OrderByKind::All(_) => return unsupported("ORDER BY ALL"),
        },
    };
    let (limit, offset) = limits(&q.limit_clause)?;
    Ok(Select {
        pushed: t.pushed,
        residual: t.residual,
        joins: t.joins,
        grouping: t.grouping,
        sources: t.sources,
        order,
        limit,
        offset,
        output,
    })
}

fn only_columns(clause: &str, e: &Expr) -> CliError {
    CliError(format!("{clause} {e}: only columns are supported there"))
}

/// `LIMIT` and `OFFSET`, as numbers.
fn limits(l: &Option<LimitClause>) -> Result<(Option<usize>, usize)> {
    let count = |e: &Expr| -> Result<usize> {
        match literal(e)? {
            Some(Value::Int(n)) if n >= 0 => Ok(n as usize),
            _ => bail!("LIMIT and OFFSET take a whole number, not {e}"),
        }
    };
    Ok(match l {
        None => (None, 0),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) => {
            if !limit_by.is_empty() {
                return unsupported("LIMIT BY");
            }
            let limit = limit.as_ref().map(count).transpose()?;
            let offset = offset.as_ref().map(|o| count(&o.value)).transpose()?;
            (limit, offset.unwrap_or(0))
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
            (Some(count(limit)?), count(offset)?)
        }
    })
}

/// The top-level conjuncts of `e`.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut v = conjuncts(left);
            v.extend(conjuncts(right));
            v
        }
        Expr::Nested(inner) => conjuncts(inner),
        e => vec![e],
    }
}

fn has_aggregate(e: &Expr) -> bool {
    match e {
        Expr::Function(f) => aggregate_func(&f.name).is_some(),
        Expr::Nested(e) | Expr::UnaryOp { expr: e, .. } => has_aggregate(e),
        Expr::BinaryOp { left, right, .. } => has_aggregate(left) || has_aggregate(right),
        _ => false,
    }
}

fn aggregate_func(name: &ObjectName) -> Option<Func> {
    Some(match name.to_string().to_ascii_lowercase().as_str() {
        "count" => Func::Count,
        "sum" => Func::Sum,
        "avg" => Func::Avg,
        "min" => Func::Min,
        "max" => Func::Max,
        _ => return None,
    })
}

/// A literal's value: numbers (an integer when it is one), strings,
/// booleans, `NULL`, and a minus sign before a number. `None` when `e`
/// is not a literal.
fn literal(e: &Expr) -> Result<Option<Value>> {
    Ok(Some(match e {
        Expr::Value(v) => match &v.value {
            Literal::Number(n, _) => match n.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => match n.parse::<f64>() {
                    Ok(f) => Value::Float(f),
                    Err(_) => bail!("number {n} is out of range"),
                },
            },
            Literal::SingleQuotedString(s) | Literal::DoubleQuotedString(s) => {
                Value::Text(s.clone())
            }
            Literal::Boolean(b) => Value::Bool(*b),
            Literal::Null => Value::Null,
            other => return unsupported(format!("the literal {other}")),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => match literal(expr)? {
            Some(Value::Int(i)) => Value::Int(-i),
            Some(Value::Float(f)) => Value::Float(-f),
            _ => return Ok(None),
        },
        Expr::Nested(e) => return literal(e),
        _ => return Ok(None),
    }))
}

/// Where an expression is translated: over joined rows (a column), or
/// over group rows (a grouped column or an aggregate).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Row,
    Group,
}

/// What a literal compared with an operand becomes.
enum Kind {
    Column(ColumnSchema),
    Int,
    Float,
}

impl Kind {
    fn coerce(&self, v: Value) -> Option<Value> {
        match (self, v) {
            (Kind::Column(c), v) => c.coerce(v),
            (_, Value::Null) => Some(Value::Null),
            (Kind::Int, Value::Int(i)) => Some(Value::Int(i)),
            (Kind::Float, Value::Int(i)) => Some(Value::Float(i as f64)),
            (Kind::Float, Value::Float(f)) => Some(Value::Float(f)),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Kind::Column(c) => format!("{} ({})", c.name, c.type_name),
            Kind::Int => "an integer aggregate".into(),
            Kind::Float => "a float aggregate".into(),
        }
    }
}

struct Translator {
    sources: Vec<Source>,
    joins: Vec<JoinOn>,
    pushed: Vec<Filter>,
    residual: Filter,
    grouping: Option<Grouping>,
}

impl Translator {
    /// The sources of `FROM`, and the joins between them.
    fn from(db: &Database, from: &[sqlparser::ast::TableWithJoins]) -> Result<Translator> {
        let [twj] = from else {
            if from.is_empty() {
                bail!("SELECT without FROM is not supported");
            }
            bail!("FROM with several tables is not supported: use JOIN ... ON along a foreign key");
        };
        let mut t = Translator {
            sources: vec![source(db, &twj.relation, 0)?],
            joins: Vec::new(),
            pushed: vec![Filter::True],
            residual: Filter::True,
            grouping: None,
        };
        for j in &twj.joins {
            let on = match &j.join_operator {
                JoinOperator::Join(JoinConstraint::On(e))
                | JoinOperator::Inner(JoinConstraint::On(e)) => e,
                JoinOperator::Join(_) | JoinOperator::Inner(_) => {
                    return unsupported("JOIN without ON (USING, NATURAL)");
                }
                other => {
                    let name = format!("{other:?}");
                    let name = name.split('(').next().unwrap_or("this").to_uppercase();
                    bail!("{name} JOIN is not supported: only inner joins");
                }
            };
            let offset = t.width();
            t.sources.push(source(db, &j.relation, offset)?);
            t.pushed.push(Filter::True);
            let join = t.join_on(on)?;
            t.joins.push(join);
        }
        Ok(t)
    }

    fn width(&self) -> usize {
        self.sources
            .last()
            .map_or(0, |s| s.offset + s.schema.columns.len())
    }

    /// The source and column of joined-row position `pos`.
    fn locate(&self, pos: usize) -> (usize, usize) {
        let s = self
            .sources
            .iter()
            .rposition(|s| s.offset <= pos)
            .unwrap_or(0);
        (s, pos - self.sources[s].offset)
    }

    fn column(&self, pos: usize) -> &ColumnSchema {
        let (s, c) = self.locate(pos);
        &self.sources[s].schema.columns[c]
    }

    /// `ON a = b` of the last source: one side its column, the other a
    /// column before it, along a declared foreign key.
    fn join_on(&self, on: &Expr) -> Result<JoinOn> {
        let bad = || CliError(format!("JOIN ON {on}: only column = column is supported"));
        let Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } = strip(on)
        else {
            return Err(bad());
        };
        let a = self.column_ref(left)?.ok_or_else(bad)?;
        let b = self.column_ref(right)?.ok_or_else(bad)?;
        let new = self.sources.len() - 1;
        let (old, mine) = match (self.locate(a).0 == new, self.locate(b).0 == new) {
            (false, true) => (a, b),
            (true, false) => (b, a),
            _ => bail!("JOIN ON {on}: it must link the joined table to one before it"),
        };
        let (oc, mc) = (self.column(old), self.column(mine));
        let (os, ms) = (
            &self.sources[self.locate(old).0].schema,
            &self.sources[new].schema,
        );
        let along = (oc.foreign_key.as_deref() == Some(ms.table.as_str()) && mc.primary_key)
            || (mc.foreign_key.as_deref() == Some(os.table.as_str()) && oc.primary_key);
        if !along {
            bail!(
                "JOIN ON {on} is not along a declared foreign key (a join links a foreign key to the primary key it refers to)"
            );
        }
        Ok(JoinOn {
            left: old,
            right: mine - self.sources[new].offset,
        })
    }

    /// The joined-row position of the column `e` names; `None` when `e`
    /// is not a column name.
    fn column_ref(&self, e: &Expr) -> Result<Option<usize>> {
        match strip(e) {
            Expr::Identifier(id) => self.resolve(None, id).map(Some),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [t, c] => self.resolve(Some(t), c).map(Some),
                _ => bail!("{e}: a column is named `column` or `table.column`"),
            },
            _ => Ok(None),
        }
    }

    fn resolve(&self, table: Option<&Ident>, col: &Ident) -> Result<usize> {
        let mut found = Vec::new();
        for s in &self.sources {
            let named = table.is_none_or(|t| {
                s.name.eq_ignore_ascii_case(&t.value) || s.schema.is_named(&t.value)
            });
            if let (true, Some(c)) = (named, s.schema.column(&col.value)) {
                found.push(s.offset + c);
            }
        }
        match (found.as_slice(), table) {
            ([p], _) => Ok(*p),
            ([], Some(t)) => bail!("no column {t}.{col}"),
            ([], None) => bail!("no column {col} in {}", self.source_names()),
            (_, _) => bail!("column {col} is ambiguous: name its table (table.{col})"),
        }
    }

    fn source_names(&self) -> String {
        let names: Vec<&str> = self
            .sources
            .iter()
            .map(|s| s.schema.table.as_str())
            .collect();
        names.join(", ")
    }

    /// Adds one `WHERE` conjunct: to its table's query when it reads one
    /// table, else to the residual filter.
    fn push_where(&mut self, e: &Expr) -> Result<()> {
        if has_aggregate(e) {
            bail!("aggregates in WHERE are not supported: use HAVING");
        }
        let f = self.filter(e, Context::Row)?;
        let mut positions = Vec::new();
        self.positions(e, &mut positions)?;
        let tables: Vec<usize> = positions.iter().map(|&p| self.locate(p).0).collect();
        match tables.as_slice() {
            [first, rest @ ..] if rest.iter().all(|t| t == first) => {
                let offset = self.sources[*first].offset;
                let local = shift(f, offset);
                let pushed = std::mem::replace(&mut self.pushed[*first], Filter::True);
                self.pushed[*first] = pushed.and(local);
            }
            _ => {
                let residual = std::mem::replace(&mut self.residual, Filter::True);
                self.residual = residual.and(f);
            }
        }
        Ok(())
    }

    /// The joined-row positions of every column `e` reads.
    fn positions(&self, e: &Expr, out: &mut Vec<usize>) -> Result<()> {
        if let Some(p) = self.column_ref(e)? {
            out.push(p);
            return Ok(());
        }
        match e {
            Expr::Nested(a)
            | Expr::UnaryOp { expr: a, .. }
            | Expr::IsNull(a)
            | Expr::IsNotNull(a) => self.positions(a, out),
            Expr::BinaryOp { left, right, .. } => {
                self.positions(left, out)?;
                self.positions(right, out)
            }
            Expr::InList { expr, .. }
            | Expr::Between { expr, .. }
            | Expr::Like { expr, .. }
            | Expr::ILike { expr, .. } => self.positions(expr, out),
            _ => Ok(()),
        }
    }

    /// The operand an expression names in `ctx`: its position and how
    /// literals compared with it convert.
    fn operand(&mut self, e: &Expr, ctx: Context) -> Result<Option<(usize, Kind)>> {
        if let Expr::Function(_) = strip(e) {
            if ctx == Context::Row {
                bail!("{e}: functions are not supported in WHERE");
            }
            let (pos, kind) = self.aggregate(e)?;
            return Ok(Some((pos, kind)));
        }
        let Some(p) = self.column_ref(e)? else {
            return Ok(None);
        };
        let kind = Kind::Column(self.column(p).clone());
        match (ctx, &self.grouping) {
            (Context::Row, _) => Ok(Some((p, kind))),
            (Context::Group, Some(g)) => match g.keys.iter().position(|&k| k == p) {
                Some(i) => Ok(Some((i, kind))),
                None => bail!("column {e} must be in GROUP BY or inside an aggregate"),
            },
            (Context::Group, None) => Ok(Some((p, kind))),
        }
    }

    /// The group-row position of aggregate `e`, added if new.
    fn aggregate(&mut self, e: &Expr) -> Result<(usize, Kind)> {
        let Expr::Function(f) = strip(e) else {
            bail!("{e} is not an aggregate");
        };
        let Some(func) = aggregate_func(&f.name) else {
            return unsupported(format!("the function {}", f.name));
        };
        if f.filter.is_some()
            || f.over.is_some()
            || !matches!(f.parameters, FunctionArguments::None)
        {
            return unsupported(format!("{e}: FILTER, OVER and parameters"));
        }
        let FunctionArguments::List(list) = &f.args else {
            bail!("{e}: an aggregate takes one argument");
        };
        if !list.clauses.is_empty() {
            return unsupported(format!("{e}: clauses inside an aggregate"));
        }
        let distinct = list.duplicate_treatment == Some(DuplicateTreatment::Distinct);
        let column = match list.args.as_slice() {
            [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)]
                if func == Func::Count && !distinct =>
            {
                None
            }
            [FunctionArg::Unnamed(FunctionArgExpr::Expr(a))] => Some(
                self.column_ref(a)?
                    .ok_or_else(|| CliError(format!("{e}: an aggregate takes a column")))?,
            ),
            _ => bail!("{e}: an aggregate takes one column (or * for COUNT)"),
        };
        let kind = match (func, column) {
            (Func::Count, _) => Kind::Int,
            (Func::Avg, _) => Kind::Float,
            (Func::Sum, Some(c)) => match self.column(c).kind {
                ColumnKind::Int | ColumnKind::UInt => Kind::Int,
                ColumnKind::Float => Kind::Float,
                _ => bail!(
                    "{e}: SUM of a {} column is not supported",
                    self.column(c).type_name
                ),
            },
            (_, Some(c)) => Kind::Column(self.column(c).clone()),
            (_, None) => bail!("{e}: only COUNT takes *"),
        };
        if func == Func::Avg
            && let Some(c) = column
            && !matches!(
                self.column(c).kind,
                ColumnKind::Int | ColumnKind::UInt | ColumnKind::Float
            )
        {
            bail!(
                "{e}: AVG of a {} column is not supported",
                self.column(c).type_name
            );
        }
        let Some(g) = &mut self.grouping else {
            bail!("{e}: aggregates are not supported here");
        };
        let agg = Agg {
            func,
            column,
            distinct,
        };
        let i = match g.aggs.iter().position(|a| *a == agg) {
            Some(i) => i,
            None => {
                g.aggs.push(agg);
                g.aggs.len() - 1
            }
        };
        Ok((g.keys.len() + i, kind))
    }

    /// A literal compared with an operand, converted to its kind.
    fn value_for(&self, kind: &Kind, e: &Expr) -> Result<Value> {
        let Some(v) = literal(e)? else {
            bail!("{e}: only a literal can be compared with a column here");
        };
        let shown = v.to_string();
        kind.coerce(v).ok_or_else(|| {
            CliError(format!(
                "{shown} cannot be compared with {}",
                kind.describe()
            ))
        })
    }

    /// The filter `e` stands for in `ctx`.
    fn filter(&mut self, e: &Expr, ctx: Context) -> Result<Filter> {
        Ok(match e {
            Expr::Nested(a) => self.filter(a, ctx)?,
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => self.filter(left, ctx)?.and(self.filter(right, ctx)?),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } => self.filter(left, ctx)?.or(self.filter(right, ctx)?),
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr,
            } => self.filter(expr, ctx)?.not(),
            Expr::BinaryOp { left, op, right } => {
                let Some(cmp) = compare(op) else {
                    return unsupported(format!("the operator {op}"));
                };
                match (self.operand(left, ctx)?, self.operand(right, ctx)?) {
                    (Some((p, k)), None) => Filter::Cmp(p, cmp, self.value_for(&k, right)?),
                    (None, Some((p, k))) => Filter::Cmp(p, flip(cmp), self.value_for(&k, left)?),
                    (Some(_), Some(_)) => {
                        return unsupported(format!("{e}: comparing two columns"));
                    }
                    (None, None) => {
                        return unsupported(format!("{e}: a comparison without a column"));
                    }
                }
            }
            Expr::IsNull(a) => Filter::IsNull(self.operand_pos(a, ctx)?.0),
            Expr::IsNotNull(a) => Filter::IsNull(self.operand_pos(a, ctx)?.0).not(),
            Expr::InList {
                expr,
                list,
                negated,
            } => {
                let (p, k) = self.operand_pos(expr, ctx)?;
                let vs = list
                    .iter()
                    .map(|v| self.value_for(&k, v))
                    .collect::<Result<Vec<_>>>()?;
                negate(Filter::In(p, vs), *negated)
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let (p, k) = self.operand_pos(expr, ctx)?;
                let f = Filter::Cmp(p, Compare::Ge, self.value_for(&k, low)?).and(Filter::Cmp(
                    p,
                    Compare::Le,
                    self.value_for(&k, high)?,
                ));
                negate(f, *negated)
            }
            Expr::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => self.like(e, ctx, (*negated, *any), expr, pattern, escape_char, false)?,
            Expr::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => self.like(e, ctx, (*negated, *any), expr, pattern, escape_char, true)?,
            Expr::InSubquery { .. } | Expr::Exists { .. } | Expr::Subquery(_) => {
                return unsupported("subqueries");
            }
            other => match self.operand(other, ctx)? {
                Some(_) => bail!("{other}: a column alone is not a condition (compare it)"),
                None => return unsupported(format!("the expression {other}")),
            },
        })
    }

    fn operand_pos(&mut self, e: &Expr, ctx: Context) -> Result<(usize, Kind)> {
        self.operand(e, ctx)?
            .ok_or_else(|| CliError(format!("{e}: only a column is supported there")))
    }

    #[allow(clippy::too_many_arguments)]
    fn like(
        &mut self,
        whole: &Expr,
        ctx: Context,
        (negated, any): (bool, bool),
        expr: &Expr,
        pattern: &Expr,
        escape: &Option<Literal>,
        ignore_case: bool,
    ) -> Result<Filter> {
        if any {
            return unsupported("LIKE ANY");
        }
        let (column, kind) = self.operand_pos(expr, ctx)?;
        if !matches!(&kind, Kind::Column(c) if c.kind == ColumnKind::Text) {
            bail!("{whole}: LIKE needs a text column");
        }
        let Some(Value::Text(pattern)) = literal(pattern)? else {
            bail!("{whole}: the pattern must be a text literal");
        };
        let escape = match escape {
            None => None,
            Some(Literal::SingleQuotedString(s)) if s.chars().count() == 1 => s.chars().next(),
            Some(other) => bail!("ESCAPE {other}: the escape must be one character"),
        };
        let f = Filter::Like {
            column,
            pattern,
            escape,
            ignore_case,
        };
        Ok(negate(f, negated))
    }

    /// The output columns of the select list.
    fn projection(&mut self, items: &[SelectItem]) -> Result<Vec<(String, usize)>> {
        let mut out = Vec::new();
        for item in items {
            match item {
                SelectItem::Wildcard(_) => {
                    for s in 0..self.sources.len() {
                        self.all_columns(s, &mut out)?;
                    }
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let name = kind.to_string();
                    let Some(s) = self.sources.iter().position(|s| {
                        s.name.eq_ignore_ascii_case(&name) || s.schema.is_named(&name)
                    }) else {
                        bail!("no table {name} in FROM");
                    };
                    self.all_columns(s, &mut out)?;
                }
                SelectItem::UnnamedExpr(e) => {
                    let name = match strip(e) {
                        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                            self.column_ref(e)?.map(|p| self.column(p).name.clone())
                        }
                        _ => None,
                    };
                    let p = self.output_position(e)?;
                    out.push((name.unwrap_or_else(|| e.to_string()), p));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let p = self.output_position(expr)?;
                    out.push((alias.value.clone(), p));
                }
            }
        }
        Ok(out)
    }

    fn all_columns(&self, s: usize, out: &mut Vec<(String, usize)>) -> Result<()> {
        if self.grouping.is_some() {
            bail!("* with GROUP BY or aggregates is not supported: list the grouped columns");
        }
        let src = &self.sources[s];
        for (i, c) in src.schema.columns.iter().enumerate() {
            out.push((c.name.clone(), src.offset + i));
        }
        Ok(())
    }

    /// The position an output column reads: a column, or (grouped) a
    /// grouped column or an aggregate.
    fn output_position(&mut self, e: &Expr) -> Result<usize> {
        let ctx = if self.grouping.is_some() {
            Context::Group
        } else {
            Context::Row
        };
        match self.operand(e, ctx)? {
            Some((p, _)) => Ok(p),
            None if literal(e)?.is_some() => {
                unsupported(format!("the literal {e} in the select list"))
            }
            None => unsupported(format!("the expression {e} in the select list")),
        }
    }

    /// The position an `ORDER BY` item sorts by: an output position
    /// (`ORDER BY 2`), an output alias, or a column or aggregate.
    fn order_position(&mut self, e: &Expr, output: &[(String, usize)]) -> Result<usize> {
        if let Some(Value::Int(n)) = literal(e)? {
            return match usize::try_from(n)
                .ok()
                .and_then(|n| output.get(n.checked_sub(1)?))
            {
                Some((_, p)) => Ok(*p),
                None => bail!("ORDER BY {n}: there are {} output columns", output.len()),
            };
        }
        if let Expr::Identifier(id) = strip(e)
            && let Some((_, p)) = output.iter().find(|(name, _)| {
                name.eq_ignore_ascii_case(&id.value) && self.column_ref(e).is_err()
            })
        {
            return Ok(*p);
        }
        self.output_position(e)
    }
}

/// The source a `FROM` or `JOIN` names.
fn source(db: &Database, f: &TableFactor, offset: usize) -> Result<Source> {
    let TableFactor::Table {
        name, alias, args, ..
    } = f
    else {
        return unsupported(format!("{f} in FROM (only table names)"));
    };
    if args.is_some() {
        return unsupported("table functions");
    }
    let written = name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())
        .unwrap_or_default();
    let Some(schema) = db.table(&written) else {
        let known: Vec<String> = db.tables().into_iter().map(|t| t.table).collect();
        bail!("no table {written} (tables: {})", known.join(", "));
    };
    Ok(Source {
        schema,
        name: alias.as_ref().map_or(written, |a| a.name.value.clone()),
        offset,
    })
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => strip(inner),
        e => e,
    }
}

fn negate(f: Filter, negated: bool) -> Filter {
    if negated { f.not() } else { f }
}

fn compare(op: &BinaryOperator) -> Option<Compare> {
    Some(match op {
        BinaryOperator::Eq => Compare::Eq,
        BinaryOperator::NotEq => Compare::Ne,
        BinaryOperator::Lt => Compare::Lt,
        BinaryOperator::LtEq => Compare::Le,
        BinaryOperator::Gt => Compare::Gt,
        BinaryOperator::GtEq => Compare::Ge,
        _ => return None,
    })
}

/// `v OP column` as `column OP' v`.
fn flip(c: Compare) -> Compare {
    match c {
        Compare::Lt => Compare::Gt,
        Compare::Le => Compare::Ge,
        Compare::Gt => Compare::Lt,
        Compare::Ge => Compare::Le,
        c => c,
    }
}

/// `f` with every column position lowered by `offset` (a filter over
/// joined rows that reads one table, over that table's rows).
fn shift(f: Filter, offset: usize) -> Filter {
    if offset == 0 {
        return f;
    }
    f.map_columns(&|c| c - offset)
}
