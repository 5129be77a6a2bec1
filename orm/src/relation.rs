//! Relationships between models, and the three ways to load them.
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

use crate::error::{Error, Result};
use crate::model::{Column, Model};
use crate::query::Query;
use crate::schema::reverse_table;
use crate::session::{Session, prefix_bounds};
use crate::value::{ColumnType, Value, ValueRef, key_of, key_of_ref};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::ops::Bound;

/// A relationship that can be loaded for many parents at once, for
/// [`Query::all_with`].
pub trait Relation<P> {
    /// What is loaded for one parent.
    type Loaded;
    /// Loads it for each of `parents`, in order, with a bounded number of
    /// scans.
    fn load_all(&self, session: &Session, parents: &[P]) -> Result<Vec<Self::Loaded>>;
}

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

/// Scans `table` once over every key that starts with the encoding of one
/// of `parents`, and returns, per parent, the encoded keys that follow the
/// parent's encoding in those keys (or, for a unique index, the stored
/// values), in the table's order.
fn group_by_prefix(
    s: &Session,
    table: &str,
    parents: &[Value],
    unique: bool,
) -> Result<Vec<Vec<Vec<u8>>>> {
    let enc: Vec<Vec<u8>> = parents.iter().map(key_of).collect();
    let mut slot: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (i, e) in enc.iter().enumerate() {
        slot.entry(&e[..]).or_default().push(i);
    }
    let mut out = vec![Vec::new(); parents.len()];
    let (Some(lo), Some(hi)) = (enc.iter().min(), enc.iter().max()) else {
        return Ok(out);
    };
    let (_, hi) = prefix_bounds(hi);
    let mut bad = false;
    s.db.counted_scan();
    s.kv.scan_with(
        table,
        Bound::Included(lo),
        hi.as_ref().map(|v| &v[..]),
        false,
        &mut |k, v| {
            let Some((_, n)) = crate::value::decode_key(k) else {
                bad = true;
                return false;
            };
            if let Some(owners) = slot.get(&k[..n]) {
                let child = if unique { v } else { &k[n..] };
                for &i in owners {
                    out[i].push(child.to_vec());
                }
            }
            true
        },
    )?;
    if bad {
        return Err(Error::Corrupt {
            table: table.to_string(),
            detail: "an entry's key is not an encoded value".into(),
        });
    }
    Ok(out)
}

/// One parent to many children: the children's foreign key refers to the
/// parent's primary key. `Person::addresses` in the seed.
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
    pub const fn new<T: ColumnType>(fk: Column<C, T>) -> Self {
        HasMany {
            fk: fk.index(),
            _m: PhantomData,
        }
    }

    /// The children of `parent`, in key order (load on access).
    pub fn load(&self, s: &Session, parent: &P) -> Result<Vec<C>> {
        s.db.ensure::<P>()?;
        let keys = s.child_keys::<C>(self.fk, &parent.key_value())?;
        let mut rows = rows_by_key::<C>(s, keys.iter().map(key_of))?;
        Ok(keys
            .iter()
            .filter_map(|k| rows.remove(&key_of(k)))
            .collect())
    }

    /// A query over the children of `parent`, to refine further.
    pub fn query<'s>(&self, s: &'s Session, parent: &P) -> Query<'s, C> {
        s.query::<C>()
            .filter(crate::model::Expr::new(crate::model::Pred::Cmp(
                self.fk,
                crate::model::CmpOp::Eq,
                parent.key_value(),
            )))
    }
}

impl<P: Model, C: Model> Relation<P> for HasMany<P, C> {
    type Loaded = Vec<C>;

    fn load_all(&self, s: &Session, parents: &[P]) -> Result<Vec<Vec<C>>> {
        s.db.ensure::<P>()?;
        s.db.ensure::<C>()?;
        let col = &C::COLUMNS[self.fk];
        let table = col.index_name(C::TABLE);
        let keys: Vec<Value> = parents.iter().map(Model::key_value).collect();
        // A child has one parent: read each where it belongs, uncloned.
        group_by_prefix(s, &table, &keys, col.unique)?
            .into_iter()
            .map(|g| {
                g.iter()
                    .map(|k| {
                        s.row_at::<C>(k)?.ok_or_else(|| Error::Corrupt {
                            table: table.to_string(),
                            detail: "an index entry names a missing row".into(),
                        })
                    })
                    .collect()
            })
            .collect()
    }
}

/// One parent to at most one child (the child's foreign key is unique).
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
    pub const fn new<T: ColumnType>(fk: Column<C, T>) -> Self {
        HasOne {
            many: HasMany::new(fk),
        }
    }

    /// The child of `parent`, if any.
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
    pub const fn new<T: ColumnType>(fk: Column<C, T>) -> Self {
        BelongsTo {
            fk: fk.index(),
            _m: PhantomData,
        }
    }

    /// The parent of `child` (none if its foreign key is null).
    pub fn load(&self, s: &Session, child: &C) -> Result<Option<P>> {
        s.db.ensure::<P>()?;
        match child.value(self.fk) {
            Value::Null => Ok(None),
            k => s.get_by_value::<P>(&k),
        }
    }
}

impl<C: Model, P: Model> Relation<C> for BelongsTo<C, P> {
    type Loaded = Option<P>;

    fn load_all(&self, s: &Session, children: &[C]) -> Result<Vec<Option<P>>> {
        s.db.ensure::<P>()?;
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
    pub const fn owned(through: &'static str) -> Self {
        ManyToMany {
            through,
            owner: true,
            _m: PhantomData,
        }
    }

    /// The association in table `through`, seen from its target `A`
    /// (the backref; used by the derive).
    pub const fn backref(through: &'static str) -> Self {
        ManyToMany {
            through,
            owner: false,
            _m: PhantomData,
        }
    }

    fn ensure(&self, s: &Session) -> Result<()> {
        s.db.ensure::<A>()?;
        s.db.ensure::<B>()
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
    pub fn query<'s>(&self, s: &'s Session, a: &A) -> Result<Query<'s, B>> {
        self.ensure(s)?;
        let keys = s.linked_keys(&self.links_table(), &a.key_value())?;
        Ok(s.query::<B>()
            .filter(crate::model::Expr::new(crate::model::Pred::In(
                B::PRIMARY_KEY,
                keys,
            ))))
    }

    /// Links `a` and `b` (both must exist; linking twice is harmless).
    pub fn link(&self, s: &mut Session, a: &A, b: &B) -> Result<()> {
        self.ensure(s)?;
        for (table, key, name) in [
            (A::TABLE, a.key_value(), A::NAME),
            (B::TABLE, b.key_value(), B::NAME),
        ] {
            if s.kv.get(table, &key_of(&key))?.is_none() {
                return Err(crate::error::Error::NotFound { model: name, key });
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
    pub fn unlink(&self, s: &mut Session, a: &A, b: &B) -> Result<bool> {
        self.ensure(s)?;
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
        let rows = rows_by_key::<B>(s, groups.iter().flatten().cloned())?;
        Ok(groups
            .into_iter()
            .map(|g| g.iter().filter_map(|k| rows.get(k).cloned()).collect())
            .collect())
    }
}
