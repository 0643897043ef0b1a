//! Browser flows through Facebook's login dialog: starting one, and checking the callback.
//!
//! A flow is an `auth_attempts` row. Its `state` is 256 random bits sent to Facebook and never
//! stored (only its SHA-256). A second random value goes into an HttpOnly, SameSite=Lax cookie
//! whose name is derived from the state, so that a callback only completes in the browser that
//! started it, and several flows can run side by side in one browser. The PKCE verifier is
//! sealed by the vault. A callback is judged in the order of API.md: unknown state, already
//! used, expired, wrong browser; only then is Facebook's answer looked at.

mod error;
pub mod limited_login;
pub mod native;
pub mod sign_in;

use std::time::Duration;

use aws_lc_rs::constant_time;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fbgate_facebook::{AuthType, PkceVerifier};
use url::Url;

pub use error::{FlowErrorCode, FlowFailure};

use super::api_keys::hash_key;
use super::providers::{self, LoginProduct, Provider, ProviderUse, Scopes, TokenType};
use super::{Context, Error};
use crate::ids;
use crate::store::AuthAttemptRow;
use crate::vault::{Aad, KeyScope};

/// How long a started flow may take.
pub const STATE_TTL: Duration = Duration::from_secs(10 * 60);

/// What a flow does when it comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowKind {
    /// Sign in (or sign up) with Facebook.
    SignIn,
    /// Join a Facebook identity to this signed-in user.
    Link {
        /// The user.
        user_id: String,
    },
    /// Store a credential for a user of the app's own tenant (a connect session).
    Connect {
        /// The connect session.
        connect_session_id: String,
    },
}

impl FlowKind {
    fn as_str(&self) -> &'static str {
        match self {
            FlowKind::SignIn => "sign_in",
            FlowKind::Link { .. } => "link",
            FlowKind::Connect { .. } => "connect",
        }
    }

    fn required_use(&self) -> ProviderUse {
        match self {
            FlowKind::SignIn => ProviderUse::SignIn,
            FlowKind::Link { .. } => ProviderUse::Linking,
            FlowKind::Connect { .. } => ProviderUse::ApiAccess,
        }
    }

    fn user_id(&self) -> Option<&str> {
        match self {
            FlowKind::Link { user_id } => Some(user_id),
            FlowKind::SignIn | FlowKind::Connect { .. } => None,
        }
    }

    fn connect_session_id(&self) -> Option<&str> {
        match self {
            FlowKind::Connect { connect_session_id } => Some(connect_session_id),
            FlowKind::SignIn | FlowKind::Link { .. } => None,
        }
    }
}

/// A request to start a flow, as the app sent it.
#[derive(Debug, Clone)]
pub struct StartRequest<'a> {
    /// The provider's slug.
    pub provider_slug: &'a str,
    /// Where the browser returns; must match the provider's allowed list.
    pub redirect_to: &'a str,
    /// Comma-separated permissions replacing the provider's, if given.
    pub scopes: Option<&'a str>,
    /// Re-ask declined permissions (`auth_type=rerequest`).
    pub rerequest: bool,
    /// What the flow does.
    pub kind: FlowKind,
}

/// The cookie that binds a flow to the browser that started it.
#[derive(Debug, Clone)]
pub struct BrowserCookie {
    /// Derived from the state.
    pub name: String,
    /// Random; only its hash is stored.
    pub value: String,
    /// Lifetime.
    pub max_age: Duration,
}

