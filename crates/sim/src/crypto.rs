//! Facebook's signatures, written from its documentation: `appsecret_proof`, `signed_request`
//! and the PKCE S256 transform.
//!
//! These are public so that tests (ours and other crates') can produce what a Facebook app
//! would. The `signed_request` we send is unpadded base64url, as Facebook sends it; the parser
//! accepts padded input too, because some integrators report it.

use aws_lc_rs::{constant_time, digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

/// `hex(HMAC-SHA256(key = app_secret, msg = access_token))`.
pub fn appsecret_proof(app_secret: &str, access_token: &str) -> String {
    hmac_hex(app_secret, access_token.as_bytes())
}

/// The timestamped form: `hex(HMAC-SHA256(key = app_secret, msg = access_token + "|" + time))`.
pub fn appsecret_proof_with_time(app_secret: &str, access_token: &str, time: i64) -> String {
    hmac_hex(app_secret, format!("{access_token}|{time}").as_bytes())
}

fn hmac_hex(key: &str, msg: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
    hex::encode(hmac::sign(&key, msg).as_ref())
}

/// Constant-time comparison of two strings.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

/// Builds a `signed_request`: `base64url(sig) + "." + base64url(payload)`, both unpadded,
/// with `sig = HMAC-SHA256(app_secret, encoded payload)`.
pub fn sign_request(app_secret: &str, payload_json: &str) -> String {
    let payload = URL_SAFE_NO_PAD.encode(payload_json.as_bytes());
    let key = hmac::Key::new(hmac::HMAC_SHA256, app_secret.as_bytes());
    let sig = hmac::sign(&key, payload.as_bytes());
    format!("{}.{payload}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

/// Why a `signed_request` was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignedRequestError {
    #[error("signed_request is not two dot-separated parts")]
    Malformed,
    #[error("signed_request is not valid base64url")]
    Base64,
    #[error("signed_request payload is not a JSON object")]
    Payload,
    #[error("signed_request algorithm is not HMAC-SHA256")]
    Algorithm,
    #[error("signed_request signature does not match")]
    Signature,
}

/// Verifies a `signed_request` (padded or not) and returns its payload.
///
/// The HMAC is computed over the payload part exactly as received, padding included.
pub fn parse_signed_request(
    app_secret: &str,
    signed_request: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, SignedRequestError> {
    let (sig_part, payload_part) = signed_request
        .split_once('.')
        .ok_or(SignedRequestError::Malformed)?;
    if sig_part.is_empty() || payload_part.is_empty() {
        return Err(SignedRequestError::Malformed);
    }
    let sig = decode_base64url(sig_part)?;
    let payload = decode_base64url(payload_part)?;
    let payload: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&payload).map_err(|_| SignedRequestError::Payload)?;
    let algorithm = payload
        .get("algorithm")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    if !algorithm.eq_ignore_ascii_case("HMAC-SHA256") {
        return Err(SignedRequestError::Algorithm);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, app_secret.as_bytes());
    hmac::verify(&key, payload_part.as_bytes(), &sig).map_err(|_| SignedRequestError::Signature)?;
    Ok(payload)
}

/// Decodes base64url with or without `=` padding.
fn decode_base64url(input: &str) -> Result<Vec<u8>, SignedRequestError> {
    let trimmed = input.trim_end_matches('=');
    let mut padded = trimmed.to_owned();
    while !padded.len().is_multiple_of(4) {
        padded.push('=');
    }
    URL_SAFE
        .decode(padded.as_bytes())
        .map_err(|_| SignedRequestError::Base64)
}

/// PKCE S256: `base64url(SHA-256(verifier))` without padding.
pub fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()).as_ref())
}

/// Whether a PKCE verifier or challenge has RFC 7636's shape: 43–128 of `A-Za-z0-9-._~`.
pub(crate) fn is_pkce_string(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

pub(crate) fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appsecret_proof_matches_the_mobolic_vector() {
        assert_eq!(
            appsecret_proof("xyz789", "abc123"),
            "4dad02ff1693df832f9c183fe400fc4f601360be06514acb4a73edb783eec345"
        );
    }

    #[test]
    fn timestamped_proof_matches_the_documented_vector() {
        assert_eq!(
            appsecret_proof_with_time("xyz789", "abc123", 1_700_000_000),
            "4073846e9af1fd65b815551070615b9e70b0233192429e24276c54ac295706e0"
        );
    }

    #[test]
    fn a_signed_request_round_trips_and_is_unpadded() {
        let sr = sign_request("s3cret", r#"{"user_id":"1","algorithm":"HMAC-SHA256"}"#);
        assert!(!sr.contains('='));
        let payload = parse_signed_request("s3cret", &sr).unwrap();
        assert_eq!(payload["user_id"], "1");
        assert_eq!(
            parse_signed_request("other", &sr),
            Err(SignedRequestError::Signature)
        );
    }

    #[test]
    fn pkce_matches_rfc7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
