//! The app's identity toward Facebook and where Facebook lives.
//!
//! Base URLs are plain parameters so the same client talks to the real Facebook, to the
//! emulator (`fbgate sim`), or to a test server; nothing else in the crate hard-codes a host.

use std::fmt;
use std::str::FromStr;

use url::Url;

use crate::proof::{AppSecretProofMode, appsecret_proof_for};
use crate::secret::{AccessToken, AppSecret};

/// The Graph API version used when none is configured: the newest one documented in English
/// (v25.0, usable until 2028-07-29). Older defaults such as v21.0 expire in January 2027.
pub const DEFAULT_GRAPH_VERSION: &str = "v25.0";
/// The origin of the login dialog on the real Facebook.
pub const FACEBOOK_WWW_URL: &str = "https://www.facebook.com";
/// The origin of the Graph API on the real Facebook.
pub const FACEBOOK_GRAPH_URL: &str = "https://graph.facebook.com";

/// A Graph API version such as `v21.0`. Parsing checks the `v<major>.<minor>` shape, so a
/// version can never inject path segments into a URL.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GraphVersion(String);

impl GraphVersion {
    /// The version as sent in URLs, e.g. `v21.0`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for GraphVersion {
    fn default() -> Self {
        Self(DEFAULT_GRAPH_VERSION.to_owned())
    }
}

impl fmt::Display for GraphVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The error returned for a version string that is not of the form `v<major>.<minor>`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("graph version must look like v21.0, got {0:?}")]
pub struct InvalidGraphVersion(pub String);

impl FromStr for GraphVersion {
    type Err = InvalidGraphVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidGraphVersion(s.to_owned());
        let rest = s.strip_prefix('v').ok_or_else(invalid)?;
        let (major, minor) = rest.split_once('.').ok_or_else(invalid)?;
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if digits(major) && digits(minor) && major.len() <= 4 && minor.len() <= 4 {
            Ok(Self(s.to_owned()))
        } else {
            Err(invalid())
        }
    }
}

/// A Facebook app: its id and secret, the Graph version to call and the two origins.
///
/// `Debug` never shows the secret.
#[derive(Clone, Debug)]
pub struct FacebookApp {
    /// The app id (`client_id`).
    pub app_id: String,
    /// The app secret (`client_secret`).
    pub app_secret: AppSecret,
    /// The Graph API version in every URL.
    pub graph_version: GraphVersion,
    /// Origin of the login dialog, `https://www.facebook.com` by default.
    pub www_base_url: Url,
    /// Origin of the Graph API, `https://graph.facebook.com` by default.
    pub graph_base_url: Url,
    /// How `appsecret_proof` is computed on token-bearing calls.
    pub appsecret_proof_mode: AppSecretProofMode,
}

impl FacebookApp {
    /// An app talking to the real Facebook with [`DEFAULT_GRAPH_VERSION`].
    pub fn new(app_id: impl Into<String>, app_secret: impl Into<AppSecret>) -> Self {
        Self {
            app_id: app_id.into(),
            app_secret: app_secret.into(),
            graph_version: GraphVersion::default(),
            www_base_url: default_url(FACEBOOK_WWW_URL),
            graph_base_url: default_url(FACEBOOK_GRAPH_URL),
            appsecret_proof_mode: AppSecretProofMode::default(),
        }
    }

    /// Uses another Graph API version.
    pub fn with_graph_version(mut self, version: GraphVersion) -> Self {
        self.graph_version = version;
        self
    }

    /// Serves the login dialog from another origin.
    pub fn with_www_base_url(mut self, url: Url) -> Self {
        self.www_base_url = url;
        self
    }

    /// Sends Graph API calls to another origin.
    pub fn with_graph_base_url(mut self, url: Url) -> Self {
        self.graph_base_url = url;
        self
    }

    /// Uses one origin for both the dialog and the Graph API, as the emulator does.
    pub fn with_base_url(self, url: Url) -> Self {
        self.with_www_base_url(url.clone()).with_graph_base_url(url)
    }

