//! The one place where errors become HTTP answers: `{"error": {"code", "message", "field"?}}`.
//!
//! Internal failures (database, vault) are logged here with their full cause chain and answered
//! with a generic 500, so no detail of the infrastructure, and no secret, reaches a client.

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain;

/// An error answer of the API.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    message: String,
    field: Option<String>,
    reason: Option<String>,
    reconnect: Option<bool>,
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable, snake_case.
    pub code: String,
    /// Human-readable explanation; may change between versions.
    pub message: String,
    /// The input field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For unusable credentials: why (`user_removed_app`, `session_expired`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For unusable credentials: a new sign-in or connect flow is the remedy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reconnect: Option<bool>,
}

impl ApiError {
    /// An error answer with a status, code and message.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
            reason: None,
            reconnect: None,
        }
    }

    /// Names the input field at fault.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The generic answer for a status that has no more specific error (used for answers made by
    /// middleware, such as timeouts and unknown routes).
    pub fn for_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method_not_allowed", "method not allowed on this route")
            }
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "request body is too large"),
            StatusCode::REQUEST_TIMEOUT => ("request_timeout", "the request took too long"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("unsupported_media_type", "unsupported content type")
            }
            StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests"),
            s if s.is_client_error() => ("bad_request", "the request is not valid"),
            _ => ("internal_error", "internal error"),
        };
        Self::new(status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.into_owned(),
                message: self.message,
                field: self.field,
                reason: self.reason,
                reconnect: self.reconnect,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<domain::Error> for ApiError {
    fn from(error: domain::Error) -> Self {
        use domain::Error as E;
        match error {
            E::Invalid {
                field,
                code,
                message,
            } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field),
            E::BadRequest { code, message } => {
                ApiError::new(StatusCode::BAD_REQUEST, code, message)
            }
            E::NotFound { code, message } => ApiError::new(StatusCode::NOT_FOUND, code, message),
            E::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            E::Unauthenticated { code, message } => {
                ApiError::new(StatusCode::UNAUTHORIZED, code, message)
            }
            E::Forbidden { code, message } => ApiError::new(StatusCode::FORBIDDEN, code, message),
            E::CredentialUnusable { code, reason } => {
                let remedy = match reason.as_str() {
                    "checkpoint" => {
                        "the person must first log in on facebook.com to unlock their account, \
                         then sign in or connect again"
                    }
                    "unconfirmed_user" => {
                        "the person must first confirm their Facebook account, then sign in or \
                         connect again"
                    }
                    _ => {
                        "a new sign-in (fbgate users) or connect session (your tenants' users) \
                         replaces it"
                    }
                };
                let mut api = ApiError::new(
                    StatusCode::CONFLICT,
                    code,
                    format!("the stored credential cannot be used ({reason}); {remedy}"),
                );
                api.reason = Some(reason);
                api.reconnect = Some(true);
                api
            }
            E::Store(_) | E::Vault(_) | E::Internal(_) => {
                tracing::error!(error = %ErrorChain(&error), "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "internal error",
                )
            }
        }
    }
}

/// Displays an error with its sources, `a: b: c`, for logs.
#[derive(Debug)]
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}
