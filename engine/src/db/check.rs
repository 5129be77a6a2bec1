//! The integrity check behind `Database::check`.
//!
//! Walks every tree from the catalog down, reading clean pages from the
//! file itself (not the cache), so that a checksum failure on disk is seen
//! even when a good copy is cached. It verifies, citing the invariants of
//! `tree/btree.rs` and `page/pager.rs`:
//!
//! * every page's checksum and structure (`node::validate`);
//! * key order within and across nodes (btree invariant 1);
//! * equal leaf depth (btree 2), no empty non-root nodes (btree 3);
//! * overflow chains: type, length, and ownership (btree 4);
//! * the catalog entries against the tables in memory;
//! * page accounting (pager table): every page number from 3 to the page
//!   count is reachable exactly once, or free, pending or a free-list page,
//!   exactly once; a page written out early (pager invariant 5) is
//!   reachable, and read back from the file like a clean one.

use crate::error::{Error, Location, Result};
use crate::page::file_header;
use crate::page::meta::Meta;
use crate::page::page_header::{self, FIRST_DATA_PAGE, PageId, PageType};
use crate::page::pager::{NODE, PageRef, Pager, Pages};
use crate::storage::StorageFile;
use crate::store::shared::Store;
use crate::tree::catalog::TableId;
use crate::tree::node::{self, LeafValue};
use crate::tree::overflow;
use std::collections::HashMap;

/// What [`Database::check`](crate::Database::check) counted.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let db = strata_engine::Database::open(dir.path().join("db"))?;
/// db.transaction(|tx| {
///     tx.create_table("t")?;
///     tx.put("t", b"a", b"1")?;
///     tx.put("t", b"b", b"2")
/// })?;
/// let report = db.check()?;
/// assert_eq!((report.tables, report.entries), (1, 2));
/// assert!(report.used_pages + report.free_pages <= report.page_count);
/// # Ok::<(), strata_engine::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckReport {
    /// Number of tables.
    pub tables: usize,
    /// Number of key-value entries across all tables.
    pub entries: u64,
    /// Pages reachable from the catalog (tree and overflow pages).
    pub used_pages: u64,
    /// Pages free now or after the next checkpoint, and free-list pages.
    pub free_pages: u64,
    /// Total pages in the file.
    pub page_count: u64,
}

/// Reads dirty pages from memory and every other page from the file.
struct DiskReader<'a> {
    pager: &'a Pager,
    file: &'a dyn StorageFile,
}

impl Pages for DiskReader<'_> {
    fn page_size(&self) -> usize {
        self.pager.page_size()
    }

    fn chains_moved_since(&self, _: u64) -> bool {
        // The check holds the commit latch and the tree latch throughout.
        false
    }

    fn read(&self, id: PageId, expect: &[PageType]) -> Result<PageRef<'_>> {
        if !(FIRST_DATA_PAGE..self.pager.page_count()).contains(&id) {
            return Err(Error::corrupt_page(id, "reference outside the tree area"));
        }
        let page = match self.pager.dirty_page(id) {
            Some(p) => {
                if matches!(
                    crate::page::page_header::page_type(p),
                    Some(PageType::Leaf | PageType::Branch)
                ) {
                    node::validate(id, p)?;
                }
                PageRef::Borrowed(p)
            }
            None => PageRef::Shared(self.pager.load(self.file, id)?),
        };
        match crate::page::page_header::page_type(&page) {
            Some(ty) if expect.contains(&ty) => Ok(page),
            other => Err(Error::corrupt_page(
                id,
                format!("expected {expect:?}, found {other:?}"),
            )),
        }
    }
}

struct Walk<'a> {
    r: DiskReader<'a>,
    /// How many times each page number was reached.
    reached: Vec<u8>,
    leaf_depth: Option<usize>,
    entries: u64,
}

