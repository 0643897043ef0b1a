//! Verifying the authentication token of iOS Limited Login: an RS256 JWT signed by Facebook.
//!
//! No Graph call can confirm such a token (it is not an access token), so the signature and the
//! claims are the whole proof: the key must be in Facebook's JWKS under the token's `kid`, `iss`
//! must be Facebook's issuer, `aud` our app id, `exp` ahead of fbgate's clock and `iat` not after
//! it (60 s of leeway both ways), and `nonce` the one the app generated for this login. Checks run
//! in that order and a refusal names the check that failed, never the token.
//!
//! For the real Facebook the issuer is `https://www.facebook.com` and the keys come from
//! `limited.facebook.com`; for a provider with a `facebook_base_url` (the emulator) the issuer is
//! read from that base's discovery document and the keys from its JWKS. Keys are cached per JWKS
//! URL for a few minutes in a process-wide cache (public data, so sharing it between environments
//! is harmless); an unknown `kid` refetches once, at most every 30 seconds, so a stream of forged
//! `kid`s cannot turn fbgate into a load generator against Facebook.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use aws_lc_rs::constant_time;
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fbgate_facebook::IdToken;
use moka::future::Cache;
use serde::Deserialize;
use serde_json::Value;

use crate::domain::Context;
use crate::domain::providers::Provider;

/// The issuer of Facebook's Limited Login tokens.
pub const FACEBOOK_ISSUER: &str = "https://www.facebook.com";

/// Facebook's JWKS for Limited Login.
pub const FACEBOOK_JWKS_URL: &str = "https://limited.facebook.com/.well-known/oauth/openid/jwks/";

/// Clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECONDS: i64 = 60;

/// How long fetched keys are trusted without asking again.
const KEYS_TTL: Duration = Duration::from_secs(5 * 60);

/// The shortest interval between two fetches caused by an unknown `kid`.
const REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// Time limit for the discovery and JWKS requests.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Larger discovery or JWKS documents are refused.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// Why a Limited Login token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum LimitedLoginError {
    /// The token failed a check (`token_not_for_this_app`); the text names the check.
    #[error("{0}")]
    Rejected(String),
    /// Facebook's keys could not be fetched (`facebook_unavailable`).
    #[error("{0}")]
    Unavailable(String),
}

fn rejected(text: impl Into<String>) -> LimitedLoginError {
    LimitedLoginError::Rejected(text.into())
}

/// Where a provider's Facebook publishes its issuer and keys.
#[derive(Debug, Clone)]
struct KeySource {
    /// `None` for the real Facebook, whose issuer is fixed.
    discovery_url: Option<String>,
    jwks_url: String,
}

impl KeySource {
    fn for_provider(provider: &Provider) -> Self {
        match &provider.settings.facebook_base_url {
            None => KeySource {
                discovery_url: None,
                jwks_url: FACEBOOK_JWKS_URL.to_owned(),
            },
            Some(base) => {
                let base = base.url().as_str().trim_end_matches('/');
                KeySource {
                    discovery_url: Some(format!("{base}/.well-known/openid-configuration/")),
                    jwks_url: format!("{base}/.well-known/oauth/openid/jwks/"),
                }
            }
        }
    }
}

/// One RSA public key of the JWKS.
struct RsaKey {
    kid: String,
    n: Vec<u8>,
    e: Vec<u8>,
}

/// The issuer and keys of one Facebook, as fetched at `fetched_at`.
struct SigningKeys {
    issuer: String,
    keys: Vec<RsaKey>,
    fetched_at: Instant,
}

impl SigningKeys {
    fn find(&self, kid: &str) -> Option<&RsaKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }
}

static KEYS: LazyLock<Cache<String, Arc<SigningKeys>>> = LazyLock::new(|| {
    Cache::builder()
        .max_capacity(256)
        .time_to_live(KEYS_TTL)
        .build()
});

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
}

#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// Decodes base64url, with or without padding.
fn base64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

async fn fetch_json<T: for<'de> Deserialize<'de>>(
    ctx: &Context,
    url: &str,
    what: &str,
) -> Result<T, LimitedLoginError> {
    let unavailable = |detail: String| {
        LimitedLoginError::Unavailable(format!("Facebook's {what} could not be read: {detail}"))
    };
    let response = ctx
        .http
        .get(url)
        .timeout(FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| unavailable(e.without_url().to_string()))?;
    if !response.status().is_success() {
        return Err(unavailable(format!("HTTP {}", response.status().as_u16())));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| unavailable(e.without_url().to_string()))?;
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(unavailable("document too large".to_owned()));
    }
    serde_json::from_slice(&body).map_err(|e| unavailable(e.to_string()))
}

async fn fetch_keys(ctx: &Context, source: &KeySource) -> Result<SigningKeys, LimitedLoginError> {
    let issuer = match &source.discovery_url {
        Some(url) => {
            fetch_json::<Discovery>(ctx, url, "OpenID discovery document")
                .await?
                .issuer
        }
        None => FACEBOOK_ISSUER.to_owned(),
    };
    let set: JwkSet = fetch_json(ctx, &source.jwks_url, "JWKS").await?;
    let keys = set
        .keys
        .into_iter()
        .filter(|jwk| jwk.kty == "RSA")
        .filter(|jwk| jwk.alg.as_deref().is_none_or(|alg| alg == "RS256"))
        .filter(|jwk| jwk.use_.as_deref().is_none_or(|use_| use_ == "sig"))
        .filter_map(|jwk| {
            Some(RsaKey {
                kid: jwk.kid?,
                n: base64url(jwk.n.as_deref()?)?,
                e: base64url(jwk.e.as_deref()?)?,
            })
        })
        .collect();
    Ok(SigningKeys {
        issuer,
        keys,
        fetched_at: Instant::now(),
    })
}

