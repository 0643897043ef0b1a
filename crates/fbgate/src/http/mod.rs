//! The HTTP layer: routes, extractors, the error mapping, middleware and the OpenAPI document.
//!
//! Handlers are thin: they parse input with the extractors of [`extract`] and [`auth`], call one
//! domain function, and turn its result into JSON. Everything cross-cutting (request ids, logs,
//! metrics, timeouts, body limits, JSON error bodies for answers made by middleware) is layered
//! here once.

mod account;
mod api_keys;
pub mod auth;
mod avatars;
mod checks;
mod compliance;
mod connections;
pub mod demo;
mod environments;
pub mod error;
pub mod extract;
mod health;
mod identities;
mod metrics;

pub use metrics::handle as metrics_handle;
mod native_sign_in;
mod openapi;
mod providers;
mod sessions;
mod sign_in;
mod users;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::domain::Context;
use error::ApiError;

/// What every handler can reach; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Store, vault, clock.
    pub ctx: Context,
    /// The process configuration.
    pub config: Arc<Config>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// SHA-256 of the operator token, when one is configured.
    pub admin_token_hash: Option<[u8; 32]>,
    /// The `/demo` app, served by `fbgate dev` only.
    pub demo: Option<Arc<demo::DemoSettings>>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub use crate::clock::api_time as timestamp;

/// The API routes, with their OpenAPI descriptions.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi_base())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(health::metrics))
        .routes(routes!(environments::create, environments::list))
        .routes(routes!(environments::get))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(providers::create, providers::list))
        .routes(routes!(
            providers::get,
            providers::update,
            providers::delete
        ))
        .routes(routes!(users::create, users::list))
        .routes(routes!(users::get, users::delete))
        .routes(routes!(users::create_session))
        .routes(routes!(sessions::jwt))
        .routes(routes!(sessions::revoke))
        .routes(routes!(sessions::jwks))
        .routes(routes!(identities::list_for_user))
        .routes(routes!(identities::get, identities::delete))
        .routes(routes!(account::get))
        .routes(routes!(account::link, account::unlink))
        .routes(routes!(sign_in::authorize))
        .routes(routes!(sign_in::callback))
        .routes(routes!(sign_in::exchange))
        .routes(routes!(native_sign_in::facebook_token))
        .routes(routes!(sign_in::get_credential))
        .routes(routes!(checks::check))
        .routes(routes!(connections::create_session))
        .routes(routes!(connections::list, connections::delete_tenant))
        .routes(routes!(connections::get, connections::delete))
        .routes(routes!(avatars::get))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::get, webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(compliance::deauthorize))
        .routes(routes!(compliance::data_deletion))
        .routes(routes!(compliance::status))
        .routes(routes!(compliance::list))
}

/// The OpenAPI document, as served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().split_for_parts().1
}

/// Builds the whole application router.
pub fn router(state: AppState) -> Router {
    let (api, spec) = api().split_for_parts();

    let body_limit = state.config.body_limit_bytes;
    let timeout = state.config.request_timeout;
    let demo = Router::new()
        .route("/demo", axum::routing::get(demo::start))
        .route("/demo/return", axum::routing::get(demo::finish));
    api.merge(SwaggerUi::new("/docs").url("/openapi.json", spec))
        .merge(demo)
        .fallback(|| async { ApiError::for_status(StatusCode::NOT_FOUND) })
        .method_not_allowed_fallback(|| async {
            ApiError::for_status(StatusCode::METHOD_NOT_ALLOWED)
        })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::map_response(json_error_bodies))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http().make_span_with(make_span))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
        .layer(CatchPanicLayer::custom(|_panic| {
            ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR).into_response()
        }))
        .with_state(state)
}

/// Gives answers produced outside the handlers (timeouts, body limits, unknown routes) the same
/// JSON error body as everything else. Answers that already have a body type are left alone.
async fn json_error_bodies(response: Response) -> Response {
    let status = response.status();
    let untyped = !response.headers().contains_key(header::CONTENT_TYPE)
        || response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"));
    if (status.is_client_error() || status.is_server_error()) && untyped {
        ApiError::for_status(status).into_response()
    } else {
        response
    }
}

fn make_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    // The path only, never the query: query strings can carry codes and keys.
    tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

/// Request ids: `req_` and 16 random hex digits, unless the client sent one.
#[derive(Debug, Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let mut bytes = [0u8; 8];
        rand::fill(&mut bytes);
        header::HeaderValue::from_str(&format!("req_{}", hex::encode(bytes)))
            .ok()
            .map(RequestId::new)
    }
}

/// Interval at which histogram buckets are drained even when nobody scrapes `/metrics`.
pub const METRICS_UPKEEP: Duration = Duration::from_secs(10);
