//! Graph calls against the emulator: permissions, Pages, system-user tokens, and the error
//! classification of real emulator answers (revoked and expired tokens, rate limits, 5xx).

use std::time::Duration;

use fbgate_facebook::{
    AppSecretProofMode, AuthReason, ErrorKind, Facebook, FacebookApp, SystemUserTokenRequest,
    ThrottleScope, TokenType,
};
use serde_json::json;

use crate::sim::{ADA, BUSINESS_ID, PAGE_OWNER, SimEnv, client, quick};

#[tokio::test]
async fn revoked_tokens_are_classified_by_subcode() {
    let env = SimEnv::start().await;
    let cases = [
        (None, AuthReason::Invalid),
        (Some(458), AuthReason::AppNotInstalled),
        (Some(459), AuthReason::Checkpoint),
        (Some(460), AuthReason::PasswordChanged),
        (Some(463), AuthReason::Expired),
        (Some(464), AuthReason::Unconfirmed),
        (Some(467), AuthReason::Invalid),
    ];
    for (subcode, reason) in cases {
        let token = env.mint(ADA, &["public_profile"], true).await;
        env.revoke(&token, subcode).await;
        let error = env.facebook.me(&token, &[]).await.unwrap_err();
        assert_eq!(
            error.kind(),
            ErrorKind::Auth { reason },
            "{subcode:?}: {error}"
        );

        let info = env.facebook.debug_token(&token).await.unwrap();
        assert!(!info.is_valid, "{subcode:?}");
        let described = info.error.expect("invalid tokens carry an error");
        assert_eq!(described.code, Some(190));
        assert_eq!(described.subcode, subcode.map(i64::from), "{subcode:?}");
    }
}

#[tokio::test]
async fn a_short_token_expires_on_the_emulator_clock() {
    let env = SimEnv::start().await;
    let token = env.mint(ADA, &["public_profile"], false).await;
    env.facebook.me(&token, &[]).await.unwrap();
    env.advance_clock(3 * 86_400).await;
    let error = env.facebook.me(&token, &[]).await.unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Auth {
            reason: AuthReason::Expired
        }
    );
}

#[tokio::test]
async fn re_exchanging_a_long_lived_token_does_not_extend_it() {
    let env = SimEnv::start().await;
    let short = env.mint(ADA, &["public_profile"], false).await;
    let long = env.facebook.exchange_long_lived(&short).await.unwrap();
    env.advance_clock(86_400).await;
    let again = env
        .facebook
        .exchange_long_lived(&long.access_token)
        .await
        .unwrap();
    assert!(
        again.expires_in.unwrap() < long.expires_in.unwrap(),
        "{:?} vs {:?}",
        again.expires_in,
        long.expires_in
    );
}

#[tokio::test]
async fn revoking_one_permission_then_all() {
    let env = SimEnv::start().await;
    let token = env.mint(ADA, &["public_profile", "email"], true).await;
    assert!(
        env.facebook
            .permissions(&token)
            .await
            .unwrap()
            .is_granted("email")
    );
    assert!(
        env.facebook
            .revoke_permissions(&token, Some("email"))
            .await
            .unwrap()
    );
    let permissions = env.facebook.permissions(&token).await.unwrap();
    assert!(!permissions.is_granted("email"));
    assert!(permissions.is_granted("public_profile"));

    assert!(env.facebook.revoke_permissions(&token, None).await.unwrap());
    let error = env.facebook.me(&token, &[]).await.unwrap_err();
    assert!(matches!(error.kind(), ErrorKind::Auth { .. }), "{error}");
}

#[tokio::test]
async fn pages_come_with_tokens_and_paging() {
    let env = SimEnv::start().await;
    let token = env
        .mint(PAGE_OWNER, &["public_profile", "pages_show_list"], true)
        .await;
    let first = env.facebook.accounts(&token, None, Some(1)).await.unwrap();
    assert_eq!(first.data.len(), 1);
    let cursor = first.next_cursor().expect("a second page").to_owned();
    let second = env
        .facebook
        .accounts(&token, Some(&cursor), Some(1))
        .await
        .unwrap();
    assert_eq!(second.data.len(), 1);
    assert_ne!(first.data[0].id, second.data[0].id);

    let all = env.facebook.all_accounts(&token).await.unwrap();
    assert_eq!(all.len(), 2);
    let page = &all[0];
    assert!(page.tasks.iter().any(|t| t == "MANAGE"));
    let page_token = page.access_token.clone().expect("a page token");
    let info = env.facebook.debug_token(&page_token).await.unwrap();
    assert_eq!(info.token_type, Some(TokenType::Page));
    assert_eq!(info.profile_id.as_deref(), Some(page.id.as_str()));
    assert_eq!(
        info.expires_at(),
        None,
        "page tokens from long-lived user tokens never expire"
    );

    let direct = env
        .facebook
        .page_access_token(&token, &page.id)
        .await
        .unwrap();
    assert!(!direct.expose().is_empty());
}

