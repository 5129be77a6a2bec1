//! How results are shown: aligned tables for people, JSON for machines,
//! and progress bars on stderr only when it is a terminal.

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value as Json;
use std::io::{IsTerminal, Write};
use strata::Value;

/// A value as JSON: numbers as numbers (128-bit integers beyond what
/// JSON parsers hold exactly, as strings), bytes as hex text, dates,
/// times and decimals as their text, NaN and infinities as text.
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::UInt(u) => Json::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or_else(|| Json::String(f.to_string()), Json::Number),
        Value::Text(s) => Json::String(s.clone()),
        Value::Bytes(b) => Json::String(hex(b)),
        other => Json::String(cell(other)),
    }
}

/// A value as a table cell or CSV field: text without quotes, bytes as
/// hex, null as `NULL`.
pub fn cell(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Bytes(b) => hex(b),
        other => other.to_string(),
    }
}

/// Bytes as lowercase hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Hex text as bytes.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Writes `rows` under `headers` as a table whose columns are aligned,
/// numbers to the right.
pub fn table(
    out: &mut impl Write,
    headers: &[String],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let right: Vec<bool> = (0..headers.len())
        .map(|i| {
            rows.iter()
                .all(|r| r.get(i).is_some_and(|c| c.parse::<f64>().is_ok()))
        })
        .collect();
    aligned(out, headers, rows, &right)
}

/// Writes `rows` under `headers` as a table whose columns are aligned,
/// to the right where `right` says so.
pub fn aligned(
    out: &mut impl Write,
    headers: &[String],
    rows: &[Vec<String>],
    right: &[bool],
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[String]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = w - c.chars().count();
            if right.get(i).copied().unwrap_or(false) {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, headers)?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(out, &rule)?;
    for r in rows {
        line(out, r)?;
    }
    Ok(())
}

/// A progress bar of `len` steps on stderr, or a hidden one when stderr
/// is not a terminal (a pipe, a file, a test): pipes see no progress.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_message(what.to_string());
    bar
}

/// A spinner on stderr for work of unknown length, hidden off a terminal.
pub fn spinner(what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}

/// Prints `j` on stdout, pretty.
pub fn print_json(out: &mut impl Write, j: &Json) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(j).unwrap_or_default()
    )
}
