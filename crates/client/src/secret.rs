//! A string that must not end up in logs: tokens fbgate hands to the backend.

use std::fmt;

use serde::Deserialize;

/// A secret string, such as a Facebook access token or a session token.
///
/// Its `Debug` output is `Secret([redacted])` and it has no `Display`, so a stray `{:?}` or a
/// `tracing` field never prints it; [`Secret::expose`] is the one, visible, way to read it.
///
/// ```
/// # use fbgate_client::Secret;
/// let token = Secret::new("EAAB…");
/// assert_eq!(format!("{token:?}"), "Secret([redacted])");
/// assert_eq!(token.expose(), "EAAB…");
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value, for the one place that needs it (an `Authorization` header, a Graph
    /// API call).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}
