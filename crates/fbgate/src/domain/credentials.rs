//! Credentials: Facebook tokens sealed in the vault, with their expiry and health.
//!
//! A token is sealed with AAD naming its environment, row id and version, so a ciphertext copied
//! to another row, or an old ciphertext put back after a reconnect, fails to open. The version
//! grows every time the token is replaced.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use time::OffsetDateTime;

use super::flows::sign_in::ConfirmedLogin;
use super::providers::{self, Provider};
use super::{Context, Error};
use crate::ids;
use crate::store::{CredentialRow, IdentityRow, UserRow};
use crate::vault::{Aad, KeyScope, SecretString};

/// How long a credential row read for `credentials/get` is served from memory. Every write
/// through this process clears the cache at once; a change made by another replica (a
/// revocation, a reconnect) is seen here within this time.
pub const CREDENTIAL_CACHE_TTL: Duration = Duration::from_secs(1);

/// Recently read credential rows by (environment, provider, user): the hot path of
/// `credentials/get` then costs no database round trip, only the AES-GCM open.
#[derive(Debug, Clone)]
pub struct CredentialCache(Arc<Cache<(String, String, String), Arc<CredentialRow>>>);

impl CredentialCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self(Arc::new(
            Cache::builder()
                .max_capacity(100_000)
                .time_to_live(CREDENTIAL_CACHE_TTL)
                .build(),
        ))
    }

    /// Forgets every row: called after any change to credentials.
    pub fn clear(&self) {
        self.0.invalidate_all();
    }
}

impl Default for CredentialCache {
    fn default() -> Self {
        Self::new()
    }
}

/// A credential is `expiring` when it expires sooner than this.
pub const EXPIRING_THRESHOLD: Duration = Duration::from_secs(7 * 24 * 60 * 60);

fn credential_aad(environment_id: &str, credential_id: &str, version: i64) -> Aad {
    Aad::new("credential")
        .with(environment_id)
        .with(credential_id)
        .with(version.to_string())
}

fn json_list(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// Seals the token of a confirmed login as the identity's credential, replacing `previous`.
pub async fn seal_user_credential(
    ctx: &Context,
    provider: &Provider,
    user: &UserRow,
    identity: &IdentityRow,
    previous: Option<&CredentialRow>,
    login: &ConfirmedLogin,
) -> Result<CredentialRow, Error> {
    let now = ctx.clock.now();
    let id = previous.map_or_else(|| ids::new_id("crd"), |p| p.id.clone());
    let version = previous.map_or(1, |p| p.version + 1);
    let scope = KeyScope::Environment;
    let token_ciphertext = ctx
        .vault
        .seal(
            &provider.environment_id,
            &scope,
            &credential_aad(&provider.environment_id, &id, version),
            login.token.expose().as_bytes(),
        )
        .await?;
    let (status, status_reason) = status_at(login.expires_at, login.data_access_expires_at, now);
    Ok(CredentialRow {
        id,
        environment_id: provider.environment_id.clone(),
        provider_id: provider.id.clone(),
        owner_kind: "user".to_owned(),
        user_id: Some(user.id.clone()),
        identity_id: Some(identity.id.clone()),
        facebook_id: login.facebook_user_id.clone(),
        token_ciphertext,
        key_scope: scope.as_column(),
        token_type: "user".to_owned(),
        issued_at: login.issued_at,
        expires_at: login.expires_at,
        data_access_expires_at: login.data_access_expires_at,
        scopes: json_list(&login.granted),
        status: status.to_owned(),
        status_reason: status_reason.map(str::to_owned),
        last_checked_at: Some(now),
        version,
        created_at: previous.map_or(now, |p| p.created_at),
        updated_at: now,
    })
}

/// The status a credential has at `now`, judged by its expiry times alone.
pub fn status_at(
    expires_at: Option<OffsetDateTime>,
    data_access_expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> (&'static str, Option<&'static str>) {
    match (expires_at, data_access_expires_at) {
        (Some(expiry), _) if expiry <= now => ("expired", Some("session_expired")),
        (_, Some(data)) if data <= now => ("expired", Some("data_access_expired")),
        (Some(expiry), _) if expiry <= now + EXPIRING_THRESHOLD => ("expiring", None),
        _ => ("active", None),
    }
}

/// The status a stored credential shows now: health-check results, then expiry.
pub fn current_status(row: &CredentialRow, now: OffsetDateTime) -> (String, Option<String>) {
    match row.status.as_str() {
        "revoked" | "invalid" => (row.status.clone(), row.status_reason.clone()),
        _ => {
            let (status, reason) = status_at(row.expires_at, row.data_access_expires_at, now);
            (status.to_owned(), reason.map(str::to_owned))
        }
    }
}

/// Opens a stored credential's token (for fbgate's own calls to Facebook).
pub async fn open_token(ctx: &Context, row: &CredentialRow) -> Result<SecretString, Error> {
    if row.token_ciphertext.is_empty() {
        return Err(Error::CredentialUnusable {
            code: "credential_revoked",
            reason: row
                .status_reason
                .clone()
                .unwrap_or_else(|| "user_removed_app".to_owned()),
        });
    }
    Ok(ctx
        .vault
        .open_string(
            &row.environment_id,
            &credential_aad(&row.environment_id, &row.id, row.version),
            &row.token_ciphertext,
        )
        .await?)
}

/// A credential handed to a backend.
#[derive(Debug)]
pub struct UsableCredential {
    /// The row (status fields current).
    pub row: CredentialRow,
    /// `active` or `expiring`.
    pub status: String,
    /// The token.
    pub access_token: SecretString,
}

/// The token of an fbgate user at a provider, or a precise reason why not.
pub async fn get_for_user(
    ctx: &Context,
    environment_id: &str,
    provider_slug: &str,
    user_id: &str,
) -> Result<UsableCredential, Error> {
    let not_found = || {
        Error::not_found(
            "credential_not_found",
            "no credential is stored for this address",
        )
    };
    let provider = providers::get_by_slug(ctx, environment_id, provider_slug).await?;
    let key = (
        environment_id.to_owned(),
        provider.id.clone(),
        user_id.to_owned(),
    );
    let row = match ctx.credential_cache.0.get(&key).await {
        Some(row) => row,
        None => {
            let row = ctx
                .store
                .user_credential(environment_id, &provider.id, user_id)
                .await?
                .ok_or_else(not_found)?;
            let row = Arc::new(row);
            ctx.credential_cache.0.insert(key, row.clone()).await;
            row
        }
    };
    let (status, reason) = current_status(&row, ctx.clock.now());
    if let Some(code) = match status.as_str() {
        "revoked" => Some("credential_revoked"),
        "expired" => Some("credential_expired"),
        "invalid" => Some("credential_invalid"),
        _ => None,
    } {
        return Err(Error::CredentialUnusable {
            code,
            reason: reason.unwrap_or_else(|| "invalid_token".to_owned()),
        });
    }
    let access_token = ctx
        .vault
        .open_string(
            environment_id,
            &credential_aad(environment_id, &row.id, row.version),
            &row.token_ciphertext,
        )
        .await?;
    Ok(UsableCredential {
        row: (*row).clone(),
        status,
        access_token,
    })
}
