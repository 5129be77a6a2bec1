//! A server on a free loopback port over a fresh database, for the suites
//! to drive over real HTTP.

#![allow(dead_code)] // each suite uses its own part

use std::time::Duration;

/// A running server; stopped and its files removed when dropped.
pub struct Server {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The server's own database handle, for counters and checks.
    pub db: strata::Database,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    dir: tempfile::TempDir,
}

impl Server {
    /// Opens a fresh database (with the startup migration and seed) and
    /// serves it on 127.0.0.1:0.
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("blog.strata");
        let db = tokio::task::spawn_blocking(move || strata_webapp::open(path))
            .await
            .unwrap()
            .expect("open the database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = strata_webapp::AppState::new(db.clone(), None)
            .with_backup_dir(dir.path().join("backups"));
        tokio::spawn(strata_webapp::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Server {
            base,
            db,
            stop: Some(stop),
            dir,
        }
    }

    /// The URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with its own cookie store (one browser, one login).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }

    /// Registers `name` through the API on `client`, which is then logged
    /// in; returns the user's id.
    pub async fn register(&self, client: &reqwest::Client, name: &str) -> i64 {
        let r = client
            .post(self.url("/api/register"))
            .json(&serde_json::json!({
                "username": name,
                "email": format!("{name}@example.org"),
                "password": "correct horse battery",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "registering {name}");
        let body: serde_json::Value = r.json().await.unwrap();
        body["id"].as_i64().unwrap()
    }

    /// Adds a post through the API; returns its id.
    pub async fn post(&self, client: &reqwest::Client, title: &str, tags: &[&str]) -> i64 {
        let r = client
            .post(self.url("/api/posts"))
            .json(&serde_json::json!({ "title": title, "body": format!("The text of {title}."), "tags": tags }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "posting {title}");
        let body: serde_json::Value = r.json().await.unwrap();
        body["id"].as_i64().unwrap()
    }

    /// GETs `path` as JSON, expecting 200.
    pub async fn get_json(&self, client: &reqwest::Client, path: &str) -> serde_json::Value {
        let r = client.get(self.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    /// The database's integrity check, on the blocking pool.
    pub async fn check(&self) -> u64 {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.check())
            .await
            .unwrap()
            .expect("the integrity check passes")
    }

    /// Where the database files live.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
