//! Many clients at once on loopback, mixing reads and writes, while one
//! request holds a read snapshot for most of the run.
//!
//! What must hold (issue 15's acceptance):
//! - no request fails, except the 409s the workload provokes on purpose
//!   (a taken username, a taken tag name);
//! - no request takes more than 2 s: nothing stalls behind the long read
//!   or behind another writer's locks (this bounds stalls; it is not a
//!   speed test, and the load figures are `examples/load.rs`'s);
//! - afterwards the database holds exactly what the clients were told:
//!   every 201 and 204 is counted, and the counts must match;
//! - the long read saw one snapshot: the same counts at its start and end.
//!
//! `STRATA_WEBAPP_CLIENTS` (50) and `STRATA_WEBAPP_SECONDS` (5) scale it.

mod common;

use common::Server;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

const STALL_BOUND: Duration = Duration::from_secs(2);
const STABLE_POSTS: usize = 10;
const POST_TAGS: [&str; 6] = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one client was told.
#[derive(Default, Debug)]
struct Tally {
    requests: u64,
    posts_created: u64,
    posts_deleted: u64,
    comments_created: u64,
    tags_created: BTreeSet<String>,
    post_tags_used: BTreeSet<String>,
    expected_409s: u64,
    failures: Vec<String>,
    slowest: Duration,
}

/// A tiny deterministic generator per client (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

