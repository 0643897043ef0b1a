//! API keys: generation, authentication, listing and revocation.
//!
//! A key is 256 random bits with a readable prefix (`sk_live_`, `pk_test_`). Only its SHA-256 is
//! stored. A presented key is hashed, looked up by hash, and the stored hash is compared with the
//! computed one in constant time. Authenticated keys are cached for [`KEY_CACHE_TTL`], so a
//! revocation reaches other replicas within that time (the replica that revoked forgets at once).

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::{constant_time, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use moka::future::Cache;
use time::OffsetDateTime;

use super::{Context, Error};
use crate::ids;
use crate::store::{ApiKeyKind, ApiKeyRow};
use crate::vault::SecretString;

/// How long an authenticated key is trusted without asking the database again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// Whether an environment's keys say `live` or `test`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Production keys: `sk_live_…`.
    Live,
    /// Development keys: `sk_test_…`.
    Test,
}

impl Mode {
    /// The text stored and used in key prefixes.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Test => "test",
        }
    }

    /// Parses the stored text; unknown text reads as `live`, the stricter choice.
    pub fn from_column(value: &str) -> Self {
        if value == "test" {
            Mode::Test
        } else {
            Mode::Live
        }
    }
}

/// A key that was just presented and found valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedKey {
    /// The key's id.
    pub key_id: String,
    /// The environment it acts in.
    pub environment_id: String,
    /// Secret or publishable.
    pub kind: ApiKeyKind,
}

/// Cache of authenticated keys by the SHA-256 of their text.
#[derive(Debug, Clone)]
pub struct KeyCache(Arc<Cache<[u8; 32], AuthenticatedKey>>);

impl KeyCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self(Arc::new(
            Cache::builder()
                .max_capacity(10_000)
                .time_to_live(KEY_CACHE_TTL)
                .build(),
        ))
    }
}

impl Default for KeyCache {
    fn default() -> Self {
        Self::new()
    }
}

/// A freshly made key: the row to store and the text to show once.
#[derive(Debug)]
pub struct NewKey {
    /// The row, holding only the hash.
    pub row: ApiKeyRow,
    /// The key itself.
    pub text: SecretString,
}

/// SHA-256 of a key's text.
pub fn hash_key(text: &str) -> [u8; 32] {
    let digest = digest::digest(&digest::SHA256, text.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Generates a key for an environment.
pub fn generate(environment_id: &str, mode: Mode, kind: ApiKeyKind, now: OffsetDateTime) -> NewKey {
    let mut random = [0u8; 32];
    rand::fill(&mut random);
    let kind_prefix = match kind {
        ApiKeyKind::Secret => "sk",
        ApiKeyKind::Publishable => "pk",
    };
    let text = format!(
        "{kind_prefix}_{}_{}",
        mode.as_str(),
        URL_SAFE_NO_PAD.encode(random)
    );
    let row = ApiKeyRow {
        id: ids::new_id("key"),
        environment_id: environment_id.to_owned(),
        kind: kind.as_str().to_owned(),
        prefix: text.chars().take(12).collect(),
        key_hash: hash_key(&text).to_vec(),
        created_at: now,
        revoked_at: None,
    };
    NewKey {
        row,
        text: SecretString::new(text),
    }
}

/// Checks a presented key and says which environment it acts in.
pub async fn authenticate(ctx: &Context, text: &str) -> Result<AuthenticatedKey, Error> {
    let unauthenticated = || Error::Unauthenticated {
        code: "invalid_api_key",
        message: "the API key is not valid (unknown or revoked)".to_owned(),
    };
    if !(text.starts_with("sk_") || text.starts_with("pk_")) {
        return Err(unauthenticated());
    }
    let hash = hash_key(text);
    if let Some(key) = ctx.key_cache.0.get(&hash).await {
        return Ok(key);
    }
    let row = ctx
        .store
        .find_api_key_by_hash(&hash)
        .await?
        .ok_or_else(unauthenticated)?;
    // The lookup matched on the hash already; this compare keeps the check constant-time even if
    // a future lookup matches on something less than the whole hash.
    constant_time::verify_slices_are_equal(&row.key_hash, &hash).map_err(|_| unauthenticated())?;
    if row.revoked_at.is_some() {
        return Err(unauthenticated());
    }
    let kind = ApiKeyKind::from_column(&row.kind).ok_or_else(unauthenticated)?;
    let key = AuthenticatedKey {
        key_id: row.id,
        environment_id: row.environment_id,
        kind,
    };
    ctx.key_cache.0.insert(hash, key.clone()).await;
    Ok(key)
}

/// Creates one more key for an environment (to roll keys without downtime).
pub async fn create(
    ctx: &Context,
    environment_id: &str,
    kind: ApiKeyKind,
) -> Result<NewKey, Error> {
    let env = ctx
        .store
        .get_environment(environment_id)
        .await?
        .ok_or_else(|| Error::not_found("environment_not_found", "environment not found"))?;
    let key = generate(&env.id, Mode::from_column(&env.mode), kind, ctx.clock.now());
    ctx.store.insert_api_key(&key.row).await?;
    Ok(key)
}

/// Lists an environment's keys (hashes are never returned).
pub async fn list(ctx: &Context, environment_id: &str) -> Result<Vec<ApiKeyRow>, Error> {
    Ok(ctx.store.list_api_keys(environment_id).await?)
}

/// Revokes a key of this environment; unknown ids (or another environment's) are 404. The last
/// working secret key cannot be revoked: nobody could manage the environment afterwards.
pub async fn revoke(ctx: &Context, environment_id: &str, key_id: &str) -> Result<ApiKeyRow, Error> {
    let not_found = || Error::not_found("api_key_not_found", "no API key with this id");
    let keys = ctx.store.list_api_keys(environment_id).await?;
    let target = keys.iter().find(|k| k.id == key_id).ok_or_else(not_found)?;
    let is_working_secret =
        |k: &ApiKeyRow| k.kind == ApiKeyKind::Secret.as_str() && k.revoked_at.is_none();
    if is_working_secret(target) && keys.iter().filter(|k| is_working_secret(k)).count() == 1 {
        return Err(Error::Conflict {
            code: "last_secret_key",
            message: "this is the environment's last working secret key; create another first"
                .to_owned(),
        });
    }
    ctx.store
        .revoke_api_key(environment_id, key_id, ctx.clock.now())
        .await?;
    let row = ctx
        .store
        .get_api_key(environment_id, key_id)
        .await?
        .ok_or_else(not_found)?;
    ctx.key_cache
        .0
        .invalidate(&key_hash_array(&row.key_hash))
        .await;
    Ok(row)
}

fn key_hash_array(hash: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    if hash.len() == 32 {
        out.copy_from_slice(hash);
    }
    out
}
