//! `POST /v1/sign-ins/facebook-token`: native sign-in for mobile apps.
//!
//! The app sends what Facebook's SDK gave it, with the environment's publishable key (the only
//! key a mobile app may ship; a secret key is accepted too, since it may do everything, for
//! backends that relay the token). Unlike the browser flow, every failure is a JSON answer:
//! there is no browser to redirect. The one mapping from the flow's error codes to statuses for
//! this endpoint is [`refusal`].

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use fbgate_facebook::{AccessToken, IdToken};
use serde::Deserialize;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use super::sign_in::SignIn;
use crate::domain::api_keys::{self, AuthenticatedKey};
use crate::domain::flows::FlowErrorCode;
use crate::domain::flows::native::{self, NativeCredential, NativeSignInError};

/// The caller's key: publishable (`publishable_key` query parameter, `Fbgate-Publishable-Key`
/// header or `Authorization: Bearer pk_…`) or secret (`Authorization: Bearer sk_…`).
#[derive(Debug, Clone)]
pub struct AppKey(pub AuthenticatedKey);

fn presented_key(parts: &Parts) -> Option<String> {
    let from_query = parts.uri.query().and_then(|query| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "publishable_key")
            .map(|(_, value)| value.into_owned())
    });
    let from_header = || {
        parts
            .headers
            .get("fbgate-publishable-key")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    };
    let from_bearer = || {
        parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim().to_owned())
    };
    from_query
        .or_else(from_header)
        .or_else(from_bearer)
        .filter(|key| !key.is_empty())
}

impl FromRequestParts<AppState> for AppKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_credentials",
                "send the publishable key as `Fbgate-Publishable-Key` or `?publishable_key=`",
            )
        })?;
        Ok(AppKey(api_keys::authenticate(&state.ctx, &key).await?))
    }
}

/// Body of `POST /v1/sign-ins/facebook-token`: `access_token`, or `id_token` with `nonce`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacebookTokenSignIn {
    /// Provider slug; default `facebook`.
    pub provider: Option<String>,
    /// A user access token from Facebook's Android or iOS SDK.
    #[schema(value_type = Option<String>)]
    pub access_token: Option<AccessToken>,
    /// A Limited Login authentication token (iOS), an RS256 JWT.
    #[schema(value_type = Option<String>)]
    pub id_token: Option<IdToken>,
    /// The nonce the app passed to the SDK for this Limited Login; required with `id_token`.
    pub nonce: Option<String>,
}

fn invalid_body(field: &str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message).with_field(field)
}

impl FacebookTokenSignIn {
    /// Exactly one of the two forms, with no empty values.
    fn credential(self) -> Result<NativeCredential, ApiError> {
        let present = |value: &str| !value.trim().is_empty();
        match (self.access_token, self.id_token, self.nonce) {
            (Some(_), Some(_), _) => Err(invalid_body(
                "id_token",
                "send either `access_token` or `id_token` with `nonce`, not both",
            )),
            (Some(_), None, Some(_)) => Err(invalid_body(
                "nonce",
                "`nonce` goes with `id_token` (Limited Login), not with `access_token`",
            )),
            (Some(token), None, None) if present(token.expose()) => {
                Ok(NativeCredential::AccessToken(token))
            }
            (Some(_), None, None) => Err(invalid_body("access_token", "`access_token` is empty")),
            (None, Some(token), nonce) => {
                if !present(token.expose()) {
                    return Err(invalid_body("id_token", "`id_token` is empty"));
                }
                match nonce {
                    Some(nonce) if present(&nonce) => Ok(NativeCredential::LimitedLogin {
                        id_token: token,
                        nonce,
                    }),
                    _ => Err(invalid_body(
                        "nonce",
                        "`nonce` is required with `id_token`: the nonce your app passed to the SDK",
                    )),
                }
            }
            (None, None, _) => Err(invalid_body(
                "access_token",
                "send `access_token`, or `id_token` with `nonce`",
            )),
        }
    }
}

/// The status of each flow error this endpoint can answer.
fn refusal(code: FlowErrorCode, message: String) -> ApiError {
    let status = match code {
        FlowErrorCode::SignUpNotAllowed
        | FlowErrorCode::IdentityAlreadyLinked
        | FlowErrorCode::ProviderAlreadyLinked => StatusCode::CONFLICT,
        FlowErrorCode::FacebookUnavailable | FlowErrorCode::TokenExchangeFailed => {
            StatusCode::BAD_GATEWAY
        }
        FlowErrorCode::TokenNotForThisApp
        | FlowErrorCode::OauthNoEmailReturned
        | FlowErrorCode::MissingPermissions => StatusCode::UNPROCESSABLE_ENTITY,
        // Browser-only codes; not produced here.
        FlowErrorCode::AccessDenied
        | FlowErrorCode::InvalidState
        | FlowErrorCode::StateExpired
        | FlowErrorCode::StateAlreadyUsed
        | FlowErrorCode::InvalidConfigId => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, code.as_str(), message)
}

/// Sign in with a token from Facebook's mobile SDK; answers like `POST /v1/sign-ins/exchange`.
/// Mobile apps must ship only the publishable key.
#[utoipa::path(post, path = "/v1/sign-ins/facebook-token", tag = "sign-in",
    request_body = FacebookTokenSignIn,
    params(("publishable_key" = Option<String>, Query, description = "The publishable key (or send `Fbgate-Publishable-Key`)")),
    responses((status = 200, description = "The user, identity and a new session", body = SignIn),
        (status = 401, description = "`missing_credentials` or `invalid_api_key`", body = ErrorBody),
        (status = 403, description = "`provider_not_enabled` (not enabled for sign_in)", body = ErrorBody),
        (status = 404, description = "`provider_not_found`", body = ErrorBody),
        (status = 409, description = "`sign_up_not_allowed`", body = ErrorBody),
        (status = 422, description = "`invalid_body` (neither or both forms, missing nonce), `token_not_for_this_app` (another app's, invalid, expired or tampered token; the message names the failed check), `oauth_no_email_returned`", body = ErrorBody),
        (status = 502, description = "`facebook_unavailable`", body = ErrorBody)))]
pub async fn facebook_token(
    State(state): State<AppState>,
    AppKey(caller): AppKey,
    ApiJson(body): ApiJson<FacebookTokenSignIn>,
) -> Result<Json<SignIn>, ApiError> {
    let provider = body
        .provider
        .clone()
        .unwrap_or_else(|| "facebook".to_owned());
    let credential = body.credential()?;
    let done = native::sign_in(&state.ctx, &caller.environment_id, &provider, credential)
        .await
        .map_err(|error| match error {
            NativeSignInError::Refused { code, message } => refusal(code, message),
            NativeSignInError::Domain(error) => error.into(),
        })?;
    Ok(Json(SignIn {
        user: done.user.into(),
        identity: done.identity.into(),
        is_new_user: done.is_new_user,
        session: done.session.into(),
    }))
}
