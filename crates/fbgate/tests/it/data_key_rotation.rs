//! Data-key rotation (`fbgate keys rotate-data`) through the real binary, on the database of a
//! running server: nothing stops being readable, every envelope moves to the new keys, and an
//! interrupted rotation resumes instead of making yet more keys.

use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fbgate::domain::credentials::{Address, Owner};
use fbgate::store::data_rotation::{SealedColumn, SealedValueRow};
use fbgate::store::{ConnectionRow, ConnectionWrite, CredentialRow, DataKeyRow, Store};
use fbgate::vault::{Aad, Envelope, KeyScope, MasterKey, Vault};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::facebook::TestProvider;
use crate::helpers::{Engine, TestApp, TestEnvironment, on_both_engines, spawn_app};

on_both_engines!(
    data_key_rotation_under_read_load_loses_nothing_and_moves_every_envelope,
    an_interrupted_data_key_rotation_resumes_without_making_another_key,
    a_token_replaced_during_the_rotation_is_never_overwritten,
);

const TENANT: &str = "org_acme";
const TENANT_USER: &str = "user_123";
const TENANT_TOKEN: &str = "EAAGtenantTokenSealedUnderTheTenantKey0123456789";

/// Runs `fbgate keys rotate-data --environment slug ...` on the app's database.
async fn rotate_data(app: &TestApp, slug: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_fbgate"))
        .args(["keys", "rotate-data", "--environment", slug])
        .args(extra)
        .current_dir(dir.path())
        .env_clear()
        .env("FBGATE_DATABASE_URL", &app.database.url)
        .env("FBGATE_MASTER_KEY", app.master_key.expose())
        .output()
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An environment with a Facebook provider and `users` fbgate users signed in through the
/// emulator; returns their ids and tokens.
async fn environment_with_users(
    app: &TestApp,
    slug: &str,
    users: usize,
) -> (TestEnvironment, TestProvider, Vec<(String, String)>) {
    let env = app.create_environment(slug).await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let mut signed_in = Vec::new();
    for i in 0..users {
        signed_in.push(sign_in_new_user(app, &env, &provider, &format!("{slug}-{i}")).await);
    }
    (env, provider, signed_in)
}

async fn sign_in_new_user(
    app: &TestApp,
    env: &TestEnvironment,
    provider: &TestProvider,
    name: &str,
) -> (String, String) {
    let person = app
        .facebook_user(name, Some(&format!("{name}@example.com")))
        .await;
    app.consent_as(provider, &person, &[]).await;
    let returned = app.sign_in(env, provider, "").await;
    let result = app.exchange(env, &returned).await;
    let user_id = result["user"]["id"].as_str().unwrap().to_owned();
    let token = app.access_token(env, &user_id).await;
    (user_id, token)
}

fn credential_aad(environment_id: &str, id: &str, version: i64) -> Aad {
    Aad::new("credential")
        .with(environment_id)
        .with(id)
        .with(version.to_string())
}

/// A connected user of the app's tenant, with a credential sealed under the tenant's data key.
async fn tenant_credential(app: &TestApp, env: &TestEnvironment, provider: &TestProvider) {
    let store = app.store().await;
    let vault = Vault::new(
        MasterKey::from_base64(app.master_key.expose()).unwrap(),
        store.clone(),
    );
    let now = OffsetDateTime::now_utc();
    let id = fbgate::ids::new_id("crd");
    let connection = ConnectionRow {
        id: fbgate::ids::new_id("con"),
        environment_id: env.id.clone(),
        provider_id: provider.id.clone(),
        tenant_id: TENANT.to_owned(),
        external_user_id: TENANT_USER.to_owned(),
        facebook_user_id: "100000000000001".to_owned(),
        created_at: now,
        updated_at: now,
    };
    let address = Address::of(Owner::TenantUser {
        tenant_id: TENANT.to_owned(),
        user_id: TENANT_USER.to_owned(),
    });
    let token_ciphertext = vault
        .seal(
            &env.id,
            &KeyScope::Tenant(TENANT.to_owned()),
            &credential_aad(&env.id, &id, 1),
            TENANT_TOKEN.as_bytes(),
        )
        .await
        .unwrap();
    let credential = CredentialRow {
        id,
        environment_id: env.id.clone(),
        provider_id: provider.id.clone(),
        owner_kind: address.kind().to_owned(),
        owner_key: address.key(),
        tenant_id: Some(TENANT.to_owned()),
        external_user_id: Some(TENANT_USER.to_owned()),
        connection_id: Some(connection.id.clone()),
        page_id: None,
        parent_id: None,
        user_id: None,
        identity_id: None,
        facebook_id: connection.facebook_user_id.clone(),
        token_ciphertext,
        key_scope: format!("tenant:{TENANT}"),
        token_type: "user".to_owned(),
        issued_at: now,
        expires_at: Some(now + Duration::days(60)),
        data_access_expires_at: Some(now + Duration::days(90)),
        scopes: r#"["public_profile","email"]"#.to_owned(),
        status: "active".to_owned(),
        status_reason: None,
        last_checked_at: Some(now),
        // Not due for a health check during the test: the token is not one the emulator knows.
        next_check_at: Some(now + Duration::days(30)),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    store
        .save_connection(&ConnectionWrite {
            connection: &connection,
            new_connection: true,
            credential: (&credential, None),
            pages: Vec::new(),
            removed_pages: Vec::new(),
            events: Vec::new(),
        })
        .await
        .unwrap();
}

fn user_request(user_id: &str) -> Value {
    json!({ "provider": "facebook", "user_id": user_id, "credential_for": "user" })
}

fn tenant_request() -> Value {
    json!({
        "provider": "facebook",
        "tenant_id": TENANT,
        "user_id": TENANT_USER,
        "credential_for": "user",
    })
}

/// `credentials/get`: the status, and the token when it answered 200.
async fn get_token(
    client: &reqwest::Client,
    url: &str,
    secret_key: &str,
    body: &Value,
) -> (StatusCode, String) {
    let response = client
        .post(url)
        .bearer_auth(secret_key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    if status != StatusCode::OK {
        return (status, text);
    }
    let answer: Value = serde_json::from_str(&text).unwrap();
    let token = answer["credential"]["access_token"].as_str().unwrap();
    (status, token.to_owned())
}

/// The environment's data keys by scope: (active key id, how many keys the scope holds).
async fn keys_by_scope(store: &Store, environment_id: &str) -> Vec<(String, String, usize)> {
    let keys: Vec<DataKeyRow> = store
        .data_keys_of_environment(environment_id)
        .await
        .unwrap();
    let mut scopes: Vec<String> = keys.iter().map(|k| k.scope.clone()).collect();
    scopes.dedup();
    scopes
        .into_iter()
        .map(|scope| {
            let of_scope: Vec<&DataKeyRow> = keys.iter().filter(|k| k.scope == scope).collect();
            let active: Vec<&&DataKeyRow> = of_scope.iter().filter(|k| k.active).collect();
            assert_eq!(active.len(), 1, "one active key for {scope}");
            (scope, active[0].id.clone(), of_scope.len())
        })
        .collect()
}

fn active_key_of<'a>(keys: &'a [(String, String, usize)], scope: &str) -> &'a str {
    &keys.iter().find(|(s, _, _)| s == scope).unwrap().1
}

/// The key id named by every credential token and client secret of the environment, with the
/// scope it must belong to, read straight from the rows.
async fn envelopes(
    store: &Store,
    env: &TestEnvironment,
    provider: &TestProvider,
    users: &[(String, String)],
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut addresses: Vec<Address> = users
        .iter()
        .map(|(user_id, _)| {
            Address::of(Owner::FbgateUser {
                user_id: user_id.clone(),
            })
        })
        .collect();
    addresses.push(Address::of(Owner::TenantUser {
        tenant_id: TENANT.to_owned(),
        user_id: TENANT_USER.to_owned(),
    }));
    for address in addresses {
        let row = store
            .credential_at(&env.id, &provider.id, &address.key())
            .await
            .unwrap()
            .expect("credential row");
        let key_id = Envelope::parse(&row.token_ciphertext).unwrap().key_id;
        found.push((row.key_scope.clone(), key_id.to_owned()));
    }
    let provider_row = store
        .get_provider(&env.id, &provider.id)
        .await
        .unwrap()
        .unwrap();
    let key_id = Envelope::parse(&provider_row.client_secret_ciphertext)
        .unwrap()
        .key_id;
    found.push(("environment".to_owned(), key_id.to_owned()));
    found
}

async fn data_key_rotation_under_read_load_loses_nothing_and_moves_every_envelope(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider, users) = environment_with_users(&app, "under-load", 5).await;
    tenant_credential(&app, &env, &provider).await;
    let endpoint: Value = app
        .client
        .post(app.url("/v1/webhook-endpoints"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "url": "http://127.0.0.1:9/hooks", "events": ["installation.removed"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let store = app.store().await;
    let before = keys_by_scope(&store, &env.id).await;
    assert_eq!(before.len(), 2, "environment and tenant scopes: {before:?}");

    let mut expected: Vec<(Value, String)> = users
        .iter()
        .map(|(user_id, token)| (user_request(user_id), token.clone()))
        .collect();
    expected.push((tenant_request(), TENANT_TOKEN.to_owned()));

    // Readers hammer credentials/get for the whole rotation.
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (client, url, key) = (
            app.client.clone(),
            app.url("/v1/credentials/get"),
            env.secret_key.clone(),
        );
        let (expected, stop) = (expected.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            let mut answers = 0u64;
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for (body, token) in &expected {
                    let (status, got) = get_token(&client, &url, &key, body).await;
                    if status != StatusCode::OK {
                        failures.push(format!("{status}: {got}"));
                    } else if &got != token {
                        failures.push(format!("another token for {body}"));
                    }
                    answers += 1;
                }
            }
            (answers, failures)
        }));
    }
    let rotation = rotate_data(&app, "under-load", &["--batch-size", "2"]).await;
    stop.store(true, Ordering::Relaxed);
    let mut answers = 0;
    for reader in readers {
        let (count, failures) = reader.await.unwrap();
        assert!(failures.is_empty(), "credentials/get failed: {failures:?}");
        answers += count;
    }
    assert!(answers > 0, "the readers ran");
    assert!(rotation.status.success(), "{}", stderr(&rotation));
    let out = stdout(&rotation);
    assert!(out.contains("started data-key rotation dkr_"), "{out}");
    assert!(
        out.contains("credentials: 6 re-encrypted")
            && out.contains("client secrets: 1 re-encrypted")
            && out.contains("webhook signing secrets: 1 re-encrypted"),
        "{out}"
    );
    assert!(
        stderr(&rotation).contains("re-encrypted 6/6 credentials"),
        "{}",
        stderr(&rotation)
    );

    // A new key per scope; the old ones are kept, inactive.
    let after = keys_by_scope(&store, &env.id).await;
    for ((scope, old_key, _), (same_scope, new_key, count)) in before.iter().zip(&after) {
        assert_eq!(scope, same_scope);
        assert_ne!(old_key, new_key, "{scope} has a new active key");
        assert_eq!(*count, 2, "{scope} keeps its old key");
    }
    // Every envelope now names its scope's new key.
    for (scope, key_id) in envelopes(&store, &env, &provider, &users).await {
        assert_eq!(key_id, active_key_of(&after, &scope), "{scope}");
    }
    let webhook_id = endpoint["id"].as_str().unwrap();
    let webhook = store
        .get_webhook_endpoint(&env.id, webhook_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Envelope::parse(&webhook.signing_secret).unwrap().key_id,
        active_key_of(&after, "environment")
    );
    let vault = Vault::new(
        MasterKey::from_base64(app.master_key.expose()).unwrap(),
        store.clone(),
    );
    let opened = vault
        .open_string(
            &env.id,
            &Aad::new("webhook_secret").with(&env.id).with(webhook_id),
            &webhook.signing_secret,
        )
        .await
        .unwrap();
    assert_eq!(
        opened.expose().as_str(),
        endpoint["signing_secret"].as_str().unwrap()
    );

    // Every credential reads back with the same token, and sign-in (the client secret) works.
    for (body, token) in &expected {
        let (status, got) = get_token(
            &app.client,
            &app.url("/v1/credentials/get"),
            &env.secret_key,
            body,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{got}");
        assert_eq!(&got, token);
    }
    let (newcomer, _) = sign_in_new_user(&app, &env, &provider, "after-rotation").await;
    let row = store
        .credential_at(
            &env.id,
            &provider.id,
            &Address::of(Owner::FbgateUser { user_id: newcomer }).key(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        Envelope::parse(&row.token_ciphertext).unwrap().key_id,
        active_key_of(&after, "environment"),
        "new tokens are sealed with the new key"
    );
}

async fn an_interrupted_data_key_rotation_resumes_without_making_another_key(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider, users) = environment_with_users(&app, "resume", 3).await;
    tenant_credential(&app, &env, &provider).await;
    let store = app.store().await;
    let before = keys_by_scope(&store, &env.id).await;

    // The first run stops after two values, as if killed.
    let first = rotate_data(&app, "resume", &["--batch-size", "1", "--stop-after", "2"]).await;
    assert!(!first.status.success());
    assert!(
        stderr(&first).contains("run the command again"),
        "{}",
        stderr(&first)
    );
    let during = keys_by_scope(&store, &env.id).await;
    let moved = envelopes(&store, &env, &provider, &users)
        .await
        .into_iter()
        .filter(|(scope, key_id)| key_id == active_key_of(&during, scope))
        .count();
    assert_eq!(moved, 2, "two values were re-encrypted before the stop");
    for (body, token) in users
        .iter()
        .map(|(id, token)| (user_request(id), token.as_str()))
        .chain([(tenant_request(), TENANT_TOKEN)])
    {
        let (status, got) = get_token(
            &app.client,
            &app.url("/v1/credentials/get"),
            &env.secret_key,
            &body,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "half-way: {got}");
        assert_eq!(got, token);
    }

    // The second run resumes the same rotation: no new key, the rest re-encrypted.
    let second = rotate_data(&app, "resume", &[]).await;
    assert!(second.status.success(), "{}", stderr(&second));
    let out = stdout(&second);
    assert!(out.contains("resumed data-key rotation dkr_"), "{out}");
    assert!(
        out.contains("credentials: 2 re-encrypted, 2 already on the new key"),
        "{out}"
    );
    assert!(out.contains("done: 5 values re-encrypted"), "{out}");
    let after = keys_by_scope(&store, &env.id).await;
    assert_eq!(after, during, "resuming made no new key");
    for ((_, old_key, _), (scope, new_key, count)) in before.iter().zip(&after) {
        assert_ne!(old_key, new_key);
        assert_eq!(*count, 2, "{scope}");
    }
    for (scope, key_id) in envelopes(&store, &env, &provider, &users).await {
        assert_eq!(key_id, active_key_of(&after, &scope), "{scope}");
    }
    for (user_id, token) in &users {
        assert_eq!(&app.access_token(&env, user_id).await, token);
    }
    // The re-encrypted client secret opens: a sign-in goes through.
    sign_in_new_user(&app, &env, &provider, "after-resume").await;

    // With nothing in progress, the next run is a new rotation with new keys.
    let third = rotate_data(&app, "resume", &[]).await;
    assert!(third.status.success(), "{}", stderr(&third));
    assert!(stdout(&third).contains("started data-key rotation"));
    for (scope, _, count) in keys_by_scope(&store, &env.id).await {
        assert_eq!(count, 3, "{scope}");
    }
}

