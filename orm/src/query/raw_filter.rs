//! A query's filter evaluated on the stored bytes of each row: what a
//! scan runs once per row read.
//!
//! COMPILATION
//!
//! Once per query, [`RawFilter::new`] turns the filter into a tree of
//! [`Test`]s over the row's columns. `And`, `Or` and `Not` stay as they
//! are; every other predicate tests one column (its leaf), and the
//! leaves that compare text get a test on the column's bytes: equality
//! and order against a text value, `starts_with`, `ends_with` and
//! `contains`, and their case-insensitive forms when the needle is
//! ASCII. Other leaves decode the column and evaluate the predicate on
//! its value, as [`Pred::eval`] does.
//!
//! PER ROW
//!
//! [`RawFilter::matches`] first finds the columns the filter reads
//! ([`locate`]: the row is walked as every decoder walks it, so a row too
//! short, too long or with a bad tag is corrupt here too, but nothing is
//! decoded), then evaluates the tree, leaves on the bytes where they can
//! be. A row that matches has every column the filter reads decoded and
//! checked before it is reported.
//!
//! EXACTNESS
//!
//! F1. On a row whose columns decode, the result is [`Pred::eval`]'s: a
//!     byte test answers as the text test on the decoded text does (UTF-8
//!     compares and searches as its bytes do; ASCII folds byte by byte),
//!     null columns go to the predicate itself (SQL's three-valued
//!     logic), and `And` / `Or` stop only where the other side cannot
//!     change the result.
//! F2. A matching row is never reported unless each column the filter
//!     reads decodes (UTF-8, dates, decimals): a corrupt byte cannot
//!     reach a `String` or a count. A row that does not match is not
//!     checked beyond its shape: the answer does not depend on it.
//! F3. Nothing here indexes out of bounds on a row's bytes: a span comes
//!     from `locate` over that row, and is read with `get`.

use super::plan::Shape;
use crate::error::{Error, Result};
use crate::expr::{CmpOp, Pred, TextOp};
use crate::layout::{ColumnPlan, FieldLayout, Span, locate, plan_columns, value_at};
use crate::text::{AsciiNeedle, Fold};
use crate::value::Value;
use std::cmp::Ordering;

/// A filter compiled for the rows of one table (see the module's notes).
pub(crate) struct RawFilter {
    test: Test,
    /// Every column of the table, in declared (and stored) order; needed
    /// when the filter reads it.
    plan: Vec<ColumnPlan>,
    /// Where each needed column lies in the row being tested.
    spans: Vec<Span>,
    /// The needed columns: checked on a match (F2).
    needed: Vec<usize>,
    /// The table, for errors.
    table: String,
}

/// A node of a compiled filter.
enum Test {
    /// A test of one column: on its bytes where `fast` decides, on its
    /// decoded value by `pred` otherwise.
    Leaf {
        column: usize,
        layout: FieldLayout,
        fast: Fast,
        pred: Pred,
    },
    And(Box<Test>, Box<Test>),
    Or(Box<Test>, Box<Test>),
    Not(Box<Test>),
}

/// A test on the bytes of a non-null text column, decided per query.
enum Fast {
    /// None: the column is decoded.
    Decode,
    /// Equality with a text value (a join's parent found by name), tested
    /// before the other comparisons.
    Eq(Box<[u8]>),
    /// Another comparison with a text value.
    Cmp(CmpOp, Box<[u8]>),
    /// `starts_with`, `ends_with` or `contains`.
    Text(TextOp, Box<[u8]>),
    /// The same, ignoring case, with the needle lowered: decided on ASCII
    /// text only (text beyond ASCII may lower into ASCII: the Kelvin sign
    /// becomes `k`).
    AsciiFold(TextOp, AsciiNeedle),
}

