//! The emulator's records: apps, test users, pages, businesses, grants, codes and tokens.
//!
//! Permissions live on the grant (one per app and user), not on tokens: a token shows what the
//! user has granted *now*, as Facebook's `debug_token` and `/me/permissions` do after a
//! permission is removed. System-user tokens are the exception: their scope and assets are
//! fixed when they are issued.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// The kind of token a Login-for-Business configuration produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ConfigTokenType {
    User,
    SystemUser,
}

/// A Facebook Login for Business configuration (`config_id`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LoginConfig {
    pub config_id: String,
    pub token_type: ConfigTokenType,
    pub permissions: Vec<String>,
    /// Asset ids the configuration may grant; empty means every asset of the business.
    pub assets: Vec<String>,
    /// System-user tokens from this configuration expire after 60 days instead of never.
    pub token_expires_in_60_days: bool,
}

/// What the dialog does without a person in front of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AutoConsent {
    pub user_id: String,
    pub declined: Vec<String>,
    pub cancel: bool,
}

/// A registered app.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct App {
    pub id: String,
    pub secret: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    /// The seeded demo app accepts any loopback redirect URI until URIs are registered.
    pub any_loopback_redirect: bool,
    pub require_appsecret_proof: bool,
    pub deauthorize_callback_url: Option<String>,
    pub data_deletion_callback_url: Option<String>,
    pub login_configs: Vec<LoginConfig>,
    pub auto_consent: Option<AutoConsent>,
    #[serde(skip)]
    pub usage: Arc<UsageWindow>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("name", &self.name)
            .field("redirect_uris", &self.redirect_uris)
            .field("require_appsecret_proof", &self.require_appsecret_proof)
            .finish_non_exhaustive()
    }
}

/// Calls counted in a fixed one-hour window, for the usage headers.
#[derive(Debug, Default)]
pub(crate) struct UsageWindow {
    window_start: AtomicI64,
    calls: AtomicU64,
}

impl UsageWindow {
    /// Counts one call at `now` and returns the calls in the current window.
    pub fn record(&self, now: i64) -> u64 {
        let start = self.window_start.load(Ordering::Relaxed);
        if now - start >= 3600 {
            self.window_start.store(now, Ordering::Relaxed);
            self.calls.store(0, Ordering::Relaxed);
        }
        self.calls.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// A test user (the id is the app-scoped id every app sees).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TestUser {
    pub id: String,
    pub name: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub picture: Option<String>,
    pub pages: Vec<String>,
    pub businesses: Vec<String>,
}

/// A post on a page's feed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Post {
    pub id: String,
    pub message: String,
    pub created_time: i64,
}

/// A Facebook Page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Page {
    pub id: String,
    pub name: String,
    pub category: String,
    pub tasks: Vec<String>,
    pub posts: Vec<Post>,
}

/// A business with its system user and assets (page ids).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Business {
    pub id: String,
    pub name: String,
    pub admins: Vec<String>,
    pub system_user_id: String,
    pub system_user_name: String,
    pub assets: Vec<String>,
}

/// A permission's state in `/me/permissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PermissionStatus {
    Granted,
    Declined,
}

/// What a user has allowed an app.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Grant {
    pub permissions: BTreeMap<String, PermissionStatus>,
    pub data_access_expires_at: i64,
}

impl Grant {
    pub fn granted(&self) -> Vec<String> {
        self.permissions
            .iter()
            .filter(|(_, s)| **s == PermissionStatus::Granted)
            .map(|(p, _)| p.clone())
            .collect()
    }
}

/// A system-user installation created by a Login-for-Business flow.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Installation {
    pub system_user_id: String,
    pub scopes: Vec<String>,
    pub assets: Vec<String>,
    /// The token handed out when the installation was made (for `fetch_only`).
    pub token: String,
}

impl std::fmt::Debug for Installation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installation")
            .field("system_user_id", &self.system_user_id)
            .field("scopes", &self.scopes)
            .field("assets", &self.assets)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// An authorization code waiting to be exchanged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CodeRecord {
    pub app_id: String,
    pub subject: CodeSubject,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub openid: bool,
    pub auth_type: Option<String>,
    pub auth_nonce: Option<String>,
    pub expires_at: i64,
    pub used: bool,
}

/// Who a code was issued for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum CodeSubject {
    User {
        user_id: String,
    },
    SystemUser {
        business_id: String,
        scopes: Vec<String>,
        assets: Vec<String>,
        expires_in_60_days: bool,
    },
}

/// Why a token stopped working, as a `190` subcode (`None` = bare 190).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Revocation {
    pub subcode: Option<u32>,
}

/// Whose token it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum TokenKind {
    User {
        user_id: String,
    },
    /// A page token; `system` is set when it was derived from a system-user token (then
    /// `user_id` is the system user and the scopes are fixed).
    Page {
        user_id: String,
        page_id: String,
        #[serde(default)]
        system: Option<SystemPageGrant>,
    },
    SystemUser {
        business_id: String,
        system_user_id: String,
        scopes: Vec<String>,
        assets: Vec<String>,
    },
    App,
}

/// What a page token derived from a system-user token may do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SystemPageGrant {
    pub business_id: String,
    pub scopes: Vec<String>,
}

/// An issued access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TokenRecord {
    pub app_id: String,
    pub kind: TokenKind,
    pub issued_at: i64,
    /// `None` never expires.
    pub expires_at: Option<i64>,
    pub long_lived: bool,
    pub revoked: Option<Revocation>,
    pub auth_type: Option<String>,
    pub auth_nonce: Option<String>,
}

/// Injected faults.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Faults {
    pub latency_ms: u64,
    pub server_error_rate: f64,
    pub rate_limit: Option<RateLimitFault>,
    pub batch_null_rate: f64,
}

/// A rate limit that starts after `remaining_calls` more Graph calls.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RateLimitFault {
    pub code: u32,
    #[serde(skip)]
    pub remaining: Arc<AtomicI64>,
}

impl RateLimitFault {
    /// Counts a call; `true` when this call is over the limit.
    pub fn exhausted(&self) -> bool {
        self.remaining.fetch_sub(1, Ordering::Relaxed) <= 0
    }
}
