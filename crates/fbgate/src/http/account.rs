//! The Account API (`/v1/account`): a signed-in user's own account, with their session token.

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Session;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use super::identities::Identity;
use super::users::User;
use crate::domain::account;

/// A user's account.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Account {
    /// The user.
    pub user: User,
    /// Their identities.
    pub identities: Vec<Identity>,
}

/// The signed-in user and their identities.
#[utoipa::path(get, path = "/v1/account", tag = "account",
    security(("session_token" = [])),
    responses((status = 200, description = "The account", body = Account),
        (status = 401, description = "Invalid session (`invalid_session`)", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    Session(session): Session,
) -> Result<Json<Account>, ApiError> {
    let (user, identities) = account::account(&state.ctx, &session).await?;
    Ok(Json(Account {
        user: user.into(),
        identities: identities.into_iter().map(Identity::from).collect(),
    }))
}

/// Body of `POST /v1/account/identities/{slug}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartLink {
    /// Where the browser returns; must match the provider's `allowed_redirect_urls`.
    pub redirect_to: String,
}

/// Where to send the browser to link.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LinkStarted {
    /// Open this in the user's browser (single use, 10 minutes). On success the browser returns to
    /// `redirect_to` with `?linked=<slug>&identity_id=…`; on failure with `?error=…`
    /// (`identity_already_linked`, `provider_already_linked`, `access_denied`, …).
    pub authorization_url: String,
}

/// Start linking a Facebook identity to the signed-in user.
#[utoipa::path(post, path = "/v1/account/identities/{slug}", tag = "account",
    params(("slug" = String, Path, description = "Provider slug")),
    request_body = StartLink,
    security(("session_token" = [])),
    responses((status = 200, description = "The authorization URL", body = LinkStarted),
        (status = 403, description = "Provider not enabled for linking (`provider_not_enabled`)", body = ErrorBody),
        (status = 404, description = "No such provider", body = ErrorBody),
        (status = 422, description = "`redirect_to` not allowed", body = ErrorBody)))]
pub async fn link(
    State(state): State<AppState>,
    Session(session): Session,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<StartLink>,
) -> Result<Json<LinkStarted>, ApiError> {
    let url = account::start_link(&state.ctx, &session, &slug, &body.redirect_to).await?;
    Ok(Json(LinkStarted {
        authorization_url: url.to_string(),
    }))
}

/// Unlink the user's identity at a provider and destroy its stored token.
#[utoipa::path(delete, path = "/v1/account/identities/{slug}", tag = "account",
    params(("slug" = String, Path, description = "Provider slug")),
    security(("session_token" = [])),
    responses((status = 200, description = "The removed identity", body = Identity),
        (status = 404, description = "No identity at this provider", body = ErrorBody),
        (status = 409, description = "It is the user's only way to sign in (`last_identity`)", body = ErrorBody)))]
pub async fn unlink(
    State(state): State<AppState>,
    Session(session): Session,
    Path(slug): Path<String>,
) -> Result<Json<Identity>, ApiError> {
    Ok(Json(
        account::unlink(&state.ctx, &session, &slug).await?.into(),
    ))
}