async fn a_token_replaced_during_the_rotation_is_never_overwritten(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider, users) = environment_with_users(&app, "race", 1).await;
    let (user_id, _) = &users[0];
    let store = app.store().await;
    let address = Address::of(Owner::FbgateUser {
        user_id: user_id.clone(),
    })
    .key();
    let stale = store
        .credential_at(&env.id, &provider.id, &address)
        .await
        .unwrap()
        .unwrap();

    // The rotation has made its keys but re-encrypted nothing yet...
    let paused = rotate_data(&app, "race", &["--stop-after", "0"]).await;
    assert!(!paused.status.success());
    // ...when the person signs in again: a new token, a new version, sealed with the new key
    // (once the server's cached active key has lapsed: the switch was made by another process).
    tokio::time::sleep(fbgate::vault::ACTIVE_KEY_CACHE_TTL).await;
    let returned = app.sign_in(&env, &provider, "").await;
    app.exchange(&env, &returned).await;
    let fresh = store
        .credential_at(&env.id, &provider.id, &address)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fresh.version, stale.version + 1);
    let token = app.access_token(&env, user_id).await;

    // A rewrite based on what was read before the sign-in changes nothing.
    let read_before = SealedValueRow {
        id: stale.id.clone(),
        scope: stale.key_scope.clone(),
        version: stale.version,
        ciphertext: stale.token_ciphertext.clone(),
    };
    let replaced = store
        .replace_sealed_value(
            SealedColumn::CredentialToken,
            &read_before,
            &stale.token_ciphertext,
        )
        .await
        .unwrap();
    assert!(!replaced, "a stale rewrite must not apply");

    let resumed = rotate_data(&app, "race", &[]).await;
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(
        stdout(&resumed).contains("credentials: 0 re-encrypted, 1 already on the new key"),
        "{}",
        stdout(&resumed)
    );
    let now = store
        .credential_at(&env.id, &provider.id, &address)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        now.token_ciphertext, fresh.token_ciphertext,
        "the sign-in's token stands"
    );
    assert_eq!(app.access_token(&env, user_id).await, token);
}
