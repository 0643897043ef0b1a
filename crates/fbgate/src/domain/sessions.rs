//! Sessions: an opaque, revocable token for the app, and short-lived JWTs derived from it.
//!
//! The session token (`fbgs_…`, 256 random bits) is what the Account API takes; only its SHA-256
//! is stored. Session JWTs last at most [`JWT_TTL`] and can be verified offline against the
//! environment's JWKS; apps refresh them with the session token, which is where revocation bites.

use std::time::Duration;

use aws_lc_rs::constant_time;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::api_keys::hash_key;
use super::jwt::{self, SessionClaims};
use super::{Context, Error};
use crate::ids;
use crate::store::SessionRow;
use crate::vault::SecretString;

/// Prefix of every session token.
pub const TOKEN_PREFIX: &str = "fbgs_";

/// Lifetime of a session JWT.
pub const JWT_TTL: Duration = Duration::from_secs(10 * 60);

/// A new session with the only copy of its token.
#[derive(Debug)]
pub struct NewSession {
    /// The stored row.
    pub session: SessionRow,
    /// The opaque token, shown once.
    pub token: SecretString,
    /// A first JWT.
    pub jwt: String,
}

fn invalid_session() -> Error {
    Error::Unauthenticated {
        code: "invalid_session",
        message: "the session token is not valid (unknown, expired or revoked)".to_owned(),
    }
}

/// Starts a session for a user of an environment.
pub async fn create(
    ctx: &Context,
    environment_id: &str,
    user_id: &str,
) -> Result<NewSession, Error> {
    let token = new_token();
    let session = new_row(ctx, environment_id, user_id, &token);
    ctx.store.insert_session(&session).await?;
    started(ctx, session, token).await
}

/// A new session token (256 random bits); only its hash is ever stored.
pub fn new_token() -> SecretString {
    let mut random = [0u8; 32];
    rand::fill(&mut random);
    SecretString::new(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(random)))
}

/// The row of a new session of `user_id` holding `token`, not yet stored.
pub fn new_row(
    ctx: &Context,
    environment_id: &str,
    user_id: &str,
    token: &SecretString,
) -> SessionRow {
    let now = ctx.clock.now();
    SessionRow {
        id: ids::new_id("ses"),
        environment_id: environment_id.to_owned(),
        user_id: user_id.to_owned(),
        token_hash: hash_key(token.expose()).to_vec(),
        created_at: now,
        expires_at: now + ctx.settings.session_ttl,
        revoked_at: None,
    }
}

/// A session just stored, with its token and a first JWT.
pub async fn started(
    ctx: &Context,
    session: SessionRow,
    token: SecretString,
) -> Result<NewSession, Error> {
    let jwt = issue_jwt(ctx, &session).await?;
    Ok(NewSession {
        session,
        token,
        jwt,
    })
}

/// Checks a presented session token.
pub async fn authenticate(ctx: &Context, token: &str) -> Result<SessionRow, Error> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(invalid_session());
    }
    let hash = hash_key(token);
    let session = ctx
        .store
        .find_session_by_hash(&hash)
        .await?
        .ok_or_else(invalid_session)?;
    constant_time::verify_slices_are_equal(&session.token_hash, &hash)
        .map_err(|_| invalid_session())?;
    if session.revoked_at.is_some() || session.expires_at <= ctx.clock.now() {
        return Err(invalid_session());
    }
    Ok(session)
}

/// A fresh JWT for a live session.
pub async fn issue_jwt(ctx: &Context, session: &SessionRow) -> Result<String, Error> {
    let environment_slug = super::environments::slug(ctx, &session.environment_id).await?;
    let iat = ctx.clock.now().unix_timestamp();
    let ttl = i64::try_from(JWT_TTL.as_secs()).unwrap_or(600);
    let remaining = (session.expires_at.unix_timestamp() - iat).max(0);
    let claims = SessionClaims {
        iss: ctx.settings.issuer.clone(),
        sub: session.user_id.clone(),
        sid: session.id.clone(),
        env: environment_slug,
        iat,
        // A JWT never outlives its session.
        exp: iat + ttl.min(remaining),
    };
    jwt::sign(ctx, &session.environment_id, &claims).await
}

/// Revokes a session of an environment; unknown ids are 404.
pub async fn revoke(
    ctx: &Context,
    environment_id: &str,
    session_id: &str,
) -> Result<SessionRow, Error> {
    let not_found = || Error::not_found("session_not_found", "no session with this id");
    if !ctx
        .store
        .revoke_session(environment_id, session_id, ctx.clock.now())
        .await?
    {
        return Err(not_found());
    }
    ctx.store
        .get_session(environment_id, session_id)
        .await?
        .ok_or_else(not_found)
}
