//! Reading and checking the dialog's parameters, for the GET that shows the page and again for
//! the POST that the page submits (hidden fields are never trusted).
//!
//! The redirect URI must match a registered one exactly once `state` is removed from both;
//! anything else is Facebook's "URL Blocked" page and no redirect at all.

use url::Url;

use crate::crypto;
use crate::model::{App, ConfigTokenType, LoginConfig};
use crate::state::State;

/// Permissions the emulator knows; others are "Invalid Scopes", as on Facebook.
pub(crate) const KNOWN_PERMISSIONS: &[&str] = &[
    "public_profile",
    "email",
    "user_friends",
    "user_birthday",
    "user_gender",
    "user_link",
    "user_location",
    "user_hometown",
    "user_age_range",
    "user_photos",
    "user_posts",
    "user_likes",
    "user_videos",
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_posts",
    "pages_manage_metadata",
    "pages_manage_engagement",
    "pages_messaging",
    "read_insights",
    "business_management",
    "ads_read",
    "ads_management",
    "leads_retrieval",
    "catalog_management",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_messages",
    "whatsapp_business_management",
    "whatsapp_business_messaging",
    "publish_video",
];

/// The parameters the dialog carries from the GET to the POST as hidden fields.
pub(crate) const CARRIED: &[&str] = &[
    "client_id",
    "redirect_uri",
    "state",
    "response_type",
    "scope",
    "auth_type",
    "auth_nonce",
    "config_id",
    "override_default_response_type",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "display",
];

/// A checked dialog request.
#[derive(Debug, Clone)]
pub(crate) struct DialogRequest {
    pub app: App,
    pub redirect_uri: String,
    pub redirect_key: String,
    pub state: Option<String>,
    pub want_code: bool,
    pub want_token: bool,
    pub want_id_token: bool,
    pub want_granted_scopes: bool,
    /// Requested permissions, `public_profile` first (for config flows: the config's).
    pub permissions: Vec<String>,
    pub openid: bool,
    pub auth_types: Vec<String>,
    pub config: Option<LoginConfig>,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub auth_nonce: Option<String>,
    /// The carried parameters, for the hidden fields.
    pub carried: Vec<(String, String)>,
}

impl DialogRequest {
    pub fn rerequest(&self) -> bool {
        self.auth_types.iter().any(|t| t == "rerequest")
    }

    pub fn system_user_config(&self) -> Option<&LoginConfig> {
        self.config
            .as_ref()
            .filter(|c| c.token_type == ConfigTokenType::SystemUser)
    }

    /// Results go in the fragment when a token is returned, else in the query.
    pub fn in_fragment(&self) -> bool {
        self.want_token || self.want_id_token
    }
}

/// Why the dialog shows a page instead of redirecting.
#[derive(Debug, Clone)]
pub(crate) struct DialogError {
    pub title: String,
    pub message: String,
}

impl DialogError {
    fn new(title: &str, message: impl Into<String>) -> Self {
        Self {
            title: title.to_owned(),
            message: message.into(),
        }
    }

    pub fn url_blocked() -> Self {
        Self::new(
            "URL Blocked",
            "URL Blocked: This redirect failed because the redirect URI is not whitelisted in \
             the app's Client OAuth Settings. Make sure Client and Web OAuth Login are on and \
             add all your app domains as Valid OAuth Redirect URIs.",
        )
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("Sorry, something went wrong.", message)
    }
}

/// A redirect URI with `state` removed from its query, normalised by URL parsing; `None` for
/// URIs that are not absolute http(s) URLs or that carry a fragment.
pub(crate) fn redirect_key(uri: &str) -> Option<String> {
    let mut url = Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.fragment().is_some() {
        return None;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "state")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    Some(url.to_string())
}

fn is_loopback(uri: &str) -> bool {
    Url::parse(uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|h| matches!(h.as_str(), "127.0.0.1" | "localhost" | "[::1]"))
}

