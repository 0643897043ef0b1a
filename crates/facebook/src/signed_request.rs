//! Verifies Facebook's `signed_request`: `base64url(signature) "." base64url(payload JSON)`.
//!
//! Facebook POSTs it to the deauthorize and data-deletion callbacks and puts it in the JS SDK
//! cookie. Decisions a reader might question:
//! - Both padded and unpadded base64url are accepted: real requests come unpadded, some
//!   integrators see a trailing `=`, and Facebook's own PHP SDK pads.
//! - The HMAC covers the payload segment exactly as received (padding included), never a
//!   re-encoding of it.
//! - The signature is checked, in constant time, before the payload is even parsed, so nothing
//!   an attacker wrote is trusted; `algorithm` is then required to be `HMAC-SHA256`
//!   (case-insensitive, as the Python SDK does).
//! - User ids are strings; a numeric `user_id` (old payloads) is turned into its decimal text.

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE_NO_PAD, URL_SAFE_NO_PAD_INDIFFERENT};
use serde_json::Value;

use crate::proof::hmac_sha256;
use crate::secret::AppSecret;

/// Longest `signed_request` accepted; real ones are a few hundred bytes.
pub const MAX_SIGNED_REQUEST_LEN: usize = 64 * 1024;

/// Why a `signed_request` was refused. Messages never contain the input or the secret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignedRequestError {
    /// Not two non-empty segments separated by `.`, or too long.
    #[error("signed_request is malformed")]
    Malformed,
    /// A segment is not valid base64url.
    #[error("signed_request is not valid base64url")]
    BadBase64,
    /// The HMAC does not match: forged, tampered, or signed with another app's secret.
    #[error("signed_request signature does not match")]
    BadSignature,
    /// The payload names an algorithm other than HMAC-SHA256, or none.
    #[error("signed_request uses an unsupported algorithm")]
    UnsupportedAlgorithm,
    /// The payload is not a JSON object, or lacks a field the caller needs.
    #[error("signed_request payload is invalid: {0}")]
    BadPayload(String),
}

/// A verified `signed_request` payload.
#[derive(Clone, Debug, PartialEq)]
pub struct SignedRequest {
    payload: serde_json::Map<String, Value>,
}

impl SignedRequest {
    /// Verifies `input` with the app secret and returns its payload.
    pub fn verify(input: &str, secret: &AppSecret) -> Result<Self, SignedRequestError> {
        if input.len() > MAX_SIGNED_REQUEST_LEN {
            return Err(SignedRequestError::Malformed);
        }
        let (signature_part, payload_part) =
            input.split_once('.').ok_or(SignedRequestError::Malformed)?;
        if signature_part.is_empty() || payload_part.is_empty() {
            return Err(SignedRequestError::Malformed);
        }
        let signature = decode(signature_part)?;
        let payload_bytes = decode(payload_part)?;

        let expected = hmac_sha256(secret, payload_part.as_bytes());
        aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_ref(), &signature)
            .map_err(|_| SignedRequestError::BadSignature)?;

        let payload = match serde_json::from_slice::<Value>(&payload_bytes) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(SignedRequestError::BadPayload("not a JSON object".into())),
            Err(_) => return Err(SignedRequestError::BadPayload("not JSON".into())),
        };
        match payload.get("algorithm").and_then(Value::as_str) {
            Some(algorithm) if algorithm.eq_ignore_ascii_case("HMAC-SHA256") => {}
            _ => return Err(SignedRequestError::UnsupportedAlgorithm),
        }
        Ok(Self { payload })
    }

    /// Signs a payload the way Facebook does (unpadded base64url). Useful for tests and for
    /// emulating Facebook's callbacks.
    pub fn sign(payload: &Value, secret: &AppSecret) -> String {
        let payload_part = URL_SAFE_NO_PAD.encode(payload.to_string());
        let signature = hmac_sha256(secret, payload_part.as_bytes());
        format!(
            "{}.{payload_part}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        )
    }

    /// The whole payload.
    pub fn payload(&self) -> &serde_json::Map<String, Value> {
        &self.payload
    }

    /// The `algorithm` field (always some spelling of HMAC-SHA256 once verified).
    pub fn algorithm(&self) -> &str {
        self.payload
            .get("algorithm")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The app-scoped `user_id`, as text even when the payload carries a number.
    pub fn user_id(&self) -> Option<String> {
        match self.payload.get("user_id")? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) if n.is_u64() => Some(n.to_string()),
            _ => None,
        }
    }

    /// `issued_at`, unix seconds.
    pub fn issued_at(&self) -> Option<i64> {
        self.payload.get("issued_at").and_then(integer)
    }

    /// `expires`, unix seconds (present in data-deletion requests).
    pub fn expires(&self) -> Option<i64> {
        self.payload.get("expires").and_then(integer)
    }

    /// Reads the payload as a deauthorize callback: a user removed the app.
    pub fn deauthorize(&self) -> Result<DeauthorizeRequest, SignedRequestError> {
        Ok(DeauthorizeRequest {
            user_id: self.required_user_id()?,
            issued_at: self.required_issued_at()?,
        })
    }

    /// Reads the payload as a data-deletion request.
    pub fn data_deletion(&self) -> Result<DataDeletionRequest, SignedRequestError> {
        Ok(DataDeletionRequest {
            user_id: self.required_user_id()?,
            issued_at: self.required_issued_at()?,
            expires: self.expires(),
        })
    }

    fn required_user_id(&self) -> Result<String, SignedRequestError> {
        self.user_id()
            .ok_or_else(|| SignedRequestError::BadPayload("user_id missing".into()))
    }

    fn required_issued_at(&self) -> Result<i64, SignedRequestError> {
        self.issued_at()
            .ok_or_else(|| SignedRequestError::BadPayload("issued_at missing".into()))
    }
}

/// The payload of the Deauthorize Callback: the user removed the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeauthorizeRequest {
    /// The app-scoped id of the user who removed the app.
    pub user_id: String,
    /// When Facebook signed the request, unix seconds.
    pub issued_at: i64,
}

/// The payload of the Data Deletion Request callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDeletionRequest {
    /// The app-scoped id of the user whose data must be deleted.
    pub user_id: String,
    /// When Facebook signed the request, unix seconds.
    pub issued_at: i64,
    /// When the request expires, unix seconds, if given.
    pub expires: Option<i64>,
}

fn decode(segment: &str) -> Result<Vec<u8>, SignedRequestError> {
    URL_SAFE_NO_PAD_INDIFFERENT
        .decode(segment)
        .map_err(|_| SignedRequestError::BadBase64)
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
#[path = "signed_request_tests.rs"]
mod tests;
