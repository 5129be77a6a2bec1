//! Random filters, each built twice: as a Strata `Expr` and as SQL text
//! for SQLite, over the columns of `schema.rs`. Values are small and ASCII,
//! so that the two agree on what they compare (case folding included);
//! nulls, empty lists, `%`, `_` and the escape character are frequent on
//! purpose.

use crate::rng::Rng;
use crate::schema::{Post, User};
use strata::{Column, ColumnType, Expr, Model, TextColumn, ToColumn};

/// A literal compared with a column.
#[derive(Clone, Debug, PartialEq)]
pub enum Lit {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
}

impl Lit {
    pub fn sql(&self) -> String {
        match self {
            Lit::Null => "NULL".into(),
            Lit::Int(i) => i.to_string(),
            Lit::Float(f) => format!("{f:?}"),
            Lit::Text(s) => format!("'{}'", s.replace('\'', "''")),
            Lit::Bool(b) => u8::from(*b).to_string(),
        }
    }
}

/// The kind of a column, for choosing literals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Int,
    Float,
    Text,
    Bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn sql(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TextTest {
    StartsWith,
    EndsWith,
    Contains,
    Like,
    LikeEscape,
    ILike,
    IContains,
    IStartsWith,
    IEndsWith,
    LowerEq,
    UpperLt,
}

/// A filter over a table's columns (by index into its column list).
#[derive(Clone, Debug)]
pub enum F {
    Cmp(usize, Op, Lit),
    In(usize, Vec<Lit>),
    Between(usize, Lit, Lit),
    IsNull(usize),
    Text(usize, TextTest, String),
    And(Box<F>, Box<F>),
    Or(Box<F>, Box<F>),
    Not(Box<F>),
}

/// What the generator and the two builders know of a table.
pub trait Table: Model {
    /// Each column: its SQL name, kind and whether it may be null.
    const COLS: &'static [(&'static str, Kind, bool)];
    /// `column op lit` as an `Expr`.
    fn cmp(c: usize, op: Op, lit: &Lit) -> Expr<Self>;
    /// `column IN (lits)`.
    fn in_(c: usize, lits: &[Lit]) -> Expr<Self>;
    /// `column IS NULL`.
    fn is_null(c: usize) -> Expr<Self>;
    /// A text test on text column `c`.
    fn text(c: usize, t: TextTest, s: &str) -> Expr<Self>;
}

fn cmp_col<M: Model, T: ColumnType>(col: Column<M, T>, op: Op, v: impl ToColumn<T>) -> Expr<M> {
    match op {
        Op::Eq => col.eq(v),
        Op::Ne => col.ne(v),
        Op::Lt => col.lt(v),
        Op::Le => col.le(v),
        Op::Gt => col.gt(v),
        Op::Ge => col.ge(v),
    }
}

fn text_col<M: Model, C: TextColumn<M>>(col: C, t: TextTest, s: &str) -> Expr<M> {
    match t {
        TextTest::StartsWith => col.starts_with(s),
        TextTest::EndsWith => col.ends_with(s),
        TextTest::Contains => col.contains(s),
        TextTest::Like => col.like(s),
        TextTest::LikeEscape => col.like_escape(s, '!'),
        TextTest::ILike => col.ilike(s),
        TextTest::IContains => col.icontains(s),
        TextTest::IStartsWith => col.istarts_with(s),
        TextTest::IEndsWith => col.iends_with(s),
        TextTest::LowerEq => col.lower().eq(s),
        TextTest::UpperLt => col.upper().lt(s),
    }
}

/// The literal a column of `kind` holds (`None` for a null).
fn int(l: &Lit) -> i64 {
    match l {
        Lit::Int(i) => *i,
        l => panic!("not an int: {l:?}"),
    }
}

fn float(l: &Lit) -> f64 {
    match l {
        Lit::Float(f) => *f,
        l => panic!("not a float: {l:?}"),
    }
}

fn text(l: &Lit) -> String {
    match l {
        Lit::Text(s) => s.clone(),
        l => panic!("not text: {l:?}"),
    }
}

fn opt<T>(l: &Lit, f: impl Fn(&Lit) -> T) -> Option<T> {
    match l {
        Lit::Null => None,
        l => Some(f(l)),
    }
}

