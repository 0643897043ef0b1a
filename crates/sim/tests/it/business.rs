use fbgate_sim::crypto::appsecret_proof;
use fbgate_sim::{
    DEMO_APP_ID, DEMO_APP_SECRET, DEMO_BUSINESS_CONFIG_ID, DEMO_BUSINESS_ID, DEMO_PAGE_IDS,
    DEMO_SYSTEM_USER_ID, DEMO_USER_ADA, DEMO_USER_CONFIG_ID, DEMO_USER_PAGE_OWNER,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{REDIRECT, TestSim, graph_error, start};

async fn system_user_token(sim: &TestSim, assets: &[&str]) -> String {
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("config_id", DEMO_BUSINESS_CONFIG_ID),
        ("response_type", "code"),
        ("override_default_response_type", "true"),
    ];
    let page = sim.dialog(&query).await.text().await.unwrap();
    assert!(page.contains(&format!(r#"name="asset" value="{}""#, DEMO_PAGE_IDS[0])));
    assert!(page.contains(DEMO_USER_PAGE_OWNER) && !page.contains(DEMO_USER_ADA));
    let mut form: Vec<(&str, &str)> = query.to_vec();
    form.push(("user_id", DEMO_USER_PAGE_OWNER));
    for asset in assets {
        form.push(("asset", asset));
    }
    form.push(("action", "continue"));
    let response = sim
        .http
        .post(sim.url("/dialog/oauth/confirm"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let code =
        crate::helpers::params_of(response.headers()["location"].to_str().unwrap())["code"].clone();
    // The Login-for-Business exchange needs no redirect_uri.
    let exchange = sim
        .get(
            "/v21.0/oauth/access_token",
            &[
                ("client_id", DEMO_APP_ID),
                ("client_secret", DEMO_APP_SECRET),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(exchange.status, StatusCode::OK, "{:?}", exchange.body);
    exchange.body["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_business_config_issues_a_system_user_token_for_the_picked_assets() {
    let sim = start().await;
    let token = system_user_token(&sim, &[DEMO_PAGE_IDS[1]]).await;
    let debug = sim.debug(&token).await;
    assert_eq!(debug["type"], "SYSTEM_USER");
    assert_eq!(debug["expires_at"], 0);
    assert_eq!(debug["data_access_expires_at"], 0);
    assert_eq!(debug["user_id"], DEMO_SYSTEM_USER_ID);
    let granular = debug["granular_scopes"].as_array().unwrap();
    assert!(
        granular.contains(&json!({ "scope": "pages_show_list", "target_ids": [DEMO_PAGE_IDS[1]] }))
    );
    let me = sim.get("/v21.0/me", &[("access_token", &token)]).await;
    assert_eq!(
        me.body,
        json!({ "name": "Demo System User", "id": DEMO_SYSTEM_USER_ID })
    );
    let accounts = sim
        .get("/v21.0/me/accounts", &[("access_token", &token)])
        .await;
    let pages = accounts.body["data"].as_array().unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0]["id"], DEMO_PAGE_IDS[1]);
    let page_token = pages[0]["access_token"].as_str().unwrap();
    let page_debug = sim.debug(page_token).await;
    assert_eq!(page_debug["type"], "PAGE");
    assert_eq!(page_debug["profile_id"], DEMO_PAGE_IDS[1]);
    assert_eq!(page_debug["expires_at"], 0);
    let feed = format!("/v21.0/{}/feed", DEMO_PAGE_IDS[1]);
    let posted = sim
        .post(&feed, &[("message", "hello"), ("access_token", page_token)])
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{:?}", posted.body);
}

#[tokio::test]
async fn business_configs_require_the_code_response_type_and_the_override() {
    let sim = start().await;
    let base = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("config_id", DEMO_BUSINESS_CONFIG_ID),
    ];
    let no_override = sim.dialog(&base).await;
    assert_eq!(no_override.status(), StatusCode::BAD_REQUEST);
    let token = sim
        .dialog(
            &[
                &base[..],
                &[
                    ("response_type", "token"),
                    ("override_default_response_type", "true"),
                ],
            ]
            .concat(),
        )
        .await;
    assert_eq!(token.status(), StatusCode::BAD_REQUEST);
    let bad_config = sim
        .dialog(&[
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", REDIRECT),
            ("config_id", "123"),
        ])
        .await;
    assert!(
        bad_config
            .text()
            .await
            .unwrap()
            .contains("Invalid config_id")
    );
}

#[tokio::test]
async fn a_user_token_config_grants_all_its_permissions() {
    let sim = start().await;
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("config_id", DEMO_USER_CONFIG_ID),
    ];
    let page = sim.dialog(&query).await.text().await.unwrap();
    assert!(page.contains(r#"value="email" checked disabled"#));
    let code = sim.consent(&query, DEMO_USER_ADA, &[]).await["code"].clone();
    let token = sim.exchange(&code).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        sim.debug(&token).await["scopes"],
        json!(["email", "pages_show_list", "public_profile"])
    );
}

#[tokio::test]
async fn system_user_tokens_are_managed_with_a_mandatory_proof() {
    let sim = start().await;
    let token = system_user_token(&sim, &DEMO_PAGE_IDS).await;
    let path = format!("/v21.0/{DEMO_BUSINESS_ID}/system_user_access_tokens");
    let proof = appsecret_proof(DEMO_APP_SECRET, &token);
    let no_proof = sim
        .post(&path, &[("access_token", &token), ("fetch_only", "true")])
        .await;
    assert_eq!(
        graph_error(&no_proof, 100)["message"],
        "API calls from the server require an appsecret_proof argument"
    );
    let fetched = sim
        .post(
            &path,
            &[
                ("access_token", &token),
                ("appsecret_proof", &proof),
                ("fetch_only", "true"),
            ],
        )
        .await;
    assert_eq!(fetched.body["access_token"], token.as_str());
    let narrowed = sim
        .post(
            &path,
            &[
                ("access_token", &token),
                ("appsecret_proof", &proof),
                ("scope", "pages_show_list"),
                ("asset", DEMO_PAGE_IDS[0]),
                ("set_token_expires_in_60_days", "true"),
            ],
        )
        .await;
    assert_eq!(narrowed.status, StatusCode::OK, "{:?}", narrowed.body);
    let narrow_token = narrowed.body["access_token"].as_str().unwrap();
    assert_ne!(narrow_token, token);
    let debug = sim.debug(narrow_token).await;
    assert_eq!(debug["scopes"], json!(["pages_show_list"]));
    assert!(debug["expires_at"].as_i64().unwrap() > sim.now().await + 59 * 86_400);
    let wider = sim
        .post(
            &path,
            &[
                ("access_token", &token),
                ("appsecret_proof", &proof),
                ("scope", "ads_management"),
            ],
        )
        .await;
    graph_error(&wider, 3962);
    let foreign_asset = sim
        .post(
            &path,
            &[
                ("access_token", &token),
                ("appsecret_proof", &proof),
                ("asset", "1"),
            ],
        )
        .await;
    graph_error(&foreign_asset, 100);
    let user = sim.token(DEMO_USER_ADA, &[], false).await;
    let user_proof = appsecret_proof(DEMO_APP_SECRET, &user);
    let stranger = sim
        .post(
            &path,
            &[("access_token", &user), ("appsecret_proof", &user_proof)],
        )
        .await;
    graph_error(&stranger, 200);
}

#[tokio::test]
async fn a_business_removing_the_app_kills_its_system_user_tokens() {
    let sim = start().await;
    let token = system_user_token(&sim, &DEMO_PAGE_IDS).await;
    let accounts = sim
        .get("/v21.0/me/accounts", &[("access_token", &token)])
        .await;
    let page_token = accounts.body["data"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/_sim/apps/{DEMO_APP_ID}/businesses/{DEMO_BUSINESS_ID}/remove");
    let removed = sim.control_post(&path, serde_json::Value::Null).await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(removed.body["revoked_tokens"], 3);
    let page = sim.get("/v21.0/me", &[("access_token", &page_token)]).await;
    assert_eq!(graph_error(&page, 190)["error_subcode"], 458);
    let me = sim.get("/v21.0/me", &[("access_token", &token)]).await;
    assert_eq!(graph_error(&me, 190)["error_subcode"], 458);
    let again = sim.control_post(&path, serde_json::Value::Null).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}
