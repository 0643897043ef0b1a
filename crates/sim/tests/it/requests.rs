use fbgate_sim::crypto::{appsecret_proof, appsecret_proof_with_time};
use fbgate_sim::{DEMO_APP_ID, DEMO_USER_ADA};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{graph_error, start};

#[tokio::test]
async fn appsecret_proof_is_enforced_when_the_app_requires_it() {
    let sim = start().await;
    let app = sim
        .control_post(
            "/_sim/apps",
            json!({ "app_secret": "xyz789", "redirect_uris": ["https://a.example/cb"], "require_appsecret_proof": true }),
        )
        .await;
    let app_id = app.body["app_id"].as_str().unwrap().to_owned();
    let minted = sim
        .control_post(
            "/_sim/tokens",
            json!({ "app_id": app_id, "user_id": DEMO_USER_ADA, "scopes": [] }),
        )
        .await;
    let token = minted.body["access_token"].as_str().unwrap().to_owned();
    let missing = sim.get("/v21.0/me", &[("access_token", &token)]).await;
    let error = graph_error(&missing, 100);
    assert_eq!(
        error["message"],
        "API calls from the server require an appsecret_proof argument"
    );
    assert_eq!(error["type"], "GraphMethodException");
    let wrong = sim
        .get(
            "/v21.0/me",
            &[("access_token", &token), ("appsecret_proof", "00")],
        )
        .await;
    assert_eq!(
        graph_error(&wrong, 100)["message"],
        "Invalid appsecret_proof provided in the API argument"
    );
    let proof = appsecret_proof("xyz789", &token);
    let right = sim
        .get(
            "/v21.0/me",
            &[("access_token", &token), ("appsecret_proof", &proof)],
        )
        .await;
    assert_eq!(right.status, StatusCode::OK);
    let now = sim.now().await;
    let timed = appsecret_proof_with_time("xyz789", &token, now - 60);
    let fresh = sim
        .get(
            "/v21.0/me",
            &[
                ("access_token", &token),
                ("appsecret_proof", &timed),
                ("appsecret_time", &(now - 60).to_string()),
            ],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
    let stale_time = now - 301;
    let stale = appsecret_proof_with_time("xyz789", &token, stale_time);
    let old = sim
        .get(
            "/v21.0/me",
            &[
                ("access_token", &token),
                ("appsecret_proof", &stale),
                ("appsecret_time", &stale_time.to_string()),
            ],
        )
        .await;
    graph_error(&old, 100);
    // A proof computed with another app's secret fails even when the app does not require one.
    let demo = sim.token(DEMO_USER_ADA, &[], false).await;
    let foreign = sim
        .get(
            "/v21.0/me",
            &[
                ("access_token", &demo),
                ("appsecret_proof", &appsecret_proof("xyz789", &demo)),
            ],
        )
        .await;
    graph_error(&foreign, 100);
}

#[tokio::test]
async fn usage_headers_rise_with_call_volume() {
    let sim = fbgate_sim::SimServer::start(fbgate_sim::SimConfig {
        app_calls_per_hour: 10,
        ..Default::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let token = sim
        .sim()
        .mint_user_token(DEMO_APP_ID, DEMO_USER_ADA, &[], false)
        .unwrap()
        .0;
    let mut counts = Vec::new();
    for _ in 0..3 {
        let response = http
            .get(format!("{}/v21.0/me", sim.url()))
            .query(&[("access_token", &token)])
            .send()
            .await
            .unwrap();
        let usage: serde_json::Value =
            serde_json::from_str(response.headers()["x-app-usage"].to_str().unwrap()).unwrap();
        counts.push(usage["call_count"].as_i64().unwrap());
    }
    assert_eq!(counts, vec![10, 20, 30]);
}

#[tokio::test]
async fn json_bodies_are_read_like_forms() {
    let sim = start().await;
    let code = sim.code_for(DEMO_USER_ADA, "email").await;
    let answer = sim
        .http
        .post(sim.url("/v21.0/oauth/access_token"))
        .json(&json!({
            "client_id": DEMO_APP_ID,
            "client_secret": fbgate_sim::DEMO_APP_SECRET,
            "redirect_uri": crate::helpers::REDIRECT,
            "code": code,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}
