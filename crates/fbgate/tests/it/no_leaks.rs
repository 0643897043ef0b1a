//! Secrets never leak: after a complete sign-in, a tenant's connect flow with a page and a health
//! check of every token, neither a Facebook token (user, tenant user, page) nor the app secret
//! (nor the session token, connect token or API keys) appears in the logs at TRACE level, in the
//! database, or in any API answer except `credentials/get`, the one endpoint that exists to hand
//! tokens out.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::helpers::{Engine, database_contents, spawn_app};

/// A log sink the test can read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

async fn sign_in_and_check(engine: Engine) {
    let logs = Captured::default();
    let sink = logs.clone();
    // Everything at TRACE, except the emulator: it plays Facebook, whose own logs are not ours.
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(move || sink.clone())
                .with_ansi(false)
                .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                    !meta.target().starts_with("fbgate_sim")
                })),
        )
        .with(tracing_subscriber::filter::LevelFilter::TRACE);
    // The test runtime is single-threaded, so the server spawned below logs through this guard.
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = spawn_app(engine).await;
    let env = app.create_environment("leaks").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Careful Person", Some("careful@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let returned = app.sign_in(&env, &provider, "").await;
    let signed_in = app.exchange(&env, &returned).await;
    let user_id = signed_in["user"]["id"].as_str().unwrap().to_owned();

    let credential: Value = app
        .client
        .post(app.url("/v1/credentials/get"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "provider": "facebook", "user_id": user_id, "credential_for": "user" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = credential["credential"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let session_token = signed_in["session_token"].as_str().unwrap().to_owned();
    assert!(token.len() > 20);

    // A tenant's user connects with a page, and the health job checks every token.
    let (owner, page_id) = crate::connections::page_owner(&app).await;
    app.consent_as(&provider, &owner, &[]).await;
    let session: Value = app
        .client
        .post(app.url("/v1/connect-sessions"))
        .bearer_auth(&env.secret_key)
        .json(&json!({
            "provider": "facebook", "tenant_id": "org_acme", "user_id": "user_1",
            "redirect_to": "http://app.test/connected", "scopes": ["pages_show_list"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let connect_token = session["token"].as_str().unwrap().to_owned();
    app.browse(session["authorization_url"].as_str().unwrap())
        .await;
    let mut tenant_tokens = Vec::new();
    for extra in [
        json!({}),
        json!({ "credential_for": "page", "page_id": page_id }),
    ] {
        let mut body = json!({
            "provider": "facebook", "tenant_id": "org_acme", "user_id": "user_1",
            "credential_for": "user",
        });
        for (key, value) in extra.as_object().unwrap() {
            body[key] = value.clone();
        }
        let answer: Value = app
            .client
            .post(app.url("/v1/credentials/get"))
            .bearer_auth(&env.secret_key)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tenant_tokens.push(
            answer["credential"]["access_token"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let checked = app
        .client
        .post(app.url("/v1/credentials/check"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "all": true }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(checked.contains("\"active\""), "{checked}");

    // Every other answer the app can see about this user and provider.
    let mut answers = vec![signed_in.to_string(), checked.clone()];
    for path in [
        format!("/v1/users/{user_id}"),
        format!("/v1/users/{user_id}/identities"),
        format!("/v1/users/{user_id}/identities/facebook"),
        format!("/v1/oauth-providers/{}", provider.id),
        "/v1/oauth-providers".to_owned(),
        "/v1/users".to_owned(),
        "/v1/connections".to_owned(),
    ] {
        let body = app
            .client
            .get(app.url(&path))
            .bearer_auth(&env.secret_key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        answers.push(body);
    }
    for answer in &answers {
        assert!(
            !answer.contains(&token),
            "the Facebook token is in an API answer: {answer}"
        );
        assert!(
            !answer.contains(&provider.app_secret),
            "the app secret is in an API answer"
        );
        for tenant_token in &tenant_tokens {
            assert!(
                !answer.contains(tenant_token),
                "a tenant's token is in an API answer"
            );
        }
    }

    let stored = database_contents(&app).await;
    assert!(contains(&stored, &user_id), "the scan sees the rows");
    for (what, secret) in [
        ("Facebook token", &token),
        ("app secret", &provider.app_secret),
        ("session token", &session_token),
        ("connect session token", &connect_token),
        ("tenant user token", &tenant_tokens[0]),
        ("page token", &tenant_tokens[1]),
    ] {
        assert!(!contains(&stored, secret), "{what} found in the database");
    }

    let logs = logs.0.lock().unwrap().clone();
    assert!(
        contains(&logs, "/v1/oauth-callback/facebook"),
        "the logs captured the sign-in"
    );
    assert!(
        contains(&logs, "/v1/credentials/check"),
        "the logs captured the health check"
    );
    for (what, secret) in [
        ("Facebook token", token.as_str()),
        ("app secret", provider.app_secret.as_str()),
        ("session token", session_token.as_str()),
        ("secret key", env.secret_key.as_str()),
        ("connect session token", connect_token.as_str()),
        ("tenant user token", tenant_tokens[0].as_str()),
        ("page token", tenant_tokens[1].as_str()),
    ] {
        assert!(!contains(&logs, secret), "{what} found in the TRACE logs");
    }
}

#[tokio::test]
async fn no_secret_reaches_logs_database_or_answers_on_sqlite() {
    sign_in_and_check(Engine::Sqlite).await;
}

#[tokio::test]
async fn no_secret_reaches_logs_database_or_answers_on_postgres() {
    if crate::helpers::postgres_url().is_none() {
        eprintln!("FBGATE_TEST_POSTGRES_URL is not set; PostgreSQL half not run");
        return;
    }
    sign_in_and_check(Engine::Postgres).await;
}
