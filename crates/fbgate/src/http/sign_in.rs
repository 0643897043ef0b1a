//! Sign-in with Facebook in the browser, and the backend's side of it.
//!
//! `authorize` and `callback` face a browser: failures with a validated `redirect_to` go back to
//! the app as `?error=<code>&error_description=…`; failures without one render fbgate's own HTML
//! page, which shows the code and never links anywhere.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::SecretKey;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use super::identities::Identity;
use super::sessions::SessionCreated;
use super::users::User;
use crate::domain;
use crate::domain::flows::sign_in;
use crate::domain::flows::{
    self, CallbackParams, FlowErrorCode, FlowFailure, FlowKind, StartRequest,
};
use crate::domain::{account, api_keys};
use crate::store::ApiKeyKind;

#[derive(Template)]
#[template(path = "flow_error.html")]
struct FlowErrorPage<'a> {
    code: &'a str,
    description: &'a str,
}

/// A 302 Found, what OAuth redirects use (axum's `Redirect` offers 303 and 307).
fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => error_page(
            StatusCode::BAD_GATEWAY,
            "invalid_redirect",
            "The return address could not be used.",
        ),
    }
}

/// fbgate's own error page for browser flows.
fn error_page(status: StatusCode, code: &str, description: &str) -> Response {
    let html = FlowErrorPage { code, description }
        .render()
        .unwrap_or_else(|_| format!("sign-in failed: {code}"));
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Query of the authorize endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeQuery {
    /// The environment's publishable key (or send `Fbgate-Publishable-Key`).
    pub publishable_key: Option<String>,
    /// Where to return; must match the provider's `allowed_redirect_urls`.
    pub redirect_to: Option<String>,
    /// Instead of a key and `redirect_to`: the ticket of an authorization URL made by
    /// `POST /v1/account/identities/{slug}` (links an identity to a signed-in user).
    pub link_ticket: Option<String>,
    /// Instead of a key and `redirect_to`: the token of a connect session's authorization URL
    /// (`POST /v1/connect-sessions`).
    pub connect_token: Option<String>,
    /// Comma-separated permissions replacing the provider's (`public_profile` is always added).
    pub scopes: Option<String>,
    /// `true` asks Facebook to show declined permissions again.
    pub rerequest: Option<bool>,
}

/// Start signing in with Facebook: 302 to Facebook's login dialog.
#[utoipa::path(get, path = "/v1/oauth/{slug}/authorize", tag = "sign-in",
    params(("slug" = String, Path, description = "Provider slug"), AuthorizeQuery),
    responses((status = 302, description = "To Facebook's login dialog, with the browser-binding cookie set"),
        (status = 400, description = "HTML error page: bad key, unknown provider, disallowed redirect_to", content_type = "text/html")))]
pub async fn authorize(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<ApiQuery<AuthorizeQuery>, ApiError>,
) -> Response {
    let ApiQuery(query) = match query {
        Ok(query) => query,
        Err(_) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The sign-in link is missing `redirect_to` or has unknown parameters.",
            );
        }
    };
    let started = match (&query.link_ticket, &query.connect_token, &query.redirect_to) {
        (Some(ticket), _, _) => account::begin_link(&state.ctx, &slug, ticket).await,
        (None, Some(token), _) => domain::connections::begin(&state.ctx, &slug, token).await,
        (None, None, Some(redirect_to)) => {
            let key = query.publishable_key.as_deref().or_else(|| {
                headers
                    .get("fbgate-publishable-key")
                    .and_then(|v| v.to_str().ok())
            });
            let environment_id = match publishable_key_environment(&state, key).await {
                Ok(environment_id) => environment_id,
                Err(page) => return page,
            };
            let request = StartRequest {
                provider_slug: &slug,
                redirect_to,
                scopes: query.scopes.as_deref(),
                rerequest: query.rerequest.unwrap_or(false),
                kind: FlowKind::SignIn,
            };
            flows::start(&state.ctx, &environment_id, request).await
        }
        (None, None, None) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The sign-in link has no `redirect_to`.",
            );
        }
    };
    match started {
        Ok(started) => {
            let secure = if state.config.public_url.scheme() == "https" {
                "; Secure"
            } else {
                ""
            };
            let cookie = format!(
                "{}={}; Max-Age={}; Path=/v1/oauth-callback/{slug}; HttpOnly; SameSite=Lax{secure}",
                started.cookie.name,
                started.cookie.value,
                started.cookie.max_age.as_secs()
            );
            let mut response = found(started.dialog_url.as_str());
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            let api = ApiError::from(error);
            error_page(api.status(), api.code(), api.message())
        }
    }
}

