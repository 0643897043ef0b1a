//! The Rust SDK (`fbgate-client`) against the real server and the emulator: what a backend
//! built on it sees through a sign-in, a session check and credential fetches.

use fbgate_client::{Client, CredentialRequest, CredentialStatus, Error, TokenType};
use reqwest::StatusCode;
use serde_json::json;

use crate::callbacks::scene;
use crate::facebook::returned_error;
use crate::helpers::{Engine, on_both_engines, spawn_app};

on_both_engines!(
    a_backend_signs_a_person_in_checks_the_session_and_gets_the_token_with_the_sdk,
    a_person_removing_the_app_reaches_the_sdk_as_revoked_once_the_cached_token_is_dropped,
    a_backend_gets_tenant_user_and_page_tokens_with_the_sdk,
);

fn code_of(returned: &url::Url) -> String {
    assert_eq!(returned_error(returned), None);
    returned
        .query_pairs()
        .find(|(key, _)| key == "code")
        .map(|(_, value)| value.into_owned())
        .expect("code in redirect")
}

async fn a_backend_signs_a_person_in_checks_the_session_and_gets_the_token_with_the_sdk(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("web").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Grace Hopper", Some("grace@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let sdk = Client::new(&app.address, env.secret_key.clone()).unwrap();

    // The browser comes back with a one-time code; the backend trades it with the SDK.
    let code = code_of(&app.sign_in(&env, &provider, "").await);
    let signed_in = sdk.exchange_sign_in_code(&code).await.unwrap();
    assert!(signed_in.is_new_user);
    assert_eq!(signed_in.user.email.as_deref(), Some("grace@example.com"));
    assert_eq!(signed_in.user.first_name.as_deref(), Some("Grace"));
    assert_eq!(signed_in.identity.provider, "facebook");
    assert_eq!(signed_in.identity.provider_user_id, person.id);
    assert_eq!(signed_in.identity.user_id, signed_in.user.id);
    assert!(signed_in.session_token.expose().starts_with("fbgs_"));
    let again = sdk.exchange_sign_in_code(&code).await.unwrap_err();
    assert_eq!(again.code(), Some("invalid_sign_in_code"), "{again}");

    // The session JWT verifies offline against the environment's published keys.
    let claims = sdk
        .verify_session_jwt(signed_in.session_jwt.expose(), "web")
        .await
        .unwrap();
    assert_eq!(claims.sub, signed_in.user.id);
    assert_eq!(claims.sid, signed_in.session_id);
    assert_eq!(claims.env, "web");
    assert_eq!(claims.iss, app.address);
    app.create_environment("mobile").await;
    let elsewhere = sdk
        .verify_session_jwt(signed_in.session_jwt.expose(), "mobile")
        .await
        .unwrap_err();
    assert!(
        matches!(elsewhere, Error::InvalidSessionJwt(_)),
        "{elsewhere:?}"
    );

    // The stored Facebook token, fetched by the SDK.
    let request = CredentialRequest::user("facebook", &claims.sub);
    let credential = sdk.get_credential(&request).await.unwrap();
    assert_eq!(
        credential.access_token.expose(),
        app.access_token(&env, &claims.sub).await
    );
    assert_eq!(credential.token_type, TokenType::User);
    assert_eq!(credential.status, CredentialStatus::Active);
    assert!(credential.expires_at.is_some());
    assert!(credential.scopes.iter().any(|s| s == "email"));

    // The person signs out and disconnects Facebook: fbgate no longer has a token...
    let revoked = app
        .client
        .post(app.url("/v1/sessions/revoke"))
        .bearer_auth(signed_in.session_token.expose())
        .json(&json!({ "revoke_facebook_token": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let uncached = Client::builder(&app.address, env.secret_key.clone())
        .disable_credential_cache()
        .build()
        .unwrap();
    let gone = uncached.get_credential(&request).await.unwrap_err();
    assert_eq!(gone.code(), Some("credential_not_found"), "{gone}");

    // ...while the caching client still serves its copy without asking, until told to forget it.
    let cached = sdk.get_credential(&request).await.unwrap();
    assert_eq!(cached.id, credential.id);
    assert_eq!(cached.access_token, credential.access_token);
    sdk.invalidate(&request);
    let gone = sdk.get_credential(&request).await.unwrap_err();
    assert_eq!(gone.status(), Some(404));
    assert_eq!(gone.code(), Some("credential_not_found"));
}

async fn a_person_removing_the_app_reaches_the_sdk_as_revoked_once_the_cached_token_is_dropped(
    engine: Engine,
) {
    let s = scene(spawn_app(engine).await).await;
    let person = s
        .app
        .facebook_user("Alan Turing", Some("alan@example.com"))
        .await;
    s.app.consent_as(&s.provider, &person, &[]).await;
    let sdk = Client::new(&s.app.address, s.env.secret_key.clone()).unwrap();
    let code = code_of(&s.app.sign_in(&s.env, &s.provider, "").await);
    let user_id = sdk.exchange_sign_in_code(&code).await.unwrap().user.id;
    let request = CredentialRequest::user("facebook", &user_id);
    let credential = sdk.get_credential(&request).await.unwrap();

    let (status, _) = s.at_facebook(&person, "remove").await;
    assert_eq!(status, 200);

    // Served from memory until the cache lets go (here: on request).
    let cached = sdk.get_credential(&request).await.unwrap();
    assert_eq!(cached.access_token, credential.access_token);
    sdk.invalidate(&request);
    let revoked = sdk.get_credential(&request).await.unwrap_err();
    assert_eq!(revoked.status(), Some(409));
    assert_eq!(revoked.code(), Some("credential_revoked"));
    assert_eq!(revoked.reason(), Some("user_removed_app"));
    assert!(revoked.needs_reconnect());

    // A new sign-in is the remedy; the 409 left nothing behind in the cache.
    s.app.consent_as(&s.provider, &person, &[]).await;
    let code = code_of(&s.app.sign_in(&s.env, &s.provider, "").await);
    sdk.exchange_sign_in_code(&code).await.unwrap();
    let renewed = sdk.get_credential(&request).await.unwrap();
    assert_ne!(renewed.access_token, credential.access_token);
    assert_eq!(renewed.status, CredentialStatus::Active);
}

async fn a_backend_gets_tenant_user_and_page_tokens_with_the_sdk(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("saas").await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let (person, page_id) = crate::connections::page_owner(&app).await;
    crate::connections::connect(
        &app,
        &env,
        &provider,
        &person,
        "org_acme",
        "user_123",
        json!({ "scopes": ["pages_show_list"] }),
    )
    .await;
    let sdk = Client::new(&app.address, env.secret_key.clone()).unwrap();

    let user = sdk
        .get_credential(&CredentialRequest::tenant_user(
            "facebook", "org_acme", "user_123",
        ))
        .await
        .unwrap();
    assert_eq!(user.token_type, TokenType::User);
    assert_eq!(user.status, CredentialStatus::Active);
    assert!(user.expires_at.is_some());
    assert_eq!(
        app.debug_token(&provider, user.access_token.expose()).await["user_id"],
        person.id.as_str()
    );
    let page = sdk
        .get_credential(
            &CredentialRequest::tenant_user("facebook", "org_acme", "user_123").page(&page_id),
        )
        .await
        .unwrap();
    assert_eq!(page.token_type, TokenType::Page);
    assert_eq!(page.expires_at, None);
    assert_ne!(page.access_token.expose(), user.access_token.expose());

    let elsewhere = sdk
        .get_credential(&CredentialRequest::tenant_user(
            "facebook",
            "org_other",
            "user_123",
        ))
        .await
        .unwrap_err();
    assert_eq!(elsewhere.code(), Some("credential_not_found"));
    assert_eq!(elsewhere.status(), Some(StatusCode::NOT_FOUND.as_u16()));
}
