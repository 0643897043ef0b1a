//! The token endpoints: code exchange, long-lived exchange, app token, `debug_token`.
//!
//! The code exchange is sent exactly once. Facebook burns a code on first use, so retrying
//! after a lost answer can only produce "This authorization code has been used" and hide
//! whether the first attempt worked. The other reads here are idempotent and retried.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use crate::client::{Facebook, GraphResponse, Repeat};
use crate::error::FacebookError;
use crate::login::PkceVerifier;
use crate::secret::{AccessToken, AuthorizationCode};
use crate::token::{DebugToken, TokenResponse};

/// How to authenticate a code exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// Send `client_secret` (a confidential server, the usual case).
    #[default]
    Secret,
    /// Send no secret: a public PKCE client. Requires a `code_verifier`.
    PkceOnly,
}

/// The parameters of a code exchange besides the code.
#[derive(Clone, Copy, Debug, Default)]
pub struct CodeExchange<'a> {
    /// The `redirect_uri` of the dialog, byte for byte. `None` only for Login for Business
    /// codes obtained by the JS SDK, which are exchanged without one.
    pub redirect_uri: Option<&'a str>,
    /// The PKCE verifier when the dialog carried a `code_challenge`.
    pub code_verifier: Option<&'a PkceVerifier>,
    /// Whether to send the app secret.
    pub client_auth: ClientAuth,
}

impl Facebook {
    /// Exchanges a dialog code for a (short-lived) user token, or a system-user token for
    /// Login for Business configurations. Never retried.
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        exchange: CodeExchange<'_>,
    ) -> Result<TokenResponse, FacebookError> {
        let app = self.app();
        let mut params = vec![("client_id".to_owned(), app.app_id.clone())];
        if let Some(redirect_uri) = exchange.redirect_uri {
            params.push(("redirect_uri".to_owned(), redirect_uri.to_owned()));
        }
        match exchange.client_auth {
            ClientAuth::Secret => params.push((
                "client_secret".to_owned(),
                app.app_secret.expose().to_owned(),
            )),
            ClientAuth::PkceOnly if exchange.code_verifier.is_none() => {
                return Err(FacebookError::InvalidRequest(
                    "a public client exchange needs a code_verifier".to_owned(),
                ));
            }
            ClientAuth::PkceOnly => {}
        }
        if let Some(verifier) = exchange.code_verifier {
            params.push(("code_verifier".to_owned(), verifier.expose().to_owned()));
        }
        params.push(("code".to_owned(), code.expose().to_owned()));
        let url = app.graph_url("oauth/access_token");
        let response = self
            .execute(Method::GET, url, params, None, Repeat::Never)
            .await?;
        token_response(&response)
    }

    /// Exchanges a short-lived user token for a long-lived one (about 60 days). Exchanging a
    /// long-lived token again does not extend it.
    pub async fn exchange_long_lived(
        &self,
        token: &AccessToken,
    ) -> Result<TokenResponse, FacebookError> {
        let app = self.app();
        let params = vec![
            ("grant_type".to_owned(), "fb_exchange_token".to_owned()),
            ("client_id".to_owned(), app.app_id.clone()),
            (
                "client_secret".to_owned(),
                app.app_secret.expose().to_owned(),
            ),
            ("fb_exchange_token".to_owned(), token.expose().to_owned()),
        ];
        let url = app.graph_url("oauth/access_token");
        let response = self
            .execute(Method::GET, url, params, None, Repeat::Safe)
            .await?;
        token_response(&response)
    }

    /// Fetches an app token with the `client_credentials` grant. For most uses
    /// [`FacebookApp::app_access_token`](crate::FacebookApp::app_access_token) (the
    /// `{app-id}|{app-secret}` form) works without a call.
    pub async fn fetch_app_access_token(&self) -> Result<TokenResponse, FacebookError> {
        let app = self.app();
        let params = vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".to_owned(), app.app_id.clone()),
            (
                "client_secret".to_owned(),
                app.app_secret.expose().to_owned(),
            ),
        ];
        let url = app.graph_url("oauth/access_token");
        let response = self
            .execute(Method::GET, url, params, None, Repeat::Safe)
            .await?;
        token_response(&response)
    }

    /// Inspects `input_token` with the app token. Check [`DebugToken::is_valid`] and
    /// [`DebugToken::is_for_app`]: tokens of other apps are described too.
    pub async fn debug_token(
        &self,
        input_token: &AccessToken,
    ) -> Result<DebugToken, FacebookError> {
        self.debug_token_as(input_token, &self.app().app_access_token())
            .await
    }

    /// Inspects `input_token` with another inspecting token (an app developer's user token).
    pub async fn debug_token_as(
        &self,
        input_token: &AccessToken,
        inspector: &AccessToken,
    ) -> Result<DebugToken, FacebookError> {
        let response = self
            .get(
                "debug_token",
                &[("input_token", input_token.expose())],
                Some(inspector),
            )
            .await?;
        parse_debug_token(&response.json::<Value>()?).ok_or_else(|| FacebookError::Protocol {
            status: response.status,
            detail: "debug_token answer without a data object".to_owned(),
        })
    }
}

/// The answer of `/oauth/access_token_info`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AccessTokenInfo {
    /// `token_type`, normally `bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds left, when the token expires.
    #[serde(default, deserialize_with = "crate::de::opt_u64")]
    pub expires_in: Option<u64>,
    /// The `auth_nonce` of the dialog that issued the token (`auth_type=reauthenticate`).
    #[serde(default)]
    pub auth_nonce: Option<String>,
}

impl Facebook {
    /// `GET /oauth/access_token_info`: confirms a token is this app's and returns the
    /// `auth_nonce` to check after a reauthentication.
    pub async fn access_token_info(
        &self,
        token: &AccessToken,
    ) -> Result<AccessTokenInfo, FacebookError> {
        let app_id = self.app().app_id.clone();
        self.get(
            "oauth/access_token_info",
            &[("client_id", app_id.as_str())],
            Some(token),
        )
        .await?
        .json()
    }
}

pub(crate) fn parse_debug_token(body: &Value) -> Option<DebugToken> {
    #[derive(Deserialize)]
    struct Envelope {
        data: DebugToken,
    }
    serde_json::from_value::<Envelope>(body.clone())
        .ok()
        .map(|e| e.data)
}

fn token_response(response: &GraphResponse) -> Result<TokenResponse, FacebookError> {
    if let Ok(parsed) = serde_json::from_slice::<TokenResponse>(&response.body) {
        return Ok(parsed);
    }
    // Only a body that is not JSON at all may be the pre-v2.3 urlencoded form.
    if serde_json::from_slice::<Value>(&response.body).is_err()
        && let Some(parsed) = TokenResponse::from_form(&response.body)
    {
        return Ok(parsed);
    }
    Err(FacebookError::Protocol {
        status: response.status,
        detail: "token answer without an access_token".to_owned(),
    })
}
