use fbgate_sim::{
    DEMO_APP_ID, DEMO_PAGE_IDS, DEMO_USER_ADA, DEMO_USER_NOMAIL, DEMO_USER_PAGE_OWNER,
};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{graph_error, start};

#[tokio::test]
async fn me_returns_the_requested_fields_and_omits_a_missing_email() {
    let sim = start().await;
    let ada = sim.token(DEMO_USER_ADA, &["email"], false).await;
    let me = sim
        .get(
            "/v21.0/me",
            &[
                ("fields", "id,name,email,first_name,last_name,picture"),
                ("access_token", &ada),
            ],
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["id"], DEMO_USER_ADA);
    assert_eq!(me.body["email"], "ada@example.com");
    assert_eq!(me.body["first_name"], "Ada");
    assert_eq!(me.body["last_name"], "Lovelace");
    let picture = &me.body["picture"]["data"];
    assert_eq!(picture["width"], 50);
    assert_eq!(picture["is_silhouette"], false);
    assert!(picture["url"].as_str().unwrap().contains("/_sim/pictures/"));
    let image = sim
        .http
        .get(picture["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(image.headers()["content-type"], "image/svg+xml");
    assert!(
        me.headers["x-app-usage"]
            .to_str()
            .unwrap()
            .contains("call_count")
    );
    assert_eq!(me.headers["facebook-api-version"], "v21.0");

    let nomail = sim.token(DEMO_USER_NOMAIL, &["email"], false).await;
    let me = sim
        .get("/me", &[("fields", "id,email"), ("access_token", &nomail)])
        .await;
    assert_eq!(me.body, json!({ "id": DEMO_USER_NOMAIL }));
    let plain = sim.get("/v21.0/me", &[("access_token", &nomail)]).await;
    assert_eq!(
        plain.body,
        json!({ "name": "Nomail Person", "id": DEMO_USER_NOMAIL })
    );
    // A bearer header works like access_token.
    let bearer = sim
        .http
        .get(sim.url("/v21.0/me"))
        .bearer_auth(&nomail)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
}

#[tokio::test]
async fn picture_modifiers_and_sub_fields_are_honoured() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    let large = sim
        .get(
            "/v21.0/me",
            &[("fields", "picture.type(large)"), ("access_token", &token)],
        )
        .await;
    assert_eq!(large.body["picture"]["data"]["width"], 200);
    let sized = sim
        .get(
            "/v21.0/me",
            &[
                ("fields", "picture.width(120).height(80){url,height}"),
                ("access_token", &token),
            ],
        )
        .await;
    let data = sized.body["picture"]["data"].as_object().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data["height"], 80);
    let nested = sim
        .get(
            "/v21.0/me",
            &[("fields", "picture{data{url}}"), ("access_token", &token)],
        )
        .await;
    assert!(nested.body["picture"]["data"]["url"].is_string());
    let redirect = sim
        .get(
            &format!("/v21.0/{DEMO_USER_ADA}/picture"),
            &[("type", "large")],
        )
        .await;
    assert_eq!(redirect.status, StatusCode::FOUND);
    let data = sim
        .get(
            &format!("/v21.0/{DEMO_USER_ADA}/picture"),
            &[("redirect", "false")],
        )
        .await;
    assert_eq!(data.body["data"]["height"], 50);
}

