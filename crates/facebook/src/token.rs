//! Typed answers of the token endpoints: `/oauth/access_token` and `/debug_token`.
//!
//! `TokenResponse` accepts the legacy `expires` key next to `expires_in` (the PHP SDK still
//! reads it) and numbers sent as strings. `DebugToken` keeps every field of the v25 reference
//! plus `type`; ids are strings even when Facebook sends numbers (it types `target_ids` as
//! `int[]` but sends strings, and a client must not care).

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::de::{opt_i64, opt_string_or_number, string_list};
use crate::secret::{AccessToken, IdToken};

/// The answer of a code exchange, a long-lived exchange or an app-token request.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TokenResponse {
    /// The token.
    pub access_token: AccessToken,
    /// `token_type`, normally `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Lifetime in seconds (`expires_in`, or the legacy `expires`). `None` for tokens that do
    /// not expire or when Facebook did not say.
    #[serde(default, alias = "expires", deserialize_with = "crate::de::opt_u64")]
    pub expires_in: Option<u64>,
    /// The OpenID Connect ID token of a PKCE/OIDC code exchange.
    #[serde(default)]
    pub id_token: Option<IdToken>,
}

impl TokenResponse {
    /// Reads the pre-v2.3 urlencoded form `access_token=…&expires=…`.
    pub(crate) fn from_form(body: &[u8]) -> Option<Self> {
        let mut token = None;
        let mut expires = None;
        for (key, value) in url::form_urlencoded::parse(body) {
            match key.as_ref() {
                "access_token" if !value.is_empty() => token = Some(value.into_owned()),
                "expires" | "expires_in" => expires = value.parse().ok(),
                _ => {}
            }
        }
        Some(Self {
            access_token: AccessToken::new(token?),
            token_type: None,
            expires_in: expires,
            id_token: None,
        })
    }
}

/// The kind of token `debug_token` describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenType {
    /// A user access token.
    User,
    /// A Page access token.
    Page,
    /// An app access token.
    App,
    /// A system-user token (Login for Business installations).
    SystemUser,
    /// A type this client does not know.
    Other(String),
}

impl<'de> Deserialize<'de> for TokenType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(match text.to_ascii_uppercase().as_str() {
            "USER" => Self::User,
            "PAGE" => Self::Page,
            "APP" => Self::App,
            "SYSTEM_USER" => Self::SystemUser,
            _ => Self::Other(text),
        })
    }
}

/// One permission of `granular_scopes`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct GranularScope {
    /// The permission.
    pub scope: String,
    /// The objects (Pages, WABAs, …) it is limited to; empty means all.
    #[serde(default, deserialize_with = "string_list")]
    pub target_ids: Vec<String>,
}

/// The error `debug_token` reports for an invalid token (note: `subcode`, not `error_subcode`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct DebugTokenError {
    /// Usually 190.
    #[serde(default, deserialize_with = "opt_i64")]
    pub code: Option<i64>,
    /// Human text.
    #[serde(default)]
    pub message: Option<String>,
    /// The 190 subcode (458, 460, 463, …).
    #[serde(default, deserialize_with = "opt_i64")]
    pub subcode: Option<i64>,
}

/// The `data` of a `debug_token` answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DebugToken {
    /// The app the token belongs to. Always compare with your own.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub app_id: Option<String>,
    /// `type`: USER, PAGE, APP or SYSTEM_USER.
    #[serde(default, rename = "type")]
    pub token_type: Option<TokenType>,
    /// The app's name.
    #[serde(default)]
    pub application: Option<String>,
    /// Unix seconds; 0 means never.
    #[serde(default, deserialize_with = "opt_i64")]
    pub expires_at: Option<i64>,
    /// Unix seconds when data access ends; 0 means never.
    #[serde(default, deserialize_with = "opt_i64")]
    pub data_access_expires_at: Option<i64>,
    /// Whether the token works now.
    #[serde(default)]
    pub is_valid: bool,
    /// Unix seconds.
    #[serde(default, deserialize_with = "opt_i64")]
    pub issued_at: Option<i64>,
    /// `metadata` (`sso`, `auth_type`, `auth_nonce`, …), kept as sent.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// For Page tokens, the Page id.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub profile_id: Option<String>,
    /// Granted permissions.
    #[serde(default, deserialize_with = "string_list")]
    pub scopes: Vec<String>,
    /// Granted permissions with their targets.
    #[serde(default)]
    pub granular_scopes: Vec<GranularScope>,
    /// The app-scoped user id (for system-user tokens, the system user).
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub user_id: Option<String>,
    /// Why the token is invalid.
    #[serde(default)]
    pub error: Option<DebugTokenError>,
}

