//! `/v1/connect-sessions` and `/v1/connections`: credentials for the app's own tenants and users.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::SecretKey;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use super::timestamp;
use crate::domain::connections::{self, ConnectionDetails, NewConnectSession};
use crate::domain::pagination::PageRequest;

/// Body of `POST /v1/connect-sessions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnectSession {
    /// The provider's slug.
    pub provider: String,
    /// The app's tenant id (1–255 characters, no control characters).
    pub tenant_id: String,
    /// The app's user id (1–255 characters, no control characters).
    pub user_id: String,
    /// `user` (default) or `installation`.
    pub flow: Option<String>,
    /// Where the browser returns; must match the provider's `allowed_redirect_urls`.
    pub redirect_to: String,
    /// Permissions replacing the provider's (`public_profile` is always added).
    pub scopes: Option<Vec<String>>,
}

/// A created connect session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectSession {
    /// The single-use token (already inside `authorization_url`).
    pub token: String,
    /// Open this in the user's browser.
    pub authorization_url: String,
    /// The token is refused after this (15 minutes).
    pub expires_at: String,
}

/// A credential held by a connection (never the token: use `credentials/get`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectionCredential {
    /// `crd_…`
    pub id: String,
    /// `user` or `page`.
    pub credential_for: String,
    /// The page, for page credentials.
    pub page_id: Option<String>,
    /// `user` or `page`.
    pub token_type: String,
    /// `active`, `expiring`, `expired`, `revoked` or `invalid`.
    pub status: String,
    /// Why, for the last three.
    pub reason: Option<String>,
    /// Expiry, or null when it never expires.
    pub expires_at: Option<String>,
    /// End of data access, if known.
    pub data_access_expires_at: Option<String>,
    /// Granted permissions.
    pub scopes: Vec<String>,
    /// Last health check.
    pub last_checked_at: Option<String>,
}

/// A connection: one (tenant, user) at a provider, with its user and page credentials.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Connection {
    /// `con_…`
    pub id: String,
    /// The provider's slug.
    pub provider: String,
    /// The app's tenant.
    pub tenant_id: String,
    /// The app's user.
    pub user_id: String,
    /// The Facebook user (app-scoped id) who connected.
    pub facebook_user_id: String,
    /// The user credential first, then one per page.
    pub credentials: Vec<ConnectionCredential>,
    /// First connected.
    pub created_at: String,
    /// Last (re)connected.
    pub updated_at: String,
}

impl Connection {
    fn new(
        details: ConnectionDetails,
        now: time::OffsetDateTime,
        threshold: std::time::Duration,
    ) -> Self {
        let ConnectionDetails {
            connection,
            provider_slug,
            credentials,
        } = details;
        Self {
            id: connection.id,
            provider: provider_slug,
            tenant_id: connection.tenant_id,
            user_id: connection.external_user_id,
            facebook_user_id: connection.facebook_user_id,
            credentials: credentials
                .into_iter()
                .map(|row| {
                    let (status, reason) =
                        crate::domain::credentials::current_status(&row, now, threshold);
                    ConnectionCredential {
                        credential_for: if row.page_id.is_some() {
                            "page"
                        } else {
                            "user"
                        }
                        .to_owned(),
                        scopes: serde_json::from_str(&row.scopes).unwrap_or_default(),
                        expires_at: row.expires_at.map(timestamp),
                        data_access_expires_at: row.data_access_expires_at.map(timestamp),
                        last_checked_at: row.last_checked_at.map(timestamp),
                        page_id: row.page_id,
                        token_type: row.token_type,
                        id: row.id,
                        status,
                        reason,
                    }
                })
                .collect(),
            created_at: timestamp(connection.created_at),
            updated_at: timestamp(connection.updated_at),
        }
    }
}

/// Query of `GET /v1/connections`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListConnections {
    /// Only this tenant's connections.
    pub tenant_id: Option<String>,
    /// Cursor from a previous page.
    pub cursor: Option<String>,
    /// Page size, 1–100.
    pub limit: Option<u32>,
}

/// A page of connections.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectionList {
    /// The connections.
    pub data: Vec<Connection>,
    /// Cursor of the next page, or null.
    pub next_cursor: Option<String>,
}

