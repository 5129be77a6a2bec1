//! Recovery: what the files say when a database is opened.
//!
//! 1. The file header gives the page size; both meta pages are read and
//!    the valid one with the higher sequence number is the durable meta
//!    page ([`durable_meta`]).
//! 2. If the other meta page is damaged, recovery falls back to the valid
//!    one only when the log and the file's length show that the damaged
//!    one was not a newer, durable checkpoint (`log/wal.rs`, FALLING
//!    BACK); otherwise opening fails with `Corruption` naming it. The
//!    file's length is looked at first ([`durable_meta`]); the log, once
//!    opening has found it to be the database's own ([`check_fallback`],
//!    after `log_file.rs`).
//! 3. The log is replayed from the durable meta page's checkpoint LSN,
//!    with its salt, through `TreeState::apply`, the code every commit
//!    runs ([`replay`]): into memory only. Recovery writes nothing; the
//!    forced checkpoint that follows a writable open makes what it found
//!    durable (`open.rs`).

use crate::base::bytes;
use crate::error::{Error, Location, Result};
use crate::log::wal::{self, DamagedMeta, LOG_HEADER};
use crate::page::file_header;
use crate::page::meta::Meta;
use crate::page::page_header::{self, META_PAGES, PageId};
use crate::storage::StorageFile;

/// What the data file says, before any page of its tree is read.
pub(crate) struct Durable {
    pub page_size: usize,
    /// The durable meta page: the valid one with the higher sequence
    /// number.
    pub meta: Meta,
    /// What the other meta page claims, if it is damaged: recovery falls
    /// back from it to `meta` only if the log agrees ([`check_fallback`]).
    pub damaged: Option<DamagedMeta>,
}

/// The page size and the durable meta page of the data file `data`:
/// step 1 above, and the part of step 2 that the file's length decides.
/// Runs before any page the meta page references is read.
pub(crate) fn durable_meta(data: &dyn StorageFile) -> Result<Durable> {
    let file_len = data.len()?;
    let mut head = vec![0u8; file_header::HEADER_LEN.min(file_len as usize)];
    data.read_at(&mut head, 0)?;
    let page_size = file_header::decode(&head)?;
    let (meta, damaged) = read_meta(data, page_size)?;
    if let Some(damaged) = damaged {
        check_file_length(file_len, page_size, &meta, damaged)?;
    }
    Ok(Durable {
        page_size,
        meta,
        damaged,
    })
}

/// Reads both meta pages and returns the newest valid one, and what the
/// other one claims if it is damaged (for `wal::recover`, which decides
/// whether falling back to the valid one is safe). A meta page that counts
/// more pages than the file holds is not valid: every page up to its page
/// count was written and synced before it (a checkpoint gives back a free
/// tail of the file before it writes the meta page).
fn read_meta(file: &dyn StorageFile, page_size: usize) -> Result<(Meta, Option<DamagedMeta>)> {
    let mut best: Option<Meta> = None;
    // Why each invalid meta page is invalid, and whether it only counts
    // more pages than the file holds (its checksum held).
    let mut failures: Vec<(PageId, String, bool)> = Vec::new();
    let mut damaged: Option<(PageId, Vec<u8>)> = None;
    let file_len = file.len()?;
    for id in META_PAGES {
        let mut buf = vec![0u8; page_size];
        let got = page_header::read_exact(file, &mut buf, u64::from(id) * page_size as u64, id)
            .and_then(|()| Meta::decode(id, &buf));
        let got = match got {
            Ok(m) if u64::from(m.page_count) * page_size as u64 > file_len => Err((
                format!(
                    "meta page {id} counts {} pages, more than the file holds",
                    m.page_count
                ),
                true,
            )),
            Ok(m) => Ok(m),
            Err(e @ Error::Io(_)) => return Err(e),
            Err(Error::Corruption { detail, .. }) => Err((detail, false)),
            Err(e) => Err((e.to_string(), false)),
        };
        match got {
            Ok(m) if best.is_none_or(|b| m.sequence > b.sequence) => best = Some(m),
            Ok(_) => {}
            Err((detail, beyond)) => {
                failures.push((id, detail, beyond));
                damaged = Some((id, buf));
            }
        }
    }
    // With neither valid, the one whose bytes are damaged is named: the
    // other may only be the older one, left behind by a checkpoint that
    // cut the file.
    let best = best.ok_or_else(
        || match failures.iter().find(|f| !f.2).or(failures.first()) {
            Some((id, detail, _)) => Error::Corruption {
                location: Location::Page(*id),
                detail: format!("no valid meta page ({detail})"),
            },
            None => Error::corrupt_page(META_PAGES[0], "no valid meta page"),
        },
    )?;
    let damaged = damaged.map(|(page, buf)| DamagedMeta {
        page,
        claims_newer: bytes::get_u64(&buf, 8) == best.sequence.checked_add(1),
        salt: bytes::get_u64(&buf, 56).unwrap_or(0),
    });
    Ok((best, damaged))
}

/// The other meta page is damaged, so recovery would start from `meta`,
/// which may be older than it: refuses if a newer checkpoint cut the file
/// below `meta`'s tree (`log/wal.rs`, FALLING BACK).
fn check_file_length(
    file_len: u64,
    page_size: usize,
    meta: &Meta,
    damaged: DamagedMeta,
) -> Result<()> {
    if u64::from(meta.page_count) * page_size as u64 > file_len {
        return Err(Error::corrupt_page(
            damaged.page,
            format!(
                "meta page {} is damaged, and the data file is shorter than the other meta \
                 page's {} pages: a newer checkpoint cut the file, so the other meta page \
                 cannot be used",
                damaged.page, meta.page_count
            ),
        ));
    }
    Ok(())
}

/// The other meta page is damaged, so recovery would start from `meta`,
/// which may be older than it: refuses if the database's own log `log`
/// shows that a newer checkpoint started it over, which would lose what
/// that checkpoint made durable (`log/wal.rs`, FALLING BACK). Runs before
/// any page `meta` references is read.
pub(crate) fn check_fallback(
    log: &dyn StorageFile,
    meta: &Meta,
    damaged: DamagedMeta,
) -> Result<()> {
    let log = wal::read_all(log)?;
    wal::check_generation(&log, meta.checkpoint_lsn, meta.log_salt, Some(damaged))
}

/// Replays the log `log_file` from the checkpoint of `meta`, with its
/// salt, calling `apply(lsn, record, offset)` for each complete transaction in
/// LSN order (step 3 above). A log shorter than its header holds nothing.
pub(crate) fn replay(
    log_file: &dyn StorageFile,
    meta: &Meta,
    mut apply: impl FnMut(u64, &[u8], u64) -> Result<()>,
) -> Result<wal::Recovered> {
    if log_file.len()? < LOG_HEADER {
        return Ok(wal::Recovered {
            last_lsn: meta.checkpoint_lsn,
            end: LOG_HEADER,
            leftovers: false,
        });
    }
    wal::recover(
        log_file,
        meta.checkpoint_lsn,
        meta.log_salt,
        |lsn, record, offset| apply(lsn, record, offset),
    )
}
