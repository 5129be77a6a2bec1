//! Relationships between models: the three ways to load them, and the
//! plumbing that keeps them whole.
//!
//! A relationship is a constant the derive generates on the model, named
//! like SQLAlchemy's attribute: `Person::addresses` (one-to-many),
//! `Address::person` (its backref), `User::profile` (one-to-one),
//! `Page::tags` and `Tag::pages` (many-to-many). Loading always goes
//! through a session passed in by hand, so no I/O hides behind a field
//! access:
//!
//! | SQLAlchemy `lazy=` | Strata |
//! | --- | --- |
//! | `'select'` (on access) | `Person::addresses.load(&session, &person)` |
//! | `'joined'` / `'subquery'` (eager) | `query.all_with(Person::addresses)`, or `Person::addresses.load_all(&session, &people)`: one index pass for the whole result |
//! | `'dynamic'` (a query) | `Person::addresses.query(&session, &person)`, to filter, order, count further |
//!
//! PLUMBING
//!
//! Relationships are stored as index entries of the child's foreign key
//! and as links in association tables (`layout.rs`). The second half of
//! this file reads and writes them for a [`Session`]: the children of a
//! parent key, the links of a row, linking and unlinking.
//!
//! DELETE
//!
//! Deleting a row is where relationships act, so every delete lives here:
//! [`Session::delete`], [`Session::delete_by_key`] and
//! [`QueryMut::delete`]. In order, a delete
//!
//! 1. reads and exclusively locks the row;
//! 2. refuses (`Restricted`) if rows of any table, found through the
//!    stored schemas, refer to it through a foreign key this model has no
//!    `cascade` or `set_null` rule for, or if such a row is found anywhere
//!    down the cascade (`check_cascade`), before anything changes;
//! 3. applies the model's rules to its children (`delete_children`, which
//!    the derive writes; it calls back [`ReferentialActions`] here):
//!    `cascade` deletes each child in turn, `set_null` updates it;
//! 4. removes every many-to-many link of the row, both directions;
//! 5. removes the row's index entries, then the row.

use crate::error::{Error, Result};
use crate::expr::{CmpOp, Column, Expr, Pred};
use crate::expr::{KeySet, SubQuery};
use crate::layout::{
    bound_ref, column_index_table, decode_key, decode_model, decode_whole_key, encode_key,
    index_table, key_of, key_of_ref, link_key, prefix_bounds, reverse_table,
};
use crate::model::{Model, OnDelete, ReferentialActions};
use crate::query::{JoinRelation, Joined, Query, QueryMut, Relation};
use crate::schema::StoredColumn;
use crate::session::Session;
use crate::value::{ColumnType, ToColumn, Value, ValueRef};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::ops::Bound;
use std::sync::Arc;

/// Reads rows of `M` by encoded primary key, once per distinct key (in key
/// order); keys naming no row are left out.
fn rows_by_key<M: Model>(
    s: &Session,
    keys: impl IntoIterator<Item = Vec<u8>>,
) -> Result<HashMap<Vec<u8>, M>> {
    let mut sorted: Vec<Vec<u8>> = keys.into_iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut out = HashMap::with_capacity(sorted.len());
    for k in sorted {
        if let Some(m) = s.row_at::<M>(&k)? {
            out.insert(k, m);
        }
    }
    Ok(out)
}

/// What [`group_by_prefix`] found: for each entry of the scanned table
/// whose key starts with a parent's encoding, that parent and the child's
/// encoded key, in the table's order (so each parent's children are in
/// their own key order). The keys share one buffer: one allocation for all
/// of them, not one each.
struct Groups {
    /// How many parents were asked for.
    parents: usize,
    /// The children's encoded keys, one after the other.
    bytes: Vec<u8>,
    /// Per child: its parent's index and where its key ends in `bytes`
    /// (it starts where the previous one ends).
    found: Vec<(usize, usize)>,
}

impl Groups {
    /// Each child as (parent's index, encoded key), in the table's order.
    fn iter(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let starts = std::iter::once(0).chain(self.found.iter().map(|&(_, end)| end));
        self.found
            .iter()
            .zip(starts)
            .map(|(&(p, end), start)| (p, &self.bytes[start..end]))
    }

    /// Per parent, `f` of each of its children's keys, in order; stops at
    /// the first error.
    fn map<T>(&self, mut f: impl FnMut(&[u8]) -> Result<T>) -> Result<Vec<Vec<T>>> {
        let mut out: Vec<Vec<T>> = (0..self.parents).map(|_| Vec::new()).collect();
        for (p, k) in self.iter() {
            out[p].push(f(k)?);
        }
        Ok(out)
    }
}

/// Below this many children, [`children_in_one_scan`] leaves them to
/// point reads.
const SCAN_FROM: usize = 64;

