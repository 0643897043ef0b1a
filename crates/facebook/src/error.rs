//! Facebook's error object, and the one place that decides what an error means.
//!
//! Callers act on [`ErrorKind`], never on raw codes: re-login on `Auth`, ask for permissions on
//! `Permission`, wait on `Throttled`, retry on `Transient`. The table follows FACEBOOK.md §8
//! (Facebook's error-handling guide, the PHP and Android SDKs). Two readings to note:
//! - Code 1 ("unknown error") is transient, except when the message is about the client
//!   secret ("Error validating client secret."), which Facebook also sends with code 1 and
//!   which no retry can fix.
//! - An answer that is not JSON is a `Protocol` error, unless its status is 5xx: a proxy's
//!   HTML 502 page says "try again", not "Facebook changed its format".

use std::time::Duration;

use serde_json::Value;

use crate::de::lenient_i64;
use crate::usage::Usage;

/// What an error means for the caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The token no longer works; the user must sign in again (or the credential is dead).
    Auth {
        /// Why, from the 190 subcode.
        reason: AuthReason,
    },
    /// The token lacks a permission (codes 3, 10, 200–299).
    Permission,
    /// A rate limit was hit.
    Throttled {
        /// Whose budget ran out.
        scope: ThrottleScope,
        /// How long to wait, when the usage headers say.
        retry_after: Option<Duration>,
    },
    /// A temporary failure on Facebook's side; retrying later may work.
    Transient,
    /// The request itself is wrong (parameters, ids, codes, proof). Retrying will not help.
    BadRequest,
    /// The answer could not be understood (not JSON, or not the expected shape).
    Protocol,
    /// Facebook could not be reached: connection refused, DNS, TLS, or a timeout.
    Transport,
}

/// Why a token was refused (code 190 and its subcodes, and the old session codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthReason {
    /// 190/463: the token expired.
    Expired,
    /// Code 452: the session was revoked.
    Revoked,
    /// 190/460: the user changed the password.
    PasswordChanged,
    /// 190/458: the user removed the app.
    AppNotInstalled,
    /// 190/459: the user is checkpointed and must log in on facebook.com.
    Checkpoint,
    /// 190/464: the user's account is unconfirmed.
    Unconfirmed,
    /// Bare 190, 102, 190/467, 190/492, 190/493 and unknown subcodes: the token is invalid.
    Invalid,
}

/// Whose rate limit was hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThrottleScope {
    /// The app's platform limit (codes 4, 341) or a custom app limit (613).
    App,
    /// The user's limit (code 17).
    User,
    /// A Page's limit with a user token (code 32).
    Page,
    /// A Business Use Case limit (codes 80000–80014).
    BusinessUseCase,
}

/// Facebook's error object, as sent in `{"error": {...}}`, plus the HTTP context.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphError {
    /// HTTP status of the answer (or of the batch entry).
    pub status: u16,
    /// `code`.
    pub code: i64,
    /// `error_subcode` (or `subcode`, as `debug_token` spells it).
    pub subcode: Option<i64>,
    /// `type`, e.g. `OAuthException`.
    pub error_type: Option<String>,
    /// `message`.
    pub message: String,
    /// `error_user_title`, text meant for end users.
    pub user_title: Option<String>,
    /// `error_user_msg`, text meant for end users.
    pub user_message: Option<String>,
    /// `fbtrace_id`, to quote in a bug report to Meta.
    pub fbtrace_id: Option<String>,
    /// `is_transient`, when Facebook says.
    pub is_transient: Option<bool>,
    /// Usage headers sent with the error.
    pub usage: Usage,
}

impl GraphError {
    /// Reads an error body. Returns `None` when `body` has no `error` member.
    pub fn from_body(status: u16, body: &Value, usage: Usage) -> Option<Self> {
        let error = body.get("error")?;
        let text = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_owned);
        if let Value::String(code_text) = error {
            // The OAuth 2 shape `{"error": "...", "error_description": "..."}`.
            let description = body.get("error_description").and_then(Value::as_str);
            return Some(Self {
                status,
                code: 0,
                subcode: None,
                error_type: Some(code_text.clone()),
                message: description.unwrap_or(code_text).to_owned(),
                user_title: None,
                user_message: None,
                fbtrace_id: None,
                is_transient: None,
                usage,
            });
        }
        if !error.is_object() {
            return None;
        }
        Some(Self {
            status,
            code: error.get("code").and_then(lenient_i64).unwrap_or(0),
            subcode: error
                .get("error_subcode")
                .or_else(|| error.get("subcode"))
                .and_then(lenient_i64),
            error_type: text("type"),
            message: text("message").unwrap_or_default(),
            user_title: text("error_user_title"),
            user_message: text("error_user_msg"),
            fbtrace_id: text("fbtrace_id"),
            is_transient: error.get("is_transient").and_then(Value::as_bool),
            usage,
        })
    }

    /// What the error means.
    pub fn kind(&self) -> ErrorKind {
        classify(
            self.status,
            self.code,
            self.subcode,
            &self.message,
            self.is_transient,
            &self.usage,
        )
    }
}

