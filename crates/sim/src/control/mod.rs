//! The control API under `/_sim/`: JSON in, JSON out. It registers apps and test users and
//! plays the parts Facebook and its users play (time passing, revocations, app removal).
//!
//! Errors are `{"error": "<message>"}` with 400 (bad input), 404 (unknown id) or 409 (id
//! taken). Nothing here is authenticated: the emulator is a local test tool.

mod actions;
mod apps;
mod users;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use serde_json::json;

use crate::state::Sim;

/// A control-API failure.
#[derive(Debug)]
pub(crate) struct ControlError(StatusCode, String);

impl ControlError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self(StatusCode::CONFLICT, message.into())
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

pub(crate) type ControlResult = Result<Response, ControlError>;

/// The `/_sim/` routes.
pub(crate) fn routes() -> Router<Sim> {
    Router::new()
        .route("/_sim/apps", post(apps::create).get(apps::list))
        .route("/_sim/apps/{app_id}", get(apps::show).patch(apps::update))
        .route(
            "/_sim/apps/{app_id}/auto-consent",
            post(apps::set_auto_consent).delete(apps::clear_auto_consent),
        )
        .route("/_sim/users", post(users::create).get(users::list))
        .route("/_sim/users/{user_id}", get(users::show))
        .route("/_sim/pictures/{user_id}", get(users::picture))
        .route("/_sim/tokens", post(actions::mint_token))
        .route("/_sim/tokens/revoke", post(actions::revoke_token))
        .route("/_sim/tokens/expire", post(actions::expire_token))
        .route("/_sim/clock", get(actions::clock))
        .route("/_sim/clock/advance", post(actions::advance_clock))
        .route(
            "/_sim/faults",
            post(actions::set_faults)
                .get(actions::show_faults)
                .delete(actions::clear_faults),
        )
        .route(
            "/_sim/apps/{app_id}/users/{user_id}/remove",
            post(actions::remove_app),
        )
        .route(
            "/_sim/apps/{app_id}/businesses/{business_id}/remove",
            post(actions::remove_business_app),
        )
        .route(
            "/_sim/apps/{app_id}/users/{user_id}/data-deletion",
            post(actions::data_deletion),
        )
        .route(
            "/_sim/apps/{app_id}/users/{user_id}/expire-data-access",
            post(actions::expire_data_access),
        )
        .route(
            "/_sim/apps/{app_id}/users/{user_id}/permissions/{permission}",
            delete(actions::revoke_permission),
        )
        .route("/_sim/limited-login", post(actions::limited_login))
        .route("/_sim/reset", post(actions::reset))
        .route(
            "/_sim/requests",
            get(actions::requests).delete(actions::clear_requests),
        )
        .route("/_sim/openapi.json", get(crate::openapi::document))
        .route("/_sim/{*rest}", any(unknown_call))
}

/// Any other `/_sim/` path: a JSON 404 rather than a Graph error.
async fn unknown_call() -> ControlError {
    ControlError::not_found("no such control call; see GET /_sim/openapi.json")
}

pub(crate) fn created(body: serde_json::Value) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

pub(crate) fn ok(body: serde_json::Value) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}