/// The rows of `C` under the encoded keys of `groups`, per parent, read in
/// one scan of `C`'s table from the least key to the greatest (a merge of
/// the sorted keys with the table's order) instead of a point read each:
/// `None` when the session takes locks (a scan would lock the range, point
/// reads lock only their keys), when there are few, or when the range
/// holds more than four rows for each wanted one (the engine counts the
/// range first, without reading its rows).
fn children_in_one_scan<C: Model>(s: &Session, groups: &Groups) -> Result<Option<Vec<Vec<C>>>> {
    if !s.is_snapshot() || groups.found.len() < SCAN_FROM {
        return Ok(None);
    }
    // (key, its place in `groups`), in key order.
    let mut wanted: Vec<(&[u8], usize)> = groups.iter().map(|(_, k)| k).zip(0..).collect();
    wanted.sort_unstable();
    let (Some(&(lo, _)), Some(&(hi, _))) = (wanted.first(), wanted.last()) else {
        return Ok(None);
    };
    let bounds = (Bound::Included(lo), Bound::Included(hi));
    s.db.counted_scan();
    if s.count_entries(C::TABLE, bounds.0, bounds.1)? > 4 * wanted.len() as u64 {
        return Ok(None);
    }
    let missing = || Error::Corruption {
        table: C::TABLE.to_string(),
        detail: "an index entry names a missing row".into(),
    };
    let layout = s.row_layout::<C>();
    // Per place in `groups`, its row once read.
    let mut rows: Vec<Option<C>> = std::iter::repeat_with(|| None).take(wanted.len()).collect();
    let mut next = 0;
    let mut failed = None;
    s.db.counted_scan();
    s.scan_with(C::TABLE, bounds.0, bounds.1, false, &mut |k, row| {
        let Some(&(want, _)) = wanted.get(next) else {
            return false;
        };
        if want < k {
            // The scan passed a wanted key: its row is missing.
            failed = Some(missing());
            return false;
        }
        // The same child more than once when a parent is listed twice.
        while let Some(&(want, at)) = wanted.get(next)
            && want == k
        {
            match decode_model::<C>(layout.as_deref(), row) {
                Ok(m) => rows[at] = Some(m),
                Err(e) => {
                    failed = Some(e);
                    return false;
                }
            }
            next += 1;
        }
        next < wanted.len()
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let mut rows = rows.into_iter();
    groups
        .map(|_| rows.next().flatten().ok_or_else(missing))
        .map(Some)
}

/// Scans `table` once over every key that starts with the encoding of one
/// of `parents`, and returns, per parent, the encoded keys that follow the
/// parent's encoding in those keys (or, for a unique index, the stored
/// values), in the table's order.
///
/// A merge, not a lookup per entry: the key encoding is order-preserving
/// and prefix-free, so the entries of one parent are the contiguous run of
/// keys that start with its encoding, and the runs come in the order of
/// the parents' encodings. The parents are sorted once; the scan then
/// moves a cursor over them.
fn group_by_prefix(s: &Session, table: &str, parents: &[Value], unique: bool) -> Result<Groups> {
    // The parents' encodings in one buffer; `ends[i]`: where parent i's ends.
    let mut enc = Vec::new();
    let ends: Vec<usize> = parents
        .iter()
        .map(|v| {
            encode_key(v.as_ref(), &mut enc);
            enc.len()
        })
        .collect();
    let key = |i: usize| &enc[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
    // In key order; a parent listed twice sits beside its twin (`twin[j]`:
    // `order[j]` has the same encoding as `order[j - 1]`).
    let mut order: Vec<usize> = (0..parents.len()).collect();
    order.sort_unstable_by(|&a, &b| key(a).cmp(key(b)));
    let twin: Vec<bool> = (0..order.len())
        .map(|j| j > 0 && key(order[j]) == key(order[j - 1]))
        .collect();
    let mut out = Groups {
        parents: parents.len(),
        bytes: Vec::new(),
        found: Vec::new(),
    };
    let (Some(&lo), Some(&hi)) = (order.first(), order.last()) else {
        return Ok(out);
    };
    let (_, hi) = prefix_bounds(key(hi));
    // `order[at..]`: the parents whose runs the scan has not passed.
    let mut at = 0;
    let mut bad = false;
    s.db.counted_scan();
    s.scan_with(
        table,
        Bound::Included(key(lo)),
        bound_ref(&hi),
        false,
        &mut |k, v| {
            // Pass the parents whose runs end before `k`: one comparison
            // of `k`'s first bytes with a parent's encoding says whether
            // `k` is before its run, in it, or after it.
            let p = loop {
                let Some(&first) = order.get(at) else {
                    // Every parent's run is behind: nothing more to find.
                    return false;
                };
                let p = key(first);
                let ord = match k.get(..p.len()) {
                    Some(head) => head.cmp(p),
                    None => k.cmp(p),
                };
                match ord {
                    std::cmp::Ordering::Greater => at += 1,
                    std::cmp::Ordering::Less => {
                        // The entry of a key no parent has; it must
                        // still decode.
                        bad = decode_key(k).is_none();
                        return !bad;
                    }
                    std::cmp::Ordering::Equal => break p,
                }
            };
            let start = out.bytes.len();
            out.bytes
                .extend_from_slice(if unique { v } else { &k[p.len()..] });
            let end = out.bytes.len();
            out.found.push((order[at], end));
            // A parent listed twice has the same children.
            for j in (at + 1..order.len()).take_while(|&j| twin[j]) {
                out.bytes.extend_from_within(start..end);
                out.found.push((order[j], out.bytes.len()));
            }
            true
        },
    )?;
    if bad {
        return Err(Error::Corruption {
            table: table.to_string(),
            detail: "an entry's key is not an encoded value".into(),
        });
    }
    Ok(out)
}

/// One parent to many children: the children's foreign key refers to the
/// parent's primary key. `Person::addresses` in the seed.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::HasMany;
/// # let (_dir, db) = blog()?;
/// let s = db.read_session()?;
/// let ann = s.get::<User>(1)?.expect("ann");
/// let posts: HasMany<User, Post> = User::posts; // from has_many(posts = Post, ...)
/// assert_eq!(titles(&posts.load(&s, &ann)?), ["Hello", "Again"]);
/// # Ok::<(), strata::Error>(())
/// ```
pub struct HasMany<P, C> {
    fk: usize,
    _m: PhantomData<fn() -> (P, C)>,
}

impl<P, C> Clone for HasMany<P, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, C> Copy for HasMany<P, C> {}

impl<P: Model, C: Model> HasMany<P, C> {
    /// The relationship through the children's column `fk` (used by the
    /// derive).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::HasMany;
    /// // What the derive generates for has_many(posts = Post, fk = author_id):
    /// const POSTS: HasMany<User, Post> = HasMany::new(Post::author_id);
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let bob = s.get::<User>(2)?.expect("bob");
    /// assert_eq!(titles(&POSTS.load(&s, &bob)?), ["Hi"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub const fn new<T: ColumnType>(fk: Column<C, T>) -> Self {
        HasMany {
            fk: fk.index(),
            _m: PhantomData,
        }
    }

    /// The children of `parent`, in key order (load on access).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let ann = s.query::<User>().filter(User::username.eq("ann")).one()?;
    /// let posts = User::posts.load(&s, &ann)?; // lazy='select'
    /// assert_eq!(titles(&posts), ["Hello", "Again"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn load(&self, s: &Session, parent: &P) -> Result<Vec<C>> {
        s.ensure::<P>()?;
        let keys = s.child_keys::<C>(self.fk, &parent.key_value())?;
        let mut rows = rows_by_key::<C>(s, keys.iter().map(key_of))?;
        Ok(keys
            .iter()
            .filter_map(|k| rows.remove(&key_of(k)))
            .collect())
    }

    /// A query over the children of `parent`, to refine further.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let ann = s.get::<User>(1)?.expect("ann");
    /// // lazy='dynamic': a query to refine further.
    /// let q = User::posts.query(&s, &ann).filter(Post::score.gt(3.0));
    /// assert_eq!(titles(&q.all()?), ["Hello"]);
    /// assert_eq!(User::posts.query(&s, &ann).count()?, 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn query<'s>(&self, s: &'s Session, parent: &P) -> Query<'s, C> {
        s.query::<C>()
            .filter(Expr::new(Pred::Cmp(self.fk, CmpOp::Eq, parent.key_value())))
    }
}

