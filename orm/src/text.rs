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
//!
//! ASCII NEEDLES
//!
//! A filter that runs on a row's bytes (`query/raw_filter.rs`) tests
//! ASCII text against a needle in lower case with an [`AsciiNeedle`]: for
//! each needle byte it keeps the bit that folds ASCII case (`0x20` for a
//! letter, none otherwise), so that `b | fold == needle byte` holds for
//! exactly the haystack bytes equal to the needle's byte ignoring ASCII
//! case (a lowercase letter has the bit, so `b` is it or its capital; any
//! other needle byte is compared as it is). `contains` finds the
//! candidates for the needle's first byte eight at a time, in a `u64`
//! (the zero-byte test of "Bit Twiddling Hacks": it may report a byte
//! above a real candidate, never miss one; each candidate is compared in
//! full), as SQLite's and glibc's searches look for a first byte before
//! they compare.

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

/// A needle in lower case, matched against ASCII text ignoring its case
/// (see ASCII NEEDLES above). On text beyond ASCII the answer is not the
/// Unicode one: the caller decides such text otherwise.
pub(crate) struct AsciiNeedle {
    lower: Box<[u8]>,
    /// Per byte of `lower`, the bit that folds it: `0x20` for a letter.
    fold: Box<[u8]>,
}

impl AsciiNeedle {
    /// The needle `lower`; `None` unless it is ASCII without capitals.
    pub(crate) fn new(lower: &str) -> Option<AsciiNeedle> {
        let b = lower.as_bytes();
        if !b.iter().all(|c| c.is_ascii() && !c.is_ascii_uppercase()) {
            return None;
        }
        let fold = b
            .iter()
            .map(|c| if c.is_ascii_lowercase() { 0x20 } else { 0 })
            .collect();
        Some(AsciiNeedle {
            lower: b.into(),
            fold,
        })
    }

    /// Whether `w`, as long as the needle, is it ignoring ASCII case.
    #[inline]
    fn is(&self, w: &[u8]) -> bool {
        w.len() == self.lower.len()
            && w.iter()
                .zip(&self.fold)
                .zip(&self.lower)
                .all(|((&b, &f), &l)| b | f == l)
    }

    /// Whether `h` starts with the needle, ignoring ASCII case.
    #[inline]
    pub(crate) fn starts(&self, h: &[u8]) -> bool {
        h.get(..self.lower.len()).is_some_and(|w| self.is(w))
    }

    /// Whether `h` ends with the needle, ignoring ASCII case.
    #[inline]
    pub(crate) fn ends(&self, h: &[u8]) -> bool {
        let from = h.len().checked_sub(self.lower.len());
        from.is_some_and(|i| self.is(&h[i..]))
    }

    /// Whether `h` contains the needle, ignoring ASCII case.
    pub(crate) fn within(&self, h: &[u8]) -> bool {
        const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
        const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
        let n = self.lower.len();
        let (Some(&first), Some(&fold)) = (self.lower.first(), self.fold.first()) else {
            return true;
        };
        let Some(last) = h.len().checked_sub(n) else {
            return false;
        };
        let at = |i: usize| h.get(i..i + n).is_some_and(|w| self.is(w));
        let (first8, fold8) = (ONES * u64::from(first), ONES * u64::from(fold));
        // Where the needle may start: positions 0 to `last`.
        let mut words = h[..=last].chunks_exact(8);
        let mut base = 0;
        for w in &mut words {
            let Ok(w) = <[u8; 8]>::try_from(w) else {
                break;
            };
            // A zero byte of `x` is a candidate (little-endian: byte k of
            // the word is bits 8k to 8k + 7).
            let x = (u64::from_le_bytes(w) | fold8) ^ first8;
            let mut hits = x.wrapping_sub(ONES) & !x & HIGHS;
            while hits != 0 {
                if at(base + (hits.trailing_zeros() / 8) as usize) {
                    return true;
                }
                hits &= hits - 1;
            }
            base += 8;
        }
        let rest = words.remainder().iter();
        rest.enumerate()
            .any(|(k, &b)| b | fold == first && at(base + k))
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

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(
            crate::test_support::proptest_cases(4000)
        ))]

        /// An ASCII needle answers as `eq_ignore_ascii_case` on every
        /// window, for haystacks of any length (the word loop and its
        /// remainder) with bytes next to the needle's under the folding
        /// bit and the zero-byte test (`@`, a backquote, `c`, `0`), and
        /// beyond ASCII.
        #[test]
        fn ascii_needles_match_as_windows_ignoring_case(
            n in proptest::collection::vec(proptest::sample::select(b"ab@1".to_vec()), 0..4),
            h in proptest::collection::vec(
                proptest::sample::select(b"abcAC@`01\xc1\xe1".to_vec()),
                0..40,
            ),
        ) {
            let lower = std::str::from_utf8(&n).expect("ASCII");
            let needle = AsciiNeedle::new(lower).expect("no capitals");
            let eq = |w: &[u8]| w.eq_ignore_ascii_case(&n);
            proptest::prop_assert_eq!(needle.within(&h), n.is_empty() || h.windows(n.len()).any(eq));
            proptest::prop_assert_eq!(needle.starts(&h), h.get(..n.len()).is_some_and(eq));
            let from = h.len().checked_sub(n.len());
            proptest::prop_assert_eq!(needle.ends(&h), from.is_some_and(|i| eq(&h[i..])));
        }
    }

    #[test]
    fn ascii_needles_are_lower_case_ascii() {
        assert!(AsciiNeedle::new("ab-c").is_some());
        assert!(AsciiNeedle::new("aB").is_none());
        assert!(AsciiNeedle::new("é").is_none());
    }
}
