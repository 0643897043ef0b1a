//! Credentials: Facebook tokens sealed in the vault, with their expiry and health.
//!
//! A token is sealed with AAD naming its environment, row id and version, so a ciphertext copied
//! to another row, or an old ciphertext put back after a reconnect, fails to open. The version
//! grows every time the token is replaced.

pub mod address;
pub mod health;

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

pub use address::{Address, Owner};

/// How long a credential row read for `credentials/get` is served from memory. Every write
/// through this process clears the cache at once; a change made by another replica (a
/// revocation, a reconnect) is seen here within this time.
pub const CREDENTIAL_CACHE_TTL: Duration = Duration::from_secs(1);

/// Recently read credential rows by (environment, provider, owner key): the hot path of
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

/// When a credential counts as `expiring`, and how often the health job checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// A credential is `expiring` when it expires sooner than this (default 7 days;
    /// `FBGATE_CREDENTIAL_EXPIRING_DAYS`).
    pub expiring_threshold: Duration,
    /// The health job checks each credential once per period (default 24 hours;
    /// `FBGATE_HEALTH_CHECK_PERIOD_HOURS`).
    pub check_period: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            expiring_threshold: Duration::from_secs(7 * 24 * 60 * 60),
            check_period: Duration::from_secs(24 * 60 * 60),
        }
    }
}

pub(crate) fn credential_aad(environment_id: &str, credential_id: &str, version: i64) -> Aad {
    Aad::new("credential")
        .with(environment_id)
        .with(credential_id)
        .with(version.to_string())
}

fn json_list(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// A token to store, with what Facebook said about it.
#[derive(Debug)]
pub struct NewToken<'a> {
    /// The token.
    pub token: &'a str,
    /// `user`, `page` or `system_user`.
    pub token_type: &'static str,
    /// The Facebook user, page or system user it acts as.
    pub facebook_id: &'a str,
    /// When Facebook issued it.
    pub issued_at: OffsetDateTime,
    /// When it expires; `None` = never.
    pub expires_at: Option<OffsetDateTime>,
    /// When data access expires.
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// Granted permissions.
    pub scopes: &'a [String],
}

/// Where a new credential row belongs besides its address.
#[derive(Debug, Default)]
pub struct Links<'a> {
    /// The fbgate user and identity, for fbgate users' credentials.
    pub user: Option<(&'a UserRow, &'a IdentityRow)>,
    /// The connection, for tenant users and their pages.
    pub connection_id: Option<&'a str>,
    /// The user credential a page credential derives from.
    pub parent_id: Option<&'a str>,
}

/// Seals a token as the credential at `address`, replacing `previous` (same id, next version).
/// The caller writes the row.
pub async fn seal(
    ctx: &Context,
    provider: &Provider,
    address: &Address,
    links: Links<'_>,
    previous: Option<&CredentialRow>,
    token: NewToken<'_>,
) -> Result<CredentialRow, Error> {
    let now = ctx.clock.now();
    let id = previous.map_or_else(|| ids::new_id("crd"), |p| p.id.clone());
    let version = previous.map_or(1, |p| p.version + 1);
    let scope = match address.owner.tenant_id() {
        Some(tenant) => KeyScope::Tenant(tenant.to_owned()),
        None => KeyScope::Environment,
    };
    let token_ciphertext = ctx
        .vault
        .seal(
            &provider.environment_id,
            &scope,
            &credential_aad(&provider.environment_id, &id, version),
            token.token.as_bytes(),
        )
        .await?;
    let timing = &ctx.settings.credentials;
    let (status, status_reason) = status_at(
        token.expires_at,
        token.data_access_expires_at,
        now,
        timing.expiring_threshold,
    );
    Ok(CredentialRow {
        id,
        environment_id: provider.environment_id.clone(),
        provider_id: provider.id.clone(),
        owner_kind: address.kind().to_owned(),
        owner_key: address.key(),
        tenant_id: address.owner.tenant_id().map(str::to_owned),
        external_user_id: address.owner.external_user_id().map(str::to_owned),
        connection_id: links.connection_id.map(str::to_owned),
        page_id: address.page_id.clone(),
        parent_id: links.parent_id.map(str::to_owned),
        user_id: links.user.map(|(user, _)| user.id.clone()),
        identity_id: links.user.map(|(_, identity)| identity.id.clone()),
        facebook_id: token.facebook_id.to_owned(),
        token_ciphertext,
        key_scope: scope.as_column(),
        token_type: token.token_type.to_owned(),
        issued_at: token.issued_at,
        expires_at: token.expires_at,
        data_access_expires_at: token.data_access_expires_at,
        scopes: json_list(token.scopes),
        status: status.to_owned(),
        status_reason: status_reason.map(str::to_owned),
        last_checked_at: Some(now),
        next_check_at: Some(next_check_after(now, token.expires_at, timing)),
        version,
        created_at: previous.map_or(now, |p| p.created_at),
        updated_at: now,
    })
}

