//! The client secret: sealed at rest, opened only for the calls to Facebook, and in no answer.

use std::sync::Arc;
use std::time::Duration;

use fbgate::clock::SystemClock;
use fbgate::domain::{Context, Settings, providers};
use fbgate::vault::{MasterKey, Vault};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{NEW_SECRET, SECRET, minimal, post, send};
use crate::helpers::{Engine, TestApp, database_contents, on_both_engines, spawn_app};

on_both_engines!(the_client_secret_is_sealed_at_rest_and_in_no_answer);

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn context_of(app: &TestApp) -> Context {
    let store = app.store().await;
    let master = MasterKey::from_base64(app.master_key.expose()).unwrap();
    let settings = Settings {
        issuer: app.address.clone(),
        session_ttl: Duration::from_secs(3600),
        webhook_retry_base: Duration::from_secs(5),
        credentials: Default::default(),
        health: Default::default(),
    };
    Context::new(
        store.clone(),
        Vault::new(master, store),
        Arc::new(SystemClock),
        settings,
        Arc::new(fbgate::domain::avatars::FileAvatarStore::in_data_dir(
            &std::env::temp_dir(),
        )),
    )
}

async fn the_client_secret_is_sealed_at_rest_and_in_no_answer(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("sealed").await;

    let mut answers = Vec::new();
    let response = post(&app, &env, &minimal()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let text = response.text().await.unwrap();
    let id = serde_json::from_str::<Value>(&text).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    answers.push(text);
    let path = format!("/v1/oauth-providers/{id}");
    for (method, body) in [
        (reqwest::Method::GET, None),
        (
            reqwest::Method::PATCH,
            Some(json!({"client_secret": NEW_SECRET})),
        ),
        (reqwest::Method::GET, None),
    ] {
        let response = send(&app, &env, method, &path, body.as_ref()).await;
        assert_eq!(response.status(), StatusCode::OK);
        answers.push(response.text().await.unwrap());
    }
    let list = send(
        &app,
        &env,
        reqwest::Method::GET,
        "/v1/oauth-providers",
        None,
    )
    .await;
    answers.push(list.text().await.unwrap());
    for answer in &answers {
        assert!(answer.contains("\"client_secret_set\":true"), "{answer}");
        assert!(
            !answer.contains(SECRET) && !answer.contains(NEW_SECRET),
            "{answer}"
        );
    }

    // The sign-in flow opens the replaced secret.
    let ctx = context_of(&app).await;
    let provider = providers::get(&ctx, &env.id, &id).await.unwrap();
    assert_eq!(
        providers::client_secret(&ctx, &provider)
            .await
            .unwrap()
            .expose(),
        NEW_SECRET
    );
    let facebook = providers::facebook_app(&ctx, &provider).await.unwrap();
    assert_eq!(facebook.app_id, "1234567890123456");
    assert_eq!(facebook.app_secret.expose(), NEW_SECRET);

    let contents = database_contents(&app).await;
    assert!(
        contains(&contents, id.as_bytes()),
        "the scan must see the provider's row"
    );
    for secret in [SECRET, NEW_SECRET] {
        assert!(
            !contains(&contents, secret.as_bytes()),
            "plaintext client secret found in the database"
        );
        assert!(
            !contains(&contents, hex::encode(secret).as_bytes()),
            "hex-encoded client secret found in the database"
        );
    }

    // A deleted provider's answer carries no secret either.
    let deleted = send(&app, &env, reqwest::Method::DELETE, &path, None).await;
    let text = deleted.text().await.unwrap();
    assert!(!text.contains(NEW_SECRET), "{text}");
}