/// Query of `DELETE /v1/connections`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeleteTenant {
    /// The tenant whose connections go.
    pub tenant_id: String,
    /// `true` also destroys the tenant's data key: every copy of its tokens (backups included)
    /// becomes unreadable.
    pub shred: Option<bool>,
}

/// What `DELETE /v1/connections?tenant_id=` did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TenantDeleted {
    /// Connections deleted.
    pub deleted: u64,
    /// Whether the tenant's data key was destroyed.
    pub shredded: bool,
}

/// Start connecting a user of your own tenant: a single-use authorization URL for their browser.
#[utoipa::path(post, path = "/v1/connect-sessions", tag = "connections",
    request_body = CreateConnectSession,
    security(("secret_key" = [])),
    responses((status = 201, description = "Open `authorization_url` in the user's browser", body = ConnectSession),
        (status = 404, description = "`provider_not_found`", body = ErrorBody),
        (status = 422, description = "Invalid field (`redirect_to_not_allowed`, `invalid_id`, `installation_not_supported`, …)", body = ErrorBody)))]
pub async fn create_session(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiJson(body): ApiJson<CreateConnectSession>,
) -> Result<(StatusCode, Json<ConnectSession>), ApiError> {
    let request = NewConnectSession {
        provider: body.provider,
        tenant_id: body.tenant_id,
        user_id: body.user_id,
        flow: body.flow.unwrap_or_else(|| "user".to_owned()),
        redirect_to: body.redirect_to,
        scopes: body.scopes,
    };
    let created = connections::create_session(&state.ctx, &caller.environment_id, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(ConnectSession {
            token: created.token.expose().clone(),
            authorization_url: created.authorization_url.to_string(),
            expires_at: timestamp(created.expires_at),
        }),
    ))
}

/// List connections, optionally of one tenant.
#[utoipa::path(get, path = "/v1/connections", tag = "connections",
    params(ListConnections),
    security(("secret_key" = [])),
    responses((status = 200, description = "A page of connections", body = ConnectionList),
        (status = 422, description = "Bad query", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiQuery(query): ApiQuery<ListConnections>,
) -> Result<Json<ConnectionList>, ApiError> {
    let page = PageRequest {
        cursor: query.cursor,
        limit: query.limit,
    };
    let (rows, next_cursor) = connections::list(
        &state.ctx,
        &caller.environment_id,
        query.tenant_id.as_deref(),
        page,
    )
    .await?;
    let now = state.ctx.clock.now();
    let threshold = state.ctx.settings.credentials.expiring_threshold;
    Ok(Json(ConnectionList {
        data: rows
            .into_iter()
            .map(|c| Connection::new(c, now, threshold))
            .collect(),
        next_cursor,
    }))
}

/// Delete every connection of a tenant, optionally destroying its data key (crypto-shredding).
#[utoipa::path(delete, path = "/v1/connections", tag = "connections",
    params(DeleteTenant),
    security(("secret_key" = [])),
    responses((status = 200, description = "What was deleted", body = TenantDeleted),
        (status = 422, description = "Bad query", body = ErrorBody)))]
pub async fn delete_tenant(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiQuery(query): ApiQuery<DeleteTenant>,
) -> Result<Json<TenantDeleted>, ApiError> {
    let shred = query.shred.unwrap_or(false);
    let done =
        connections::delete_tenant(&state.ctx, &caller.environment_id, &query.tenant_id, shred)
            .await?;
    Ok(Json(TenantDeleted {
        deleted: done.connections,
        shredded: shred,
    }))
}

/// Read a connection with its credentials' status.
#[utoipa::path(get, path = "/v1/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    security(("secret_key" = [])),
    responses((status = 200, description = "The connection", body = Connection),
        (status = 404, description = "`connection_not_found`", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
) -> Result<Json<Connection>, ApiError> {
    let details = connections::get(&state.ctx, &caller.environment_id, &id).await?;
    Ok(Json(Connection::new(
        details,
        state.ctx.clock.now(),
        state.ctx.settings.credentials.expiring_threshold,
    )))
}

/// Delete a connection: its user and page tokens are destroyed.
#[utoipa::path(delete, path = "/v1/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    security(("secret_key" = [])),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "`connection_not_found`", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    connections::delete(&state.ctx, &caller.environment_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