/// When a credential checked at `now` is due again: after the check period, but no later than
/// the moment it becomes `expiring` or expires, so those changes are seen when they happen.
pub fn next_check_after(
    now: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
    timing: &Timing,
) -> OffsetDateTime {
    let mut next = now + timing.check_period;
    if let Some(expiry) = expires_at {
        for moment in [expiry - timing.expiring_threshold, expiry] {
            if moment > now && moment < next {
                next = moment;
            }
        }
    }
    next
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
    let address = Address::of(Owner::FbgateUser {
        user_id: user.id.clone(),
    });
    let links = Links {
        user: Some((user, identity)),
        ..Links::default()
    };
    seal(ctx, provider, &address, links, previous, login.new_token()).await
}

/// The status a credential has at `now`, judged by its expiry times alone.
pub fn status_at(
    expires_at: Option<OffsetDateTime>,
    data_access_expires_at: Option<OffsetDateTime>,
    now: OffsetDateTime,
    expiring_threshold: Duration,
) -> (&'static str, Option<&'static str>) {
    match (expires_at, data_access_expires_at) {
        (Some(expiry), _) if expiry <= now => ("expired", Some("session_expired")),
        (_, Some(data)) if data <= now => ("expired", Some("data_access_expired")),
        (Some(expiry), _) if expiry <= now + expiring_threshold => ("expiring", None),
        _ => ("active", None),
    }
}

/// The status a stored credential shows now: health-check results, then expiry.
pub fn current_status(
    row: &CredentialRow,
    now: OffsetDateTime,
    expiring_threshold: Duration,
) -> (String, Option<String>) {
    match row.status.as_str() {
        // Facebook's verdicts stand: a token it reported expired (190/463) before its stored
        // expiry stays expired.
        "revoked" | "invalid" | "expired" => (row.status.clone(), row.status_reason.clone()),
        _ => {
            let (status, reason) = status_at(
                row.expires_at,
                row.data_access_expires_at,
                now,
                expiring_threshold,
            );
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

/// The token at an address, or a precise reason why not: the hot path of `credentials/get`.
pub async fn get(
    ctx: &Context,
    environment_id: &str,
    provider_slug: &str,
    address: &Address,
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
        address.key(),
    );
    let row = match ctx.credential_cache.0.get(&key).await {
        Some(row) => row,
        None => {
            let row = ctx
                .store
                .credential_at(environment_id, &provider.id, &key.2)
                .await?
                .ok_or_else(not_found)?;
            let row = Arc::new(row);
            ctx.credential_cache.0.insert(key, row.clone()).await;
            row
        }
    };
    usable(ctx, &row).await
}

/// A stored row handed out: refused with its reason unless `active` or `expiring`.
pub async fn usable(ctx: &Context, row: &CredentialRow) -> Result<UsableCredential, Error> {
    let (status, reason) = current_status(
        row,
        ctx.clock.now(),
        ctx.settings.credentials.expiring_threshold,
    );
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
            &row.environment_id,
            &credential_aad(&row.environment_id, &row.id, row.version),
            &row.token_ciphertext,
        )
        .await?;
    Ok(UsableCredential {
        row: row.clone(),
        status,
        access_token,
    })
}

/// A credential as the API and webhook events show it: its address, type, status and times,
/// never the token.
pub fn data(
    row: &CredentialRow,
    provider_slug: &str,
    now: OffsetDateTime,
    timing: &Timing,
) -> serde_json::Value {
    let (status, reason) = current_status(row, now, timing.expiring_threshold);
    let credential_for = match row.owner_kind.as_str() {
        "tenant_user" => "user",
        other => other,
    };
    let user_id = row.external_user_id.as_ref().or(row.user_id.as_ref());
    serde_json::json!({
        "id": row.id,
        "provider": provider_slug,
        "credential_for": credential_for,
        "tenant_id": row.tenant_id,
        "user_id": user_id,
        "page_id": row.page_id,
        "connection_id": row.connection_id,
        "token_type": row.token_type,
        "status": status,
        "reason": reason,
        "expires_at": row.expires_at.map(crate::clock::api_time),
        "data_access_expires_at": row.data_access_expires_at.map(crate::clock::api_time),
        "scopes": serde_json::from_str::<serde_json::Value>(&row.scopes)
            .unwrap_or(serde_json::Value::Null),
        "last_checked_at": row.last_checked_at.map(crate::clock::api_time),
    })
}
