//! Every column type beyond the integers, floats, text and bytes, through
//! the whole ORM: `f32`, `i128`, `u128`, chrono's `DateTime<Utc>`,
//! `NaiveDateTime` and `NaiveDate`, `uuid::Uuid`, `rust_decimal::Decimal`,
//! `serde_json::Value`, unit enums by name and by number, a newtype, a type
//! alias, a user's `ColumnValue`; defaults and timestamps. Each indexable
//! type is indexed, and filtered, ordered and grouped on; the integrity
//! check rebuilds every index from the rows (decoding them by the stored
//! schema alone); a reopened file reads the same rows.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use strata::{Column, ColumnKind, ColumnValue, Database, Error, Model, Value, ValueRef, count};
use strata_tests::TempDir;
use uuid::Uuid;

#[derive(Column, Clone, Copy, Debug, PartialEq)]
enum Status {
    Draft,
    Published,
    Archived,
}

#[derive(Column, Clone, Copy, Debug, PartialEq, Default)]
#[strata(by_number)]
enum Priority {
    #[default]
    Low = 1,
    High = 10,
    Urgent = 100,
}

#[derive(Column, Clone, Copy, Debug, PartialEq, Default)]
struct UserId(i64);

type Score = i32;

/// A user's own type: a temperature stored as hundredths of a degree.
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
struct Celsius(i64);

impl ColumnValue for Celsius {
    const KIND: ColumnKind = ColumnKind::Int;
    const TYPE_NAME: &'static str = "Celsius";
    const STORAGE: &'static str = "i64";
    const INDEXABLE: bool = true;
    fn value_ref(&self) -> ValueRef<'_> {
        ValueRef::Int(self.0)
    }
    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(Celsius(i)),
            _ => None,
        }
    }
}

fn default_tags() -> Option<String> {
    Some("new".into())
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "things")]
struct Thing {
    #[strata(primary_key)]
    id: UserId,
    #[strata(index)]
    ratio: f32,
    #[strata(index)]
    big: i128,
    #[strata(unique)]
    huge: Option<u128>,
    #[strata(index)]
    at: DateTime<Utc>,
    #[strata(index)]
    local: Option<NaiveDateTime>,
    #[strata(index)]
    day: NaiveDate,
    #[strata(unique)]
    uid: Uuid,
    #[strata(index)]
    amount: Decimal,
    #[serde(with = "strata::json")]
    meta: Option<serde_json::Value>,
    #[strata(index, default = Status::Draft)]
    status: Status,
    #[strata(index)]
    priority: Priority,
    #[strata(default = 50)]
    score: Score,
    #[strata(index)]
    temp: Celsius,
    #[strata(default_fn = default_tags)]
    tags: Option<String>,
    #[strata(created_at)]
    created: DateTime<Utc>,
    #[strata(updated_at)]
    updated: NaiveDateTime,
}

