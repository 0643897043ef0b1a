//! The remaining documented errors, one story per endpoint.

use fbgate_sim::{
    DEMO_APP_ID, DEMO_APP_SECRET, DEMO_BUSINESS_ID, DEMO_SYSTEM_USER_ID, DEMO_USER_ADA,
    DEMO_USER_PAGE_OWNER,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{REDIRECT, graph_error, start};

#[tokio::test]
async fn token_endpoint_parameter_errors() {
    let sim = start().await;
    let no_client = sim.get("/v21.0/oauth/access_token", &[("code", "x")]).await;
    assert_eq!(
        graph_error(&no_client, 101)["message"],
        "Missing client_id parameter."
    );
    let no_code = sim
        .get(
            "/v21.0/oauth/access_token",
            &[
                ("client_id", DEMO_APP_ID),
                ("client_secret", DEMO_APP_SECRET),
            ],
        )
        .await;
    assert_eq!(
        graph_error(&no_code, 100)["message"],
        "(#100) The parameter code is required"
    );
    let grant = sim
        .get(
            "/v21.0/oauth/access_token",
            &[("client_id", DEMO_APP_ID), ("grant_type", "password")],
        )
        .await;
    graph_error(&grant, 100);
    let other_app = sim
        .control_post("/_sim/apps", json!({ "app_id": "555", "app_secret": "s" }))
        .await;
    assert_eq!(other_app.status, StatusCode::CREATED);
    let ada = sim.token(DEMO_USER_ADA, &[], false).await;
    let foreign = sim
        .get(
            "/v21.0/oauth/access_token",
            &[
                ("grant_type", "fb_exchange_token"),
                ("client_id", "555"),
                ("client_secret", "s"),
                ("fb_exchange_token", &ada),
            ],
        )
        .await;
    graph_error(&foreign, 100);
    let info = sim
        .get(
            "/v21.0/oauth/access_token_info",
            &[("client_id", "555"), ("access_token", &ada)],
        )
        .await;
    graph_error(&info, 100);
}

#[tokio::test]
async fn dialog_parameter_errors_show_a_page() {
    let sim = start().await;
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("client_id", DEMO_APP_ID)],
        vec![
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", REDIRECT),
            ("response_type", "magic"),
        ],
        vec![
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", REDIRECT),
            ("code_challenge", "short"),
            ("code_challenge_method", "S256"),
        ],
        vec![
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", "http://127.0.0.1:4000/cb#frag"),
        ],
    ];
    for query in cases {
        let response = sim.dialog(&query).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query:?}");
        assert!(response.headers().get("location").is_none());
    }
    let no_user = sim
        .http
        .post(sim.url("/dialog/oauth/confirm"))
        .form(&[
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", REDIRECT),
            ("action", "continue"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_user.status(), StatusCode::BAD_REQUEST);
    let forged = sim
        .http
        .post(sim.url("/dialog/oauth/confirm"))
        .form(&[
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", "https://evil.example/"),
            ("user_id", DEMO_USER_ADA),
            ("action", "continue"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        forged.headers().get("location").is_none(),
        "hidden fields are checked again"
    );
}

#[tokio::test]
async fn nodes_for_businesses_and_system_users_need_membership() {
    let sim = start().await;
    let owner = sim.token(DEMO_USER_PAGE_OWNER, &[], false).await;
    let business = sim
        .get(
            &format!("/v21.0/{DEMO_BUSINESS_ID}"),
            &[("access_token", &owner)],
        )
        .await;
    assert_eq!(
        business.body,
        json!({ "name": "Demo Business", "id": DEMO_BUSINESS_ID })
    );
    let system_user = sim
        .get(
            &format!("/v21.0/{DEMO_SYSTEM_USER_ID}"),
            &[("access_token", &owner)],
        )
        .await;
    assert_eq!(system_user.body["name"], "Demo System User");
    let ada = sim.token(DEMO_USER_ADA, &[], false).await;
    let outsider = sim
        .get(
            &format!("/v21.0/{DEMO_BUSINESS_ID}"),
            &[("access_token", &ada)],
        )
        .await;
    assert_eq!(graph_error(&outsider, 100)["error_subcode"], 33);
    let app = sim.app_token().await;
    let by_app = sim
        .get(
            &format!("/v21.0/{DEMO_USER_ADA}"),
            &[("fields", "id,name,email"), ("access_token", &app)],
        )
        .await;
    assert_eq!(
        by_app.body,
        json!({ "id": DEMO_USER_ADA, "name": "Ada Lovelace" })
    );
    let me_by_app = sim.get("/v21.0/me", &[("access_token", &app)]).await;
    graph_error(&me_by_app, 2500);
    let bad_cursor = sim
        .get(
            "/v21.0/me/accounts",
            &[("after", "!!"), ("access_token", &owner)],
        )
        .await;
    graph_error(&bad_cursor, 100);
}

#[tokio::test]
async fn batch_operation_errors_stay_inside_their_entry() {
    let sim = start().await;
    let ada = sim.token(DEMO_USER_ADA, &[], false).await;
    let owner = sim.token(DEMO_USER_PAGE_OWNER, &[], false).await;
    let ops = json!([
        { "method": "GET" },
        { "method": "PATCH", "relative_url": "me" },
        { "method": "GET", "relative_url": format!("me?access_token={owner}") },
    ]);
    let answer = sim
        .post(
            "/v21.0",
            &[("batch", &ops.to_string()), ("access_token", &ada)],
        )
        .await;
    let entries = answer.body.as_array().unwrap();
    assert_eq!(entries[0]["code"], 400);
    assert_eq!(entries[1]["code"], 400);
    let body: Value = serde_json::from_str(entries[2]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body["id"], DEMO_USER_PAGE_OWNER,
        "an operation may carry its own token"
    );
    let not_json = sim
        .post("/v21.0", &[("batch", "{"), ("access_token", &ada)])
        .await;
    graph_error(&not_json, 100);
    let bad_token = sim
        .post("/v21.0", &[("batch", "[]"), ("access_token", "EAAnope")])
        .await;
    graph_error(&bad_token, 190);
}

#[tokio::test]
async fn control_calls_on_unknown_things_answer_404() {
    let sim = start().await;
    let cases = [
        (
            Method::POST,
            "/_sim/tokens/expire",
            json!({ "access_token": "EAAnope" }),
        ),
        (
            Method::POST,
            "/_sim/tokens/revoke",
            json!({ "access_token": "EAAnope" }),
        ),
        (
            Method::POST,
            &format!("/_sim/apps/{DEMO_APP_ID}/users/{DEMO_USER_ADA}/expire-data-access") as &str,
            Value::Null,
        ),
        (
            Method::DELETE,
            &format!("/_sim/apps/{DEMO_APP_ID}/users/{DEMO_USER_ADA}/permissions/email") as &str,
            Value::Null,
        ),
        (
            Method::POST,
            &format!("/_sim/apps/{DEMO_APP_ID}/auto-consent") as &str,
            json!({ "user_id": "1" }),
        ),
        (Method::GET, "/_sim/users/1", Value::Null),
        (Method::DELETE, "/_sim/apps/1/auto-consent", Value::Null),
    ];
    for (method, path, body) in cases {
        let answer = sim.control(method, path, body).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert!(answer.body["error"].is_string());
    }
    let no_user = sim
        .control_post(&format!("/_sim/apps/{DEMO_APP_ID}/auto-consent"), json!({}))
        .await;
    assert_eq!(no_user.status, StatusCode::BAD_REQUEST);
}