impl Fast {
    /// The fast test of leaf `p` on a column laid out as `layout`.
    fn of(p: &Pred, layout: FieldLayout) -> Fast {
        if layout != FieldLayout::Text {
            return Fast::Decode;
        }
        let searched = |op: &TextOp| !matches!(op, TextOp::Like(_));
        let bytes = |s: &str| s.as_bytes().into();
        match p {
            Pred::Cmp(_, CmpOp::Eq, Value::Text(t)) => Fast::Eq(bytes(t)),
            Pred::Cmp(_, op, Value::Text(t)) => Fast::Cmp(*op, bytes(t)),
            Pred::Text(_, op, s) if searched(op) => Fast::Text(op.clone(), bytes(s)),
            Pred::Folded(c, Fold::Lower, inner) => match &**inner {
                // A needle with a capital never matches lowered text: the
                // predicate says so on the decoded value.
                Pred::Text(ic, op, s) if ic == c && searched(op) => match AsciiNeedle::new(s) {
                    Some(n) => Fast::AsciiFold(op.clone(), n),
                    None => Fast::Decode,
                },
                _ => Fast::Decode,
            },
            _ => Fast::Decode,
        }
    }

    /// The result on text bytes `h` (UTF-8 unchecked, F1), or `None` to
    /// decide on the decoded value.
    #[inline(always)]
    fn test(&self, h: &[u8]) -> Option<bool> {
        Some(match self {
            Fast::Eq(v) => h == &**v,
            Fast::Decode => return None,
            Fast::Cmp(CmpOp::Ne, v) => h != &**v,
            Fast::Cmp(op, v) => {
                let o = h.cmp(v);
                match op {
                    CmpOp::Eq => o == Ordering::Equal,
                    CmpOp::Ne => o != Ordering::Equal,
                    CmpOp::Lt => o == Ordering::Less,
                    CmpOp::Le => o != Ordering::Greater,
                    CmpOp::Gt => o == Ordering::Greater,
                    CmpOp::Ge => o != Ordering::Less,
                }
            }
            Fast::Text(op, n) => search(op, h, n),
            Fast::AsciiFold(op, n) => {
                if !h.is_ascii() {
                    return None;
                }
                match op {
                    TextOp::StartsWith => n.starts(h),
                    TextOp::EndsWith => n.ends(h),
                    _ => n.within(h),
                }
            }
        })
    }
}

/// `starts_with`, `ends_with` or `contains` of needle `n` in `h`.
#[inline]
fn search(op: &TextOp, h: &[u8], n: &[u8]) -> bool {
    match op {
        TextOp::StartsWith => h.starts_with(n),
        TextOp::EndsWith => h.ends_with(n),
        _ => {
            let Some(&first) = n.first() else {
                return true;
            };
            let Some(last) = h.len().checked_sub(n.len()) else {
                return false;
            };
            let at = |i: usize| h.get(i..i + n.len()) == Some(n);
            h[..=last]
                .iter()
                .enumerate()
                .any(|(i, &b)| b == first && at(i))
        }
    }
}

impl Test {
    /// The test of `p` over columns planned as `plan`; the columns it
    /// reads are marked needed there.
    fn of(p: &Pred, plan: &mut [ColumnPlan]) -> Test {
        match p {
            Pred::And(a, b) => Test::And(Box::new(Test::of(a, plan)), Box::new(Test::of(b, plan))),
            Pred::Or(a, b) => Test::Or(Box::new(Test::of(a, plan)), Box::new(Test::of(b, plan))),
            Pred::Not(a) => Test::Not(Box::new(Test::of(a, plan))),
            leaf => {
                let mut needed = vec![false; plan.len()];
                leaf.mark_columns(&mut needed);
                // A leaf reads one column; one out of range reads as null.
                let column = needed.iter().position(|&n| n).unwrap_or(usize::MAX);
                let (layout, fast) = match plan.get_mut(column) {
                    Some(c) => {
                        c.needed = true;
                        (c.layout, Fast::of(leaf, c.layout))
                    }
                    None => (FieldLayout::Bool, Fast::Decode),
                };
                Test::Leaf {
                    column,
                    layout,
                    fast,
                    pred: leaf.clone(),
                }
            }
        }
    }
}

