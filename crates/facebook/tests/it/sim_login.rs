//! The login flow against the emulator: dialog, callback, exchange, debug_token, long-lived,
//! /me, and the ways a code exchange fails.

use fbgate_facebook::{
    AuthorizationCode, CallbackOutcome, ClientAuth, CodeExchange, ErrorKind, PkceVerifier,
    TokenType,
};
use serde_json::json;

use crate::sim::{ADA, DEMO_APP_ID, NOMAIL, REDIRECT_URI, SimEnv};

async fn code_for(
    env: &SimEnv,
    verifier: Option<&PkceVerifier>,
    scopes: &[&str],
) -> AuthorizationCode {
    let app = env.facebook.app();
    let mut dialog = app
        .login_dialog(REDIRECT_URI, "state-123")
        .scopes(scopes.iter().copied());
    if let Some(verifier) = verifier {
        dialog = dialog.pkce(verifier);
    }
    let callback = env.follow_dialog(&dialog.url()).await;
    assert_eq!(callback.state.as_deref(), Some("state-123"));
    match callback.outcome {
        CallbackOutcome::Code { code, .. } => code,
        other => panic!("expected a code, got {other:?}"),
    }
}

fn exchange(verifier: Option<&PkceVerifier>) -> CodeExchange<'_> {
    CodeExchange {
        redirect_uri: Some(REDIRECT_URI),
        code_verifier: verifier,
        client_auth: ClientAuth::Secret,
    }
}

#[tokio::test]
async fn a_dialog_code_becomes_a_confirmed_long_lived_token_and_a_profile() {
    let env = SimEnv::start().await;
    env.auto_consent(json!({"user_id": ADA})).await;
    let verifier = PkceVerifier::generate();
    let code = code_for(&env, Some(&verifier), &["public_profile", "email"]).await;

    let short = env
        .facebook
        .exchange_code(&code, exchange(Some(&verifier)))
        .await
        .unwrap();
    assert_eq!(short.token_type.as_deref(), Some("bearer"));
    let short_lifetime = short.expires_in.unwrap();
    assert!(
        short_lifetime <= 3 * 3600,
        "short-lived tokens last hours: {short_lifetime}"
    );

    let info = env.facebook.debug_token(&short.access_token).await.unwrap();
    assert!(info.is_valid);
    assert!(info.is_for_app(DEMO_APP_ID));
    assert_eq!(info.user_id.as_deref(), Some(ADA));
    assert_eq!(info.token_type, Some(TokenType::User));
    assert!(info.has_scope("email"));

    let long = env
        .facebook
        .exchange_long_lived(&short.access_token)
        .await
        .unwrap();
    assert_ne!(long.access_token, short.access_token);
    assert!(long.expires_in.unwrap() > 50 * 86_400);

    let profile = env.facebook.me(&long.access_token, &[]).await.unwrap();
    assert_eq!(profile.id, ADA);
    assert_eq!(profile.email.as_deref(), Some("ada@example.com"));
    assert_eq!(profile.first_name.as_deref(), Some("Ada"));
    assert!(profile.picture_url.is_some());
    assert_eq!(profile.lookup("picture.data.url"), profile.picture_url);
}

#[tokio::test]
async fn cancel_in_the_dialog_comes_back_as_user_denied() {
    let env = SimEnv::start().await;
    env.auto_consent(json!({"user_id": ADA, "cancel": true}))
        .await;
    let url = env
        .facebook
        .app()
        .login_dialog(REDIRECT_URI, "s1")
        .scopes(["email"])
        .url();
    let callback = env.follow_dialog(&url).await;
    assert_eq!(callback.state.as_deref(), Some("s1"));
    let CallbackOutcome::Error(error) = callback.outcome else {
        panic!("expected an error");
    };
    assert!(error.is_user_cancel());
    assert_eq!(error.error_reason.as_deref(), Some("user_denied"));
}

#[tokio::test]
async fn a_declined_permission_shows_in_permissions_and_profile() {
    let env = SimEnv::start().await;
    env.auto_consent(json!({"user_id": ADA, "declined": ["email"]}))
        .await;
    let code = code_for(&env, None, &["public_profile", "email"]).await;
    let token = env
        .facebook
        .exchange_code(&code, exchange(None))
        .await
        .unwrap();
    let permissions = env.facebook.permissions(&token.access_token).await.unwrap();
    assert!(permissions.is_granted("public_profile"));
    assert_eq!(permissions.declined(), ["email"]);
    let profile = env.facebook.me(&token.access_token, &[]).await.unwrap();
    assert_eq!(profile.email, None);

    let (profile, expanded) = env
        .facebook
        .me_with_permissions(&token.access_token, &["id", "email"])
        .await
        .unwrap();
    assert_eq!(profile.id, ADA);
    assert_eq!(expanded, permissions);
    assert_eq!(
        profile.raw.get("permissions"),
        None,
        "the edge is not part of the profile"
    );
}

