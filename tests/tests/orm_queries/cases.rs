//! The two kinds of table the suite is written in, and what a run of
//! each checks.
//!
//! FILTERS
//!
//! `filters![filter, by hand => ids; ...]` lists filters on `Student`. Each
//! runs every way a caller can (`all`, `count`, `exists`, `first`,
//! `iter`, ordered by the key both ways), and each way must give exactly
//! the fixture rows that `by hand`, the same filter written as a Rust
//! closure over a row, accepts. Those rows must be `ids`, in key order.
//!
//! QUERIES
//!
//! `queries![|q| query => "plan" => "rows"; ...]` lists queries on one model.
//! Each is built from a fresh `session.query()`:
//!
//! - The plan is written as [`Plan`] displays it, e.g. `"scan index on gpa
//!   backwards, filter"`, and `explain()` must equal it whole. A `…`
//!   stands for what the case leaves open: `"look up index on rank …"`
//!   pins the access path only; `"…, sort"` only that the rows are
//!   sorted in memory, `"scan primary key range …, no sort"` the access
//!   path and that they are not; `"…"` nothing.
//! - The rows are the keys of what `all()` returns, in that order (`""`
//!   for none). Keys in parentheses may come in any order among
//!   themselves: rows tied on the ordering, or a result whose order the
//!   case leaves open (no order asked, and an index path). Every row must
//!   equal the fixture's row of that key. `"…"` leaves the rows open.
//! - `iter()` must stream the same rows as `all()`, and `count()`,
//!   `exists()` and `first()` must agree with them.
//!
//! A failure names the case by its source text.

use crate::fixture::{Country, Fixture, Student, by_id, fixture, hand, ids};
use std::fmt::Debug;
use strata::{Access, Expr, Model, Plan, Query, Session};

/// One row of a `filters!` table.
pub struct Filter {
    pub source: &'static str,
    pub expr: fn() -> Expr<Student>,
    pub hand: fn(&Student) -> bool,
    pub ids: &'static [i64],
}

/// `filter, by hand => [ids];` rows; see the module doc.
macro_rules! filters {
    ($($expr:expr, $hand:expr => [$($id:expr),* $(,)?];)*) => {
        &[$($crate::cases::Filter {
            source: stringify!($expr),
            expr: || $expr,
            hand: $hand,
            ids: &[$($id),*],
        }),*]
    };
}
pub(crate) use filters;

/// One row of a `queries!` table.
pub struct QueryCase<M: 'static> {
    pub source: &'static str,
    pub query: for<'s> fn(Query<'s, M>) -> Query<'s, M>,
    pub plan: &'static str,
    pub rows: &'static str,
}

/// `|q| query => "plan" => "rows";` rows; see the module doc.
macro_rules! queries {
    ($($query:expr => $plan:literal => $rows:literal;)*) => {
        &[$($crate::cases::QueryCase {
            source: stringify!($query),
            query: $query,
            plan: $plan,
            rows: $rows,
        }),*]
    };
}
pub(crate) use queries;

/// Runs a filter table on a fresh fixture.
pub fn filter_table(cases: &[Filter]) {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    check_filters(&s, &fx.students, cases);
}

/// Runs a filter table on `s`, whose `Student` rows are `rows` (in key
/// order).
pub fn check_filters(s: &Session, rows: &[Student], cases: &[Filter]) {
    for c in cases {
        let got = check_filter(s, rows, (c.expr)(), c.hand);
        assert_eq!(got, c.ids, "{}", c.source);
    }
}

