//! A real etcd cluster for the suites that run the ORM on the etcd
//! backend: `n` members of Debian's `etcd` on free loopback ports, their
//! data in a temporary directory, stopped (SIGKILL, then waited for) when
//! the handle drops.
//!
//! The fault suites kill (SIGKILL), restart, pause (SIGSTOP: the member
//! keeps its sockets but answers nothing, as if partitioned) and resume
//! (SIGCONT) single members.
//!
//! Every member is started with `--max-txn-ops 1024` (what the backend
//! needs by default) and short Raft timers (heartbeat 50 ms, election
//! 500 ms), so that a lost leader is replaced within about a second. If
//! `etcd` is not on the PATH, starting a cluster panics with a message
//! that says how to install it: the etcd suites never skip.

use crate::TempDir;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a cluster may take to become healthy.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running cluster.
pub struct EtcdCluster {
    dir: TempDir,
    members: Vec<Member>,
    initial_cluster: String,
    token: String,
}

struct Member {
    name: String,
    client: u16,
    peer: u16,
    process: Option<Child>,
    paused: bool,
}

/// A port that was free a moment ago on 127.0.0.1, below Linux's
/// ephemeral range (32768 and up): a port the kernel hands out for a bind
/// to port 0 or as an outgoing connection's own port could take a stopped
/// member's port before it restarts. Each process starts at its own place
/// in 20000..32000 and never hands a port out twice.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id() % 600 * 20,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..SPAN {
        let port = (LOW + NEXT.fetch_add(1, Ordering::Relaxed) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {LOW}..{}", LOW + SPAN);
}

impl EtcdCluster {
    /// Starts an `n`-member cluster and waits until every member is
    /// healthy.
    pub fn start(n: usize) -> EtcdCluster {
        if Command::new("etcd").arg("--version").output().is_err() {
            panic!(
                "the etcd suites need Debian's etcd server on the PATH: \
                 apt-get install -y etcd-server (.ci/run does this)"
            );
        }
        let dir = TempDir::new("etcd");
        let members: Vec<Member> = (0..n)
            .map(|i| Member {
                name: format!("m{i}"),
                client: free_port(),
                peer: free_port(),
                process: None,
                paused: false,
            })
            .collect();
        let initial_cluster = members
            .iter()
            .map(|m| format!("{}=http://127.0.0.1:{}", m.name, m.peer))
            .collect::<Vec<_>>()
            .join(",");
        let token = dir
            .path()
            .file_name()
            .map_or("strata".into(), |f| f.to_string_lossy().into_owned());
        let mut c = EtcdCluster {
            dir,
            members,
            initial_cluster,
            token,
        };
        for i in 0..n {
            c.spawn(i);
        }
        for i in 0..n {
            c.wait_healthy(i);
        }
        c
    }

    fn spawn(&mut self, i: usize) {
        let m = &self.members[i];
        let data = self.dir.path().join(&m.name);
        let log = self.dir.path().join(format!("{}.log", m.name));
        let client = format!("http://127.0.0.1:{}", m.client);
        let peer = format!("http://127.0.0.1:{}", m.peer);
        let child = Command::new("etcd")
            .args(["--name", &m.name])
            .arg("--data-dir")
            .arg(&data)
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &self.initial_cluster])
            .args(["--initial-cluster-state", "new"])
            .args(["--initial-cluster-token", &self.token])
            .args(["--max-txn-ops", "1024"])
            .args(["--heartbeat-interval", "50", "--election-timeout", "500"])
            .args(["--logger", "zap", "--log-level", "warn"])
            .arg("--log-outputs")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start etcd");
        self.members[i].process = Some(child);
        self.members[i].paused = false;
    }

    /// The members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the cluster has no members.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// `etcd://` URL of every member, with key prefix `prefix`.
    pub fn url(&self, prefix: &str) -> String {
        let hosts: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.client))
            .collect();
        format!("etcd://{}/{prefix}", hosts.join(","))
    }

    /// Whether member `i` answers its health check (it has a leader).
    pub fn healthy(&self, i: usize) -> bool {
        let get = || -> std::io::Result<String> {
            let mut s = TcpStream::connect(("127.0.0.1", self.members[i].client))?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
            let mut body = String::new();
            s.read_to_string(&mut body)?;
            Ok(body)
        };
        get().is_ok_and(|b| b.contains("\"health\":\"true\""))
    }

    /// Waits until member `i` is healthy.
    pub fn wait_healthy(&mut self, i: usize) {
        let start = Instant::now();
        while !self.healthy(i) {
            if let Some(Ok(Some(status))) = self.members[i].process.as_mut().map(Child::try_wait) {
                panic!("etcd member {i} exited ({status}): see {}", self.log(i));
            }
            assert!(
                start.elapsed() < START_TIMEOUT,
                "etcd member {i} not healthy after {START_TIMEOUT:?}: see {}",
                self.log(i)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self, i: usize) -> String {
        let p = self
            .dir
            .path()
            .join(format!("{}.log", self.members[i].name));
        std::fs::read_to_string(&p).unwrap_or_else(|_| format!("{} (unreadable)", p.display()))
    }

    /// Kills member `i` with SIGKILL and waits for it to exit.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut p) = self.members[i].process.take() {
            let _ = p.kill();
            let _ = p.wait();
        }
    }

    /// Starts member `i` again on its data directory, and waits until it
    /// is healthy (which needs a quorum of the cluster).
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        self.wait_healthy(i);
    }

    /// Starts member `i` again without waiting for it.
    pub fn restart_nowait(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
    }

    fn signal(&self, i: usize, sig: &str) {
        let pid = self.members[i]
            .process
            .as_ref()
            .expect("member is running")
            .id();
        let ok = Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {pid}");
    }

    /// Stops member `i` with SIGSTOP: it keeps its sockets and answers
    /// nothing, like a member cut off by a partition.
    pub fn pause(&mut self, i: usize) {
        self.signal(i, "-STOP");
        self.members[i].paused = true;
    }

    /// Lets a paused member `i` run again (SIGCONT).
    pub fn resume(&mut self, i: usize) {
        self.signal(i, "-CONT");
        self.members[i].paused = false;
    }
}

/// The cluster [`EtcdCluster::shared`] hands out.
static SHARED: std::sync::OnceLock<EtcdCluster> = std::sync::OnceLock::new();

impl EtcdCluster {
    /// One 3-member cluster for every test of this process that does not
    /// hurt it (tests keep apart by key prefix). A static is never
    /// dropped, so a watchdog process kills the members and removes
    /// their directory once this process has exited.
    pub fn shared() -> &'static EtcdCluster {
        SHARED.get_or_init(|| {
            let c = EtcdCluster::start(3);
            let pids: Vec<String> = c
                .members
                .iter()
                .filter_map(|m| m.process.as_ref().map(|p| p.id().to_string()))
                .collect();
            let script = format!(
                "while kill -0 {parent} 2>/dev/null; do sleep 0.2; done; kill -9 {pids} 2>/dev/null; rm -rf '{dir}'",
                parent = std::process::id(),
                pids = pids.join(" "),
                dir = c.dir.path().display(),
            );
            // Never waited for on purpose: it outlives this process,
            // and init reaps it.
            #[allow(clippy::zombie_processes)]
            Command::new("sh")
                .args(["-c", &script])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start the etcd watchdog");
            c
        })
    }
}

impl Drop for EtcdCluster {
    fn drop(&mut self) {
        for i in 0..self.members.len() {
            if self.members[i].paused {
                self.resume(i);
            }
            self.kill(i);
        }
    }
}
