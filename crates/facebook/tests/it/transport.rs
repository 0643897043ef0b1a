//! Client mechanics over loopback: proof, retries, error classification of odd answers.

use std::time::Duration;

use fbgate_facebook::{
    AccessToken, AppSecretProofMode, AuthorizationCode, CodeExchange, ErrorKind, FacebookError,
    RetryPolicy, SystemUserTokenRequest, ThrottleScope, appsecret_proof,
};
use serde_json::json;

use crate::fake::{Fake, Reply, quick_retries};

fn transient() -> Reply {
    Reply::json(
        500,
        json!({"error": {"message": "An unknown error occurred", "type": "OAuthException", "code": 1}}),
    )
}

#[tokio::test]
async fn token_bearing_reads_carry_the_plain_proof() {
    let fake = Fake::start(vec![Reply::json(200, json!({"data": []}))]).await;
    let client = fake.client(RetryPolicy::none());
    let token = AccessToken::new("EAAuser");
    client.permissions(&token).await.unwrap();
    let seen = &fake.seen()[0];
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.path, "/v25.0/me/permissions");
    assert_eq!(seen.param("access_token"), Some("EAAuser"));
    let expected = appsecret_proof(&client.app().app_secret, &token);
    assert_eq!(seen.param("appsecret_proof"), Some(expected.as_str()));
    assert_eq!(seen.param("appsecret_time"), None);
}

#[tokio::test]
async fn the_profile_and_permissions_come_in_one_call_or_two_when_the_edge_is_missing() {
    let permissions = json!({"data": [
        {"permission": "public_profile", "status": "granted"},
        {"permission": "email", "status": "declined"},
    ]});
    let fake = Fake::start(vec![
        Reply::json(
            200,
            json!({"id": "10", "name": "Ada", "permissions": permissions}),
        ),
        Reply::json(200, json!({"id": "10", "name": "Ada"})),
        Reply::json(200, permissions.clone()),
    ])
    .await;
    let client = fake.client(RetryPolicy::none());
    let token = AccessToken::new("EAAuser");

    let (profile, expanded) = client
        .me_with_permissions(&token, &["id", "name", "permissions"])
        .await
        .unwrap();
    assert_eq!(profile.name.as_deref(), Some("Ada"));
    assert_eq!(profile.raw, json!({"id": "10", "name": "Ada"}));
    assert_eq!(expanded.declined(), ["email"]);
    assert_eq!(fake.seen().len(), 1);
    assert_eq!(fake.seen()[0].path, "/v25.0/me");
    assert_eq!(fake.seen()[0].param("fields"), Some("id,name,permissions"));

    let (_, fetched) = client.me_with_permissions(&token, &["id"]).await.unwrap();
    assert_eq!(fetched, expanded);
    let seen = fake.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[1].param("fields"), Some("id,permissions"));
    assert_eq!(seen[2].path, "/v25.0/me/permissions");
}

#[tokio::test]
async fn timed_proof_mode_sends_the_time_and_writes_use_the_form_body() {
    let fake = Fake::start(vec![Reply::json(200, json!({"access_token": "EAAsys"}))]).await;
    let app = fake
        .app()
        .with_appsecret_proof_mode(AppSecretProofMode::Timed);
    let client = fbgate_facebook::Facebook::new(app).unwrap();
    let request = SystemUserTokenRequest {
        client_business_id: "20000000000000001".into(),
        fetch_only: true,
        scopes: vec!["pages_show_list".into(), "business_management".into()],
        ..SystemUserTokenRequest::default()
    };
    let token = client
        .system_user_access_token(&AccessToken::new("EAAuser"), &request)
        .await
        .unwrap();
    assert_eq!(token.expose(), "EAAsys");
    let seen = &fake.seen()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.path,
        "/v25.0/20000000000000001/system_user_access_tokens"
    );
    assert!(
        seen.query.is_empty(),
        "secrets belong in the body of a POST"
    );
    let time: i64 = seen.param("appsecret_time").unwrap().parse().unwrap();
    let expected = fbgate_facebook::appsecret_proof_timed(
        &client.app().app_secret,
        &AccessToken::new("EAAuser"),
        time,
    );
    assert_eq!(seen.param("appsecret_proof"), Some(expected.as_str()));
    assert_eq!(seen.param("fetch_only"), Some("true"));
    assert_eq!(
        seen.param("scope"),
        Some("pages_show_list,business_management")
    );
}

#[tokio::test]
async fn reads_are_retried_after_transient_errors() {
    let fake = Fake::start(vec![
        transient(),
        Reply::text(502, "<html>Bad Gateway</html>"),
        Reply::json(200, json!({"id": "7", "name": "Ada"})),
    ])
    .await;
    let profile = fake
        .client(quick_retries(3))
        .me(&AccessToken::new("t"), &["id", "name"])
        .await
        .unwrap();
    assert_eq!(profile.id, "7");
    assert_eq!(fake.seen().len(), 3);
    assert_eq!(fake.seen()[0].param("fields"), Some("id,name"));
}

