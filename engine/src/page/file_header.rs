//! The file header: page 0, written once when the database is created.
//!
//! | OFFSET | SIZE | DESCRIPTION |
//! | --- | --- | --- |
//! | 0 | 8 | magic `STRATADB` |
//! | 8 | 4 | format version ([`FORMAT_VERSION`]) |
//! | 12 | 4 | page size in bytes, a power of two in 4096..=32768 |
//! | 16 | 12 | zero |
//! | 28 | 4 | CRC32 of bytes 0..28 |
//! | 32 | .. | zero to the end of the page |
//!
//! The magic is checked first (a foreign file is `NotAStrataFile`), then
//! a newer version (`NewerFormat`, whatever else the header holds), then
//! the checksum, then an older version (`OlderFormat`).
//!
//! Versions: 1 had 2-byte slots in leaf and branch pages (development
//! builds only); 2 has 6-byte slots that carry a key head; 3 gives the
//! database an id, in its meta pages and its log's header, and the meta
//! pages an open flag (`page/meta.rs`). This build writes 3 and reads 2
//! and 3: a version-2 file keeps its header (page 0 is never rewritten),
//! and gets the id and the flag in its meta pages at its first writable
//! open, in bytes version 2 reserved and its readers ignore. A version-1
//! file is refused with `OlderFormat`.

use crate::base::bytes::get_u32;
use crate::error::{Error, Location, Result};
use crate::page::page_header::{MAX_PAGE_SIZE, MIN_PAGE_SIZE};

/// The file's first eight bytes.
pub(crate) const MAGIC: &[u8; 8] = b"STRATADB";
/// The format version this build writes, and the newest it reads.
///
/// ```
/// assert!(strata_engine::OLDEST_FORMAT_VERSION <= strata_engine::FORMAT_VERSION);
/// ```
pub const FORMAT_VERSION: u32 = 3;
/// The oldest format version this build reads.
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// let db = strata_engine::Database::open(dir.path().join("db"))?;
/// // A new database is written in the newest format.
/// assert_eq!(db.info()?.format_version, strata_engine::FORMAT_VERSION);
/// # Ok::<(), strata_engine::Error>(())
/// ```
pub const OLDEST_FORMAT_VERSION: u32 = 2;
/// Bytes of page 0 that carry the header.
pub(crate) const HEADER_LEN: usize = 32;

/// Encodes the header page.
pub(crate) fn encode(page_size: usize) -> Vec<u8> {
    let mut p = vec![0u8; page_size];
    p[0..8].copy_from_slice(MAGIC);
    p[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    p[12..16].copy_from_slice(&(page_size as u32).to_le_bytes());
    let crc = crc32fast::hash(&p[0..28]);
    p[28..32].copy_from_slice(&crc.to_le_bytes());
    p
}

/// Whether `n` is a page size this build can create and read.
pub(crate) fn valid_page_size(n: usize) -> bool {
    n.is_power_of_two() && (MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&n)
}

/// Decodes the header from the file's first bytes (at most
/// [`HEADER_LEN`] are looked at) and returns the page size.
pub(crate) fn decode(b: &[u8]) -> Result<usize> {
    if b.len() < HEADER_LEN || &b[0..8] != MAGIC {
        return Err(Error::NotAStrataFile);
    }
    let version = get_u32(b, 8).unwrap_or(0);
    if version > FORMAT_VERSION {
        return Err(Error::NewerFormat {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let corrupt = |detail: String| Error::Corruption {
        location: Location::Header,
        detail,
    };
    if get_u32(b, 28) != Some(crc32fast::hash(&b[0..28])) {
        return Err(corrupt("header checksum mismatch".into()));
    }
    if version == 0 {
        return Err(corrupt("format version 0".into()));
    }
    if version < OLDEST_FORMAT_VERSION {
        return Err(Error::OlderFormat {
            found: version,
            oldest: OLDEST_FORMAT_VERSION,
        });
    }
    let page_size = get_u32(b, 12).unwrap_or(0) as usize;
    if !valid_page_size(page_size) {
        return Err(corrupt(format!("invalid page size {page_size}")));
    }
    Ok(page_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let p = encode(8192);
        assert_eq!(decode(&p).unwrap(), 8192);
        assert!(matches!(
            decode(b"SQLite format 3\0xxxxxxxxxxxxxxxxxxx"),
            Err(Error::NotAStrataFile)
        ));
        assert!(matches!(decode(&p[..10]), Err(Error::NotAStrataFile)));
        let mut newer = p.clone();
        newer[8] = 4;
        assert!(matches!(
            decode(&newer),
            Err(Error::NewerFormat {
                found: 4,
                supported: 3
            })
        ));
        // Version 2, sealed as its writer would, is still read.
        let mut v2 = p.clone();
        v2[8] = 2;
        let crc = crc32fast::hash(&v2[0..28]);
        v2[28..32].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(decode(&v2).unwrap(), 8192);
        let mut older = p.clone();
        older[8] = 1;
        let crc = crc32fast::hash(&older[0..28]);
        older[28..32].copy_from_slice(&crc.to_le_bytes());
        assert!(matches!(
            decode(&older),
            Err(Error::OlderFormat {
                found: 1,
                oldest: 2
            })
        ));
        let mut flipped = p.clone();
        flipped[13] ^= 0x10;
        assert!(decode(&flipped).unwrap_err().is_corruption());
    }
}
