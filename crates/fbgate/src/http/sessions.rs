//! `/v1/sessions` and the JWKS that verifies session JWTs.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::{Session, SessionOrSecretKey};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use super::timestamp;
use crate::domain::jwt::{self, Jwk};
use crate::domain::{Error, account, environments, sessions};
use crate::store::SessionRow;

/// A new session: the token is shown only in this answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionCreated {
    /// `ses_…`
    pub session_id: String,
    /// Opaque, revocable token for the Account API and for fresh JWTs. Shown once.
    pub session_token: String,
    /// A JWT (ES256) valid for at most 10 minutes; verify with the environment's JWKS.
    pub session_jwt: String,
    /// When the session ends.
    pub expires_at: String,
}

impl From<sessions::NewSession> for SessionCreated {
    fn from(new: sessions::NewSession) -> Self {
        Self {
            session_id: new.session.id,
            session_token: new.token.expose().clone(),
            session_jwt: new.jwt,
            expires_at: timestamp(new.session.expires_at),
        }
    }
}

/// A session, without its token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// `ses_…`
    pub id: String,
    /// The user.
    pub user_id: String,
    /// Creation time.
    pub created_at: String,
    /// End of the session.
    pub expires_at: String,
    /// Revocation time, or null.
    pub revoked_at: Option<String>,
}

impl From<SessionRow> for SessionView {
    fn from(row: SessionRow) -> Self {
        Self {
            created_at: timestamp(row.created_at),
            expires_at: timestamp(row.expires_at),
            revoked_at: row.revoked_at.map(timestamp),
            id: row.id,
            user_id: row.user_id,
        }
    }
}

/// A fresh JWT.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionJwt {
    /// The JWT.
    pub session_jwt: String,
}

/// Get a fresh session JWT with the session token.
#[utoipa::path(post, path = "/v1/sessions/jwt", tag = "sessions",
    security(("session_token" = [])),
    responses((status = 200, description = "A fresh JWT", body = SessionJwt),
        (status = 401, description = "Unknown, expired or revoked session (`invalid_session`)", body = ErrorBody)))]
pub async fn jwt(
    State(state): State<AppState>,
    Session(session): Session,
) -> Result<Json<SessionJwt>, ApiError> {
    Ok(Json(SessionJwt {
        session_jwt: sessions::issue_jwt(&state.ctx, &session).await?,
    }))
}

/// Body of `POST /v1/sessions/revoke`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeSession {
    /// With a secret key: the session to revoke. With a session token: omit (or give its own id).
    pub session_id: Option<String>,
    /// Also destroy the user's stored Facebook tokens and revoke the app's permissions at
    /// Facebook (a full "disconnect"); `credentials/get` then answers 404.
    #[serde(default)]
    pub revoke_facebook_token: bool,
}

/// Revoke a session: with its own token (sign out), or with a secret key and `session_id`.
#[utoipa::path(post, path = "/v1/sessions/revoke", tag = "sessions",
    request_body = RevokeSession,
    security(("session_token" = []), ("secret_key" = [])),
    responses((status = 200, description = "The revoked session", body = SessionView),
        (status = 404, description = "No such session in this environment", body = ErrorBody),
        (status = 422, description = "`session_id` missing with a secret key", body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: SessionOrSecretKey,
    ApiJson(body): ApiJson<RevokeSession>,
) -> Result<Json<SessionView>, ApiError> {
    let (environment_id, session_id) = match caller {
        SessionOrSecretKey::Session(session) => {
            if body
                .session_id
                .as_deref()
                .is_some_and(|id| id != session.id)
            {
                return Err(Error::not_found(
                    "session_not_found",
                    "a session token can only revoke its own session",
                )
                .into());
            }
            (session.environment_id, session.id)
        }
        SessionOrSecretKey::SecretKey(key) => {
            let id = body.session_id.ok_or_else(|| {
                Error::invalid("session_id", "`session_id` is required with a secret key")
            })?;
            (key.environment_id, id)
        }
    };
    let revoked = sessions::revoke(&state.ctx, &environment_id, &session_id).await?;
    if body.revoke_facebook_token {
        account::forget_facebook_tokens(&state.ctx, &environment_id, &revoked.user_id).await?;
    }
    Ok(Json(revoked.into()))
}

/// Query of the JWKS.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JwksQuery {
    /// Environment slug.
    pub environment: String,
}

/// A JSON Web Key Set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Jwks {
    /// The environment's public keys.
    pub keys: Vec<Jwk>,
}

/// The public keys that verify an environment's session JWTs (public; cache it).
#[utoipa::path(get, path = "/v1/.well-known/jwks.json", tag = "sessions",
    params(JwksQuery),
    responses((status = 200, description = "The keys", body = Jwks),
        (status = 404, description = "No such environment", body = ErrorBody)))]
pub async fn jwks(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<JwksQuery>,
) -> Result<Json<Jwks>, ApiError> {
    let environment = environments::get_by_slug(&state.ctx, &query.environment)
        .await?
        .ok_or_else(|| {
            Error::not_found("environment_not_found", "no environment with this slug")
        })?;
    Ok(Json(Jwks {
        keys: jwt::jwks(&state.ctx, &environment.id).await?,
    }))
}
