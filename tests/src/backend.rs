//! The two stores the ORM's suites run on: the embedded file and an etcd
//! cluster. A suite is written once and run on both: either its bodies
//! take a [`Database`] and a macro instantiates them per backend
//! (`tests/tests/backends/`), or the same test files are compiled into
//! a second test binary whose name ends in `_etcd`, and the suite asks
//! [`Backend::of_suite`] with `env!("CARGO_CRATE_NAME")` which backend
//! it was built for (`tests/tests/orm_queries_etcd/`,
//! `tests/tests/model_orm_etcd.rs`).

use crate::TempDir;
use crate::etcd::EtcdCluster;
use strata::Database;

/// Where a suite's databases live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A Strata file in a temporary directory.
    File,
    /// A key prefix on the process's shared 3-member etcd cluster
    /// ([`EtcdCluster::shared`]).
    Etcd,
}

impl Backend {
    /// The backend of the test binary named `crate_name`: etcd when the
    /// name ends in `_etcd`, the file otherwise.
    pub const fn of_suite(crate_name: &str) -> Backend {
        let (name, suffix) = (crate_name.as_bytes(), b"_etcd");
        if name.len() < suffix.len() {
            return Backend::File;
        }
        let mut i = 0;
        while i < suffix.len() {
            if name[name.len() - suffix.len() + i] != suffix[i] {
                return Backend::File;
            }
            i += 1;
        }
        Backend::Etcd
    }

    /// Opens the database that belongs to `dir`: the file `db` in it, or
    /// the prefix named after it on the cluster. Opening it again reopens
    /// the same data.
    pub fn open(self, dir: &TempDir) -> Database {
        match self {
            Backend::File => Database::open_with(
                dir.path().join("db"),
                strata::engine::Options {
                    log_preallocate: 0,
                    ..Default::default()
                },
            )
            .expect("open the database file"),
            Backend::Etcd => {
                let prefix = dir
                    .path()
                    .file_name()
                    .expect("a temporary directory has a name")
                    .to_string_lossy()
                    .into_owned();
                Database::connect(&EtcdCluster::shared().url(&prefix)).expect("connect to etcd")
            }
        }
    }

    /// The cases of a property test: `file` on the file, an eighth of it
    /// (at least 4) on etcd, whose every read is a network round trip;
    /// `STRATA_PROPTEST_CASES` scales both.
    pub fn proptest_cases(self, file: u32) -> u32 {
        let n = crate::proptest_cases(file);
        match self {
            Backend::File => n,
            Backend::Etcd => (n / 8).max(4),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_name_picks_the_backend() {
        assert_eq!(Backend::of_suite("model_orm_etcd"), Backend::Etcd);
        assert_eq!(Backend::of_suite("model_orm"), Backend::File);
        assert_eq!(Backend::of_suite("etcd"), Backend::File);
    }
}
