//! The redo record of one transaction: the logical changes it made, in the
//! order they are applied.
//!
//! A record is a sequence of operations, each starting with a tag byte:
//!
//! | TAG | FIELDS (after the tag) | MEANING |
//! | --- | --- | --- |
//! | 1 | table id u32, name length u16, name (UTF-8) | create the table |
//! | 2 | table id u32, key length u16, value length u32, key, value | put |
//! | 3 | table id u32, key length u16, key | delete |
//!
//! The record travels in log frames (`wal.rs`), which carry the checksum
//! and the transaction's LSN; the record itself has no framing of its own.

use crate::base::bytes::{get_u16, get_u32};
use crate::error::{Error, Result};

const CREATE: u8 = 1;
const PUT: u8 = 2;
const DELETE: u8 = 3;

/// One logical change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op<'a> {
    CreateTable {
        id: u32,
        name: &'a str,
    },
    Put {
        table: u32,
        key: &'a [u8],
        value: &'a [u8],
    },
    Delete {
        table: u32,
        key: &'a [u8],
    },
}

/// Passes the encoding of `op` to `write`, in pieces (keys and values
/// are not copied into a temporary buffer).
pub(crate) fn encode_with(op: &Op<'_>, write: &mut impl FnMut(&[u8])) {
    let mut head = [0u8; 11];
    match *op {
        Op::CreateTable { id, name } => {
            head[0] = CREATE;
            head[1..5].copy_from_slice(&id.to_le_bytes());
            head[5..7].copy_from_slice(&(name.len() as u16).to_le_bytes());
            write(&head[..7]);
            write(name.as_bytes());
        }
        Op::Put { table, key, value } => {
            head[0] = PUT;
            head[1..5].copy_from_slice(&table.to_le_bytes());
            head[5..7].copy_from_slice(&(key.len() as u16).to_le_bytes());
            head[7..11].copy_from_slice(&(value.len() as u32).to_le_bytes());
            write(&head);
            write(key);
            write(value);
        }
        Op::Delete { table, key } => {
            head[0] = DELETE;
            head[1..5].copy_from_slice(&table.to_le_bytes());
            head[5..7].copy_from_slice(&(key.len() as u16).to_le_bytes());
            write(&head[..7]);
            write(key);
        }
    }
}

/// Appends the encoding of `op` to `out`.
#[cfg(test)]
pub(crate) fn encode(out: &mut Vec<u8>, op: &Op<'_>) {
    match *op {
        Op::CreateTable { id, name } => {
            out.push(CREATE);
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
        }
        Op::Put { table, key, value } => {
            out.push(PUT);
            out.extend_from_slice(&table.to_le_bytes());
            out.extend_from_slice(&(key.len() as u16).to_le_bytes());
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(key);
            out.extend_from_slice(value);
        }
        Op::Delete { table, key } => {
            out.push(DELETE);
            out.extend_from_slice(&table.to_le_bytes());
            out.extend_from_slice(&(key.len() as u16).to_le_bytes());
            out.extend_from_slice(key);
        }
    }
}

/// Bytes `op` takes encoded.
pub(crate) fn encoded_len(op: &Op<'_>) -> usize {
    match op {
        Op::CreateTable { name, .. } => 7 + name.len(),
        Op::Put { key, value, .. } => 11 + key.len() + value.len(),
        Op::Delete { key, .. } => 7 + key.len(),
    }
}

/// Decodes a whole record. `offset` names the record's first frame in
/// corruption errors. The frames' checksums passed, so a malformed record
/// means a damaged or forged log, never a torn write.
pub(crate) fn decode(record: &[u8], offset: u64) -> Result<Vec<Op<'_>>> {
    let bad = |what: &str| Error::corrupt_log(offset, format!("malformed redo record: {what}"));
    let take = |at: &mut usize, n: usize| -> Result<&[u8]> {
        let s = record
            .get(*at..at.checked_add(n).ok_or_else(|| bad("length overflow"))?)
            .ok_or_else(|| bad("truncated operation"))?;
        *at += n;
        Ok(s)
    };
    let mut ops = Vec::new();
    let mut at = 0;
    while at < record.len() {
        let tag = record[at];
        at += 1;
        let table = get_u32(take(&mut at, 4)?, 0).ok_or_else(|| bad("table id"))?;
        let key_len = get_u16(take(&mut at, 2)?, 0).ok_or_else(|| bad("length"))? as usize;
        ops.push(match tag {
            CREATE => {
                let name = std::str::from_utf8(take(&mut at, key_len)?)
                    .map_err(|_| bad("table name is not UTF-8"))?;
                Op::CreateTable { id: table, name }
            }
            PUT => {
                let value_len =
                    get_u32(take(&mut at, 4)?, 0).ok_or_else(|| bad("length"))? as usize;
                let key = take(&mut at, key_len)?;
                let value = take(&mut at, value_len)?;
                Op::Put { table, key, value }
            }
            DELETE => Op::Delete {
                table,
                key: take(&mut at, key_len)?,
            },
            t => return Err(bad(&format!("unknown operation tag {t}"))),
        });
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ops = [
            Op::CreateTable {
                id: 3,
                name: "accounts",
            },
            Op::Put {
                table: 3,
                key: b"alice",
                value: b"100",
            },
            Op::Put {
                table: 3,
                key: b"",
                value: b"",
            },
            Op::Delete {
                table: 3,
                key: b"bob",
            },
        ];
        let mut buf = Vec::new();
        for op in &ops {
            encode(&mut buf, op);
        }
        assert_eq!(buf.len(), ops.iter().map(encoded_len).sum::<usize>());
        assert_eq!(decode(&buf, 0).unwrap(), ops);
        // Every strict prefix that cuts an operation is refused.
        for cut in 1..buf.len() {
            let boundary = [15usize, 34, 45].contains(&cut);
            assert_eq!(decode(&buf[..cut], 0).is_ok(), boundary, "cut at {cut}");
        }
    }
}
