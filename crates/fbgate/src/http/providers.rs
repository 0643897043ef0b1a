//! `/v1/oauth-providers`: an environment's Facebook apps, managed with its secret key.
//!
//! Answers carry every setting except the client secret (only `client_secret_set: true`), plus
//! the three URLs to paste into Meta's dashboard, built from `FBGATE_PUBLIC_URL`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;

use super::AppState;
use super::auth::SecretKey;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery};
use super::timestamp;
use crate::domain::pagination::PageRequest;
use crate::domain::providers::{
    self, LoginProduct, Provider, ProviderInput, ProviderKey, ProviderKind, ProviderUse,
    SyncProfile, TokenType,
};

/// An OAuth provider, without its client secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthProvider {
    /// `prv_…`
    pub id: String,
    /// `preset`.
    pub provider_kind: ProviderKind,
    /// `facebook`.
    pub provider_key: ProviderKey,
    /// Unique per environment; names the provider in sign-in URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The Facebook app id.
    pub client_id: String,
    /// Always true: the secret is stored encrypted and never shown.
    pub client_secret_set: bool,
    /// Permissions asked for; always includes `public_profile`.
    pub scopes: Vec<String>,
    /// `facebook_login` or `facebook_login_for_business`.
    pub login_product: LoginProduct,
    /// Login for Business configuration id.
    pub config_id: Option<String>,
    /// `user` or `system_user`.
    pub token_type: TokenType,
    /// Attribute → dot-path into `/me`: the defaults with the provider's own entries laid over.
    pub attribute_mapping: BTreeMap<String, String>,
    /// Whether unknown Facebook users may sign up.
    pub allow_sign_up: bool,
    /// `every_sign_in` or `sign_up_only`.
    pub sync_profile: SyncProfile,
    /// Whether a sign-in that yields no email is refused (`oauth_no_email_returned`).
    pub email_required: bool,
    /// Whether unlinking an identity revokes the app's permissions at Facebook.
    pub revoke_on_unlink: bool,
    /// Whether a Facebook data-deletion request also deletes a user that a Facebook sign-in
    /// created and that has no other identity (otherwise it is kept, stripped of Facebook's data).
    pub delete_user_on_data_deletion: bool,
    /// What the provider may be used for.
    pub enabled_for: Vec<ProviderUse>,
    /// Where sign-ins may return to.
    pub allowed_redirect_urls: Vec<String>,
    /// Graph API version.
    #[schema(example = "v25.0")]
    pub graph_api_version: String,
    /// Origin of the login dialog; null = the real Facebook.
    pub facebook_base_url: Option<String>,
    /// Origin of the Graph API; null = the real Facebook.
    pub graph_base_url: Option<String>,
    /// "Valid OAuth Redirect URI" in Meta's dashboard: `{public}/v1/oauth-callback/{slug}`.
    pub redirect_uri: String,
    /// "Deauthorize callback URL" in Meta's dashboard.
    pub deauthorize_callback_url: String,
    /// "Data deletion request URL" in Meta's dashboard.
    pub data_deletion_callback_url: String,
    /// Creation time.
    pub created_at: String,
    /// Time of the last change.
    pub updated_at: String,
}

impl OAuthProvider {
    fn new(provider: Provider, public_base: &str) -> Self {
        let s = provider.settings;
        Self {
            redirect_uri: format!("{public_base}/v1/oauth-callback/{}", s.slug),
            deauthorize_callback_url: format!(
                "{public_base}/v1/facebook/{}/deauthorize",
                provider.id
            ),
            data_deletion_callback_url: format!(
                "{public_base}/v1/facebook/{}/data-deletion",
                provider.id
            ),
            id: provider.id,
            provider_kind: s.provider_kind,
            provider_key: s.provider_key,
            slug: s.slug.as_str().to_owned(),
            name: s.name.as_str().to_owned(),
            client_id: s.client_id.as_str().to_owned(),
            client_secret_set: true,
            scopes: s.scopes.as_slice().to_vec(),
            login_product: s.login_product,
            config_id: s.config_id.map(|c| c.as_str().to_owned()),
            token_type: s.token_type,
            attribute_mapping: s.attribute_mapping.entries(),
            allow_sign_up: s.allow_sign_up,
            sync_profile: s.sync_profile,
            email_required: s.email_required,
            revoke_on_unlink: s.revoke_on_unlink,
            delete_user_on_data_deletion: s.delete_user_on_data_deletion,
            enabled_for: s.enabled_for.uses().to_vec(),
            allowed_redirect_urls: s.allowed_redirect_urls.to_strings(),
            graph_api_version: s.graph_api_version.as_str().to_owned(),
            facebook_base_url: s.facebook_base_url.map(|u| u.as_str().to_owned()),
            graph_base_url: s.graph_base_url.map(|u| u.as_str().to_owned()),
            created_at: timestamp(provider.created_at),
            updated_at: timestamp(provider.updated_at),
        }
    }
}

