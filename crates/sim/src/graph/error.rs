//! Facebook's error object and the messages the emulator uses for each case.
//!
//! Messages are Facebook's own where FACEBOOK.md records them; the few that are not recorded
//! are marked in docs/emulator.md. Every error carries a fresh `fbtrace_id`.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::ids;
use crate::state::TokenProblem;

/// One Graph error answer.
#[derive(Debug, Clone)]
pub(crate) struct GraphError {
    pub status: u16,
    pub message: String,
    pub kind: &'static str,
    pub code: u32,
    pub subcode: Option<u32>,
    pub transient: bool,
    /// The second token of `WWW-Authenticate: OAuth "Facebook Platform" "<this>" "<msg>"`.
    pub www_authenticate: Option<&'static str>,
}

impl GraphError {
    /// An `OAuthException` answered with HTTP 400.
    pub fn oauth(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
            kind: "OAuthException",
            code,
            subcode: None,
            transient: false,
            www_authenticate: Some("invalid_request"),
        }
    }

    /// A `GraphMethodException` answered with HTTP 400.
    pub fn method(code: u32, message: impl Into<String>) -> Self {
        Self {
            kind: "GraphMethodException",
            www_authenticate: None,
            ..Self::oauth(code, message)
        }
    }

    pub fn with_subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub fn invalid_code(mut self) -> Self {
        self.www_authenticate = Some("invalid_code");
        self
    }

    /// A missing parameter, as `(#100) The parameter X is required`.
    pub fn missing_param(name: &str) -> Self {
        Self::oauth(100, format!("(#100) The parameter {name} is required"))
    }

    /// Code 104: no token on a call that needs one.
    pub fn no_token() -> Self {
        Self::oauth(104, "An access token is required to request this resource.")
    }

    /// Code 2500: `/me` without a token.
    pub fn no_token_for_me() -> Self {
        Self::oauth(
            2500,
            "An active access token must be used to query information about the current user.",
        )
    }

    /// Code 100 subcode 33: the object does not exist or the token may not see it.
    pub fn no_such_object(id: &str) -> Self {
        Self::method(
            100,
            format!(
                "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded \
                 due to missing permissions, or does not support this operation. Please read the \
                 Graph API documentation at https://developers.facebook.com/docs/graph-api"
            ),
        )
        .with_subcode(33)
    }

    /// Code 200: a permission is missing.
    pub fn permission(message: impl Into<String>) -> Self {
        Self::oauth(200, message)
    }

    /// Code 190 with the subcode and message for `problem`.
    pub fn token(problem: &TokenProblem, now: i64) -> Self {
        let prefix = "Error validating access token:";
        let (subcode, message) = match problem {
            TokenProblem::Unknown => (
                None,
                "Invalid OAuth access token - Cannot parse access token".to_owned(),
            ),
            TokenProblem::Expired { expires_at } => (
                Some(463),
                format!(
                    "{prefix} Session has expired on {}. The current time is {}.",
                    facebook_date(*expires_at),
                    facebook_date(now)
                ),
            ),
            TokenProblem::NotAuthorized { app_id } => (
                Some(458),
                format!("{prefix} The user has not authorized application {app_id}."),
            ),
            TokenProblem::Revoked { subcode, app_id } => {
                let text = match subcode {
                    Some(458) => format!("The user has not authorized application {app_id}."),
                    Some(459) => "You cannot access the app till you log in to www.facebook.com \
                                  and follow the instructions given."
                        .to_owned(),
                    Some(460) => "The session has been invalidated because the user changed \
                                  their password or Facebook has changed the session for \
                                  security reasons."
                        .to_owned(),
                    Some(463) => format!(
                        "Session has expired on {}. The current time is {}.",
                        facebook_date(now),
                        facebook_date(now)
                    ),
                    Some(464) => "Sessions for the user are not allowed because the user is not \
                                  a confirmed user."
                        .to_owned(),
                    Some(467) => "The session is invalid because the user logged out.".to_owned(),
                    _ => "The session has been invalidated.".to_owned(),
                };
                (*subcode, format!("{prefix} {text}"))
            }
        };
        Self {
            subcode,
            www_authenticate: Some("invalid_token"),
            ..Self::oauth(190, message)
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if self.transient {
            error["is_transient"] = json!(true);
        }
        error["fbtrace_id"] = json!(ids::trace_id());
        json!({ "error": error })
    }

    /// The `WWW-Authenticate` header value, if this error carries one.
    pub fn www_authenticate_header(&self) -> Option<String> {
        self.www_authenticate.map(|kind| {
            let message: String = self
                .message
                .chars()
                .filter(|c| c.is_ascii() && !c.is_ascii_control() && *c != '"')
                .collect();
            format!("OAuth \"Facebook Platform\" \"{kind}\" \"{message}\"")
        })
    }
}

/// Facebook's date style in 463 messages ("Sunday, 22-Nov-26 07:35:06 UTC"; Facebook prints
/// Pacific time, the emulator prints UTC).
fn facebook_date(unix: i64) -> String {
    let format = format_description!(
        "[weekday], [day]-[month repr:short]-[year repr:last_two] [hour]:[minute]:[second] UTC"
    );
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// ISO 8601 as Graph prints times (`2026-11-22T07:35:06+0000`).
pub(crate) fn graph_time(unix: i64) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+0000");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| unix.to_string())
}
