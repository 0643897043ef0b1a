//! A user's Facebook identities (`/v1/users/{id}/identities`).

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

use super::AppState;
use super::auth::SecretKey;
use super::error::{ApiError, ErrorBody};
use super::timestamp;
use crate::domain::Error;
use crate::domain::identities::{self, IdentityDetails};

/// A Facebook identity of a user, with the state of its stored token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Identity {
    /// `idn_…`
    pub id: String,
    /// The user.
    pub user_id: String,
    /// The provider's slug.
    pub provider: String,
    /// Facebook's app-scoped user id.
    pub provider_user_id: String,
    /// The synced profile: Facebook's `/me` answer as last read.
    #[schema(value_type = Object)]
    pub profile: serde_json::Value,
    /// Permissions the person granted.
    pub granted_scopes: Vec<String>,
    /// Permissions the person declined.
    pub declined_scopes: Vec<String>,
    /// `active`, `expiring`, `expired`, `revoked` or `invalid`; null when no token is stored.
    pub token_status: Option<String>,
    /// Why the token is unusable, when it is.
    pub token_status_reason: Option<String>,
    /// Token expiry (null: never, or no token).
    pub expires_at: Option<String>,
    /// End of data access.
    pub data_access_expires_at: Option<String>,
    /// Last health check of the token.
    pub last_checked_at: Option<String>,
    /// When the identity was linked.
    pub linked_at: String,
    /// Last profile sync.
    pub synced_at: String,
}

fn list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl From<IdentityDetails> for Identity {
    fn from(details: IdentityDetails) -> Self {
        let IdentityDetails {
            identity,
            provider_slug,
            credential,
            token_status,
        } = details;
        let credential = credential.as_ref();
        Self {
            profile: serde_json::from_str(&identity.raw_profile).unwrap_or(serde_json::Value::Null),
            granted_scopes: list(&identity.granted_scopes),
            declined_scopes: list(&identity.declined_scopes),
            token_status_reason: credential
                .and_then(|c| c.status_reason.clone())
                .filter(|_| {
                    matches!(
                        token_status.as_deref(),
                        Some("revoked" | "invalid" | "expired")
                    )
                }),
            token_status,
            expires_at: credential.and_then(|c| c.expires_at).map(timestamp),
            data_access_expires_at: credential
                .and_then(|c| c.data_access_expires_at)
                .map(timestamp),
            last_checked_at: credential.and_then(|c| c.last_checked_at).map(timestamp),
            linked_at: timestamp(identity.linked_at),
            synced_at: timestamp(identity.synced_at),
            id: identity.id,
            user_id: identity.user_id,
            provider: provider_slug,
            provider_user_id: identity.provider_user_id,
        }
    }
}

/// A user's identities.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IdentityList {
    /// The identities.
    pub data: Vec<Identity>,
    /// Always null.
    pub next_cursor: Option<String>,
}

/// List a user's identities.
#[utoipa::path(get, path = "/v1/users/{id}/identities", tag = "users",
    params(("id" = String, Path, description = "User id")),
    security(("secret_key" = [])),
    responses((status = 200, description = "The identities", body = IdentityList),
        (status = 404, description = "No such user", body = ErrorBody)))]
pub async fn list_for_user(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(user_id): Path<String>,
) -> Result<Json<IdentityList>, ApiError> {
    let data = identities::list_for_user(&state.ctx, &caller.environment_id, &user_id).await?;
    Ok(Json(IdentityList {
        data: data.into_iter().map(Identity::from).collect(),
        next_cursor: None,
    }))
}

/// Path of one identity: `{identity}` is the provider's slug or the identity's id (`idn_…`);
/// slugs cannot contain `_`, so the two never collide.
fn is_identity_id(identity: &str) -> bool {
    identity.starts_with("idn_")
}

async fn find(
    state: &AppState,
    environment_id: &str,
    user_id: &str,
    identity: &str,
) -> Result<IdentityDetails, Error> {
    if is_identity_id(identity) {
        identities::get_by_id(&state.ctx, environment_id, user_id, identity).await
    } else {
        identities::get_for_user(&state.ctx, environment_id, user_id, identity).await
    }
}

/// A user's identity, by provider slug or identity id: synced profile, scopes, token status.
#[utoipa::path(get, path = "/v1/users/{id}/identities/{identity}", tag = "users",
    params(("id" = String, Path, description = "User id"),
        ("identity" = String, Path, description = "Provider slug (as in API.md) or identity id")),
    security(("secret_key" = [])),
    responses((status = 200, description = "The identity", body = Identity),
        (status = 404, description = "No such user, provider or identity", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path((user_id, identity)): Path<(String, String)>,
) -> Result<Json<Identity>, ApiError> {
    Ok(Json(
        find(&state, &caller.environment_id, &user_id, &identity)
            .await?
            .into(),
    ))
}

/// Remove an identity and its stored token (admin; not bound by the last-identity rule).
#[utoipa::path(delete, path = "/v1/users/{id}/identities/{identity}", tag = "users",
    params(("id" = String, Path, description = "User id"),
        ("identity" = String, Path, description = "Identity id (as in API.md) or provider slug")),
    security(("secret_key" = [])),
    responses((status = 200, description = "The removed identity", body = Identity),
        (status = 404, description = "No such identity for this user", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path((user_id, identity)): Path<(String, String)>,
) -> Result<Json<Identity>, ApiError> {
    let found = find(&state, &caller.environment_id, &user_id, &identity).await?;
    let removed = identities::delete(
        &state.ctx,
        &caller.environment_id,
        &user_id,
        &found.identity.id,
    )
    .await?;
    Ok(Json(removed.into()))
}
