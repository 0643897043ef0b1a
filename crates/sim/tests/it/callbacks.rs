use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::{Form, Json, Router};
use fbgate_sim::crypto::parse_signed_request;
use fbgate_sim::{DEMO_USER_ADA, DEMO_USER_NOMAIL};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{graph_error, start};

type Received = Arc<Mutex<Vec<String>>>;

/// An app's callback endpoints, recording each `signed_request`.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let deauth = received.clone();
    let deletion = received.clone();
    let app = Router::new()
        .route(
            "/deauth",
            post(move |Form(form): Form<Vec<(String, String)>>| async move {
                deauth.lock().unwrap().push(form[0].1.clone());
                ""
            }),
        )
        .route(
            "/delete",
            post(move |Form(form): Form<Vec<(String, String)>>| async move {
                assert_eq!(form[0].0, "signed_request");
                deletion.lock().unwrap().push(form[0].1.clone());
                Json(json!({ "url": "https://app.example/deletion?id=abc", "confirmation_code": "abc123" }))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn app_with_callbacks(sim: &crate::helpers::TestSim, url: &str) -> (String, String) {
    let app = sim
        .control_post(
            "/_sim/apps",
            json!({
                "app_secret": "callback-secret",
                "redirect_uris": ["https://app.example/cb"],
                "deauthorize_callback_url": format!("{url}/deauth"),
                "data_deletion_callback_url": format!("{url}/delete"),
            }),
        )
        .await;
    assert_eq!(app.status, StatusCode::CREATED);
    (
        app.body["app_id"].as_str().unwrap().to_owned(),
        "callback-secret".to_owned(),
    )
}

#[tokio::test]
async fn removing_the_app_calls_the_deauthorize_callback_and_kills_tokens() {
    let sim = start().await;
    let (url, received) = receiver().await;
    let (app_id, secret) = app_with_callbacks(&sim, &url).await;
    let minted = sim
        .control_post(
            "/_sim/tokens",
            json!({ "app_id": app_id, "user_id": DEMO_USER_ADA, "scopes": ["email"] }),
        )
        .await;
    let token = minted.body["access_token"].as_str().unwrap().to_owned();
    let before = sim.now().await;
    let removed = sim
        .control_post(
            &format!("/_sim/apps/{app_id}/users/{DEMO_USER_ADA}/remove"),
            Value::Null,
        )
        .await;
    assert_eq!(removed.body["callback_status"], 200);
    let signed = received.lock().unwrap()[0].clone();
    assert!(!signed.contains('='), "Facebook sends unpadded base64url");
    let payload = parse_signed_request(&secret, &signed).unwrap();
    assert_eq!(payload["user_id"], DEMO_USER_ADA);
    assert_eq!(payload["algorithm"], "HMAC-SHA256");
    assert!(payload["issued_at"].as_i64().unwrap() >= before);
    assert!(parse_signed_request("other-secret", &signed).is_err());
    let me = sim.get("/v21.0/me", &[("access_token", &token)]).await;
    assert_eq!(graph_error(&me, 190)["error_subcode"], 458);
    // Logging in again later gives a working token; the old one stays dead.
    let again = sim
        .control_post(
            "/_sim/tokens",
            json!({ "app_id": app_id, "user_id": DEMO_USER_ADA }),
        )
        .await;
    let fresh = again.body["access_token"].as_str().unwrap();
    assert_eq!(
        sim.get("/v21.0/me", &[("access_token", fresh)])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        sim.get("/v21.0/me", &[("access_token", &token)])
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_data_deletion_request_calls_the_callback_and_returns_its_answer() {
    let sim = start().await;
    let (url, received) = receiver().await;
    let (app_id, secret) = app_with_callbacks(&sim, &url).await;
    let answer = sim
        .control_post(
            &format!("/_sim/apps/{app_id}/users/{DEMO_USER_NOMAIL}/data-deletion"),
            Value::Null,
        )
        .await;
    assert_eq!(answer.body["callback_status"], 200);
    assert_eq!(answer.body["callback_body"]["confirmation_code"], "abc123");
    let signed = received.lock().unwrap()[0].clone();
    let payload = parse_signed_request(&secret, &signed).unwrap();
    assert_eq!(payload["user_id"], DEMO_USER_NOMAIL);
    assert_eq!(
        payload["expires"].as_i64().unwrap() - payload["issued_at"].as_i64().unwrap(),
        3600
    );
}

#[tokio::test]
async fn callbacks_report_null_without_a_url_or_a_listener() {
    let sim = start().await;
    let app = sim
        .control_post(
            "/_sim/apps",
            json!({ "deauthorize_callback_url": "http://127.0.0.1:9/nothing" }),
        )
        .await;
    let app_id = app.body["app_id"].as_str().unwrap();
    let unreachable = sim
        .control_post(
            &format!("/_sim/apps/{app_id}/users/{DEMO_USER_ADA}/remove"),
            Value::Null,
        )
        .await;
    assert_eq!(unreachable.body["callback_status"], Value::Null);
    let none = sim
        .control_post(
            &format!("/_sim/apps/{app_id}/users/{DEMO_USER_ADA}/data-deletion"),
            Value::Null,
        )
        .await;
    assert_eq!(
        none.body,
        json!({ "callback_status": null, "callback_body": null })
    );
    let unknown = sim
        .control_post("/_sim/apps/1/users/2/remove", Value::Null)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
