//! The Account API: a signed-in user links and unlinks Facebook identities.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::facebook::{RETURN_URL, TestProvider, returned_error};
use crate::helpers::{Engine, TestApp, TestEnvironment, error_code, on_both_engines, spawn_app};

on_both_engines!(
    a_user_created_by_the_app_links_facebook_and_gets_a_credential,
    linking_an_account_that_belongs_to_another_user_changes_nothing,
    a_second_facebook_account_at_the_same_provider_is_refused,
    unlinking_destroys_the_identity_and_its_token,
    the_last_identity_of_a_facebook_user_cannot_be_unlinked,
    unlinking_can_revoke_the_apps_permissions_at_facebook,
    a_provider_enabled_for_linking_only_refuses_sign_in,
    signing_out_can_also_disconnect_facebook,
    linking_and_unlinking_are_announced_by_webhooks,
);

/// A user made by the app (no identity) and a session token for it.
async fn app_user(app: &TestApp, env: &TestEnvironment) -> (String, String) {
    let user: Value = app
        .client
        .post(app.url("/v1/users"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "email": "member@app.test" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = user["id"].as_str().unwrap().to_owned();
    let session: Value = app
        .client
        .post(app.url(&format!("/v1/users/{id}/sessions")))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (id, session["session_token"].as_str().unwrap().to_owned())
}

async fn link(app: &TestApp, session: &str, provider: &TestProvider) -> url::Url {
    let started: Value = app
        .client
        .post(app.url(&format!("/v1/account/identities/{}", provider.slug)))
        .bearer_auth(session)
        .json(&json!({ "redirect_to": RETURN_URL }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.browse(started["authorization_url"].as_str().unwrap())
        .await
}

async fn account(app: &TestApp, session: &str) -> Value {
    app.client
        .get(app.url("/v1/account"))
        .bearer_auth(session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn credential_status(app: &TestApp, env: &TestEnvironment, user_id: &str) -> StatusCode {
    app.get_credential(env, user_id).await.status()
}

async fn a_user_created_by_the_app_links_facebook_and_gets_a_credential(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("link").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Linked Person", Some("linked@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let (user_id, session) = app_user(&app, &env).await;

    let returned = link(&app, &session, &provider).await;
    assert_eq!(returned_error(&returned), None, "{returned}");
    assert!(
        returned
            .query_pairs()
            .any(|(k, v)| k == "linked" && v == "facebook")
    );
    assert!(
        !returned.query_pairs().any(|(k, _)| k == "code"),
        "linking hands out no sign-in code"
    );

    let account = account(&app, &session).await;
    assert_eq!(account["user"]["id"], user_id.as_str());
    assert_eq!(
        account["user"]["email"], "member@app.test",
        "linking leaves the user's profile alone"
    );
    assert_eq!(
        account["identities"][0]["provider_user_id"],
        person.id.as_str()
    );
    assert_eq!(account["identities"][0]["token_status"], "active");
    assert_eq!(
        credential_status(&app, &env, &user_id).await,
        StatusCode::OK
    );

    // Linking the same account again refreshes it: still one identity, the same one.
    let again = link(&app, &session, &provider).await;
    assert_eq!(returned_error(&again), None);
    let after = self::account(&app, &session).await;
    assert_eq!(after["identities"].as_array().unwrap().len(), 1);
    assert_eq!(after["identities"][0]["id"], account["identities"][0]["id"]);

    // A link URL works once.
    let started: Value = app
        .client
        .post(app.url("/v1/account/identities/facebook"))
        .bearer_auth(&session)
        .json(&json!({ "redirect_to": RETURN_URL }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = started["authorization_url"].as_str().unwrap();
    assert_eq!(
        app.client.get(url).send().await.unwrap().status(),
        StatusCode::FOUND
    );
    let replay = app.client.get(url).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(replay.text().await.unwrap().contains("invalid_link_ticket"));
}

async fn linking_an_account_that_belongs_to_another_user_changes_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("conflict").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Owner Person", Some("owner@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let owner = app
        .exchange(&env, &app.sign_in(&env, &provider, "").await)
        .await;

    let (other_id, session) = app_user(&app, &env).await;
    let returned = link(&app, &session, &provider).await;
    assert_eq!(
        returned_error(&returned).as_deref(),
        Some("identity_already_linked")
    );
    assert_eq!(account(&app, &session).await["identities"], json!([]));
    assert_eq!(
        credential_status(&app, &env, &other_id).await,
        StatusCode::NOT_FOUND
    );
    let owner_id = owner["user"]["id"].as_str().unwrap();
    assert_eq!(
        credential_status(&app, &env, owner_id).await,
        StatusCode::OK
    );
}

async fn a_second_facebook_account_at_the_same_provider_is_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("second").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let (_, session) = app_user(&app, &env).await;
    let first = app
        .facebook_user("First Account", Some("first@example.com"))
        .await;
    app.consent_as(&provider, &first, &[]).await;
    assert_eq!(returned_error(&link(&app, &session, &provider).await), None);
    let second = app
        .facebook_user("Second Account", Some("second@example.com"))
        .await;
    app.consent_as(&provider, &second, &[]).await;
    let returned = link(&app, &session, &provider).await;
    assert_eq!(
        returned_error(&returned).as_deref(),
        Some("provider_already_linked")
    );
    let identities = account(&app, &session).await["identities"].clone();
    assert_eq!(identities.as_array().unwrap().len(), 1);
    assert_eq!(identities[0]["provider_user_id"], first.id.as_str());
}

async fn unlinking_destroys_the_identity_and_its_token(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("unlink").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Leaving Person", Some("leaving@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let (user_id, session) = app_user(&app, &env).await;
    link(&app, &session, &provider).await;

    let removed = app
        .client
        .delete(app.url("/v1/account/identities/facebook"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(account(&app, &session).await["identities"], json!([]));
    assert_eq!(
        credential_status(&app, &env, &user_id).await,
        StatusCode::NOT_FOUND
    );
    let store = app.store().await;
    assert!(
        store
            .find_identity(&provider.id, &person.id)
            .await
            .unwrap()
            .is_none()
    );
    let again = app
        .client
        .delete(app.url("/v1/account/identities/facebook"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(again, StatusCode::NOT_FOUND).await,
        "identity_not_found"
    );
}

async fn the_last_identity_of_a_facebook_user_cannot_be_unlinked(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("last").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Only Facebook", Some("only@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let signed_in = app
        .exchange(&env, &app.sign_in(&env, &provider, "").await)
        .await;
    let session = signed_in["session_token"].as_str().unwrap();
    let refused = app
        .client
        .delete(app.url("/v1/account/identities/facebook"))
        .bearer_auth(session)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(refused, StatusCode::CONFLICT).await,
        "last_identity"
    );
    assert_eq!(
        account(&app, session).await["identities"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The admin endpoint is not bound by the rule.
    let user_id = signed_in["user"]["id"].as_str().unwrap();
    let identity_id = signed_in["identity"]["id"].as_str().unwrap();
    let admin = app
        .client
        .delete(app.url(&format!("/v1/users/{user_id}/identities/{identity_id}")))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), StatusCode::OK);
}

async fn unlinking_can_revoke_the_apps_permissions_at_facebook(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("revoke").await;
    let provider = app
        .facebook_provider(&env, "facebook", json!({ "revoke_on_unlink": true }))
        .await;
    let person = app
        .facebook_user("Revoking Person", Some("revoking@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let (user_id, session) = app_user(&app, &env).await;
    link(&app, &session, &provider).await;
    let token = app.access_token(&env, &user_id).await;
    let removed = app
        .client
        .delete(app.url("/v1/account/identities/facebook"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    let debug = app.debug_token(&provider, &token).await;
    assert_eq!(debug["is_valid"], false, "{debug}");
}

async fn a_provider_enabled_for_linking_only_refuses_sign_in(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("linking-only").await;
    let provider = app
        .facebook_provider(
            &env,
            "facebook",
            json!({ "enabled_for": ["linking", "api_access"] }),
        )
        .await;
    let person = app
        .facebook_user("Link Only", Some("linkonly@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let refused = app
        .client
        .get(app.url("/v1/oauth/facebook/authorize"))
        .query(&[
            ("publishable_key", env.publishable_key.as_str()),
            ("redirect_to", RETURN_URL),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("provider_not_enabled")
    );
    let (_, session) = app_user(&app, &env).await;
    assert_eq!(returned_error(&link(&app, &session, &provider).await), None);
}

async fn signing_out_can_also_disconnect_facebook(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("disconnect").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Disconnecting Person", Some("disconnect@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let signed_in = app
        .exchange(&env, &app.sign_in(&env, &provider, "").await)
        .await;
    let user_id = signed_in["user"]["id"].as_str().unwrap();
    let token = app.access_token(&env, user_id).await;

    let revoked = app
        .client
        .post(app.url("/v1/sessions/revoke"))
        .bearer_auth(signed_in["session_token"].as_str().unwrap())
        .json(&json!({ "revoke_facebook_token": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        credential_status(&app, &env, user_id).await,
        StatusCode::NOT_FOUND
    );
    let debug = app.debug_token(&provider, &token).await;
    assert_eq!(
        debug["is_valid"], false,
        "the app's permissions were revoked at Facebook"
    );
}

async fn linking_and_unlinking_are_announced_by_webhooks(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("announce").await;
    let receiver = crate::webhooks::Receiver::start(0).await;
    let endpoint: Value = app
        .client
        .post(app.url("/v1/webhook-endpoints"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "url": receiver.url, "events": ["identity.linked", "identity.unlinked"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = endpoint["signing_secret"].as_str().unwrap().to_owned();
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Announced Person", Some("announced@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let (user_id, session) = app_user(&app, &env).await;
    assert_eq!(returned_error(&link(&app, &session, &provider).await), None);
    let removed = app
        .client
        .delete(app.url("/v1/account/identities/facebook"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);

    let received = receiver.wait_for(2).await;
    assert_eq!(received.len(), 2, "one event per change");
    let bodies: Vec<Value> = received
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    // Deliveries are not ordered (each event has its own job); each change is announced once.
    let mut types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    types.sort_unstable();
    assert_eq!(types, ["identity.linked", "identity.unlinked"]);
    for (body, delivery) in bodies.iter().zip(&received) {
        assert!(crate::webhooks::signature_verifies(delivery, &secret));
        assert_eq!(body["environment"], "announce");
        assert_eq!(body["data"]["user"]["id"], user_id.as_str());
        assert_eq!(
            body["data"]["identity"]["provider_user_id"],
            person.id.as_str()
        );
        assert!(
            !delivery.body.contains("access_token"),
            "no token in a webhook"
        );
    }
}