#[tokio::test]
async fn a_user_without_email_has_no_email_field() {
    let env = SimEnv::start().await;
    let token = env.mint(NOMAIL, &["public_profile", "email"], false).await;
    let profile = env
        .facebook
        .me(&token, &["id", "name", "email"])
        .await
        .unwrap();
    assert_eq!(profile.id, NOMAIL);
    assert_eq!(profile.email, None);
    assert_eq!(profile.name.as_deref(), Some("Nomail Person"));
}

#[tokio::test]
async fn a_code_works_only_once() {
    let env = SimEnv::start().await;
    env.auto_consent(json!({"user_id": ADA})).await;
    let code = code_for(&env, None, &["public_profile"]).await;
    env.facebook
        .exchange_code(&code, exchange(None))
        .await
        .unwrap();
    let error = env
        .facebook
        .exchange_code(&code, exchange(None))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadRequest);
    assert_eq!(error.graph_error().unwrap().code, 100);
}

#[tokio::test]
async fn a_code_is_bound_to_its_redirect_uri() {
    let env = SimEnv::start().await;
    env.auto_consent(json!({"user_id": ADA})).await;
    let code = code_for(&env, None, &["public_profile"]).await;
    let other = CodeExchange {
        redirect_uri: Some("http://127.0.0.1:9/other"),
        ..CodeExchange::default()
    };
    let error = env.facebook.exchange_code(&code, other).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadRequest);
}

#[tokio::test]
async fn a_pkce_code_needs_its_verifier() {
    let env = SimEnv::start().await;
    env.auto_consent(json!({"user_id": ADA})).await;
    let verifier = PkceVerifier::generate();
    let code = code_for(&env, Some(&verifier), &["public_profile"]).await;
    let wrong = PkceVerifier::generate();
    let error = env
        .facebook
        .exchange_code(&code, exchange(Some(&wrong)))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadRequest);

    let code = code_for(&env, Some(&verifier), &["public_profile"]).await;
    let public = CodeExchange {
        redirect_uri: Some(REDIRECT_URI),
        code_verifier: Some(&verifier),
        client_auth: ClientAuth::PkceOnly,
    };
    let token = env.facebook.exchange_code(&code, public).await.unwrap();
    assert!(!token.access_token.expose().is_empty());
}

#[tokio::test]
async fn a_wrong_app_secret_fails_the_exchange_as_a_bad_request() {
    let env = SimEnv::start().await;
    env.auto_consent(json!({"user_id": ADA})).await;
    let code = code_for(&env, None, &["public_profile"]).await;
    let impostor = env.facebook_for(DEMO_APP_ID, "not-the-secret");
    let error = impostor
        .exchange_code(&code, exchange(None))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadRequest, "{error}");
}

#[tokio::test]
async fn app_tokens_in_both_forms_inspect_user_tokens() {
    let env = SimEnv::start().await;
    let user = env.mint(ADA, &["public_profile"], false).await;
    let fetched = env.facebook.fetch_app_access_token().await.unwrap();
    let via_fetched = env
        .facebook
        .debug_token_as(&user, &fetched.access_token)
        .await
        .unwrap();
    let via_pipe = env.facebook.debug_token(&user).await.unwrap();
    assert!(via_fetched.is_valid && via_pipe.is_valid);
    assert_eq!(via_fetched.user_id.as_deref(), Some(ADA));
    let app_info = env
        .facebook
        .debug_token(&fetched.access_token)
        .await
        .unwrap();
    assert_eq!(app_info.token_type, Some(TokenType::App));
}

#[tokio::test]
async fn reauthentication_returns_the_auth_nonce() {
    let env = SimEnv::start().await;
    env.auto_consent(json!({"user_id": ADA})).await;
    let url = env
        .facebook
        .app()
        .login_dialog(REDIRECT_URI, "s")
        .scopes(["public_profile"])
        .auth_type(fbgate_facebook::AuthType::Reauthenticate)
        .auth_nonce("n0nce42")
        .url();
    let CallbackOutcome::Code { code, .. } = env.follow_dialog(&url).await.outcome else {
        panic!("expected a code");
    };
    let token = env
        .facebook
        .exchange_code(&code, exchange(None))
        .await
        .unwrap();
    let info = env
        .facebook
        .access_token_info(&token.access_token)
        .await
        .unwrap();
    assert_eq!(info.auth_nonce.as_deref(), Some("n0nce42"));
    let debug = env.facebook.debug_token(&token.access_token).await.unwrap();
    assert_eq!(debug.auth_nonce(), Some("n0nce42"));
}

#[tokio::test]
async fn a_business_configuration_yields_a_system_user_token() {
    let env = SimEnv::start().await;
    let token = env.install_business().await;
    let info = env.facebook.debug_token(&token).await.unwrap();
    assert_eq!(info.token_type, Some(TokenType::SystemUser));
    assert!(info.is_valid && info.is_for_app(DEMO_APP_ID));
    assert_eq!(
        info.expires_at(),
        None,
        "system-user tokens never expire by default"
    );
    assert!(info.has_scope("business_management"));
}
