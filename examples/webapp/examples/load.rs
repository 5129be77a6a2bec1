//! A bounded load loop on loopback: requests per second and p99 latency
//! of the index page (`GET /`, 10 posts with authors and tags) and of
//! creating a post (`POST /api/posts` with two tags, a durable commit),
//! at 8 and 64 concurrent clients.
//!
//! ```sh
//! cargo run --release -p strata-webapp --example load            # 5 s per cell
//! STRATA_WEBAPP_LOAD_SECONDS=20 cargo run --release -p strata-webapp --example load
//! ```
//!
//! The server and the clients share the process and the machine's cores;
//! each client is one keep-alive connection sending its next request when
//! the last is answered. The database is a fresh file in a temporary
//! directory, first filled with 200 posts.

use std::time::{Duration, Instant};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, Debug)]
enum Work {
    Index,
    CreatePost,
}

async fn one_client(
    client: reqwest::Client,
    base: String,
    work: Work,
    index: usize,
    deadline: Instant,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let started = Instant::now();
        let response = match work {
            Work::Index => client.get(format!("{base}/")).send().await,
            Work::CreatePost => {
                let body = serde_json::json!({
                    "title": format!("load {index}-{n}"),
                    "body": "A post of the load loop.",
                    "tags": [format!("t{}", n % 10), "load"],
                });
                client
                    .post(format!("{base}/api/posts"))
                    .json(&body)
                    .send()
                    .await
            }
        };
        let response = response.expect("request");
        let status = response.status();
        let _ = response.bytes().await;
        assert!(status.is_success(), "{work:?}: {status}");
        latencies.push(started.elapsed());
    }
    latencies
}

async fn register(base: &str, name: &str) -> reqwest::Client {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let r = client
        .post(format!("{base}/api/register"))
        .json(&serde_json::json!({
            "username": name, "email": format!("{name}@example.org"), "password": "correct horse battery",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    client
}

#[tokio::main]
async fn main() {
    let seconds = env("STRATA_WEBAPP_LOAD_SECONDS", 5);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("load.strata");
    let db = tokio::task::spawn_blocking(move || strata_webapp::open(path))
        .await
        .unwrap()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = strata_webapp::AppState::new(db, None);
    tokio::spawn(strata_webapp::serve(
        listener,
        state,
        std::future::pending(),
    ));

    let mut clients = Vec::new();
    for i in 0..64 {
        clients.push(register(&base, &format!("load{i}")).await);
    }
    for i in 0..200 {
        let body = serde_json::json!({ "title": format!("seed {i}"), "body": "Seed.", "tags": [format!("t{}", i % 10)] });
        let r = clients[i % 64]
            .post(format!("{base}/api/posts"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }

    println!("| work | clients | requests/s | p50 | p99 |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for work in [Work::Index, Work::CreatePost] {
        for n in [8, 64] {
            let started = Instant::now();
            let deadline = started + Duration::from_secs(seconds);
            let tasks: Vec<_> = clients[..n]
                .iter()
                .enumerate()
                .map(|(i, c)| tokio::spawn(one_client(c.clone(), base.clone(), work, i, deadline)))
                .collect();
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap());
            }
            let elapsed = started.elapsed().as_secs_f64();
            all.sort();
            let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
            let name = match work {
                Work::Index => "GET / (index page)",
                Work::CreatePost => "POST /api/posts (create a post)",
            };
            println!(
                "| {name} | {n} | {:.0} | {:.1} ms | {:.1} ms |",
                all.len() as f64 / elapsed,
                pct(0.50).as_secs_f64() * 1e3,
                pct(0.99).as_secs_f64() * 1e3,
            );
        }
    }
}
