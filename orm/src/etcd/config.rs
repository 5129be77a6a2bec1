//! The connection string of the etcd backend:
//!
//! ```text
//! etcd://HOST:PORT[,HOST:PORT...]/PREFIX[?OPTION=VALUE&...]
//! ```
//!
//! The endpoints are the cluster's client addresses (every member, so
//! that the client fails over between them); `PREFIX` is the key prefix
//! under which this application's tables live, so that several
//! applications share one cluster. The options:
//!
//! | option | default | meaning |
//! | --- | --- | --- |
//! | `max_txn_ops` | 1024 | operations one commit may need; the cluster must accept as many (`--max-txn-ops`), checked at connect |
//! | `max_request_bytes` | 1572864 | bytes one commit may send; etcd's `--max-request-bytes` (1.5 MiB by default) |
//! | `timeout_ms` | 5000 | how long a call keeps trying (through leader elections and failover) before it reports `Unavailable` |
//! | `key_block` | 64 | automatic keys a handle reserves from the shared counter at once |

use std::time::Duration;
use strata_engine::{Error, Result};

/// What `etcd://` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    /// `host:port` of each member.
    pub endpoints: Vec<String>,
    /// The application's key prefix (not empty, no NUL byte).
    pub prefix: Vec<u8>,
    /// Operations one commit may need.
    pub max_txn_ops: usize,
    /// Bytes one commit may send.
    pub max_request_bytes: usize,
    /// How long one call keeps trying.
    pub timeout: Duration,
    /// Automatic keys reserved at once.
    pub key_block: i64,
}

/// The operations per transaction the backend asks of the cluster by
/// default: etcd's own default, 128, is too few for an ORM session that
/// adds a few dozen rows with their index entries.
pub(crate) const DEFAULT_MAX_TXN_OPS: usize = 1024;

/// etcd's default `--max-request-bytes`: 1.5 MiB.
pub(crate) const DEFAULT_MAX_REQUEST_BYTES: usize = 1_572_864;

fn invalid(url: &str, why: impl std::fmt::Display) -> Error {
    Error::InvalidOptions(format!("bad etcd URL {url:?}: {why}"))
}

impl Config {
    /// Parses `etcd://...`.
    pub fn parse(url: &str) -> Result<Config> {
        let rest = url
            .strip_prefix("etcd://")
            .ok_or_else(|| invalid(url, "it must start with etcd://"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (hosts, prefix) = rest
            .split_once('/')
            .ok_or_else(|| invalid(url, "no /PREFIX after the endpoints"))?;
        let endpoints: Vec<String> = hosts.split(',').map(str::to_string).collect();
        if endpoints.iter().any(|e| e.is_empty() || !e.contains(':')) {
            return Err(invalid(url, "every endpoint must be HOST:PORT"));
        }
        let prefix = percent_decode(prefix).ok_or_else(|| invalid(url, "bad %-escape"))?;
        if prefix.is_empty() || prefix.contains(&0) {
            return Err(invalid(
                url,
                "the prefix must be non-empty, without NUL bytes",
            ));
        }
        let mut c = Config {
            endpoints,
            prefix,
            max_txn_ops: DEFAULT_MAX_TXN_OPS,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            timeout: Duration::from_secs(5),
            key_block: 64,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let n: u64 = v
                .parse()
                .map_err(|_| invalid(url, format!("{k} needs a number, got {v:?}")))?;
            match k {
                "max_txn_ops" if n >= 8 => c.max_txn_ops = n as usize,
                "max_request_bytes" if n >= 4096 => c.max_request_bytes = n as usize,
                "timeout_ms" if n >= 1 => c.timeout = Duration::from_millis(n),
                "key_block" if (1..=1 << 20).contains(&n) => c.key_block = n as i64,
                "max_txn_ops" | "max_request_bytes" | "timeout_ms" | "key_block" => {
                    return Err(invalid(url, format!("{k}={n} is out of range")));
                }
                _ => return Err(invalid(url, format!("unknown option {k:?}"))),
            }
        }
        Ok(c)
    }
}

/// Decodes `%XX` escapes.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_endpoints_prefix_and_options() {
        let c = Config::parse("etcd://127.0.0.1:2379,127.0.0.1:22379/my%2Fapp?max_txn_ops=256")
            .unwrap();
        assert_eq!(c.endpoints, ["127.0.0.1:2379", "127.0.0.1:22379"]);
        assert_eq!(c.prefix, b"my/app");
        assert_eq!(c.max_txn_ops, 256);
        assert_eq!(c.max_request_bytes, DEFAULT_MAX_REQUEST_BYTES);
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        for bad in [
            "http://127.0.0.1:2379/app",
            "etcd://127.0.0.1:2379",
            "etcd://127.0.0.1:2379/",
            "etcd://127.0.0.1/app",
            "etcd://127.0.0.1:2379/a%00b",
            "etcd://127.0.0.1:2379/app?max_txn_ops=2",
            "etcd://127.0.0.1:2379/app?colour=blue",
        ] {
            assert!(
                matches!(Config::parse(bad), Err(Error::InvalidOptions(_))),
                "{bad}"
            );
        }
    }
}
