//! `/v1/api-keys`: an environment's keys, managed with one of its secret keys.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::SecretKey;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use super::timestamp;
use crate::domain::api_keys;
use crate::store::{ApiKeyKind, ApiKeyRow};

/// An API key, without its secret text.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    /// `key_…`
    pub id: String,
    /// `secret` or `publishable`.
    pub kind: ApiKeyKind,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    /// Creation time.
    pub created_at: String,
    /// Revocation time, or null while the key works.
    pub revoked_at: Option<String>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(row: ApiKeyRow) -> Self {
        Self {
            kind: ApiKeyKind::from_column(&row.kind).unwrap_or(ApiKeyKind::Secret),
            created_at: timestamp(row.created_at),
            revoked_at: row.revoked_at.map(timestamp),
            id: row.id,
            prefix: row.prefix,
        }
    }
}

/// A new key; `key` is shown only in this answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    /// The key's metadata.
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The key itself. Shown once.
    pub key: String,
}

/// Body of `POST /v1/api-keys`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// `secret` or `publishable`.
    pub kind: ApiKeyKind,
}

/// The keys of the caller's environment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeyList {
    /// Every key, oldest first.
    pub data: Vec<ApiKey>,
    /// Always null: an environment has few keys.
    pub next_cursor: Option<String>,
}

/// List the environment's API keys.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api keys",
    security(("secret_key" = [])),
    responses((status = 200, description = "The keys", body = ApiKeyList),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Publishable key used", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
) -> Result<Json<ApiKeyList>, ApiError> {
    let rows = api_keys::list(&state.ctx, &caller.environment_id).await?;
    Ok(Json(ApiKeyList {
        data: rows.into_iter().map(ApiKey::from).collect(),
        next_cursor: None,
    }))
}

/// Create another key (to roll keys without downtime).
#[utoipa::path(post, path = "/v1/api-keys", tag = "api keys",
    request_body = CreateApiKey,
    security(("secret_key" = [])),
    responses((status = 201, description = "Created; the key is shown only now", body = CreatedApiKey),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    let created = api_keys::create(&state.ctx, &caller.environment_id, body.kind).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            key: created.text.expose().clone(),
            api_key: created.row.into(),
        }),
    ))
}

/// Revoke a key of this environment. Revoked keys stop working at once on this replica and
/// within 30 seconds on others.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api keys",
    params(("id" = String, Path, description = "Key id")),
    security(("secret_key" = [])),
    responses((status = 200, description = "The revoked key", body = ApiKey),
        (status = 404, description = "No such key in this environment", body = ErrorBody),
        (status = 409, description = "It is the environment's last working secret key (`last_secret_key`)", body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
) -> Result<Json<ApiKey>, ApiError> {
    let row = api_keys::revoke(&state.ctx, &caller.environment_id, &id).await?;
    Ok(Json(row.into()))
}
