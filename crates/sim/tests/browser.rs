//! The login dialog used by a real browser (issue 3, acceptance 2): headless Chromium, driven
//! through chromedriver, picks a test user, unticks a permission and presses Continue or
//! Cancel; the app's redirect URI is a small HTTP server of the test that records what the
//! browser brought back.
//!
//! Needs Debian's `chromium` and `chromium-driver` packages. Without them the tests print a
//! notice and pass, unless `CI` is set, where they fail.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::http::Uri;
use axum::response::Html;
use axum::routing::get;
use fbgate_sim::{SimConfig, SimServer};
use fbgate_testkit::webdriver::{self, Browser};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// A state with characters that must survive the round trip through the page's hidden fields.
const STATE: &str = "st 7/Ω+&=x";

/// The app's side: an HTTP server whose `/callback` records each request it receives.
struct AppCallback {
    redirect_uri: String,
    received: mpsc::UnboundedReceiver<Uri>,
    task: tokio::task::JoinHandle<()>,
}

impl AppCallback {
    async fn start() -> AppCallback {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let redirect_uri = format!("http://{}/callback", listener.local_addr().unwrap());
        let (sender, received) = mpsc::unbounded_channel();
        let app = Router::new().route(
            "/callback",
            get(move |uri: Uri| {
                let _ = sender.send(uri);
                async { Html("<!doctype html><title>App callback</title><p>Back at the app.") }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        AppCallback {
            redirect_uri,
            received,
            task,
        }
    }

    /// The next request the browser made to the callback: its raw query and its parameters.
    async fn next(&mut self) -> (String, HashMap<String, String>) {
        let uri = tokio::time::timeout(Duration::from_secs(30), self.received.recv())
            .await
            .expect("the browser did not reach the app's redirect URI within 30 s")
            .unwrap();
        let query = uri.query().unwrap_or_default().to_owned();
        let params = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        (query, params)
    }
}

impl Drop for AppCallback {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The emulator with an app whose only redirect URI is the test's callback, and a test user.
struct Setup {
    sim: SimServer,
    http: reqwest::Client,
    callback: AppCallback,
    app_id: String,
    app_secret: String,
    user_id: String,
}

impl Setup {
    async fn start() -> Setup {
        let sim = SimServer::start(SimConfig::default()).await.unwrap();
        let http = reqwest::Client::new();
        let callback = AppCallback::start().await;
        let app = control(
            &http,
            &sim,
            "/_sim/apps",
            json!({ "name": "Browser Test App", "redirect_uris": [callback.redirect_uri] }),
        )
        .await;
        // A user created for this test, so that picking it (not the page's default choice,
        // the first seeded user) is what decides who logs in.
        let user = control(
            &http,
            &sim,
            "/_sim/users",
            json!({ "name": "Grace Hopper", "email": "grace@example.com" }),
        )
        .await;
        Setup {
            app_id: app["app_id"].as_str().unwrap().to_owned(),
            app_secret: app["app_secret"].as_str().unwrap().to_owned(),
            user_id: user["id"].as_str().unwrap().to_owned(),
            sim,
            http,
            callback,
        }
    }

    fn dialog_url(&self, scope: &str) -> String {
        url::Url::parse_with_params(
            &format!("{}/v21.0/dialog/oauth", self.sim.url()),
            [
                ("client_id", self.app_id.as_str()),
                ("redirect_uri", self.callback.redirect_uri.as_str()),
                ("scope", scope),
                ("state", STATE),
            ],
        )
        .unwrap()
        .to_string()
    }

    async fn graph(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.sim.url()))
            .query(query)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {body}");
        body
    }
}

async fn control(http: &reqwest::Client, sim: &SimServer, path: &str, body: Value) -> Value {
    let response = http
        .post(format!("{}{path}", sim.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "POST {path}: {status} {body}");
    body
}

async fn browser(test: &str) -> Option<Browser> {
    webdriver::launch_or_skip(test).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_unticked_in_chromium_is_declined_after_the_code_exchange() {
    let Some(browser) = browser("browser::continue").await else {
        return;
    };
    let mut setup = Setup::start().await;

    browser
        .goto(&setup.dialog_url("public_profile,email,user_friends"))
        .await;
    assert_eq!(browser.title().await, "Log in With Facebook");
    let public_profile = browser
        .find(r#"input[type=checkbox][name=granted][value=public_profile]"#)
        .await;
    assert!(browser.is_selected(&public_profile).await);
    assert!(
        !browser.is_enabled(&public_profile).await,
        "public_profile cannot be unticked"
    );

    let user = browser
        .find(&format!(
            r#"input[type=radio][name=user_id][value="{}"]"#,
            setup.user_id
        ))
        .await;
    assert!(
        !browser.is_selected(&user).await,
        "the new user is not the default choice"
    );
    browser.click(&user).await;
    assert!(browser.is_selected(&user).await);

    let friends = browser
        .find(r#"input[type=checkbox][name=granted][value=user_friends]"#)
        .await;
    let email = browser
        .find(r#"input[type=checkbox][name=granted][value=email]"#)
        .await;
    assert!(
        browser.is_selected(&friends).await,
        "permissions start ticked"
    );
    browser.click(&friends).await;
    assert!(!browser.is_selected(&friends).await);
    assert!(browser.is_selected(&email).await);

    browser
        .click(&browser.find(r#"button[name=action][value=continue]"#).await)
        .await;
    let (_, params) = setup.callback.next().await;
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
    assert!(!params.contains_key("error"), "{params:?}");
    let code = params
        .get("code")
        .expect("the redirect carries a code")
        .clone();
    assert!(
        browser
            .current_url()
            .await
            .starts_with(&setup.callback.redirect_uri),
        "the browser ended at the app"
    );
    browser.quit().await;

    let exchanged = setup
        .graph(
            "/v21.0/oauth/access_token",
            &[
                ("client_id", &setup.app_id),
                ("client_secret", &setup.app_secret),
                ("redirect_uri", &setup.callback.redirect_uri),
                ("code", &code),
            ],
        )
        .await;
    let token = exchanged["access_token"].as_str().unwrap().to_owned();

    let me = setup
        .graph(
            "/v21.0/me",
            &[("fields", "id,name,email"), ("access_token", &token)],
        )
        .await;
    assert_eq!(me["id"], setup.user_id.as_str());
    assert_eq!(me["email"], "grace@example.com");

    let permissions = setup
        .graph("/v21.0/me/permissions", &[("access_token", &token)])
        .await;
    let statuses: HashMap<&str, &str> = permissions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["permission"].as_str().unwrap(),
                p["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        HashMap::from([
            ("public_profile", "granted"),
            ("email", "granted"),
            ("user_friends", "declined"),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_in_chromium_redirects_with_user_denied() {
    let Some(browser) = browser("browser::cancel").await else {
        return;
    };
    let mut setup = Setup::start().await;

    browser
        .goto(&setup.dialog_url("public_profile,email"))
        .await;
    browser
        .click(&browser.find(r#"button[name=action][value=cancel]"#).await)
        .await;
    let (query, params) = setup.callback.next().await;
    browser.quit().await;

    assert!(
        query.starts_with(
            "error=access_denied&error_code=200&error_description=Permissions+error\
             &error_reason=user_denied&state="
        ),
        "{query}"
    );
    assert_eq!(params.get("state").map(String::as_str), Some(STATE));
    assert!(!params.contains_key("code"), "{params:?}");
}
