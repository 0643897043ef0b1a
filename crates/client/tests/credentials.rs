//! `get_credential` against a stand-in fbgate: the request it sends, the cache, and the errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use fbgate_client::{Client, CredentialRequest, CredentialStatus, Error, TokenType};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const SECRET_KEY: &str = "sk_test_0123456789";

fn rfc3339_in(offset: time::Duration) -> String {
    (OffsetDateTime::now_utc() + offset)
        .replace_nanosecond(0)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

fn credential_answer(token: &str, expires_in: Option<time::Duration>) -> Value {
    json!({
        "credential": {
            "id": "crd_abc",
            "access_token": token,
            "token_type": "user",
            "expires_at": expires_in.map(rfc3339_in),
            "data_access_expires_at": rfc3339_in(time::Duration::days(90)),
            "scopes": ["public_profile", "email"],
            "status": "active"
        }
    })
}

fn credential_get() -> MockBuilder {
    Mock::given(method("POST")).and(path("/v1/credentials/get"))
}

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

fn unusable(status: u16, code: &str, reason: Option<&str>) -> ResponseTemplate {
    let mut error = json!({ "code": code, "message": "the credential cannot be used" });
    if let Some(reason) = reason {
        error["reason"] = json!(reason);
        error["reconnect"] = json!(true);
    }
    ResponseTemplate::new(status).set_body_json(json!({ "error": error }))
}

fn client(server: &MockServer) -> Client {
    Client::new(&server.uri(), SECRET_KEY).unwrap()
}

#[tokio::test]
async fn a_credential_is_fetched_with_the_secret_key_and_read_into_typed_fields() {
    let server = MockServer::start().await;
    credential_get()
        .and(header("authorization", format!("Bearer {SECRET_KEY}")))
        .and(body_json(json!({
            "provider": "facebook", "tenant_id": "org_acme", "user_id": "user_123",
            "credential_for": "page", "page_id": "1122334455"
        })))
        .respond_with(ok(credential_answer(
            "EAABpage",
            Some(time::Duration::days(60)),
        )))
        .expect(1)
        .mount(&server)
        .await;

    let request =
        CredentialRequest::tenant_user("facebook", "org_acme", "user_123").page("1122334455");
    let credential = client(&server).get_credential(&request).await.unwrap();

    assert_eq!(credential.id, "crd_abc");
    assert_eq!(credential.access_token.expose(), "EAABpage");
    assert_eq!(credential.token_type, TokenType::User);
    assert_eq!(credential.status, CredentialStatus::Active);
    assert_eq!(credential.scopes, ["public_profile", "email"]);
    let expires_at = credential.expires_at.unwrap();
    assert!(expires_at > OffsetDateTime::now_utc() + time::Duration::days(59));
    assert!(credential.data_access_expires_at.is_some());
    assert!(!format!("{credential:?}").contains("EAABpage"));
}

#[tokio::test]
async fn a_second_call_is_served_from_the_cache_without_asking_fbgate() {
    let server = MockServer::start().await;
    credential_get()
        .respond_with(ok(credential_answer(
            "EAABcached",
            Some(time::Duration::days(60)),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let request = CredentialRequest::user("facebook", "usr_1");

    let first = client.get_credential(&request).await.unwrap();
    let second = client.get_credential(&request).await.unwrap();
    let from_a_clone = client.clone().get_credential(&request).await.unwrap();

    assert_eq!(first.access_token, second.access_token);
    assert_eq!(from_a_clone.access_token.expose(), "EAABcached");
}

#[tokio::test]
async fn tokens_that_never_expire_are_cached_too() {
    let server = MockServer::start().await;
    credential_get()
        .respond_with(ok(credential_answer("EAABsystem", None)))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let request = CredentialRequest::installation("facebook_business", "org_acme");
    for _ in 0..3 {
        let credential = client.get_credential(&request).await.unwrap();
        assert_eq!(credential.expires_at, None);
    }
}

#[tokio::test]
async fn each_address_has_its_own_cache_entry() {
    let server = MockServer::start().await;
    for user in ["usr_1", "usr_2"] {
        credential_get()
            .and(body_json(
                json!({ "provider": "facebook", "user_id": user, "credential_for": "user" }),
            ))
            .respond_with(ok(credential_answer(
                &format!("EAAB{user}"),
                Some(time::Duration::days(60)),
            )))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = client(&server);
    for _ in 0..2 {
        for user in ["usr_1", "usr_2"] {
            let credential = client
                .get_credential(&CredentialRequest::user("facebook", user))
                .await
                .unwrap();
            assert_eq!(credential.access_token.expose(), format!("EAAB{user}"));
        }
    }
}

#[tokio::test]
async fn many_tasks_share_one_cached_credential() {
    let server = MockServer::start().await;
    credential_get()
        .respond_with(ok(credential_answer(
            "EAABshared",
            Some(time::Duration::days(60)),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let request = CredentialRequest::user("facebook", "usr_1");
    client.get_credential(&request).await.unwrap();

    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let client = client.clone();
            let request = request.clone();
            tokio::spawn(async move { client.get_credential(&request).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(
            task.await.unwrap().unwrap().access_token.expose(),
            "EAABshared"
        );
    }
}

#[tokio::test]
async fn a_token_within_the_expiry_margin_is_fetched_again_every_time() {
    let server = MockServer::start().await;
    // Four minutes left: inside the default five-minute margin, so never served from memory.
    credential_get()
        .respond_with(ok(credential_answer(
            "EAABexpiring",
            Some(time::Duration::minutes(4)),
        )))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server);
    let request = CredentialRequest::user("facebook", "usr_1");
    for _ in 0..2 {
        let credential = client.get_credential(&request).await.unwrap();
        assert_eq!(credential.access_token.expose(), "EAABexpiring");
    }
}

#[tokio::test]
async fn a_wider_margin_makes_a_token_with_a_day_left_uncacheable() {
    let server = MockServer::start().await;
    credential_get()
        .respond_with(ok(credential_answer(
            "EAABday",
            Some(time::Duration::hours(20)),
        )))
        .expect(2)
        .mount(&server)
        .await;
    let client = Client::builder(&server.uri(), SECRET_KEY)
        .credential_cache_margin(Duration::from_secs(24 * 60 * 60))
        .build()
        .unwrap();
    let request = CredentialRequest::user("facebook", "usr_1");
    client.get_credential(&request).await.unwrap();
    client.get_credential(&request).await.unwrap();
}

#[tokio::test]
async fn a_disabled_cache_asks_fbgate_every_time() {
    let server = MockServer::start().await;
    credential_get()
        .respond_with(ok(credential_answer(
            "EAABfresh",
            Some(time::Duration::days(60)),
        )))
        .expect(3)
        .mount(&server)
        .await;
    let client = Client::builder(&server.uri(), SECRET_KEY)
        .disable_credential_cache()
        .build()
        .unwrap();
    let request = CredentialRequest::user("facebook", "usr_1");
    for _ in 0..3 {
        client.get_credential(&request).await.unwrap();
    }
}

#[tokio::test]
async fn invalidate_makes_the_next_call_ask_fbgate() {
    let server = MockServer::start().await;
    credential_get()
        .respond_with(ok(credential_answer(
            "EAABold",
            Some(time::Duration::days(60)),
        )))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    credential_get()
        .respond_with(ok(credential_answer(
            "EAABnew",
            Some(time::Duration::days(60)),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let request = CredentialRequest::user("facebook", "usr_1");

    assert_eq!(
        client
            .get_credential(&request)
            .await
            .unwrap()
            .access_token
            .expose(),
        "EAABold"
    );
    client.invalidate(&request);
    assert_eq!(
        client
            .get_credential(&request)
            .await
            .unwrap()
            .access_token
            .expose(),
        "EAABnew"
    );
    assert_eq!(
        client
            .get_credential(&request)
            .await
            .unwrap()
            .access_token
            .expose(),
        "EAABnew",
        "the new token is cached in turn"
    );
}

#[tokio::test]
async fn a_revoked_credential_is_an_error_with_reason_and_reconnect_and_is_never_cached() {
    let server = MockServer::start().await;
    credential_get()
        .respond_with(ok(credential_answer(
            "EAABrevoked",
            Some(time::Duration::days(60)),
        )))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    credential_get()
        .respond_with(unusable(
            409,
            "credential_revoked",
            Some("user_removed_app"),
        ))
        .expect(2)
        .mount(&server)
        .await;
    // A one-millisecond maximum age: the first answer is cached, and gone by the second call.
    let client = Client::builder(&server.uri(), SECRET_KEY)
        .credential_cache_max_age(Duration::from_millis(1))
        .build()
        .unwrap();
    let request = CredentialRequest::user("facebook", "usr_1");

    client.get_credential(&request).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    for _ in 0..2 {
        let error = client.get_credential(&request).await.unwrap_err();
        assert_eq!(error.status(), Some(409));
        assert_eq!(error.code(), Some("credential_revoked"));
        assert_eq!(error.reason(), Some("user_removed_app"));
        assert!(error.needs_reconnect());
        match error {
            Error::Api {
                reason, reconnect, ..
            } => {
                assert_eq!(reason.as_deref(), Some("user_removed_app"));
                assert!(reconnect);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn expired_and_invalid_credentials_carry_their_reasons() {
    let server = MockServer::start().await;
    credential_get()
        .respond_with(unusable(409, "credential_expired", Some("session_expired")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    credential_get()
        .respond_with(unusable(409, "credential_invalid", Some("checkpoint")))
        .mount(&server)
        .await;
    let client = client(&server);
    let request = CredentialRequest::user("facebook", "usr_1");

    let expired = client.get_credential(&request).await.unwrap_err();
    assert_eq!(expired.code(), Some("credential_expired"));
    assert_eq!(expired.reason(), Some("session_expired"));
    let invalid = client.get_credential(&request).await.unwrap_err();
    assert_eq!(invalid.code(), Some("credential_invalid"));
    assert_eq!(invalid.reason(), Some("checkpoint"));
    assert!(invalid.needs_reconnect());
}

#[tokio::test]
async fn nothing_stored_is_credential_not_found() {
    let server = MockServer::start().await;
    credential_get()
        .respond_with(unusable(404, "credential_not_found", None))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server);
    let request = CredentialRequest::user("facebook", "usr_nobody");
    for _ in 0..2 {
        let error = client.get_credential(&request).await.unwrap_err();
        assert_eq!(error.status(), Some(404));
        assert_eq!(error.code(), Some("credential_not_found"));
        assert_eq!(error.reason(), None);
        assert!(!error.needs_reconnect());
        assert!(
            error.to_string().contains("credential_not_found"),
            "{error}"
        );
    }
}
