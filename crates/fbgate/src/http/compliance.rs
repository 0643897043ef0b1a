//! Facebook's compliance callbacks and the public status of data-deletion requests.
//!
//! The two callbacks carry no API key: Facebook POSTs a form with a `signed_request`, which the
//! domain verifies with the provider's app secret. The status page is public too; its
//! confirmation code is the capability, and it shows the status and times only.

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::SecretKey;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use super::timestamp;
use crate::domain::compliance;
use crate::domain::pagination::PageRequest;
use crate::store::DeletionRequestRow;

/// The `signed_request` field of a form body, if present.
fn signed_request(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(name, _)| name == "signed_request")
        .map(|(_, value)| value.into_owned())
}

/// The answer to a deauthorize callback.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deauthorized {
    /// Always true: the callback was verified and handled (an unknown user changes nothing).
    pub success: bool,
}

/// Deauthorize callback: a person removed the app at Facebook. Their stored tokens for this app
/// are destroyed and their credentials marked `revoked` (`user_removed_app`).
#[utoipa::path(post, path = "/v1/facebook/{provider_id}/deauthorize", tag = "facebook-callbacks",
    params(("provider_id" = String, Path, description = "Provider id (`prv_…`)")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`signed_request=…`"),
    responses((status = 200, description = "Handled (also for an unknown user, and on repeats)", body = Deauthorized),
        (status = 400, description = "Unknown provider, missing or bad signature, wrong algorithm, stale `issued_at`", body = ErrorBody)))]
pub async fn deauthorize(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    body: Bytes,
) -> Result<Json<Deauthorized>, ApiError> {
    let signed_request = signed_request(&body);
    compliance::deauthorize(&state.ctx, &provider_id, signed_request.as_deref()).await?;
    Ok(Json(Deauthorized { success: true }))
}

/// What Facebook shows the person after a data-deletion request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletionRequested {
    /// The status page: `{public}/v1/data-deletion/{confirmation_code}`.
    pub url: String,
    /// 20 letters and digits.
    pub confirmation_code: String,
}

/// Data-deletion callback: records the request and answers at once; a background job deletes
/// everything fbgate holds from Facebook for that person.
#[utoipa::path(post, path = "/v1/facebook/{provider_id}/data-deletion", tag = "facebook-callbacks",
    params(("provider_id" = String, Path, description = "Provider id (`prv_…`)")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`signed_request=…`"),
    responses((status = 200, description = "Request recorded", body = DeletionRequested),
        (status = 400, description = "Unknown provider, missing or bad signature, wrong algorithm, stale `issued_at`", body = ErrorBody)))]
pub async fn data_deletion(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    body: Bytes,
) -> Result<Json<DeletionRequested>, ApiError> {
    let signed_request = signed_request(&body);
    let request =
        compliance::request_deletion(&state.ctx, &provider_id, signed_request.as_deref()).await?;
    Ok(Json(DeletionRequested {
        url: compliance::status_url(&state.ctx, &request.confirmation_code),
        confirmation_code: request.confirmation_code,
    }))
}

/// The status of a data-deletion request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletionStatus {
    /// The confirmation code.
    pub confirmation_code: String,
    /// `pending` or `completed`.
    pub status: String,
    /// When Facebook's request arrived.
    pub requested_at: String,
    /// When the deletion completed, or null.
    pub completed_at: Option<String>,
}

impl From<DeletionRequestRow> for DeletionStatus {
    fn from(row: DeletionRequestRow) -> Self {
        Self {
            confirmation_code: row.confirmation_code,
            status: row.status,
            requested_at: timestamp(row.requested_at),
            completed_at: row.completed_at.map(timestamp),
        }
    }
}

#[derive(Template)]
#[template(path = "data_deletion_status.html")]
struct StatusPage<'a> {
    confirmation_code: &'a str,
    status: &'a str,
    completed: bool,
    requested_at: &'a str,
    completed_at: &'a str,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}

/// The status page of a data-deletion request: HTML for people, JSON with
/// `Accept: application/json`. Shows the status and times, nothing else.
#[utoipa::path(get, path = "/v1/data-deletion/{confirmation_code}", tag = "facebook-callbacks",
    params(("confirmation_code" = String, Path, description = "The code Facebook showed the person")),
    responses((status = 200, description = "The status (HTML, or JSON when asked for)", body = DeletionStatus),
        (status = 404, description = "`deletion_request_not_found`", body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let status = DeletionStatus::from(compliance::status(&state.ctx, &code).await?);
    let mut response = if wants_json(&headers) {
        Json(status).into_response()
    } else {
        let page = StatusPage {
            confirmation_code: &status.confirmation_code,
            status: &status.status,
            completed: status.status == "completed",
            requested_at: &status.requested_at,
            completed_at: status.completed_at.as_deref().unwrap_or("not yet"),
        };
        let html = page
            .render()
            .map_err(|e| crate::domain::Error::Internal(format!("status page: {e}")))?;
        Html(html).into_response()
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(response)
}

/// Query of `GET /v1/data-deletion-requests`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListDeletionRequests {
    /// `pending` or `completed`; absent: both.
    pub status: Option<String>,
    /// Cursor from a previous page.
    pub cursor: Option<String>,
    /// Page size, 1–100.
    pub limit: Option<u32>,
}

/// A page of data-deletion requests.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeletionRequestList {
    /// The requests, oldest first.
    pub data: Vec<DeletionStatus>,
    /// Cursor of the next page, or null.
    pub next_cursor: Option<String>,
}

/// The environment's data-deletion requests, for operators (`?status=pending` shows those not
/// carried out yet).
#[utoipa::path(get, path = "/v1/data-deletion-requests", tag = "facebook-callbacks",
    params(ListDeletionRequests),
    security(("secret_key" = [])),
    responses((status = 200, description = "A page of requests", body = DeletionRequestList),
        (status = 422, description = "Bad query", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiQuery(query): ApiQuery<ListDeletionRequests>,
) -> Result<Json<DeletionRequestList>, ApiError> {
    let page = PageRequest {
        cursor: query.cursor,
        limit: query.limit,
    }
    .parse()?;
    let (rows, next_cursor) = compliance::list(
        &state.ctx,
        &caller.environment_id,
        query.status.as_deref(),
        page,
    )
    .await?;
    Ok(Json(DeletionRequestList {
        data: rows.into_iter().map(DeletionStatus::from).collect(),
        next_cursor,
    }))
}
