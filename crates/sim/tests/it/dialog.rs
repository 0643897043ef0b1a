use fbgate_sim::{DEMO_APP_ID, DEMO_USER_ADA, DEMO_USER_NOMAIL};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{REDIRECT, params_of, start};

#[tokio::test]
async fn the_dialog_page_offers_users_permissions_and_both_buttons() {
    let sim = start().await;
    let response = sim
        .dialog(&[
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", REDIRECT),
            ("scope", "email pages_show_list"),
            ("state", "xyz"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!(
        r#"type="radio" name="user_id" value="{DEMO_USER_ADA}""#
    )));
    assert!(html.contains(&format!(r#"name="user_id" value="{DEMO_USER_NOMAIL}""#)));
    assert!(html.contains(r#"type="checkbox" name="granted" value="email" checked>"#));
    assert!(html.contains(r#"type="checkbox" name="granted" value="pages_show_list" checked>"#));
    assert!(html.contains(r#"value="public_profile" checked disabled"#));
    assert!(html.contains(r#"<button type="submit" name="action" value="continue">"#));
    assert!(html.contains(r#"<button type="submit" name="action" value="cancel">"#));
    assert!(html.contains(r#"action="/dialog/oauth/confirm""#));
    assert!(html.contains(r#"<input type="hidden" name="state" value="xyz">"#));
}

#[tokio::test]
async fn continuing_with_an_unticked_permission_records_it_declined() {
    let sim = start().await;
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("scope", "email,user_friends"),
        ("state", "s1"),
    ];
    let response = sim
        .submit(&query, DEMO_USER_ADA, &["user_friends"], "continue")
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("http://127.0.0.1:4000/callback?code=AQ"),
        "{location}"
    );
    assert!(location.ends_with("&state=s1#_=_"), "{location}");
    let code = params_of(&location)["code"].clone();
    let token = sim.exchange(&code).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let permissions = sim
        .get("/v21.0/me/permissions", &[("access_token", &token)])
        .await;
    let data = permissions.body["data"].as_array().unwrap().clone();
    assert!(data.contains(&json!({"permission": "email", "status": "declined"})));
    assert!(data.contains(&json!({"permission": "user_friends", "status": "granted"})));
    assert!(data.contains(&json!({"permission": "public_profile", "status": "granted"})));
    let me = sim
        .get(
            "/v21.0/me",
            &[("fields", "id,email"), ("access_token", &token)],
        )
        .await;
    assert_eq!(me.body, json!({ "id": DEMO_USER_ADA }));
}

#[tokio::test]
async fn cancel_redirects_with_facebooks_user_denied_error() {
    let sim = start().await;
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("state", "s2"),
    ];
    let response = sim.submit(&query, DEMO_USER_ADA, &[], "cancel").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.contains(
        "error=access_denied&error_code=200&error_description=Permissions+error&error_reason=user_denied&state=s2"
    ), "{location}");
}

#[tokio::test]
async fn a_redirect_uri_that_is_not_registered_shows_url_blocked_and_redirects_nowhere() {
    let sim = start().await;
    let app = sim
        .control_post(
            "/_sim/apps",
            json!({ "redirect_uris": ["https://app.example/cb?tenant=1"] }),
        )
        .await;
    let app_id = app.body["app_id"].as_str().unwrap().to_owned();
    for uri in [
        "https://app.example/cb",
        "https://app.example/cb?tenant=1&x=2",
        "https://app.example/cb/?tenant=1",
    ] {
        let response = sim
            .dialog(&[("client_id", &app_id), ("redirect_uri", uri)])
            .await;
        assert!(response.headers().get("location").is_none());
        let html = response.text().await.unwrap();
        assert!(html.contains("URL Blocked"), "{uri}");
    }
    // `state` inside the redirect URI is ignored by the comparison.
    let response = sim
        .dialog(&[
            ("client_id", &app_id),
            ("redirect_uri", "https://app.example/cb?tenant=1&state=abc"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // The demo app accepts loopback URIs only until URIs are registered for it.
    let remote = sim
        .dialog(&[
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", "https://evil.example/cb"),
        ])
        .await;
    assert!(remote.text().await.unwrap().contains("URL Blocked"));
    sim.control(
        Method::PATCH,
        &format!("/_sim/apps/{DEMO_APP_ID}"),
        json!({ "redirect_uris": ["http://localhost:9999/cb"] }),
    )
    .await;
    let loopback = sim
        .dialog(&[("client_id", DEMO_APP_ID), ("redirect_uri", REDIRECT)])
        .await;
    assert!(loopback.text().await.unwrap().contains("URL Blocked"));
}

#[tokio::test]
async fn unknown_apps_scopes_and_plain_pkce_are_refused_with_a_page() {
    let sim = start().await;
    let bad_app = sim
        .dialog(&[("client_id", "999"), ("redirect_uri", REDIRECT)])
        .await;
    assert_eq!(bad_app.status(), StatusCode::BAD_REQUEST);
    assert!(bad_app.text().await.unwrap().contains("Invalid App ID"));
    let bad_scope = sim
        .dialog(&[
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", REDIRECT),
            ("scope", "email,bogus_perm"),
        ])
        .await;
    assert!(
        bad_scope
            .text()
            .await
            .unwrap()
            .contains("Invalid Scopes: bogus_perm")
    );
    let plain = sim
        .dialog(&[
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", REDIRECT),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "plain"),
        ])
        .await;
    assert!(plain.text().await.unwrap().contains("S256"));
}

#[tokio::test]
async fn response_type_token_puts_the_token_in_the_fragment() {
    let sim = start().await;
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "token"),
        ("state", "s3"),
    ];
    let response = sim.submit(&query, DEMO_USER_ADA, &[], "continue").await;
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let url = url::Url::parse(&location).unwrap();
    assert!(url.query().is_none());
    let params = params_of(&location);
    assert!(params["access_token"].starts_with("EAA"));
    assert_eq!(params["expires_in"], "5400");
    assert!(
        params["data_access_expiration_time"]
            .parse::<i64>()
            .unwrap()
            > 0
    );
    assert_eq!(params["state"], "s3");
    let me = sim
        .get("/v21.0/me", &[("access_token", &params["access_token"])])
        .await;
    assert_eq!(me.body["name"], "Ada Lovelace");
}

#[tokio::test]
async fn code_token_and_granted_scopes_combine_in_the_fragment() {
    let sim = start().await;
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "code token,granted_scopes"),
        ("scope", "email,user_friends"),
    ];
    let params = sim.consent(&query, DEMO_USER_ADA, &["email"]).await;
    assert!(params["code"].starts_with("AQ"));
    assert!(params["access_token"].starts_with("EAA"));
    assert_eq!(params["granted_scopes"], "email,public_profile");
    assert_eq!(params["denied_scopes"], "user_friends");
    let only_scopes = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "code,granted_scopes"),
        ("scope", "email"),
    ];
    let response = sim
        .submit(&only_scopes, DEMO_USER_NOMAIL, &["email"], "continue")
        .await;
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("?code=") && location.contains("granted_scopes=email%2Cpublic_profile")
    );
}

#[tokio::test]
async fn declined_permissions_are_asked_again_only_with_rerequest() {
    let sim = start().await;
    let mut query = vec![
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "token,granted_scopes"),
        ("scope", "email"),
    ];
    let first = sim.consent(&query, DEMO_USER_ADA, &[]).await;
    assert_eq!(first["denied_scopes"], "email");
    let again = sim.consent(&query, DEMO_USER_ADA, &["email"]).await;
    assert_eq!(
        again["denied_scopes"], "email",
        "declined permissions are not re-asked"
    );
    query.push(("auth_type", "rerequest"));
    let rerequested = sim.consent(&query, DEMO_USER_ADA, &["email"]).await;
    assert_eq!(rerequested["granted_scopes"], "email,public_profile");
    assert_eq!(rerequested["denied_scopes"], "");
}

#[tokio::test]
async fn auto_consent_redirects_at_once_and_can_cancel() {
    let sim = start().await;
    let path = format!("/_sim/apps/{DEMO_APP_ID}/auto-consent");
    let set = sim
        .control_post(
            &path,
            json!({ "user_id": DEMO_USER_ADA, "declined": ["email"] }),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK);
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("scope", "email,user_friends"),
        ("response_type", "code,granted_scopes"),
    ];
    let response = sim.dialog(&query).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let params = params_of(response.headers()["location"].to_str().unwrap());
    assert!(params.contains_key("code"));
    assert_eq!(params["denied_scopes"], "email");
    sim.control_post(&path, json!({ "cancel": true })).await;
    let cancelled = sim.dialog(&query).await;
    let params = params_of(cancelled.headers()["location"].to_str().unwrap());
    assert_eq!(params["error_reason"], "user_denied");
    sim.control(Method::DELETE, &path, serde_json::Value::Null)
        .await;
    assert_eq!(sim.dialog(&query).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_unversioned_dialog_path_works_too() {
    let sim = start().await;
    let response = sim
        .http
        .get(sim.url("/dialog/oauth/"))
        .query(&[("client_id", DEMO_APP_ID), ("redirect_uri", REDIRECT)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
