//! Environments and isolation between them.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, Engine, error_code, on_both_engines, spawn_app};

on_both_engines!(
    the_operator_creates_an_environment_and_gets_its_keys_once,
    a_taken_slug_is_a_conflict,
    environments_are_listed_in_pages,
    a_key_of_one_environment_never_sees_another,
);

async fn the_operator_creates_an_environment_and_gets_its_keys_once(engine: Engine) {
    let app = spawn_app(engine).await;
    let response = app
        .client
        .post(app.url("/v1/environments"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "slug": "production", "name": "Production" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("env_"));
    assert_eq!(body["slug"], "production");
    assert_eq!(body["mode"], "live");
    let secret = body["secret_key"].as_str().unwrap();
    assert!(secret.starts_with("sk_live_") && secret.len() > 40);
    assert!(
        body["publishable_key"]
            .as_str()
            .unwrap()
            .starts_with("pk_live_")
    );
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));

    // The listing never shows keys again.
    let list: Value = app
        .client
        .get(app.url("/v1/environments"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"][0]["slug"], "production");
    assert!(list["data"][0].get("secret_key").is_none());
    assert_eq!(list["next_cursor"], Value::Null);

    // The secret key works for its own environment.
    let own: Value = app
        .client
        .get(app.url(&format!(
            "/v1/environments/{}",
            body["id"].as_str().unwrap()
        )))
        .bearer_auth(secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["slug"], "production");
}

async fn a_taken_slug_is_a_conflict(engine: Engine) {
    let app = spawn_app(engine).await;
    app.create_environment("staging").await;
    let response = app
        .client
        .post(app.url("/v1/environments"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({ "slug": "staging" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response, StatusCode::CONFLICT).await,
        "slug_taken"
    );
}

async fn environments_are_listed_in_pages(engine: Engine) {
    let app = spawn_app(engine).await;
    for slug in ["one", "two", "three"] {
        app.create_environment(slug).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = app.url("/v1/environments?limit=2");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = app
            .client
            .get(url)
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for env in page["data"].as_array().unwrap() {
            seen.push(env["slug"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["one", "two", "three"]);
}

async fn a_key_of_one_environment_never_sees_another(engine: Engine) {
    let app = spawn_app(engine).await;
    let a = app.create_environment("tenant-a").await;
    let b = app.create_environment("tenant-b").await;

    let read_b_with_a = app
        .client
        .get(app.url(&format!("/v1/environments/{}", b.id)))
        .bearer_auth(&a.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(read_b_with_a, StatusCode::NOT_FOUND).await,
        "environment_not_found"
    );

    let keys_of_b: Value = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&b.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b_key_id = keys_of_b["data"][0]["id"].as_str().unwrap();

    let revoke_with_a = app
        .client
        .delete(app.url(&format!("/v1/api-keys/{b_key_id}")))
        .bearer_auth(&a.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(revoke_with_a, StatusCode::NOT_FOUND).await,
        "api_key_not_found"
    );

    let keys_of_a: Value = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&a.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = keys_of_a["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(!ids.contains(&b_key_id));

    // B's key still works: A's attempt changed nothing.
    let still = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&b.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), StatusCode::OK);
}