impl<P: Model, C: Model> Relation<P> for HasMany<P, C> {
    type Loaded = Vec<C>;

    fn load_all(&self, s: &Session, parents: &[P]) -> Result<Vec<Vec<C>>> {
        s.ensure::<P>()?;
        s.ensure::<C>()?;
        let col = &C::COLUMNS[self.fk];
        let table = column_index_table(C::TABLE, col);
        let keys: Vec<Value> = parents.iter().map(Model::key_value).collect();
        let groups = group_by_prefix(s, &table, &keys, col.unique)?;
        if let Some(children) = children_in_one_scan::<C>(s, &groups)? {
            return Ok(children);
        }
        // A child has one parent: read each where it belongs, uncloned.
        groups.map(|k| {
            s.row_at::<C>(k)?.ok_or_else(|| Error::Corruption {
                table: table.to_string(),
                detail: "an index entry names a missing row".into(),
            })
        })
    }
}

/// One parent to at most one child (the child's foreign key is unique).
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::HasOne;
/// # let (_dir, db) = blog()?;
/// let s = db.read_session()?;
/// let profile: HasOne<User, Profile> = User::profile;
/// let ann = s.get::<User>(1)?.expect("ann");
/// let bob = s.get::<User>(2)?.expect("bob");
/// assert_eq!(profile.load(&s, &ann)?.map(|p| p.bio), Some("writes about Rust".into()));
/// assert_eq!(profile.load(&s, &bob)?, None);
/// # Ok::<(), strata::Error>(())
/// ```
pub struct HasOne<P, C> {
    many: HasMany<P, C>,
}

impl<P, C> Clone for HasOne<P, C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P, C> Copy for HasOne<P, C> {}

impl<P: Model, C: Model> HasOne<P, C> {
    /// The relationship through the child's column `fk` (used by the
    /// derive).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::HasOne;
    /// const PROFILE: HasOne<User, Profile> = HasOne::new(Profile::user_id);
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let ann = s.get::<User>(1)?.expect("ann");
    /// assert!(PROFILE.load(&s, &ann)?.is_some());
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub const fn new<T: ColumnType>(fk: Column<C, T>) -> Self {
        HasOne {
            many: HasMany::new(fk),
        }
    }

    /// The child of `parent`, if any.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let bob = s.get::<User>(2)?.expect("bob");
    /// assert_eq!(User::profile.load(&s, &bob)?, None); // bob has none
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn load(&self, s: &Session, parent: &P) -> Result<Option<C>> {
        Ok(self.many.load(s, parent)?.into_iter().next())
    }
}

