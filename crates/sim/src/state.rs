//! `Sim`: the emulator's shared state and the operations every surface (dialog, Graph,
//! control API) performs on it.
//!
//! One `RwLock` guards all records. Graph reads take the read lock only; usage counters and
//! rate-limit budgets are atomics so that the hot path never waits for a writer it does not
//! need. Lock guards are never held across an `.await`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::clock::Clock;
use crate::ids;
use crate::model::{
    App, Business, CodeRecord, Faults, Grant, Installation, Page, PermissionStatus, Revocation,
    SystemPageGrant, TestUser, TokenKind, TokenRecord, UsageWindow,
};
use crate::oidc::OidcKey;

/// Short-lived user tokens last 1.5 hours (Facebook: "1–2 hours", observed 3980–6788 s).
pub(crate) const SHORT_LIVED_SECONDS: i64 = 5400;
/// Long-lived user tokens last 60 days.
pub(crate) const LONG_LIVED_SECONDS: i64 = 60 * 24 * 3600;
/// Page tokens derived from a short-lived user token last one hour.
pub(crate) const SHORT_PAGE_TOKEN_SECONDS: i64 = 3600;
/// Data access lasts 90 days from the last login.
pub(crate) const DATA_ACCESS_SECONDS: i64 = 90 * 24 * 3600;
/// Authorization codes live 10 minutes (undocumented; the strict reading).
pub(crate) const CODE_SECONDS: i64 = 600;

/// How the emulator starts.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed the demo app, test users, pages and business (see docs/emulator.md).
    pub seed: bool,
    /// The `iss` of id_tokens and of the discovery document.
    pub oidc_issuer: String,
    /// Calls per app and hour that make `X-App-Usage` read 100 (percent).
    pub app_calls_per_hour: u64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: true,
            oidc_issuer: "https://www.facebook.com".to_owned(),
            app_calls_per_hour: 100_000,
        }
    }
}