#[tokio::test]
async fn retries_stop_at_the_attempt_limit() {
    let fake = Fake::start(vec![transient(), transient(), transient(), transient()]).await;
    let error = fake
        .client(quick_retries(2))
        .permissions(&AccessToken::new("t"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn the_code_exchange_is_never_retried() {
    let fake = Fake::start(vec![
        transient(),
        Reply::json(200, json!({"access_token": "x"})),
    ])
    .await;
    let client = fake.client(quick_retries(5));
    let error = client
        .exchange_code(
            &AuthorizationCode::new("AQ1"),
            CodeExchange {
                redirect_uri: Some("http://127.0.0.1/cb"),
                ..CodeExchange::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert_eq!(fake.seen().len(), 1);
    let seen = &fake.seen()[0];
    assert_eq!(seen.param("client_secret"), Some("fake-secret"));
    assert_eq!(seen.param("redirect_uri"), Some("http://127.0.0.1/cb"));
    assert!(!error.to_string().contains("fake-secret"));
}

#[tokio::test]
async fn writes_are_never_retried() {
    let fake = Fake::start(vec![
        transient(),
        Reply::json(200, json!({"success": true})),
    ])
    .await;
    let error = fake
        .client(quick_retries(5))
        .revoke_permissions(&AccessToken::new("t"), None)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transient);
    assert_eq!(fake.seen().len(), 1);
    assert_eq!(fake.seen()[0].method, "DELETE");
}

#[tokio::test]
async fn auth_errors_are_not_retried() {
    let fake = Fake::start(vec![Reply::json(
        400,
        json!({"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190, "error_subcode": 463}}),
    )])
    .await;
    let error = fake
        .client(quick_retries(5))
        .me(&AccessToken::new("t"), &[])
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Auth {
            reason: fbgate_facebook::AuthReason::Expired
        }
    );
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn a_long_business_throttle_is_handed_back_with_its_wait() {
    let fake = Fake::start(vec![
        Reply::json(
            400,
            json!({"error": {"message": "(#80001) There have been too many calls to this Page account.", "type": "OAuthException", "code": 80001}}),
        )
        .header(
            "x-business-use-case-usage",
            r#"{"555":[{"type":"pages","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":3}]}"#,
        ),
    ])
    .await;
    let error = fake
        .client(quick_retries(5))
        .accounts(&AccessToken::new("t"), None, None)
        .await
        .unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Throttled {
            scope: ThrottleScope::BusinessUseCase,
            retry_after: Some(Duration::from_secs(180)),
        }
    );
    assert_eq!(
        fake.seen().len(),
        1,
        "a 3-minute wait is not slept inside the call"
    );
}

#[tokio::test]
async fn a_non_json_success_is_a_protocol_error() {
    let fake = Fake::start(vec![Reply::text(200, "<html>hello</html>")]).await;
    let error = fake
        .client(quick_retries(3))
        .permissions(&AccessToken::new("t"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Protocol);
    assert!(matches!(error, FacebookError::Protocol { status: 200, .. }));
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn a_legacy_urlencoded_token_answer_is_read() {
    let fake = Fake::start(vec![Reply::text(
        200,
        "access_token=EAAold&expires=5183944",
    )])
    .await;
    let token = fake
        .client(RetryPolicy::none())
        .exchange_long_lived(&AccessToken::new("short"))
        .await
        .unwrap();
    assert_eq!(token.access_token.expose(), "EAAold");
    assert_eq!(token.expires_in, Some(5_183_944));
    let seen = &fake.seen()[0];
    assert_eq!(seen.param("grant_type"), Some("fb_exchange_token"));
    assert_eq!(seen.param("fb_exchange_token"), Some("short"));
}

#[tokio::test]
async fn a_timeout_is_a_transport_error_without_secrets() {
    let slow = || Reply::json(200, json!({"data": []})).delayed(Duration::from_secs(2));
    let fake = Fake::start(vec![slow(), slow()]).await;
    let error = fake
        .client(quick_retries(2))
        .permissions(&AccessToken::new("EAAsecret-token"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    let FacebookError::Transport(transport) = &error else {
        panic!("expected a transport error, got {error:?}");
    };
    assert!(transport.timeout);
    assert_eq!(fake.seen().len(), 2, "timeouts of reads are retried");
    for shown in [error.to_string(), format!("{error:?}")] {
        assert!(!shown.contains("EAAsecret-token"), "{shown}");
        assert!(!shown.contains("fake-secret"), "{shown}");
        assert!(!shown.contains("appsecret_proof"), "{shown}");
    }
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let app = fbgate_facebook::FacebookApp::new("1", "s").with_base_url(url);
    let client = fbgate_facebook::Facebook::builder(app)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = client.fetch_app_access_token().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert!(error.is_temporary());
}
