//! The blog in a real browser: Debian's headless Chromium driven through
//! WebDriver (Debian's `chromedriver`) by fantoccini. A person's path:
//! register, log out, log in, write a post with two tags, find it on the
//! index and on a tag's page. A screenshot of the tag's page is saved as
//! `webapp-browser.png` in the target directory's test folder
//! (`CARGO_TARGET_TMPDIR`).
//!
//! Chromium and chromedriver are required (`.ci/run` installs them with
//! apt-get): without them this test fails, saying what to install. It
//! never skips.

mod common;

use common::Server;
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: the browser test needs Debian's chromium and chromium-driver \
                 (apt-get install -y chromium chromium-driver; .ci/run does this)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMEDRIVER}: {e}"));
        Driver { child, port }
    }

    async fn connect(&self, profile: &std::path::Path) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{}", self.port);
        let started = Instant::now();
        loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return client,
                Err(e) if started.elapsed() < Duration::from_secs(30) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("no WebDriver session from {CHROMEDRIVER} in 30 s: {e}"),
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The element, waiting up to 10 s for it to appear: a click that
/// navigates returns before the next page has loaded.
async fn find(browser: &Client, locator: Locator<'_>) -> fantoccini::elements::Element {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(locator)
        .await
        .unwrap_or_else(|e| panic!("{locator:?} never appeared: {e}"))
}

/// Waits up to 10 s for the browser to be at `path`.
async fn wait_for_path(browser: &Client, path: &str) {
    let started = Instant::now();
    while browser.current_url().await.unwrap().path() != path {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never reached {path}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn fill(browser: &Client, id: &str, text: &str) {
    let field = find(browser, Locator::Id(id)).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn click(browser: &Client, id: &str) {
    find(browser, Locator::Id(id)).await.click().await.unwrap();
}

async fn text_of(browser: &Client, css: &str) -> String {
    find(browser, Locator::Css(css)).await.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_registers_logs_in_and_posts_with_two_tags_in_chromium() {
    let server = Server::start().await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.connect(profile.path()).await;

    browser.goto(&server.url("/")).await.unwrap();
    click(&browser, "register").await;
    fill(&browser, "username", "ann").await;
    fill(&browser, "email", "ann@example.org").await;
    fill(&browser, "password", "correct horse battery").await;
    click(&browser, "submit").await;
    wait_for_path(&browser, "/").await;
    assert_eq!(
        text_of(&browser, "#me").await,
        "ann",
        "registered and logged in"
    );

    click(&browser, "logout").await;
    click(&browser, "login").await;
    wait_for_path(&browser, "/login").await;
    fill(&browser, "username", "ann").await;
    fill(&browser, "password", "correct horse battery").await;
    click(&browser, "submit").await;
    wait_for_path(&browser, "/").await;
    assert_eq!(text_of(&browser, "#me").await, "ann", "logged in again");

    click(&browser, "new-post").await;
    wait_for_path(&browser, "/posts/new").await;
    fill(&browser, "title", "Written in Chromium").await;
    fill(&browser, "body", "A post from a real browser.").await;
    fill(&browser, "tags", "Browsers, testing").await;
    click(&browser, "save").await;
    assert_eq!(text_of(&browser, "h1#title").await, "Written in Chromium");

    browser.goto(&server.url("/")).await.unwrap();
    let first = text_of(&browser, "article.post h2").await;
    assert_eq!(first, "Written in Chromium", "on the index page");
    let tags = browser
        .find_all(Locator::Css("article.post .tag"))
        .await
        .unwrap();
    let mut names = Vec::new();
    for t in tags {
        names.push(t.text().await.unwrap());
    }
    assert_eq!(names, ["browsers", "testing"]);

    find(
        &browser,
        Locator::Css("article.post a.tag[href=\"/tags/testing\"]"),
    )
    .await
    .click()
    .await
    .unwrap();
    wait_for_path(&browser, "/tags/testing").await;
    assert_eq!(text_of(&browser, "h1").await, "Posts tagged testing");
    assert_eq!(
        text_of(&browser, "article.post h2").await,
        "Written in Chromium"
    );

    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("webapp-browser.png");
    std::fs::write(&shot, png).unwrap();
    println!("screenshot: {}", shot.display());
    browser.close().await.unwrap();
    server.check().await;
}
