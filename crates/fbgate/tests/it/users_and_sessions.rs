//! Users created by the backend, sessions, session JWTs and the JWKS.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, TestEnvironment, error_code, on_both_engines, spawn_app};

on_both_engines!(
    a_backend_creates_finds_and_deletes_users,
    a_session_jwt_verifies_with_the_jwks_and_carries_the_documented_claims,
    a_revoked_session_gets_no_more_jwts,
    sessions_and_users_of_another_environment_are_invisible,
);

async fn create_user(app: &TestApp, env: &TestEnvironment, body: Value) -> Value {
    let response = app
        .client
        .post(app.url("/v1/users"))
        .bearer_auth(&env.secret_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn start_session(app: &TestApp, env: &TestEnvironment, user_id: &str) -> Value {
    let response = app
        .client
        .post(app.url(&format!("/v1/users/{user_id}/sessions")))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// Verifies a compact ES256 JWS against a JWKS and returns (header, claims).
fn verify_jwt(jwt: &str, jwks: &Value) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("kid in JWKS");
    let mut point = vec![4u8];
    point.extend(URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap());
    point.extend(URL_SAFE_NO_PAD.decode(key["y"].as_str().unwrap()).unwrap());
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("signature verifies");
    (header, claims)
}

async fn a_backend_creates_finds_and_deletes_users(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("people").await;
    let ada = create_user(
        &app,
        &env,
        json!({ "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace" }),
    )
    .await;
    assert!(ada["id"].as_str().unwrap().starts_with("usr_"));
    assert_eq!(ada["name"], "Ada Lovelace");
    assert_eq!(ada["created_via"], "api");
    create_user(&app, &env, json!({ "first_name": "Grace" })).await;

    let found: Value = app
        .client
        .get(app.url("/v1/users?email=ada@example.com"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert_eq!(found["data"][0]["id"], ada["id"]);
    let all: Value = app
        .client
        .get(app.url("/v1/users?limit=1"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
    assert!(all["next_cursor"].is_string());

    let bad = app
        .client
        .post(app.url("/v1/users"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "email": "not-an-email" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["field"], "email");

    let id = ada["id"].as_str().unwrap();
    let deleted = app
        .client
        .delete(app.url(&format!("/v1/users/{id}")))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let gone = app
        .client
        .get(app.url(&format!("/v1/users/{id}")))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(gone, StatusCode::NOT_FOUND).await,
        "user_not_found"
    );
}

async fn a_session_jwt_verifies_with_the_jwks_and_carries_the_documented_claims(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("jwt").await;
    // The JWKS is available before the first session, and holds the key that will sign.
    let jwks: Value = app
        .client
        .get(app.url("/v1/.well-known/jwks.json?environment=jwt"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["crv"], "P-256");
    assert!(
        jwks["keys"][0].get("d").is_none(),
        "no private part in the JWKS"
    );

    let user = create_user(&app, &env, json!({ "email": "jwt@example.com" })).await;
    let session = start_session(&app, &env, user["id"].as_str().unwrap()).await;
    assert!(
        session["session_token"]
            .as_str()
            .unwrap()
            .starts_with("fbgs_")
    );
    let (header, claims) = verify_jwt(session["session_jwt"].as_str().unwrap(), &jwks);
    assert_eq!(header["typ"], "JWT");
    assert_eq!(claims["iss"], app.address.as_str());
    assert_eq!(claims["sub"], user["id"]);
    assert_eq!(claims["sid"], session["session_id"]);
    assert_eq!(claims["env"], "jwt");
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert!((1..=900).contains(&lifetime), "lifetime {lifetime}");

    let fresh: Value = app
        .client
        .post(app.url("/v1/sessions/jwt"))
        .bearer_auth(session["session_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, fresh_claims) = verify_jwt(fresh["session_jwt"].as_str().unwrap(), &jwks);
    assert_eq!(fresh_claims["sid"], session["session_id"]);

    let unknown = app
        .client
        .get(app.url("/v1/.well-known/jwks.json?environment=nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(unknown, StatusCode::NOT_FOUND).await,
        "environment_not_found"
    );
}

async fn a_revoked_session_gets_no_more_jwts(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("signout").await;
    let user = create_user(&app, &env, json!({})).await;
    let user_id = user["id"].as_str().unwrap();

    // Sign out with the session's own token.
    let mine = start_session(&app, &env, user_id).await;
    let token = mine["session_token"].as_str().unwrap();
    let revoked: Value = app
        .client
        .post(app.url("/v1/sessions/revoke"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(revoked["revoked_at"].is_string());
    let after = app
        .client
        .post(app.url("/v1/sessions/jwt"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(after, StatusCode::UNAUTHORIZED).await,
        "invalid_session"
    );

    // The backend revokes another session by id.
    let other = start_session(&app, &env, user_id).await;
    let by_backend = app
        .client
        .post(app.url("/v1/sessions/revoke"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "session_id": other["session_id"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(by_backend.status(), StatusCode::OK);
    let after = app
        .client
        .post(app.url("/v1/sessions/jwt"))
        .bearer_auth(other["session_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(after, StatusCode::UNAUTHORIZED).await,
        "invalid_session"
    );

    let missing_id = app
        .client
        .post(app.url("/v1/sessions/revoke"))
        .bearer_auth(&env.secret_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(missing_id, StatusCode::UNPROCESSABLE_ENTITY).await,
        "invalid_field"
    );
}

async fn sessions_and_users_of_another_environment_are_invisible(engine: Engine) {
    let app = spawn_app(engine).await;
    let a = app.create_environment("iso-a").await;
    let b = app.create_environment("iso-b").await;
    let user_b = create_user(&app, &b, json!({ "email": "b@example.com" })).await;
    let session_b = start_session(&app, &b, user_b["id"].as_str().unwrap()).await;

    let read = app
        .client
        .get(app.url(&format!("/v1/users/{}", user_b["id"].as_str().unwrap())))
        .bearer_auth(&a.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(read, StatusCode::NOT_FOUND).await,
        "user_not_found"
    );
    let start = app
        .client
        .post(app.url(&format!(
            "/v1/users/{}/sessions",
            user_b["id"].as_str().unwrap()
        )))
        .bearer_auth(&a.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(start, StatusCode::NOT_FOUND).await,
        "user_not_found"
    );
    let revoke = app
        .client
        .post(app.url("/v1/sessions/revoke"))
        .bearer_auth(&a.secret_key)
        .json(&json!({ "session_id": session_b["session_id"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(revoke, StatusCode::NOT_FOUND).await,
        "session_not_found"
    );
    let listed: Value = app
        .client
        .get(app.url("/v1/users"))
        .bearer_auth(&a.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed["data"].as_array().unwrap().is_empty());
    // B's session still works.
    let still = app
        .client
        .post(app.url("/v1/sessions/jwt"))
        .bearer_auth(session_b["session_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), StatusCode::OK);
}