fn split_list(value: &str, separators: &[char]) -> Vec<String> {
    value
        .split(|c| separators.contains(&c))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks the dialog's parameters against the state.
pub(crate) fn parse(
    state: &State,
    params: &[(String, String)],
) -> Result<DialogRequest, DialogError> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let client_id = get("client_id").ok_or_else(|| {
        DialogError::invalid(
            "Invalid App ID: The provided app ID does not look like a valid app ID.",
        )
    })?;
    let app = state.apps.get(client_id).cloned().ok_or_else(|| {
        DialogError::invalid(
            "Invalid App ID: The provided app ID does not look like a valid app ID.",
        )
    })?;
    let redirect_uri = get("redirect_uri").ok_or_else(DialogError::url_blocked)?;
    let key = redirect_key(redirect_uri).ok_or_else(DialogError::url_blocked)?;
    let registered = app
        .redirect_uris
        .iter()
        .any(|r| redirect_key(r).as_deref() == Some(key.as_str()));
    let loopback_ok =
        app.any_loopback_redirect && app.redirect_uris.is_empty() && is_loopback(redirect_uri);
    if !registered && !loopback_ok {
        return Err(DialogError::url_blocked());
    }
    let mut request = DialogRequest {
        app: app.clone(),
        redirect_uri: redirect_uri.to_owned(),
        redirect_key: key,
        state: get("state").map(str::to_owned),
        want_code: false,
        want_token: false,
        want_id_token: false,
        want_granted_scopes: false,
        permissions: Vec::new(),
        openid: false,
        auth_types: get("auth_type")
            .map(|v| split_list(v, &[',']))
            .unwrap_or_default(),
        config: None,
        code_challenge: None,
        nonce: get("nonce").map(str::to_owned),
        auth_nonce: get("auth_nonce").map(str::to_owned),
        carried: CARRIED
            .iter()
            .filter_map(|name| get(name).map(|v| ((*name).to_owned(), v.to_owned())))
            .collect(),
    };
    for kind in split_list(get("response_type").unwrap_or("code"), &[' ', ',', '+']) {
        match kind.as_str() {
            "code" => request.want_code = true,
            "token" => request.want_token = true,
            "id_token" => request.want_id_token = true,
            "granted_scopes" => request.want_granted_scopes = true,
            other => {
                return Err(DialogError::invalid(format!(
                    "Invalid response_type: {other}. Use code, token, id_token or granted_scopes."
                )));
            }
        }
    }
    if !(request.want_code || request.want_token || request.want_id_token) {
        request.want_code = true;
    }
    let mut requested = Vec::new();
    if let Some(config_id) = get("config_id") {
        let config = app
            .login_configs
            .iter()
            .find(|c| c.config_id == config_id)
            .cloned()
            .ok_or_else(|| DialogError::invalid(format!("Invalid config_id: {config_id}")))?;
        if config.token_type == ConfigTokenType::SystemUser {
            if request.want_token || request.want_id_token {
                return Err(DialogError::invalid(
                    "This configuration issues system-user access tokens, which are only \
                     available with response_type=code.",
                ));
            }
            if get("override_default_response_type") != Some("true") {
                return Err(DialogError::invalid(
                    "This configuration issues system-user access tokens: pass \
                     override_default_response_type=true with response_type=code.",
                ));
            }
        }
        requested.extend(config.permissions.iter().cloned());
        request.config = Some(config);
    } else {
        requested.extend(split_list(get("scope").unwrap_or_default(), &[',', ' ']));
    }
    let mut invalid = Vec::new();
    let mut permissions = vec!["public_profile".to_owned()];
    for scope in requested {
        if scope == "openid" {
            request.openid = true;
        } else if !KNOWN_PERMISSIONS.contains(&scope.as_str()) {
            invalid.push(scope);
        } else if !permissions.contains(&scope) {
            permissions.push(scope);
        }
    }
    if !invalid.is_empty() {
        return Err(DialogError::invalid(format!(
            "Invalid Scopes: {}. This message is only shown to developers. Users of your app \
             will ignore these permissions if present.",
            invalid.join(", ")
        )));
    }
    if request.system_user_config().is_some() {
        permissions.retain(|p| p != "public_profile");
    }
    request.permissions = permissions;
    if let Some(challenge) = get("code_challenge") {
        if get("code_challenge_method") != Some("S256") {
            return Err(DialogError::invalid(
                "code_challenge_method must be S256 (plain is not supported).",
            ));
        }
        if !crypto::is_pkce_string(challenge) {
            return Err(DialogError::invalid("Invalid code_challenge."));
        }
        request.code_challenge = Some(challenge.to_owned());
    }
    if request.want_id_token && (!request.openid || request.nonce.is_none()) {
        return Err(DialogError::invalid(
            "response_type=id_token requires scope=openid and a nonce.",
        ));
    }
    Ok(request)
}
