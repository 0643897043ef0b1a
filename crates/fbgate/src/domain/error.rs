//! The domain's error type. Messages are safe to show to API clients: they never contain a
//! secret, and internal failures carry their detail only in the `source` chain for the logs.

use crate::store::StoreError;
use crate::vault::VaultError;

/// Everything a domain operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that parsed but is not acceptable (422).
    #[error("{message}")]
    Invalid {
        /// The offending field, as named in the API.
        field: String,
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// A request that cannot be acted on as sent (400), such as a Facebook callback whose
    /// `signed_request` does not verify.
    #[error("{message}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The addressed object does not exist in this environment (404).
    #[error("{message}")]
    NotFound {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// The request conflicts with the current state (409).
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// No credential, or one that is not valid (401).
    #[error("{message}")]
    Unauthenticated {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// A valid credential of the wrong kind for this endpoint (403).
    #[error("{message}")]
    Forbidden {
        /// Machine-readable code.
        code: &'static str,
        /// Human-readable explanation.
        message: String,
    },
    /// A stored credential exists but cannot be used (409): revoked, expired or invalid.
    #[error("the credential is {code}: {reason}")]
    CredentialUnusable {
        /// `credential_revoked`, `credential_expired` or `credential_invalid`.
        code: &'static str,
        /// Why, e.g. `user_removed_app`.
        reason: String,
    },
    /// Something that should not fail did (500; detail in logs only).
    #[error("internal failure: {0}")]
    Internal(String),
    /// The database failed (500; detail in logs only).
    #[error("storage failure")]
    Store(#[from] StoreError),
    /// The vault failed (500; detail in logs only).
    #[error("vault failure")]
    Vault(#[from] VaultError),
}

impl Error {
    /// A 422 naming the field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            code: "invalid_field",
            message: message.into(),
        }
    }

    /// A 404 with the given code.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Error::NotFound {
            code,
            message: message.into(),
        }
    }
}