    /// Chooses the plain or the timed `appsecret_proof`.
    pub fn with_appsecret_proof_mode(mut self, mode: AppSecretProofMode) -> Self {
        self.appsecret_proof_mode = mode;
        self
    }

    /// The app token in the `{app-id}|{app-secret}` form, valid without a network call.
    /// It contains the secret: use it for server-to-server calls only.
    pub fn app_access_token(&self) -> AccessToken {
        AccessToken::new(format!("{}|{}", self.app_id, self.app_secret.expose()))
    }

    /// The `appsecret_proof` (and `appsecret_time` in timed mode) query parameters for a token,
    /// computed at `unix_time`.
    pub fn appsecret_proof_params(
        &self,
        token: &AccessToken,
        unix_time: i64,
    ) -> Vec<(&'static str, String)> {
        appsecret_proof_for(
            self.appsecret_proof_mode,
            &self.app_secret,
            token,
            unix_time,
        )
    }

    /// `{graph_base_url}/{version}/{path}`: each `/`-separated part of `path` becomes one
    /// percent-encoded segment, so a path can never smuggle a query string or a `..` hop.
    pub fn graph_url(&self, path: &str) -> Url {
        let mut url = self.graph_base_url.clone();
        append_segments(&mut url, self.graph_version.as_str(), path);
        url
    }

    /// The versioned root `{graph_base_url}/{version}`, the target of batch requests.
    pub fn graph_root_url(&self) -> Url {
        self.graph_url("")
    }

    /// `{www_base_url}/{version}/dialog/oauth`.
    pub fn dialog_url(&self) -> Url {
        let mut url = self.www_base_url.clone();
        append_segments(&mut url, self.graph_version.as_str(), "dialog/oauth");
        url
    }
}

fn append_segments(url: &mut Url, version: &str, path: &str) {
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().push(version);
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if part == "." || part == ".." {
                continue;
            }
            segments.push(part);
        }
    }
}

/// Parses one of this module's URL constants.
// The input is a compile-time literal covered by `defaults_point_at_the_real_facebook`, so
// the `expect` cannot fire; a fallible constructor for a constant would only push an
// impossible error onto every caller.
#[allow(clippy::expect_used)]
fn default_url(text: &'static str) -> Url {
    Url::parse(text).expect("URL constants are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> FacebookApp {
        FacebookApp::new("123", "xyz789")
    }

    #[test]
    fn defaults_point_at_the_real_facebook() {
        let app = app();
        assert_eq!(
            app.graph_url("me/permissions").as_str(),
            "https://graph.facebook.com/v25.0/me/permissions"
        );
        assert_eq!(
            app.dialog_url().as_str(),
            "https://www.facebook.com/v25.0/dialog/oauth"
        );
    }

    #[test]
    fn base_url_override_keeps_a_path_prefix() {
        let base = Url::parse("http://127.0.0.1:9090/fb/").unwrap();
        let app = app().with_base_url(base);
        assert_eq!(
            app.graph_url("/debug_token").as_str(),
            "http://127.0.0.1:9090/fb/v25.0/debug_token"
        );
        assert_eq!(
            app.graph_root_url().as_str(),
            "http://127.0.0.1:9090/fb/v25.0"
        );
    }

    #[test]
    fn paths_cannot_inject_queries_or_climb() {
        let app = app();
        let url = app.graph_url("../me?access_token=x");
        assert_eq!(url.query(), None);
        assert_eq!(url.path(), "/v25.0/me%3Faccess_token=x");
    }

    #[test]
    fn graph_versions_are_checked() {
        assert!("v25.0".parse::<GraphVersion>().is_ok());
        for bad in ["25.0", "v25", "v25.0/../x", "v.0", "", "vx.y"] {
            assert!(bad.parse::<GraphVersion>().is_err(), "{bad}");
        }
    }

    #[test]
    fn app_token_form_and_debug_redaction() {
        let app = app();
        assert_eq!(app.app_access_token().expose(), "123|xyz789");
        assert!(!format!("{app:?}").contains("xyz789"));
    }
}
