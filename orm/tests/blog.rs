//! A Flask-tutorial blog (users, posts, comments, profiles) through the
//! queries its views need: case-insensitive search, distinct values,
//! aggregates with group by and having, relationship tests (`has`, `any`,
//! `none`), joins, pagination by page and by key, and bulk updates and
//! deletes by query. Each answer is pinned.

use serde::{Deserialize, Serialize};
use strata::{Database, Error, Model, TextColumn, count};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "users", display = "username")]
#[strata(has_many(posts = Post, fk = author_id, backref = author))]
#[strata(has_many(comments = Comment, fk = author_id, backref = author))]
#[strata(has_one(profile = Profile, fk = user_id, backref = user, on_delete = cascade))]
struct User {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, max_len = 40)]
    username: String,
    email: String,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "posts", display = "title")]
#[strata(has_many(comments = Comment, fk = post_id, backref = post, on_delete = cascade))]
struct Post {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = User)]
    author_id: i64,
    #[strata(index)]
    title: String,
    #[strata(index)]
    topic: Option<String>,
    score: i64,
    rating: f64,
    published: bool,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "comments")]
struct Comment {
    #[strata(primary_key)]
    id: i64,
    #[strata(foreign_key = Post)]
    post_id: i64,
    #[strata(foreign_key = User)]
    author_id: Option<i64>,
    body: String,
}

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[strata(table = "profiles")]
struct Profile {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, foreign_key = User)]
    user_id: i64,
    bio: String,
}

struct Blog {
    dir: std::path::PathBuf,
    db: Option<Database>,
}

impl Blog {
    fn db(&self) -> &Database {
        self.db.as_ref().unwrap()
    }
}

