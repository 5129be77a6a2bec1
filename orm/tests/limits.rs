//! Limits the ORM checks before it writes anything: keys and indexed
//! values longer than the engine's key limit, and automatic keys that no
//! longer fit their type.

use serde::{Deserialize, Serialize};
use strata::{Database, Error, Model};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Doc {
    #[strata(primary_key)]
    id: i64,
    #[strata(index)]
    title: String,
    #[strata(unique)]
    slug: String,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Small {
    #[strata(primary_key)]
    id: u8,
    name: String,
}

fn open(tag: &str) -> (std::path::PathBuf, Database) {
    let dir = std::env::temp_dir().join(format!("strata-limits-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let opts = strata::engine::Options {
        log_preallocate: 0,
        ..Default::default()
    };
    let db = Database::open_with(dir.join("db"), opts).unwrap();
    (dir, db)
}

#[test]
fn an_indexed_value_too_long_for_a_key_is_refused_before_any_write() {
    let (dir, db) = open("keys");
    let mut s = db.session().unwrap();
    // The index key is the encoded title and the row's key: over 1 KiB.
    let mut d = Doc {
        id: 0,
        title: "t".repeat(1015),
        slug: "a".into(),
    };
    match s.add(&mut d) {
        Err(Error::KeyTooLarge {
            model: "Doc",
            column: "title",
            len,
            max,
        }) => assert!(len > max && max == 1024),
        other => panic!("expected KeyTooLarge, got {other:?}"),
    }
    let mut d = Doc {
        id: 0,
        title: "ok".into(),
        slug: "s".repeat(1030),
    };
    assert!(matches!(
        s.add(&mut d),
        Err(Error::KeyTooLarge { column: "slug", .. })
    ));
    // Nothing was written: the session goes on, and commits a sound database.
    let mut fine = Doc {
        id: 0,
        title: "t".repeat(1000),
        slug: "b".into(),
    };
    s.add(&mut fine).unwrap();
    s.commit().unwrap();
    assert_eq!(db.check().unwrap(), 1);
    drop(db);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn automatic_keys_stop_when_the_type_is_full() {
    let (dir, db) = open("auto");
    let mut s = db.session().unwrap();
    for i in 1..=255u32 {
        let mut m = Small {
            id: 0,
            name: format!("n{i}"),
        };
        s.add(&mut m).unwrap();
        assert_eq!(u32::from(m.id), i);
    }
    let mut m = Small {
        id: 0,
        name: "one too many".into(),
    };
    assert!(matches!(
        s.add(&mut m),
        Err(Error::KeysExhausted { model: "Small" })
    ));
    assert_eq!(m.id, 0, "the row is left as it was");
    s.commit().unwrap();
    assert_eq!(db.check().unwrap(), 255);
    drop(db);
    std::fs::remove_dir_all(dir).unwrap();
}
