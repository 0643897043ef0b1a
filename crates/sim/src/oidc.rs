//! OpenID Connect and Limited Login: the discovery document, the JWKS, and RS256 id_tokens.
//!
//! The RSA key is generated on first use (2048 bits with aws-lc-rs) and lives only in memory,
//! so id_tokens do not survive a restart, like any key rotation. `iss` is
//! `https://www.facebook.com` by default because third-party clients compare it exactly; the
//! discovery document points its URLs at this emulator.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{self, KeyPair as _};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde_json::{Value, json};

use crate::crypto::base64url;
use crate::ids;
use crate::model::PermissionStatus;
use crate::state::{Sim, State as SimState};

/// id_tokens are valid for one hour.
const ID_TOKEN_SECONDS: i64 = 3600;

/// The emulator's signing key.
pub(crate) struct OidcKey {
    pair: KeyPair,
    kid: String,
    n: String,
    e: String,
}

impl std::fmt::Debug for OidcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl OidcKey {
    pub(crate) fn generate() -> Option<OidcKey> {
        let pair = KeyPair::generate(KeySize::Rsa2048).ok()?;
        let public = pair.public_key();
        let n = base64url(public.modulus().big_endian_without_leading_zero());
        let e = base64url(public.exponent().big_endian_without_leading_zero());
        Some(OidcKey {
            pair,
            kid: ids::alphanumeric(20).to_lowercase(),
            n,
            e,
        })
    }

    fn jwk(&self) -> Value {
        json!({ "kid": self.kid, "kty": "RSA", "alg": "RS256", "use": "sig", "n": self.n, "e": self.e })
    }

    fn sign(&self, claims: &Value) -> Option<String> {
        let header = json!({ "alg": "RS256", "kid": self.kid, "typ": "JWT" });
        let input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .ok()?;
        Some(format!("{input}.{}", base64url(&sig)))
    }
}

/// A signed id_token for `user_id` and `app_id` (the email claim only when `email` is granted).
pub(crate) fn id_token(
    sim: &Sim,
    state: &SimState,
    app_id: &str,
    user_id: &str,
    nonce: Option<&str>,
    base_url: &str,
) -> Option<String> {
    let user = state.users.get(user_id)?;
    let now = sim.now();
    let mut claims = json!({
        "iss": sim.config().oidc_issuer,
        "aud": app_id,
        "sub": user.id,
        "iat": now,
        "exp": now + ID_TOKEN_SECONDS,
        "jti": ids::alphanumeric(32),
        "name": user.name,
        "given_name": user.first_name,
        "family_name": user.last_name,
        "picture": user.picture.clone().unwrap_or_else(|| format!("{base_url}/_sim/pictures/{}?width=100&height=100", user.id)),
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    let email_granted = state
        .grants
        .get(&(app_id.to_owned(), user_id.to_owned()))
        .and_then(|g| g.permissions.get("email"))
        == Some(&PermissionStatus::Granted);
    if let (true, Some(email)) = (email_granted, &user.email) {
        claims["email"] = json!(email);
    }
    sim.oidc_key()?.sign(&claims)
}

/// A Limited Login authentication token, as the iOS SDK receives (`email` when asked for).
pub(crate) fn limited_login_token(
    sim: &Sim,
    state: &SimState,
    app_id: &str,
    user_id: &str,
    nonce: &str,
    with_email: bool,
    base_url: &str,
) -> Option<String> {
    let user = state.users.get(user_id)?;
    let now = sim.now();
    let mut claims = json!({
        "iss": sim.config().oidc_issuer,
        "aud": app_id,
        "sub": user.id,
        "iat": now,
        "exp": now + ID_TOKEN_SECONDS,
        "jti": ids::alphanumeric(32),
        "nonce": nonce,
        "name": user.name,
        "given_name": user.first_name,
        "family_name": user.last_name,
        "picture": user.picture.clone().unwrap_or_else(|| format!("{base_url}/_sim/pictures/{}?width=100&height=100", user.id)),
    });
    if let (true, Some(email)) = (with_email, &user.email) {
        claims["email"] = json!(email);
    }
    sim.oidc_key()?.sign(&claims)
}

/// `scheme://host` of this emulator as the client reached it (`X-Forwarded-Proto: https` is
/// honoured, for a TLS terminator in front of the emulator).
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

/// `GET /.well-known/openid-configuration/`.
pub(crate) async fn discovery(State(sim): State<Sim>, headers: HeaderMap) -> Json<Value> {
    let base = base_url(&headers);
    Json(json!({
        "issuer": sim.config().oidc_issuer,
        "authorization_endpoint": format!("{base}/dialog/oauth/"),
        "jwks_uri": format!("{base}/.well-known/oauth/openid/jwks/"),
        "response_types_supported": ["id_token", "token id_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": [
            "iss", "aud", "sub", "iat", "exp", "jti", "nonce", "at_hash", "name", "given_name",
            "middle_name", "family_name", "email", "picture", "user_friends", "user_birthday",
            "user_age_range", "user_link", "user_hometown", "user_location", "user_gender"
        ],
    }))
}

/// `GET /.well-known/oauth/openid/jwks/`.
pub(crate) async fn jwks(State(sim): State<Sim>) -> Json<Value> {
    let keys: Vec<Value> = sim.oidc_key().map(OidcKey::jwk).into_iter().collect();
    Json(json!({ "keys": keys }))
}
