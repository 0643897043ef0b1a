//! `exchange_sign_in_code` and the transport every call shares, against a stand-in fbgate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fbgate_client::{Client, CredentialRequest, Error};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An answer shaped like fbgate's, with a field this SDK does not know.
fn sign_in_answer() -> serde_json::Value {
    json!({
        "user": {
            "id": "usr_1", "email": "ada@example.com", "first_name": "Ada",
            "last_name": "Lovelace", "name": "Ada Lovelace",
            "profile_image_url": "https://fbgate.example.com/v1/avatars/av_1",
            "created_via": "facebook", "created_at": "2026-05-01T10:00:00Z",
            "updated_at": "2026-05-01T10:00:00Z", "last_sign_in_at": "2026-05-01T10:00:00Z"
        },
        "identity": {
            "id": "idn_1", "user_id": "usr_1", "provider": "facebook",
            "provider_user_id": "1029384756", "profile": {"id": "1029384756", "name": "Ada Lovelace"},
            "granted_scopes": ["public_profile", "email"], "declined_scopes": ["user_friends"],
            "token_status": "active", "token_status_reason": null,
            "expires_at": "2026-06-30T10:00:00Z", "data_access_expires_at": "2026-07-30T10:00:00Z",
            "last_checked_at": null, "linked_at": "2026-05-01T10:00:00Z",
            "synced_at": "2026-05-01T10:00:00Z"
        },
        "is_new_user": true,
        "session_id": "ses_1",
        "session_token": "fbgs_secret_session_token",
        "session_jwt": "eyJhbGciOiJFUzI1NiJ9.e30.sig",
        "expires_at": "2026-05-31T10:00:00Z",
        "added_in_a_later_version": {"anything": true}
    })
}

#[tokio::test]
async fn a_sign_in_code_is_exchanged_for_user_identity_and_session() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/sign-ins/exchange"))
        .and(header("authorization", "Bearer sk_test_key"))
        .and(body_json(json!({ "code": "one-time-code" })))
        .respond_with(ResponseTemplate::new(200).set_body_json(sign_in_answer()))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), "sk_test_key").unwrap();

    let sign_in = client.exchange_sign_in_code("one-time-code").await.unwrap();

    assert!(sign_in.is_new_user);
    assert_eq!(sign_in.user.id, "usr_1");
    assert_eq!(sign_in.user.email.as_deref(), Some("ada@example.com"));
    assert_eq!(sign_in.user.created_via, "facebook");
    assert!(sign_in.user.last_sign_in_at.is_some());
    assert_eq!(sign_in.identity.provider_user_id, "1029384756");
    assert_eq!(sign_in.identity.declined_scopes, ["user_friends"]);
    assert_eq!(sign_in.identity.token_status.as_deref(), Some("active"));
    assert_eq!(sign_in.identity.last_checked_at, None);
    assert_eq!(sign_in.identity.profile["name"], "Ada Lovelace");
    assert_eq!(sign_in.session_id, "ses_1");
    assert_eq!(sign_in.session_token.expose(), "fbgs_secret_session_token");
    assert_eq!(sign_in.expires_at.unix_timestamp(), 1_780_221_600);

    let debug = format!("{sign_in:?}");
    assert!(!debug.contains("fbgs_secret_session_token"), "{debug}");
    assert!(!debug.contains("eyJhbGciOiJFUzI1NiJ9"), "{debug}");
}

#[tokio::test]
async fn a_used_or_expired_code_is_invalid_sign_in_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/sign-ins/exchange"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "error": { "code": "invalid_sign_in_code", "message": "unknown, used or expired code",
                "field": "code" }
        })))
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), "sk_test_key").unwrap();
    match client.exchange_sign_in_code("used").await {
        Err(Error::Api {
            status,
            code,
            field,
            reconnect,
            ..
        }) => {
            assert_eq!(status, 422);
            assert_eq!(code, "invalid_sign_in_code");
            assert_eq!(field.as_deref(), Some("code"));
            assert!(!reconnect);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn ready_sends_the_key_and_reads_error_json() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/readyz"))
        .and(header("authorization", "Bearer sk_test_abc"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({
            "error": {"code": "not_ready", "message": "1 migration(s) pending"}
        })))
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), "sk_test_abc").unwrap();
    let error = client.ready().await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.code(), Some("not_ready"));
}

#[tokio::test]
async fn an_answer_that_is_not_fbgates_error_json_is_unexpected_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .mount(&server)
        .await;
    let client = Client::new(&server.uri(), "sk_test_key").unwrap();
    let error = client
        .get_credential(&CredentialRequest::user("facebook", "usr_1"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(502));
    assert_eq!(error.code(), Some("unexpected_answer"));
}

#[tokio::test]
async fn a_base_url_with_a_path_keeps_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/fbgate/v1/sign-ins/exchange"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sign_in_answer()))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::new(&format!("{}/fbgate", server.uri()), "sk_test_key").unwrap();
    client.exchange_sign_in_code("code").await.unwrap();
}