fn dt(s: &str) -> DateTime<Utc> {
    NaiveDateTime::from_str(s.trim_end_matches('Z'))
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .and_utc()
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::from_str(s).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Values at the edges of each encoding: negatives, fractions of a
/// second of each length, years outside 0..=9999, decimals of several
/// scales (1.5 and 1.50 are one value), nulls.
/// ratio, big, huge, at, local, day, amount, meta, status, priority, temp.
type Row = (
    f32,
    i128,
    Option<u128>,
    &'static str,
    Option<&'static str>,
    &'static str,
    &'static str,
    Option<serde_json::Value>,
    Status,
    Priority,
    i64,
);

fn things() -> Vec<Thing> {
    let rows: Vec<Row> = vec![
        (
            0.5,
            -170141183460469231731687303715884105728,
            Some(u128::MAX),
            "2024-02-29T12:00:00Z",
            Some("2024-02-29T12:00:00.5"),
            "2024-02-29",
            "-12.50",
            Some(serde_json::json!({"a": [1, 2]})),
            Status::Published,
            Priority::High,
            -500,
        ),
        (
            -1.25,
            0,
            None,
            "1969-12-31T23:59:59.999999999Z",
            None,
            "1969-12-31",
            "0",
            None,
            Status::Draft,
            Priority::Low,
            0,
        ),
        (
            3.0,
            42,
            Some(7),
            "2000-01-01T00:00:00.123Z",
            Some("1999-12-31T23:59:59.123456"),
            "+12345-06-07",
            "1.5",
            Some(serde_json::json!("text")),
            Status::Archived,
            Priority::Urgent,
            2150,
        ),
        (
            f32::MAX,
            170141183460469231731687303715884105727,
            Some(0),
            "-0044-03-15T10:00:00Z",
            Some("0001-01-01T00:00:00"),
            "-0044-03-15",
            "1.50001",
            Some(serde_json::Value::Null),
            Status::Published,
            Priority::Low,
            2150,
        ),
        (
            0.0,
            -1,
            None,
            "2262-04-11T23:47:16.854775807Z",
            None,
            "2024-03-01",
            "99999999999999999999.99999999",
            Some(serde_json::json!(3.5)),
            Status::Draft,
            Priority::High,
            -1,
        ),
    ];
    rows.into_iter()
        .enumerate()
        .map(
            |(i, (ratio, big, huge, at, local, day, amount, meta, status, priority, temp))| Thing {
                id: UserId(0),
                ratio,
                big,
                huge,
                at: dt(at),
                local: local.map(|l| NaiveDateTime::from_str(l).unwrap()),
                day: date(day),
                uid: Uuid::from_u128(
                    0x1234_5678_9abc_def0_0000_0000_0000_0000 + i as u128 * 0x1_0000_0000,
                ),
                amount: dec(amount),
                meta,
                status,
                priority,
                score: 10 * i as i32,
                temp: Celsius(temp),
                tags: None,
                created: DateTime::<Utc>::default(),
                updated: NaiveDateTime::default(),
            },
        )
        .collect()
}

fn open(dir: &TempDir) -> Database {
    let opts = strata::engine::Options {
        log_preallocate: 0,
        ..Default::default()
    };
    Database::open_with(dir.path().join("db"), opts).unwrap()
}

fn ids(rows: &[Thing]) -> Vec<i64> {
    rows.iter().map(|t| t.id.0).collect()
}

#[test]
fn every_type_round_trips_filters_orders_and_checks() {
    let dir = TempDir::new("orm-types");
    let db = open(&dir);
    let before = std::time::SystemTime::now();
    let mut s = db.session().unwrap();
    let mut added = things();
    for t in &mut added {
        s.add(t).unwrap();
    }
    s.commit().unwrap();
    // Keys were assigned to the newtype key; timestamps were set.
    assert_eq!(ids(&added), [1, 2, 3, 4, 5]);
    let after: DateTime<Utc> = std::time::SystemTime::now().into();
    let before: DateTime<Utc> = before.into();
    for t in &added {
        assert!(before <= t.created && t.created <= after, "{:?}", t.created);
        assert_eq!(t.updated, t.created.naive_utc());
    }
    assert_eq!(
        db.check().unwrap(),
        5,
        "every index rebuilt from the stored rows"
    );

    let s = db.read_session().unwrap();
    assert_eq!(s.query::<Thing>().order_by(Thing::id).all().unwrap(), added);
    let q = |e| {
        ids(&s
            .query::<Thing>()
            .filter(e)
            .order_by(Thing::id)
            .all()
            .unwrap())
    };
    assert_eq!(q(Thing::ratio.gt(0.25f32)), [1, 3, 4]);
    assert_eq!(q(Thing::big.lt(0i128)), [1, 5]);
    assert_eq!(q(Thing::huge.ge(7u128)), [1, 3]);
    assert_eq!(q(Thing::huge.eq(None::<u128>)), [2, 5]);
    assert_eq!(q(Thing::at.lt(dt("1970-01-01T00:00:00Z"))), [2, 4]);
    assert_eq!(q(Thing::at.eq(dt("2000-01-01T00:00:00.123Z"))), [3]);
    assert_eq!(
        q(Thing::local.gt(NaiveDateTime::from_str("1999-12-31T23:59:59.123").unwrap())),
        [1, 3]
    );
    assert_eq!(
        q(Thing::day.between(date("-0044-03-15"), date("2024-02-29"))),
        [1, 2, 4]
    );
    assert_eq!(q(Thing::uid.eq(added[2].uid)), [3]);
    assert_eq!(q(Thing::amount.eq(dec("1.500"))), [3], "1.5 = 1.500");
    assert_eq!(q(Thing::amount.gt(dec("1.5"))), [4, 5]);
    assert_eq!(q(Thing::amount.lt(dec("0"))), [1]);
    assert_eq!(q(Thing::status.eq(Status::Published)), [1, 4]);
    assert_eq!(q(Thing::priority.ge(Priority::High)), [1, 3, 5]);
    assert_eq!(q(Thing::score.eq(20)), [3]);
    assert_eq!(q(Thing::temp.eq(Celsius(2150))), [3, 4]);
    assert_eq!(q(Thing::meta.is_null()), [2]);
    assert_eq!(
        q(Thing::meta.eq(Some(serde_json::json!({"a": [1, 2]})))),
        [1]
    );
    // The index paths answer the same as the filters read.
    assert_eq!(
        s.query::<Thing>()
            .filter(Thing::amount.gt(dec("1.5")))
            .explain()
            .to_string(),
        "scan index on amount"
    );
    assert_eq!(
        s.query::<Thing>()
            .filter(Thing::uid.eq(added[2].uid))
            .explain()
            .to_string(),
        "look up index on uid"
    );
    // Orderings by each indexed type: the index order is the value order.
    let by = |o: strata::Order<Thing>| ids(&s.query::<Thing>().order_by(o).all().unwrap());
    assert_eq!(by(Thing::ratio.asc()), [2, 5, 1, 3, 4]);
    assert_eq!(by(Thing::big.asc()), [1, 5, 2, 3, 4]);
    assert_eq!(by(Thing::at.asc()), [4, 2, 3, 1, 5]);
    assert_eq!(by(Thing::local.asc()), [2, 5, 4, 3, 1], "nulls first");
    assert_eq!(by(Thing::day.desc()), [3, 5, 1, 2, 4]);
    assert_eq!(by(Thing::amount.asc()), [1, 2, 3, 4, 5]);
    // Ties come in the index's order: by key, reversed when scanning back.
    assert_eq!(
        by(Thing::status.asc()),
        [3, 2, 5, 1, 4],
        "by name: Archived, Draft, Published"
    );
    assert_eq!(by(Thing::priority.desc()), [3, 5, 1, 4, 2], "by number");
    assert_eq!(by(Thing::temp.asc()), [1, 5, 2, 3, 4]);
    // Grouped by an enum and a decimal sum-free aggregate.
    let per_status = s
        .query::<Thing>()
        .group_by(Thing::status)
        .aggregate((Thing::status, count(), Thing::amount.max(), Thing::at.min()))
        .unwrap();
    assert_eq!(
        per_status,
        [
            (
                Status::Archived,
                1,
                Some(dec("1.5")),
                Some(dt("2000-01-01T00:00:00.123Z"))
            ),
            (
                Status::Draft,
                2,
                Some(dec("99999999999999999999.99999999")),
                Some(dt("1969-12-31T23:59:59.999999999Z"))
            ),
            (
                Status::Published,
                2,
                Some(dec("1.50001")),
                Some(dt("-0044-03-15T10:00:00Z"))
            ),
        ]
    );
    // Display shows values of the types it does not know as values.
    assert!(added[0].to_string().contains("status=\"Published\""));
    drop(s);

    // Unique values of the new types are enforced.
    let mut s = db.session().unwrap();
    let mut dup = things().remove(0);
    dup.huge = Some(123);
    assert!(matches!(
        s.add(&mut dup),
        Err(Error::UniqueViolation { column: "uid", .. })
    ));
    // updated_at moves on update; created_at stays.
    std::thread::sleep(std::time::Duration::from_millis(2));
    let mut t = added[1].clone();
    t.status = Status::Archived;
    s.update(&t).unwrap();
    let stored = s.get::<Thing>(UserId(2)).unwrap().unwrap();
    assert_eq!(stored.created, added[1].created);
    assert!(stored.updated > added[1].updated);
    assert_eq!(stored.status, Status::Archived);
    s.commit().unwrap();
    assert_eq!(db.check().unwrap(), 5);

    // A reopened file reads the same rows, by the stored schema.
    drop(db);
    let db = open(&dir);
    let s = db.read_session().unwrap();
    let all = s.query::<Thing>().order_by(Thing::id).all().unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[2], added[2]);
    drop(s);
    assert_eq!(db.check().unwrap(), 5);
}