impl Table for Post {
    const COLS: &'static [(&'static str, Kind, bool)] = &[
        ("id", Kind::Int, false),
        ("author_id", Kind::Int, false),
        ("title", Kind::Text, false),
        ("topic", Kind::Text, true),
        ("views", Kind::Int, false),
        ("rating", Kind::Float, true),
        ("published", Kind::Bool, false),
    ];

    fn cmp(c: usize, op: Op, l: &Lit) -> Expr<Post> {
        match c {
            0 => cmp_col(Post::id, op, int(l)),
            1 => cmp_col(Post::author_id, op, int(l)),
            2 => cmp_col(Post::title, op, text(l)),
            3 => cmp_col(Post::topic, op, opt(l, text)),
            4 => cmp_col(Post::views, op, int(l)),
            5 => cmp_col(Post::rating, op, opt(l, float)),
            _ => cmp_col(Post::published, op, l == &Lit::Bool(true)),
        }
    }

    fn in_(c: usize, ls: &[Lit]) -> Expr<Post> {
        match c {
            0 => Post::id.in_(ls.iter().map(int)),
            1 => Post::author_id.in_(ls.iter().map(int)),
            2 => Post::title.in_(ls.iter().map(text)),
            3 => Post::topic.in_(ls.iter().map(|l| opt(l, text))),
            4 => Post::views.in_(ls.iter().map(int)),
            5 => Post::rating.in_(ls.iter().map(|l| opt(l, float))),
            _ => Post::published.in_(ls.iter().map(|l| l == &Lit::Bool(true))),
        }
    }

    fn is_null(c: usize) -> Expr<Post> {
        match c {
            3 => Post::topic.is_null(),
            5 => Post::rating.is_null(),
            0 => Post::id.is_null(),
            _ => Post::views.is_not_null().not(),
        }
    }

    fn text(c: usize, t: TextTest, s: &str) -> Expr<Post> {
        match c {
            2 => text_col(Post::title, t, s),
            _ => text_col(Post::topic, t, s),
        }
    }
}

impl Table for User {
    const COLS: &'static [(&'static str, Kind, bool)] = &[
        ("id", Kind::Int, false),
        ("name", Kind::Text, false),
        ("email", Kind::Text, true),
        ("age", Kind::Int, true),
        ("score", Kind::Float, false),
    ];

    fn cmp(c: usize, op: Op, l: &Lit) -> Expr<User> {
        match c {
            0 => cmp_col(User::id, op, int(l)),
            1 => cmp_col(User::name, op, text(l)),
            2 => cmp_col(User::email, op, opt(l, text)),
            3 => cmp_col(User::age, op, opt(l, int)),
            _ => cmp_col(User::score, op, float(l)),
        }
    }

    fn in_(c: usize, ls: &[Lit]) -> Expr<User> {
        match c {
            0 => User::id.in_(ls.iter().map(int)),
            1 => User::name.in_(ls.iter().map(text)),
            2 => User::email.in_(ls.iter().map(|l| opt(l, text))),
            3 => User::age.in_(ls.iter().map(|l| opt(l, int))),
            _ => User::score.in_(ls.iter().map(float)),
        }
    }

    fn is_null(c: usize) -> Expr<User> {
        match c {
            2 => User::email.is_null(),
            3 => User::age.is_null(),
            _ => User::id.is_null(),
        }
    }

    fn text(c: usize, t: TextTest, s: &str) -> Expr<User> {
        match c {
            1 => text_col(User::name, t, s),
            _ => text_col(User::email, t, s),
        }
    }
}

/// Text as the data holds it: short, mixed case, with LIKE's special
/// characters and the escape `!` now and then.
pub fn word(r: &mut Rng) -> String {
    const CHARS: &[u8] = b"aAbBc%_! ";
    let n = r.below(5);
    (0..n)
        .map(|_| {
            let i = if r.below(4) == 0 {
                r.below(CHARS.len())
            } else {
                r.below(5)
            };
            CHARS[i] as char
        })
        .collect()
}

/// A LIKE pattern: a word with wildcards in it.
fn pattern(r: &mut Rng) -> String {
    let mut p = String::new();
    for _ in 0..r.below(4) + 1 {
        match r.below(5) {
            0 => p.push('%'),
            1 => p.push('_'),
            2 => p.push_str("!%"),
            _ => p.push_str(&word(r)),
        }
    }
    p
}

/// A literal for a column of `kind`, null among them when `nullable`.
pub fn lit(r: &mut Rng, kind: Kind, nullable: bool) -> Lit {
    if nullable && r.below(6) == 0 {
        return Lit::Null;
    }
    match kind {
        Kind::Int => Lit::Int(r.below(12) as i64 - 2),
        Kind::Float => Lit::Float((r.below(33) as f64 - 16.0) / 4.0),
        Kind::Text => Lit::Text(word(r)),
        Kind::Bool => Lit::Bool(r.below(2) == 0),
    }
}

