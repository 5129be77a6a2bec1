//! The model keyed by a string given by hand: gets, key ranges and their
//! plans.

use crate::cases::{queries, query_table};
use crate::fixture::{Country, codes, fixture};
use strata::{Error, Expr, TextColumn};

#[test]
fn string_key_get() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    for c in &fx.countries {
        assert_eq!(s.get::<Country>(c.code.as_str()).unwrap().as_ref(), Some(c));
    }
    assert_eq!(
        s.get::<Country>(String::from("JP"))
            .unwrap()
            .map(|c| c.name),
        Some("Japan".into())
    );
    assert!(s.get::<Country>("XX").unwrap().is_none());
    assert!(s.get::<Country>("").unwrap().is_none());
    assert!(s.get::<Country>("F").unwrap().is_none());
    assert!(s.get::<Country>("fr").unwrap().is_none());
    drop(s);
    // A key given by hand is not replaced, and may not repeat.
    let mut s = fx.db.session().unwrap();
    let err = s.add(&mut Country {
        code: "FR".into(),
        name: "Again".into(),
        population: 1,
    });
    assert!(
        matches!(
            err,
            Err(Error::DuplicateKey {
                model: "Country",
                ..
            })
        ),
        "{err:?}"
    );
    let mut z = Country {
        code: "ZA".into(),
        name: "South Africa".into(),
        population: 60_000_000,
    };
    s.add(&mut z).unwrap();
    assert_eq!(z.code, "ZA");
    assert_eq!(s.get::<Country>("ZA").unwrap(), Some(z));
}

#[test]
fn string_key_ranges() {
    let fx = fixture();
    let s = fx.db.read_session().unwrap();
    let all = &fx.countries;
    assert_eq!(codes(all), ["DE", "FI", "FR", "IS", "JP", "NZ", "US"]);
    let check = |e: Expr<Country>, f: &dyn Fn(&str) -> bool| {
        let want: Vec<Country> = all.iter().filter(|c| f(&c.code)).cloned().collect();
        let q = s.query::<Country>().filter(e.clone());
        assert_eq!(q.all().unwrap(), want, "{e:?}");
        assert_eq!(q.count().unwrap(), want.len() as u64, "{e:?}");
        let mut back = want.clone();
        back.reverse();
        let q = s
            .query::<Country>()
            .filter(e.clone())
            .order_by(Country::code.desc());
        assert_eq!(q.all().unwrap(), back, "{e:?} backwards");
        codes(&want)
    };
    assert_eq!(check(Country::code.lt("FR"), &|c| c < "FR"), ["DE", "FI"]);
    assert_eq!(
        check(Country::code.ge("FR"), &|c| c >= "FR"),
        ["FR", "IS", "JP", "NZ", "US"]
    );
    assert_eq!(
        check(Country::code.le("FR"), &|c| c <= "FR"),
        ["DE", "FI", "FR"]
    );
    assert_eq!(
        check(Country::code.gt("FR"), &|c| c > "FR"),
        ["IS", "JP", "NZ", "US"]
    );
    // Bounds that fall between keys, and a prefix of a key.
    assert_eq!(check(Country::code.lt("F"), &|c| c < "F"), ["DE"]);
    assert_eq!(
        check(Country::code.gt("F"), &|c| c > "F"),
        ["FI", "FR", "IS", "JP", "NZ", "US"]
    );
    assert_eq!(
        check(Country::code.ge("FI").and(Country::code.lt("J")), &|c| {
            ("FI".."J").contains(&c)
        }),
        ["FI", "FR", "IS"]
    );
    assert_eq!(
        check(Country::code.between("FR", "NZ"), &|c| ("FR"..="NZ")
            .contains(&c)),
        ["FR", "IS", "JP", "NZ"]
    );
    assert_eq!(
        check(Country::code.starts_with("F"), &|c| c.starts_with('F')),
        ["FI", "FR"]
    );
    assert_eq!(check(Country::code.eq("JP"), &|c| c == "JP"), ["JP"]);
    assert_eq!(
        check(Country::code.in_(["US", "DE", "XX"]), &|c| c == "US"
            || c == "DE"),
        ["DE", "US"]
    );
    assert!(check(Country::code.lt("A"), &|_| false).is_empty());
    assert!(check(Country::code.gt("ZZ"), &|_| false).is_empty());
    // A key range with a filter on another column.
    assert_eq!(
        check(
            Country::code
                .ge("FR")
                .and(Country::population.lt(100_000_000)),
            &|c| {
                c >= "FR"
                    && all
                        .iter()
                        .any(|x| x.code == c && x.population < 100_000_000)
            }
        ),
        ["FR", "IS", "NZ"]
    );
    // Limit stops the key range in order.
    let got = s
        .query::<Country>()
        .filter(Country::code.ge("FI"))
        .order_by(Country::code.desc())
        .limit(2)
        .all()
        .unwrap();
    assert_eq!(codes(&got), ["US", "NZ"]);
}

#[test]
#[rustfmt::skip]
fn string_key_plans() {
    query_table::<Country>(queries![
        |q| q.filter(Country::code.eq("DE"))              => "get by primary key"                => "DE";
        |q| q.filter(Country::code.lt("FR"))              => "scan primary key range"            => "DE FI";
        |q| q.filter(Country::code.ge("FR")).order_by(Country::code.desc())
                                                          => "scan primary key range backwards"  => "US NZ JP IS FR";
        |q| q.filter(Country::code.starts_with("F"))      => "scan primary key range …, no sort" => "FI FR";
        |q| q.filter(Country::population.gt(100_000_000)) => "scan index on population"          => "(JP US)";
    ]);
}