/// The classification table. Pure, so every row is unit-tested.
pub fn classify(
    status: u16,
    code: i64,
    subcode: Option<i64>,
    message: &str,
    is_transient: Option<bool>,
    usage: &Usage,
) -> ErrorKind {
    let throttled = |scope| ErrorKind::Throttled {
        scope,
        retry_after: usage.suggested_wait(),
    };
    match code {
        190 => ErrorKind::Auth {
            reason: match subcode {
                Some(458) => AuthReason::AppNotInstalled,
                Some(459) => AuthReason::Checkpoint,
                Some(460) => AuthReason::PasswordChanged,
                Some(463) => AuthReason::Expired,
                Some(464) => AuthReason::Unconfirmed,
                _ => AuthReason::Invalid,
            },
        },
        102 => ErrorKind::Auth {
            reason: AuthReason::Invalid,
        },
        452 => ErrorKind::Auth {
            reason: AuthReason::Revoked,
        },
        3 | 10 | 200..=299 => ErrorKind::Permission,
        4 | 341 | 613 => throttled(ThrottleScope::App),
        17 => throttled(ThrottleScope::User),
        32 => throttled(ThrottleScope::Page),
        80000..=80014 => throttled(ThrottleScope::BusinessUseCase),
        1 if mentions_client_secret(message) => ErrorKind::BadRequest,
        1 | 2 => ErrorKind::Transient,
        _ if is_transient == Some(true) || status >= 500 => ErrorKind::Transient,
        _ if status == 429 => throttled(ThrottleScope::App),
        _ => ErrorKind::BadRequest,
    }
}

/// "Error validating client secret." and "Missing client_secret parameter." come with code 1,
/// Facebook's "unknown error", yet are configuration mistakes no retry can fix.
fn mentions_client_secret(message: &str) -> bool {
    message.contains("client secret") || message.contains("client_secret")
}

/// A network failure, described without the URL (which carries tokens and secrets).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", if *.timeout { "Facebook did not answer in time" } else { "Facebook could not be reached" })]
pub struct TransportError {
    /// True when the call timed out, false for connection-level failures.
    pub timeout: bool,
    /// The underlying error with any URL removed.
    pub detail: String,
}

impl From<reqwest::Error> for TransportError {
    fn from(error: reqwest::Error) -> Self {
        let timeout = error.is_timeout();
        let error = error.without_url();
        let mut detail = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            detail.push_str(": ");
            detail.push_str(&cause.to_string());
            source = cause.source();
        }
        Self { timeout, detail }
    }
}

/// Everything a call can fail with. Messages never include tokens, secrets or URLs with them.
#[derive(Clone, Debug, thiserror::Error)]
pub enum FacebookError {
    /// Facebook answered with an error object.
    #[error("Facebook error {} ({}): {}", .0.code, .0.subcode.map_or_else(|| "no subcode".to_owned(), |s| format!("subcode {s}")), .0.message)]
    Graph(Box<GraphError>),
    /// The answer was not what Facebook sends (not JSON, or missing fields).
    #[error("unexpected answer from Facebook (HTTP {status}): {detail}")]
    Protocol {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        detail: String,
    },
    /// Facebook could not be reached or did not answer in time.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The caller asked for something this client refuses to send.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl FacebookError {
    /// What the error means. `InvalidRequest` counts as `BadRequest`.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Graph(error) => error.kind(),
            Self::Protocol { status, .. } if *status >= 500 => ErrorKind::Transient,
            Self::Protocol { .. } => ErrorKind::Protocol,
            Self::Transport(_) => ErrorKind::Transport,
            Self::InvalidRequest(_) => ErrorKind::BadRequest,
        }
    }

    /// Facebook's error object, when there was one.
    pub fn graph_error(&self) -> Option<&GraphError> {
        match self {
            Self::Graph(error) => Some(error),
            _ => None,
        }
    }

    /// True when a later retry of the same call may succeed.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::Transient | ErrorKind::Throttled { .. } | ErrorKind::Transport
        )
    }
}

impl From<GraphError> for FacebookError {
    fn from(error: GraphError) -> Self {
        Self::Graph(Box::new(error))
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
