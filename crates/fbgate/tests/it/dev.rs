//! `fbgate dev` as a new user meets it: zero configuration, and a demo that signs in with
//! Facebook (the built-in emulator) end to end, over HTTP and in a real browser.

use std::path::PathBuf;

use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A running `fbgate dev` in a fresh directory, with what its banner printed.
struct Dev {
    api: String,
    sim: String,
    secret_key: String,
    data_dir: PathBuf,
    _dir: tempfile::TempDir,
    _child: tokio::process::Child,
}

async fn start_dev() -> Dev {
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fbgate"))
        .args(["dev", "--sim-listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_clear()
        .env("FBGATE_LISTEN", "127.0.0.1:0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut api, mut sim, mut secret_key) = (None, None, None);
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["API", url, ..] if url.starts_with("http") => api = Some((*url).to_owned()),
                ["Facebook", "emulator", url, ..] => sim = Some((*url).to_owned()),
                ["secret", "key", key] => secret_key = Some((*key).to_owned()),
                ["publishable", ..] => break,
                _ => {}
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), read)
        .await
        .expect("dev prints its banner");
    Dev {
        api: api.expect("API address printed"),
        sim: sim.expect("emulator address printed"),
        secret_key: secret_key.expect("secret key printed"),
        data_dir: dir.path().join("fbgate-data"),
        _dir: dir,
        _child: child,
    }
}

fn unescape(html: &str) -> String {
    html.replace("&#38;", "&").replace("&amp;", "&")
}

#[tokio::test]
async fn dev_runs_with_zero_configuration_and_keeps_its_keys_private() {
    let dev = start_dev().await;
    assert!(dev.secret_key.starts_with("sk_test_"));
    let client = reqwest::Client::new();
    let ready = client
        .get(format!("{}/readyz", dev.api))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let docs = client
        .get(format!("{}/docs/", dev.api))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let keys = client
        .get(format!("{}/v1/api-keys", dev.api))
        .bearer_auth(&dev.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(keys.status(), StatusCode::OK);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in ["master.key", "admin-token", "dev-environment.json"] {
            let mode = std::fs::metadata(dev.data_dir.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }
}

#[tokio::test]
async fn the_demo_signs_in_with_the_emulator_over_http() {
    let dev = start_dev().await;
    let client = reqwest::Client::new();
    let consent = client
        .post(format!("{}/_sim/apps/{}/auto-consent", dev.sim, fbgate_sim::DEMO_APP_ID))
        .json(&serde_json::json!({ "user_id": fbgate_sim::DEMO_USER_ADA, "declined": ["user_friends"] }))
        .send()
        .await
        .unwrap();
    assert!(consent.status().is_success());
    let page = client
        .get(format!("{}/demo", dev.api))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Continue with Facebook"));
    let start = unescape(
        page.split("id=\"continue-with-facebook\" href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap(),
    );
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = no_redirects.get(&start).send().await.unwrap();
    assert_eq!(authorize.status(), StatusCode::FOUND);
    let cookie = authorize.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let dialog = authorize.headers()["location"].to_str().unwrap().to_owned();
    let at_dialog = no_redirects.get(&dialog).send().await.unwrap();
    let callback = at_dialog.headers()["location"].to_str().unwrap().to_owned();
    let back = no_redirects
        .get(&callback)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::FOUND);
    let result = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        result.starts_with(&format!("{}/demo/return?code=", dev.api)),
        "{result}"
    );
    let shown = client
        .get(&result)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(shown.contains("Ada Lovelace"), "{shown}");
    assert!(
        shown.contains("id=\"declined-scopes\">user_friends"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_signs_in_in_headless_chromium_with_a_declined_permission() {
    let Some(browser) = fbgate_testkit::webdriver::launch_or_skip("dev::demo_in_chromium").await
    else {
        return;
    };
    let dev = start_dev().await;
    browser.goto(&format!("{}/demo", dev.api)).await;
    let button = browser.find("#continue-with-facebook").await;
    browser.click(&button).await;

    // Facebook's (the emulator's) dialog: pick Ada, untick user_friends, continue.
    let ada = browser
        .find(&format!(
            "input[name=user_id][value=\"{}\"]",
            fbgate_sim::DEMO_USER_ADA
        ))
        .await;
    browser.click(&ada).await;
    let friends = browser
        .find("input[name=granted][value=user_friends]")
        .await;
    assert!(
        browser.is_selected(&friends).await,
        "permissions are granted by default"
    );
    browser.click(&friends).await;
    assert!(!browser.is_selected(&friends).await);
    let continue_button = browser.find("button[name=action][value=continue]").await;
    browser.click(&continue_button).await;

    // Back on the demo, signed in, with the declined permission shown.
    let Some(signed_in) = browser
        .wait_for("#signed-in", std::time::Duration::from_secs(10))
        .await
    else {
        panic!(
            "not signed in at {}: {}",
            browser.current_url().await,
            browser.page_text().await
        );
    };
    let text = browser.text(&signed_in).await;
    assert!(
        browser
            .current_url()
            .await
            .starts_with(&format!("{}/demo/return", dev.api))
    );
    assert!(text.contains("Ada Lovelace"), "{text}");
    let declined = browser.text(&browser.find("#declined-scopes").await).await;
    assert_eq!(declined, "user_friends");
    let granted = browser.text(&browser.find("#granted-scopes").await).await;
    assert!(granted.contains("email"), "{granted}");
    let status = browser.text(&browser.find("#token-status").await).await;
    assert_eq!(status, "active");
    browser.quit().await;
}
