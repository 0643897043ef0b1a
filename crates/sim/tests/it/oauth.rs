use fbgate_sim::crypto::pkce_s256;
use fbgate_sim::{DEMO_APP_ID, DEMO_APP_SECRET, DEMO_USER_ADA};
use reqwest::StatusCode;

use crate::helpers::{REDIRECT, graph_error, start};

#[tokio::test]
async fn a_code_is_exchanged_once() {
    let sim = start().await;
    let code = sim.code_for(DEMO_USER_ADA, "email").await;
    let first = sim.exchange(&code).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(
        first.body["access_token"]
            .as_str()
            .unwrap()
            .starts_with("EAA")
    );
    assert_eq!(first.body["token_type"], "bearer");
    assert_eq!(first.body["expires_in"], 5400);
    let second = sim.exchange(&code).await;
    let error = graph_error(&second, 100);
    assert_eq!(error["message"], "This authorization code has been used.");
    assert_eq!(error["error_subcode"], 36009);
    assert_eq!(error["type"], "OAuthException");
    let www = second.headers["www-authenticate"].to_str().unwrap();
    assert!(
        www.starts_with(r#"OAuth "Facebook Platform" "invalid_code""#),
        "{www}"
    );
}

#[tokio::test]
async fn a_code_is_bound_to_its_redirect_uri() {
    let sim = start().await;
    let code = sim.code_for(DEMO_USER_ADA, "email").await;
    let mismatch = sim
        .get(
            "/v21.0/oauth/access_token",
            &[
                ("client_id", DEMO_APP_ID),
                ("client_secret", DEMO_APP_SECRET),
                ("redirect_uri", "http://127.0.0.1:4000/other"),
                ("code", &code),
            ],
        )
        .await;
    let error = graph_error(&mismatch, 100);
    assert_eq!(
        error["message"],
        "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request"
    );
    assert_eq!(error["error_subcode"], 36008);
    let missing = sim
        .get(
            "/v21.0/oauth/access_token",
            &[
                ("client_id", DEMO_APP_ID),
                ("client_secret", DEMO_APP_SECRET),
                ("code", &code),
            ],
        )
        .await;
    graph_error(&missing, 100);
    // A failed attempt does not burn the code.
    assert_eq!(sim.exchange(&code).await.status, StatusCode::OK);
}

#[tokio::test]
async fn codes_expire_after_ten_minutes() {
    let sim = start().await;
    let code = sim.code_for(DEMO_USER_ADA, "email").await;
    sim.advance(601).await;
    let error = graph_error(&sim.exchange(&code).await, 100);
    assert_eq!(error["message"], "This authorization code has expired.");
    assert_eq!(error["error_subcode"], 36007);
}

#[tokio::test]
async fn bad_codes_apps_and_secrets_get_facebooks_errors() {
    let sim = start().await;
    let garbage = sim.exchange("not-a-code").await;
    assert_eq!(
        graph_error(&garbage, 100)["message"],
        "Invalid verification code format."
    );
    let code = sim.code_for(DEMO_USER_ADA, "email").await;
    let bad_app = sim
        .get(
            "/oauth/access_token",
            &[("client_id", "42"), ("client_secret", "x"), ("code", &code)],
        )
        .await;
    assert_eq!(
        graph_error(&bad_app, 101)["message"],
        "Error validating application. Invalid application ID."
    );
    let bad_secret = sim
        .get(
            "/oauth/access_token",
            &[
                ("client_id", DEMO_APP_ID),
                ("client_secret", "wrong"),
                ("redirect_uri", REDIRECT),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(
        graph_error(&bad_secret, 1)["message"],
        "Error validating client secret."
    );
    // POST with a form body works like GET.
    let posted = sim
        .post(
            "/v21.0/oauth/access_token",
            &[
                ("client_id", DEMO_APP_ID),
                ("client_secret", DEMO_APP_SECRET),
                ("redirect_uri", REDIRECT),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK);
}

#[tokio::test]
async fn pkce_codes_need_the_right_verifier_and_may_skip_the_secret() {
    let sim = start().await;
    let verifier = "a".repeat(20) + &"B-._~9".repeat(5);
    let challenge = pkce_s256(&verifier);
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = sim.consent(&query, DEMO_USER_ADA, &[]).await["code"].clone();
    let base = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("code", code.as_str()),
    ];
    let without = sim
        .get(
            "/v21.0/oauth/access_token",
            &[&base[..], &[("client_secret", DEMO_APP_SECRET)]].concat(),
        )
        .await;
    assert!(
        graph_error(&without, 100)["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid code verifier.")
    );
    let wrong_verifier = "z".repeat(43);
    let wrong = sim
        .get(
            "/v21.0/oauth/access_token",
            &[&base[..], &[("code_verifier", wrong_verifier.as_str())]].concat(),
        )
        .await;
    graph_error(&wrong, 100);
    let right = sim
        .get(
            "/v21.0/oauth/access_token",
            &[&base[..], &[("code_verifier", verifier.as_str())]].concat(),
        )
        .await;
    assert_eq!(right.status, StatusCode::OK, "{:?}", right.body);
}

#[tokio::test]
async fn exchanging_for_a_long_lived_token_gives_a_new_token_that_is_not_extended_again() {
    let sim = start().await;
    let short = sim.token(DEMO_USER_ADA, &["email"], false).await;
    let exchange = |token: String| {
        let sim = &sim;
        async move {
            sim.get(
                "/v21.0/oauth/access_token",
                &[
                    ("grant_type", "fb_exchange_token"),
                    ("client_id", DEMO_APP_ID),
                    ("client_secret", DEMO_APP_SECRET),
                    ("fb_exchange_token", &token),
                ],
            )
            .await
        }
    };
    let long = exchange(short.clone()).await;
    assert_eq!(long.status, StatusCode::OK);
    let long_token = long.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(long_token, short);
    assert_eq!(long.body["expires_in"], 60 * 24 * 3600);
    sim.advance(86_400).await;
    let again = exchange(long_token.clone()).await;
    let again_token = again.body["access_token"].as_str().unwrap();
    assert_ne!(again_token, long_token);
    assert_eq!(again.body["expires_in"], 59 * 24 * 3600);
    let no_secret = sim
        .get(
            "/v21.0/oauth/access_token",
            &[
                ("grant_type", "fb_exchange_token"),
                ("client_id", DEMO_APP_ID),
                ("fb_exchange_token", &short),
            ],
        )
        .await;
    graph_error(&no_secret, 1);
    sim.advance(60 * 86_400).await;
    let expired = exchange(long_token).await;
    assert_eq!(graph_error(&expired, 190)["error_subcode"], 463);
}

#[tokio::test]
async fn client_credentials_give_an_app_token() {
    let sim = start().await;
    let answer = sim
        .get(
            "/v21.0/oauth/access_token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DEMO_APP_ID),
                ("client_secret", DEMO_APP_SECRET),
            ],
        )
        .await;
    assert_eq!(answer.body["token_type"], "bearer");
    let app_token = answer.body["access_token"].as_str().unwrap().to_owned();
    assert!(app_token.starts_with(&format!("{DEMO_APP_ID}|")));
    let user = sim.token(DEMO_USER_ADA, &[], false).await;
    let debug = sim
        .get(
            "/v21.0/debug_token",
            &[("input_token", &user), ("access_token", &app_token)],
        )
        .await;
    assert_eq!(debug.body["data"]["is_valid"], true);
    let bad = sim
        .get(
            "/v21.0/oauth/access_token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", DEMO_APP_ID),
                ("client_secret", "nope"),
            ],
        )
        .await;
    graph_error(&bad, 1);
}

#[tokio::test]
async fn access_token_info_returns_the_reauthentication_nonce() {
    let sim = start().await;
    let query = [
        ("client_id", DEMO_APP_ID),
        ("redirect_uri", REDIRECT),
        ("auth_type", "reauthenticate"),
        ("auth_nonce", "n0nce123"),
    ];
    let code = sim.consent(&query, DEMO_USER_ADA, &[]).await["code"].clone();
    let token = sim.exchange(&code).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let info = sim
        .get(
            "/v21.0/oauth/access_token_info",
            &[("client_id", DEMO_APP_ID), ("access_token", &token)],
        )
        .await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.body["auth_nonce"], "n0nce123");
    assert_eq!(info.body["expires_in"], 5400);
    let debug = sim.debug(&token).await;
    assert_eq!(debug["metadata"]["auth_type"], "reauthenticate");
    let garbage = sim
        .get(
            "/v21.0/oauth/access_token_info",
            &[("access_token", "EAAnope")],
        )
        .await;
    graph_error(&garbage, 190);
}