/// Runs the filter `e` every way a caller can (all, count, exists, first,
/// iter, ordered by key both ways) and checks each against `f` over the
/// fixture rows. Returns the ids that match, for the caller to pin down.
pub fn check_filter(
    s: &Session,
    rows: &[Student],
    e: Expr<Student>,
    f: impl Fn(&Student) -> bool,
) -> Vec<i64> {
    let want = hand(rows, f);
    let q = s.query::<Student>().filter(e.clone());
    assert_eq!(by_id(q.all().unwrap()), want, "all() of {e:?}");
    assert_eq!(q.count().unwrap(), want.len() as u64, "count() of {e:?}");
    assert_eq!(q.exists().unwrap(), !want.is_empty(), "exists() of {e:?}");
    let first = q.first().unwrap();
    assert!(
        first.as_ref().map_or(want.is_empty(), |r| want.contains(r)),
        "first() of {e:?}: {first:?}"
    );
    let streamed: Vec<Student> = q.iter().unwrap().collect::<strata::Result<_>>().unwrap();
    assert_eq!(by_id(streamed), want, "iter() of {e:?}");
    let ordered = s.query::<Student>().filter(e.clone()).order_by(Student::id);
    assert_eq!(ordered.all().unwrap(), want, "all() ordered by id of {e:?}");
    let backwards = s
        .query::<Student>()
        .filter(e.clone())
        .order_by(Student::id.desc());
    let back: Vec<Student> = want.iter().rev().cloned().collect();
    assert_eq!(backwards.all().unwrap(), back, "backwards of {e:?}");
    ids(&want)
}

/// A model of the fixture, with the text its keys are written as.
pub trait Row: Model + PartialEq + Debug {
    /// The key, as the `rows` of a case write it.
    fn key(&self) -> String;
    /// The fixture's rows of this model, in key order.
    fn fixture(fx: &Fixture) -> &[Self];
}

impl Row for Student {
    fn key(&self) -> String {
        self.id.to_string()
    }

    fn fixture(fx: &Fixture) -> &[Student] {
        &fx.students
    }
}

impl Row for Country {
    fn key(&self) -> String {
        self.code.clone()
    }

    fn fixture(fx: &Fixture) -> &[Country] {
        &fx.countries
    }
}

/// Runs a query table on a fresh fixture.
pub fn query_table<M: Row>(cases: &[QueryCase<M>]) {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    for c in cases {
        check_query(&s, M::fixture(&fx), c);
    }
}

fn check_query<M: Row>(s: &Session, fixture: &[M], c: &QueryCase<M>) {
    let src = c.source;
    let q = (c.query)(s.query::<M>());
    check_plan(&q.explain(), c.plan, src);
    let all = q.all().unwrap();
    if c.rows != "…" {
        assert_eq!(shape(&all, c.rows), normalised(c.rows), "rows of {src}");
    }
    for r in &all {
        let want = fixture.iter().find(|f| f.key() == r.key());
        assert_eq!(Some(r), want, "a row of {src}");
    }
    let streamed: Vec<M> = q.iter().unwrap().collect::<strata::Result<_>>().unwrap();
    assert_eq!(streamed, all, "iter() of {src}");
    let n = all.len() as u64;
    assert_eq!(q.count().unwrap(), n, "count() of {src}");
    assert_eq!(q.exists().unwrap(), n > 0, "exists() of {src}");
    assert_eq!(q.first().unwrap().as_ref(), all.first(), "first() of {src}");
}

/// The groups of a `rows` text: each key alone, or the keys of one pair
/// of parentheses, sorted (their order is free).
fn groups(rows: &str) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    let mut open: Option<Vec<String>> = None;
    let spaced = rows.replace('(', " ( ").replace(')', " ) ");
    for token in spaced.split_whitespace() {
        match (token, &mut open) {
            ("(", None) => open = Some(Vec::new()),
            (")", Some(g)) => {
                g.sort();
                out.push((true, std::mem::take(g)));
                open = None;
            }
            ("(" | ")", _) => panic!("unbalanced parentheses in rows {rows:?}"),
            (key, Some(g)) => g.push(key.to_string()),
            (key, None) => out.push((false, vec![key.to_string()])),
        }
    }
    assert!(open.is_none(), "unbalanced parentheses in rows {rows:?}");
    out
}

