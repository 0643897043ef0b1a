use fbgate_sim::{DEMO_APP_ID, DEMO_USER_ADA};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{REDIRECT, graph_error, start};

#[tokio::test]
async fn apps_are_created_with_generated_ids_and_exact_redirects() {
    let sim = start().await;
    let created = sim
        .control_post(
            "/_sim/apps",
            json!({
                "name": "Shop",
                "redirect_uris": ["https://shop.example/cb"],
                "login_configs": [{ "token_type": "user", "permissions": ["email"] }]
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let app_id = created.body["app_id"].as_str().unwrap().to_owned();
    assert!(app_id.chars().all(|c| c.is_ascii_digit()) && app_id.len() == 16);
    assert!(!created.body["app_secret"].as_str().unwrap().is_empty());
    assert_eq!(created.body["require_appsecret_proof"], false);
    let config_id = created.body["login_configs"][0]["config_id"]
        .as_str()
        .unwrap();
    assert!(config_id.chars().all(|c| c.is_ascii_digit()));
    let loopback = sim
        .dialog(&[("client_id", &app_id), ("redirect_uri", REDIRECT)])
        .await;
    assert!(loopback.text().await.unwrap().contains("URL Blocked"));
    let duplicate = sim
        .control_post("/_sim/apps", json!({ "app_id": app_id }))
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let bad_uri = sim
        .control_post("/_sim/apps", json!({ "redirect_uris": ["not a url"] }))
        .await;
    assert_eq!(bad_uri.status, StatusCode::BAD_REQUEST);
    let unknown_field = sim
        .control_post("/_sim/apps", json!({ "colour": "blue" }))
        .await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
    assert!(unknown_field.body["error"].is_string());
    let patched = sim
        .control(
            Method::PATCH,
            &format!("/_sim/apps/{app_id}"),
            json!({ "require_appsecret_proof": true }),
        )
        .await;
    assert_eq!(patched.body["require_appsecret_proof"], true);
    assert_eq!(patched.body["name"], "Shop");
    let missing = sim.control(Method::PATCH, "/_sim/apps/1", json!({})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let listed = sim.get("/_sim/apps", &[]).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn users_are_created_with_or_without_email_and_with_pages() {
    let sim = start().await;
    let without = sim
        .control_post(
            "/_sim/users",
            json!({ "name": "Grace Hopper", "email": null }),
        )
        .await;
    assert_eq!(without.status, StatusCode::CREATED);
    assert_eq!(without.body["email"], Value::Null);
    assert_eq!(without.body["first_name"], "Grace");
    let id = without.body["id"].as_str().unwrap().to_owned();
    let token = sim.token(&id, &["email"], false).await;
    let me = sim
        .get(
            "/v21.0/me",
            &[("fields", "name,email"), ("access_token", &token)],
        )
        .await;
    assert_eq!(me.body, json!({ "name": "Grace Hopper" }));
    let generated = sim
        .control_post("/_sim/users", json!({ "name": "Alan Turing" }))
        .await;
    assert!(
        generated.body["email"]
            .as_str()
            .unwrap()
            .ends_with("@example.com")
    );
    let with_pages = sim
        .control_post(
            "/_sim/users",
            json!({ "name": "Shop Keeper", "email": "keeper@example.com", "pages": [{ "name": "Corner Shop", "category": "Retail" }], "businesses": [{ "name": "Keeper Ltd" }] }),
        )
        .await;
    assert_eq!(with_pages.body["pages"][0]["name"], "Corner Shop");
    assert_eq!(
        with_pages.body["businesses"][0]["assets"][0],
        with_pages.body["pages"][0]["id"]
    );
    let keeper = with_pages.body["id"].as_str().unwrap();
    let token = sim.token(keeper, &["pages_show_list"], false).await;
    let accounts = sim
        .get("/v21.0/me/accounts", &[("access_token", &token)])
        .await;
    assert_eq!(accounts.body["data"][0]["category"], "Retail");
    let clash = sim
        .control_post(
            "/_sim/users",
            json!({ "id": DEMO_USER_ADA, "name": "Copy" }),
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
    let nameless = sim
        .control_post("/_sim/users", json!({ "name": " " }))
        .await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
    let shown = sim.get(&format!("/_sim/users/{keeper}"), &[]).await;
    assert_eq!(shown.body["email"], "keeper@example.com");
}

#[tokio::test]
async fn the_clock_moves_forward_only_and_reset_restores_the_seed() {
    let sim = start().await;
    let before = sim.now().await;
    let moved = sim
        .control_post("/_sim/clock/advance", json!({ "seconds": 1000 }))
        .await;
    assert!(moved.body["now"].as_i64().unwrap() >= before + 1000);
    let back = sim
        .control_post("/_sim/clock/advance", json!({ "seconds": -5 }))
        .await;
    assert_eq!(back.status, StatusCode::BAD_REQUEST);
    sim.control_post("/_sim/apps", json!({ "app_id": "77" }))
        .await;
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    let reset = sim.control_post("/_sim/reset", Value::Null).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert!(sim.now().await < before + 1000);
    assert_eq!(
        sim.get("/_sim/apps/77", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sim.get(&format!("/_sim/apps/{DEMO_APP_ID}"), &[])
            .await
            .status,
        StatusCode::OK
    );
    graph_error(
        &sim.get("/v21.0/me", &[("access_token", &token)]).await,
        190,
    );
}

#[tokio::test]
async fn minting_needs_a_known_app_and_user() {
    let sim = start().await;
    let answer = sim
        .control_post(
            "/_sim/tokens",
            json!({ "app_id": DEMO_APP_ID, "user_id": "1" }),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let long = sim
        .control_post(
            "/_sim/tokens",
            json!({ "app_id": DEMO_APP_ID, "user_id": DEMO_USER_ADA, "long_lived": true }),
        )
        .await;
    assert_eq!(long.body["expires_in"], 60 * 86_400);
}

#[tokio::test]
async fn the_control_api_describes_itself_in_openapi() {
    let sim = start().await;
    let doc = sim.get("/_sim/openapi.json", &[]).await;
    assert_eq!(doc.body["openapi"], "3.1.0");
    let paths = doc.body["paths"].as_object().unwrap();
    for path in [
        "/_sim/apps",
        "/_sim/faults",
        "/_sim/tokens/revoke",
        "/_sim/apps/{app_id}/users/{user_id}/remove",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    let unknown = sim.get("/_sim/nothing/here", &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body["error"].is_string());
}
