//! Bad input of every kind gets the documented error JSON and a 4xx status, never a 500.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, Engine, error_code, spawn_app};

#[tokio::test]
async fn every_kind_of_bad_input_gets_a_documented_4xx() {
    let app = spawn_app(Engine::Sqlite).await;
    let env = app.create_environment("errors").await;
    let post_env = || {
        app.client
            .post(app.url("/v1/environments"))
            .bearer_auth(ADMIN_TOKEN)
    };

    // Malformed JSON.
    let r = post_env()
        .header("content-type", "application/json")
        .body("{\"slug\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::BAD_REQUEST).await,
        "malformed_json"
    );

    // Bad UTF-8 inside a JSON string.
    let r = post_env()
        .header("content-type", "application/json")
        .body(b"{\"slug\": \"\xff\xfe\"}".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::BAD_REQUEST).await,
        "malformed_json"
    );

    // Trailing garbage after the value.
    let r = post_env()
        .header("content-type", "application/json")
        .body("{\"slug\":\"a\"} x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::BAD_REQUEST).await,
        "malformed_json"
    );

    // Wrong type: names the field.
    let r = post_env()
        .json(&json!({ "slug": 42 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_body");
    assert_eq!(body["error"]["field"], "slug");

    // Unknown field where forbidden.
    let r = post_env()
        .json(&json!({ "slug": "ok", "colour": "blue" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_body"
    );

    // Missing field.
    let r = post_env()
        .json(&json!({ "name": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_body"
    );

    // A value the domain refuses, with the field named.
    let r = post_env()
        .json(&json!({ "slug": "Not A Slug" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["field"], "slug");

    // Not JSON at all.
    let r = post_env()
        .body("slug=x")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await,
        "unsupported_media_type"
    );

    // Oversized body (the test server allows 64 KiB).
    let huge = format!("{{\"slug\": \"{}\"}}", "a".repeat(200 * 1024));
    let r = post_env()
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::PAYLOAD_TOO_LARGE).await,
        "payload_too_large"
    );

    // Missing credentials, wrong scheme, wrong operator token.
    let r = app
        .client
        .post(app.url("/v1/environments"))
        .json(&json!({ "slug": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::UNAUTHORIZED).await,
        "missing_credentials"
    );
    let r = app
        .client
        .get(app.url("/v1/environments"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::UNAUTHORIZED).await,
        "missing_credentials"
    );
    let r = app
        .client
        .get(app.url("/v1/environments"))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::UNAUTHORIZED).await,
        "invalid_operator_token"
    );

    // An environment's key is not the operator token.
    let r = app
        .client
        .get(app.url("/v1/environments"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::UNAUTHORIZED).await,
        "invalid_operator_token"
    );

    // Wrong key kind: a publishable key on a secret-key endpoint.
    let r = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&env.publishable_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::FORBIDDEN).await,
        "secret_key_required"
    );

    // An unknown key.
    let r = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth("sk_live_doesnotexist")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::UNAUTHORIZED).await,
        "invalid_api_key"
    );

    // Bad query values.
    for query in ["limit=0", "limit=101", "limit=abc", "bogus=1"] {
        let r = app
            .client
            .get(app.url(&format!("/v1/environments?{query}")))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(
            body["error"]["code"]
                .as_str()
                .unwrap()
                .starts_with("invalid_"),
            "{query}"
        );
    }

    // Unknown routes and methods.
    let r = app
        .client
        .get(app.url("/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, StatusCode::NOT_FOUND).await, "not_found");
    let r = app
        .client
        .put(app.url("/v1/environments"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(r, StatusCode::METHOD_NOT_ALLOWED).await,
        "method_not_allowed"
    );
}
