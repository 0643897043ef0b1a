//! Native sign-in for mobile apps: `POST /v1/sign-ins/facebook-token` with a token from
//! Facebook's SDK (minted by the emulator's control API), on both databases.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::facebook::{FacebookUser, TestProvider};
use crate::helpers::{Engine, TestApp, TestEnvironment, error_code, on_both_engines, spawn_app};

on_both_engines!(
    an_access_token_from_the_mobile_sdk_signs_in_a_new_user_and_then_the_same_user,
    an_access_token_of_another_app_is_refused_and_creates_nothing,
    a_revoked_access_token_is_refused,
    the_body_takes_exactly_one_form_and_a_key,
    a_limited_login_token_signs_in_from_its_claims_without_storing_a_credential,
    limited_login_tokens_failing_a_check_are_refused_and_create_nothing,
);

impl TestApp {
    async fn sim_control(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(self.sim_url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// An access token as Facebook's mobile SDK hands it to the app.
    async fn sdk_token(&self, app_id: &str, user: &FacebookUser) -> String {
        let minted = self
            .sim_control(
                "/_sim/tokens",
                json!({ "app_id": app_id, "user_id": user.id, "scopes": ["email"] }),
            )
            .await;
        minted["access_token"].as_str().unwrap().to_owned()
    }

    /// A Limited Login authentication token as the iOS SDK hands it to the app.
    async fn limited_login_token(
        &self,
        app_id: &str,
        user: &FacebookUser,
        nonce: &str,
        email: bool,
    ) -> String {
        let minted = self
            .sim_control(
                "/_sim/limited-login",
                json!({ "app_id": app_id, "user_id": user.id, "nonce": nonce, "email": email }),
            )
            .await;
        minted["authentication_token"].as_str().unwrap().to_owned()
    }

    /// An emulator app that fbgate knows nothing about.
    async fn foreign_facebook_app(&self) -> String {
        let app = self
            .sim_control("/_sim/apps", json!({ "name": "Someone else's app" }))
            .await;
        app["app_id"].as_str().unwrap().to_owned()
    }

    async fn native_sign_in(&self, env: &TestEnvironment, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/sign-ins/facebook-token"))
            .header("Fbgate-Publishable-Key", &env.publishable_key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn user_count(&self, env: &TestEnvironment) -> usize {
        let users: Value = self
            .client
            .get(self.url("/v1/users"))
            .bearer_auth(&env.secret_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        users["data"].as_array().unwrap().len()
    }

    async fn stored_credential(&self, env: &TestEnvironment, user_id: &str) -> reqwest::Response {
        self.client
            .post(self.url("/v1/credentials/get"))
            .bearer_auth(&env.secret_key)
            .json(&json!({ "provider": "facebook", "user_id": user_id, "credential_for": "user" }))
            .send()
            .await
            .unwrap()
    }
}

async fn ok_json(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Reads an error answer and returns its code and message.
async fn refusal(response: reqwest::Response, status: StatusCode) -> (String, String) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    (
        body["error"]["code"].as_str().unwrap().to_owned(),
        body["error"]["message"].as_str().unwrap().to_owned(),
    )
}

async fn setup(app: &TestApp) -> (TestEnvironment, TestProvider, FacebookUser) {
    let env = app.create_environment("mobile").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Grace Hopper", Some("grace@example.com"))
        .await;
    (env, provider, person)
}

async fn an_access_token_from_the_mobile_sdk_signs_in_a_new_user_and_then_the_same_user(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    let (env, provider, person) = setup(&app).await;
    let token = app.sdk_token(&provider.app_id, &person).await;

    let first = ok_json(
        app.native_sign_in(&env, json!({ "access_token": token }))
            .await,
    )
    .await;
    assert_eq!(first["is_new_user"], true);
    assert_eq!(first["user"]["email"], "grace@example.com");
    assert_eq!(first["user"]["first_name"], "Grace");
    assert_eq!(first["identity"]["provider"], "facebook");
    assert_eq!(first["identity"]["provider_user_id"], person.id.as_str());
    assert_eq!(first["identity"]["token_status"], "active");
    assert!(
        first["session_token"]
            .as_str()
            .unwrap()
            .starts_with("fbgs_")
    );
    assert_eq!(first["session_jwt"].as_str().unwrap().split('.').count(), 3);
    assert!(first["session_id"].as_str().unwrap().starts_with("ses_"));
    assert!(first["expires_at"].is_string());
    let body = first.to_string();
    assert!(!body.contains(&token), "the SDK's token is never echoed");

    // The stored credential is the long-lived exchange of the SDK's token.
    let stored = ok_json(
        app.stored_credential(&env, first["user"]["id"].as_str().unwrap())
            .await,
    )
    .await;
    let stored_token = stored["credential"]["access_token"].as_str().unwrap();
    assert_ne!(stored_token, token, "exchanged for a long-lived token");

    // The session works on the Account API side: a fresh JWT for it.
    let jwt = app
        .client
        .post(app.url("/v1/sessions/jwt"))
        .bearer_auth(first["session_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(jwt.status(), StatusCode::OK);

    // Again, with the key as a query parameter: the same user, a new session.
    let again_token = app.sdk_token(&provider.app_id, &person).await;
    let again = ok_json(
        app.client
            .post(app.url(&format!(
                "/v1/sign-ins/facebook-token?publishable_key={}",
                env.publishable_key
            )))
            .json(&json!({ "provider": "facebook", "access_token": again_token }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(again["is_new_user"], false);
    assert_eq!(again["user"]["id"], first["user"]["id"]);
    assert_eq!(again["identity"]["id"], first["identity"]["id"]);
    assert_ne!(again["session_id"], first["session_id"]);
    assert_eq!(app.user_count(&env).await, 1);
}

async fn an_access_token_of_another_app_is_refused_and_creates_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, _provider, person) = setup(&app).await;
    let foreign_app = app.foreign_facebook_app().await;
    let foreign_token = app.sdk_token(&foreign_app, &person).await;

    let (code, message) = refusal(
        app.native_sign_in(&env, json!({ "access_token": foreign_token }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code, "token_not_for_this_app");
    assert!(message.contains("another app"), "{message}");
    assert!(!message.contains(&foreign_token));
    assert_eq!(app.user_count(&env).await, 0);

    // Garbage is refused the same way, before anything is written.
    let code = error_code(
        app.native_sign_in(&env, json!({ "access_token": "EAAnot-a-token" }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code, "token_not_for_this_app");
    assert_eq!(app.user_count(&env).await, 0);
}

async fn a_revoked_access_token_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider, person) = setup(&app).await;
    let token = app.sdk_token(&provider.app_id, &person).await;
    app.sim_control(
        "/_sim/tokens/revoke",
        json!({ "access_token": token, "subcode": 460 }),
    )
    .await;

    let code = error_code(
        app.native_sign_in(&env, json!({ "access_token": token }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code, "token_not_for_this_app");
    assert_eq!(app.user_count(&env).await, 0);
}

async fn the_body_takes_exactly_one_form_and_a_key(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider, person) = setup(&app).await;
    let token = app.sdk_token(&provider.app_id, &person).await;
    let cases = [
        (json!({}), "access_token"),
        (json!({ "provider": "facebook" }), "access_token"),
        (json!({ "access_token": "" }), "access_token"),
        (
            json!({ "access_token": token, "id_token": "a.b.c", "nonce": "n" }),
            "id_token",
        ),
        (json!({ "id_token": "a.b.c" }), "nonce"),
        (json!({ "id_token": "a.b.c", "nonce": "" }), "nonce"),
        (json!({ "access_token": token, "nonce": "n" }), "nonce"),
    ];
    for (body, field) in cases {
        let response = app.native_sign_in(&env, body.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }

    // No key at all, and an unknown provider.
    let response = app
        .client
        .post(app.url("/v1/sign-ins/facebook-token"))
        .json(&json!({ "access_token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response, StatusCode::UNAUTHORIZED).await,
        "missing_credentials"
    );
    let code = error_code(
        app.native_sign_in(&env, json!({ "provider": "nope", "access_token": token }))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(code, "provider_not_found");

    // A backend relaying the token may use the secret key.
    let relayed = app
        .client
        .post(app.url("/v1/sign-ins/facebook-token"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "access_token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok_json(relayed).await["is_new_user"], true);
}

async fn a_limited_login_token_signs_in_from_its_claims_without_storing_a_credential(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    let (env, provider, person) = setup(&app).await;

    // The app asked for no email, and the provider requires one.
    let no_email = app
        .limited_login_token(&provider.app_id, &person, "nonce-0", false)
        .await;
    let code = error_code(
        app.native_sign_in(&env, json!({ "id_token": no_email, "nonce": "nonce-0" }))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(code, "oauth_no_email_returned");

    let nonce = "c2f1e0b9-limited-login-nonce";
    let id_token = app
        .limited_login_token(&provider.app_id, &person, nonce, true)
        .await;
    let first = ok_json(
        app.native_sign_in(&env, json!({ "id_token": id_token, "nonce": nonce }))
            .await,
    )
    .await;
    assert_eq!(first["is_new_user"], true);
    assert_eq!(first["user"]["email"], "grace@example.com");
    assert_eq!(first["user"]["first_name"], "Grace");
    assert_eq!(first["user"]["last_name"], "Hopper");
    assert_eq!(first["user"]["name"], "Grace Hopper");
    assert_eq!(first["identity"]["provider_user_id"], person.id.as_str());
    assert!(first["user"]["profile_image_url"].is_string());
    assert!(!first.to_string().contains(&id_token));

    // No token came with it, so there is none to hand out.
    let user_id = first["user"]["id"].as_str().unwrap();
    assert_eq!(
        error_code(
            app.stored_credential(&env, user_id).await,
            StatusCode::NOT_FOUND
        )
        .await,
        "credential_not_found"
    );

    // The same person again, with a new nonce.
    let id_token = app
        .limited_login_token(&provider.app_id, &person, "nonce-2", true)
        .await;
    let again = ok_json(
        app.native_sign_in(&env, json!({ "id_token": id_token, "nonce": "nonce-2" }))
            .await,
    )
    .await;
    assert_eq!(again["is_new_user"], false);
    assert_eq!(again["user"]["id"], first["user"]["id"]);
}

async fn limited_login_tokens_failing_a_check_are_refused_and_create_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider, person) = setup(&app).await;
    let id_token = app
        .limited_login_token(&provider.app_id, &person, "right-nonce", true)
        .await;

    let expect_refusal = |body: Value, check: &'static str| {
        let app = &app;
        let env = &env;
        async move {
            let (code, message) = refusal(
                app.native_sign_in(env, body).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(code, "token_not_for_this_app", "{message}");
            assert!(message.contains(check), "`{check}` not in: {message}");
        }
    };

    expect_refusal(
        json!({ "id_token": id_token, "nonce": "wrong-nonce" }),
        "nonce",
    )
    .await;

    let foreign_app = app.foreign_facebook_app().await;
    let foreign = app
        .limited_login_token(&foreign_app, &person, "right-nonce", true)
        .await;
    expect_refusal(
        json!({ "id_token": foreign, "nonce": "right-nonce" }),
        "aud",
    )
    .await;

    // Change one character in the middle of the signature.
    let (signed, signature) = id_token.rsplit_once('.').unwrap();
    let mut tampered_signature: Vec<char> = signature.chars().collect();
    let middle = tampered_signature.len() / 2;
    tampered_signature[middle] = if tampered_signature[middle] == 'A' {
        'B'
    } else {
        'A'
    };
    let tampered = format!(
        "{signed}.{}",
        tampered_signature.into_iter().collect::<String>()
    );
    expect_refusal(
        json!({ "id_token": tampered, "nonce": "right-nonce" }),
        "signature",
    )
    .await;

    expect_refusal(
        json!({ "id_token": "not-a-jwt", "nonce": "right-nonce" }),
        "JWT",
    )
    .await;

    // A key id Facebook does not publish (asked for again, still unknown).
    let (_, rest) = id_token.split_once('.').unwrap();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"rotated-away","typ":"JWT"}"#);
    expect_refusal(
        json!({ "id_token": format!("{header}.{rest}"), "nonce": "right-nonce" }),
        "kid",
    )
    .await;

    // The untouched token still works until fbgate's clock passes its expiry (+1 h, 60 s leeway).
    app.clock.advance(Duration::from_secs(3600 + 120));
    expect_refusal(
        json!({ "id_token": id_token, "nonce": "right-nonce" }),
        "exp",
    )
    .await;
    assert_eq!(app.user_count(&env).await, 0);
}