impl Drop for Blog {
    fn drop(&mut self) {
        self.db = None;
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Users 1 ann, 2 Bob, 3 cy (no posts); posts 1..=6; comments; profiles
/// of ann and cy.
fn blog(tag: &str) -> Blog {
    let dir = std::env::temp_dir().join(format!("strata-blog-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let opts = strata::engine::Options {
        log_preallocate: 0,
        ..Default::default()
    };
    let db = Database::open_with(dir.join("db"), opts).unwrap();
    let mut s = db.session().unwrap();
    for (name, email) in [
        ("ann", "ann@Example.org"),
        ("Bob", "bob@mail.COM"),
        ("cy", "cy@example.ORG"),
    ] {
        s.add(&mut User {
            id: 0,
            username: name.into(),
            email: email.into(),
        })
        .unwrap();
    }
    #[rustfmt::skip]
    let posts = [
        // author title                  topic          score rating published
        (1, "Hello World",               Some("intro"), 10,   4.5,   true),
        (1, "Rust ownership",            Some("rust"),  25,   5.0,   true),
        (2, "HELLO again",               Some("intro"), 5,    2.5,   false),
        (1, "100% done_ok",              None,          7,    3.0,   true),
        (2, "rusty nails",               Some("diy"),   3,    1.0,   true),
        (1, "Ownership, again",          Some("rust"),  12,   4.0,   false),
    ];
    for (author_id, title, topic, score, rating, published) in posts {
        s.add(&mut Post {
            id: 0,
            author_id,
            title: title.into(),
            topic: topic.map(Into::into),
            score,
            rating,
            published,
        })
        .unwrap();
    }
    for (post_id, author_id, body) in [
        (1, Some(2), "nice"),
        (1, Some(3), "welcome"),
        (2, Some(2), "great"),
        (3, None, "anonymous"),
        (5, Some(1), "ha"),
    ] {
        s.add(&mut Comment {
            id: 0,
            post_id,
            author_id,
            body: body.into(),
        })
        .unwrap();
    }
    for (user_id, bio) in [(1, "Writes about Rust"), (3, "lurker")] {
        s.add(&mut Profile {
            id: 0,
            user_id,
            bio: bio.into(),
        })
        .unwrap();
    }
    s.commit().unwrap();
    Blog { dir, db: Some(db) }
}

fn ids<M: Model>(rows: &[M]) -> Vec<i64> {
    rows.iter()
        .map(|m| match m.key_value() {
            strata::Value::Int(i) => i,
            v => panic!("{v}"),
        })
        .collect()
}

#[test]
fn case_insensitive_search() {
    let b = blog("ci");
    let s = b.db().read_session().unwrap();
    let q = |e| s.query::<Post>().filter(e).all().unwrap();
    assert_eq!(ids(&q(Post::title.ilike("hello%"))), [1, 3]);
    assert_eq!(ids(&q(Post::title.like("Hello%"))), [1]);
    assert_eq!(ids(&q(Post::title.icontains("OWNERSHIP"))), [2, 6]);
    assert_eq!(ids(&q(Post::title.istarts_with("RUST"))), [2, 5]);
    assert_eq!(ids(&q(Post::title.iends_with("AGAIN"))), [3, 6]);
    // `_` is one character, `%` any run; an escape makes them literal.
    assert_eq!(ids(&q(Post::title.like("_ust%"))), [2, 5]);
    assert_eq!(ids(&q(Post::title.like_escape("100\\%%", '\\'))), [4]);
    assert_eq!(ids(&q(Post::title.like_escape("%done\\_ok", '\\'))), [4]);
    assert_eq!(ids(&q(Post::title.like("%done_ok"))), [4]);
    // A null topic is unknown for every test, and so is its negation.
    assert_eq!(ids(&q(Post::topic.ilike("R%"))), [2, 6]);
    assert_eq!(ids(&q(Post::topic.ilike("R%").not())), [1, 3, 5]);
    // lower() and upper() in filters and orderings.
    assert_eq!(ids(&q(Post::title.lower().eq("hello again"))), [3]);
    assert_eq!(ids(&q(Post::title.upper().ge("R"))), [2, 5]);
    let users = s
        .query::<User>()
        .order_by(User::username.lower())
        .all()
        .unwrap();
    assert_eq!(ids(&users), [1, 2, 3]);
    let users = s.query::<User>().order_by(User::username).all().unwrap();
    assert_eq!(ids(&users), [2, 1, 3], "byte order: 'B' before 'a'");
    let users = s
        .query::<User>()
        .filter(User::email.iends_with("@example.org"))
        .all()
        .unwrap();
    assert_eq!(ids(&users), [1, 3]);
    // A case-sensitive LIKE with a literal prefix scans the index range.
    assert_eq!(
        s.query::<Post>()
            .filter(Post::title.like("Rust%"))
            .explain()
            .to_string(),
        "scan index on title"
    );
    assert_eq!(
        s.query::<Post>()
            .filter(Post::title.like("R_st%"))
            .explain()
            .to_string(),
        "scan index on title, filter"
    );
}

#[test]
fn distinct_values() {
    let b = blog("distinct");
    let s = b.db().read_session().unwrap();
    let topics = s
        .query::<Post>()
        .order_by(Post::topic)
        .distinct()
        .values(Post::topic)
        .unwrap();
    assert_eq!(
        topics,
        [
            None,
            Some("diy".to_string()),
            Some("intro".into()),
            Some("rust".into())
        ]
    );
    let authors = s
        .query::<Post>()
        .filter(Post::published.eq(true))
        .order_by(Post::author_id.desc())
        .distinct()
        .values(Post::author_id)
        .unwrap();
    assert_eq!(authors, [2, 1]);
    let all = s.query::<Post>().values(Post::author_id).unwrap();
    assert_eq!(all, [1, 1, 2, 1, 2, 1]);
    assert!(
        s.query::<Post>()
            .filter(Post::score.gt(20))
            .exists()
            .unwrap()
    );
    assert!(
        !s.query::<Post>()
            .filter(Post::score.gt(99))
            .exists()
            .unwrap()
    );
}

#[test]
fn aggregates_with_group_by_and_having() {
    let b = blog("agg");
    let s = b.db().read_session().unwrap();
    type PerAuthor = (i64, u64, Option<i64>, Option<f64>, Option<i64>, Option<i64>);
    let per_author: Vec<PerAuthor> = s
        .query::<Post>()
        .group_by(Post::author_id)
        .aggregate((
            Post::author_id,
            count(),
            Post::score.sum(),
            Post::rating.avg(),
            Post::score.min(),
            Post::score.max(),
        ))
        .unwrap();
    assert_eq!(
        per_author,
        [
            (1, 4, Some(54), Some(4.125), Some(7), Some(25)),
            (2, 2, Some(8), Some(1.75), Some(3), Some(5)),
        ]
    );
    // Nulls form a group of their own, first; count(column) skips them.
    let per_topic = s
        .query::<Post>()
        .group_by(Post::topic)
        .aggregate((
            Post::topic,
            count(),
            Post::topic.count(),
            Post::author_id.count_distinct(),
        ))
        .unwrap();
    assert_eq!(
        per_topic,
        [
            (None, 1, 0, 1),
            (Some("diy".to_string()), 1, 1, 1),
            (Some("intro".to_string()), 2, 2, 2),
            (Some("rust".to_string()), 2, 2, 1),
        ]
    );
    // having, and a filter before grouping.
    let busy = s
        .query::<Post>()
        .filter(Post::published.eq(true))
        .group_by(Post::author_id)
        .having(count().ge(2u64).and(Post::rating.avg().gt(3.0)))
        .aggregate((Post::author_id, count()))
        .unwrap();
    assert_eq!(busy, [(1, 3)]);
    // Two key columns.
    let pairs = s
        .query::<Post>()
        .group_by((Post::author_id, Post::published))
        .aggregate((Post::author_id, Post::published, Post::score.sum()))
        .unwrap();
    assert_eq!(
        pairs,
        [
            (1, false, Some(12)),
            (1, true, Some(42)),
            (2, false, Some(5)),
            (2, true, Some(3)),
        ]
    );
    // Without group_by: one row, even over no rows.
    let (n, total, best) = s
        .query::<Post>()
        .aggregate((count(), Post::score.sum(), Post::rating.max()))
        .unwrap();
    assert_eq!((n, total, best), (6, Some(62), Some(5.0)));
    let (n, total, avg) = s
        .query::<Post>()
        .filter(Post::score.gt(100))
        .aggregate((count(), Post::score.sum(), Post::score.avg()))
        .unwrap();
    assert_eq!((n, total, avg), (0, None, None));
    // The key's index alone answers a count per key.
    let g = s.query::<Post>().group_by(Post::author_id);
    assert_eq!(
        g.explain(&(Post::author_id, count())),
        "scan index on author_id only"
    );
    assert_eq!(
        g.aggregate((Post::author_id, count())).unwrap(),
        [(1, 4), (2, 2)]
    );
    assert_eq!(
        g.explain(&(Post::author_id, Post::score.avg())),
        "scan whole table"
    );
    let everything = g
        .aggregate((Post::author_id, count(), Post::score.sum()))
        .unwrap();
    // A filter on the key reads through the key's index, in key order.
    let filtered = s
        .query::<Post>()
        .filter(Post::author_id.ge(1))
        .group_by(Post::author_id);
    let select = (Post::author_id, count(), Post::score.sum());
    assert_eq!(filtered.explain(&select), "scan index on author_id");
    assert_eq!(filtered.aggregate(select).unwrap(), everything);
    let by_title = s
        .query::<Post>()
        .group_by(Post::title)
        .having(count().gt(1u64))
        .aggregate(Post::title)
        .unwrap();
    assert!(by_title.is_empty());
}

#[test]
fn relationship_tests_has_any_none() {
    let b = blog("related");
    let s = b.db().read_session().unwrap();
    let by = |name: &str| {
        s.query::<Post>()
            .filter(Post::author.has(User::username.eq(name)))
            .all()
            .unwrap()
    };
    assert_eq!(ids(&by("ann")), [1, 2, 4, 6]);
    assert_eq!(ids(&by("nobody")), Vec::<i64>::new());
    let q = s
        .query::<Post>()
        .filter(Post::author.has(User::username.eq("Bob")));
    assert_eq!(q.explain().to_string(), "look up index on author_id");
    // any / none over the children.
    let commented = s
        .query::<Post>()
        .filter(Post::comments.any(Comment::body.contains("e")))
        .all()
        .unwrap();
    assert_eq!(ids(&commented), [1, 2]);
    let users_without_posts = s
        .query::<User>()
        .filter(User::posts.none(Post::id.gt(0)))
        .all()
        .unwrap();
    assert_eq!(ids(&users_without_posts), [3]);
    // A null foreign key: `has` is false, and `not has` true.
    let anonymous = s
        .query::<Comment>()
        .filter(Comment::author.has(User::id.gt(0)).not())
        .all()
        .unwrap();
    assert_eq!(ids(&anonymous), [4]);
    // One-to-one, and nesting: users with a published post about rust.
    let profiled = s
        .query::<User>()
        .filter(User::profile.has(Profile::bio.icontains("rust")))
        .all()
        .unwrap();
    assert_eq!(ids(&profiled), [1]);
    let rustaceans = s
        .query::<User>()
        .filter(
            User::posts.any(
                Post::topic
                    .eq("rust")
                    .and(Post::comments.any(Comment::body.eq("great"))),
            ),
        )
        .all()
        .unwrap();
    assert_eq!(ids(&rustaceans), [1]);
    // Combined with other tests, and counted.
    let n = s
        .query::<User>()
        .filter(
            User::posts
                .any(Post::published.eq(false))
                .or(User::username.eq("cy")),
        )
        .count()
        .unwrap();
    assert_eq!(n, 3);
}

#[test]
fn joins_yield_pairs_filtered_and_ordered_on_both_sides() {
    let b = blog("join");
    let s = b.db().read_session().unwrap();
    let j = s
        .query::<Post>()
        .filter(Post::published.eq(true))
        .join(Post::author)
        .filter(User::username.eq("ann"))
        .order_by(Post::score.desc());
    assert_eq!(
        j.explain().to_string(),
        "right: look up index on username; then left: look up index on author_id, filter"
    );
    let pairs = j.all().unwrap();
    assert_eq!(
        pairs.iter().map(|(p, u)| (p.id, u.id)).collect::<Vec<_>>(),
        [(2, 1), (1, 1), (4, 1)]
    );
    assert_eq!(j.count().unwrap(), 3);
    // Ordered by the right side, then the left; limit and offset.
    let pairs = s
        .query::<Post>()
        .join(Post::author)
        .order_by(User::username.desc())
        .order_by(Post::id.desc())
        .offset(1)
        .limit(3)
        .all()
        .unwrap();
    assert_eq!(
        pairs.iter().map(|(p, _)| p.id).collect::<Vec<_>>(),
        [4, 2, 1],
        "ann's posts after Bob's first one"
    );
    // Parent to children: a user with no post has no pair.
    let pairs = s
        .query::<User>()
        .join(User::posts)
        .filter(Post::topic.eq("intro"))
        .all()
        .unwrap();
    assert_eq!(
        pairs.iter().map(|(u, p)| (u.id, p.id)).collect::<Vec<_>>(),
        [(1, 1), (2, 3)]
    );
    // A null foreign key joins nothing.
    let pairs = s.query::<Comment>().join(Comment::author).all().unwrap();
    assert_eq!(
        pairs.iter().map(|(c, u)| (c.id, u.id)).collect::<Vec<_>>(),
        [(1, 2), (2, 3), (3, 2), (5, 1)]
    );
    let first = s
        .query::<User>()
        .join(User::profile)
        .order_by(Profile::bio)
        .first()
        .unwrap();
    assert_eq!(first.map(|(u, _)| u.id), Some(1));
}

#[test]
fn pagination_by_page_and_by_key() {
    let b = blog("pages");
    let s = b.db().read_session().unwrap();
    let q = s.query::<Post>().order_by(Post::score.desc());
    let p1 = q.paginate(1, 4).unwrap();
    assert_eq!(ids(&p1.items), [2, 6, 1, 4]);
    assert_eq!(
        (p1.total, p1.pages, p1.has_prev, p1.has_next),
        (6, 2, false, true)
    );
    let p2 = q.paginate(2, 4).unwrap();
    assert_eq!(ids(&p2.items), [3, 5]);
    assert_eq!((p2.prev_num(), p2.next_num()), (Some(1), None));
    let p9 = q.paginate(9, 4).unwrap();
    assert!(p9.items.is_empty() && p9.has_prev && !p9.has_next);
    let empty = s
        .query::<Post>()
        .filter(Post::score.gt(100))
        .paginate(1, 4)
        .unwrap();
    assert_eq!((empty.total, empty.pages, empty.has_next), (0, 0, false));
    // By key: each page reads from the last key on.
    let mut seen = Vec::new();
    let mut last = 0;
    loop {
        let page = s.query::<Post>().after(last).limit(4).all().unwrap();
        let Some(l) = page.last() else { break };
        last = l.id;
        seen.extend(ids(&page));
    }
    assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
    let back = s
        .query::<Post>()
        .order_by(Post::id.desc())
        .after(4)
        .all()
        .unwrap();
    assert_eq!(ids(&back), [3, 2, 1]);
    assert_eq!(
        s.query::<Post>().after(2).limit(2).explain().to_string(),
        "scan primary key range"
    );
}

#[test]
fn bulk_updates_and_deletes_by_query() {
    let b = blog("bulk");
    let mut s = b.db().session().unwrap();
    let n = s
        .query_mut::<Post>()
        .filter(Post::topic.eq("intro"))
        .set(Post::published, true)
        .unwrap();
    assert_eq!(n, 2);
    let n = s
        .query_mut::<Post>()
        .filter(Post::topic.is_null())
        .set(Post::topic, Some("misc".to_string()))
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        s.query::<Post>()
            .filter(Post::published.eq(false))
            .count()
            .unwrap(),
        1
    );
    assert_eq!(
        s.query::<Post>()
            .filter(Post::topic.eq("misc"))
            .count()
            .unwrap(),
        1,
        "the index follows"
    );
    // Setting a foreign key checks it, and stops at the refusal.
    let r = s
        .query_mut::<Comment>()
        .filter(Comment::author_id.is_null())
        .set(Comment::author_id, Some(99i64));
    assert!(matches!(r, Err(Error::ForeignKeyViolation { .. })), "{r:?}");
    // Setting the key is refused.
    assert!(matches!(
        s.query_mut::<Post>().set(Post::id, 7),
        Err(Error::KeyChanged { .. })
    ));
    // A bulk delete follows the delete rules: Bob's posts cascade to
    // their comments, and users with comments are restricted.
    let n = s
        .query_mut::<Post>()
        .filter(Post::author.has(User::username.eq("Bob")))
        .delete()
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(s.query::<Comment>().count().unwrap(), 3);
    let r = s.query_mut::<User>().filter(User::id.ge(2)).delete();
    assert!(matches!(r, Err(Error::Restricted { .. })), "{r:?}");
    s.commit().unwrap();
    assert_eq!(b.db().check().unwrap(), 3 + 4 + 3 + 2);
}