#[tokio::test]
async fn system_user_tokens_are_fetched_minted_and_limited() {
    let env = SimEnv::start().await;
    let installed = env.install_business().await;
    let admin = env
        .mint(PAGE_OWNER, &["public_profile", "business_management"], true)
        .await;
    let request = SystemUserTokenRequest {
        client_business_id: BUSINESS_ID.into(),
        ..SystemUserTokenRequest::default()
    };

    let fetch = SystemUserTokenRequest {
        fetch_only: true,
        ..request.clone()
    };
    let fetched = env
        .facebook
        .system_user_access_token(&admin, &fetch)
        .await
        .unwrap();
    assert_eq!(
        fetched, installed,
        "fetch_only reads the installation's token"
    );

    let minted = env
        .facebook
        .system_user_access_token(&admin, &request)
        .await
        .unwrap();
    assert_ne!(minted, installed);
    let info = env.facebook.debug_token(&minted).await.unwrap();
    assert_eq!(info.token_type, Some(TokenType::SystemUser));
    assert!(info.is_valid);
    assert_eq!(info.expires_at(), None);

    let sixty_days = SystemUserTokenRequest {
        expires_in_60_days: true,
        scopes: vec!["pages_show_list".into()],
        ..request.clone()
    };
    let limited = env
        .facebook
        .system_user_access_token(&admin, &sixty_days)
        .await
        .unwrap();
    let info = env.facebook.debug_token(&limited).await.unwrap();
    let expires_in = info.expires_at().unwrap().unix_timestamp() - info.issued_at.unwrap();
    assert!(
        (59 * 86_400..=61 * 86_400).contains(&expires_in),
        "{expires_in}"
    );
    assert_eq!(info.scopes, ["pages_show_list"]);

    let foreign_asset = SystemUserTokenRequest {
        assets: vec!["99999999999999999".into()],
        ..request.clone()
    };
    let error = env
        .facebook
        .system_user_access_token(&admin, &foreign_asset)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadRequest, "{error}");

    let wider = SystemUserTokenRequest {
        scopes: vec!["ads_management".into()],
        ..request.clone()
    };
    let error = env
        .facebook
        .system_user_access_token(&admin, &wider)
        .await
        .unwrap_err();
    assert_eq!(error.graph_error().unwrap().code, 3962);
    assert_eq!(error.kind(), ErrorKind::BadRequest);
}

#[tokio::test]
async fn system_user_tokens_need_business_management() {
    let env = SimEnv::start().await;
    env.install_business().await;
    let plain = env.mint(PAGE_OWNER, &["public_profile"], true).await;
    let request = SystemUserTokenRequest {
        client_business_id: BUSINESS_ID.into(),
        ..SystemUserTokenRequest::default()
    };
    let error = env
        .facebook
        .system_user_access_token(&plain, &request)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Permission, "{error}");
}

#[tokio::test]
async fn rate_limit_faults_are_classified_by_scope() {
    let env = SimEnv::start().await;
    let token = env.mint(ADA, &["public_profile"], true).await;
    let cases = [
        (4, ThrottleScope::App),
        (17, ThrottleScope::User),
        (32, ThrottleScope::Page),
        (613, ThrottleScope::App),
        (80001, ThrottleScope::BusinessUseCase),
    ];
    for (code, scope) in cases {
        env.faults(json!({"rate_limit": {"code": code, "remaining_calls": 0}}))
            .await;
        let error = env.facebook.me(&token, &[]).await.unwrap_err();
        match error.kind() {
            ErrorKind::Throttled { scope: got, .. } => assert_eq!(got, scope, "{code}"),
            other => panic!("{code}: expected a throttle, got {other:?}"),
        }
        env.clear_faults().await;
    }
    env.facebook.me(&token, &[]).await.unwrap();
}

#[tokio::test]
async fn server_errors_surface_as_transient_after_retries() {
    let env = SimEnv::start().await;
    let token = env.mint(ADA, &["public_profile"], true).await;
    env.faults(json!({"server_error_rate": 1.0})).await;
    let error = env.facebook.me(&token, &[]).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transient, "{error}");
    env.clear_faults().await;
    env.facebook.me(&token, &[]).await.unwrap();
}

#[tokio::test]
async fn emulator_latency_beyond_the_timeout_is_a_transport_error() {
    let env = SimEnv::start().await;
    let token = env.mint(ADA, &["public_profile"], true).await;
    env.faults(json!({"latency_ms": 1500})).await;
    let impatient = Facebook::builder(env.facebook.app().clone())
        .retry_policy(fbgate_facebook::RetryPolicy::none())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = impatient.me(&token, &[]).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(!error.to_string().contains(token.expose()));
}

#[tokio::test]
async fn apps_that_require_a_proof_accept_both_forms_and_refuse_a_wrong_one() {
    let env = SimEnv::start().await;
    let (app_id, secret) = env.strict_app().await;
    let token = env.mint_for(&app_id, ADA, &["public_profile"], true).await;

    let plain = env.facebook_for(&app_id, &secret);
    assert_eq!(plain.me(&token, &[]).await.unwrap().id, ADA);

    let timed_app = FacebookApp::new(app_id.clone(), secret.clone())
        .with_base_url(env.base_url())
        .with_appsecret_proof_mode(AppSecretProofMode::Timed);
    assert_eq!(
        client(timed_app, quick()).me(&token, &[]).await.unwrap().id,
        ADA
    );

    let wrong = env.facebook_for(&app_id, "wrong-secret");
    let error = wrong.me(&token, &[]).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BadRequest, "{error}");
    assert_eq!(error.graph_error().unwrap().code, 100);
}

#[tokio::test]
async fn the_generic_calls_reach_any_path() {
    let env = SimEnv::start().await;
    let token = env.mint(ADA, &["public_profile"], true).await;
    let response = env
        .facebook
        .get("me", &[("fields", "id")], Some(&token))
        .await
        .unwrap();
    assert_eq!(response.json::<serde_json::Value>().unwrap()["id"], ADA);
    let missing = env
        .facebook
        .get("no-such-object-123/feed", &[], Some(&token))
        .await
        .unwrap_err();
    assert!(missing.graph_error().is_some(), "{missing}");
}
