//! `POST /v1/credentials/check`: run the health check now.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::SecretKey;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use super::timestamp;
use crate::domain;
use crate::domain::credentials::health::{self, CheckResult};

/// Body of `POST /v1/credentials/check`: one credential, or all of the environment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// One credential (`crd_…`).
    pub credential_id: Option<String>,
    /// `true`: every credential of the environment.
    pub all: Option<bool>,
}

/// One credential's state after the check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckedCredential {
    /// `crd_…`
    pub credential_id: String,
    /// `active`, `expiring`, `expired`, `revoked` or `invalid`.
    pub status: String,
    /// Why, for the last three.
    pub reason: Option<String>,
    /// When Facebook was last asked about it (this check, unless it could not be asked or the
    /// status is final).
    pub checked_at: Option<String>,
}

/// The checked credentials.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CheckAnswer {
    /// One entry per credential.
    pub data: Vec<CheckedCredential>,
}

impl From<CheckResult> for CheckedCredential {
    fn from(result: CheckResult) -> Self {
        Self {
            credential_id: result.credential_id,
            status: result.status,
            reason: result.reason,
            checked_at: result.checked_at.map(timestamp),
        }
    }
}

/// Check credentials with Facebook now (`debug_token`), as the scheduled health job does.
#[utoipa::path(post, path = "/v1/credentials/check", tag = "credentials",
    request_body = CheckRequest,
    security(("secret_key" = [])),
    responses((status = 200, description = "The state of each credential after the check", body = CheckAnswer),
        (status = 404, description = "`credential_not_found`", body = ErrorBody),
        (status = 422, description = "Neither or both of `credential_id` and `all`", body = ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    SecretKey(caller): SecretKey,
    ApiJson(body): ApiJson<CheckRequest>,
) -> Result<Json<CheckAnswer>, ApiError> {
    let results = match (body.credential_id, body.all) {
        (Some(id), None | Some(false)) => {
            vec![health::check_one(&state.ctx, &caller.environment_id, &id).await?]
        }
        (None, Some(true)) => {
            health::check_all(&state.ctx, &caller.environment_id, |_, _| {}).await?
        }
        _ => {
            return Err(domain::Error::invalid(
                "credential_id",
                "give either `credential_id` or `\"all\": true`",
            )
            .into());
        }
    };
    Ok(Json(CheckAnswer {
        data: results.into_iter().map(CheckedCredential::from).collect(),
    }))
}
