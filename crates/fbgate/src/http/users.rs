//! `/v1/users`: the environment's users, managed by its backend.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::SecretKey;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use super::sessions::SessionCreated;
use super::timestamp;
use crate::domain::pagination::PageRequest;
use crate::domain::sessions;
use crate::domain::users::{self, NewUser};
use crate::store::UserRow;

/// A user.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    /// `usr_…`
    pub id: String,
    /// Email address, when known.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// fbgate's copy of the profile picture.
    pub profile_image_url: Option<String>,
    /// `facebook` (created by a sign-in) or `api` (created by `POST /v1/users`).
    pub created_via: String,
    /// Creation time.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
    /// Last sign-in, if any.
    pub last_sign_in_at: Option<String>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            created_at: timestamp(row.created_at),
            updated_at: timestamp(row.updated_at),
            last_sign_in_at: row.last_sign_in_at.map(timestamp),
            id: row.id,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            name: row.name,
            profile_image_url: row.profile_image_url,
            created_via: row.created_via,
        }
    }
}

/// Body of `POST /v1/users`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Email address.
    pub email: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
}

/// Query of `GET /v1/users`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListUsers {
    /// Only users with exactly this email address.
    pub email: Option<String>,
    /// Cursor from a previous page.
    pub cursor: Option<String>,
    /// Page size, 1–100.
    pub limit: Option<u32>,
}

/// A page of users.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserList {
    /// The users.
    pub data: Vec<User>,
    /// Cursor of the next page, or null.
    pub next_cursor: Option<String>,
}

/// Create a user without a Facebook identity (for apps that sign users in themselves and use
/// Facebook for linking and API access).
#[utoipa::path(post, path = "/v1/users", tag = "users",
    request_body = CreateUser,
    security(("secret_key" = [])),
    responses((status = 201, description = "Created", body = User),
        (status = 422, description = "Invalid field", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let new = NewUser::parse(
        body.email.as_deref(),
        body.first_name.as_deref(),
        body.last_name.as_deref(),
    )?;
    let user = users::create(&state.ctx, &caller.environment_id, new).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// List users, optionally by email.
#[utoipa::path(get, path = "/v1/users", tag = "users",
    params(ListUsers),
    security(("secret_key" = [])),
    responses((status = 200, description = "A page of users", body = UserList),
        (status = 422, description = "Bad query", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiQuery(query): ApiQuery<ListUsers>,
) -> Result<Json<UserList>, ApiError> {
    let page = PageRequest {
        cursor: query.cursor,
        limit: query.limit,
    }
    .parse()?;
    let (rows, next_cursor) = users::list(
        &state.ctx,
        &caller.environment_id,
        query.email.as_deref(),
        page,
    )
    .await?;
    Ok(Json(UserList {
        data: rows.into_iter().map(User::from).collect(),
        next_cursor,
    }))
}

/// Read a user.
#[utoipa::path(get, path = "/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id")),
    security(("secret_key" = [])),
    responses((status = 200, description = "The user", body = User),
        (status = 404, description = "No such user in this environment", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        users::get(&state.ctx, &caller.environment_id, &id)
            .await?
            .into(),
    ))
}

/// Delete a user, with identities, sessions and stored credentials.
#[utoipa::path(delete, path = "/v1/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id")),
    security(("secret_key" = [])),
    responses((status = 200, description = "The deleted user", body = User),
        (status = 404, description = "No such user in this environment", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        users::delete(&state.ctx, &caller.environment_id, &id)
            .await?
            .into(),
    ))
}

/// Start a session for a user (for users the app signs in itself), so the Account API works.
#[utoipa::path(post, path = "/v1/users/{id}/sessions", tag = "users",
    params(("id" = String, Path, description = "User id")),
    security(("secret_key" = [])),
    responses((status = 201, description = "A new session; the token is shown only now", body = SessionCreated),
        (status = 404, description = "No such user in this environment", body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<SessionCreated>), ApiError> {
    let user = users::get(&state.ctx, &caller.environment_id, &id).await?;
    let new = sessions::create(&state.ctx, &caller.environment_id, &user.id).await?;
    Ok((StatusCode::CREATED, Json(new.into())))
}
