use std::time::Instant;

use fbgate_sim::DEMO_USER_ADA;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{graph_error, start};

#[tokio::test]
async fn a_batch_answers_each_operation_in_order() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &["email"], false).await;
    let batch = json!([
        { "method": "GET", "relative_url": "me?fields=id,email" },
        { "method": "GET", "relative_url": "/v21.0/me/permissions" },
        { "method": "GET", "relative_url": "me?fields=nope" },
        { "method": "DELETE", "relative_url": "me/permissions/email" },
    ]);
    let answer = sim
        .post(
            "/v21.0/",
            &[("batch", &batch.to_string()), ("access_token", &token)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let entries = answer.body.as_array().unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0]["code"], 200);
    let body: Value = serde_json::from_str(entries[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({ "id": DEMO_USER_ADA, "email": "ada@example.com" })
    );
    assert!(
        entries[0]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "x-app-usage")
    );
    assert_eq!(entries[2]["code"], 400);
    let error: Value = serde_json::from_str(entries[2]["body"].as_str().unwrap()).unwrap();
    assert_eq!(error["error"]["code"], 100);
    assert_eq!(entries[3]["code"], 200);
    let without_headers = sim
        .post(
            "/",
            &[
                (
                    "batch",
                    &json!([{ "method": "GET", "relative_url": "me" }]).to_string(),
                ),
                ("access_token", &token),
                ("include_headers", "false"),
            ],
        )
        .await;
    assert!(without_headers.body[0].get("headers").is_none());
}

#[tokio::test]
async fn a_batch_over_fifty_operations_is_refused() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    let ops: Vec<Value> = (0..51)
        .map(|_| json!({ "method": "GET", "relative_url": "me" }))
        .collect();
    let answer = sim
        .post(
            "/v21.0",
            &[
                ("batch", &Value::Array(ops.clone()).to_string()),
                ("access_token", &token),
            ],
        )
        .await;
    graph_error(&answer, 100);
    let fifty = Value::Array(ops[..50].to_vec()).to_string();
    let answer = sim
        .post("/v21.0", &[("batch", &fifty), ("access_token", &token)])
        .await;
    assert_eq!(answer.body.as_array().unwrap().len(), 50);
}

#[tokio::test]
async fn injected_timeouts_make_batch_entries_null() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    sim.control_post("/_sim/faults", json!({ "batch_null_rate": 1.0 }))
        .await;
    let ops = json!([{ "method": "GET", "relative_url": "me" }, { "method": "GET", "relative_url": "me" }]);
    let answer = sim
        .post(
            "/v21.0",
            &[("batch", &ops.to_string()), ("access_token", &token)],
        )
        .await;
    assert_eq!(answer.body, json!([null, null]));
}

#[tokio::test]
async fn server_errors_are_injected_with_a_probability() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    let set = sim
        .control_post("/_sim/faults", json!({ "server_error_rate": 1.0 }))
        .await;
    assert_eq!(set.status, StatusCode::OK);
    let me = sim.get("/v21.0/me", &[("access_token", &token)]).await;
    assert_eq!(me.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(me.body["error"]["code"], 2);
    assert_eq!(me.body["error"]["is_transient"], true);
    sim.control(Method::DELETE, "/_sim/faults", Value::Null)
        .await;
    assert_eq!(
        sim.get("/v21.0/me", &[("access_token", &token)])
            .await
            .status,
        StatusCode::OK
    );
    let bad = sim
        .control_post("/_sim/faults", json!({ "server_error_rate": 2.0 }))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rate_limits_start_after_the_remaining_calls() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    let cases = [
        (4, "(#4) Application request limit reached"),
        (17, "(#17) User request limit reached"),
        (32, "(#32) Page request limit reached"),
        (
            613,
            "(#613) Calls to this api have exceeded the rate limit.",
        ),
        (
            80001,
            "(#80001) There have been too many calls to this Page account.",
        ),
    ];
    for (code, message) in cases {
        sim.control_post(
            "/_sim/faults",
            json!({ "rate_limit": { "code": code, "remaining_calls": 2 } }),
        )
        .await;
        for _ in 0..2 {
            assert_eq!(
                sim.get("/v21.0/me", &[("access_token", &token)])
                    .await
                    .status,
                StatusCode::OK
            );
        }
        let limited = sim.get("/v21.0/me", &[("access_token", &token)]).await;
        let error = graph_error(&limited, code);
        assert!(
            error["message"].as_str().unwrap().starts_with(message),
            "{error}"
        );
        let usage: Value =
            serde_json::from_str(limited.headers["x-app-usage"].to_str().unwrap()).unwrap();
        assert_eq!(usage["call_count"], 100);
    }
    let bad = sim
        .control_post("/_sim/faults", json!({ "rate_limit": { "code": 5 } }))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn latency_is_added_to_graph_calls() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    sim.control_post("/_sim/faults", json!({ "latency_ms": 150 }))
        .await;
    let started = Instant::now();
    assert_eq!(
        sim.get("/v21.0/me", &[("access_token", &token)])
            .await
            .status,
        StatusCode::OK
    );
    assert!(started.elapsed().as_millis() >= 150);
    let faults = sim.get("/_sim/faults", &[]).await;
    assert_eq!(faults.body["latency_ms"], 150);
}