/// A page of providers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthProviderList {
    /// The providers, in creation order.
    pub data: Vec<OAuthProvider>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Create a provider. `client_secret` is stored encrypted and never shown again.
#[utoipa::path(post, path = "/v1/oauth-providers", tag = "oauth providers",
    request_body = ProviderInput,
    security(("secret_key" = [])),
    responses(
        (status = 201, description = "Created", body = OAuthProvider),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Publishable key used", body = ErrorBody),
        (status = 409, description = "Slug taken in this environment (`provider_slug_taken`)", body = ErrorBody),
        (status = 422, description = "Invalid field, named in `error.field`", body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiJson(body): ApiJson<ProviderInput>,
) -> Result<(StatusCode, Json<OAuthProvider>), ApiError> {
    let provider = providers::create(&state.ctx, &caller.environment_id, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(OAuthProvider::new(provider, state.config.public_base())),
    ))
}

/// List the environment's providers, in creation order.
#[utoipa::path(get, path = "/v1/oauth-providers", tag = "oauth providers",
    params(PageRequest),
    security(("secret_key" = [])),
    responses(
        (status = 200, description = "A page of providers", body = OAuthProviderList),
        (status = 401, description = "Missing or invalid key", body = ErrorBody),
        (status = 403, description = "Publishable key used", body = ErrorBody),
        (status = 422, description = "Bad `limit`", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> Result<Json<OAuthProviderList>, ApiError> {
    let (rows, next_cursor) =
        providers::list(&state.ctx, &caller.environment_id, page.parse()?).await?;
    let public_base = state.config.public_base();
    Ok(Json(OAuthProviderList {
        data: rows
            .into_iter()
            .map(|p| OAuthProvider::new(p, public_base))
            .collect(),
        next_cursor,
    }))
}

/// Read one provider of this environment.
#[utoipa::path(get, path = "/v1/oauth-providers/{id}", tag = "oauth providers",
    params(("id" = String, Path, description = "Provider id")),
    security(("secret_key" = [])),
    responses(
        (status = 200, description = "The provider", body = OAuthProvider),
        (status = 404, description = "No such provider in this environment (`provider_not_found`)", body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
) -> Result<Json<OAuthProvider>, ApiError> {
    let provider = providers::get(&state.ctx, &caller.environment_id, &id).await?;
    Ok(Json(OAuthProvider::new(
        provider,
        state.config.public_base(),
    )))
}

/// Change a provider. Every field is optional; `null` sets a field back to its default (for
/// `config_id` and the base URLs: none). The result is checked as a whole, as on creation. A new
/// `client_secret` replaces the stored one.
#[utoipa::path(patch, path = "/v1/oauth-providers/{id}", tag = "oauth providers",
    params(("id" = String, Path, description = "Provider id")),
    request_body = ProviderInput,
    security(("secret_key" = [])),
    responses(
        (status = 200, description = "The changed provider", body = OAuthProvider),
        (status = 404, description = "No such provider in this environment (`provider_not_found`)", body = ErrorBody),
        (status = 409, description = "Slug taken in this environment (`provider_slug_taken`)", body = ErrorBody),
        (status = 422, description = "Invalid field, named in `error.field`", body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ProviderInput>,
) -> Result<Json<OAuthProvider>, ApiError> {
    let provider = providers::update(&state.ctx, &caller.environment_id, &id, body).await?;
    Ok(Json(OAuthProvider::new(
        provider,
        state.config.public_base(),
    )))
}

/// Delete a provider; answers with what it was.
#[utoipa::path(delete, path = "/v1/oauth-providers/{id}", tag = "oauth providers",
    params(("id" = String, Path, description = "Provider id")),
    security(("secret_key" = [])),
    responses(
        (status = 200, description = "The deleted provider", body = OAuthProvider),
        (status = 404, description = "No such provider in this environment (`provider_not_found`)", body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    Path(id): Path<String>,
) -> Result<Json<OAuthProvider>, ApiError> {
    let provider = providers::delete(&state.ctx, &caller.environment_id, &id).await?;
    Ok(Json(OAuthProvider::new(
        provider,
        state.config.public_base(),
    )))
}
