//! Just enough of the W3C WebDriver protocol to drive Debian's headless Chromium through
//! `chromedriver`: open a page, find elements by CSS selector, click them, read their state.
//!
//! Written over `reqwest` (already a dependency) rather than pulling in a WebDriver crate:
//! `fantoccini` brings a second HTTP stack, `http` 0.2, two `cookie` versions and ICU
//! segmentation data for the handful of JSON calls a consent-page test needs.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Chromium's flags: headless, no sandbox (CI runs as root), and nothing that phones home.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// True when both Debian packages (`chromium`, `chromium-driver`) are installed.
pub fn chromium_installed() -> bool {
    Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists()
}

/// A `chromedriver` we started, with one Chromium session. Call [`Browser::quit`] at the end;
/// if a test fails first, dropping it kills chromedriver's process group (Chromium included).
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

/// A reference to an element of the current page.
pub struct Element(String);

impl Browser {
    /// Starts `chromedriver` on a port it picks itself and opens a Chromium session with a
    /// fresh profile.
    pub async fn launch() -> Browser {
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        let mut driver = command.spawn().unwrap();
        let stdout = driver.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // "ChromeDriver was started successfully on port 35367."
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(rest) = line.split("on port ").nth(1)
                    && line.contains("started successfully")
                {
                    return rest.trim_end_matches('.').parse::<u16>().unwrap();
                }
            }
            panic!("chromedriver exited before announcing its port");
        })
        .await
        .expect("chromedriver did not start within 30 s");
        // Keep reading what chromedriver prints, so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let http = reqwest::Client::new();
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                }
            }
        });
        let base = format!("http://127.0.0.1:{port}");
        let created = call(
            &http,
            Method::POST,
            &format!("{base}/session"),
            Some(capabilities),
        )
        .await;
        let id = created["sessionId"].as_str().unwrap().to_owned();
        Browser {
            http,
            session: format!("{base}/session/{id}"),
            driver,
            _profile: profile,
        }
    }

    async fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        call(&self.http, method, &format!("{}{path}", self.session), body).await
    }

    /// Navigates and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.command(Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn current_url(&self) -> String {
        let url = self.command(Method::GET, "/url", None).await;
        url.as_str().unwrap().to_owned()
    }

    pub async fn title(&self) -> String {
        let title = self.command(Method::GET, "/title", None).await;
        title.as_str().unwrap().to_owned()
    }

    /// Waits up to `timeout` for an element matching a CSS selector to appear (after a click
    /// that navigates, the new page may still be loading).
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Option<Element> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let found = call_raw(
                &self.http,
                Method::POST,
                &format!("{}/element", self.session),
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
            if let Some(id) = found.as_ref().and_then(|v| v[ELEMENT_KEY].as_str()) {
                return Some(Element(id.to_owned()));
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the whole page, for failure messages.
    pub async fn page_text(&self) -> String {
        let body = self.find("body").await;
        self.text(&body).await
    }

    /// The first element matching a CSS selector; fails the test when there is none.
    pub async fn find(&self, css: &str) -> Element {
        let found = self
            .command(
                Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        match found[ELEMENT_KEY].as_str() {
            Some(id) => Element(id.to_owned()),
            None => panic!("no element {css}: {found}"),
        }
    }

    pub async fn click(&self, element: &Element) {
        let path = format!("/element/{}/click", element.0);
        self.command(Method::POST, &path, Some(json!({}))).await;
    }

    /// The rendered text of an element.
    pub async fn text(&self, element: &Element) -> String {
        let path = format!("/element/{}/text", element.0);
        let text = self.command(Method::GET, &path, None).await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Whether a checkbox or radio button is checked.
    pub async fn is_selected(&self, element: &Element) -> bool {
        let path = format!("/element/{}/selected", element.0);
        self.command(Method::GET, &path, None)
            .await
            .as_bool()
            .unwrap()
    }

    pub async fn is_enabled(&self, element: &Element) -> bool {
        let path = format!("/element/{}/enabled", element.0);
        self.command(Method::GET, &path, None)
            .await
            .as_bool()
            .unwrap()
    }

    /// Closes Chromium and stops chromedriver.
    pub async fn quit(mut self) {
        self.command(Method::DELETE, "", None).await;
        let _ = self.driver.kill().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // After a failed assertion Chromium is still running under chromedriver: end the
        // whole process group chromedriver leads (it was started with `process_group(0)`).
        if let Some(pid) = self.driver.id() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Chromium for `test`, or `None` after the skip notice when it is not installed (which fails
/// the test when `CI` is set).
pub async fn launch_or_skip(test: &str) -> Option<Browser> {
    if !chromium_installed() {
        crate::unavailable::skip_or_fail(
            test,
            &format!("{CHROMIUM} and {CHROMEDRIVER}"),
            "apt-get install chromium chromium-driver",
        );
        return None;
    }
    Some(Browser::launch().await)
}

/// One WebDriver command whose failure is an answer, not a test failure.
async fn call_raw(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<Value>,
) -> Option<Value> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    Some(body["value"].clone())
}

/// One WebDriver command; a WebDriver error fails the test with the driver's message.
async fn call(http: &reqwest::Client, method: Method, url: &str, body: Option<Value>) -> Value {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "WebDriver {url}: {status} {body}");
    body["value"].clone()
}
