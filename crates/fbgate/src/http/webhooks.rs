//! `/v1/webhook-endpoints`: where fbgate announces events, and what it delivered there.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::SecretKey;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use super::timestamp;
use crate::domain::pagination::PageRequest;
use crate::domain::webhooks::{self, NewEndpoint, Subscription};
use crate::store::{WebhookDeliveryRow, WebhookEndpointRow};

/// A webhook endpoint.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookEndpoint {
    /// `whe_…`
    pub id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The event types it receives, or `["*"]` for all.
    pub events: Vec<String>,
    /// Whether it receives new events.
    pub enabled: bool,
    /// Creation time.
    pub created_at: String,
}

impl From<WebhookEndpointRow> for WebhookEndpoint {
    fn from(row: WebhookEndpointRow) -> Self {
        Self {
            events: Subscription::from_column(&row.events).names(),
            created_at: timestamp(row.created_at),
            id: row.id,
            url: row.url,
            enabled: row.enabled,
        }
    }
}

/// A new endpoint, with its signing secret (shown only in this answer).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookEndpointCreated {
    /// `whe_…`
    pub id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// Whether it receives new events.
    pub enabled: bool,
    /// The key of every delivery's `Fbgate-Signature`; shown only now.
    pub signing_secret: String,
    /// Creation time.
    pub created_at: String,
}

/// Body of `POST /v1/webhook-endpoints`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpoint {
    /// An https URL (http only for loopback hosts).
    pub url: String,
    /// Event types to receive (`user.created`, …), or `["*"]` for all.
    pub events: Vec<String>,
}

/// A page of endpoints.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookEndpointList {
    /// The endpoints.
    pub data: Vec<WebhookEndpoint>,
    /// Cursor of the next page, or null.
    pub next_cursor: Option<String>,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeliveryAttempt {
    /// When it was sent.
    pub attempted_at: String,
    /// The endpoint's HTTP status; null when it did not answer.
    pub status_code: Option<u16>,
    /// Why it failed; null when it succeeded.
    pub error: Option<String>,
    /// How long the endpoint took, in milliseconds.
    pub duration_ms: u64,
}

/// The delivery of one event to one endpoint.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookDelivery {
    /// `whd_…`
    pub id: String,
    /// The event (`Fbgate-Event-Id`).
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// `pending` (more attempts to come), `succeeded` or `failed` (retries exhausted).
    pub status: String,
    /// Every attempt, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When it succeeded.
    pub delivered_at: Option<String>,
}

impl From<WebhookDeliveryRow> for WebhookDelivery {
    fn from(row: WebhookDeliveryRow) -> Self {
        Self {
            attempts: serde_json::from_str(&row.attempt_log).unwrap_or_default(),
            next_attempt_at: (row.status == "pending")
                .then_some(row.next_attempt_at)
                .flatten()
                .map(timestamp),
            created_at: timestamp(row.created_at),
            delivered_at: row.delivered_at.map(timestamp),
            id: row.id,
            event_id: row.event_id,
            event_type: row.event_type,
            status: row.status,
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookDeliveryList {
    /// The deliveries.
    pub data: Vec<WebhookDelivery>,
    /// Cursor of the next page, or null.
    pub next_cursor: Option<String>,
}

/// Register a webhook endpoint; the answer holds its signing secret, shown only once.
#[utoipa::path(post, path = "/v1/webhook-endpoints", tag = "webhooks",
    request_body = CreateWebhookEndpoint,
    security(("secret_key" = [])),
    responses((status = 201, description = "Created; the signing secret is shown only now", body = WebhookEndpointCreated),
        (status = 422, description = "Invalid url or events", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiJson(body): ApiJson<CreateWebhookEndpoint>,
) -> Result<(StatusCode, Json<WebhookEndpointCreated>), ApiError> {
    let new = NewEndpoint::parse(&body.url, &body.events)?;
    let (row, secret) = webhooks::create_endpoint(&state.ctx, &caller.environment_id, new).await?;
    let endpoint = WebhookEndpoint::from(row);
    Ok((
        StatusCode::CREATED,
        Json(WebhookEndpointCreated {
            id: endpoint.id,
            url: endpoint.url,
            events: endpoint.events,
            enabled: endpoint.enabled,
            signing_secret: secret.expose().clone(),
            created_at: endpoint.created_at,
        }),
    ))
}

/// List the environment's webhook endpoints.
#[utoipa::path(get, path = "/v1/webhook-endpoints", tag = "webhooks",
    params(PageRequest),
    security(("secret_key" = [])),
    responses((status = 200, description = "A page of endpoints", body = WebhookEndpointList),
        (status = 422, description = "Bad query", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiQuery(query): ApiQuery<PageRequest>,
) -> Result<Json<WebhookEndpointList>, ApiError> {
    let page = query.parse()?;
    let (rows, next_cursor) =
        webhooks::list_endpoints(&state.ctx, &caller.environment_id, page).await?;
    Ok(Json(WebhookEndpointList {
        data: rows.into_iter().map(WebhookEndpoint::from).collect(),
        next_cursor,
    }))
}

/// Read a webhook endpoint (without its secret).
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id")),
    security(("secret_key" = [])),
    responses((status = 200, description = "The endpoint", body = WebhookEndpoint),
        (status = 404, description = "No such endpoint in this environment", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    let row = webhooks::get_endpoint(&state.ctx, &caller.environment_id, &id).await?;
    Ok(Json(row.into()))
}

/// Delete a webhook endpoint; deliveries not yet made to it are dropped.
#[utoipa::path(delete, path = "/v1/webhook-endpoints/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id")),
    security(("secret_key" = [])),
    responses((status = 200, description = "The deleted endpoint", body = WebhookEndpoint),
        (status = 404, description = "No such endpoint in this environment", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    let row = webhooks::delete_endpoint(&state.ctx, &caller.environment_id, &id).await?;
    Ok(Json(row.into()))
}

/// List an endpoint's deliveries, newest first, each with its attempts.
#[utoipa::path(get, path = "/v1/webhook-endpoints/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "Endpoint id"), PageRequest),
    security(("secret_key" = [])),
    responses((status = 200, description = "A page of deliveries", body = WebhookDeliveryList),
        (status = 404, description = "No such endpoint in this environment", body = ErrorBody),
        (status = 422, description = "Bad query", body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PageRequest>,
) -> Result<Json<WebhookDeliveryList>, ApiError> {
    let page = query.parse()?;
    let (rows, next_cursor) =
        webhooks::list_deliveries(&state.ctx, &caller.environment_id, &id, page).await?;
    Ok(Json(WebhookDeliveryList {
        data: rows.into_iter().map(WebhookDelivery::from).collect(),
        next_cursor,
    }))
}

#[cfg(test)]
mod tests {
    use super::super::users::User;
    use crate::store::UserRow;

    /// Event data shows a user exactly as `GET /v1/users/{id}` does.
    #[test]
    fn event_data_shows_users_as_the_api_does() {
        let now = time::macros::datetime!(2026-11-22 04:35:50.5 UTC);
        let row = UserRow {
            id: "usr_1".to_owned(),
            environment_id: "env_1".to_owned(),
            email: Some("ada@example.com".to_owned()),
            first_name: Some("Ada".to_owned()),
            last_name: None,
            name: Some("Ada".to_owned()),
            profile_image_url: None,
            created_via: "api".to_owned(),
            created_at: now,
            updated_at: now,
            last_sign_in_at: Some(now),
        };
        let api = serde_json::to_value(User::from(row.clone())).unwrap();
        assert_eq!(crate::domain::webhooks::user_data(&row), api);
    }
}