impl<P: Model, C: Model> Relation<P> for HasOne<P, C> {
    type Loaded = Option<C>;

    fn load_all(&self, s: &Session, parents: &[P]) -> Result<Vec<Option<C>>> {
        Ok(self
            .many
            .load_all(s, parents)?
            .into_iter()
            .map(|v| v.into_iter().next())
            .collect())
    }
}

/// A child to its parent: the backref of a [`HasMany`] or [`HasOne`].
/// `Address::person` in the seed.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::BelongsTo;
/// # let (_dir, db) = blog()?;
/// let s = db.read_session()?;
/// let author: BelongsTo<Post, User> = Post::author; // the backref of User::posts
/// let hi = s.get::<Post>(3)?.expect("post 3");
/// assert_eq!(author.load(&s, &hi)?.map(|u| u.username), Some("bob".into()));
/// # Ok::<(), strata::Error>(())
/// ```
pub struct BelongsTo<C, P> {
    fk: usize,
    _m: PhantomData<fn() -> (C, P)>,
}

impl<C, P> Clone for BelongsTo<C, P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C, P> Copy for BelongsTo<C, P> {}

impl<C: Model, P: Model> BelongsTo<C, P> {
    /// The relationship through the child's column `fk` (used by the
    /// derive).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::BelongsTo;
    /// const AUTHOR: BelongsTo<Post, User> = BelongsTo::new(Post::author_id);
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let hello = s.get::<Post>(1)?.expect("post 1");
    /// assert_eq!(AUTHOR.load(&s, &hello)?.map(|u| u.id), Some(1));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub const fn new<T: ColumnType>(fk: Column<C, T>) -> Self {
        BelongsTo {
            fk: fk.index(),
            _m: PhantomData,
        }
    }

    /// The parent of `child` (none if its foreign key is null).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let profile = s.get::<Profile>(1)?.expect("ann's profile");
    /// let owner = Profile::user.load(&s, &profile)?;
    /// assert_eq!(owner.map(|u| u.username), Some("ann".into()));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn load(&self, s: &Session, child: &C) -> Result<Option<P>> {
        s.ensure::<P>()?;
        match child.value(self.fk) {
            Value::Null => Ok(None),
            k => s.get_by_value::<P>(&k),
        }
    }
}

impl<C: Model, P: Model> Relation<C> for BelongsTo<C, P> {
    type Loaded = Option<P>;

    fn load_all(&self, s: &Session, children: &[C]) -> Result<Vec<Option<P>>> {
        s.ensure::<P>()?;
        let keys = children
            .iter()
            .map(|c| c.value_ref(self.fk))
            .filter(|v| !v.is_null())
            .map(key_of_ref);
        let rows = rows_by_key::<P>(s, keys)?;
        Ok(children
            .iter()
            .map(|c| match c.value_ref(self.fk) {
                ValueRef::Null => None,
                k => rows.get(&key_of_ref(k)).cloned(),
            })
            .collect())
    }
}

/// Many to many, through an association table: `Page::tags` and its
/// backref `Tag::pages` in the seed. `A` is the side loading, `B` the
/// side loaded.
///
/// ```
/// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
/// use strata::ManyToMany;
/// # let (_dir, db) = blog()?;
/// let s = db.read_session()?;
/// let tags: ManyToMany<Post, Tag> = Post::tags; // many_to_many(tags = Tag, ...)
/// let posts: ManyToMany<Tag, Post> = Tag::posts; // its backref
/// let hello = s.get::<Post>(1)?.expect("post 1");
/// let rust = tags.load(&s, &hello)?.remove(0);
/// assert_eq!(titles(&posts.load(&s, &rust)?), ["Hello"]);
/// # Ok::<(), strata::Error>(())
/// ```
pub struct ManyToMany<A, B> {
    through: &'static str,
    /// `A` owns the association (its keys come first in `through`).
    owner: bool,
    _m: PhantomData<fn() -> (A, B)>,
}

impl<A, B> Clone for ManyToMany<A, B> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<A, B> Copy for ManyToMany<A, B> {}