/// The environment of the publishable key a browser brought, or the error page to show.
async fn publishable_key_environment(
    state: &AppState,
    key: Option<&str>,
) -> Result<String, Response> {
    let Some(key) = key else {
        return Err(error_page(
            StatusCode::UNAUTHORIZED,
            "missing_credentials",
            "The sign-in link has no publishable key.",
        ));
    };
    match api_keys::authenticate(&state.ctx, key).await {
        Ok(key) if key.kind == ApiKeyKind::Publishable => Ok(key.environment_id),
        Ok(_) => Err(error_page(
            StatusCode::FORBIDDEN,
            "publishable_key_required",
            "Sign-in links take a publishable key (pk_…), never a secret key.",
        )),
        Err(_) => Err(error_page(
            StatusCode::UNAUTHORIZED,
            "invalid_api_key",
            "The sign-in link's publishable key is not valid.",
        )),
    }
}

/// Query of the callback: what Facebook appends (other parameters, such as `granted_scopes`,
/// are ignored: permissions are read from `/me/permissions`).
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_reason: Option<String>,
    error_description: Option<String>,
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Facebook returns here after the dialog (register this URL in Meta's dashboard).
#[utoipa::path(get, path = "/v1/oauth-callback/{slug}", tag = "sign-in",
    params(("slug" = String, Path, description = "Provider slug")),
    responses((status = 302, description = "To the app's redirect_to, with `code` or with `error` and `error_description`"),
        (status = 400, description = "HTML error page: unknown state, or another browser", content_type = "text/html")))]
pub async fn callback(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    query: Result<ApiQuery<CallbackQuery>, ApiError>,
) -> Response {
    let Ok(ApiQuery(query)) = query else {
        return failure_response(&FlowFailure::page(FlowErrorCode::InvalidState));
    };
    let params = CallbackParams {
        state: query.state,
        code: query.code,
        error: query.error,
        error_reason: query.error_reason,
        error_description: query.error_description,
    };
    let cookie_name = params.state.as_deref().map(flows::cookie_name_for_state);
    let binding = cookie_name
        .as_deref()
        .and_then(|name| cookie(&headers, name));
    let result = match flows::resume(&state.ctx, &slug, params, binding).await {
        Ok(resumed) => sign_in::complete(&state.ctx, resumed).await,
        Err(failure) => Err(failure),
    };
    let mut response = match result {
        Ok(url) => found(url.as_str()),
        Err(failure) => failure_response(&failure),
    };
    if let Some(name) = cookie_name
        && let Ok(value) = HeaderValue::from_str(&format!(
            "{name}=; Max-Age=0; Path=/v1/oauth-callback/{slug}; HttpOnly; SameSite=Lax"
        ))
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn failure_response(failure: &FlowFailure) -> Response {
    tracing::info!(
        code = failure.code.as_str(),
        detail = failure.detail.as_deref().unwrap_or("-"),
        "browser flow failed"
    );
    match failure.redirect_url() {
        Some(url) => found(url.as_str()),
        None => {
            let status = if failure.code == FlowErrorCode::InvalidState {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::BAD_GATEWAY
            };
            error_page(status, failure.code.as_str(), failure.code.description())
        }
    }
}

/// Body of `POST /v1/sign-ins/exchange`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeSignIn {
    /// The `code` the browser brought back to `redirect_to`.
    pub code: String,
}