#[test]
fn defaults_fill_the_model_default() {
    let t = Thing {
        id: UserId(0),
        ratio: 0.0,
        big: 0,
        huge: None,
        at: DateTime::<Utc>::default(),
        local: None,
        day: NaiveDate::default(),
        uid: Uuid::nil(),
        amount: Decimal::ZERO,
        meta: None,
        ..Default::default()
    };
    assert_eq!(
        (t.status, t.score, t.tags.as_deref()),
        (Status::Draft, 50, Some("new"))
    );
    // The stored schema records each default.
    let c = &Thing::COLUMNS[Thing::score.index()];
    assert_eq!(c.default.map(|d| d.value()), Some(Value::Int(50)));
    let c = &Thing::COLUMNS[Thing::status.index()];
    assert_eq!(
        c.default.map(|d| d.value()),
        Some(Value::Text("Draft".into()))
    );
    assert_eq!(
        Thing::COLUMNS[Thing::created.index()].stamp,
        Some(strata::Stamp::Created)
    );
}

#[test]
fn column_enums_and_newtypes_serialize_by_their_storage() {
    // By name, by number, and as what a newtype wraps, whatever the format.
    assert_eq!(
        serde_json::to_string(&Status::Published).unwrap(),
        "\"Published\""
    );
    assert_eq!(serde_json::to_string(&Priority::Urgent).unwrap(), "100");
    assert_eq!(serde_json::to_string(&UserId(7)).unwrap(), "7");
    assert_eq!(
        serde_json::from_str::<Priority>("10").unwrap(),
        Priority::High
    );
    assert!(serde_json::from_str::<Status>("\"Gone\"").is_err());
    assert_eq!(
        <Status as ColumnValue>::from_value(Value::Text("Draft".into())),
        Some(Status::Draft)
    );
    assert_eq!(<Priority as ColumnValue>::from_value(Value::Int(3)), None);
}