/// All records, behind `Sim`'s lock. (Its `Debug` shows counts only: the maps are keyed by
/// tokens and codes.)
#[derive(Default)]
pub(crate) struct State {
    pub apps: HashMap<String, App>,
    pub users: BTreeMap<String, TestUser>,
    pub pages: HashMap<String, Page>,
    pub businesses: BTreeMap<String, Business>,
    /// Keyed by (app id, user id).
    pub grants: HashMap<(String, String), Grant>,
    /// Keyed by (app id, business id).
    pub installations: HashMap<(String, String), Installation>,
    pub codes: HashMap<String, CodeRecord>,
    pub tokens: HashMap<String, TokenRecord>,
    /// Page tokens handed out per (source token, page id), so repeated calls agree.
    pub page_tokens: HashMap<(String, String), String>,
    pub faults: Faults,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("apps", &self.apps.len())
            .field("users", &self.users.len())
            .field("pages", &self.pages.len())
            .field("businesses", &self.businesses.len())
            .field("grants", &self.grants.len())
            .field("codes", &self.codes.len())
            .field("tokens", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

/// The (app, user) grant a token depends on: user tokens and page tokens derived from them.
fn grant_key(record: &TokenRecord) -> Option<(String, String)> {
    match &record.kind {
        TokenKind::User { user_id }
        | TokenKind::Page {
            user_id,
            system: None,
            ..
        } => Some((record.app_id.clone(), user_id.clone())),
        _ => None,
    }
}

/// Why a token cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    /// Not a token the emulator issued.
    Unknown,
    Revoked {
        subcode: Option<u32>,
        app_id: String,
    },
    Expired {
        expires_at: i64,
    },
    /// The user removed the app or all its permissions.
    NotAuthorized {
        app_id: String,
    },
}

/// The Facebook emulator (cheap to clone; all clones share one state).
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

struct Inner {
    config: SimConfig,
    clock: Clock,
    state: RwLock<State>,
    oidc_key: OnceLock<Option<OidcKey>>,
    http: reqwest::Client,
    requests: std::sync::Mutex<crate::requests::RequestLog>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Sim {
    /// A new emulator; with `config.seed` it starts with the demo data.
    pub fn new(config: SimConfig) -> Sim {
        let mut state = State::default();
        if config.seed {
            crate::seed::seed(&mut state);
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Sim {
            inner: Arc::new(Inner {
                config,
                clock: Clock::default(),
                state: RwLock::new(state),
                oidc_key: OnceLock::new(),
                http,
                requests: std::sync::Mutex::default(),
            }),
        }
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Current emulator time (unix seconds).
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    pub(crate) fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, State> {
        self.inner
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The request log (its own lock, so that logging never waits for the state).
    pub(crate) fn requests(&self) -> std::sync::MutexGuard<'_, crate::requests::RequestLog> {
        self.inner
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.inner
            .state
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The RS256 key for id_tokens, generated on first use (`None` if generation failed).
    pub(crate) fn oidc_key(&self) -> Option<&OidcKey> {
        self.inner.oidc_key.get_or_init(OidcKey::generate).as_ref()
    }

    /// Back to the seed state (the clock returns to wall time too).
    pub fn reset(&self) {
        let mut fresh = State::default();
        if self.inner.config.seed {
            crate::seed::seed(&mut fresh);
        }
        *self.write() = fresh;
        self.inner.clock.reset();
        self.requests().clear();
    }

    /// Mints a user token without the dialog, granting `scopes` (plus `public_profile`).
    ///
    /// Returns `(access_token, expires_in)`, or `None` if the app or user is unknown.
    pub fn mint_user_token(
        &self,
        app_id: &str,
        user_id: &str,
        scopes: &[String],
        long_lived: bool,
    ) -> Option<(String, i64)> {
        let now = self.now();
        let mut state = self.write();
        if !state.apps.contains_key(app_id) || !state.users.contains_key(user_id) {
            return None;
        }
        let grant = state
            .grants
            .entry((app_id.to_owned(), user_id.to_owned()))
            .or_insert_with(|| Grant {
                permissions: BTreeMap::new(),
                data_access_expires_at: now + DATA_ACCESS_SECONDS,
            });
        grant.data_access_expires_at = now + DATA_ACCESS_SECONDS;
        grant
            .permissions
            .insert("public_profile".to_owned(), PermissionStatus::Granted);
        for scope in scopes {
            grant
                .permissions
                .insert(scope.clone(), PermissionStatus::Granted);
        }
        let lifetime = if long_lived {
            LONG_LIVED_SECONDS
        } else {
            SHORT_LIVED_SECONDS
        };
        let token = state.insert_user_token(app_id, user_id, now, now + lifetime, long_lived);
        Some((token, lifetime))
    }
}

impl State {
    /// Stores a new user token and returns it.
    pub fn insert_user_token(
        &mut self,
        app_id: &str,
        user_id: &str,
        now: i64,
        expires_at: i64,
        long_lived: bool,
    ) -> String {
        let token = ids::access_token();
        self.tokens.insert(
            token.clone(),
            TokenRecord {
                app_id: app_id.to_owned(),
                kind: TokenKind::User {
                    user_id: user_id.to_owned(),
                },
                issued_at: now,
                expires_at: Some(expires_at),
                long_lived,
                revoked: None,
                auth_type: None,
                auth_nonce: None,
            },
        );
        token
    }

    /// Resolves an app token: either one minted by `client_credentials` or the literal
    /// `APPID|SECRET`.
    fn app_token(&self, token: &str) -> Option<TokenRecord> {
        let (app_id, secret) = token.split_once('|')?;
        let app = self.apps.get(app_id)?;
        if !crate::crypto::constant_time_eq(&app.secret, secret) {
            return None;
        }
        Some(TokenRecord {
            app_id: app.id.clone(),
            kind: TokenKind::App,
            issued_at: 0,
            expires_at: None,
            long_lived: true,
            revoked: None,
            auth_type: None,
            auth_nonce: None,
        })
    }

    /// Looks a token up without judging it.
    pub fn find_token(&self, token: &str) -> Option<TokenRecord> {
        match self.tokens.get(token) {
            Some(record) => Some(record.clone()),
            None => self.app_token(token),
        }
    }

    /// Looks a token up and checks that it can be used now.
    pub fn valid_token(&self, token: &str, now: i64) -> Result<TokenRecord, TokenProblem> {
        let record = self.find_token(token).ok_or(TokenProblem::Unknown)?;
        self.check(&record, now)?;
        Ok(record)
    }

    /// Judges a token: revoked, expired, or its user no longer authorizes the app.
    pub fn check(&self, record: &TokenRecord, now: i64) -> Result<(), TokenProblem> {
        if !self.apps.contains_key(&record.app_id) {
            return Err(TokenProblem::Unknown);
        }
        if let Some(Revocation { subcode }) = record.revoked {
            return Err(TokenProblem::Revoked {
                subcode,
                app_id: record.app_id.clone(),
            });
        }
        if let Some(expires_at) = record.expires_at
            && now >= expires_at
        {
            return Err(TokenProblem::Expired { expires_at });
        }
        if let Some(key) = grant_key(record)
            && !self.grants.contains_key(&key)
        {
            return Err(TokenProblem::NotAuthorized {
                app_id: record.app_id.clone(),
            });
        }
        Ok(())
    }

    /// The permissions a token carries now.
    pub fn token_scopes(&self, record: &TokenRecord) -> Vec<String> {
        match &record.kind {
            TokenKind::SystemUser { scopes, .. }
            | TokenKind::Page {
                system: Some(SystemPageGrant { scopes, .. }),
                ..
            } => scopes.clone(),
            TokenKind::App => Vec::new(),
            _ => grant_key(record)
                .and_then(|key| self.grants.get(&key))
                .map(Grant::granted)
                .unwrap_or_default(),
        }
    }

    pub fn has_scope(&self, record: &TokenRecord, scope: &str) -> bool {
        match &record.kind {
            TokenKind::SystemUser { scopes, .. }
            | TokenKind::Page {
                system: Some(SystemPageGrant { scopes, .. }),
                ..
            } => scopes.iter().any(|s| s == scope),
            TokenKind::App => false,
            _ => grant_key(record)
                .and_then(|key| self.grants.get(&key))
                .and_then(|g| g.permissions.get(scope))
                .is_some_and(|s| *s == PermissionStatus::Granted),
        }
    }

    /// Marks every token of (app, user) revoked with `subcode`, page tokens included.
    pub fn revoke_user_tokens(&mut self, app_id: &str, user_id: &str, subcode: Option<u32>) {
        for record in self.tokens.values_mut() {
            let owner = match &record.kind {
                TokenKind::User { user_id } | TokenKind::Page { user_id, .. } => user_id,
                _ => continue,
            };
            if record.app_id == app_id && owner == user_id && record.revoked.is_none() {
                record.revoked = Some(Revocation { subcode });
            }
        }
    }

    /// A page token for `page_id` derived from `source` (a user or system-user token).
    pub fn page_token_for(
        &mut self,
        source_token: &str,
        source: &TokenRecord,
        page_id: &str,
        now: i64,
    ) -> String {
        let key = (source_token.to_owned(), page_id.to_owned());
        if let Some(existing) = self.page_tokens.get(&key)
            && self
                .tokens
                .get(existing)
                .is_some_and(|r| self.check(r, now).is_ok())
        {
            return existing.clone();
        }
        let (user_id, expires_at) = match &source.kind {
            TokenKind::User { user_id } if source.long_lived => (user_id.clone(), None),
            TokenKind::User { user_id } => (
                user_id.clone(),
                Some((now + SHORT_PAGE_TOKEN_SECONDS).min(source.expires_at.unwrap_or(i64::MAX))),
            ),
            TokenKind::SystemUser { system_user_id, .. } => {
                (system_user_id.clone(), source.expires_at)
            }
            TokenKind::Page { user_id, .. } => (user_id.clone(), source.expires_at),
            TokenKind::App => (String::new(), source.expires_at),
        };
        let token = ids::access_token();
        let system = match &source.kind {
            TokenKind::SystemUser {
                business_id,
                scopes,
                ..
            } => Some(SystemPageGrant {
                business_id: business_id.clone(),
                scopes: scopes.clone(),
            }),
            TokenKind::Page { system, .. } => system.clone(),
            _ => None,
        };
        let kind = TokenKind::Page {
            user_id,
            page_id: page_id.to_owned(),
            system,
        };
        self.tokens.insert(
            token.clone(),
            TokenRecord {
                app_id: source.app_id.clone(),
                kind,
                issued_at: now,
                expires_at,
                long_lived: expires_at.is_none() || source.long_lived,
                revoked: None,
                auth_type: None,
                auth_nonce: None,
            },
        );
        self.page_tokens.insert(key, token.clone());
        token
    }

    /// Creates the installation and system-user token for a Login-for-Business flow.
    pub fn install_for_business(
        &mut self,
        app_id: &str,
        business_id: &str,
        scopes: Vec<String>,
        assets: Vec<String>,
        expires_in_60_days: bool,
        now: i64,
    ) -> Option<String> {
        let system_user_id = self.businesses.get(business_id)?.system_user_id.clone();
        let token = self.insert_system_user_token(
            app_id,
            business_id,
            &system_user_id,
            scopes.clone(),
            assets.clone(),
            expires_in_60_days,
            now,
        );
        self.installations.insert(
            (app_id.to_owned(), business_id.to_owned()),
            Installation {
                system_user_id,
                scopes,
                assets,
                token: token.clone(),
            },
        );
        Some(token)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn insert_system_user_token(
        &mut self,
        app_id: &str,
        business_id: &str,
        system_user_id: &str,
        scopes: Vec<String>,
        assets: Vec<String>,
        expires_in_60_days: bool,
        now: i64,
    ) -> String {
        let token = ids::access_token();
        self.tokens.insert(
            token.clone(),
            TokenRecord {
                app_id: app_id.to_owned(),
                kind: TokenKind::SystemUser {
                    business_id: business_id.to_owned(),
                    system_user_id: system_user_id.to_owned(),
                    scopes,
                    assets,
                },
                issued_at: now,
                expires_at: expires_in_60_days.then_some(now + LONG_LIVED_SECONDS),
                long_lived: true,
                revoked: None,
                auth_type: None,
                auth_nonce: None,
            },
        );
        token
    }

    pub fn new_usage() -> Arc<UsageWindow> {
        Arc::new(UsageWindow::default())
    }
}