/// The keys of a provider's Facebook, from the cache when they are known and hold `kid`.
async fn keys_for(
    ctx: &Context,
    source: &KeySource,
    kid: &str,
) -> Result<Arc<SigningKeys>, LimitedLoginError> {
    // `try_get_with` makes concurrent misses share one fetch.
    let load = || async { fetch_keys(ctx, source).await.map(Arc::new) };
    let unavailable = |e: Arc<LimitedLoginError>| LimitedLoginError::Unavailable(e.to_string());
    let cached = KEYS
        .try_get_with(source.jwks_url.clone(), load())
        .await
        .map_err(unavailable)?;
    if cached.find(kid).is_some() || cached.fetched_at.elapsed() < REFETCH_INTERVAL {
        return Ok(cached);
    }
    // Facebook may have rotated its keys since they were fetched: ask once more.
    KEYS.invalidate(&source.jwks_url).await;
    KEYS.try_get_with(source.jwks_url.clone(), load())
        .await
        .map_err(unavailable)
}

fn decode_json_part(part: &str, what: &str) -> Result<Value, LimitedLoginError> {
    let bytes = base64url(part).ok_or_else(|| rejected(format!("the {what} is not base64url")))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|_| rejected(format!("the {what} is not JSON")))?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(rejected(format!("the {what} is not a JSON object")))
    }
}

fn audience_contains(aud: Option<&Value>, client_id: &str) -> bool {
    match aud {
        Some(Value::String(one)) => one == client_id,
        Some(Value::Array(many)) => many.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    }
}

/// Verifies a Limited Login token for `provider` and returns its claims.
pub async fn verify(
    ctx: &Context,
    provider: &Provider,
    id_token: &IdToken,
    nonce: &str,
) -> Result<Value, LimitedLoginError> {
    let mut parts = id_token.expose().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(rejected(
            "the id_token is not a JWT (three dot-separated parts)",
        ));
    };
    let header_json = decode_json_part(header, "JWT header")?;
    if header_json.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(rejected("the id_token's `alg` is not RS256"));
    }
    let kid = header_json
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(|| rejected("the id_token's header has no `kid`"))?;
    let claims = decode_json_part(payload, "JWT payload")?;
    let signature = base64url(signature)
        .ok_or_else(|| rejected("the id_token's signature is not base64url"))?;

    let keys = keys_for(ctx, &KeySource::for_provider(provider), kid).await?;
    let key = keys
        .find(kid)
        .ok_or_else(|| rejected("the id_token's `kid` is not in Facebook's JWKS"))?;
    let signing_input = &id_token.expose()[..header.len() + 1 + payload.len()];
    RsaPublicKeyComponents {
        n: key.n.as_slice(),
        e: key.e.as_slice(),
    }
    .verify(
        &RSA_PKCS1_2048_8192_SHA256,
        signing_input.as_bytes(),
        &signature,
    )
    .map_err(|_| rejected("the id_token's signature does not verify"))?;

    let claim_str = |name: &str| claims.get(name).and_then(Value::as_str);
    if claim_str("iss") != Some(keys.issuer.as_str()) {
        return Err(rejected(format!(
            "the id_token's `iss` is not {}",
            keys.issuer
        )));
    }
    let client_id = provider.settings.client_id.as_str();
    if !audience_contains(claims.get("aud"), client_id) {
        return Err(rejected(
            "the id_token's `aud` is not this provider's app id (the token is for another app)",
        ));
    }
    let now = ctx.clock.now().unix_timestamp();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| rejected("the id_token has no numeric `exp`"))?;
    if now > exp + LEEWAY_SECONDS {
        return Err(rejected("the id_token has expired (`exp`)"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| rejected("the id_token has no numeric `iat`"))?;
    if iat > now + LEEWAY_SECONDS {
        return Err(rejected("the id_token was issued in the future (`iat`)"));
    }
    let token_nonce = claim_str("nonce").unwrap_or_default();
    if token_nonce.is_empty()
        || constant_time::verify_slices_are_equal(token_nonce.as_bytes(), nonce.as_bytes()).is_err()
    {
        return Err(rejected(
            "the id_token's `nonce` is not the nonce sent with it",
        ));
    }
    if claim_str("sub").is_none_or(str::is_empty) {
        return Err(rejected("the id_token has no `sub`"));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn audience_may_be_a_string_or_a_list() {
        assert!(audience_contains(Some(&json!("123")), "123"));
        assert!(audience_contains(Some(&json!(["9", "123"])), "123"));
        assert!(!audience_contains(Some(&json!("1234")), "123"));
        assert!(!audience_contains(Some(&json!(123)), "123"));
        assert!(!audience_contains(None, "123"));
    }

    #[test]
    fn base64url_accepts_padding_or_none() {
        assert_eq!(base64url("YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64url("YQ==").as_deref(), Some(&b"a"[..]));
        assert!(base64url("a+b/").is_none());
    }

    #[test]
    fn json_parts_must_be_objects() {
        let array = URL_SAFE_NO_PAD.encode(b"[1]");
        assert!(matches!(
            decode_json_part(&array, "JWT header"),
            Err(LimitedLoginError::Rejected(_))
        ));
        let object = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        assert!(decode_json_part(&object, "JWT header").is_ok());
    }
}
