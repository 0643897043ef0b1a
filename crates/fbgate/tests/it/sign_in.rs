//! Sign in with Facebook end to end: fbgate and the emulator over loopback, on both databases.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::facebook::{RETURN_URL, returned_error};
use crate::helpers::{Engine, error_code, on_both_engines, spawn_app};

on_both_engines!(
    a_new_facebook_user_signs_in_and_the_app_gets_user_identity_session_and_token,
    signing_in_again_finds_the_same_user_and_replaces_the_token,
    a_declined_email_permission_is_refused_unless_email_is_optional,
    sign_up_is_refused_when_not_allowed_but_existing_users_still_sign_in,
    cancelling_at_facebook_returns_access_denied,
    a_replayed_callback_is_state_already_used,
    an_expired_state_is_refused_by_fbgates_clock,
    a_callback_from_another_browser_or_with_a_forged_state_gets_the_error_page,
    a_disallowed_redirect_to_never_starts_a_flow,
    a_sign_in_code_works_once,
    rerequest_asks_facebook_again_for_declined_permissions,
    a_code_that_expired_at_facebook_is_token_exchange_failed,
    facebook_failing_is_facebook_unavailable_and_nothing_is_stored,
    batch_operations_facebook_never_answers_are_asked_again_alone,
);

async fn a_new_facebook_user_signs_in_and_the_app_gets_user_identity_session_and_token(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("web").await;
    let provider = app
        .facebook_provider(
            &env,
            "facebook",
            json!({ "scopes": ["public_profile", "email", "user_friends"] }),
        )
        .await;
    let person = app
        .facebook_user("Ada Lovelace", Some("ada@example.com"))
        .await;
    app.consent_as(&provider, &person, &["user_friends"]).await;

    let returned = app.sign_in(&env, &provider, "").await;
    assert_eq!(returned_error(&returned), None);
    let signed_in = app.exchange(&env, &returned).await;

    // Facebook was asked as little as the flow allows: the code exchange, then debug_token and
    // /me (with its permissions expanded) in one batch, then the long-lived exchange.
    let log: Value = app
        .client
        .get(app.sim_url("/_sim/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let graph_calls: Vec<&str> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["app_id"] == json!(provider.app_id) && r["batch"] != json!(true))
        .filter_map(|r| r["endpoint"].as_str())
        .filter(|e| !e.starts_with("dialog"))
        .collect();
    assert_eq!(
        graph_calls,
        ["oauth/access_token", "batch", "oauth/access_token"],
        "{log}"
    );

    assert_eq!(signed_in["is_new_user"], true);
    let user = &signed_in["user"];
    assert_eq!(user["email"].as_str(), person.email.as_deref());
    assert_eq!(user["first_name"], "Ada");
    assert_eq!(user["last_name"], "Lovelace");
    assert_eq!(user["created_via"], "facebook");
    let identity = &signed_in["identity"];
    assert_eq!(identity["provider"], "facebook");
    assert_eq!(identity["provider_user_id"], person.id.as_str());
    assert_eq!(identity["token_status"], "active");
    assert!(
        identity["granted_scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("email"))
    );
    assert_eq!(identity["declined_scopes"], json!(["user_friends"]));
    assert!(
        identity["expires_at"].is_string(),
        "long-lived token expiry recorded"
    );
    assert!(identity["data_access_expires_at"].is_string());
    assert!(
        signed_in["session_token"]
            .as_str()
            .unwrap()
            .starts_with("fbgs_")
    );
    assert!(
        signed_in["session_jwt"]
            .as_str()
            .unwrap()
            .split('.')
            .count()
            == 3
    );

    // The backend fetches the stored token in one call, and it works at Facebook.
    let credential: Value = app
        .client
        .post(app.url("/v1/credentials/get"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "provider": "facebook", "user_id": user["id"], "credential_for": "user" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = credential["credential"]["access_token"].as_str().unwrap();
    assert_eq!(credential["credential"]["token_type"], "user");
    assert_eq!(credential["credential"]["status"], "active");
    let me: Value = app
        .client
        .get(app.sim_url("/v25.0/debug_token"))
        .query(&[
            ("input_token", token),
            (
                "access_token",
                &format!("{}|{}", provider.app_id, provider.app_secret),
            ),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["data"]["is_valid"], true);
    assert_eq!(me["data"]["user_id"], person.id.as_str());
    let expiry =
        me["data"]["expires_at"].as_i64().unwrap() - me["data"]["issued_at"].as_i64().unwrap();
    assert!(
        expiry > 50 * 24 * 3600,
        "the stored token is the long-lived one ({expiry} s)"
    );

    // The admin view of the identity says the same.
    let admin: Value = app
        .client
        .get(app.url(&format!(
            "/v1/users/{}/identities/facebook",
            user["id"].as_str().unwrap()
        )))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(admin["id"], identity["id"]);
    assert_eq!(admin["profile"]["id"], person.id.as_str());
}

async fn signing_in_again_finds_the_same_user_and_replaces_the_token(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("again").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Grace Hopper", Some("grace@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let first = app
        .exchange(&env, &app.sign_in(&env, &provider, "").await)
        .await;
    let token_of = |user_id: Value| {
        let app = &app;
        let env = &env;
        async move {
            let answer: Value = app
                .client
                .post(app.url("/v1/credentials/get"))
                .bearer_auth(&env.secret_key)
                .json(&json!({ "provider": "facebook", "user_id": user_id, "credential_for": "user" }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            answer["credential"]["access_token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let first_token = token_of(first["user"]["id"].clone()).await;
    let second = app
        .exchange(&env, &app.sign_in(&env, &provider, "").await)
        .await;
    assert_eq!(second["is_new_user"], false);
    assert_eq!(second["user"]["id"], first["user"]["id"]);
    assert_eq!(second["identity"]["id"], first["identity"]["id"]);
    assert!(second["user"]["last_sign_in_at"].is_string());
    let second_token = token_of(first["user"]["id"].clone()).await;
    assert_ne!(
        first_token, second_token,
        "the new sign-in's token replaced the old one"
    );

    // The sign-in reads identity, user and token with one joined query: it must read every
    // column as the plain reads of each table do.
    let store = app.store().await;
    let user_id = first["user"]["id"].as_str().unwrap();
    let identity_id = first["identity"]["id"].as_str().unwrap();
    let identity = store.get_identity(&env.id, identity_id).await.unwrap();
    let identity = identity.unwrap();
    let subject = store
        .sign_in_subject(&identity.provider_id, &identity.provider_user_id)
        .await
        .unwrap();
    assert_eq!(subject.identity.as_ref(), Some(&identity));
    assert_eq!(
        subject.user,
        store.get_user(&env.id, user_id).await.unwrap()
    );
    let credential = store.credential_for_identity(identity_id).await.unwrap();
    assert!(credential.is_some());
    assert_eq!(subject.credential, credential);
    let nobody = store
        .sign_in_subject(&identity.provider_id, "no-such-person")
        .await
        .unwrap();
    assert!(nobody.identity.is_none() && nobody.user.is_none() && nobody.credential.is_none());
}

async fn a_declined_email_permission_is_refused_unless_email_is_optional(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("email").await;
    let strict = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Private Person", Some("private@example.com"))
        .await;
    app.consent_as(&strict, &person, &["email"]).await;
    let returned = app.sign_in(&env, &strict, "").await;
    assert_eq!(
        returned_error(&returned).as_deref(),
        Some("oauth_no_email_returned")
    );
    assert!(
        returned
            .query_pairs()
            .any(|(k, v)| k == "error_description" && !v.is_empty())
    );

    // A person whose account has no email at all, with a provider that accepts that.
    let relaxed = app
        .facebook_provider(&env, "relaxed", json!({ "email_required": false }))
        .await;
    let no_email = app.facebook_user("Nomail Person", None).await;
    app.consent_as(&relaxed, &no_email, &[]).await;
    let signed_in = app
        .exchange(&env, &app.sign_in(&env, &relaxed, "").await)
        .await;
    assert_eq!(signed_in["user"]["email"], Value::Null);
    assert_eq!(signed_in["user"]["name"], "Nomail Person");
}

async fn sign_up_is_refused_when_not_allowed_but_existing_users_still_sign_in(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("closed").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let member = app
        .facebook_user("Existing Member", Some("member@example.com"))
        .await;
    app.consent_as(&provider, &member, &[]).await;
    app.exchange(&env, &app.sign_in(&env, &provider, "").await)
        .await;

    let patched = app
        .client
        .patch(app.url(&format!("/v1/oauth-providers/{}", provider.id)))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "allow_sign_up": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);

    let stranger = app
        .facebook_user("New Stranger", Some("stranger@example.com"))
        .await;
    app.consent_as(&provider, &stranger, &[]).await;
    let refused = app.sign_in(&env, &provider, "").await;
    assert_eq!(
        returned_error(&refused).as_deref(),
        Some("sign_up_not_allowed")
    );
    let users: Value = app
        .client
        .get(app.url("/v1/users"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        users["data"].as_array().unwrap().len(),
        1,
        "no user was created"
    );

    app.consent_as(&provider, &member, &[]).await;
    let welcomed = app.sign_in(&env, &provider, "").await;
    assert_eq!(returned_error(&welcomed), None);
}

async fn cancelling_at_facebook_returns_access_denied(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("cancel").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    app.cancel_at_facebook(&provider).await;
    let returned = app.sign_in(&env, &provider, "").await;
    assert_eq!(returned_error(&returned).as_deref(), Some("access_denied"));
}

async fn a_replayed_callback_is_state_already_used(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("replay").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Replay Person", Some("replay@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let browser = app
        .through_dialog(app.start_sign_in(&env, &provider, "").await)
        .await;
    let first = app.deliver_callback(&browser, true).await;
    assert_eq!(first.status(), StatusCode::FOUND);
    let replay = app.deliver_callback(&browser, true).await;
    assert_eq!(replay.status(), StatusCode::FOUND);
    let url = url::Url::parse(replay.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(returned_error(&url).as_deref(), Some("state_already_used"));
}

async fn an_expired_state_is_refused_by_fbgates_clock(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("slow").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Slow Person", Some("slow@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let browser = app
        .through_dialog(app.start_sign_in(&env, &provider, "").await)
        .await;
    app.clock.advance(std::time::Duration::from_secs(11 * 60));
    let response = app.deliver_callback(&browser, true).await;
    let url = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(returned_error(&url).as_deref(), Some("state_expired"));
}

async fn a_callback_from_another_browser_or_with_a_forged_state_gets_the_error_page(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("csrf").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Victim", Some("victim@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let browser = app
        .through_dialog(app.start_sign_in(&env, &provider, "").await)
        .await;

    // Another browser (no cookie) gets fbgate's page, with no link anywhere.
    let other = app.deliver_callback(&browser, false).await;
    assert_eq!(other.status(), StatusCode::BAD_REQUEST);
    let html = other.text().await.unwrap();
    assert!(html.contains("invalid_state"));
    assert!(
        !html.contains("app.test"),
        "the error page never links to the app"
    );

    // A tampered state is unknown: the same page.
    let mut forged = browser.callback_url.clone().unwrap();
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .map(|(k, v)| {
            if k == "state" {
                (k.into_owned(), format!("{v}x"))
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    let response = app
        .client
        .get(forged)
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("invalid_state"));

    // The right browser and state, at another provider's callback URL (a mix-up): the same page.
    app.facebook_provider(&env, "other", json!({})).await;
    let mut elsewhere = browser.callback_url.clone().unwrap();
    elsewhere.set_path("/v1/oauth-callback/other");
    let response = app
        .client
        .get(elsewhere)
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("invalid_state"));

    // The legitimate browser can still finish: the failed attempts did not burn the state.
    let mine = app.deliver_callback(&browser, true).await;
    let url = url::Url::parse(mine.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(returned_error(&url), None);
}

async fn a_disallowed_redirect_to_never_starts_a_flow(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("open-redirect").await;
    app.facebook_provider(&env, "facebook", json!({})).await;
    for target in [
        "https://evil.example/",
        "http://app.test.evil.example/",
        "https://app.test/after",
    ] {
        let response = app
            .client
            .get(app.url("/v1/oauth/facebook/authorize"))
            .query(&[
                ("publishable_key", env.publishable_key.as_str()),
                ("redirect_to", target),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{target}"
        );
        assert!(response.headers().get("location").is_none());
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("redirect_to_not_allowed")
        );
    }
    // A secret key never belongs in a browser URL.
    let response = app
        .client
        .get(app.url("/v1/oauth/facebook/authorize"))
        .query(&[
            ("publishable_key", env.secret_key.as_str()),
            ("redirect_to", RETURN_URL),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

async fn a_sign_in_code_works_once(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("once").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Once Person", Some("once@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let returned = app.sign_in(&env, &provider, "").await;
    app.exchange(&env, &returned).await;
    let code = returned
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let again = app
        .client
        .post(app.url("/v1/sign-ins/exchange"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(again, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_sign_in_code"
    );

    // A code older than 60 seconds is refused too.
    let late = app.sign_in(&env, &provider, "").await;
    app.clock.advance(std::time::Duration::from_secs(61));
    let code = late
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let response = app
        .client
        .post(app.url("/v1/sign-ins/exchange"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_sign_in_code"
    );
}

async fn rerequest_asks_facebook_again_for_declined_permissions(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("rerequest").await;
    let provider = app
        .facebook_provider(
            &env,
            "facebook",
            json!({ "scopes": ["public_profile", "email", "user_friends"] }),
        )
        .await;
    let person = app
        .facebook_user("Hesitant Person", Some("hesitant@example.com"))
        .await;
    app.consent_as(&provider, &person, &["user_friends"]).await;
    let first = app
        .exchange(&env, &app.sign_in(&env, &provider, "").await)
        .await;
    assert_eq!(
        first["identity"]["declined_scopes"],
        json!(["user_friends"])
    );

    let browser = app.start_sign_in(&env, &provider, "&rerequest=true").await;
    assert!(
        browser
            .dialog_url
            .query_pairs()
            .any(|(k, v)| k == "auth_type" && v == "rerequest")
    );
    app.consent_as(&provider, &person, &[]).await;
    let browser = app.through_dialog(browser).await;
    let response = app.deliver_callback(&browser, true).await;
    let url = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let second = app.exchange(&env, &url).await;
    assert_eq!(second["identity"]["declined_scopes"], json!([]));
    assert!(
        second["identity"]["granted_scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("user_friends"))
    );
}

async fn a_code_that_expired_at_facebook_is_token_exchange_failed(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("late-code").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Late Person", Some("late@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let browser = app
        .through_dialog(app.start_sign_in(&env, &provider, "").await)
        .await;
    // Facebook's clock moves past the code's lifetime; fbgate's state is still fresh.
    let advanced = app
        .client
        .post(app.sim_url("/_sim/clock/advance"))
        .json(&json!({ "seconds": 3600 }))
        .send()
        .await
        .unwrap();
    assert!(advanced.status().is_success());
    let response = app.deliver_callback(&browser, true).await;
    let url = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        returned_error(&url).as_deref(),
        Some("token_exchange_failed")
    );
    let users: Value = app
        .client
        .get(app.url("/v1/users"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users["data"], json!([]));
}

async fn facebook_failing_is_facebook_unavailable_and_nothing_is_stored(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("outage").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Unlucky Person", Some("unlucky@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let browser = app
        .through_dialog(app.start_sign_in(&env, &provider, "").await)
        .await;
    // Every Graph answer is now a 5xx (retries included).
    let faults = app
        .client
        .post(app.sim_url("/_sim/faults"))
        .json(&json!({ "server_error_rate": 1.0 }))
        .send()
        .await
        .unwrap();
    assert!(faults.status().is_success());
    let response = app.deliver_callback(&browser, true).await;
    let url = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        returned_error(&url).as_deref(),
        Some("facebook_unavailable")
    );
    let users: Value = app
        .client
        .get(app.url("/v1/users"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users["data"], json!([]));
}

async fn batch_operations_facebook_never_answers_are_asked_again_alone(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("nulls").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Null Person", Some("null@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    // Facebook answers `null` for every operation of every batch (timed out at its end).
    let faults = app
        .client
        .post(app.sim_url("/_sim/faults"))
        .json(&json!({ "batch_null_rate": 1.0 }))
        .send()
        .await
        .unwrap();
    assert!(faults.status().is_success());
    let returned = app.sign_in(&env, &provider, "").await;
    assert_eq!(returned_error(&returned), None);
    let signed_in = app.exchange(&env, &returned).await;
    assert_eq!(signed_in["user"]["email"], "null@example.com");
    assert_eq!(signed_in["identity"]["token_status"], "active");
}
