//! Offline verification of session JWTs against the environment's published keys.
//!
//! Only what fbgate issues is accepted: a compact JWS with `alg: ES256` (P-256, fixed-size
//! `r || s` signature) and a `kid` that the environment's JWKS lists. The algorithm comes from
//! this code, never from the token, so `alg: none` or an HMAC confusion cannot get through. The
//! signature is checked before the claims are even parsed.
//!
//! Keys are cached per environment slug. A lookup that misses the cache, or finds it older than
//! its time to live, fetches the JWKS; a token with an unknown `kid` triggers one more fetch.
//! Fetches for a known environment are rate-limited (one per refetch interval), so neither a
//! flood of made-up key ids nor an unreachable fbgate turns into a flood of requests. When a
//! refresh fails, or is held back by the limit, a key from the stale set is still used: public
//! keys do not stop being right because fbgate is briefly unreachable, and an outage should not
//! sign everybody out.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::{Client, Error};

/// The claims of a verified session JWT.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SessionClaims {
    /// The issuer: fbgate's public URL.
    pub iss: String,
    /// The user id (`usr_…`).
    pub sub: String,
    /// The session id (`ses_…`).
    pub sid: String,
    /// The environment slug.
    pub env: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

impl SessionClaims {
    /// `iat` as a time.
    pub fn issued_at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.iat).ok()
    }

    /// `exp` as a time.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.exp).ok()
    }
}

/// Why a session JWT was refused (inside [`Error::InvalidSessionJwt`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not a compact JWS with base64url JSON header and claims.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm other than ES256.
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The header's `kid` is not among the environment's keys, even after fetching them again.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `exp` has passed (beyond the leeway). Get a fresh JWT with the session token.
    #[error("token expired")]
    Expired,
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future")]
    NotYetValid,
    /// `iss` is not the expected issuer.
    #[error("issued by another issuer")]
    WrongIssuer,
    /// `env` is not the environment the token was checked for.
    #[error("issued for another environment")]
    WrongEnvironment,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
}

impl Jwk {
    /// The kid and uncompressed point (`0x04 || X || Y`) of an ES256 signing key; `None` for any
    /// other kind of key, which a future fbgate may publish next to it.
    fn es256_point(&self) -> Option<(String, Vec<u8>)> {
        let usable = self.kty == "EC"
            && self.crv.as_deref() == Some("P-256")
            && self.alg.as_deref().is_none_or(|alg| alg == "ES256")
            && self.use_.as_deref().is_none_or(|use_| use_ == "sig");
        if !usable {
            return None;
        }
        let x = URL_SAFE_NO_PAD.decode(self.x.as_deref()?).ok()?;
        let y = URL_SAFE_NO_PAD.decode(self.y.as_deref()?).ok()?;
        if x.len() != 32 || y.len() != 32 {
            return None;
        }
        let mut point = Vec::with_capacity(65);
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Some((self.kid.clone()?, point))
    }
}

/// The keys of one environment, as last fetched.
struct KeySet {
    keys: HashMap<String, Vec<u8>>,
    fetched_at: Instant,
    /// When a fetch for this environment last started, successful or not: the rate limit.
    last_attempt: Instant,
}

/// Public keys by environment slug.
pub(crate) struct JwksCache {
    ttl: Duration,
    refetch_interval: Duration,
    environments: RwLock<HashMap<String, KeySet>>,
}

/// What to do for a `kid`.
enum Lookup {
    /// Use this key.
    Found(Vec<u8>),
    /// The key is not known and the rate limit forbids asking again now.
    Unknown,
    /// Fetch the keys; use `stale` if the fetch fails.
    Fetch { stale: Option<Vec<u8>> },
}

impl JwksCache {
    pub(crate) fn new(ttl: Duration, refetch_interval: Duration) -> Self {
        Self {
            ttl,
            refetch_interval,
            environments: RwLock::new(HashMap::new()),
        }
    }

    fn lookup(&self, environment: &str, kid: &str) -> Lookup {
        let now = Instant::now();
        // The common case, a fresh set that holds the key, needs only the shared lock.
        {
            let environments = self
                .environments
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(set) = environments.get(environment)
                && now.duration_since(set.fetched_at) < self.ttl
                && let Some(key) = set.keys.get(kid)
            {
                return Lookup::Found(key.clone());
            }
        }
        let mut environments = self
            .environments
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(set) = environments.get_mut(environment) else {
            return Lookup::Fetch { stale: None };
        };
        let key = set.keys.get(kid).cloned();
        if now.duration_since(set.fetched_at) < self.ttl
            && let Some(key) = key
        {
            return Lookup::Found(key);
        }
        // Stale set, or a kid it lacks: fetch, unless a fetch started within the interval (then
        // a stale key is still good enough, and an unknown kid stays unknown).
        if now.duration_since(set.last_attempt) < self.refetch_interval {
            return match key {
                Some(key) => Lookup::Found(key),
                None => Lookup::Unknown,
            };
        }
        set.last_attempt = now;
        Lookup::Fetch { stale: key }
    }

