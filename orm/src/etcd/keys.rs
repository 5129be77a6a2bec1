//! Where the ORM's tables live in etcd's one flat, ordered key space.
//!
//! Every key of an application starts with its prefix and a NUL byte
//! (the ROOT), so that no application's keys lie inside another's
//! ranges, whatever the prefixes (a prefix has no NUL byte). After the
//! ROOT, one byte says what the key is:
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | p | the application's prefix |
//! | p | 1 | `00` |
//! | p+1 | 1 | the kind: `d` a row or entry of a table, `t` a table in the catalog, `s` a table's automatic-key counter, `x` a table's delete marker, `c` a commit marker |
//!
//! then, by kind:
//!
//! | kind | OFFSET | SIZE | DESCRIPTION | value |
//! | --- | --- | --- | --- | --- |
//! | `d` | p+2 | 1 | n, the table name's length (1 to 255) | the value stored under the key |
//! | | p+3 | n | the table name (UTF-8) | |
//! | | p+3+n | k | the key, as the ORM gave it | |
//! | `t` | p+2 | n | the table name | empty: the table exists |
//! | `s` | p+2 | n | the table name | the next key not yet reserved, decimal ASCII |
//! | `x` | p+2 | n | the table name | empty; its mod revision is the revision of the last commit that deleted a key of the table |
//! | `c` | p+2 | 16 | the commit's id (random) | `C` committed, `A` fenced off; attached to a lease, so it expires |
//!
//! The length byte makes a table's keys one contiguous range that no
//! other table's keys enter (table `a` cannot see the keys of table
//! `ab`), so a scan of a table is one etcd range.

use std::ops::Bound;

/// The key layout of one application.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    root: Vec<u8>,
}

impl Keys {
    pub fn new(prefix: &[u8]) -> Keys {
        let mut root = prefix.to_vec();
        root.push(0);
        Keys { root }
    }

    fn with(&self, kind: u8, rest: &[&[u8]]) -> Vec<u8> {
        let mut k = self.root.clone();
        k.push(kind);
        for r in rest {
            k.extend_from_slice(r);
        }
        k
    }

    /// Where the keys of `table` start (kind `d`). Table names are 1 to
    /// 255 bytes (the engine's rule, checked by the caller).
    pub fn table_start(&self, table: &str) -> Vec<u8> {
        let len = u8::try_from(table.len()).unwrap_or(u8::MAX);
        self.with(b'd', &[&[len], table.as_bytes()])
    }

    /// The key under which `table` stores `key`.
    pub fn data(&self, table: &str, key: &[u8]) -> Vec<u8> {
        let mut k = self.table_start(table);
        k.extend_from_slice(key);
        k
    }

    /// `[start, end)` in etcd's key space of the keys of `table` between
    /// the bounds.
    pub fn range(&self, table: &str, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> (Vec<u8>, Vec<u8>) {
        let t = self.table_start(table);
        let at = |k: &[u8], after: bool| {
            let mut v = t.clone();
            v.extend_from_slice(k);
            if after {
                v.push(0);
            }
            v
        };
        let start = match lo {
            Bound::Included(k) => at(k, false),
            Bound::Excluded(k) => at(k, true),
            Bound::Unbounded => t.clone(),
        };
        let end = match hi {
            Bound::Included(k) => at(k, true),
            Bound::Excluded(k) => at(k, false),
            Bound::Unbounded => prefix_end(&t),
        };
        (start, end)
    }

    /// The catalog entry of `table` (kind `t`).
    pub fn table(&self, table: &str) -> Vec<u8> {
        self.with(b't', &[table.as_bytes()])
    }

    /// The automatic-key counter of `table` (kind `s`).
    pub fn sequence(&self, table: &str) -> Vec<u8> {
        self.with(b's', &[table.as_bytes()])
    }

    /// The delete marker of `table` (kind `x`).
    pub fn deletes(&self, table: &str) -> Vec<u8> {
        self.with(b'x', &[table.as_bytes()])
    }

    /// The marker of commit `id` (kind `c`).
    pub fn commit(&self, id: &[u8; 16]) -> Vec<u8> {
        self.with(b'c', &[id])
    }
}

/// The first key after every key that starts with `p`.
pub(crate) fn prefix_end(p: &[u8]) -> Vec<u8> {
    let mut end = p.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return end;
        }
    }
    // Only bytes FF: everything after. etcd reads "\0" as "to the end".
    vec![0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_one_range_no_other_table_enters() {
        let keys = Keys::new(b"app");
        let (s, e) = keys.range("a", Bound::Unbounded, Bound::Unbounded);
        for other in ["ab", "b", "", "a#x"] {
            let k = keys.data(other, b"");
            assert!(!(s <= k && k < e), "{other}");
        }
        assert!(s <= keys.data("a", b"\xff\xff") && keys.data("a", b"\xff\xff") < e);
        let other_app = Keys::new(b"app2").data("a", b"");
        assert!(!(s <= other_app && other_app < e));
    }

    #[test]
    fn bounds_map_to_half_open_ranges() {
        let keys = Keys::new(b"p");
        let (s, e) = keys.range("t", Bound::Excluded(b"k"), Bound::Included(b"m"));
        assert!(keys.data("t", b"k") < s && s <= keys.data("t", b"k\0"));
        assert!(keys.data("t", b"m") < e && e <= keys.data("t", b"m\0"));
        assert_eq!(prefix_end(b"a\xff"), b"b");
    }
}
