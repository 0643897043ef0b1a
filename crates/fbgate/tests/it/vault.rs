//! The vault against real databases: no plaintext at rest, ciphertexts bound to their rows,
//! master-key rotation, crypto-shredding.

use fbgate::vault::rotation::rotate_master_key;
use fbgate::vault::{Aad, KeyScope, MasterKey, Vault, VaultError};

use crate::helpers::{Engine, TestApp, database_contents, on_both_engines, spawn_app};

on_both_engines!(
    a_sealed_token_never_reaches_the_database_in_plaintext,
    a_ciphertext_moved_to_another_row_fails_to_open,
    rotating_the_master_key_keeps_everything_readable_and_survives_interruption,
    shredding_a_tenant_key_makes_only_its_values_unreadable,
);

const TOKEN: &str = "EAAGplaintextFacebookTokenThatMustNeverBeStored0123456789";

fn master_of(app: &TestApp) -> MasterKey {
    MasterKey::from_base64(app.master_key.expose()).unwrap()
}

async fn vault_of(app: &TestApp) -> Vault {
    Vault::new(master_of(app), app.store().await)
}

/// Stores an envelope in a scratch table, the way a credential row would hold it.
async fn put_envelope(app: &TestApp, id: &str, envelope: &[u8]) {
    match app.engine {
        Engine::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database.url).await.unwrap();
            sqlx::query("CREATE TABLE IF NOT EXISTS scratch (id TEXT, value BLOB)")
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query("INSERT INTO scratch VALUES ($1, $2)")
                .bind(id)
                .bind(envelope)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Engine::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database.url).await.unwrap();
            sqlx::query("CREATE TABLE IF NOT EXISTS scratch (id TEXT, value BYTEA)")
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query("INSERT INTO scratch VALUES ($1, $2)")
                .bind(id)
                .bind(envelope)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

fn row_aad(environment_id: &str, row: &str) -> Aad {
    Aad::new("credential")
        .with(environment_id)
        .with(row)
        .with("1")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn a_sealed_token_never_reaches_the_database_in_plaintext(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("at-rest").await;
    let vault = vault_of(&app).await;

    let aad = row_aad(&env.id, "crd_1");
    let sealed = vault
        .seal(&env.id, &KeyScope::Environment, &aad, TOKEN.as_bytes())
        .await
        .unwrap();
    let tenant_sealed = vault
        .seal(
            &env.id,
            &KeyScope::Tenant("org_acme".into()),
            &aad,
            TOKEN.as_bytes(),
        )
        .await
        .unwrap();
    // Store the envelopes the way a credential row would, then look at everything on disk.
    put_envelope(&app, "vault-test-1", &sealed).await;
    put_envelope(&app, "vault-test-2", &tenant_sealed).await;

    let contents = database_contents(&app).await;
    assert!(
        contains(&contents, b"vault-test-1"),
        "the scan must see the rows it checks"
    );
    assert!(
        !contains(&contents, TOKEN.as_bytes()),
        "plaintext token found in the database"
    );
    assert!(
        !contains(&contents, hex::encode(TOKEN).as_bytes()),
        "hex plaintext found"
    );
    assert!(
        !contains(&contents, app.master_key.expose().as_bytes()),
        "master key found in the database"
    );

    assert_eq!(
        vault.open(&env.id, &aad, &sealed).await.unwrap().as_slice(),
        TOKEN.as_bytes()
    );
    assert_eq!(
        vault
            .open(&env.id, &aad, &tenant_sealed)
            .await
            .unwrap()
            .as_slice(),
        TOKEN.as_bytes()
    );
}

async fn a_ciphertext_moved_to_another_row_fails_to_open(engine: Engine) {
    let app = spawn_app(engine).await;
    let a = app.create_environment("env-a").await;
    let b = app.create_environment("env-b").await;
    let vault = vault_of(&app).await;

    let sealed = vault
        .seal(
            &a.id,
            &KeyScope::Environment,
            &row_aad(&a.id, "crd_1"),
            TOKEN.as_bytes(),
        )
        .await
        .unwrap();
    let other_row = vault.open(&a.id, &row_aad(&a.id, "crd_2"), &sealed).await;
    assert!(
        matches!(other_row, Err(VaultError::IntegrityCheckFailed)),
        "{other_row:?}"
    );
    let other_env = vault.open(&b.id, &row_aad(&b.id, "crd_1"), &sealed).await;
    assert!(
        matches!(other_env, Err(VaultError::DataKeyNotFound(_))),
        "{other_env:?}"
    );
}

async fn rotating_the_master_key_keeps_everything_readable_and_survives_interruption(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    let mut sealed = Vec::new();
    let vault = vault_of(&app).await;
    for slug in ["r-one", "r-two", "r-three"] {
        let env = app.create_environment(slug).await;
        let aad = row_aad(&env.id, "crd_x");
        let scope = KeyScope::Tenant(format!("tenant-of-{slug}"));
        let envelope = vault
            .seal(&env.id, &scope, &aad, TOKEN.as_bytes())
            .await
            .unwrap();
        sealed.push((env.id.clone(), aad, envelope));
    }
    let store = app.store().await;
    let (_, new_text) = MasterKey::generate().unwrap();
    let new = || MasterKey::from_base64(new_text.expose()).unwrap();

    // A first run crashes after resealing one environment.
    let interrupted = {
        let (store, old, new) = (store.clone(), master_of(&app), new());
        tokio::spawn(async move {
            rotate_master_key(&store, &old, &new, |done, _| {
                assert!(done < 1, "simulated crash after the first environment");
            })
            .await
        })
        .await
    };
    assert!(interrupted.is_err(), "the first run was interrupted");

    let report = rotate_master_key(&store, &master_of(&app), &new(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        report.resealed, 2,
        "the second run finishes the remaining environments"
    );
    let again = rotate_master_key(&store, &master_of(&app), &new(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(
        again.resealed + again.already_done,
        0,
        "a third run has nothing to do"
    );

    let rotated = Vault::new(new(), store.clone());
    for (env_id, aad, envelope) in &sealed {
        assert_eq!(
            rotated
                .open(env_id, aad, envelope)
                .await
                .unwrap()
                .as_slice(),
            TOKEN.as_bytes()
        );
    }
    let stale = Vault::new(master_of(&app), store);
    let (env_id, aad, envelope) = &sealed[0];
    let opened = stale.open(env_id, aad, envelope).await;
    assert!(
        matches!(opened, Err(VaultError::UnknownMasterKey { .. })),
        "{opened:?}"
    );
}

async fn shredding_a_tenant_key_makes_only_its_values_unreadable(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("shred").await;
    let vault = vault_of(&app).await;
    let aad = row_aad(&env.id, "crd_1");
    let doomed = KeyScope::Tenant("org_gone".into());
    let kept = KeyScope::Tenant("org_kept".into());
    let gone = vault.seal(&env.id, &doomed, &aad, b"gone").await.unwrap();
    let stays = vault.seal(&env.id, &kept, &aad, b"stays").await.unwrap();
    let shared = vault
        .seal(&env.id, &KeyScope::Environment, &aad, b"shared")
        .await
        .unwrap();

    assert_eq!(vault.shred(&env.id, &doomed).await.unwrap(), 1);
    assert!(matches!(
        vault.open(&env.id, &aad, &gone).await,
        Err(VaultError::DataKeyNotFound(_))
    ));
    assert_eq!(
        vault.open(&env.id, &aad, &stays).await.unwrap().as_slice(),
        b"stays"
    );
    assert_eq!(
        vault.open(&env.id, &aad, &shared).await.unwrap().as_slice(),
        b"shared"
    );
}