impl RawFilter {
    /// The filter `filter` compiled for rows of shape `t`; `None` when
    /// the rows are not laid out as the model declares them (a migrated
    /// table's old rows: [`RefBuf`](super::access::RefBuf) reads those).
    pub(crate) fn new(t: &Shape<'_>, filter: &Pred) -> Result<Option<RawFilter>> {
        if t.layout.is_some_and(|l| !l.is_plain()) {
            return Ok(None);
        }
        let mut plan = plan_columns(t.columns, |_| false).map_err(|detail| Error::Corruption {
            table: t.table.to_string(),
            detail,
        })?;
        let test = Test::of(filter, &mut plan);
        let needed = (0..plan.len()).filter(|&i| plan[i].needed).collect();
        Ok(Some(RawFilter {
            test,
            spans: vec![Span::Null; plan.len()],
            plan,
            needed,
            table: t.table.to_string(),
        }))
    }

    /// Whether stored row `row` matches; an error when it is corrupt.
    #[inline]
    pub(crate) fn matches(&mut self, row: &[u8]) -> Result<bool> {
        self.run(row).map_err(|detail| Error::Corruption {
            table: self.table.clone(),
            detail,
        })
    }

    #[inline]
    fn run(&mut self, row: &[u8]) -> std::result::Result<bool, String> {
        locate(&self.plan, row, &mut self.spans)?;
        // A filter of one test, the common case, without the tree's call.
        let result = match &self.test {
            Test::Leaf {
                column,
                layout,
                fast,
                pred,
            } => self.leaf(*column, *layout, fast, pred, row)?,
            t => self.eval(t, row)?,
        };
        if result != Some(true) {
            return Ok(false);
        }
        // F2: the row is reported, so what the filter read must decode.
        for &i in &self.needed {
            value_at(i, self.plan[i].layout, row, self.spans[i])?;
        }
        Ok(true)
    }

    /// The test of column `column`, laid out as `layout`, on `row`.
    #[inline(always)]
    fn leaf(
        &self,
        column: usize,
        layout: FieldLayout,
        fast: &Fast,
        pred: &Pred,
        row: &[u8],
    ) -> std::result::Result<Option<bool>, String> {
        // A column out of range reads as null.
        let span = self.spans.get(column).copied().unwrap_or(Span::Null);
        if let Span::At(from, to) = span
            && let Some(b) = row.get(from..to).and_then(|h| fast.test(h))
        {
            return Ok(Some(b));
        }
        Ok(pred.eval_column(value_at(column, layout, row, span)?))
    }

    /// `t` on `row`, three-valued (`None` is SQL's unknown).
    fn eval(&self, t: &Test, row: &[u8]) -> std::result::Result<Option<bool>, String> {
        Ok(match t {
            Test::Leaf {
                column,
                layout,
                fast,
                pred,
            } => self.leaf(*column, *layout, fast, pred, row)?,
            Test::And(a, b) => match self.eval(a, row)? {
                Some(false) => Some(false),
                x => match (x, self.eval(b, row)?) {
                    (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                },
            },
            Test::Or(a, b) => match self.eval(a, row)? {
                Some(true) => Some(true),
                x => match (x, self.eval(b, row)?) {
                    (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                },
            },
            Test::Not(a) => self.eval(a, row)?.map(|b| !b),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{decode_row_refs, encode_row_values};
    use crate::model::ColumnDef;
    use crate::text::Like;
    use proptest::prelude::*;

    /// `id i64, name String, note Option<String>, n Option<i64>`.
    static COLUMNS: [ColumnDef; 4] = [
        ColumnDef::of::<i64>("id"),
        ColumnDef::of::<String>("name"),
        ColumnDef::of::<Option<String>>("note"),
        ColumnDef::of::<Option<i64>>("n"),
    ];

    fn shape() -> Shape<'static> {
        Shape {
            table: "t",
            columns: &COLUMNS,
            key: 0,
            layout: None,
        }
    }

    /// Text from an alphabet with capitals, characters beyond ASCII that
    /// lower into ASCII (the Kelvin sign) or out of it, and `%` for LIKE.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec![
                'a', 'b', 'A', 'B', 'k', 'K', '\u{212A}', 'é', 'É', '%',
            ]),
            0..5,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    fn row() -> impl Strategy<Value = Vec<Value>> {
        (
            any::<i8>(),
            text(),
            proptest::option::of(text()),
            proptest::option::of(any::<i8>()),
        )
            .prop_map(|(id, name, note, n)| {
                vec![
                    Value::Int(i64::from(id)),
                    Value::Text(name),
                    note.map_or(Value::Null, Value::Text),
                    n.map_or(Value::Null, |n| Value::Int(i64::from(n))),
                ]
            })
    }

    fn leaf() -> impl Strategy<Value = Pred> {
        let op = prop::sample::select(vec![
            CmpOp::Eq,
            CmpOp::Ne,
            CmpOp::Lt,
            CmpOp::Le,
            CmpOp::Gt,
            CmpOp::Ge,
        ]);
        let search =
            prop::sample::select(vec![TextOp::StartsWith, TextOp::EndsWith, TextOp::Contains]);
        prop_oneof![
            (1..3usize, op.clone(), text()).prop_map(|(c, op, t)| Pred::Cmp(c, op, Value::Text(t))),
            (op, any::<i8>()).prop_map(|(op, v)| Pred::Cmp(3, op, Value::Int(i64::from(v)))),
            (1..3usize, search.clone(), text()).prop_map(|(c, op, t)| Pred::Text(c, op, t)),
            (1..3usize, search, text()).prop_map(|(c, op, t)| {
                let lowered = Fold::Lower.apply(&t).into_owned();
                Pred::Folded(c, Fold::Lower, Box::new(Pred::Text(c, op, lowered)))
            }),
            (1..3usize, text()).prop_map(|(c, t)| Pred::Text(
                c,
                TextOp::Like(Like::new(&t, None)),
                String::new()
            )),
            (0..4usize).prop_map(Pred::IsNull),
            (
                1..3usize,
                proptest::collection::vec(proptest::option::of(text()), 0..3)
            )
                .prop_map(|(c, vs)| Pred::In(
                    c,
                    vs.into_iter()
                        .map(|v| v.map_or(Value::Null, Value::Text))
                        .collect()
                )),
        ]
    }

    fn pred() -> impl Strategy<Value = Pred> {
        leaf().prop_recursive(3, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Pred::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Pred::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Pred::Not(Box::new(a))),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            crate::test_support::proptest_cases(2000)
        ))]