#[tokio::test]
async fn me_errors_follow_facebook() {
    let sim = start().await;
    let none = sim.get("/v21.0/me", &[]).await;
    graph_error(&none, 2500);
    let garbage = sim
        .get("/v21.0/me", &[("access_token", "EAAgarbage")])
        .await;
    let error = graph_error(&garbage, 190);
    assert_eq!(
        error["message"],
        "Invalid OAuth access token - Cannot parse access token"
    );
    assert!(
        garbage.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    let unknown = sim
        .get(
            "/v21.0/me",
            &[("fields", "id,birthday"), ("access_token", &token)],
        )
        .await;
    assert_eq!(
        graph_error(&unknown, 100)["message"],
        "(#100) Tried accessing nonexisting field (birthday) on node type (User)"
    );
    let other = sim
        .get(
            &format!("/v21.0/{DEMO_USER_NOMAIL}"),
            &[("access_token", &token)],
        )
        .await;
    assert_eq!(graph_error(&other, 100)["error_subcode"], 33);
    let own = sim
        .get(
            &format!("/v21.0/{DEMO_USER_ADA}"),
            &[("access_token", &token)],
        )
        .await;
    assert_eq!(own.body["id"], DEMO_USER_ADA);
    let path = sim
        .get("/v21.0/me/nonsense", &[("access_token", &token)])
        .await;
    graph_error(&path, 2500);
}

#[tokio::test]
async fn revoked_tokens_answer_190_with_the_chosen_subcode() {
    let sim = start().await;
    for subcode in [458, 459, 460, 463, 464, 467] {
        let token = sim.token(DEMO_USER_ADA, &[], false).await;
        let revoke = sim
            .control_post(
                "/_sim/tokens/revoke",
                json!({ "access_token": token, "subcode": subcode }),
            )
            .await;
        assert_eq!(revoke.status, StatusCode::OK);
        let me = sim.get("/v21.0/me", &[("access_token", &token)]).await;
        assert_eq!(graph_error(&me, 190)["error_subcode"], subcode);
    }
    let bare = sim.token(DEMO_USER_ADA, &[], false).await;
    sim.control_post("/_sim/tokens/revoke", json!({ "access_token": bare }))
        .await;
    let me = sim.get("/v21.0/me", &[("access_token", &bare)]).await;
    assert!(graph_error(&me, 190).get("error_subcode").is_none());
    let bad = sim
        .control_post(
            "/_sim/tokens/revoke",
            json!({ "access_token": bare, "subcode": 1 }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn short_lived_tokens_expire_with_the_clock() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    sim.advance(5399).await;
    assert_eq!(
        sim.get("/v21.0/me", &[("access_token", &token)])
            .await
            .status,
        StatusCode::OK
    );
    sim.advance(1).await;
    let me = sim.get("/v21.0/me", &[("access_token", &token)]).await;
    let error = graph_error(&me, 190);
    assert_eq!(error["error_subcode"], 463);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("Error validating access token: Session has expired on ")
    );
    let other = sim.token(DEMO_USER_ADA, &[], true).await;
    sim.control_post("/_sim/tokens/expire", json!({ "access_token": other }))
        .await;
    let me = sim.get("/v21.0/me", &[("access_token", &other)]).await;
    assert_eq!(graph_error(&me, 190)["error_subcode"], 463);
}

#[tokio::test]
async fn debug_token_describes_user_tokens_in_full() {
    let sim = start().await;
    let token = sim
        .token(DEMO_USER_PAGE_OWNER, &["email", "pages_show_list"], false)
        .await;
    let now = sim.now().await;
    let data = sim.debug(&token).await;
    assert_eq!(data["app_id"], DEMO_APP_ID);
    assert_eq!(data["type"], "USER");
    assert_eq!(data["application"], "fbgate demo app");
    assert_eq!(data["is_valid"], true);
    assert_eq!(data["user_id"], DEMO_USER_PAGE_OWNER);
    assert!((data["expires_at"].as_i64().unwrap() - (now + 5400)).abs() <= 2);
    assert!(data["issued_at"].as_i64().unwrap() >= now - 2);
    assert!(data["data_access_expires_at"].as_i64().unwrap() > now + 89 * 86_400);
    assert_eq!(
        data["scopes"],
        json!(["email", "pages_show_list", "public_profile"])
    );
    let granular = data["granular_scopes"].as_array().unwrap();
    assert!(granular.contains(&json!({ "scope": "pages_show_list", "target_ids": DEMO_PAGE_IDS })));
    assert!(granular.contains(&json!({ "scope": "email" })));
}

#[tokio::test]
async fn debug_token_reports_invalid_tokens_with_subcode() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &[], false).await;
    sim.control_post(
        "/_sim/tokens/revoke",
        json!({ "access_token": token, "subcode": 460 }),
    )
    .await;
    let data = sim.debug(&token).await;
    assert_eq!(data["is_valid"], false);
    assert_eq!(data["error"]["code"], 190);
    assert_eq!(data["error"]["subcode"], 460);
    assert_eq!(data["scopes"], json!([]));
    assert_eq!(data["app_id"], DEMO_APP_ID);
    let garbage = sim.debug("EAAgarbage").await;
    assert_eq!(garbage["is_valid"], false);
    assert_eq!(garbage["error"]["code"], 190);
    let no_caller = sim
        .get("/v21.0/debug_token", &[("input_token", &token)])
        .await;
    graph_error(&no_caller, 104);
    let app = sim.app_token().await;
    let no_input = sim
        .get("/v21.0/debug_token", &[("access_token", &app)])
        .await;
    graph_error(&no_input, 100);
}

