//! `/v1/environments`: created and listed by the operator; a secret key sees only its own.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::{Operator, OperatorOrSecretKey};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use super::timestamp;
use crate::domain::api_keys::Mode;
use crate::domain::environments::{self, NewEnvironment};
use crate::domain::pagination::PageRequest;
use crate::store::EnvironmentRow;

/// Body of `POST /v1/environments`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEnvironment {
    /// Unique: lowercase letters, digits and hyphens, starting with a letter.
    #[schema(example = "production")]
    pub slug: String,
    /// Display name; defaults to the slug.
    pub name: Option<String>,
    /// `live` (default) or `test`: the prefix of the environment's keys.
    pub mode: Option<Mode>,
}

/// An environment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Environment {
    /// `env_…`
    pub id: String,
    /// Unique slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// `live` or `test`.
    pub mode: Mode,
    /// Creation time (RFC 3339, UTC).
    pub created_at: String,
}

impl From<EnvironmentRow> for Environment {
    fn from(row: EnvironmentRow) -> Self {
        Self {
            mode: Mode::from_column(&row.mode),
            created_at: timestamp(row.created_at),
            id: row.id,
            slug: row.slug,
            name: row.name,
        }
    }
}

/// A new environment with its first keys; the keys are shown only in this answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedEnvironment {
    /// The environment.
    #[serde(flatten)]
    pub environment: Environment,
    /// `sk_live_…` or `sk_test_…`: for the app's backend. Shown once.
    pub secret_key: String,
    /// `pk_live_…` or `pk_test_…`: may only start sign-in. Shown once.
    pub publishable_key: String,
}

/// A page of environments.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnvironmentList {
    /// The environments.
    pub data: Vec<Environment>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Create an environment and its first secret and publishable keys.
#[utoipa::path(post, path = "/v1/environments", tag = "environments",
    request_body = CreateEnvironment,
    security(("operator_token" = [])),
    responses(
        (status = 201, description = "Created; the keys are shown only now", body = CreatedEnvironment),
        (status = 401, description = "No or wrong operator token", body = ErrorBody),
        (status = 409, description = "Slug taken (`slug_taken`)", body = ErrorBody),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _operator: Operator,
    ApiJson(body): ApiJson<CreateEnvironment>,
) -> Result<(StatusCode, Json<CreatedEnvironment>), ApiError> {
    let new = NewEnvironment::parse(&body.slug, body.name.as_deref(), body.mode)?;
    let created = environments::create(&state.ctx, new).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEnvironment {
            secret_key: created.secret_key.expose().clone(),
            publishable_key: created.publishable_key.expose().clone(),
            environment: created.environment.into(),
        }),
    ))
}

/// List environments (operator), in creation order.
#[utoipa::path(get, path = "/v1/environments", tag = "environments",
    params(PageRequest),
    security(("operator_token" = [])),
    responses(
        (status = 200, description = "A page of environments", body = EnvironmentList),
        (status = 401, description = "No or wrong operator token", body = ErrorBody),
        (status = 422, description = "Bad `limit`", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _operator: Operator,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<EnvironmentList>, ApiError> {
    let (rows, next_cursor) = environments::list(&state.ctx, page.parse()?).await?;
    Ok(Json(EnvironmentList {
        data: rows.into_iter().map(Environment::from).collect(),
        next_cursor,
    }))
}

/// Read one environment: the operator reads any; a secret key only its own (others are 404).
#[utoipa::path(get, path = "/v1/environments/{id}", tag = "environments",
    params(("id" = String, Path, description = "Environment id")),
    security(("operator_token" = []), ("secret_key" = [])),
    responses(
        (status = 200, description = "The environment", body = Environment),
        (status = 404, description = "No such environment visible to this caller", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: OperatorOrSecretKey,
    Path(id): Path<String>,
) -> Result<Json<Environment>, ApiError> {
    if let OperatorOrSecretKey::SecretKey(key) = &caller
        && key.environment_id != id
    {
        return Err(crate::domain::Error::not_found(
            "environment_not_found",
            "environment not found",
        )
        .into());
    }
    Ok(Json(environments::get(&state.ctx, &id).await?.into()))
}
