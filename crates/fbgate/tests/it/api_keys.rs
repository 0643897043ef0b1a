//! Rolling and revoking API keys.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Engine, error_code, on_both_engines, spawn_app};

on_both_engines!(
    a_revoked_key_stops_working_and_a_new_one_takes_over,
    the_last_secret_key_cannot_be_revoked,
    keys_are_stored_only_as_hashes,
);

async fn a_revoked_key_stops_working_and_a_new_one_takes_over(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("rolling").await;

    let created: Value = app
        .client
        .post(app.url("/v1/api-keys"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "kind": "secret" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_key = created["key"].as_str().unwrap().to_owned();
    assert!(new_key.starts_with("sk_live_"));

    let keys: Value = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&new_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let old_id = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "secret" && k["id"] != created["id"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Warm the old key into the authentication cache first: revocation must still win.
    let warm = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), StatusCode::OK);
    let revoked: Value = app
        .client
        .delete(app.url(&format!("/v1/api-keys/{old_id}")))
        .bearer_auth(&new_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(revoked["revoked_at"].is_string());

    let with_old = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(with_old, StatusCode::UNAUTHORIZED).await,
        "invalid_api_key"
    );
    let with_new = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&new_key)
        .send()
        .await
        .unwrap();
    assert_eq!(with_new.status(), StatusCode::OK);
}

async fn the_last_secret_key_cannot_be_revoked(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("lonely").await;
    let keys: Value = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret_id = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kind"] == "secret")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .client
        .delete(app.url(&format!("/v1/api-keys/{secret_id}")))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response, StatusCode::CONFLICT).await,
        "last_secret_key"
    );
    let still = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), StatusCode::OK);
}

async fn keys_are_stored_only_as_hashes(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("hashed").await;
    let store = app.store().await;
    let rows = store.list_api_keys(&env.id).await.unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row.key_hash.len(), 32);
        let text = String::from_utf8_lossy(&row.key_hash).into_owned();
        assert!(!text.contains(&env.secret_key[8..]));
        assert!(
            env.secret_key.starts_with(&row.prefix) || env.publishable_key.starts_with(&row.prefix)
        );
        assert!(row.prefix.len() <= 12);
    }
}
