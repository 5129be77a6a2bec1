//! smoke
use strata::Database;
use strata_tests::etcd::EtcdCluster;
use strata_tests::models::*;

#[test]
fn smoke() {
    let t = std::time::Instant::now();
    let c = EtcdCluster::shared();
    eprintln!("cluster up in {:?}", t.elapsed());
    let db = Database::connect(&c.url("smoke")).unwrap();
    let t = std::time::Instant::now();
    let mut s = db.session().unwrap();
    let mut u = User {
        id: 0,
        username: "admin".into(),
        email: "a@example.com".into(),
    };
    s.add(&mut u).unwrap();
    s.commit().unwrap();
    let s = db.read_session().unwrap();
    let all = s.query::<User>().all().unwrap();
    eprintln!("{all:?} in {:?}", t.elapsed());
    assert_eq!(all.len(), 1);
}
