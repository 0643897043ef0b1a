//! The SDK's one error type, and the turning of fbgate's error JSON into it.
//!
//! An answer that is not 2xx becomes [`Error::Api`] with everything fbgate said (`code`,
//! `reason`, `reconnect`), so callers branch on stable codes rather than on messages. A session
//! JWT that fails verification is [`Error::InvalidSessionJwt`], kept apart from transport and API
//! failures: a bad token is the caller's "401", an unreachable fbgate is the caller's "503".

use serde::Deserialize;

use crate::session_jwt::JwtError;

/// Errors of the SDK.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The base URL is not an absolute http(s) URL.
    #[error("invalid base URL: {0}")]
    InvalidBaseUrl(String),
    /// fbgate answered with its error JSON (or, rarely, a non-2xx answer without it, reported with
    /// the code `unexpected_answer`).
    #[error("fbgate answered {status}: {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The stable error code, such as `credential_not_found`.
        code: String,
        /// Human-readable explanation; may change between versions.
        message: String,
        /// The input field at fault, if any.
        field: Option<String>,
        /// For an unusable credential: why, such as `user_removed_app` or `session_expired`.
        reason: Option<String>,
        /// For an unusable credential: a new sign-in or connect flow is the remedy.
        reconnect: bool,
    },
    /// fbgate could not be reached, or answered something that is not its API.
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),
    /// A session JWT failed verification: it is malformed, forged, expired or meant for another
    /// issuer or environment. Treat the caller as not signed in.
    #[error("invalid session JWT: {0}")]
    InvalidSessionJwt(#[from] JwtError),
}

impl Error {
    /// The HTTP status of an [`Error::Api`].
    ///
    /// ```
    /// # use fbgate_client::Error;
    /// fn is_conflict(error: &Error) -> bool {
    ///     error.status() == Some(409)
    /// }
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The stable error code of an [`Error::Api`], such as `credential_not_found` or
    /// `credential_revoked`.
    ///
    /// ```
    /// # use fbgate_client::Error;
    /// fn nothing_stored(error: &Error) -> bool {
    ///     error.code() == Some("credential_not_found")
    /// }
    /// ```
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Why a credential is unusable (`user_removed_app`, `password_changed`, `session_expired`,
    /// `data_access_expired`, `checkpoint`, `unconfirmed_user`, `invalid_token`), when fbgate said.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Api { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }

    /// True when fbgate says the remedy is a new sign-in or connect flow for this person or
    /// tenant (every `credential_revoked`, `credential_expired` and `credential_invalid`).
    ///
    /// ```
    /// # use fbgate_client::Error;
    /// fn ask_to_reconnect(error: &Error) -> bool {
    ///     error.needs_reconnect()
    /// }
    /// ```
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            Self::Api {
                reconnect: true,
                ..
            }
        )
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    reconnect: Option<bool>,
}

/// Passes a 2xx answer through and turns any other into [`Error::Api`].
pub(crate) async fn check(response: reqwest::Response) -> Result<reqwest::Response, Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let bytes = response.bytes().await?;
    Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Error::Api {
            status: status.as_u16(),
            code: body.error.code,
            message: body.error.message,
            field: body.error.field,
            reason: body.error.reason,
            reconnect: body.error.reconnect.unwrap_or(false),
        },
        Err(_) => Error::Api {
            status: status.as_u16(),
            code: "unexpected_answer".to_owned(),
            message: format!("answer without fbgate's error JSON ({} bytes)", bytes.len()),
            field: None,
            reason: None,
            reconnect: false,
        },
    })
}