impl<A: Model, B: Model> ManyToMany<A, B> {
    /// The association in table `through`, seen from its owner `A`
    /// (used by the derive).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::ManyToMany;
    /// // What the derive generates for many_to_many(tags = Tag, through = "post_tags"):
    /// const TAGS: ManyToMany<Post, Tag> = ManyToMany::owned("post_tags");
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let hi = s.get::<Post>(3)?.expect("post 3");
    /// assert_eq!(TAGS.load(&s, &hi)?.len(), 1);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub const fn owned(through: &'static str) -> Self {
        ManyToMany {
            through,
            owner: true,
            _m: PhantomData,
        }
    }

    /// The association in table `through`, seen from its target `A`
    /// (the backref; used by the derive).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// use strata::ManyToMany;
    /// // And for its backref = posts, on Tag:
    /// const POSTS: ManyToMany<Tag, Post> = ManyToMany::backref("post_tags");
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let storage = s.get::<Tag>(2)?.expect("tag 2");
    /// assert_eq!(titles(&POSTS.load(&s, &storage)?), ["Hi"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub const fn backref(through: &'static str) -> Self {
        ManyToMany {
            through,
            owner: false,
            _m: PhantomData,
        }
    }

    fn ensure(&self, s: &Session) -> Result<()> {
        s.ensure::<A>()?;
        s.ensure::<B>()
    }

    fn ensure_mut(&self, s: &mut Session) -> Result<()> {
        s.writable()?;
        s.ensure_mut::<A>()?;
        s.ensure_mut::<B>()
    }

    /// The table listing links from `A`'s side.
    fn links_table(&self) -> String {
        if self.owner {
            self.through.to_string()
        } else {
            reverse_table(self.through)
        }
    }

    /// The rows of `B` linked to `a`, in key order.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let hello = s.get::<Post>(1)?.expect("post 1");
    /// let names: Vec<String> = Post::tags.load(&s, &hello)?.into_iter().map(|t| t.name).collect();
    /// assert_eq!(names, ["rust"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn load(&self, s: &Session, a: &A) -> Result<Vec<B>> {
        self.ensure(s)?;
        let keys = s.linked_keys(&self.links_table(), &a.key_value())?;
        let mut rows = rows_by_key::<B>(s, keys.iter().map(key_of))?;
        Ok(keys
            .iter()
            .filter_map(|k| rows.remove(&key_of(k)))
            .collect())
    }

    /// A query over the rows of `B` linked to `a`, to refine further.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let rust = s.get::<Tag>(1)?.expect("tag 1");
    /// let q = Tag::posts.query(&s, &rust)?.filter(Post::score.ge(4.0));
    /// assert_eq!(titles(&q.all()?), ["Hello"]);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn query<'s>(&self, s: &'s Session, a: &A) -> Result<Query<'s, B>> {
        self.ensure(s)?;
        let keys = s.linked_keys(&self.links_table(), &a.key_value())?;
        Ok(s.query::<B>()
            .filter(Expr::new(Pred::In(B::PRIMARY_KEY, keys))))
    }

    /// Links `a` and `b` (both must exist; linking twice is harmless).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// let again = s.get::<Post>(2)?.expect("post 2");
    /// let rust = s.get::<Tag>(1)?.expect("tag 1");
    /// Post::tags.link(&mut s, &again, &rust)?;
    /// Post::tags.link(&mut s, &again, &rust)?; // harmless
    /// assert_eq!(titles(&Tag::posts.load(&s, &rust)?), ["Hello", "Again"]);
    /// s.commit()?;
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn link(&self, s: &mut Session, a: &A, b: &B) -> Result<()> {
        self.ensure_mut(s)?;
        for (table, key, name) in [
            (A::TABLE, a.key_value(), A::NAME),
            (B::TABLE, b.key_value(), B::NAME),
        ] {
            if s.kv.get(table, &key_of(&key))?.is_none() {
                return Err(Error::NotFound { model: name, key });
            }
        }
        let (x, y) = if self.owner {
            (a.key_value(), b.key_value())
        } else {
            (b.key_value(), a.key_value())
        };
        s.link_keys(self.through, &x, &y)
    }

    /// Unlinks `a` and `b`; whether they were linked.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// let hello = s.get::<Post>(1)?.expect("post 1");
    /// let rust = s.get::<Tag>(1)?.expect("tag 1");
    /// assert!(Tag::posts.unlink(&mut s, &rust, &hello)?); // either side unlinks
    /// assert!(!Post::tags.unlink(&mut s, &hello, &rust)?); // not linked any more
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn unlink(&self, s: &mut Session, a: &A, b: &B) -> Result<bool> {
        self.ensure_mut(s)?;
        let (x, y) = if self.owner {
            (a.key_value(), b.key_value())
        } else {
            (b.key_value(), a.key_value())
        };
        s.unlink_keys(self.through, &x, &y)
    }
}

impl<A: Model, B: Model> Relation<A> for ManyToMany<A, B> {
    type Loaded = Vec<B>;

    fn load_all(&self, s: &Session, parents: &[A]) -> Result<Vec<Vec<B>>> {
        self.ensure(s)?;
        let keys: Vec<Value> = parents.iter().map(Model::key_value).collect();
        let groups = group_by_prefix(s, &self.links_table(), &keys, false)?;
        // A row may be linked to many: read each once.
        let rows = rows_by_key::<B>(s, groups.iter().map(|(_, k)| k.to_vec()))?;
        let mut out: Vec<Vec<B>> = (0..parents.len()).map(|_| Vec::new()).collect();
        for (p, k) in groups.iter() {
            out[p].extend(rows.get(k).cloned());
        }
        Ok(out)
    }
}

// ---- relationship tests and joins ----

/// `EXISTS (SELECT 1 FROM <other> WHERE <link> AND <filter>)`, run as
/// the set of linking values that pass: the values of column `take` of
/// the rows of `O` matching `filter`, tested against column `column` of
/// the outer model.
struct Exists<O> {
    column: usize,
    take: usize,
    filter: Pred,
    _m: PhantomData<fn() -> O>,
}

impl<O> std::fmt::Debug for Exists<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Exists({} in {:?})", self.column, self.filter)
    }
}

impl<O: Model> SubQuery for Exists<O> {
    fn column(&self) -> usize {
        self.column
    }

    fn run(&self, s: &Session) -> Result<KeySet> {
        let q = s.query::<O>().filter(Expr::new(self.filter.clone()));
        Ok(KeySet::new(q.column_values(self.take)?))
    }
}

