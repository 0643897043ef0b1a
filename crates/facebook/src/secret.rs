//! Strings that must never reach a log: the app secret, access tokens, authorization codes,
//! PKCE verifiers and ID tokens.
//!
//! Each is a newtype over a zeroized `String` whose `Debug` prints only the type name, so a
//! `{:?}` of any struct that holds one stays safe to log. Reading the value takes an explicit
//! `expose()` call, which makes every place a secret leaves the type easy to find.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

macro_rules! redacted_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Zeroizing::new(value.into()))
            }

            /// The secret value itself. Do not log it.
            pub fn expose(&self) -> &str {
                self.0.as_str()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        /// Compares in constant time, so equality checks leak no prefix length.
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                aws_lc_rs::constant_time::verify_slices_are_equal(
                    self.expose().as_bytes(),
                    other.expose().as_bytes(),
                )
                .is_ok()
            }
        }

        impl Eq for $name {}

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.expose())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

redacted_string!(
    /// The app secret from the Meta dashboard. Signs `appsecret_proof` and `signed_request`.
    AppSecret
);
redacted_string!(
    /// A Facebook access token (user, page, app or system-user).
    AccessToken
);
redacted_string!(
    /// The one-time `code` the login dialog hands back, exchanged for a token.
    AuthorizationCode
);
redacted_string!(
    /// An OpenID Connect ID token (a JWT) returned by the PKCE/OIDC code exchange.
    IdToken
);

impl AccessToken {
    /// True for app tokens in the `{app-id}|{app-secret}` form (the rule Facebook's PHP SDK
    /// uses). Such tokens carry the app secret, so callers should never store or forward them.
    pub fn is_app_secret_form(&self) -> bool {
        self.expose().contains('|')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_value() {
        let token = AccessToken::new("EAAsecretvalue");
        let secret = AppSecret::new("xyz789");
        assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
        assert!(!format!("{secret:?}").contains("xyz789"));
    }

    #[test]
    fn equality_compares_the_values() {
        assert_eq!(AccessToken::new("a"), AccessToken::new("a"));
        assert_ne!(AccessToken::new("a"), AccessToken::new("ab"));
    }

    #[test]
    fn serde_round_trips_as_a_plain_string() {
        let token: AccessToken = serde_json::from_str("\"EAA1\"").unwrap();
        assert_eq!(token.expose(), "EAA1");
        assert_eq!(serde_json::to_string(&token).unwrap(), "\"EAA1\"");
    }

    #[test]
    fn app_secret_form_is_detected() {
        assert!(AccessToken::new("123|abc").is_app_secret_form());
        assert!(!AccessToken::new("EAAB").is_app_secret_form());
    }
}
