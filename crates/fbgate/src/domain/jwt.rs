//! Session JWTs: ES256 signatures with a per-environment key kept sealed in the vault.
//!
//! Each environment gets a P-256 key pair the first time it signs a token. The private key is
//! stored as a vault envelope (PKCS#8), the public key as a JWK that `/v1/.well-known/jwks.json`
//! publishes, so apps verify session JWTs offline. Unsealed key pairs are cached in memory.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use moka::future::Cache;
use serde::{Deserialize, Serialize};

use super::{Context, Error};
use crate::ids;
use crate::store::{SigningKeyRow, StoreError};
use crate::vault::{Aad, KeyScope, VaultError};

/// The claims of a session JWT (documented in docs/sign-in.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// fbgate's public URL.
    pub iss: String,
    /// The user id.
    pub sub: String,
    /// The session id.
    pub sid: String,
    /// The environment slug.
    pub env: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// A public key in JWK form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Jwk {
    /// `EC`
    pub kty: String,
    /// `P-256`
    pub crv: String,
    /// X coordinate, base64url.
    pub x: String,
    /// Y coordinate, base64url.
    pub y: String,
    /// Key id, as in the JWS header.
    pub kid: String,
    /// `ES256`
    pub alg: String,
    /// `sig`
    #[serde(rename = "use")]
    pub use_: String,
}

/// An unsealed signing key.
pub struct LoadedKey {
    kid: String,
    pair: EcdsaKeyPair,
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Cache of unsealed signing keys by environment id.
#[derive(Debug, Clone)]
pub struct SignerCache(Arc<Cache<String, Arc<LoadedKey>>>);

impl SignerCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self(Arc::new(Cache::new(10_000)))
    }
}

impl Default for SignerCache {
    fn default() -> Self {
        Self::new()
    }
}

fn key_aad(environment_id: &str, kid: &str) -> Aad {
    Aad::new("signing_key").with(environment_id).with(kid)
}

fn crypto(what: &'static str) -> Error {
    Error::Vault(VaultError::Crypto(what))
}

/// The environment's active signing key, created on first use.
async fn signing_key(ctx: &Context, environment_id: &str) -> Result<Arc<LoadedKey>, Error> {
    if let Some(key) = ctx.signers.0.get(environment_id).await {
        return Ok(key);
    }
    let row = match ctx.store.active_signing_key(environment_id).await? {
        Some(row) => row,
        None => {
            let row = new_signing_key(ctx, environment_id).await?;
            match ctx.store.insert_signing_key(&row).await {
                Ok(()) => row,
                Err(StoreError::Conflict(_)) => ctx
                    .store
                    .active_signing_key(environment_id)
                    .await?
                    .ok_or_else(|| crypto("signing key vanished"))?,
                Err(other) => return Err(other.into()),
            }
        }
    };
    let pkcs8 = ctx
        .vault
        .open(
            environment_id,
            &key_aad(environment_id, &row.id),
            &row.private_key,
        )
        .await?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
        .map_err(|_| crypto("signing key parse"))?;
    let key = Arc::new(LoadedKey { kid: row.id, pair });
    ctx.signers
        .0
        .insert(environment_id.to_owned(), key.clone())
        .await;
    Ok(key)
}

async fn new_signing_key(ctx: &Context, environment_id: &str) -> Result<SigningKeyRow, Error> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| crypto("signing key generation"))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
        .map_err(|_| crypto("signing key parse"))?;
    let kid = ids::new_id("kid");
    let jwk = public_jwk(&kid, pair.public_key().as_ref())?;
    let sealed = ctx
        .vault
        .seal(
            environment_id,
            &KeyScope::Environment,
            &key_aad(environment_id, &kid),
            pkcs8.as_ref(),
        )
        .await?;
    Ok(SigningKeyRow {
        id: kid,
        environment_id: environment_id.to_owned(),
        algorithm: "ES256".to_owned(),
        private_key: sealed,
        public_jwk: serde_json::to_string(&jwk).map_err(|_| crypto("jwk encoding"))?,
        active: true,
        created_at: ctx.clock.now(),
    })
}

/// Builds the JWK of an uncompressed P-256 point (`0x04 || X || Y`).
fn public_jwk(kid: &str, point: &[u8]) -> Result<Jwk, Error> {
    if point.len() != 65 || point[0] != 0x04 {
        return Err(crypto("unexpected public key encoding"));
    }
    Ok(Jwk {
        kty: "EC".to_owned(),
        crv: "P-256".to_owned(),
        x: URL_SAFE_NO_PAD.encode(&point[1..33]),
        y: URL_SAFE_NO_PAD.encode(&point[33..]),
        kid: kid.to_owned(),
        alg: "ES256".to_owned(),
        use_: "sig".to_owned(),
    })
}

/// Signs `claims` as a compact JWS with the environment's key.
pub async fn sign(
    ctx: &Context,
    environment_id: &str,
    claims: &SessionClaims,
) -> Result<String, Error> {
    let key = signing_key(ctx, environment_id).await?;
    let header = serde_json::json!({ "alg": "ES256", "typ": "JWT", "kid": key.kid });
    let signing_input = format!("{}.{}", base64_json(&header)?, base64_json(claims)?);
    let signature = key
        .pair
        .sign(&SystemRandom::new(), signing_input.as_bytes())
        .map_err(|_| crypto("jwt signature"))?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature.as_ref())
    ))
}

fn base64_json<T: Serialize>(value: &T) -> Result<String, Error> {
    let bytes = serde_json::to_vec(value).map_err(|_| crypto("jwt encoding"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The public keys of an environment, for its JWKS. Creates the first key if none exists yet, so
/// a JWKS fetched before the first sign-in already holds the key that will sign.
pub async fn jwks(ctx: &Context, environment_id: &str) -> Result<Vec<Jwk>, Error> {
    signing_key(ctx, environment_id).await?;
    let rows = ctx.store.list_signing_keys(environment_id).await?;
    rows.iter()
        .map(|row| serde_json::from_str(&row.public_jwk).map_err(|_| crypto("stored jwk")))
        .collect()
}