/// A random filter on `T`, up to `depth` levels of and/or/not.
pub fn filter<T: Table>(r: &mut Rng, depth: u32) -> F {
    if depth > 0 && r.below(3) == 0 {
        return match r.below(3) {
            0 => F::And(
                Box::new(filter::<T>(r, depth - 1)),
                Box::new(filter::<T>(r, depth - 1)),
            ),
            1 => F::Or(
                Box::new(filter::<T>(r, depth - 1)),
                Box::new(filter::<T>(r, depth - 1)),
            ),
            _ => F::Not(Box::new(filter::<T>(r, depth - 1))),
        };
    }
    let c = r.below(T::COLS.len());
    let (_, kind, nullable) = T::COLS[c];
    match r.below(9) {
        0..=2 => {
            let op = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge][r.below(6)];
            F::Cmp(c, op, lit(r, kind, nullable))
        }
        3 => F::In(c, (0..r.below(4)).map(|_| lit(r, kind, nullable)).collect()),
        4 => F::Between(c, lit(r, kind, false), lit(r, kind, false)),
        5 if nullable => F::IsNull(c),
        _ if kind == Kind::Text => {
            let t = [
                TextTest::StartsWith,
                TextTest::EndsWith,
                TextTest::Contains,
                TextTest::Like,
                TextTest::LikeEscape,
                TextTest::ILike,
                TextTest::IContains,
                TextTest::IStartsWith,
                TextTest::IEndsWith,
                TextTest::LowerEq,
                TextTest::UpperLt,
            ][r.below(11)];
            let s = match t {
                TextTest::Like | TextTest::LikeEscape | TextTest::ILike => pattern(r),
                _ => word(r),
            };
            F::Text(c, t, s)
        }
        _ => F::Cmp(c, Op::Eq, lit(r, kind, nullable)),
    }
}

/// The filter as an `Expr`.
pub fn to_expr<T: Table>(f: &F) -> Expr<T> {
    match f {
        F::Cmp(c, op, l) => T::cmp(*c, *op, l),
        F::In(c, ls) => T::in_(*c, ls),
        F::Between(c, lo, hi) => T::cmp(*c, Op::Ge, lo).and(T::cmp(*c, Op::Le, hi)),
        F::IsNull(c) => T::is_null(*c),
        F::Text(c, t, s) => T::text(*c, *t, s),
        F::And(a, b) => to_expr::<T>(a).and(to_expr::<T>(b)),
        F::Or(a, b) => to_expr::<T>(a).or(to_expr::<T>(b)),
        F::Not(a) => to_expr::<T>(a).not(),
    }
}

/// SQL's `LIKE` pattern text, escaped for a string literal.
fn quoted(s: &str) -> String {
    Lit::Text(s.to_string()).sql()
}

/// The filter as SQL over the columns of `T`, each written `alias.name`.
pub fn to_sql<T: Table>(f: &F, alias: &str) -> String {
    let col = |c: usize| format!("{alias}.{}", T::COLS[c].0);
    match f {
        // eq(None) and ne(None) are null tests (SQLAlchemy's `== None`).
        F::Cmp(c, Op::Eq, Lit::Null) => format!("({} IS NULL)", col(*c)),
        F::Cmp(c, Op::Ne, Lit::Null) => format!("({} IS NOT NULL)", col(*c)),
        F::Cmp(c, op, l) => format!("({} {} {})", col(*c), op.sql(), l.sql()),
        F::In(c, ls) => {
            let list: Vec<String> = ls.iter().map(Lit::sql).collect();
            format!("({} IN ({}))", col(*c), list.join(", "))
        }
        F::Between(c, lo, hi) => {
            format!("({} BETWEEN {} AND {})", col(*c), lo.sql(), hi.sql())
        }
        F::IsNull(c) => format!("({} IS NULL)", col(*c)),
        F::Text(c, t, s) => {
            let x = col(*c);
            let q = quoted(s);
            // A null column is unknown for every test.
            let test = match t {
                TextTest::StartsWith => format!("substr({x}, 1, length({q})) = {q}"),
                TextTest::EndsWith => {
                    format!("(length({q}) = 0 OR substr({x}, -length({q})) = {q})")
                }
                TextTest::Contains => format!("instr({x}, {q}) > 0"),
                TextTest::Like => format!("{x} LIKE {q}"),
                TextTest::LikeEscape => format!("{x} LIKE {q} ESCAPE '!'"),
                TextTest::ILike => format!("lower({x}) LIKE lower({q})"),
                TextTest::IContains => format!("instr(lower({x}), lower({q})) > 0"),
                TextTest::IStartsWith => {
                    format!("substr(lower({x}), 1, length({q})) = lower({q})")
                }
                TextTest::IEndsWith => {
                    format!("(length({q}) = 0 OR substr(lower({x}), -length({q})) = lower({q}))")
                }
                TextTest::LowerEq => format!("lower({x}) = {q}"),
                TextTest::UpperLt => format!("upper({x}) < {q}"),
            };
            format!("(CASE WHEN {x} IS NULL THEN NULL WHEN {test} THEN 1 ELSE 0 END)")
        }
        F::And(a, b) => format!("({} AND {})", to_sql::<T>(a, alias), to_sql::<T>(b, alias)),
        F::Or(a, b) => format!("({} OR {})", to_sql::<T>(a, alias), to_sql::<T>(b, alias)),
        F::Not(a) => format!("(NOT {})", to_sql::<T>(a, alias)),
    }
}
