//! The errors of browser flows, as API.md lists them, and where each one is reported.

use std::fmt;

use url::Url;

/// A flow error code of the public contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowErrorCode {
    /// The user cancelled at Facebook.
    AccessDenied,
    /// Unknown state, or a state from another browser.
    InvalidState,
    /// The flow took longer than its 10 minutes.
    StateExpired,
    /// The callback was already used.
    StateAlreadyUsed,
    /// Facebook returned no email and the provider requires one.
    OauthNoEmailReturned,
    /// Unknown Facebook user and the provider does not allow sign-up.
    SignUpNotAllowed,
    /// The Facebook account belongs to another user.
    IdentityAlreadyLinked,
    /// The user already holds another identity of this provider.
    ProviderAlreadyLinked,
    /// Facebook answered the code exchange with an error.
    TokenExchangeFailed,
    /// The token belongs to another app, or to another user than `/me` says.
    TokenNotForThisApp,
    /// Facebook unreachable, too slow, or failing.
    FacebookUnavailable,
    /// Facebook refused the Login for Business configuration.
    InvalidConfigId,
    /// A required permission was not granted.
    MissingPermissions,
}

impl FlowErrorCode {
    /// The code as sent in `?error=`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowErrorCode::AccessDenied => "access_denied",
            FlowErrorCode::InvalidState => "invalid_state",
            FlowErrorCode::StateExpired => "state_expired",
            FlowErrorCode::StateAlreadyUsed => "state_already_used",
            FlowErrorCode::OauthNoEmailReturned => "oauth_no_email_returned",
            FlowErrorCode::SignUpNotAllowed => "sign_up_not_allowed",
            FlowErrorCode::IdentityAlreadyLinked => "identity_already_linked",
            FlowErrorCode::ProviderAlreadyLinked => "provider_already_linked",
            FlowErrorCode::TokenExchangeFailed => "token_exchange_failed",
            FlowErrorCode::TokenNotForThisApp => "token_not_for_this_app",
            FlowErrorCode::FacebookUnavailable => "facebook_unavailable",
            FlowErrorCode::InvalidConfigId => "invalid_config_id",
            FlowErrorCode::MissingPermissions => "missing_permissions",
        }
    }

    /// A short explanation, safe to show to the person in the browser.
    pub fn description(self) -> &'static str {
        match self {
            FlowErrorCode::AccessDenied => "You cancelled the login at Facebook.",
            FlowErrorCode::InvalidState => {
                "This sign-in link is not valid in this browser. Start the sign-in again from the app."
            }
            FlowErrorCode::StateExpired => "The sign-in took too long. Please start again.",
            FlowErrorCode::StateAlreadyUsed => {
                "This sign-in was already completed. Please start again."
            }
            FlowErrorCode::OauthNoEmailReturned => {
                "Facebook did not share an email address, and this app needs one."
            }
            FlowErrorCode::SignUpNotAllowed => {
                "This app does not accept new sign-ups with Facebook."
            }
            FlowErrorCode::IdentityAlreadyLinked => {
                "This Facebook account is already linked to another user."
            }
            FlowErrorCode::ProviderAlreadyLinked => {
                "Your account already has another Facebook account linked. Unlink it first."
            }
            FlowErrorCode::TokenExchangeFailed => "Facebook refused to complete the login.",
            FlowErrorCode::TokenNotForThisApp => "The Facebook login was issued for another app.",
            FlowErrorCode::FacebookUnavailable => {
                "Facebook could not be reached. Please try again."
            }
            FlowErrorCode::InvalidConfigId => "Facebook refused this app's login configuration.",
            FlowErrorCode::MissingPermissions => "A permission this app needs was not granted.",
        }
    }
}

impl fmt::Display for FlowErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed flow: where it is reported depends on whether a validated `redirect_to` is known.
#[derive(Debug)]
pub struct FlowFailure {
    /// What went wrong.
    pub code: FlowErrorCode,
    /// The app's validated return URL, when the state was known.
    pub redirect_to: Option<Url>,
    /// Internal detail for the logs (never shown, never secret).
    pub detail: Option<String>,
}

impl FlowFailure {
    /// A failure reported on fbgate's own HTML page (no safe place to send the browser).
    pub fn page(code: FlowErrorCode) -> Self {
        Self {
            code,
            redirect_to: None,
            detail: None,
        }
    }

    /// A failure reported to the app by redirecting to its validated `redirect_to`.
    pub fn redirect(code: FlowErrorCode, redirect_to: &Url) -> Self {
        Self {
            code,
            redirect_to: Some(redirect_to.clone()),
            detail: None,
        }
    }

    /// Adds a detail for the logs.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The URL to send the browser to, with `error` and `error_description` appended.
    pub fn redirect_url(&self) -> Option<Url> {
        let mut url = self.redirect_to.clone()?;
        url.query_pairs_mut()
            .append_pair("error", self.code.as_str())
            .append_pair("error_description", self.code.description());
        Some(url)
    }
}
