//! The small parsed values a provider is made of: closed choices as enums, checked text as
//! newtypes. Each parser names the API field in its error, so a 422 always says what to fix.

use std::fmt;

use url::Url;

use crate::domain::Error;
use crate::vault::SecretString;

/// Declares a closed set of choices that reads and writes as snake_case text in JSON and in the
/// database.
macro_rules! choice {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every choice.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses the text; `field` names the input in the error.
            pub fn parse(field: &str, value: &str) -> Result<Self, Error> {
                Self::ALL.iter().copied().find(|c| c.as_str() == value).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
                    Error::invalid(field, format!("`{field}` must be one of {}", names.join(", ")))
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

choice!(
    /// How the provider is defined; only presets exist so far.
    ProviderKind {
        /// A provider fbgate knows (Facebook).
        Preset => "preset",
    }
);

choice!(
    /// Which preset.
    ProviderKey {
        /// Facebook Login.
        Facebook => "facebook",
    }
);

choice!(
    /// Which Facebook product signs users in.
    LoginProduct {
        /// Classic Facebook Login: the dialog asks for `scope`.
        FacebookLogin => "facebook_login",
        /// Facebook Login for Business: the dialog is driven by a `config_id`.
        FacebookLoginForBusiness => "facebook_login_for_business",
    }
);

choice!(
    /// The kind of token the login yields.
    TokenType {
        /// A user access token.
        User => "user",
        /// A Business Integration System User token (Login for Business only).
        SystemUser => "system_user",
    }
);

choice!(
    /// When the user's profile is copied from Facebook.
    SyncProfile {
        /// On every sign-in.
        EverySignIn => "every_sign_in",
        /// Only when the user is created.
        SignUpOnly => "sign_up_only",
    }
);

choice!(
    /// What a provider may be used for.
    ProviderUse {
        /// Signing users in.
        SignIn => "sign_in",
        /// Linking a Facebook identity to an existing user.
        Linking => "linking",
        /// Holding tokens for calls to the Graph API.
        ApiAccess => "api_access",
    }
);

/// A non-empty set of [`ProviderUse`], kept in the canonical order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnabledFor(Vec<ProviderUse>);

impl Default for EnabledFor {
    fn default() -> Self {
        Self(ProviderUse::ALL.to_vec())
    }
}

impl EnabledFor {
    /// Builds the set; an empty one is refused.
    pub fn parse(field: &str, uses: &[ProviderUse]) -> Result<Self, Error> {
        let set: Vec<ProviderUse> = ProviderUse::ALL
            .iter()
            .copied()
            .filter(|u| uses.contains(u))
            .collect();
        if set.is_empty() {
            return Err(Error::invalid(
                field,
                "`enabled_for` needs at least one of sign_in, linking, api_access",
            ));
        }
        Ok(Self(set))
    }

    /// Whether the provider may be used for `what`.
    pub fn allows(&self, what: ProviderUse) -> bool {
        self.0.contains(&what)
    }

    /// The uses, in canonical order.
    pub fn uses(&self) -> &[ProviderUse] {
        &self.0
    }
}

fn digits(value: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())
}

/// A Facebook app id: 5–32 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientId(String);

impl ClientId {
    /// Parses an app id.
    pub fn parse(field: &str, value: &str) -> Result<Self, Error> {
        if digits(value, 5..=32) {
            Ok(Self(value.to_owned()))
        } else {
            Err(Error::invalid(
                field,
                "`client_id` is the Facebook app id: 5-32 digits",
            ))
        }
    }

    /// The app id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A Login for Business configuration id: 1–32 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigId(String);

impl ConfigId {
    /// Parses a configuration id.
    pub fn parse(field: &str, value: &str) -> Result<Self, Error> {
        if digits(value, 1..=32) {
            Ok(Self(value.to_owned()))
        } else {
            Err(Error::invalid(
                field,
                "`config_id` is a Login for Business configuration id: 1-32 digits",
            ))
        }
    }

    /// The configuration id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The Facebook app secret: 1–256 characters without whitespace. Never printed.
#[derive(Debug, Clone)]
pub struct ClientSecret(SecretString);

impl ClientSecret {
    /// Parses a secret. The error never repeats the value.
    pub fn parse(field: &str, value: SecretString) -> Result<Self, Error> {
        let text = value.expose();
        if (1..=256).contains(&text.chars().count()) && !text.chars().any(char::is_whitespace) {
            Ok(Self(value))
        } else {
            Err(Error::invalid(
                field,
                "`client_secret` is the Facebook app secret: 1-256 characters, no whitespace",
            ))
        }
    }

    /// The secret.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

/// A display name: 1–100 characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderName(String);

impl Default for ProviderName {
    fn default() -> Self {
        Self("Facebook".to_owned())
    }
}

impl ProviderName {
    /// Parses a name.
    pub fn parse(field: &str, value: &str) -> Result<Self, Error> {
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 100 || value.chars().any(char::is_control) {
            return Err(Error::invalid(
                field,
                "`name` must be 1-100 printable characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The scopes asked for: each `[a-z_]+`, deduplicated, `public_profile` always first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

/// Most scopes a provider may ask for.
const MAX_SCOPES: usize = 100;
/// The scope every Facebook login grants.
const PUBLIC_PROFILE: &str = "public_profile";

impl Default for Scopes {
    fn default() -> Self {
        Self(vec![PUBLIC_PROFILE.to_owned(), "email".to_owned()])
    }
}

impl Scopes {
    /// Parses a list of scopes; an error names the entry (`scopes[1]`).
    pub fn parse(field: &str, values: &[String]) -> Result<Self, Error> {
        if values.len() > MAX_SCOPES {
            return Err(Error::invalid(
                field,
                format!("`{field}` holds at most {MAX_SCOPES} entries"),
            ));
        }
        let mut scopes = vec![PUBLIC_PROFILE.to_owned()];
        for (index, value) in values.iter().enumerate() {
            let valid = (1..=64).contains(&value.len())
                && value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
            if !valid {
                return Err(Error::invalid(
                    format!("{field}[{index}]"),
                    "a scope is 1-64 lowercase letters or underscores, like `pages_show_list`",
                ));
            }
            if !scopes.contains(value) {
                scopes.push(value.clone());
            }
        }
        Ok(Self(scopes))
    }

    /// The scopes.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// Where Facebook lives when it is not the real one (the emulator, a test server): an absolute
/// http(s) URL without query, fragment or credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Parses a base URL.
    pub fn parse(field: &str, value: &str) -> Result<Self, Error> {
        let invalid = || {
            Error::invalid(
                field,
                format!("`{field}` must be an absolute http(s) URL without query or fragment"),
            )
        };
        let url = Url::parse(value).map_err(|_| invalid())?;
        let acceptable = matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|h| !h.is_empty())
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        if acceptable {
            Ok(Self(url))
        } else {
            Err(invalid())
        }
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
        match result {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn choices_read_their_api_text_only() {
        assert_eq!(
            LoginProduct::parse("login_product", "facebook_login_for_business").unwrap(),
            LoginProduct::FacebookLoginForBusiness
        );
        assert_eq!(
            field_of(LoginProduct::parse("login_product", "FacebookLogin")),
            "login_product"
        );
        assert_eq!(
            serde_json::to_string(&SyncProfile::SignUpOnly).unwrap(),
            "\"sign_up_only\""
        );
    }

    #[test]
    fn scopes_always_include_public_profile_once_and_keep_their_order() {
        let scopes = Scopes::parse(
            "scopes",
            &["email".into(), "pages_show_list".into(), "email".into()],
        )
        .unwrap();
        assert_eq!(
            scopes.as_slice(),
            ["public_profile", "email", "pages_show_list"]
        );
        let scopes = Scopes::parse("scopes", &["email".into(), "public_profile".into()]).unwrap();
        assert_eq!(scopes.as_slice(), ["public_profile", "email"]);
        assert_eq!(
            Scopes::parse("scopes", &[]).unwrap().as_slice(),
            ["public_profile"]
        );
        assert_eq!(
            field_of(Scopes::parse("scopes", &["email".into(), "Email".into()])),
            "scopes[1]"
        );
        assert_eq!(
            field_of(Scopes::parse("scopes", &["a,b".into()])),
            "scopes[0]"
        );
        assert_eq!(field_of(Scopes::parse("scopes", &["".into()])), "scopes[0]");
    }

    #[test]
    fn enabled_for_is_a_non_empty_set_in_canonical_order() {
        let set = EnabledFor::parse(
            "enabled_for",
            &[
                ProviderUse::ApiAccess,
                ProviderUse::SignIn,
                ProviderUse::SignIn,
            ],
        )
        .unwrap();
        assert_eq!(set.uses(), [ProviderUse::SignIn, ProviderUse::ApiAccess]);
        assert!(!set.allows(ProviderUse::Linking));
        assert_eq!(
            field_of(EnabledFor::parse("enabled_for", &[])),
            "enabled_for"
        );
    }

    #[test]
    fn ids_are_digits_of_the_right_length() {
        assert!(ClientId::parse("client_id", "1234567890123456").is_ok());
        for bad in ["1234", "12345x", "", " 123456", &"1".repeat(33)] {
            assert_eq!(field_of(ClientId::parse("client_id", bad)), "client_id");
        }
        assert!(ConfigId::parse("config_id", "987654321").is_ok());
        assert_eq!(field_of(ConfigId::parse("config_id", "abc")), "config_id");
    }

    #[test]
    fn a_bad_client_secret_is_refused_without_repeating_it() {
        for bad in ["", "has space", "tab\tsecret", &"s".repeat(257)] {
            match ClientSecret::parse("client_secret", SecretString::new(bad.to_owned())) {
                Err(Error::Invalid { field, message, .. }) => {
                    assert_eq!(field, "client_secret");
                    assert!(bad.is_empty() || !message.contains(bad));
                }
                other => panic!("{bad:?} not refused: {other:?}"),
            }
        }
        let ok = ClientSecret::parse("client_secret", SecretString::new("abc123".into())).unwrap();
        assert_eq!(ok.expose(), "abc123");
        assert!(!format!("{ok:?}").contains("abc123"));
    }

    #[test]
    fn base_urls_are_absolute_http_without_query() {
        assert!(BaseUrl::parse("graph_base_url", "http://127.0.0.1:9090").is_ok());
        assert!(BaseUrl::parse("graph_base_url", "https://sim.example/fb/").is_ok());
        for bad in [
            "127.0.0.1:9090",
            "ftp://x.example",
            "https://x.example/?a=1",
            "https://x.example/#f",
            "https://u:p@x.example/",
            "/relative",
        ] {
            assert_eq!(
                field_of(BaseUrl::parse("graph_base_url", bad)),
                "graph_base_url",
                "{bad}"
            );
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            ProviderName::parse("name", "  Consumer app ")
                .unwrap()
                .as_str(),
            "Consumer app"
        );
        assert_eq!(field_of(ProviderName::parse("name", "   ")), "name");
        assert_eq!(
            field_of(ProviderName::parse("name", &"n".repeat(101))),
            "name"
        );
    }
}
