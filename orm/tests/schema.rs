//! The schema of every model is stored in the file; using a model whose
//! declaration differs gives an error naming the model and the field,
//! unless the difference is automatic (a new `Option` field): that is
//! made at the model's first use, and recorded in the migration history.

use serde::{Deserialize, Serialize};
use strata::{Database, Error, Model};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users")]
struct User {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 80)]
    username: String,
    #[strata(unique, max_len = 120)]
    email: String,
}

/// The same table, with `email` shortened.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users")]
struct UserShorterEmail {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 80)]
    username: String,
    #[strata(unique, max_len = 60)]
    email: String,
}

/// The same table, with a field added.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users")]
struct UserWithAge {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 80)]
    username: String,
    #[strata(unique, max_len = 120)]
    email: String,
    age: Option<i32>,
}

/// The same table, with a type changed.
#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users")]
struct UserWideKey {
    #[strata(primary_key)]
    id: u64,
    #[strata(unique, max_len = 80)]
    username: String,
    #[strata(unique, max_len = 120)]
    email: String,
}

#[test]
fn a_changed_model_is_refused_with_the_field_named() {
    let dir = std::env::temp_dir().join(format!("strata-schema-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("db");
    {
        let db = Database::open(&path).unwrap();
        let mut s = db.session().unwrap();
        s.add(&mut User {
            id: 0,
            username: "ann".into(),
            email: "ann@example.com".into(),
        })
        .unwrap();
        s.commit().unwrap();
    }
    let db = Database::open(&path).unwrap();
    // The same declaration is accepted, the data is there.
    let s = db.read_session().unwrap();
    assert_eq!(s.query::<User>().count().unwrap(), 1);
    let expect = |r: strata::Result<u64>, field: &str| match r {
        Err(Error::SchemaMismatch {
            model,
            field: f,
            detail,
        }) => {
            assert_eq!(f, field, "{model}: {detail}");
            assert!(model.starts_with("User"), "{model}");
            let shown = Error::SchemaMismatch {
                model: model.clone(),
                field: f.clone(),
                detail: detail.clone(),
            }
            .to_string();
            assert!(shown.contains(&model) && shown.contains(field), "{shown}");
        }
        other => panic!("expected a schema mismatch on {field}, got {other:?}"),
    };
    expect(s.query::<UserShorterEmail>().count(), "email");
    expect(s.query::<UserWideKey>().count(), "id");
    // Registering explicitly says the same.
    assert!(matches!(
        db.register::<UserWideKey>(),
        Err(Error::SchemaMismatch { .. })
    ));
    assert!(db.schema_history().unwrap().is_empty());
    // A new Option field is made at the first use, with no code: the
    // stored row reads None, and the history records the change.
    assert_eq!(
        s.query::<UserWithAge>().all().unwrap(),
        vec![UserWithAge {
            id: 1,
            username: "ann".into(),
            email: "ann@example.com".into(),
            age: None,
        }]
    );
    let history = db.schema_history().unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert!(
        history[0].name.contains("UserWithAge") && history[0].name.contains("age"),
        "{history:?}"
    );
    assert_eq!(db.check().unwrap(), 1);
    // The model without the field no longer matches the file.
    expect(s.query::<User>().count(), "age");
    drop(s);
    drop(db);
    std::fs::remove_dir_all(&dir).unwrap();
}