fn exists<M, O: Model>(column: usize, take: usize, filter: Expr<O>) -> Expr<M> {
    Expr::related(Arc::new(Exists::<O> {
        column,
        take,
        filter: filter.pred,
        _m: PhantomData,
    }))
}

impl<C: Model, P: Model> BelongsTo<C, P> {
    /// The rows whose parent matches `filter`: SQLAlchemy's
    /// `Post.author.has(User.username == 'ann')`, an `EXISTS` (never
    /// unknown; false on a null foreign key). The parents are found
    /// first, then the children through the foreign key's index.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64 }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-has-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// let mut s = db.session()?;
    /// let mut ann = User { id: 0, username: "ann".into() };
    /// let mut bob = User { id: 0, username: "bob".into() };
    /// s.add(&mut ann)?;
    /// s.add(&mut bob)?;
    /// s.add(&mut Post { id: 0, author_id: ann.id })?;
    /// let by_ann = s.query::<Post>().filter(Post::author.has(User::username.eq("ann"))).all()?;
    /// assert_eq!(by_ann.len(), 1);
    /// let writers = s.query::<User>().filter(User::posts.any(Post::id.gt(0))).all()?;
    /// assert_eq!(writers, [ann.clone()]);
    /// let silent = s.query::<User>().filter(User::posts.none(Post::id.gt(0))).all()?;
    /// assert_eq!(silent, [bob]);
    /// let pairs = s.query::<Post>().join(Post::author).filter(User::username.eq("ann")).all()?;
    /// assert_eq!(pairs[0].1, ann);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn has(&self, filter: Expr<P>) -> Expr<C> {
        exists(self.fk, P::PRIMARY_KEY, filter)
    }
}

impl<P: Model, C: Model> HasMany<P, C> {
    /// The rows with at least one child matching `filter`: SQLAlchemy's
    /// `Person.addresses.any(Address.email.endswith('.org'))`, an
    /// `EXISTS` (never unknown).
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-any-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # let mut ann = User { id: 0, username: "Ann".into() };
    /// # let mut bob = User { id: 0, username: "bob".into() };
    /// # s.add(&mut ann)?;
    /// # s.add(&mut bob)?;
    /// # for (author_id, title) in [(ann.id, "Hello"), (ann.id, "Again"), (bob.id, "hello there")] {
    /// #     s.add(&mut Post { id: 0, author_id, title: title.into() })?;
    /// # }
    /// let greeters = s.query::<User>().filter(User::posts.any(Post::title.istarts_with("hello"))).all()?;
    /// assert_eq!(greeters.len(), 2);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn any(&self, filter: Expr<C>) -> Expr<P> {
        exists(P::PRIMARY_KEY, self.fk, filter)
    }

    /// The rows with no child matching `filter`: `~Person.addresses.any(...)`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model, TextColumn};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_many(posts = Post, fk = author_id, backref = author))]
    /// # struct User { #[strata(primary_key)] id: i64, #[strata(unique)] username: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Post { #[strata(primary_key)] id: i64, #[strata(foreign_key = User)] author_id: i64, title: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-none-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// # let mut s = db.session()?;
    /// # let mut ann = User { id: 0, username: "Ann".into() };
    /// # let mut bob = User { id: 0, username: "bob".into() };
    /// # s.add(&mut ann)?;
    /// # s.add(&mut bob)?;
    /// # for (author_id, title) in [(ann.id, "Hello"), (ann.id, "Again"), (bob.id, "hello there")] {
    /// #     s.add(&mut Post { id: 0, author_id, title: title.into() })?;
    /// # }
    /// let quiet = s.query::<User>().filter(User::posts.none(Post::title.eq("Again"))).all()?;
    /// assert_eq!(quiet, [bob.clone()]);
    /// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn none(&self, filter: Expr<C>) -> Expr<P> {
        self.any(filter).not()
    }
}

impl<P: Model, C: Model> HasOne<P, C> {
    /// The rows whose child matches `filter`: SQLAlchemy's
    /// `User.profile.has(...)`.
    ///
    /// ```
    /// # use serde::{Deserialize, Serialize};
    /// # use strata::{Database, Model};
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # #[strata(has_one(profile = Profile, fk = user_id, backref = user))]
    /// # struct User { #[strata(primary_key)] id: i64, name: String }
    /// # #[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
    /// # struct Profile { #[strata(primary_key)] id: i64, #[strata(foreign_key = User, unique)] user_id: i64, city: String }
    /// # let dir = std::env::temp_dir().join(format!("strata-doc-hasone-{}-{:?}", std::process::id(), std::thread::current().id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let db = Database::open(dir.join("app.strata"))?;
    /// let mut s = db.session()?;
    /// let mut ann = User { id: 0, name: "ann".into() };
    /// let mut bob = User { id: 0, name: "bob".into() };
    /// s.add(&mut ann)?;
    /// s.add(&mut bob)?;
    /// s.add(&mut Profile { id: 0, user_id: ann.id, city: "Oslo".into() })?;
    /// let in_oslo = s.query::<User>().filter(User::profile.has(Profile::city.eq("Oslo"))).all()?;
    /// assert_eq!(in_oslo, [ann]);
    /// # drop(s);
    /// # drop(db); std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn has(&self, filter: Expr<C>) -> Expr<P> {
        self.many.any(filter)
    }
}

