//! The ORM workloads of the harness (`src/orm/mod.rs`) on a 3-member
//! etcd cluster on loopback, beside the same workloads on the embedded
//! file, at the `--quick` sizes (`--full` for the harness's own sizes,
//! which take long on etcd: every read is a network round trip).
//!
//! ```sh
//! cargo run --release -p strata-benches --example orm_etcd
//! ```
//!
//! Needs Debian's `etcd` on the PATH (`apt-get install etcd-server`).
//! Prints `key=value` lines, as the harness's children do.

use strata_benches::Out;
use strata_benches::orm::{self, OrmParams, strata_orm::StrataOrm};
use strata_tests::TempDir;
use strata_tests::etcd::EtcdCluster;

fn main() -> strata_benches::Result<()> {
    let quick = !std::env::args().any(|a| a == "--full");
    let params = OrmParams::new(quick);
    let mut out = Out::default();
    out.put("side", "file");
    let dir = TempDir::new("bench-orm-file");
    orm::run(&mut StrataOrm::open(dir.path())?, params, &mut out)?;
    drop(dir);
    let cluster = EtcdCluster::start(3);
    out.put("side", "etcd");
    orm::run(
        &mut StrataOrm::connect(&cluster.url("bench"))?,
        params,
        &mut out,
    )?;
    Ok(())
}