/// A started flow: send the browser to `dialog_url` with `cookie` set.
#[derive(Debug)]
pub struct Started {
    /// Facebook's login dialog.
    pub dialog_url: Url,
    /// The browser-binding cookie.
    pub cookie: BrowserCookie,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The name of the cookie that belongs to a state.
pub fn cookie_name_for_state(state: &str) -> String {
    format!("fbgate_flow_{}", hex::encode(&hash_key(state)[..6]))
}

/// The callback URL of a provider, to register in Meta's dashboard.
pub fn callback_url(ctx: &Context, provider_slug: &str) -> String {
    format!("{}/v1/oauth-callback/{provider_slug}", ctx.settings.issuer)
}

fn pkce_aad(environment_id: &str, attempt_id: &str) -> Aad {
    Aad::new("pkce_verifier")
        .with(environment_id)
        .with(attempt_id)
}

/// Refuses a provider that is not enabled for `usage`.
pub fn check_enabled(provider: &Provider, usage: ProviderUse) -> Result<(), Error> {
    if provider.settings.enabled_for.allows(usage) {
        return Ok(());
    }
    Err(Error::Forbidden {
        code: "provider_not_enabled",
        message: format!(
            "provider `{}` is not enabled for {}",
            provider.settings.slug,
            usage.as_str()
        ),
    })
}

/// Parses a `redirect_to` and checks it against the provider's allowed list (no open redirects).
pub fn allowed_redirect(provider: &Provider, redirect_to: &str) -> Result<Url, Error> {
    Url::parse(redirect_to)
        .ok()
        .filter(|url| provider.settings.allowed_redirect_urls.allows(url))
        .ok_or_else(|| Error::Invalid {
            field: "redirect_to".to_owned(),
            code: "redirect_to_not_allowed",
            message: "`redirect_to` is not in the provider's allowed_redirect_urls".to_owned(),
        })
}

/// Starts a flow: records it and builds the dialog URL. Errors here have no validated place to
/// return to, so the HTTP layer shows them on a page.
pub async fn start(
    ctx: &Context,
    environment_id: &str,
    request: StartRequest<'_>,
) -> Result<Started, Error> {
    let provider = providers::get_by_slug(ctx, environment_id, request.provider_slug).await?;
    let settings = &provider.settings;
    check_enabled(&provider, request.kind.required_use())?;
    let redirect_to = allowed_redirect(&provider, request.redirect_to)?;
    let scopes = match request.scopes {
        Some(text) => {
            let list: Vec<String> = text
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            Scopes::parse("scopes", &list)?
        }
        None => settings.scopes.clone(),
    };

    let state = random_token();
    let binding = random_token();
    let verifier = PkceVerifier::generate();
    let now = ctx.clock.now();
    let attempt_id = ids::new_id("att");
    let sealed_verifier = ctx
        .vault
        .seal(
            environment_id,
            &KeyScope::Environment,
            &pkce_aad(environment_id, &attempt_id),
            verifier.expose().as_bytes(),
        )
        .await?;
    let attempt = AuthAttemptRow {
        id: attempt_id,
        environment_id: environment_id.to_owned(),
        provider_id: provider.id.clone(),
        state_hash: hash_key(&state).to_vec(),
        browser_hash: hash_key(&binding).to_vec(),
        flow: request.kind.as_str().to_owned(),
        pkce_verifier: sealed_verifier,
        redirect_to: redirect_to.to_string(),
        user_id: request.kind.user_id().map(str::to_owned),
        connect_session_id: request.kind.connect_session_id().map(str::to_owned),
        scopes: serde_json::Value::from(scopes.as_slice().to_vec()).to_string(),
        created_at: now,
        expires_at: now + STATE_TTL,
        used_at: None,
    };
    ctx.store.insert_auth_attempt(&attempt).await?;

    let app = providers::facebook_app(ctx, &provider).await?;
    let redirect_uri = callback_url(ctx, request.provider_slug);
    let mut dialog = app.login_dialog(&redirect_uri, &state).pkce(&verifier);
    dialog = match (&settings.login_product, &settings.config_id) {
        (LoginProduct::FacebookLoginForBusiness, Some(config_id)) => {
            let dialog = dialog.config_id(config_id.as_str());
            if settings.token_type == TokenType::SystemUser {
                dialog.override_default_response_type()
            } else {
                dialog
            }
        }
        _ => dialog.scopes(scopes.as_slice().iter().map(String::as_str)),
    };
    if request.rerequest {
        dialog = dialog.auth_type(AuthType::Rerequest);
    }
    Ok(Started {
        dialog_url: dialog.url(),
        cookie: BrowserCookie {
            name: cookie_name_for_state(&state),
            value: binding,
            max_age: STATE_TTL,
        },
    })
}

/// What Facebook sent to the callback.
#[derive(Debug, Clone, Default)]
pub struct CallbackParams {
    /// `state`.
    pub state: Option<String>,
    /// `code`, on success.
    pub code: Option<String>,
    /// `error`, on failure (`access_denied` when the user cancelled).
    pub error: Option<String>,
    /// `error_reason` (`user_denied`).
    pub error_reason: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
}

/// A callback whose state checked out: the flow, its provider, and Facebook's code.
#[derive(Debug)]
pub struct Resumed {
    /// The flow (now marked used).
    pub attempt: AuthAttemptRow,
    /// Its provider.
    pub provider: Provider,
    /// The app's validated return URL.
    pub redirect_to: Url,
    /// Facebook's code.
    pub code: String,
}

/// Checks a callback's state in the order of the contract, marks the flow used, and reads
/// Facebook's answer. `browser_binding` is the value of the cookie named by
/// [`cookie_name_for_state`], when the browser sent it.
///
/// The common case is one statement: the flow is marked used only if every check passes
/// ([`Store::claim_auth_attempt`](crate::store::Store::claim_auth_attempt)). When it is not,
/// the flow is read again to say why, in the contract's order: unknown state, another
/// provider's URL, already used, expired, another browser.
pub async fn resume(
    ctx: &Context,
    provider_slug: &str,
    params: CallbackParams,
    browser_binding: Option<&str>,
) -> Result<Resumed, FlowFailure> {
    let invalid_state = || FlowFailure::page(FlowErrorCode::InvalidState);
    let internal =
        |e: Error| FlowFailure::page(FlowErrorCode::FacebookUnavailable).with_detail(e.to_string());
    let state = params
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(invalid_state)?;
    let state_hash = hash_key(state);
    let now = ctx.clock.now();
    let claimed = match browser_binding {
        Some(binding) => ctx
            .store
            .claim_auth_attempt(&state_hash, &hash_key(binding), provider_slug, now)
            .await
            .map_err(|e| internal(e.into()))?,
        None => None,
    };
    let attempt = match claimed {
        Some(attempt) => attempt,
        None => {
            return Err(why_not_claimed(ctx, provider_slug, &state_hash, browser_binding).await);
        }
    };
    let provider = providers::find_by_id(ctx, &attempt.provider_id)
        .await
        .map_err(|_| invalid_state())?;
    let redirect_to = Url::parse(&attempt.redirect_to).map_err(|_| invalid_state())?;
    if let Some(error) = params.error.as_deref() {
        let detail = format!(
            "facebook error={error} reason={} description={}",
            params.error_reason.as_deref().unwrap_or("-"),
            params.error_description.as_deref().unwrap_or("-")
        );
        let code = if error == "access_denied" {
            FlowErrorCode::AccessDenied
        } else if params
            .error_description
            .as_deref()
            .is_some_and(|d| d.to_ascii_lowercase().contains("config"))
        {
            FlowErrorCode::InvalidConfigId
        } else {
            FlowErrorCode::TokenExchangeFailed
        };
        return Err(FlowFailure::redirect(code, &redirect_to).with_detail(detail));
    }
    let code = params.code.filter(|c| !c.is_empty()).ok_or_else(|| {
        FlowFailure::redirect(FlowErrorCode::TokenExchangeFailed, &redirect_to)
            .with_detail("callback without code")
    })?;
    Ok(Resumed {
        attempt,
        provider,
        redirect_to,
        code,
    })
}

/// Why a callback's flow could not be claimed, judged in the contract's order.
async fn why_not_claimed(
    ctx: &Context,
    provider_slug: &str,
    state_hash: &[u8],
    browser_binding: Option<&str>,
) -> FlowFailure {
    let invalid_state = || FlowFailure::page(FlowErrorCode::InvalidState);
    let attempt = match ctx.store.find_auth_attempt(state_hash).await {
        Ok(Some(attempt)) => attempt,
        Ok(None) => return invalid_state(),
        Err(e) => {
            return FlowFailure::page(FlowErrorCode::FacebookUnavailable)
                .with_detail(e.to_string());
        }
    };
    let Ok(provider) = providers::find_by_id(ctx, &attempt.provider_id).await else {
        return invalid_state();
    };
    if provider.settings.slug.as_str() != provider_slug {
        return invalid_state().with_detail("callback reached another provider's URL");
    }
    let Ok(redirect_to) = Url::parse(&attempt.redirect_to) else {
        return invalid_state();
    };
    if attempt.used_at.is_some() {
        return FlowFailure::redirect(FlowErrorCode::StateAlreadyUsed, &redirect_to);
    }
    if ctx.clock.now() >= attempt.expires_at {
        return FlowFailure::redirect(FlowErrorCode::StateExpired, &redirect_to);
    }
    let same_browser = browser_binding.is_some_and(|value| {
        constant_time::verify_slices_are_equal(&hash_key(value), &attempt.browser_hash).is_ok()
    });
    if !same_browser {
        return invalid_state().with_detail("browser-binding cookie missing or different");
    }
    // Everything checks out now, so the flow was claimed in between (a duplicate callback).
    FlowFailure::redirect(FlowErrorCode::StateAlreadyUsed, &redirect_to)
}

/// Opens a flow's PKCE verifier.
async fn pkce_verifier(ctx: &Context, attempt: &AuthAttemptRow) -> Result<PkceVerifier, Error> {
    let text = ctx
        .vault
        .open_string(
            &attempt.environment_id,
            &pkce_aad(&attempt.environment_id, &attempt.id),
            &attempt.pkce_verifier,
        )
        .await?;
    PkceVerifier::from_stored(text.expose().as_str())
        .ok_or_else(|| Error::Vault(crate::vault::VaultError::MalformedEnvelope))
}
