//! `idp report` in a real browser: Debian's headless Chromium driven by
//! chromedriver over WebDriver (fantoccini). One browser session walks the
//! site as a person would — home with its charts, an entity, its team, a
//! search by a word of a description, the hostile entity — and checks that
//! the console stayed clean and that no request left `file://`. It saves
//! screenshots of the home, an entity and a scorecard page at 1280 and
//! 390 px wide (the path is printed; docs/screenshots/ holds copies).
//!
//! scripts/test installs `chromium` and `chromium-driver`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use super::report::{fixture, report, NOW};
use crate::common::TestEnv;

/// chromedriver on a free loopback port, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver(log: &Path) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .arg(format!("--log-path={}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian package chromium-driver; scripts/test installs it)");
    let driver = Driver { child, port };
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    driver
}

/// chromedriver's (non-W3C) endpoint for the browser console log.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}

async fn console(client: &Client) -> Vec<Value> {
    let log = client.issue_cmd(BrowserLog).await.expect("browser log");
    log.as_array().cloned().unwrap_or_default()
}

/// Every resource the page loaded (and the page itself): all `file://`.
async fn assert_only_file_requests(client: &Client) {
    let urls = client
        .execute(
            "return performance.getEntries().filter(e => e.entryType === 'navigation' || e.entryType === 'resource').map(e => e.name);",
            vec![],
        )
        .await
        .expect("performance entries");
    let urls: Vec<String> = serde_json::from_value(urls).expect("names");
    assert!(!urls.is_empty(), "no performance entries at all");
    for u in &urls {
        assert!(
            u.starts_with("file://"),
            "a request left file://: {u} (all: {urls:?})"
        );
    }
}

async fn h1(client: &Client) -> String {
    client
        .find(Locator::Css("h1"))
        .await
        .expect("h1")
        .text()
        .await
        .expect("text")
}

async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(e) = client.find(Locator::Css(css)).await {
            return e;
        }
        assert!(Instant::now() < deadline, "{css} never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn shoot(client: &Client, dir: &Path, name: &str, width: u32) {
    client.set_window_size(width, 900).await.expect("resize");
    let png = client.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(dir.join(format!("{name}-{width}.png")), png).expect("save screenshot");
}

/// Where the screenshots go: under the target directory, kept after the test.
fn artefacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("report-screenshots");
    std::fs::create_dir_all(&dir).expect("artefact dir");
    dir
}

#[test]
fn the_site_works_in_a_real_browser() {
    let env = TestEnv::at(NOW);
    let repo = fixture(&env);
    let site = env.root.join("site");
    report(&env, &repo, &site, &[]).ok();
    let driver = start_driver(&env.root.join("chromedriver.log"));
    let profile = env.dir("chromium-profile");
    let shots = artefacts();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--hide-scrollbars", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("a WebDriver session");
        let url = |page: &str| format!("file://{}/{page}", site.display());

        // The console log is read for real: a probe message shows up (and
        // reading the log empties it).
        client.goto(&url("index.html")).await.expect("home");
        client
            .execute("console.error('idp-probe');", vec![])
            .await
            .expect("probe");
        let probe = console(&client).await;
        assert!(
            probe.iter().any(|e| e["message"].as_str().unwrap_or("").contains("idp-probe")),
            "the browser log is not readable: {probe:?}"
        );

        // Home: rendered, with its charts drawn at a real size.
        assert_eq!(h1(&client).await, "Catalog");
        let charts = client
            .execute(
                "return [...document.querySelectorAll('figure.chart svg[role=img]')].map(s => s.getBoundingClientRect().width);",
                vec![],
            )
            .await
            .expect("charts");
        let widths: Vec<f64> = serde_json::from_value(charts).expect("widths");
        assert!(!widths.is_empty() && widths.iter().all(|w| *w > 100.0), "{widths:?}");
        assert_only_file_requests(&client).await;
        // The stylesheet and script beside the page were loaded from file://.
        let styled = client
            .execute("return getComputedStyle(document.querySelector('header.top')).display;", vec![])
            .await
            .expect("style");
        assert_eq!(styled, "flex", "assets/style.css applied");
        shoot(&client, &shots, "home", 1280).await;
        shoot(&client, &shots, "home", 390).await;
        client.set_window_size(1280, 900).await.expect("resize");

        // To an entity (from the recent changes), then to its owning team.
        client
            .find(Locator::Css("a[href$='entity/component-default-cart.html']"))
            .await
            .expect("a link to cart")
            .click()
            .await
            .expect("click");
        assert_eq!(h1(&client).await, "cart");
        assert!(client.current_url().await.unwrap().as_str().ends_with("/entity/component-default-cart.html"));
        assert_only_file_requests(&client).await;
        shoot(&client, &shots, "entity", 1280).await;
        shoot(&client, &shots, "entity", 390).await;
        client.set_window_size(1280, 900).await.expect("resize");
        client
            .find(Locator::Css("#h-owner + p a"))
            .await
            .expect("the owner link")
            .click()
            .await
            .expect("click");
        assert_eq!(h1(&client).await, "Checkout Team");
        let owned = client
            .find(Locator::Css("a[href$='component-default-cart.html']"))
            .await;
        assert!(owned.is_ok(), "the team page lists what it owns");

        // Search from the header by a word of a description.
        let q = client.find(Locator::Id("q")).await.expect("search box");
        q.send_keys("zebra").await.expect("type");
        client
            .find(Locator::Css("form.search button"))
            .await
            .expect("search button")
            .click()
            .await
            .expect("submit");
        let hit = wait_for(&client, "#search-results a").await;
        assert_eq!(hit.text().await.unwrap(), "cart");
        let n = client
            .find_all(Locator::Css("#search-results li"))
            .await
            .unwrap()
            .len();
        assert_eq!(n, 1, "only cart's description has the word");
        assert_only_file_requests(&client).await;
        hit.click().await.expect("open the hit");
        assert_eq!(h1(&client).await, "cart");

        // The scorecard page.
        client.goto(&url("scorecard/basics.html")).await.expect("scorecard");
        assert_eq!(h1(&client).await, "Basics");
        shoot(&client, &shots, "scorecard", 1280).await;
        shoot(&client, &shots, "scorecard", 390).await;
        client.set_window_size(1280, 900).await.expect("resize");

        // Hostile text is text: no element came from it.
        client
            .goto(&url("entity/component-default-evil.html"))
            .await
            .expect("evil");
        let title = h1(&client).await;
        assert!(title.starts_with("<script>alert('title')</script> \"><img"), "{title}");
        let dom = client
            .execute(
                "return {scripts: [...document.scripts].map(s => s.src), imgs: document.images.length, alerted: window.__alerted || false};",
                vec![],
            )
            .await
            .expect("dom");
        assert_eq!(dom["imgs"], 0, "{dom}");
        let scripts: Vec<String> = serde_json::from_value(dom["scripts"].clone()).unwrap();
        assert!(
            scripts.iter().all(|s| s.ends_with("/assets/app.js")),
            "{scripts:?}"
        );
        assert_only_file_requests(&client).await;

        // The console stayed clean on every page visited.
        let log = console(&client).await;
        let bad: Vec<&Value> = log
            .iter()
            .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
            .collect();
        assert!(bad.is_empty(), "console errors: {bad:#?}");
        client.close().await.expect("close the session");
    });
    eprintln!("report screenshots: {}", shots.display());
    drop(driver);
}
