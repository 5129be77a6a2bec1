//! Text matching for filters: case folding and SQL's `LIKE` patterns.
//!
//! CASE
//!
//! The case-insensitive tests (`ilike`, `icontains`, `istarts_with`,
//! `iends_with`) and `lower()` / `upper()` use Rust's `str::to_lowercase`
//! and `str::to_uppercase`: Unicode's default case mappings, full (a
//! character may become several: `"ẞ".to_lowercase()` is `"ß"`, `"ß"
//! .to_uppercase()` is `"SS"`) and with the final-sigma rule. Two strings
//! match case-insensitively when their lowercase mappings are equal; this
//! is close to Unicode's simple case folding and equal to it on every
//! letter outside a handful (the Cherokee letters, the Turkish dotted
//! capital I, and the like), and it needs no table of its own. SQLite
//! folds ASCII letters only, so on ASCII text both agree, which is what
//! the differential test compares.
//!
//! LIKE
//!
//! A pattern matches a whole string: `%` matches any run of characters
//! (none included), `_` exactly one character, and any other character
//! itself. With an escape character, the escape followed by any character
//! matches that character literally (`!%` a percent sign, `!!` the escape
//! itself, `!a` an `a`), as in SQLite and PostgreSQL; an escape ending the
//! pattern matches nothing (SQLite's answer; PostgreSQL calls it an error,
//! and a filter has no way to fail). Characters are Unicode scalar values,
//! not bytes.

use std::borrow::Cow;

/// How a column's text is mapped before a test or an ordering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fold {
    /// As stored.
    None,
    /// `lower(column)`.
    Lower,
    /// `upper(column)`.
    Upper,
}

impl Fold {
    /// `s` mapped.
    pub(crate) fn apply(self, s: &str) -> Cow<'_, str> {
        match self {
            Fold::None => Cow::Borrowed(s),
            // Most text is ASCII and often already in the case asked.
            Fold::Lower if !s.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) => {
                Cow::Borrowed(s)
            }
            Fold::Upper if !s.bytes().any(|b| b.is_ascii_lowercase() || b >= 0x80) => {
                Cow::Borrowed(s)
            }
            Fold::Lower => Cow::Owned(s.to_lowercase()),
            Fold::Upper => Cow::Owned(s.to_uppercase()),
        }
    }
}

/// One element of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Any,
    One,
    Char(char),
}

/// A `LIKE` pattern, compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Like {
    pieces: Vec<Piece>,
    /// The pattern cannot match (it ends with the escape).
    never: bool,
}

impl Like {
    /// Compiles `pattern` with escape character `escape`.
    pub(crate) fn new(pattern: &str, escape: Option<char>) -> Like {
        let mut pieces = Vec::new();
        let mut never = false;
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            let piece = match c {
                c if Some(c) == escape => match chars.next() {
                    Some(n) => Piece::Char(n),
                    None => {
                        never = true;
                        break;
                    }
                },
                '%' => Piece::Any,
                '_' => Piece::One,
                c => Piece::Char(c),
            };
            // Runs of % are one %.
            if !(piece == Piece::Any && pieces.last() == Some(&Piece::Any)) {
                pieces.push(piece);
            }
        }
        Like { pieces, never }
    }

    /// Whether `s` matches the whole pattern. Greedy with one backtrack
    /// point (the last `%`): linear in practice, at worst the product of
    /// the two lengths.
    pub(crate) fn matches(&self, s: &str) -> bool {
        if self.never {
            return false;
        }
        let s: Vec<char> = s.chars().collect();
        let p = &self.pieces;
        let (mut i, mut j) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while i < s.len() {
            match p.get(j) {
                Some(Piece::Any) => {
                    star = Some((j, i));
                    j += 1;
                }
                Some(Piece::One) => {
                    i += 1;
                    j += 1;
                }
                Some(Piece::Char(c)) if *c == s[i] => {
                    i += 1;
                    j += 1;
                }
                _ => match star {
                    Some((sj, si)) => {
                        j = sj + 1;
                        i = si + 1;
                        star = Some((sj, si + 1));
                    }
                    None => return false,
                },
            }
        }
        p[j..].iter().all(|x| *x == Piece::Any)
    }

    /// The text every match starts with, when the pattern begins with
    /// literal characters (for a prefix scan of an index), and whether the
    /// pattern is exactly that prefix followed by one `%`.
    pub(crate) fn literal_prefix(&self) -> (String, bool) {
        let prefix: String = self
            .pieces
            .iter()
            .map_while(|p| match p {
                Piece::Char(c) => Some(*c),
                _ => None,
            })
            .collect();
        let n = prefix.chars().count();
        let exact = !self.never && self.pieces.len() == n + 1 && self.pieces[n] == Piece::Any;
        (prefix, exact)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        let cases: &[(&str, Option<char>, &str, bool)] = &[
            ("a%", None, "abc", true),
            ("a%", None, "bac", false),
            ("%c", None, "abc", true),
            ("%b%", None, "abc", true),
            ("a_c", None, "abc", true),
            ("a_c", None, "ac", false),
            ("", None, "", true),
            ("", None, "a", false),
            ("%", None, "", true),
            ("%%a%%", None, "bab", true),
            ("a\\%", Some('\\'), "a%", true),
            ("a\\%", Some('\\'), "ab", false),
            ("a\\_b", Some('\\'), "a_b", true),
            ("a\\_b", Some('\\'), "axb", false),
            ("a\\\\", Some('\\'), "a\\", true),
            ("a\\", Some('\\'), "a\\", false),
            // An escape before an ordinary character makes it literal, as
            // SQLite does (found while building the differential test).
            ("a\\b", Some('\\'), "ab", true),
            ("a\\b", Some('\\'), "a\\b", false),
            ("_é_", None, "aéb", true),
            ("%ab%ab%", None, "xabyabz", true),
            ("%ab%ab", None, "xabyabz", false),
        ];
        for &(p, esc, s, want) in cases {
            assert_eq!(Like::new(p, esc).matches(s), want, "{s:?} LIKE {p:?}");
        }
    }

    #[test]
    fn folds_by_unicode_case_mapping() {
        assert_eq!(Fold::Lower.apply("ÄbC"), "äbc");
        assert_eq!(Fold::Upper.apply("straße"), "STRASSE");
        assert_eq!(Fold::Lower.apply("abc"), "abc");
        assert!(matches!(Fold::Lower.apply("abc"), Cow::Borrowed(_)));
    }

    #[test]
    fn literal_prefixes() {
        assert_eq!(Like::new("ab%", None).literal_prefix(), ("ab".into(), true));
        assert_eq!(
            Like::new("ab_%", None).literal_prefix(),
            ("ab".into(), false)
        );
        assert_eq!(Like::new("%", None).literal_prefix(), ("".into(), true));
        assert_eq!(Like::new("ab", None).literal_prefix(), ("ab".into(), false));
    }
}
