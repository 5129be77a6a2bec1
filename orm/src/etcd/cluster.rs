//! The connection to the cluster: a tokio runtime the synchronous ORM
//! blocks on, the gRPC client, retries through failover, and etcd's
//! errors as the engine's.
//!
//! RUNTIME. The store owns a multi-threaded tokio runtime with one worker
//! (it drives the sockets); each call blocks its own thread on
//! `Runtime::block_on`, so the ORM's threads wait on the cluster in
//! parallel. A call from a thread that is itself running a tokio runtime
//! would panic inside tokio: it is refused with `Unavailable` naming the
//! cure (`tokio::task::spawn_blocking`).
//!
//! FAILOVER. The client balances over every endpoint given. A call that
//! fails on the way (a member killed, stopped, or without a leader)
//! is tried again, with a fresh client after a pause, until the call's
//! deadline (`timeout_ms`); then it reports `Unavailable`. Every attempt
//! has its own time limit, so a member that stopped answering (SIGSTOP)
//! costs one attempt, not the call.
//!
//! Only idempotent requests are retried here (reads, and the commit
//! fence of `txn.rs`); a commit's own failure is resolved by its commit
//! marker (`txn.rs`, COMMIT).

use super::config::Config;
use etcd_client::{
    Client, ConnectOptions, Error as EtcdError, GetOptions, GetResponse, Txn, TxnResponse,
};
use parking_lot::Mutex;
use std::future::Future;
use std::time::{Duration, Instant};
use strata_engine::{Error, Result};

/// How long one attempt may take before it is given up for another.
const ATTEMPT: Duration = Duration::from_millis(1500);

/// Pause between attempts.
const PAUSE: Duration = Duration::from_millis(50);

/// A client is rebuilt after a failure when it is older than this (a
/// fresh client dials every endpoint again, including restarted ones).
const REBUILD_AFTER: Duration = Duration::from_millis(500);

/// What went wrong with one request.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The cluster refused the request for what it is: it will fail
    /// again the same way (too many operations, too large, ...).
    Refused(Error),
    /// The revision read at was compacted away.
    Compacted,
    /// The lease named in the request is gone.
    LeaseGone,
    /// The request may or may not have reached the cluster (timeout,
    /// connection lost, leader lost).
    Lost(String),
}

pub(crate) struct Cluster {
    pub config: Config,
    runtime: tokio::runtime::Runtime,
    client: Mutex<(Client, Instant)>,
}

impl Cluster {
    /// Connects to the endpoints of `config` (lazily: nothing is sent).
    pub fn connect(config: Config) -> Result<Cluster> {
        refuse_inside_runtime()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("strata-etcd")
            .enable_all()
            .build()?;
        let client = runtime.block_on(new_client(&config))?;
        Ok(Cluster {
            config,
            runtime,
            client: Mutex::new((client, Instant::now())),
        })
    }

    fn client(&self) -> Client {
        self.client.lock().0.clone()
    }

    /// After a lost request: a fresh client, unless the current one is
    /// new.
    fn rebuild(&self) {
        let mut c = self.client.lock();
        if c.1.elapsed() < REBUILD_AFTER {
            return;
        }
        if let Ok(fresh) = self.runtime.block_on(new_client(&self.config)) {
            *c = (fresh, Instant::now());
        }
    }