impl<C: Model, P: Model> JoinRelation<C> for BelongsTo<C, P> {
    type Right = P;
    fn link(&self) -> Joined {
        Joined::new(self.fk, P::PRIMARY_KEY)
    }
}

impl<P: Model, C: Model> JoinRelation<P> for HasMany<P, C> {
    type Right = C;
    fn link(&self) -> Joined {
        Joined::new(P::PRIMARY_KEY, self.fk)
    }
}

impl<P: Model, C: Model> JoinRelation<P> for HasOne<P, C> {
    type Right = C;
    fn link(&self) -> Joined {
        self.many.link()
    }
}

// ---- plumbing ----

impl Session {
    /// The primary keys of the rows of `C` whose column `fk` refers to
    /// `parent_key`, in key order (one index scan, or one read of a unique
    /// index).
    pub(crate) fn child_keys<C: Model>(&self, fk: usize, parent_key: &Value) -> Result<Vec<Value>> {
        self.ensure::<C>()?;
        let c = &C::COLUMNS[fk];
        let it = column_index_table(C::TABLE, c);
        let pk = key_of(parent_key);
        if c.unique {
            self.db.counted_get();
            return Ok(match self.get_raw(&it, &pk)? {
                Some(k) => vec![decode_whole_key(&k, C::TABLE)?],
                None => Vec::new(),
            });
        }
        let (lo, hi) = prefix_bounds(&pk);
        self.db.counted_scan();
        let mut keys = Vec::new();
        for kv in self.scan_raw(&it, bound_ref(&lo), bound_ref(&hi), false)? {
            let (k, _) = kv?;
            keys.push(decode_whole_key(&k[pk.len()..], C::TABLE)?);
        }
        Ok(keys)
    }

    /// The key of some row of `table` whose column `c` refers to `key`
    /// (from the stored schema, for tables whose Rust type is not at hand).
    fn first_child(&self, table: &str, c: &StoredColumn, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let it = index_table(table, &c.name);
        if c.unique {
            return self.get_raw(&it, key);
        }
        let (lo, hi) = prefix_bounds(key);
        self.db.counted_scan();
        let mut scan = self.scan_raw(&it, bound_ref(&lo), bound_ref(&hi), false)?;
        Ok(scan
            .next()
            .transpose()?
            .map(|(k, _)| k[key.len()..].to_vec()))
    }

    /// The keys linked to `a` in `table` (an association table or its
    /// reverse), in order (one scan).
    pub(crate) fn linked_keys(&self, table: &str, a: &Value) -> Result<Vec<Value>> {
        let ka = key_of(a);
        let (lo, hi) = prefix_bounds(&ka);
        self.db.counted_scan();
        let mut out = Vec::new();
        for kv in self.scan_raw(table, bound_ref(&lo), bound_ref(&hi), false)? {
            let (k, _) = kv?;
            out.push(decode_whole_key(&k[ka.len()..], table)?);
        }
        Ok(out)
    }

    /// Links `a` to `b` in association table `through` (idempotent).
    pub(crate) fn link_keys(&mut self, through: &str, a: &Value, b: &Value) -> Result<()> {
        self.writable()?;
        let (ka, kb) = (key_of(a), key_of(b));
        self.kv.put(through, &link_key(&ka, &kb), &[])?;
        self.kv
            .put(&reverse_table(through), &link_key(&kb, &ka), &[])?;
        Ok(())
    }

    /// Unlinks `a` from `b`; whether they were linked.
    pub(crate) fn unlink_keys(&mut self, through: &str, a: &Value, b: &Value) -> Result<bool> {
        self.writable()?;
        let (ka, kb) = (key_of(a), key_of(b));
        let was = self.kv.delete(through, &link_key(&ka, &kb))?;
        self.kv
            .delete(&reverse_table(through), &link_key(&kb, &ka))?;
        Ok(was)
    }

    /// Removes every many-to-many link of the row `key` of `M`, in the
    /// associations `M` owns and those it is the target of.
    fn unlink_all<M: Model>(&mut self, key: &[u8]) -> Result<()> {
        for s in &self.schemas() {
            for (through, target) in &s.associations {
                if s.table == M::TABLE {
                    self.unlink_from(key, through, &reverse_table(through))?;
                }
                if target == M::TABLE {
                    self.unlink_from(key, &reverse_table(through), through)?;
                }
            }
        }
        Ok(())
    }

    /// Removes the links of `key` in link table `from` and their
    /// reverses in `to`.
    fn unlink_from(&mut self, key: &[u8], from: &str, to: &str) -> Result<()> {
        let (lo, hi) = prefix_bounds(key);
        self.db.counted_scan();
        let links: Vec<Vec<u8>> = self
            .kv
            .scan(from, bound_ref(&lo), bound_ref(&hi), false)?
            .map(|kv| kv.map(|(k, _)| k))
            .collect::<strata_engine::Result<_>>()?;
        for link in links {
            self.kv.delete(from, &link)?;
            self.kv.delete(to, &link_key(&link[key.len()..], key))?;
        }
        Ok(())
    }

