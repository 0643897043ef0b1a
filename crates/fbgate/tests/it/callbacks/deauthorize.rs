//! The deauthorize callback: a person removed the app at Facebook.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{count, credential_row, deauthorize_payload, now_unix, padded, scene, unpadded};
use crate::facebook::returned_error;
use crate::helpers::{Engine, error_code, on_both_engines, spawn_app};

on_both_engines!(
    removing_the_app_at_facebook_revokes_the_credential_and_a_repeat_changes_nothing,
    deauthorize_for_an_unknown_user_answers_200_and_changes_nothing,
    deauthorize_accepts_padded_and_unpadded_signatures,
    deauthorize_refuses_bad_signatures_wrong_algorithms_and_stale_requests,
);

async fn removing_the_app_at_facebook_revokes_the_credential_and_a_repeat_changes_nothing(
    engine: Engine,
) {
    let s = scene(spawn_app(engine).await).await;
    let (person, user_id) = s.sign_up("Ada Lovelace", None).await;
    assert_eq!(s.credential(&user_id).await.status(), StatusCode::OK);
    let (bytes_before, version_before, _, _) = credential_row(&s.app, &user_id).await;
    assert!(bytes_before > 0);

    let (status, _) = s.at_facebook(&person, "remove").await;
    assert_eq!(status, 200);

    let response = s.credential(&user_id).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "credential_revoked");
    assert_eq!(body["error"]["reason"], "user_removed_app");
    assert_eq!(body["error"]["reconnect"], true);
    // The token is gone from the database, not merely hidden; the row stays to say why.
    let revoked = credential_row(&s.app, &user_id).await;
    let expected = (
        0,
        version_before + 1,
        "revoked".to_owned(),
        Some("user_removed_app".to_owned()),
    );
    assert_eq!(revoked, expected);
    const AUDIT: &str =
        "SELECT COUNT(*) FROM audit_log WHERE action = 'identity.deauthorized' AND detail LIKE $1";
    let pattern = format!("%{user_id}%");
    assert_eq!(count(&s.app, AUDIT, &pattern).await, 1);

    // Facebook may call again (the emulator's control call, or a retry): still 200, no change.
    let (status, _) = s.at_facebook(&person, "remove").await;
    assert_eq!(status, 200);
    let again = unpadded(
        &deauthorize_payload(&person.id, now_unix()),
        &s.provider.app_secret,
    );
    assert_eq!(
        s.post_callback("deauthorize", &again).await.status(),
        StatusCode::OK
    );
    assert_eq!(credential_row(&s.app, &user_id).await, expected);
    assert_eq!(count(&s.app, AUDIT, &pattern).await, 1);
    assert_eq!(s.credential(&user_id).await.status(), StatusCode::CONFLICT);
    // One `credential.revoked` event for the one change, naming the reason and no token.
    const EVENTS: &str = "SELECT COUNT(*) FROM outbox_events WHERE type = 'credential.revoked' \
                          AND payload LIKE $1 AND payload NOT LIKE '%access_token%'";
    assert_eq!(count(&s.app, EVENTS, "%user_removed_app%").await, 1);

    // The identity reads the same status.
    let identity: Value = s
        .app
        .client
        .get(
            s.app
                .url(&format!("/v1/users/{user_id}/identities/facebook")),
        )
        .bearer_auth(&s.env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(identity["token_status"], "revoked", "{identity}");

    // The person comes back and signs in again: a fresh token replaces the destroyed one.
    s.app.consent_as(&s.provider, &person, &[]).await;
    let returned = s.app.sign_in(&s.env, &s.provider, "").await;
    assert_eq!(returned_error(&returned), None);
    let response = s.credential(&user_id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["credential"]["status"], "active");
}

async fn deauthorize_for_an_unknown_user_answers_200_and_changes_nothing(engine: Engine) {
    let s = scene(spawn_app(engine).await).await;
    let (_, user_id) = s.sign_up("Ada Lovelace", None).await;
    let before = credential_row(&s.app, &user_id).await;

    // A person of the app who never signed in through fbgate.
    let stranger = s.app.facebook_user("Charles Babbage", None).await;
    let (status, _) = s.at_facebook(&stranger, "remove").await;
    assert_eq!(status, 200);
    let unknown = unpadded(
        &deauthorize_payload("1234567890", now_unix()),
        &s.provider.app_secret,
    );
    assert_eq!(
        s.post_callback("deauthorize", &unknown).await.status(),
        StatusCode::OK
    );

    assert_eq!(credential_row(&s.app, &user_id).await, before);
    assert_eq!(s.credential(&user_id).await.status(), StatusCode::OK);
    assert_eq!(
        count(
            &s.app,
            "SELECT COUNT(*) FROM audit_log WHERE actor = $1",
            "facebook"
        )
        .await,
        0
    );
}