impl Walk<'_> {
    fn mark(&mut self, id: PageId, what: &str) -> Result<()> {
        let slot = &mut self.reached[id as usize];
        *slot += 1;
        if *slot > 1 {
            return Err(Error::corrupt_page(
                id,
                format!("{what} page reached twice"),
            ));
        }
        Ok(())
    }

    /// Walks the subtree at `id`, whose keys must lie in `[lo, hi)`.
    fn node(
        &mut self,
        id: PageId,
        lo: Option<&[u8]>,
        hi: Option<&[u8]>,
        depth: usize,
    ) -> Result<u64> {
        self.mark(id, "tree")?;
        let p = self.r.read(id, NODE)?;
        let n = node::count(&p);
        if n == 0 {
            return Err(Error::corrupt_page(id, "empty node (btree invariant 3)"));
        }
        let first = node::key(&p, 0);
        let last = node::key(&p, n - 1);
        if lo.is_some_and(|lo| first < lo) || hi.is_some_and(|hi| last >= hi) {
            return Err(Error::corrupt_page(
                id,
                "key outside the bounds set by its parent (btree invariant 1)",
            ));
        }
        if node::is_leaf(&p) {
            match self.leaf_depth {
                None => self.leaf_depth = Some(depth),
                Some(d) if d != depth => {
                    return Err(Error::corrupt_page(
                        id,
                        format!("leaf at depth {depth}, others at {d} (btree invariant 2)"),
                    ));
                }
                Some(_) => {}
            }
            let mut owned = Vec::new();
            for i in 0..n {
                if let LeafValue::Overflow { first, len } = node::value(&p, i) {
                    owned.extend(overflow::chain(&self.r, first, len)?);
                }
            }
            drop(p);
            for oid in owned {
                self.mark(oid, "overflow")?;
            }
            return Ok(n as u64);
        }
        let keys: Vec<Vec<u8>> = (0..n).map(|i| node::key(&p, i).to_vec()).collect();
        let children: Vec<PageId> = (0..=n).map(|i| node::child(&p, i)).collect();
        drop(p);
        let mut total = 0;
        for (i, &c) in children.iter().enumerate() {
            let clo = if i == 0 { lo } else { Some(&keys[i - 1][..]) };
            let chi = if i == n { hi } else { Some(&keys[i][..]) };
            total += self.node(c, clo, chi, depth + 1)?;
        }
        Ok(total)
    }

    fn tree(&mut self, root: PageId) -> Result<u64> {
        self.leaf_depth = None;
        if root == 0 {
            return Ok(0);
        }
        self.node(root, None, None, 0)
    }
}

pub(crate) fn run(store: &Store) -> Result<CheckReport> {
    // No commit or checkpoint changes anything while we look.
    let _latch = store.commit_latch.lock();
    let st = store.tree.read();
    let file = &*store.data;
    let ps = store.page_size;

    // Header and the durable meta, as they are on disk.
    let mut head = vec![0u8; file_header::HEADER_LEN];
    page_header::read_exact(file, &mut head, 0, 0)?;
    if file_header::decode(&head)? != ps {
        return Err(Error::Corruption {
            location: Location::Header,
            detail: "page size changed under an open handle".into(),
        });
    }
    let slot = st.meta.slot();
    let mut mp = vec![0u8; ps];
    page_header::read_exact(file, &mut mp, u64::from(slot) * ps as u64, slot)?;
    if Meta::decode(slot, &mp)? != st.meta {
        return Err(Error::corrupt_page(
            slot,
            "meta page differs from the one loaded",
        ));
    }

    let page_count = st.pager.page_count();
    let mut walk = Walk {
        r: DiskReader {
            pager: &st.pager,
            file,
        },
        reached: vec![0; page_count as usize],
        leaf_depth: None,
        entries: 0,
    };

    // The catalog tree, and its entries against memory.
    walk.tree(st.catalog_root)?;
    let on_disk =
        crate::tree::catalog::Tables::load(&walk.r, st.catalog_root, page_count, u32::MAX)?;
    let mut ids: HashMap<TableId, ()> = HashMap::new();
    for (id, t) in st.tables.iter() {
        ids.insert(id, ());
        if !t.changed {
            let saved = on_disk.get(id);
            if saved.map(|s| (&s.name, s.root)) != Some((&t.name, t.root)) {
                return Err(Error::corrupt_page(
                    st.catalog_root,
                    format!("catalog entry of table {:?} differs from memory", t.name),
                ));
            }
        }
    }
    for (id, t) in on_disk.iter() {
        if !ids.contains_key(&id) {
            return Err(Error::corrupt_page(
                st.catalog_root,
                format!("catalog has table {:?} unknown in memory", t.name),
            ));
        }
    }

    // Every table.
    let roots: Vec<PageId> = st.tables.iter().map(|(_, t)| t.root).collect();
    for root in roots {
        walk.entries += walk.tree(root)?;
    }

    // Page accounting.
    for &id in st.pager.written() {
        if walk.reached.get(id as usize) != Some(&1) || st.pager.dirty_page(id).is_some() {
            return Err(Error::corrupt_page(
                id,
                "written-back page not reachable, or also dirty (pager invariant 5)",
            ));
        }
    }
    let (free, pending, chain) = st.pager.unreachable_sets();
    let used_pages = walk.reached.iter().filter(|&&c| c > 0).count() as u64;
    let mut counts = walk.reached;
    for &id in free.iter().chain(pending).chain(chain) {
        let slot = counts
            .get_mut(id as usize)
            .ok_or_else(|| Error::corrupt_page(id, "free page beyond the page count"))?;
        *slot += 1;
    }
    for (id, &c) in counts.iter().enumerate().skip(FIRST_DATA_PAGE as usize) {
        if c != 1 {
            let what = if c == 0 {
                "neither reachable nor free (leaked)"
            } else {
                "both reachable and free, or free twice"
            };
            return Err(Error::corrupt_page(id as PageId, what));
        }
    }
    Ok(CheckReport {
        tables: st.tables.iter().count(),
        entries: walk.entries,
        used_pages,
        free_pages: (free.len() + pending.len() + chain.len()) as u64,
        page_count: u64::from(page_count),
    })
}