impl DebugToken {
    /// When the token expires; `None` when it never does (`expires_at` 0 or absent).
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        unix_time(self.expires_at)
    }

    /// When data access expires; `None` when it never does or Facebook did not say.
    pub fn data_access_expires_at(&self) -> Option<OffsetDateTime> {
        unix_time(self.data_access_expires_at)
    }

    /// True when the token belongs to `app_id`. Tokens of other apps debug as valid too.
    pub fn is_for_app(&self, app_id: &str) -> bool {
        self.app_id.as_deref() == Some(app_id)
    }

    /// True when `scope` is among the granted scopes.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The target ids of a granular scope (empty when it applies to everything or is absent).
    pub fn targets_of(&self, scope: &str) -> &[String] {
        self.granular_scopes
            .iter()
            .find(|g| g.scope == scope)
            .map_or(&[], |g| g.target_ids.as_slice())
    }

    /// The `auth_nonce` of a reauthentication, from `metadata`.
    pub fn auth_nonce(&self) -> Option<&str> {
        self.metadata.as_ref()?.get("auth_nonce")?.as_str()
    }
}

fn unix_time(value: Option<i64>) -> Option<OffsetDateTime> {
    value
        .filter(|t| *t > 0)
        .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn token_response_reads_expires_in_and_legacy_expires() {
        let modern: TokenResponse = serde_json::from_value(
            json!({"access_token":"EAA1","token_type":"bearer","expires_in":5183944}),
        )
        .unwrap();
        assert_eq!(modern.expires_in, Some(5_183_944));
        assert_eq!(modern.token_type.as_deref(), Some("bearer"));
        let legacy: TokenResponse =
            serde_json::from_value(json!({"access_token":"EAA1","expires":"5183944"})).unwrap();
        assert_eq!(legacy.expires_in, Some(5_183_944));
        let bare: TokenResponse = serde_json::from_value(json!({"access_token":"EAA1"})).unwrap();
        assert_eq!(bare.expires_in, None);
        assert!(!format!("{modern:?}").contains("EAA1"));
    }

    #[test]
    fn token_response_reads_the_urlencoded_form() {
        let parsed = TokenResponse::from_form(b"access_token=EAA2&expires=5000").unwrap();
        assert_eq!(parsed.access_token.expose(), "EAA2");
        assert_eq!(parsed.expires_in, Some(5000));
        assert!(TokenResponse::from_form(b"<html>").is_none());
    }

    #[test]
    fn debug_token_reads_the_documented_composite() {
        let data = json!({"app_id":"138483919580948","type":"USER","application":"Social Cafe",
            "data_access_expires_at":1360000000,"expires_at":1352419328,"is_valid":true,"issued_at":1347235328,
            "metadata":{"sso":"iphone-safari","auth_type":"rerequest","auth_nonce":"n1"},
            "scopes":["email","public_profile"],
            "granular_scopes":[{"scope":"pages_show_list","target_ids":["123", 456]},{"scope":"email"}],
            "user_id":1207059});
        let token: DebugToken = serde_json::from_value(data).unwrap();
        assert!(token.is_valid && token.is_for_app("138483919580948"));
        assert!(!token.is_for_app("1"));
        assert_eq!(token.token_type, Some(TokenType::User));
        assert_eq!(token.user_id.as_deref(), Some("1207059"));
        assert_eq!(token.targets_of("pages_show_list"), ["123", "456"]);
        assert!(token.targets_of("email").is_empty());
        assert!(token.has_scope("email"));
        assert_eq!(token.auth_nonce(), Some("n1"));
        assert_eq!(token.expires_at().unwrap().unix_timestamp(), 1_352_419_328);
    }

    #[test]
    fn debug_token_reads_an_invalid_token_and_a_system_user() {
        let invalid: DebugToken = serde_json::from_value(json!({"app_id":"123",
            "error":{"code":190,"message":"Foo error message.","subcode":463},"is_valid":false,"scopes":[]}))
        .unwrap();
        assert!(!invalid.is_valid);
        let error = invalid.error.unwrap();
        assert_eq!((error.code, error.subcode), (Some(190), Some(463)));

        let suat: DebugToken = serde_json::from_value(json!({"app_id":"1","type":"SYSTEM_USER",
            "expires_at":0,"data_access_expires_at":0,"is_valid":true,"scopes":["whatsapp_business_management"],
            "granular_scopes":[{"scope":"whatsapp_business_management","target_ids":["555"]}],"user_id":"9"}))
        .unwrap();
        assert_eq!(suat.token_type, Some(TokenType::SystemUser));
        assert_eq!(suat.expires_at(), None);
        assert_eq!(suat.data_access_expires_at(), None);
    }

    #[test]
    fn unknown_token_types_are_kept() {
        let token: DebugToken =
            serde_json::from_value(json!({"type":"BUSINESS","is_valid":true})).unwrap();
        assert_eq!(token.token_type, Some(TokenType::Other("BUSINESS".into())));
    }
}