async fn deauthorize_accepts_padded_and_unpadded_signatures(engine: Engine) {
    let s = scene(spawn_app(engine).await).await;
    let (ada, ada_id) = s.sign_up("Ada Lovelace", None).await;
    let (grace, grace_id) = s.sign_up("Grace Hopper", None).await;
    let secret = &s.provider.app_secret;

    let plain = unpadded(&deauthorize_payload(&ada.id, now_unix()), secret);
    assert!(!plain.contains('='));
    // A payload whose JSON length is not a multiple of 3, so that padding really appears.
    let mut payload = deauthorize_payload(&grace.id, now_unix());
    while payload.to_string().len().is_multiple_of(3) {
        payload["x"] = json!(format!("{}x", payload["x"].as_str().unwrap_or_default()));
    }
    let with_padding = padded(&payload, secret);
    assert!(
        with_padding.split('.').all(|part| part.ends_with('=')),
        "{with_padding}"
    );

    for (signed_request, user_id) in [(plain, &ada_id), (with_padding, &grace_id)] {
        let response = s.post_callback("deauthorize", &signed_request).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["success"], true);
        let (bytes, _, status, reason) = credential_row(&s.app, user_id).await;
        assert_eq!((bytes, status.as_str()), (0, "revoked"));
        assert_eq!(reason.as_deref(), Some("user_removed_app"));
    }
}

async fn deauthorize_refuses_bad_signatures_wrong_algorithms_and_stale_requests(engine: Engine) {
    let s = scene(spawn_app(engine).await).await;
    let (person, user_id) = s.sign_up("Ada Lovelace", None).await;
    let before = credential_row(&s.app, &user_id).await;
    let secret = s.provider.app_secret.as_str();
    let now = now_unix();
    let good = deauthorize_payload(&person.id, now);
    let tampered = {
        let signed = unpadded(&good, secret);
        let (signature, _) = signed.split_once('.').unwrap();
        let other = URL_SAFE
            .encode(deauthorize_payload("1", now).to_string())
            .trim_end_matches('=')
            .to_owned();
        format!("{signature}.{other}")
    };
    let cases = [
        (unpadded(&good, "another-apps-secret"), "invalid_signature"),
        (tampered, "invalid_signature"),
        (
            unpadded(
                &json!({ "user_id": person.id, "algorithm": "HMAC-SHA1", "issued_at": now }),
                secret,
            ),
            "unsupported_algorithm",
        ),
        (
            unpadded(&json!({ "user_id": person.id, "issued_at": now }), secret),
            "unsupported_algorithm",
        ),
        (
            unpadded(
                &deauthorize_payload(&person.id, now - 2 * 24 * 3600),
                secret,
            ),
            "stale_signed_request",
        ),
        (
            unpadded(&deauthorize_payload(&person.id, now + 3600), secret),
            "stale_signed_request",
        ),
        ("not-a-signed-request".to_owned(), "invalid_signed_request"),
        (String::new(), "invalid_signed_request"),
    ];
    for (signed_request, expected) in cases {
        let response = s.post_callback("deauthorize", &signed_request).await;
        assert_eq!(
            error_code(response, StatusCode::BAD_REQUEST).await,
            expected,
            "{signed_request}"
        );
    }
    // No form field at all, and an unknown provider.
    let response = s
        .app
        .client
        .post(
            s.app
                .url(&format!("/v1/facebook/{}/deauthorize", s.provider.id)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response, StatusCode::BAD_REQUEST).await,
        "invalid_signed_request"
    );
    let response = s
        .app
        .client
        .post(
            s.app
                .url("/v1/facebook/prv_00000000000000000000000000000000/deauthorize"),
        )
        .form(&[("signed_request", unpadded(&good, secret))])
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response, StatusCode::BAD_REQUEST).await,
        "provider_not_found"
    );
    // The data-deletion callback verifies the same way and records nothing when refused.
    let forged = unpadded(&good, "another-apps-secret");
    assert_eq!(
        error_code(
            s.post_callback("data-deletion", &forged).await,
            StatusCode::BAD_REQUEST
        )
        .await,
        "invalid_signature"
    );

    assert_eq!(credential_row(&s.app, &user_id).await, before);
    assert_eq!(s.credential(&user_id).await.status(), StatusCode::OK);
    assert_eq!(
        count(
            &s.app,
            "SELECT COUNT(*) FROM deletion_requests WHERE status = $1",
            "pending"
        )
        .await,
        0
    );
}
