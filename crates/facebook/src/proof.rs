//! `appsecret_proof`: an HMAC of the access token keyed with the app secret, sent with every
//! token-bearing Graph call so that a stolen token is useless without the secret.
//!
//! Two forms exist. The plain one signs the token alone. The timed one (the form Facebook's
//! security page documents today) signs `token|unix_time`, sends `appsecret_time` alongside,
//! and expires after five minutes. Both are computed per attempt, so a retried call never
//! reuses a stale timed proof.

use aws_lc_rs::hmac;

use crate::secret::{AccessToken, AppSecret};

/// Which `appsecret_proof` form to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AppSecretProofMode {
    /// `HMAC-SHA256(secret, token)`, accepted by every Graph version.
    #[default]
    Plain,
    /// `HMAC-SHA256(secret, token + "|" + unix_time)` plus an `appsecret_time` parameter.
    Timed,
}

/// The plain proof: hex of `HMAC-SHA256(key = app secret, message = access token)`.
pub fn appsecret_proof(secret: &AppSecret, token: &AccessToken) -> String {
    hmac_hex(secret, token.expose().as_bytes())
}

/// The timed proof for `unix_time` (seconds): the HMAC of `"{token}|{unix_time}"`.
pub fn appsecret_proof_timed(secret: &AppSecret, token: &AccessToken, unix_time: i64) -> String {
    let message = format!("{}|{unix_time}", token.expose());
    hmac_hex(secret, message.as_bytes())
}

/// The query parameters carrying the proof in the given mode.
pub(crate) fn appsecret_proof_for(
    mode: AppSecretProofMode,
    secret: &AppSecret,
    token: &AccessToken,
    unix_time: i64,
) -> Vec<(&'static str, String)> {
    match mode {
        AppSecretProofMode::Plain => vec![("appsecret_proof", appsecret_proof(secret, token))],
        AppSecretProofMode::Timed => vec![
            (
                "appsecret_proof",
                appsecret_proof_timed(secret, token, unix_time),
            ),
            ("appsecret_time", unix_time.to_string()),
        ],
    }
}

pub(crate) fn hmac_sha256(secret: &AppSecret, message: &[u8]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
    hmac::sign(&key, message)
}

fn hmac_hex(secret: &AppSecret, message: &[u8]) -> String {
    hex::encode(hmac_sha256(secret, message).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_proof_matches_the_published_vector() {
        let proof = appsecret_proof(&AppSecret::new("xyz789"), &AccessToken::new("abc123"));
        assert_eq!(
            proof,
            "4dad02ff1693df832f9c183fe400fc4f601360be06514acb4a73edb783eec345"
        );
    }

    #[test]
    fn timed_proof_matches_the_computed_vector() {
        let proof = appsecret_proof_timed(
            &AppSecret::new("xyz789"),
            &AccessToken::new("abc123"),
            1_700_000_000,
        );
        assert_eq!(
            proof,
            "4073846e9af1fd65b815551070615b9e70b0233192429e24276c54ac295706e0"
        );
    }

    #[test]
    fn timed_mode_sends_the_time_too() {
        let params = appsecret_proof_for(
            AppSecretProofMode::Timed,
            &AppSecret::new("xyz789"),
            &AccessToken::new("abc123"),
            1_700_000_000,
        );
        assert_eq!(params[1], ("appsecret_time", "1700000000".to_owned()));
        let plain = appsecret_proof_for(
            AppSecretProofMode::Plain,
            &AppSecret::new("xyz789"),
            &AccessToken::new("abc123"),
            1_700_000_000,
        );
        assert_eq!(plain.len(), 1);
    }
}