    /// Runs one attempt of a request, within `ATTEMPT` (or `limit`).
    pub fn once<T, F>(&self, limit: Duration, op: impl FnOnce(Client) -> F) -> Result<T, Failure>
    where
        F: Future<Output = std::result::Result<T, EtcdError>>,
    {
        refuse_inside_runtime().map_err(Failure::Refused)?;
        let fut = op(self.client());
        let r = self
            .runtime
            .block_on(async { tokio::time::timeout(limit.min(ATTEMPT), fut).await });
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(e)),
            Err(_) => Err(Failure::Lost("no answer in time".into())),
        }
    }

    /// Runs an idempotent request until it succeeds, is refused, or the
    /// call's deadline passes.
    pub fn retrying<T, F>(&self, what: &str, mut op: impl FnMut(Client) -> F) -> Result<T, Failure>
    where
        F: Future<Output = std::result::Result<T, EtcdError>>,
    {
        let deadline = Instant::now() + self.config.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.once(left, &mut op) {
                Err(Failure::Lost(why)) => {
                    if Instant::now() + PAUSE >= deadline {
                        return Err(Failure::Lost(format!(
                            "{what}: no answer from the cluster within {:?} ({why})",
                            self.config.timeout
                        )));
                    }
                    std::thread::sleep(PAUSE);
                    self.rebuild();
                }
                other => return other,
            }
        }
    }

    /// Reads `key` (with `options`) at `revision` (0: the newest).
    pub fn get(&self, key: &[u8], options: GetOptions) -> Result<GetResponse> {
        self.retrying("read", |mut c| {
            let options = options.clone();
            async move { c.get(key, Some(options)).await }
        })
        .map_err(Failure::into_error)
    }

    /// Sends `txn` once.
    pub fn txn_once(&self, txn: Txn) -> Result<TxnResponse, Failure> {
        self.once(self.config.timeout, |mut c| async move { c.txn(txn).await })
    }

    /// Sends an idempotent `txn` until it is answered.
    pub fn txn(&self, what: &str, txn: &Txn) -> Result<TxnResponse, Failure> {
        self.retrying(what, |mut c| {
            let txn = txn.clone();
            async move { c.txn(txn).await }
        })
    }

    /// Grants a lease of `ttl` seconds.
    pub fn grant(&self, ttl: i64) -> Result<i64> {
        self.retrying("lease grant", |mut c| async move {
            c.lease_grant(ttl, None).await
        })
        .map(|r| r.id())
        .map_err(Failure::into_error)
    }
}

impl Failure {
    /// The engine's error for a failure of a request that committed
    /// nothing.
    pub fn into_error(self) -> Error {
        match self {
            Failure::Refused(e) => e,
            Failure::Compacted => Error::Conflict,
            Failure::LeaseGone => Error::Unavailable {
                detail: "the commit's lease expired".into(),
            },
            Failure::Lost(detail) => Error::Unavailable { detail },
        }
    }
}

async fn new_client(config: &Config) -> Result<Client> {
    let options = ConnectOptions::new()
        .with_connect_timeout(Duration::from_millis(500))
        .with_keep_alive(Duration::from_secs(1), Duration::from_secs(1));
    Client::connect(&config.endpoints, Some(options))
        .await
        .map_err(|e| Error::Unavailable {
            detail: format!("cannot connect to {:?}: {e}", config.endpoints),
        })
}

fn refuse_inside_runtime() -> Result<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Unavailable {
            detail: "the etcd backend blocks, and this thread runs a tokio runtime; \
                     call the ORM through tokio::task::spawn_blocking"
                .into(),
        });
    }
    Ok(())
}

/// etcd's errors, by what they mean for the request.
fn classify(e: EtcdError) -> Failure {
    let EtcdError::GRpcStatus(status) = &e else {
        return Failure::Lost(e.to_string());
    };
    let msg = status.message();
    let too_large = |what: &str| {
        Failure::Refused(Error::CommitTooLarge {
            detail: format!("{what} ({msg})"),
        })
    };
    if msg.contains("too many operations") {
        too_large("more operations than the cluster's --max-txn-ops")
    } else if msg.contains("request is too large") || msg.contains("message larger than max") {
        too_large("more bytes than the cluster's --max-request-bytes")
    } else if msg.contains("space exceeded") {
        Failure::Refused(Error::Unavailable {
            detail: format!(
                "the cluster's storage quota (--quota-backend-bytes) is used up: {msg}; \
                 compact and defragment it, or raise the quota"
            ),
        })
    } else if msg.contains("compacted") {
        Failure::Compacted
    } else if msg.contains("lease not found") {
        Failure::LeaseGone
    } else if status.code() as i32 == tonic_code::INVALID_ARGUMENT {
        Failure::Refused(Error::InvalidOptions(format!(
            "etcd refused a request: {msg}"
        )))
    } else {
        Failure::Lost(format!("{e}"))
    }
}

/// The one gRPC status code told apart by number (tonic is not a direct
/// dependency).
mod tonic_code {
    pub const INVALID_ARGUMENT: i32 = 3;
}