        /// F1: on rows that decode, the compiled filter answers as the
        /// predicate does on the decoded columns.
        #[test]
        fn the_compiled_filter_agrees_with_the_predicate(p in pred(), values in row()) {
            let bytes = encode_row_values(&COLUMNS, &values).expect("a row of the columns");
            let plan = plan_columns(&COLUMNS, |_| true).expect("a plan");
            let mut cols = Vec::new();
            decode_row_refs(&plan, &bytes, &mut cols).expect("the row decodes");
            let want = p.eval(&|c| cols[c]);
            let mut raw = RawFilter::new(&shape(), &p).expect("a filter").expect("a plain layout");
            prop_assert_eq!(raw.matches(&bytes).expect("the row decodes"), want);
        }
    }

    /// F2: text that is not UTF-8 is an error where the row would match,
    /// and is not looked at where it cannot.
    #[test]
    fn a_match_on_bytes_that_are_not_utf8_is_corruption() {
        let values = [
            Value::Int(1),
            Value::Text("abc".into()),
            Value::Null,
            Value::Null,
        ];
        let mut bytes = encode_row_values(&COLUMNS, &values).expect("a row of the columns");
        let at = bytes.iter().position(|&b| b == b'c').expect("the text");
        bytes[at] = 0xFF;
        let test = |p: Pred, bytes: &[u8]| {
            RawFilter::new(&shape(), &p)
                .expect("a filter")
                .expect("a plain layout")
                .matches(bytes)
        };
        let starts = |s: &str| Pred::Text(1, TextOp::StartsWith, s.into());
        assert!(matches!(
            test(starts("ab"), &bytes),
            Err(Error::Corruption { .. })
        ));
        assert!(!test(starts("x"), &bytes).expect("no match, not read"));
        // Beyond ASCII, a case-insensitive test decodes the text.
        let folded = Pred::Folded(
            1,
            Fold::Lower,
            Box::new(Pred::Text(1, TextOp::Contains, "x".into())),
        );
        assert!(matches!(
            test(folded, &bytes),
            Err(Error::Corruption { .. })
        ));
        // A row of the wrong shape is corrupt whatever the filter.
        bytes.push(0);
        assert!(matches!(
            test(starts("x"), &bytes),
            Err(Error::Corruption { .. })
        ));
    }
}
