//! The request log: `GET /_sim/requests` shows every Graph call, batch operations included,
//! with the subject user and a token fingerprint; filters, clearing and reset.

use fbgate_sim::{DEMO_APP_ID, DEMO_USER_ADA, DEMO_USER_NOMAIL};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{REDIRECT, start};

async fn log(sim: &crate::helpers::TestSim, query: &[(&str, &str)]) -> Vec<Value> {
    let answer = sim.get("/_sim/requests", query).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_debug_token_call_is_logged_with_its_subject_and_a_fingerprint() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], true).await;
    sim.debug(&token).await;
    let entries = log(&sim, &[("endpoint", "debug_token")]).await;
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["path"], "/v21.0/debug_token");
    assert_eq!(entry["version"], "v21.0");
    assert_eq!(entry["app_id"], DEMO_APP_ID);
    assert_eq!(entry["user_id"], DEMO_USER_ADA);
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["batch"], false);
    let fingerprint = entry["input_token_fingerprint"].as_str().unwrap();
    assert_eq!(fingerprint.len(), 12);
    assert!(
        !serde_json::to_string(&entries).unwrap().contains(&token),
        "the log never holds a whole token"
    );
    // /me is logged under the token's user, and the log is in order.
    sim.get("/v21.0/me", &[("access_token", &token)]).await;
    let all = log(&sim, &[]).await;
    let endpoints: Vec<&str> = all
        .iter()
        .map(|e| e["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(endpoints, ["debug_token", "me"]);
    assert!(all[1]["seq"].as_u64() > all[0]["seq"].as_u64());
    assert_eq!(all[1]["user_id"], DEMO_USER_ADA);
}

#[tokio::test]
async fn a_batch_logs_itself_and_each_operation() {
    let sim = start().await;
    let ada = sim.token(DEMO_USER_ADA, &[], true).await;
    let nomail = sim.token(DEMO_USER_NOMAIL, &[], true).await;
    let app = sim.app_token().await;
    let ops = json!([
        { "method": "GET", "relative_url": format!("debug_token?input_token={ada}") },
        { "method": "GET", "relative_url": format!("debug_token?input_token={nomail}") },
        { "method": "GET", "relative_url": format!("debug_token?input_token={ada}") },
    ]);
    let answer = sim
        .post(
            "/v21.0/",
            &[("batch", &ops.to_string()), ("access_token", &app)],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let all = log(&sim, &[]).await;
    assert_eq!(all.len(), 4);
    let operations: Vec<&Value> = all.iter().filter(|e| e["batch"] == true).collect();
    assert_eq!(operations.len(), 3);
    assert!(operations.iter().all(|e| e["endpoint"] == "debug_token"));
    assert!(operations.iter().all(|e| e["path"] == "/debug_token"));
    assert!(operations.iter().all(|e| e["status"] == 200));
    let outer: Vec<&Value> = all.iter().filter(|e| e["batch"] == false).collect();
    assert_eq!(outer.len(), 1);
    assert_eq!(outer[0]["endpoint"], "batch");
    assert_eq!(outer[0]["method"], "POST");

    let ada_checks = log(
        &sim,
        &[("endpoint", "debug_token"), ("user_id", DEMO_USER_ADA)],
    )
    .await;
    assert_eq!(ada_checks.len(), 2);
    assert_eq!(
        ada_checks[0]["input_token_fingerprint"],
        ada_checks[1]["input_token_fingerprint"]
    );
    let last_seq = all[3]["seq"].as_u64().unwrap().to_string();
    assert!(log(&sim, &[("since_seq", &last_seq)]).await.is_empty());
    let first_seq = all[0]["seq"].as_u64().unwrap().to_string();
    assert_eq!(log(&sim, &[("since_seq", &first_seq)]).await.len(), 3);
}

#[tokio::test]
async fn the_log_is_cleared_on_request_and_by_a_reset() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], true).await;
    sim.debug(&token).await;
    let cleared = sim
        .control(Method::DELETE, "/_sim/requests", json!({}))
        .await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert!(log(&sim, &[]).await.is_empty());

    sim.get("/v21.0/me", &[("access_token", &token)]).await;
    assert_eq!(log(&sim, &[]).await.len(), 1);
    sim.control_post("/_sim/reset", json!({})).await;
    assert!(log(&sim, &[]).await.is_empty());

    let bad = sim.get("/_sim/requests", &[("colour", "red")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_dialog_and_the_code_exchange_are_logged_with_their_app() {
    let sim = start().await;
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("scope", "email"),
        ("state", "st"),
    ];
    let page = sim.dialog(&query).await;
    assert_eq!(page.status(), StatusCode::OK);
    let code = sim.code_for(DEMO_USER_ADA, "email").await;
    let exchanged = sim.exchange(&code).await;
    assert_eq!(exchanged.status, StatusCode::OK);
    let token = exchanged.body["access_token"].as_str().unwrap().to_owned();
    sim.get("/me", &[("access_token", &token)]).await;

    let all = log(&sim, &[]).await;
    let summary: Vec<(&str, &str, u64)> = all
        .iter()
        .map(|e| {
            (
                e["endpoint"].as_str().unwrap(),
                e["path"].as_str().unwrap(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("dialog/oauth", "/v21.0/dialog/oauth", 200),
            ("dialog/oauth/confirm", "/dialog/oauth/confirm", 302),
            ("oauth/access_token", "/v21.0/oauth/access_token", 200),
            ("me", "/me", 200),
        ]
    );
    assert!(all.iter().all(|e| e["app_id"] == DEMO_APP_ID));
    assert!(all.iter().all(|e| e["batch"] == false));
    assert_eq!(all[3]["user_id"], DEMO_USER_ADA);
    assert!(all[2]["input_token_fingerprint"].is_null());
}

#[tokio::test]
async fn a_batch_operation_answered_null_is_logged_without_a_status() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    sim.control_post("/_sim/faults", json!({ "batch_null_rate": 1.0 }))
        .await;
    let ops = json!([{ "method": "GET", "relative_url": "/v21.0/me?fields=id" }]);
    let answer = sim
        .post(
            "/v21.0",
            &[("batch", &ops.to_string()), ("access_token", &token)],
        )
        .await;
    assert_eq!(answer.body, json!([null]));
    let operations = log(&sim, &[("endpoint", "me")]).await;
    assert_eq!(operations.len(), 1);
    assert_eq!(operations[0]["batch"], true);
    assert_eq!(operations[0]["path"], "/v21.0/me");
    assert!(operations[0]["status"].is_null());
    assert_eq!(operations[0]["user_id"], DEMO_USER_ADA);
    assert_eq!(log(&sim, &[("endpoint", "batch")]).await[0]["status"], 200);
}