/// A completed sign-in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SignIn {
    /// The user.
    pub user: User,
    /// The Facebook identity used.
    pub identity: Identity,
    /// True when this sign-in created the user.
    pub is_new_user: bool,
    /// The new session.
    #[serde(flatten)]
    pub session: SessionCreated,
}

/// Trade the one-time code (once, within 60 s) for the user and a session.
#[utoipa::path(post, path = "/v1/sign-ins/exchange", tag = "sign-in",
    request_body = ExchangeSignIn,
    security(("secret_key" = [])),
    responses((status = 200, description = "The user, identity and a new session", body = SignIn),
        (status = 422, description = "Unknown, used or expired code (`invalid_sign_in_code`)", body = ErrorBody)))]
pub async fn exchange(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiJson(body): ApiJson<ExchangeSignIn>,
) -> Result<Json<SignIn>, ApiError> {
    let done = sign_in::exchange_code(&state.ctx, &caller.environment_id, &body.code).await?;
    Ok(Json(SignIn {
        user: done.user.into(),
        identity: done.identity.into(),
        is_new_user: done.is_new_user,
        session: done.session.into(),
    }))
}

/// Body of `POST /v1/credentials/get`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GetCredential {
    /// Provider slug.
    pub provider: String,
    /// Your tenant, for credentials of your own tenants' users and installations.
    pub tenant_id: Option<String>,
    /// The fbgate user id (no `tenant_id`), or your user id within `tenant_id`.
    pub user_id: Option<String>,
    /// `user`, `installation` or `page`.
    pub credential_for: String,
    /// For `page`.
    pub page_id: Option<String>,
}

/// A credential for a backend.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialAnswer {
    /// The credential.
    pub credential: Credential,
}

/// A usable Facebook credential.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Credential {
    /// `crd_…`
    pub id: String,
    /// The token.
    pub access_token: String,
    /// `user`, `page` or `system_user`.
    pub token_type: String,
    /// Expiry, or null when it never expires.
    pub expires_at: Option<String>,
    /// End of data access, if known.
    pub data_access_expires_at: Option<String>,
    /// Granted permissions.
    pub scopes: Vec<String>,
    /// `active` or `expiring`.
    pub status: String,
}

/// Fetch a valid Facebook credential in one call, or a precise reason why not.
#[utoipa::path(post, path = "/v1/credentials/get", tag = "credentials",
    request_body = GetCredential,
    security(("secret_key" = [])),
    responses((status = 200, description = "The credential", body = CredentialAnswer),
        (status = 404, description = "`credential_not_found` or `provider_not_found`", body = ErrorBody),
        (status = 409, description = "`credential_revoked`, `credential_expired` or `credential_invalid`, with `reason` and `reconnect`", body = ErrorBody)))]
pub async fn get_credential(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiJson(body): ApiJson<GetCredential>,
) -> Result<Json<CredentialAnswer>, ApiError> {
    let address = domain::credentials::Address::from_request(
        &body.credential_for,
        body.tenant_id.as_deref(),
        body.user_id.as_deref(),
        body.page_id.as_deref(),
    )?;
    let credential =
        domain::credentials::get(&state.ctx, &caller.environment_id, &body.provider, &address)
            .await?;
    Ok(Json(CredentialAnswer {
        credential: Credential {
            access_token: credential.access_token.expose().clone(),
            token_type: credential.row.token_type,
            expires_at: credential.row.expires_at.map(super::timestamp),
            data_access_expires_at: credential.row.data_access_expires_at.map(super::timestamp),
            scopes: serde_json::from_str(&credential.row.scopes).unwrap_or_default(),
            status: credential.status,
            id: credential.row.id,
        },
    }))
}
