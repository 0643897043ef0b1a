//! Webhook events survive the server being killed (SIGKILL): with the event's dispatch still
//! waiting, and again with a delivery waiting for its retry. Events, deliveries and their jobs
//! are rows written in transactions, so a restarted server finds them and delivers every event.

use std::time::{Duration, Instant};

use fbgate::vault::MasterKey;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, Engine, fresh_database, on_both_engines, serve};
use crate::webhooks::{Receiver, signature_verifies};

on_both_engines!(every_event_is_delivered_although_the_server_was_killed_twice);

async fn post(client: &reqwest::Client, url: String, key: &str, body: Value) -> Value {
    let response = client
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// Attempts recorded on the endpoint's only delivery (0 while there is none).
async fn attempts_recorded(client: &reqwest::Client, deliveries_url: &str, key: &str) -> usize {
    let page: Value = client
        .get(deliveries_url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["data"][0]["attempts"].as_array().map_or(0, Vec::len)
}

async fn every_event_is_delivered_although_the_server_was_killed_twice(engine: Engine) {
    let database = fresh_database(engine).await;
    let data_dir = tempfile::tempdir().unwrap();
    let (_, master_key) = MasterKey::generate().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    // The receiver fails the first attempt, so the second crash hits a delivery awaiting retry.
    let receiver = Receiver::start(1).await;

    // A server whose job runner polls once at start, then not for a minute: the event and its
    // dispatch job are written, and nothing runs them before the kill.
    let server = serve(&address, &database, &master_key, data_dir.path(), 60_000).await;
    let env = post(
        &client,
        format!("{address}/v1/environments"),
        ADMIN_TOKEN,
        json!({ "slug": "crash", "name": "Crash" }),
    )
    .await;
    let secret_key = env["secret_key"].as_str().unwrap();
    let endpoint = post(
        &client,
        format!("{address}/v1/webhook-endpoints"),
        secret_key,
        json!({ "url": receiver.url, "events": ["user.created"] }),
    )
    .await;
    let user = post(
        &client,
        format!("{address}/v1/users"),
        secret_key,
        json!({ "email": "crash@example.com" }),
    )
    .await;
    server.kill();
    assert!(receiver.received().is_empty(), "nothing was delivered yet");

    // Restarted, it dispatches and makes the first attempt (which fails); killed again while
    // the retry waits.
    let server = serve(&address, &database, &master_key, data_dir.path(), 50).await;
    let id = endpoint["id"].as_str().unwrap();
    let deliveries_url = format!("{address}/v1/webhook-endpoints/{id}/deliveries");
    let deadline = Instant::now() + Duration::from_secs(30);
    // Killed once the failed attempt is recorded (the kill is meant to hit the wait for the
    // retry, not the moment between sending and recording).
    while attempts_recorded(&client, &deliveries_url, secret_key).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the first attempt was never made"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    assert!(!receiver.received().is_empty());

    // Restarted again, it makes the retry.
    let _server = serve(&address, &database, &master_key, data_dir.path(), 50).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.received().len() < 2 {
        assert!(Instant::now() < deadline, "the event was never delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = receiver.wait_for(2).await;
    assert_eq!(received.len(), 2, "{received:?}");
    let secret = endpoint["signing_secret"].as_str().unwrap();
    for request in &received {
        assert!(signature_verifies(request, secret));
        assert_eq!(request.event_id, received[0].event_id);
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(body["data"]["user"]["id"], user["id"]);
    }
    let deliveries: Value = client
        .get(&deliveries_url)
        .bearer_auth(secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(deliveries["data"].as_array().unwrap().len(), 1);
    assert_eq!(deliveries["data"][0]["status"], "succeeded");
    assert_eq!(
        deliveries["data"][0]["attempts"].as_array().unwrap().len(),
        2
    );
}
