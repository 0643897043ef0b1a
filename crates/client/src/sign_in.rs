//! `POST /v1/sign-ins/exchange`: the backend's half of a browser sign-in.
//!
//! The answer types accept fields they do not know, so a newer fbgate does not break an older
//! SDK; fields that may be absent are `Option` or default to empty.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::secret::Secret;
use crate::{Client, Error};

/// A user of the environment.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct User {
    /// fbgate's user id (`usr_…`).
    pub id: String,
    /// Email address, when known.
    #[serde(default)]
    pub email: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// fbgate's copy of the profile picture (`{fbgate}/v1/avatars/{id}`).
    #[serde(default)]
    pub profile_image_url: Option<String>,
    /// `facebook` (created by a sign-in) or `api` (created by `POST /v1/users`).
    pub created_via: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Last sign-in, if any.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_sign_in_at: Option<OffsetDateTime>,
}

/// A Facebook identity of a user.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Identity {
    /// fbgate's identity id (`idn_…`).
    pub id: String,
    /// The user it belongs to.
    pub user_id: String,
    /// The provider's slug.
    pub provider: String,
    /// Facebook's app-scoped user id.
    pub provider_user_id: String,
    /// The synced profile: Facebook's `/me` answer as last read.
    #[serde(default)]
    pub profile: serde_json::Value,
    /// Permissions the person granted.
    #[serde(default)]
    pub granted_scopes: Vec<String>,
    /// Permissions the person declined.
    #[serde(default)]
    pub declined_scopes: Vec<String>,
    /// `active`, `expiring`, `expired`, `revoked` or `invalid`; `None` when no token is stored.
    #[serde(default)]
    pub token_status: Option<String>,
    /// Why the token is unusable, when it is.
    #[serde(default)]
    pub token_status_reason: Option<String>,
    /// Token expiry (`None`: never, or no token).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// End of data access.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// Last health check of the token.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_checked_at: Option<OffsetDateTime>,
    /// When the identity was linked.
    #[serde(with = "time::serde::rfc3339")]
    pub linked_at: OffsetDateTime,
    /// Last profile sync.
    #[serde(with = "time::serde::rfc3339")]
    pub synced_at: OffsetDateTime,
}

/// A completed sign-in: the user, the identity used, and a new session.
///
/// `Debug` shows neither the session token nor the JWT.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct SignIn {
    /// The user.
    pub user: User,
    /// The Facebook identity the person signed in with.
    pub identity: Identity,
    /// True when this sign-in created the user.
    pub is_new_user: bool,
    /// The new session (`ses_…`).
    pub session_id: String,
    /// Opaque, revocable token of the session: it authenticates the Account API and mints fresh
    /// session JWTs (`POST /v1/sessions/jwt`). Shown once; keep it server-side or in an
    /// HttpOnly cookie.
    pub session_token: Secret,
    /// A short-lived (at most 10 minutes) ES256 JWT for the session; check it with
    /// [`Client::verify_session_jwt`].
    pub session_jwt: Secret,
    /// When the session ends.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

#[derive(Serialize)]
struct ExchangeBody<'a> {
    code: &'a str,
}

impl Client {
    /// Trades the one-time `code` that fbgate put on your `redirect_to` for the user, the
    /// identity and a new session. A code works once, within 60 seconds; otherwise the answer is
    /// [`Error::Api`] with status 422 and code `invalid_sign_in_code`.
    ///
    /// ```no_run
    /// # async fn demo(fbgate: fbgate_client::Client, query_code: &str) -> Result<(), fbgate_client::Error> {
    /// // GET /after-sign-in?code=…
    /// let sign_in = fbgate.exchange_sign_in_code(query_code).await?;
    /// println!("welcome {}", sign_in.user.name.as_deref().unwrap_or("back"));
    /// let _cookie_value = sign_in.session_token.expose();
    /// # Ok(())
    /// # }
    /// ```
    pub async fn exchange_sign_in_code(&self, code: &str) -> Result<SignIn, Error> {
        let response = self
            .post_json("v1/sign-ins/exchange", &ExchangeBody { code })
            .await?;
        Ok(response.json().await?)
    }
}
