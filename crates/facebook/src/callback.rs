//! Parsing what the login dialog sends back to the redirect URI.
//!
//! Accepts the full URL, or just its query (with or without `?`), and tolerates the `#_=_`
//! that Facebook appends when there is no fragment. Fragment parameters (the token flows) are
//! read too. A parameter that appears twice is refused rather than guessed at: Facebook never
//! repeats one, so a repeat means someone edited the URL.

use url::Url;
use url::form_urlencoded;

use crate::secret::{AccessToken, AuthorizationCode};

/// Longest callback accepted.
pub const MAX_CALLBACK_LEN: usize = 64 * 1024;

/// A parsed login-dialog redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginCallback {
    /// The `state` echoed back, to compare with the one the flow stored.
    pub state: Option<String>,
    /// What the dialog answered.
    pub outcome: CallbackOutcome,
}

/// The dialog's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The user continued; exchange the code.
    Code {
        /// The one-time authorization code.
        code: AuthorizationCode,
        /// `granted_scopes`, present when requested with `granted_scopes` in `response_type`.
        granted_scopes: Option<Vec<String>>,
        /// `denied_scopes`, likewise.
        denied_scopes: Option<Vec<String>>,
    },
    /// A token flow answered in the fragment.
    Token {
        /// The (short-lived) user access token.
        access_token: AccessToken,
        /// Lifetime in seconds.
        expires_in: Option<u64>,
        /// `data_access_expiration_time`, unix seconds.
        data_access_expiration_time: Option<i64>,
        /// `granted_scopes`, when requested.
        granted_scopes: Option<Vec<String>>,
        /// `denied_scopes`, when requested.
        denied_scopes: Option<Vec<String>>,
    },
    /// The user cancelled or Facebook refused.
    Error(DialogError),
}

/// The error parameters of a cancelled or failed dialog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialogError {
    /// `error`, e.g. `access_denied`.
    pub error: String,
    /// `error_code`, e.g. 200.
    pub error_code: Option<i64>,
    /// `error_reason`, e.g. `user_denied`.
    pub error_reason: Option<String>,
    /// `error_description`, human text.
    pub error_description: Option<String>,
}

impl DialogError {
    /// True when the user pressed Cancel (or declined) in the dialog.
    pub fn is_user_cancel(&self) -> bool {
        self.error == "access_denied" || self.error_reason.as_deref() == Some("user_denied")
    }
}

/// Why a callback could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    /// Neither `code`, `access_token` nor `error` is present.
    #[error("the callback has neither a code nor an error")]
    MissingCode,
    /// A parameter appears more than once.
    #[error("the callback repeats the parameter {0}")]
    DuplicateParameter(String),
    /// Longer than [`MAX_CALLBACK_LEN`].
    #[error("the callback is too long")]
    TooLong,
}

const KNOWN: &[&str] = &[
    "code",
    "state",
    "access_token",
    "expires_in",
    "data_access_expiration_time",
    "granted_scopes",
    "denied_scopes",
    "error",
    "error_code",
    "error_reason",
    "error_description",
];

impl LoginCallback {
    /// Parses a full callback URL or its query string.
    pub fn parse(input: &str) -> Result<Self, CallbackError> {
        if input.len() > MAX_CALLBACK_LEN {
            return Err(CallbackError::TooLong);
        }
        let (query, fragment) = split(input);
        let mut params = Params::default();
        params.extend(query)?;
        if let Some(fragment) = fragment.filter(|f| *f != "_=_") {
            params.extend(fragment)?;
        }
        params.into_callback()
    }
}

/// Splits into (query, fragment) without assuming the input is a URL.
fn split(input: &str) -> (&str, Option<&str>) {
    let (before_fragment, fragment) = match input.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (input, None),
    };
    let query = if input.contains("://") {
        before_fragment.split_once('?').map_or("", |(_, q)| q)
    } else {
        before_fragment.strip_prefix('?').unwrap_or(before_fragment)
    };
    (query, fragment)
}

#[derive(Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn extend(&mut self, encoded: &str) -> Result<(), CallbackError> {
        for (key, value) in form_urlencoded::parse(encoded.as_bytes()) {
            if !KNOWN.contains(&key.as_ref()) {
                continue;
            }
            if self.get(&key).is_some() {
                return Err(CallbackError::DuplicateParameter(key.into_owned()));
            }
            self.0.push((key.into_owned(), value.into_owned()));
        }
        Ok(())
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn non_empty(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    fn scopes(&self, key: &str) -> Option<Vec<String>> {
        self.get(key).map(|v| {
            v.split([',', ' '])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }

    fn into_callback(self) -> Result<LoginCallback, CallbackError> {
        let state = self.get("state").map(str::to_owned);
        let outcome = if let Some(error) = self.non_empty("error") {
            CallbackOutcome::Error(DialogError {
                error,
                error_code: self.get("error_code").and_then(|c| c.parse().ok()),
                error_reason: self.non_empty("error_reason"),
                error_description: self.non_empty("error_description"),
            })
        } else if let Some(code) = self.non_empty("code") {
            CallbackOutcome::Code {
                code: AuthorizationCode::new(code),
                granted_scopes: self.scopes("granted_scopes"),
                denied_scopes: self.scopes("denied_scopes"),
            }
        } else if let Some(token) = self.non_empty("access_token") {
            CallbackOutcome::Token {
                access_token: AccessToken::new(token),
                expires_in: self.get("expires_in").and_then(|v| v.parse().ok()),
                data_access_expiration_time: self
                    .get("data_access_expiration_time")
                    .and_then(|v| v.parse().ok()),
                granted_scopes: self.scopes("granted_scopes"),
                denied_scopes: self.scopes("denied_scopes"),
            }
        } else {
            return Err(CallbackError::MissingCode);
        };
        Ok(LoginCallback { state, outcome })
    }
}

impl TryFrom<&Url> for LoginCallback {
    type Error = CallbackError;

    fn try_from(url: &Url) -> Result<Self, Self::Error> {
        Self::parse(url.as_str())
    }
}

#[cfg(test)]
#[path = "callback_tests.rs"]
mod tests;