    /// Fails if rows of any table refer to `key` of `M` through a foreign
    /// key that `M` declares no cascade or set-null rule for, naming every
    /// such relationship: those `M` declares, in declaration order, then
    /// the others, by table name and column position.
    fn check_restrict<M: Model>(&self, key: &[u8]) -> Result<()> {
        let mut blocking: Vec<(usize, String, String)> = Vec::new();
        for s in &self.schemas() {
            for c in s
                .columns
                .iter()
                .filter(|c| c.foreign_key.as_deref() == Some(M::TABLE))
            {
                let declared = M::DELETE_RULES
                    .iter()
                    .position(|r| r.child_table == s.table && r.column == c.name);
                if declared.is_some_and(|i| M::DELETE_RULES[i].rule != OnDelete::Restrict) {
                    continue;
                }
                if self.first_child(&s.table, c, key)?.is_some() {
                    let rank = declared.unwrap_or(usize::MAX);
                    blocking.push((rank, s.table.clone(), c.name.clone()));
                }
            }
        }
        // Stable: the undeclared keep the order of the tables' names.
        blocking.sort_by_key(|b| b.0);
        let children: Vec<(String, String)> =
            blocking.into_iter().map(|(_, t, c)| (t, c)).collect();
        match children.first() {
            None => Ok(()),
            Some((child_table, column)) => Err(Error::Restricted {
                model: M::NAME,
                child_table: child_table.clone(),
                column: column.clone(),
                children,
            }),
        }
    }
}

impl ReferentialActions for Session {
    fn apply_delete_rule<C: Model>(
        &mut self,
        fk: usize,
        parent: &Value,
        rule: OnDelete,
    ) -> Result<()> {
        if rule == OnDelete::Restrict {
            return Ok(());
        }
        for key in self.child_keys::<C>(fk, parent)? {
            match rule {
                OnDelete::Cascade => {
                    self.delete_by_value::<C>(&key)?;
                }
                OnDelete::SetNull => {
                    if let Some(mut child) = self.get_by_value::<C>(&key)?
                        && child.set_null(fk)
                    {
                        self.update(&child)?;
                    }
                }
                OnDelete::Restrict => {}
            }
        }
        Ok(())
    }

    fn check_cascade_of<C: Model>(
        &self,
        fk: usize,
        parent: &Value,
        seen: &mut Vec<(&'static str, Value)>,
    ) -> Result<()> {
        for key in self.child_keys::<C>(fk, parent)? {
            if seen.iter().any(|(t, k)| *t == C::TABLE && *k == key) {
                continue;
            }
            seen.push((C::TABLE, key.clone()));
            self.check_restrict::<C>(&key_of(&key))?;
            if let Some(child) = self.get_by_value::<C>(&key)? {
                child.check_cascade(self, seen)?;
            }
        }
        Ok(())
    }
}

// ---- delete ----

impl Session {
    /// Deletes the row with `m`'s key, following the delete rules of its
    /// children (restrict by default); returns whether it existed.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// let again = s.get::<Post>(2)?.expect("post 2");
    /// assert!(s.delete(&again)?);
    /// assert!(!s.delete(&again)?); // already gone
    /// s.commit()?;
    /// assert_eq!(db.read_session()?.query::<Post>().count()?, 2);
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn delete<M: Model>(&mut self, m: &M) -> Result<bool> {
        self.delete_by_value::<M>(&m.key_value())
    }

    /// Deletes the row of `M` with primary key `key` (see
    /// [`Session::delete`]).
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// assert!(s.delete_by_key::<Tag>(2)?); // its links go with it
    /// assert!(!s.delete_by_key::<Tag>(99)?);
    /// s.commit()?;
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn delete_by_key<M: Model>(&mut self, key: impl ToColumn<M::Key>) -> Result<bool> {
        self.delete_by_value::<M>(&key.to_column_value())
    }

    /// Deletes the row of `M` with primary key `key_value`, in the order
    /// the module documentation gives.
    pub(crate) fn delete_by_value<M: Model>(&mut self, key_value: &Value) -> Result<bool> {
        self.writable()?;
        self.ensure_mut::<M>()?;
        let key = key_of(key_value);
        let Some(old) = self.kv.get_for_update(M::TABLE, &key)? else {
            return Ok(false);
        };
        let old: M = decode_model(self.row_layout::<M>().as_deref(), &old)?;
        // Refuse first, before anything changes: children that no rule of
        // ours covers keep the row, and so do restricted rows anywhere down
        // the cascade.
        self.check_restrict::<M>(&key)?;
        old.check_cascade(self, &mut vec![(M::TABLE, key_value.clone())])?;
        old.delete_children(self)?;
        self.unlink_all::<M>(&key)?;
        self.write_indexes(&old, None, &key, true)?;
        self.kv.delete(M::TABLE, &key)?;
        Ok(true)
    }
}

impl<M: Model> QueryMut<'_, M> {
    /// Deletes every matching row (following delete rules); returns how
    /// many.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let mut s = db.session()?;
    /// let n = s.query_mut::<Post>().filter(Post::author_id.eq(1)).delete()?;
    /// assert_eq!(n, 2);
    /// s.commit()?;
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn delete(self) -> Result<u64> {
        let (session, rows) = self.into_rows()?;
        let mut n = 0;
        for m in rows {
            n += u64::from(session.delete(&m)?);
        }
        Ok(n)
    }
}