async fn timed(
    tally: &mut Tally,
    what: &str,
    request: reqwest::RequestBuilder,
) -> Option<(u16, Value)> {
    let started = Instant::now();
    let result = request.send().await;
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            tally.failures.push(format!("{what}: {e}"));
            return None;
        }
    };
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    let took = started.elapsed();
    tally.requests += 1;
    tally.slowest = tally.slowest.max(took);
    if took > STALL_BOUND {
        tally.failures.push(format!("{what} took {took:?}"));
    }
    Some((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

async fn client_loop(
    server: Arc<Server>,
    client: reqwest::Client,
    index: u64,
    stable: Arc<Vec<i64>>,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (index + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut mine: Vec<i64> = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let roll = rng.below(100);
        let expect = |tally: &mut Tally, what: &str, got: Option<(u16, Value)>, want: u16| match got
        {
            Some((s, body)) if s == want => Some(body),
            Some((s, body)) => {
                tally.failures.push(format!("{what}: {s} {body}"));
                None
            }
            None => None,
        };
        match roll {
            0..=24 => {
                let page = 1 + rng.below(3);
                let got = timed(
                    &mut tally,
                    "index",
                    client.get(server.url(&format!("/?page={page}"))),
                )
                .await;
                let got = got.map(|(s, _)| (s, Value::Null));
                expect(&mut tally, "index", got, 200);
            }
            25..=39 => {
                let q = POST_TAGS[rng.below(6) as usize];
                let got = timed(
                    &mut tally,
                    "search",
                    client.get(server.url(&format!("/api/posts?q={q}&per_page=5"))),
                )
                .await;
                expect(&mut tally, "search", got, 200);
            }
            40..=49 => {
                let id = stable[rng.below(STABLE_POSTS as u64) as usize];
                let got = timed(
                    &mut tally,
                    "get post",
                    client.get(server.url(&format!("/posts/{id}"))),
                )
                .await;
                let got = got.map(|(s, _)| (s, Value::Null));
                expect(&mut tally, "get post", got, 200);
            }
            50..=69 => {
                let tags = [
                    POST_TAGS[rng.below(6) as usize],
                    POST_TAGS[rng.below(6) as usize],
                ];
                let body =
                    json!({ "title": format!("c{index} post {n}"), "body": "load", "tags": tags });
                let got = timed(
                    &mut tally,
                    "create post",
                    client.post(server.url("/api/posts")).json(&body),
                )
                .await;
                if let Some(post) = expect(&mut tally, "create post", got, 201) {
                    tally.posts_created += 1;
                    tally
                        .post_tags_used
                        .extend(tags.iter().map(|t| (*t).to_owned()));
                    mine.push(post["id"].as_i64().unwrap());
                }
            }
            70..=84 => {
                let id = stable[rng.below(STABLE_POSTS as u64) as usize];
                let body = json!({ "body": format!("c{index} says {n}") });
                let got = timed(
                    &mut tally,
                    "comment",
                    client
                        .post(server.url(&format!("/api/posts/{id}/comments")))
                        .json(&body),
                )
                .await;
                if expect(&mut tally, "comment", got, 201).is_some() {
                    tally.comments_created += 1;
                }
            }
            85..=91 => {
                if let Some(id) = mine.pop() {
                    let got = timed(
                        &mut tally,
                        "delete post",
                        client.delete(server.url(&format!("/api/posts/{id}"))),
                    )
                    .await;
                    if expect(&mut tally, "delete post", got, 204).is_some() {
                        tally.posts_deleted += 1;
                    }
                }
            }
            92..=96 => {
                let name = format!("pool{}", rng.below(20));
                let got = timed(
                    &mut tally,
                    "create tag",
                    client
                        .post(server.url("/api/tags"))
                        .json(&json!({ "name": name })),
                )
                .await;
                match got {
                    Some((201, _)) => {
                        tally.tags_created.insert(name);
                    }
                    Some((409, _)) => tally.expected_409s += 1,
                    Some((s, body)) => tally.failures.push(format!("create tag: {s} {body}")),
                    None => {}
                }
            }
            _ => {
                // Registering a taken name: 409, at the unique index or
                // at the look-up made before hashing.
                let body = json!({ "username": "admin", "email": format!("c{index}-{n}@example.org"), "password": "whatever123" });
                let got = timed(
                    &mut tally,
                    "duplicate register",
                    server
                        .client()
                        .post(server.url("/api/register"))
                        .json(&body),
                )
                .await;
                match got {
                    Some((409, _)) => tally.expected_409s += 1,
                    Some((s, body)) => tally
                        .failures
                        .push(format!("duplicate register: {s} {body}")),
                    None => {}
                }
            }
        }
    }
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_clients_mix_reads_and_writes_beside_a_long_read() {
    let clients = env("STRATA_WEBAPP_CLIENTS", 50);
    let seconds = env("STRATA_WEBAPP_SECONDS", 5);
    let server = Arc::new(Server::start().await);

    // Set-up, not timed: the administrator (account 1) with the posts the
    // clients comment on, and one logged-in account per client.
    let admin = server.client();
    assert_eq!(server.register(&admin, "admin").await, 1);
    let mut stable = Vec::new();
    for i in 0..STABLE_POSTS {
        stable.push(
            server
                .post(&admin, &format!("Stable {i}"), &["stable"])
                .await,
        );
    }
    let stable = Arc::new(stable);
    let mut logged_in = Vec::new();
    for i in 0..clients {
        let c = server.client();
        server.register(&c, &format!("client{i}")).await;
        logged_in.push(c);
    }
    let before: Value = server.get_json(&admin, "/api/counts").await;

    let run = Duration::from_secs(seconds);
    let started = Instant::now();
    let deadline = started + run;
    let hold_ms = run.as_millis() as u64 * 8 / 10;
    let long_read = {
        let (server, admin) = (server.clone(), admin.clone());
        tokio::spawn(async move {
            let r = admin
                .get(server.url(&format!("/api/admin/report?hold_ms={hold_ms}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        })
    };
    let tasks: Vec<_> = logged_in
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            tokio::spawn(client_loop(
                server.clone(),
                c,
                i as u64,
                stable.clone(),
                deadline,
            ))
        })
        .collect();
    let mut total = Tally::default();
    for t in tasks {
        let t = t.await.unwrap();
        total.requests += t.requests;
        total.posts_created += t.posts_created;
        total.posts_deleted += t.posts_deleted;
        total.comments_created += t.comments_created;
        total.tags_created.extend(t.tags_created);
        total.post_tags_used.extend(t.post_tags_used);
        total.expected_409s += t.expected_409s;
        total.failures.extend(t.failures);
        total.slowest = total.slowest.max(t.slowest);
    }
    let report = long_read.await.unwrap();
    println!(
        "{clients} clients, {seconds} s: {} requests ({} posts, {} deletes, {} comments, {} tags, {} expected 409s), slowest {:?}",
        total.requests,
        total.posts_created,
        total.posts_deleted,
        total.comments_created,
        total.tags_created.len(),
        total.expected_409s,
        total.slowest
    );
    assert!(
        total.failures.is_empty(),
        "{} failures: {:#?}",
        total.failures.len(),
        &total.failures[..total.failures.len().min(20)]
    );
    assert!(
        total.requests > clients,
        "every client got requests through"
    );

    assert_eq!(
        report["before"], report["after"],
        "one snapshot for the whole long read"
    );
    assert!(report["held_ms"].as_u64().unwrap() >= hold_ms);

    let after = server.get_json(&admin, "/api/counts").await;
    let n = |v: &Value, k: &str| v[k].as_u64().unwrap();
    assert_eq!(
        n(&after, "posts"),
        n(&before, "posts") + total.posts_created - total.posts_deleted,
        "posts: {before} -> {after}"
    );
    assert_eq!(
        n(&after, "comments"),
        n(&before, "comments") + total.comments_created
    );
    assert_eq!(
        n(&after, "users"),
        n(&before, "users"),
        "no duplicate got in"
    );
    // Tags: "stable", the post tags some post used, the pool names created.
    let tags_expected = 1 + total.post_tags_used.len() as u64 + total.tags_created.len() as u64;
    assert_eq!(n(&after, "tags"), tags_expected);
    server.check().await;
}
