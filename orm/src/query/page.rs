//! Pages of a query's rows, as Flask-SQLAlchemy's `paginate()` gives
//! them: the rows of one page, and what a listing's navigation needs (the
//! total, the number of pages, whether there is a next and a previous
//! one). For large tables, [`Query::after`](super::Query::after) pages by
//! key instead of by offset.

use super::Core;
use crate::error::Result;
use crate::layout::decode_model;
use crate::model::Model;
use crate::session::Session;

/// One page of a query's rows, from
/// [`Query::paginate`](super::Query::paginate).
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use strata::{Database, Model};
/// # #[derive(Model, Serialize, Deserialize, Clone)]
/// # struct Post { #[strata(primary_key)] id: i64 }
/// # let dir = std::env::temp_dir().join(format!("strata-doc-page-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let db = Database::open(dir.join("app.strata"))?;
/// let mut s = db.session()?;
/// for _ in 0..25 {
///     s.add(&mut Post { id: 0 })?;
/// }
/// let page = s.query::<Post>().order_by(Post::id.desc()).paginate(2, 10)?;
/// assert_eq!((page.total, page.pages, page.has_prev, page.has_next), (25, 3, true, true));
/// assert_eq!(page.items.first().map(|p| p.id), Some(15));
/// assert_eq!((page.prev_num(), page.next_num()), (Some(1), Some(3)));
/// # drop(s); drop(db); std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), strata::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Page<M> {
    /// The rows of this page, in the query's order.
    pub items: Vec<M>,
    /// This page's number, from 1.
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
    /// Rows matching the query, on every page.
    pub total: u64,
    /// Pages in all: `total` divided by `per_page`, rounded up (0 when
    /// there is no row).
    pub pages: usize,
    /// Whether a later page has rows.
    pub has_next: bool,
    /// Whether this is not the first page.
    pub has_prev: bool,
}

impl<M> Page<M> {
    /// The next page's number, if it has rows.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// let first = s.query::<Post>().paginate(1, 2)?;
    /// assert_eq!(first.next_num(), Some(2));
    /// assert_eq!(s.query::<Post>().paginate(2, 2)?.next_num(), None); // the last page
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn next_num(&self) -> Option<usize> {
        self.has_next.then_some(self.page + 1)
    }

    /// The previous page's number, if this is not the first.
    ///
    /// ```
    /// # mod setup { include!(concat!(env!("CARGO_MANIFEST_DIR"), "/doctest_setup.rs")); } use setup::*;
    /// # let (_dir, db) = blog()?;
    /// let s = db.read_session()?;
    /// assert_eq!(s.query::<Post>().paginate(1, 2)?.prev_num(), None);
    /// assert_eq!(s.query::<Post>().paginate(2, 2)?.prev_num(), Some(1));
    /// # Ok::<(), strata::Error>(())
    /// ```
    pub fn prev_num(&self) -> Option<usize> {
        self.has_prev.then_some(self.page - 1)
    }
}

/// Page `page` (from 1; 0 is taken as 1) of `per_page` rows of `core`'s
/// matches, its own limit and offset aside.
pub(super) fn paginate<M: Model>(
    core: &Core<M>,
    s: &Session,
    page: usize,
    per_page: usize,
) -> Result<Page<M>> {
    let page = page.max(1);
    let mut all = core.clone();
    all.spec.limit = None;
    all.spec.offset = 0;
    // The total: counted by the store when a range answers the filter.
    let total = all.count(s)?;
    let mut items = Vec::new();
    let layout = s.row_layout::<M>();
    if per_page > 0 {
        let mut one = all;
        one.spec.offset = (page - 1).saturating_mul(per_page);
        one.spec.limit = Some(per_page);
        one.visit(s, None, &mut |row| {
            items.push(decode_model::<M>(layout.as_deref(), row)?);
            Ok(true)
        })?;
    }
    let pages = match per_page {
        0 => 0,
        n => usize::try_from(total).unwrap_or(usize::MAX).div_ceil(n),
    };
    Ok(Page {
        items,
        page,
        per_page,
        total,
        pages,
        has_next: page < pages,
        has_prev: page > 1,
    })
}