    fn store(&self, environment: &str, keys: HashMap<String, Vec<u8>>) {
        let now = Instant::now();
        self.environments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(
                environment.to_owned(),
                KeySet {
                    keys,
                    fetched_at: now,
                    last_attempt: now,
                },
            );
    }
}

fn decode_json<T: DeserializeOwned>(part: &str, what: &'static str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed(what))?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed(what))
}

impl Client {
    /// Verifies a session JWT issued by fbgate for the environment `environment_slug` and
    /// returns its claims: the ES256 signature against the environment's published keys, the
    /// issuer ([`Client::expected_issuer`]), the environment, and `exp` (with a 30-second
    /// leeway by default).
    ///
    /// A refused token is [`Error::InvalidSessionJwt`] with the reason; failing to fetch the
    /// keys is [`Error::Transport`] or [`Error::Api`] (`environment_not_found` for an unknown
    /// slug), so an outage is not mistaken for a forged token.
    ///
    /// ```no_run
    /// use fbgate_client::{Error, JwtError};
    ///
    /// # async fn demo(fbgate: fbgate_client::Client, bearer: &str) -> Result<(), Error> {
    /// match fbgate.verify_session_jwt(bearer, "production").await {
    ///     Ok(claims) => println!("user {} in session {}", claims.sub, claims.sid),
    ///     Err(Error::InvalidSessionJwt(JwtError::Expired)) => {
    ///         // get a fresh one: POST /v1/sessions/jwt with the session token
    ///     }
    ///     Err(Error::InvalidSessionJwt(_)) => {
    ///         // answer 401
    ///     }
    ///     Err(other) => return Err(other),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn verify_session_jwt(
        &self,
        jwt: &str,
        environment_slug: &str,
    ) -> Result<SessionClaims, Error> {
        let mut parts = jwt.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed("not three dot-separated parts").into());
        };
        let parsed: Header = decode_json(header, "header")?;
        if parsed.alg != "ES256" {
            return Err(JwtError::UnsupportedAlgorithm(parsed.alg).into());
        }
        if parsed.crit.is_some() {
            return Err(JwtError::Malformed("unsupported critical header").into());
        }
        let kid = parsed.kid.ok_or(JwtError::Malformed("no kid in header"))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| JwtError::Malformed("signature"))?;

        let key = self.session_key(environment_slug, &kid).await?;
        let signing_input = &jwt[..header.len() + 1 + payload.len()];
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &key)
            .verify(signing_input.as_bytes(), &signature)
            .map_err(|_| JwtError::BadSignature)?;

        let claims: SessionClaims = decode_json(payload, "claims")?;
        self.check_claims(&claims, environment_slug)?;
        Ok(claims)
    }

    fn check_claims(&self, claims: &SessionClaims, environment_slug: &str) -> Result<(), JwtError> {
        if claims.iss != self.inner.issuer {
            return Err(JwtError::WrongIssuer);
        }
        if claims.env != environment_slug {
            return Err(JwtError::WrongEnvironment);
        }
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let leeway = i64::try_from(self.inner.jwt_leeway.as_secs()).unwrap_or(i64::MAX);
        if now >= claims.exp.saturating_add(leeway) {
            return Err(JwtError::Expired);
        }
        if claims.iat > now.saturating_add(leeway) {
            return Err(JwtError::NotYetValid);
        }
        Ok(())
    }

    /// The public key `kid` of an environment, from the cache or a fresh fetch.
    async fn session_key(&self, environment: &str, kid: &str) -> Result<Vec<u8>, Error> {
        let stale = match self.inner.jwks.lookup(environment, kid) {
            Lookup::Found(key) => return Ok(key),
            Lookup::Unknown => return Err(JwtError::UnknownKey.into()),
            Lookup::Fetch { stale } => stale,
        };
        match self.fetch_jwks(environment).await {
            Ok(keys) => {
                let key = keys.get(kid).cloned();
                self.inner.jwks.store(environment, keys);
                key.ok_or_else(|| JwtError::UnknownKey.into())
            }
            Err(error) => stale.ok_or(error),
        }
    }

    async fn fetch_jwks(&self, environment: &str) -> Result<HashMap<String, Vec<u8>>, Error> {
        let mut url = self.url("v1/.well-known/jwks.json")?;
        url.query_pairs_mut()
            .append_pair("environment", environment);
        let response = self.inner.http.get(url).send().await?;
        let jwks: Jwks = crate::error::check(response).await?.json().await?;
        Ok(jwks.keys.iter().filter_map(Jwk::es256_point).collect())
    }
}
