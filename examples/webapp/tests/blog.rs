//! The blog driven over real HTTP, as a browser (forms, redirects, the
//! signed cookie) and as an API client (JSON): registration and login,
//! posts with tags, comments, pages, search, edits, the delete rule of a
//! user, and every refusal's status.

mod common;

use common::Server;
use serde_json::{Value, json};

fn form(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_registers_logs_in_posts_comments_edits_and_deletes_in_html() {
    let server = Server::start().await;
    let c = server.client();

    let r = c
        .post(server.url("/register"))
        .form(&form(&[
            ("username", "ann"),
            ("email", "ann@example.org"),
            ("password", "correct horse battery"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the redirect to the index is followed");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"me\">ann</a>"),
        "logged in after registering"
    );

    c.post(server.url("/logout")).send().await.unwrap();
    let page = c
        .get(server.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Log in"), "logged out");

    let r = c
        .post(server.url("/login"))
        .form(&form(&[
            ("username", "ann"),
            ("password", "wrong password"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("wrong username or password")
    );
    let r = c
        .post(server.url("/login"))
        .form(&form(&[
            ("username", "ann"),
            ("password", "correct horse battery"),
        ]))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("id=\"me\">ann</a>"));

    let r = c
        .post(server.url("/posts/new"))
        .form(&form(&[
            ("title", "Hello <Strata>"),
            ("body", "First post."),
            ("tags", "Rust, databases, rust"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let post_url = r.url().path().to_owned();
    assert!(post_url.starts_with("/posts/"), "{post_url}");
    let page = r.text().await.unwrap();
    assert!(page.contains("Hello &lt;Strata&gt;"), "titles are escaped");
    assert!(page.contains("href=\"/tags/databases\"") && page.contains("href=\"/tags/rust\""));

    let r = c
        .post(server.url(&format!("{post_url}/comments")))
        .form(&form(&[("body", "Nice.")]))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("ann:</span> Nice."));

    let r = c
        .post(server.url(&format!("{post_url}/edit")))
        .form(&form(&[
            ("title", "Hello again"),
            ("body", "Edited."),
            ("tags", "rust"),
        ]))
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(page.contains("Hello again") && page.contains("(edited"));
    assert!(
        !page.contains("/tags/databases"),
        "the dropped tag is unlinked"
    );

    let tag_page = c
        .get(server.url("/tags/rust"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tag_page.contains("Hello again"));
    let tag_page = c
        .get(server.url("/tags/databases"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tag_page.contains("No posts yet."));

    // Someone else may neither edit nor delete it.
    let bob = server.client();
    server.register(&bob, "bob").await;
    let r = bob
        .post(server.url(&format!("{post_url}/delete")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let r = c
        .post(server.url(&format!("{post_url}/delete")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        c.get(server.url(&post_url)).send().await.unwrap().status(),
        404
    );
    let counts = server.get_json(&c, "/api/counts").await;
    assert_eq!(
        (counts["posts"].as_u64(), counts["comments"].as_u64()),
        (Some(0), Some(0))
    );
    server.check().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_username_or_email_is_a_form_error_and_a_409() {
    let server = Server::start().await;
    let c = server.client();
    server.register(&c, "ann").await;

    let other = server.client();
    let r = other
        .post(server.url("/register"))
        .form(&form(&[
            ("username", "ann"),
            ("email", "someone@example.org"),
            ("password", "another password"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("class=\"error\" data-field=\"username\"")
            && page.contains("User.username must be unique"),
        "{page}"
    );
    assert!(
        page.contains("value=\"someone@example.org\""),
        "the form keeps its input"
    );

    let r = other
        .post(server.url("/api/register"))
        .json(&json!({ "username": "ann2", "email": "ann@example.org", "password": "another password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["field"], "email");

    let r = other
        .post(server.url("/api/register"))
        .json(&json!({ "username": "x", "email": "x@example.org", "password": "another password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "a username too short never reaches the database"
    );
    let counts = server.get_json(&c, "/api/counts").await;
    assert_eq!(counts["users"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_creates_lists_pages_searches_updates_and_deletes() {
    let server = Server::start().await;
    let ann = server.client();
    let ann_id = server.register(&ann, "ann").await;
    for i in 1..=25 {
        let tags: &[&str] = if i % 5 == 0 {
            &["Five", "all"]
        } else {
            &["all"]
        };
        let title = if i == 7 {
            "Seven: the LUCKY one".to_owned()
        } else {
            format!("Post {i}")
        };
        server.post(&ann, &title, tags).await;
    }

    let page1 = server.get_json(&ann, "/api/posts?per_page=10").await;
    assert_eq!(
        (page1["total"].as_u64(), page1["pages"].as_u64()),
        (Some(25), Some(3))
    );
    assert_eq!(
        (page1["next"].as_u64(), page1["prev"].as_u64()),
        (Some(2), None)
    );
    let titles: Vec<&str> = page1["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles[0], "Post 25", "newest first");
    let page3 = server.get_json(&ann, "/api/posts?per_page=10&page=3").await;
    assert_eq!(page3["items"].as_array().unwrap().len(), 5);
    assert_eq!(page3["items"][4]["title"], "Post 1");
    assert_eq!(page3["items"][4]["author"], "ann");

    let found = server.get_json(&ann, "/api/posts?q=lucky").await;
    assert_eq!(found["total"], 1, "search ignores case");
    assert_eq!(found["items"][0]["title"], "Seven: the LUCKY one");
    let five = server.get_json(&ann, "/api/posts?tag=five").await;
    assert_eq!(five["total"], 5, "tags are stored in lower case");
    assert_eq!(five["items"][0]["tags"], json!(["all", "five"]));
    let html = ann
        .get(server.url("/?q=LUCKY"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Seven: the LUCKY one") && !html.contains("Post 25"));

    let id = found["items"][0]["id"].as_i64().unwrap();
    let r = ann
        .put(server.url(&format!("/api/posts/{id}")))
        .json(&json!({ "title": "Seven", "body": "Shorter.", "tags": ["five"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let post: Value = r.json().await.unwrap();
    assert_eq!(post["tags"], json!(["five"]));
    assert_ne!(post["updated_at"], post["created_at"], "updated_at moves");

    let r = ann
        .post(server.url(&format!("/api/posts/{id}/comments")))
        .json(&json!({ "body": "First!" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let comment: Value = r.json().await.unwrap();
    let comments = server
        .get_json(&ann, &format!("/api/posts/{id}/comments"))
        .await;
    assert_eq!(comments[0]["author"], "ann");
    let r = ann
        .put(server.url(&format!("/api/comments/{}", comment["id"])))
        .json(&json!({ "body": "Second thoughts." }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // A comment on a post that does not exist: the foreign key refuses, 404.
    let r = ann
        .post(server.url("/api/posts/9999/comments"))
        .json(&json!({ "body": "Into the void" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("refers to no row of posts"),
        "{body}"
    );

    // Without the cookie: 401. Another user's post: 403.
    let stranger = server.client();
    let r = stranger
        .post(server.url("/api/posts"))
        .json(&json!({ "title": "x", "body": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    server.register(&stranger, "bob").await;
    let r = stranger
        .delete(server.url(&format!("/api/posts/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // Tags: a taken name is 409.
    let r = ann
        .post(server.url("/api/tags"))
        .json(&json!({ "name": "ALL" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = ann
        .post(server.url("/api/tags"))
        .json(&json!({ "name": "new" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // Profiles: one per user, made on first PUT, changed on the next.
    for bio in ["Writes.", "Writes a lot."] {
        let r = ann
            .put(server.url(&format!("/api/users/{ann_id}/profile")))
            .json(&json!({ "bio": bio, "location": "Lisbon" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let profile = server
        .get_json(&ann, &format!("/api/users/{ann_id}/profile"))
        .await;
    assert_eq!(profile["bio"], "Writes a lot.");

    let r = ann
        .delete(server.url(&format!("/api/posts/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        ann.get(server.url(&format!("/api/posts/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let counts = server.get_json(&ann, "/api/counts").await;
    assert_eq!(
        (
            counts["posts"].as_u64(),
            counts["comments"].as_u64(),
            counts["profiles"].as_u64()
        ),
        (Some(24), Some(0), Some(1))
    );
    let users = server.get_json(&ann, "/api/users?per_page=1&page=2").await;
    assert_eq!(
        (
            users["total"].as_u64(),
            users["items"][0]["username"].as_str()
        ),
        (Some(2), Some("bob"))
    );
    assert!(
        users["items"][0].get("password_hash").is_none(),
        "hashes never leave the server"
    );
    server.check().await;
}

/// The delete rule (`models.rs`, DELETE RULES): a user's posts, the
/// comments on them, the user's comments elsewhere and the profile go
/// with the user; tags and other users' posts stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_user_deletes_their_posts_comments_and_profile() {
    let server = Server::start().await;
    let (ann, bob) = (server.client(), server.client());
    let ann_id = server.register(&ann, "ann").await;
    let bob_id = server.register(&bob, "bob").await;
    let ann_post = server.post(&ann, "Ann's", &["shared"]).await;
    let bob_post = server.post(&bob, "Bob's", &["shared"]).await;
    for (client, post) in [(&ann, bob_post), (&bob, ann_post), (&ann, ann_post)] {
        let r = client
            .post(server.url(&format!("/api/posts/{post}/comments")))
            .json(&json!({ "body": "hi" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let r = ann
        .put(server.url(&format!("/api/users/{ann_id}/profile")))
        .json(&json!({ "bio": "ann" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let r = bob
        .delete(server.url(&format!("/api/users/{ann_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "only oneself");
    let r = ann
        .delete(server.url(&format!("/api/users/{ann_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let counts = server.get_json(&bob, "/api/counts").await;
    assert_eq!(counts["users"], 1);
    assert_eq!(counts["posts"], 1, "Bob's post stays");
    assert_eq!(
        counts["comments"], 0,
        "Ann's comment on Bob's post and both on hers are gone"
    );
    assert_eq!(counts["profiles"], 0);
    assert_eq!(counts["tags"], 1, "tags stay");
    let shared = server.get_json(&bob, "/api/tags/shared").await;
    assert_eq!(shared["posts"], 1);
    assert_eq!(
        bob.get(server.url(&format!("/api/users/{ann_id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // Ann's cookie outlives her: writing with it names a missing user.
    let r = ann
        .post(server.url(&format!("/api/posts/{bob_post}/comments")))
        .json(&json!({ "body": "ghost" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let _ = bob_id;
    server.check().await;
}

/// The index page reads a page of posts with their authors and tags in a
/// fixed number of scans, whatever the page size: no N+1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_page_loads_in_a_fixed_number_of_scans() {
    let server = Server::start().await;
    let mut clients = Vec::new();
    for name in ["ann", "bob", "cyd"] {
        let c = server.client();
        server.register(&c, name).await;
        clients.push(c);
    }
    for i in 0..60 {
        let c = &clients[i % 3];
        let tags = [format!("t{}", i % 7), format!("u{}", i % 4)];
        server
            .post(c, &format!("Post {i}"), &[&tags[0], &tags[1]])
            .await;
    }
    let mut scans = Vec::new();
    for per_page in [1, 5, 20, 60] {
        for path in [
            format!("/?per_page={per_page}"),
            format!("/api/posts?per_page={per_page}"),
        ] {
            let before = server.db.stats();
            let r = clients[0].get(server.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let body = r.text().await.unwrap();
            assert!(body.contains("Post 59") && body.contains("t3"), "{path}");
            let after = server.db.stats();
            scans.push((
                path,
                after.scans - before.scans,
                after.row_gets - before.row_gets,
            ));
        }
    }
    // The page, its total, and the link table: three scans. The authors
    // and the tags are read by key, each distinct one once.
    for (path, n, _) in &scans {
        assert_eq!(*n, 3, "{path}: {scans:?}");
    }
    let (_, _, gets_of_60) = scans.last().unwrap();
    assert!(
        *gets_of_60 <= 3 + 7 + 4,
        "authors and tags read once each: {scans:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_students_page_answers_the_seeds_query_from_the_index() {
    let server = Server::start().await;
    let c = server.client();
    let page = c
        .get(server.url("/students"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("scan index on gpa backwards"), "{page}");
    let names: Vec<&str> = page
        .split("<tr class=\"student\"><td>")
        .skip(1)
        .map(|row| row.split('<').next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Ada", "Chen", "Emeka"],
        "GPA > 3.5, best first; 3.5 itself is out"
    );
    let api = server.get_json(&c, "/api/students?min_gpa=3.5").await;
    assert_eq!(api["total"], 3);
    server.register(&c, "ann").await;
    let r = c
        .post(server.url("/api/students"))
        .json(&json!({ "name": "Gus", "gpa": 3.6 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = c
        .post(server.url("/api/students"))
        .json(&json!({ "name": "Bad", "gpa": 7.0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let api = server.get_json(&c, "/api/students?min_gpa=3.5").await;
    assert_eq!(api["total"], 4);
}

/// The administrator's online backup opens as a database of its own,
/// passes the integrity check, and holds what the server held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_opens_and_passes_the_check() {
    let server = Server::start().await;
    let admin = server.client();
    assert_eq!(
        server.register(&admin, "admin").await,
        1,
        "the first account administers"
    );
    let post = server.post(&admin, "Backed up", &["safe"]).await;
    let r = admin
        .post(server.url(&format!("/api/posts/{post}/comments")))
        .json(&json!({ "body": "kept" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    let other = server.client();
    server.register(&other, "bob").await;
    let r = other
        .post(server.url("/api/admin/backup"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "only the administrator");

    let r = admin
        .post(server.url("/api/admin/backup"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    let path = std::path::PathBuf::from(made["path"].as_str().unwrap());
    assert!(path.starts_with(server.dir()), "{path:?}");
    let counts = server.get_json(&admin, "/api/counts").await;

    let copy = tokio::task::spawn_blocking(move || {
        let copy = strata_webapp::open(&path).expect("the backup opens");
        copy.check().expect("the backup passes the check");
        let s = copy.read_session().unwrap();
        strata_webapp::api::Counts::read(&s).unwrap()
    })
    .await
    .unwrap();
    assert_eq!(serde_json::to_value(copy).unwrap(), counts);
    assert_eq!(
        (copy.users, copy.posts, copy.comments, copy.tags),
        (2, 1, 1, 1)
    );
}

/// The profile as an earlier version of the application wrote it,
/// before `location` was added.
#[derive(strata::Model, serde::Serialize, serde::Deserialize, Clone, Debug)]
#[strata(table = "profiles")]
struct ProfileV1 {
    #[strata(primary_key)]
    id: i64,
    #[strata(unique, foreign_key = strata_webapp::models::User)]
    user_id: i64,
    #[strata(max_len = 2000)]
    bio: String,
}

/// A file written by the earlier version is migrated when the server
/// opens it: the new column is added (as `None` in old rows), the change
/// is logged, and the next start finds nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_migrations_bring_an_older_file_up_to_date_once() {
    use strata_webapp::models::{Profile, User};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blog.strata");
    tokio::task::spawn_blocking(move || {
        {
            let old = strata::Database::open(&path).unwrap();
            let mut s = old.session().unwrap();
            let mut user = User {
                id: 0,
                username: "ann".into(),
                email: "ann@example.org".into(),
                password_hash: String::new(),
                created_at: chrono::DateTime::UNIX_EPOCH,
            };
            s.add(&mut user).unwrap();
            let mut profile = ProfileV1 {
                id: 0,
                user_id: user.id,
                bio: "old".into(),
            };
            s.add(&mut profile).unwrap();
            s.commit().unwrap();
        }
        let db = strata_webapp::open(&path).expect("the older file migrates");
        let logged = db.schema_history().unwrap().len();
        assert!(logged >= 1, "the migration is logged");
        let s = db.read_session().unwrap();
        let profile = s.query::<Profile>().one().unwrap();
        assert_eq!((profile.bio.as_str(), profile.location), ("old", None));
        drop(s);
        db.check().unwrap();
        drop(db);
        let again = strata_webapp::open(&path).unwrap();
        assert_eq!(
            again.schema_history().unwrap().len(),
            logged,
            "nothing left to do"
        );
    })
    .await
    .unwrap();
}
