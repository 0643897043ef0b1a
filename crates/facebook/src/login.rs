//! Building the login dialog URL, with PKCE.
//!
//! The builder only writes parameters the caller chose, in a fixed order, so the URL is
//! reproducible in tests. Scopes are comma-joined (Facebook accepts commas or spaces; its SDKs
//! use commas). `config_id` (Login for Business) replaces `scope`: setting it drops any scopes,
//! because Facebook ignores `scope` when a configuration is given and sending both only hides
//! which one applies.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use url::Url;
use zeroize::{Zeroize, Zeroizing};

use crate::app::FacebookApp;

/// `auth_type` values of the login dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthType {
    /// Ask again for permissions the user declined.
    Rerequest,
    /// Make the user re-enter the password (pair with [`LoginDialog::auth_nonce`]).
    Reauthenticate,
    /// Re-confirm data access after it expired (90 days without use).
    Reauthorize,
}

impl AuthType {
    /// The value sent to Facebook.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rerequest => "rerequest",
            Self::Reauthenticate => "reauthenticate",
            Self::Reauthorize => "reauthorize",
        }
    }
}

/// `display` values of the login dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// A full page (Facebook's default).
    Page,
    /// Sized for a popup window.
    Popup,
    /// For touch devices.
    Touch,
}

impl Display {
    /// The value sent to Facebook.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Popup => "popup",
            Self::Touch => "touch",
        }
    }
}

/// `response_type` values of the login dialog.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseType {
    /// An authorization code in the query string (server-side flows; the default).
    #[default]
    Code,
    /// An access token in the fragment (client-side flows).
    Token,
    /// Both, in the fragment.
    CodeAndToken,
}

impl ResponseType {
    /// The value sent to Facebook.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::Token => "token",
            Self::CodeAndToken => "code token",
        }
    }
}

/// A PKCE code verifier (RFC 7636): 43 characters of base64url from 32 random bytes.
/// `Debug` redacts it; keep it server-side until the code exchange.
#[derive(Clone, PartialEq, Eq)]
pub struct PkceVerifier(Zeroizing<String>);

impl PkceVerifier {
    /// A fresh random verifier.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        let verifier = Self(Zeroizing::new(URL_SAFE_NO_PAD.encode(bytes)));
        bytes.zeroize();
        verifier
    }

    /// Restores a verifier kept from an earlier [`generate`](Self::generate). Returns `None`
    /// unless it has the 43–128 characters `A-Z a-z 0-9 - . _ ~` that RFC 7636 allows.
    pub fn from_stored(value: impl Into<String>) -> Option<Self> {
        let value = value.into();
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        ((43..=128).contains(&value.len()) && value.bytes().all(allowed))
            .then(|| Self(Zeroizing::new(value)))
    }

    /// The verifier, sent as `code_verifier` in the code exchange.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The S256 challenge: base64url (no padding) of SHA-256 of the verifier.
    pub fn challenge(&self) -> String {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, self.expose().as_bytes());
        URL_SAFE_NO_PAD.encode(digest.as_ref())
    }
}

impl std::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PkceVerifier(<redacted>)")
    }
}

/// Builds the URL of Facebook's login dialog. Start with [`FacebookApp::login_dialog`].
#[derive(Clone, Debug)]
#[must_use = "call .url() to get the dialog URL"]
pub struct LoginDialog<'a> {
    app: &'a FacebookApp,
    redirect_uri: String,
    state: String,
    response_type: ResponseType,
    granted_scopes: bool,
    scopes: Vec<String>,
    auth_types: Vec<AuthType>,
    auth_nonce: Option<String>,
    config_id: Option<String>,
    override_default_response_type: bool,
    code_challenge: Option<String>,
    nonce: Option<String>,
    display: Option<Display>,
}

impl FacebookApp {
    /// Starts a login dialog URL for `redirect_uri` (which must be registered exactly) and a
    /// CSRF `state`.
    pub fn login_dialog(
        &self,
        redirect_uri: impl Into<String>,
        state: impl Into<String>,
    ) -> LoginDialog<'_> {
        LoginDialog {
            app: self,
            redirect_uri: redirect_uri.into(),
            state: state.into(),
            response_type: ResponseType::Code,
            granted_scopes: false,
            scopes: Vec::new(),
            auth_types: Vec::new(),
            auth_nonce: None,
            config_id: None,
            override_default_response_type: false,
            code_challenge: None,
            nonce: None,
            display: None,
        }
    }
}