fn render(groups: &[(bool, Vec<String>)]) -> String {
    let parts: Vec<String> = groups
        .iter()
        .map(|(free, keys)| match free {
            true => format!("({})", keys.join(" ")),
            false => keys.join(" "),
        })
        .collect();
    parts.join(" ")
}

/// `rows` with each group's keys sorted.
fn normalised(rows: &str) -> String {
    render(&groups(rows))
}

/// The keys of `got` written in the groups of `rows`: as many keys as
/// each group has, sorted where their order is free; keys beyond the
/// groups follow one by one.
fn shape<M: Row>(got: &[M], rows: &str) -> String {
    let mut keys = got.iter().map(Row::key);
    let mut out = Vec::new();
    for (free, want) in groups(rows) {
        let mut g: Vec<String> = keys.by_ref().take(want.len()).collect();
        if free {
            g.sort();
        }
        out.push((free, g));
    }
    out.extend(keys.map(|k| (false, vec![k])));
    render(&out)
}

/// What a case expects of the plan.
enum PlanWant {
    /// All of it.
    Whole(Plan),
    /// The parts a text with `…` pins.
    Part {
        access: Option<Access>,
        ordered: Option<bool>,
    },
}

/// The access path a plan text starts with, and the rest of the text.
fn access(text: &'static str) -> (Access, &'static str) {
    let column = |rest: &'static str| {
        let end = rest.find([' ', ',']).unwrap_or(rest.len());
        (&rest[..end], &rest[end..])
    };
    if let Some(rest) = text.strip_prefix("get by primary key") {
        (Access::PrimaryKey, rest)
    } else if let Some(rest) = text.strip_prefix("scan primary key range") {
        (Access::PrimaryKeyRange { bounded: true }, rest)
    } else if let Some(rest) = text.strip_prefix("scan whole table") {
        (Access::PrimaryKeyRange { bounded: false }, rest)
    } else if let Some(rest) = text.strip_prefix("look up index on ") {
        let (c, rest) = column(rest);
        (Access::IndexLookup(c), rest)
    } else if let Some(rest) = text.strip_prefix("scan index on ") {
        let (c, rest) = column(rest);
        (Access::IndexRange(c), rest)
    } else {
        panic!("a plan starts with its access path: {text:?}")
    }
}

/// Reads a plan text: the access path, then ` backwards`, `, filter` and
/// `, sort` where the plan is so, in that order, as `Plan` displays it;
/// or a text with `…` (see the module doc).
fn parse_plan(text: &'static str) -> PlanWant {
    if let Some((head, tail)) = text.split_once('…') {
        let access = match head.trim_end() {
            "" => None,
            head => {
                let (a, rest) = access(head);
                assert!(rest.is_empty(), "bad plan {text:?}");
                Some(a)
            }
        };
        let ordered = match tail {
            "" => None,
            ", sort" => Some(false),
            ", no sort" => Some(true),
            _ => panic!("bad plan {text:?}"),
        };
        return PlanWant::Part { access, ordered };
    }
    let (access, rest) = access(text);
    let (reverse, rest) = match rest.strip_prefix(" backwards") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (filtered, rest) = match rest.strip_prefix(", filter") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (ordered, rest) = match rest.strip_prefix(", sort") {
        Some(rest) => (false, rest),
        None => (true, rest),
    };
    assert!(rest.is_empty(), "bad plan {text:?}");
    PlanWant::Whole(Plan {
        access,
        ordered,
        reverse,
        filtered,
    })
}

/// `got` is the plan `want` writes (see the module doc).
fn check_plan(got: &Plan, want: &'static str, source: &str) {
    match parse_plan(want) {
        PlanWant::Whole(plan) => {
            assert_eq!(*got, plan, "plan of {source}");
            assert_eq!(got.to_string(), want, "plan of {source}, displayed");
        }
        PlanWant::Part { access, ordered } => {
            if let Some(a) = access {
                assert_eq!(got.access, a, "access path of {source}");
            }
            if let Some(o) = ordered {
                assert_eq!(got.ordered, o, "ordered (no sort) of {source}");
            }
        }
    }
}
