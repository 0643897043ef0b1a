//! Who is calling: the operator token, or an environment's API key.
//!
//! Every extractor here rejects with the API's error JSON: 401 `missing_credentials` when no
//! `Authorization: Bearer` header is sent, 401 `invalid_api_key` / `invalid_operator_token` when
//! the credential is unknown, and 403 `secret_key_required` when a publishable key is used where
//! only a backend may act.

use aws_lc_rs::constant_time;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use super::AppState;
use super::error::ApiError;
use crate::domain::api_keys::{self, AuthenticatedKey};
use crate::domain::sessions;
use crate::store::ApiKeyKind;

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(missing_credentials)?
        .to_str()
        .map_err(|_| missing_credentials())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing_credentials)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(missing_credentials());
    }
    Ok(token.trim())
}

fn missing_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "missing_credentials",
        "send `Authorization: Bearer <key>`",
    )
}

/// The request carries the operator token (`FBGATE_ADMIN_TOKEN`).
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let Some(expected) = state.admin_token_hash.as_ref() else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "operator_token_not_configured",
                "this server has no operator token; set FBGATE_ADMIN_TOKEN",
            ));
        };
        let presented = api_keys::hash_key(token);
        constant_time::verify_slices_are_equal(&presented, expected).map_err(|_| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_operator_token",
                "the operator token is not valid",
            )
        })?;
        Ok(Operator)
    }
}

/// The request carries a valid secret key; holds the environment it acts in.
#[derive(Debug, Clone)]
pub struct SecretKey(pub AuthenticatedKey);

impl FromRequestParts<AppState> for SecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let key = api_keys::authenticate(&state.ctx, token).await?;
        if key.kind != ApiKeyKind::Secret {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "secret_key_required",
                "this endpoint needs a secret key (sk_…); publishable keys may only start sign-in",
            ));
        }
        Ok(SecretKey(key))
    }
}

/// Either the operator, or a secret key of one environment.
#[derive(Debug, Clone)]
pub enum OperatorOrSecretKey {
    /// The operator: sees every environment.
    Operator,
    /// A secret key: sees only its own environment.
    SecretKey(AuthenticatedKey),
}

impl FromRequestParts<AppState> for OperatorOrSecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        if token.starts_with("sk_") || token.starts_with("pk_") {
            SecretKey::from_request_parts(parts, state)
                .await
                .map(|SecretKey(key)| OperatorOrSecretKey::SecretKey(key))
        } else {
            Operator::from_request_parts(parts, state)
                .await
                .map(|_| OperatorOrSecretKey::Operator)
        }
    }
}

/// The request carries a live session token (`fbgs_…`); holds the session.
#[derive(Debug, Clone)]
pub struct Session(pub crate::store::SessionRow);

impl FromRequestParts<AppState> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        Ok(Session(sessions::authenticate(&state.ctx, token).await?))
    }
}

/// Either a session token (acting on its own session) or a secret key (acting on any session of
/// its environment).
#[derive(Debug, Clone)]
pub enum SessionOrSecretKey {
    /// A signed-in user.
    Session(crate::store::SessionRow),
    /// A backend.
    SecretKey(AuthenticatedKey),
}

impl FromRequestParts<AppState> for SessionOrSecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        if token.starts_with(sessions::TOKEN_PREFIX) {
            Ok(SessionOrSecretKey::Session(
                sessions::authenticate(&state.ctx, token).await?,
            ))
        } else {
            SecretKey::from_request_parts(parts, state)
                .await
                .map(|SecretKey(key)| SessionOrSecretKey::SecretKey(key))
        }
    }
}