impl LoginDialog<'_> {
    /// The permissions to ask for. Ignored when a `config_id` is set.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// How the dialog answers (`code` by default).
    pub fn response_type(mut self, response_type: ResponseType) -> Self {
        self.response_type = response_type;
        self
    }

    /// Asks Facebook to list granted and denied scopes in the redirect
    /// (`granted_scopes` added to `response_type`).
    pub fn return_granted_scopes(mut self) -> Self {
        self.granted_scopes = true;
        self
    }

    /// Adds an `auth_type`; several are sent comma-separated.
    pub fn auth_type(mut self, auth_type: AuthType) -> Self {
        if !self.auth_types.contains(&auth_type) {
            self.auth_types.push(auth_type);
        }
        self
    }

    /// The alphanumeric `auth_nonce` that accompanies `auth_type=reauthenticate`.
    pub fn auth_nonce(mut self, nonce: impl Into<String>) -> Self {
        self.auth_nonce = Some(nonce.into());
        self
    }

    /// A Facebook Login for Business configuration; replaces `scope`.
    pub fn config_id(mut self, config_id: impl Into<String>) -> Self {
        self.config_id = Some(config_id.into());
        self
    }

    /// Sends `override_default_response_type=true`, needed by business configurations that
    /// issue system-user tokens through the code flow.
    pub fn override_default_response_type(mut self) -> Self {
        self.override_default_response_type = true;
        self
    }

    /// Adds the PKCE S256 challenge of `verifier`.
    pub fn pkce(mut self, verifier: &PkceVerifier) -> Self {
        self.code_challenge = Some(verifier.challenge());
        self
    }

    /// The OpenID Connect `nonce`, echoed in the ID token.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// How the dialog is displayed.
    pub fn display(mut self, display: Display) -> Self {
        self.display = Some(display);
        self
    }

    /// The finished dialog URL.
    pub fn url(&self) -> Url {
        let mut url = self.app.dialog_url();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("client_id", &self.app.app_id);
            query.append_pair("redirect_uri", &self.redirect_uri);
            query.append_pair("state", &self.state);
            let response_type = if self.granted_scopes {
                format!("{},granted_scopes", self.response_type.as_str())
            } else {
                self.response_type.as_str().to_owned()
            };
            query.append_pair("response_type", &response_type);
            match &self.config_id {
                Some(config_id) => {
                    query.append_pair("config_id", config_id);
                }
                None if !self.scopes.is_empty() => {
                    query.append_pair("scope", &self.scopes.join(","));
                }
                None => {}
            }
            if self.override_default_response_type {
                query.append_pair("override_default_response_type", "true");
            }
            if !self.auth_types.is_empty() {
                let joined: Vec<&str> = self.auth_types.iter().map(|t| t.as_str()).collect();
                query.append_pair("auth_type", &joined.join(","));
            }
            if let Some(nonce) = &self.auth_nonce {
                query.append_pair("auth_nonce", nonce);
            }
            if let Some(challenge) = &self.code_challenge {
                query.append_pair("code_challenge", challenge);
                query.append_pair("code_challenge_method", "S256");
            }
            if let Some(nonce) = &self.nonce {
                query.append_pair("nonce", nonce);
            }
            if let Some(display) = self.display {
                query.append_pair("display", display.as_str());
            }
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn app() -> FacebookApp {
        FacebookApp::new("1234", "secret")
    }

    fn params(url: &Url) -> HashMap<String, String> {
        url.query_pairs().into_owned().collect()
    }

    #[test]
    fn minimal_dialog_has_the_required_parameters() {
        let app = app();
        let url = app
            .login_dialog("https://app.example.com/cb?x=1", "st4te")
            .scopes(["public_profile", "email"])
            .url();
        assert_eq!(url.path(), "/v25.0/dialog/oauth");
        assert_eq!(
            url.query(),
            Some(
                "client_id=1234&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Fx%3D1&state=st4te&response_type=code&scope=public_profile%2Cemail"
            )
        );
    }

    #[test]
    fn every_option_is_written() {
        let app = app();
        let verifier = PkceVerifier::generate();
        let url = app
            .login_dialog("https://a/cb", "s")
            .scopes(["email"])
            .auth_type(AuthType::Rerequest)
            .auth_type(AuthType::Reauthenticate)
            .auth_type(AuthType::Rerequest)
            .auth_nonce("n0nce")
            .pkce(&verifier)
            .nonce("oidc")
            .display(Display::Popup)
            .return_granted_scopes()
            .url();
        let p = params(&url);
        assert_eq!(p["auth_type"], "rerequest,reauthenticate");
        assert_eq!(p["auth_nonce"], "n0nce");
        assert_eq!(p["code_challenge"], verifier.challenge());
        assert_eq!(p["code_challenge_method"], "S256");
        assert_eq!(p["nonce"], "oidc");
        assert_eq!(p["display"], "popup");
        assert_eq!(p["response_type"], "code,granted_scopes");
    }

    #[test]
    fn config_id_replaces_scope() {
        let app = app();
        let url = app
            .login_dialog("https://a/cb", "s")
            .scopes(["email"])
            .config_id("30000000000000001")
            .override_default_response_type()
            .url();
        let p = params(&url);
        assert_eq!(p["config_id"], "30000000000000001");
        assert_eq!(p["override_default_response_type"], "true");
        assert!(!p.contains_key("scope"));
    }

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        let verifier =
            PkceVerifier::from_stored("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(
            verifier.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifiers_are_valid_and_distinct() {
        let a = PkceVerifier::generate();
        let b = PkceVerifier::generate();
        assert_eq!(a.expose().len(), 43);
        assert!(PkceVerifier::from_stored(a.expose()).is_some());
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "PkceVerifier(<redacted>)");
    }

    #[test]
    fn stored_verifiers_are_checked() {
        assert!(PkceVerifier::from_stored("short").is_none());
        assert!(PkceVerifier::from_stored("a".repeat(129)).is_none());
        assert!(PkceVerifier::from_stored(format!("{}!", "a".repeat(43))).is_none());
    }
}