#[tokio::test]
async fn the_permissions_edge_expands_inside_the_user_node() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &["email"], false).await;
    sim.delete("/v21.0/me/permissions/email", &[("access_token", &token)])
        .await;
    let edge = sim
        .get("/v21.0/me/permissions", &[("access_token", &token)])
        .await;
    let node = sim
        .get(
            "/v21.0/me",
            &[("access_token", &token), ("fields", "id,permissions")],
        )
        .await;
    assert_eq!(node.body["id"], DEMO_USER_ADA);
    assert_eq!(node.body["permissions"], edge.body);
    assert!(
        node.body["permissions"]["data"]
            .as_array()
            .unwrap()
            .contains(&json!({ "permission": "email", "status": "declined" })),
        "{}",
        node.body
    );
}

#[tokio::test]
async fn permissions_can_be_read_and_removed() {
    let sim = start().await;
    let token = sim
        .token(DEMO_USER_ADA, &["email", "user_friends"], false)
        .await;
    let one = sim
        .get("/v21.0/me/permissions/email", &[("access_token", &token)])
        .await;
    assert_eq!(
        one.body,
        json!({ "data": [{ "permission": "email", "status": "granted" }] })
    );
    let removed = sim
        .delete("/v21.0/me/permissions/email", &[("access_token", &token)])
        .await;
    assert_eq!(removed.body, json!({ "success": true }));
    let one = sim
        .get("/v21.0/me/permissions/email", &[("access_token", &token)])
        .await;
    assert_eq!(one.body["data"][0]["status"], "declined");
    let debug = sim.debug(&token).await;
    assert_eq!(debug["scopes"], json!(["public_profile", "user_friends"]));
    // The app token can read a user's permissions.
    let app = sim.app_token().await;
    let by_app = sim
        .get(
            &format!("/v21.0/{DEMO_USER_ADA}/permissions"),
            &[("access_token", &app)],
        )
        .await;
    assert_eq!(by_app.body["data"].as_array().unwrap().len(), 3);
    // method=delete works as a GET override; removing everything de-authorizes the app.
    let all = sim
        .get(
            "/v21.0/me/permissions",
            &[("method", "delete"), ("access_token", &token)],
        )
        .await;
    assert_eq!(all.body, json!({ "success": true }));
    let me = sim.get("/v21.0/me", &[("access_token", &token)]).await;
    assert_eq!(graph_error(&me, 190)["error_subcode"], 458);
}

#[tokio::test]
async fn removing_a_permission_in_the_users_settings_declines_it() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &["email"], false).await;
    let answer = sim
        .control(
            Method::DELETE,
            &format!("/_sim/apps/{DEMO_APP_ID}/users/{DEMO_USER_ADA}/permissions/email"),
            serde_json::Value::Null,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let me = sim
        .get(
            "/v21.0/me",
            &[("fields", "email"), ("access_token", &token)],
        )
        .await;
    assert_eq!(me.body, json!({}));
}

#[tokio::test]
async fn expired_data_access_blocks_user_data_but_not_the_token() {
    let sim = start().await;
    let token = sim.token(DEMO_USER_ADA, &["email"], false).await;
    let path = format!("/_sim/apps/{DEMO_APP_ID}/users/{DEMO_USER_ADA}/expire-data-access");
    assert_eq!(
        sim.control_post(&path, serde_json::Value::Null)
            .await
            .status,
        StatusCode::OK
    );
    let me = sim
        .get(
            "/v21.0/me",
            &[("fields", "id,name"), ("access_token", &token)],
        )
        .await;
    graph_error(&me, 190);
    let id_only = sim
        .get("/v21.0/me", &[("fields", "id"), ("access_token", &token)])
        .await;
    assert_eq!(id_only.status, StatusCode::OK);
    let debug = sim.debug(&token).await;
    assert_eq!(debug["is_valid"], true);
    assert!(debug["data_access_expires_at"].as_i64().unwrap() <= sim.now().await);
    // Logging in again (auth_type=reauthorize) renews data access for the user's tokens.
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", crate::helpers::REDIRECT),
        ("auth_type", "reauthorize"),
    ];
    sim.consent(&query, DEMO_USER_ADA, &[]).await;
    let me = sim
        .get(
            "/v21.0/me",
            &[("fields", "id,name"), ("access_token", &token)],
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
}
