//! `POST /v1/credentials/get`: a usable Facebook token for an address, through the cache.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::secret::Secret;
use crate::{Client, Error};

/// Whose credential a [`CredentialRequest`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialFor {
    /// A person: an fbgate user, or a user of one of your tenants.
    User,
    /// A tenant's installation (a Business Integration System User token).
    Installation,
    /// A Facebook Page managed by a person.
    Page,
}

/// The address of a credential: which provider, and whose token.
///
/// Build it with one of the constructors; it is also the key of the client's cache, so two equal
/// requests share one cached credential.
///
/// ```
/// use fbgate_client::CredentialRequest;
///
/// // A person who signed in through fbgate (or was created with `POST /v1/users` and linked).
/// let user = CredentialRequest::user("facebook", "usr_2x9…");
/// // A person of your own tenant, connected through a connect session.
/// let member = CredentialRequest::tenant_user("facebook", "org_acme", "user_123");
/// // A tenant's installation (Facebook Login for Business, system user token).
/// let installation = CredentialRequest::installation("facebook_business", "org_acme");
/// // A Page that a person manages.
/// let page = CredentialRequest::tenant_user("facebook", "org_acme", "user_123").page("1122334455");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct CredentialRequest {
    provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    credential_for: CredentialFor,
    #[serde(skip_serializing_if = "Option::is_none")]
    page_id: Option<String>,
}

impl CredentialRequest {
    /// The token of an fbgate user (`usr_…`) at the provider with slug `provider`.
    pub fn user(provider: impl Into<String>, user_id: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            tenant_id: None,
            user_id: Some(user_id.into()),
            credential_for: CredentialFor::User,
            page_id: None,
        }
    }

    /// The token of a user of your tenant, both ids as you gave them to the connect session.
    pub fn tenant_user(
        provider: impl Into<String>,
        tenant_id: impl Into<String>,
        user_id: impl Into<String>,
    ) -> Self {
        Self {
            provider: provider.into(),
            tenant_id: Some(tenant_id.into()),
            user_id: Some(user_id.into()),
            credential_for: CredentialFor::User,
            page_id: None,
        }
    }

    /// The installation token of a tenant.
    pub fn installation(provider: impl Into<String>, tenant_id: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            tenant_id: Some(tenant_id.into()),
            user_id: None,
            credential_for: CredentialFor::Installation,
            page_id: None,
        }
    }

    /// The token of the Page `page_id` that this person manages (call it on a
    /// [`CredentialRequest::user`] or [`CredentialRequest::tenant_user`] address).
    pub fn page(mut self, page_id: impl Into<String>) -> Self {
        self.credential_for = CredentialFor::Page;
        self.page_id = Some(page_id.into());
        self
    }

    /// The provider's slug.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Your tenant, if the address has one.
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }

    /// The user id, if the address has one.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Whose credential this asks for.
    pub fn credential_for(&self) -> CredentialFor {
        self.credential_for
    }

    /// The Page, for [`CredentialFor::Page`].
    pub fn page_id(&self) -> Option<&str> {
        self.page_id.as_deref()
    }
}

/// The kind of Facebook token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenType {
    /// A person's user access token.
    User,
    /// A Page access token.
    Page,
    /// A Business Integration System User token.
    SystemUser,
    /// A kind this version of the SDK does not know.
    #[serde(other)]
    Unknown,
}

/// How healthy a credential handed out by fbgate is (unusable ones are errors, not credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CredentialStatus {
    /// Valid.
    Active,
    /// Valid, but expires soon (within fbgate's threshold, 7 days by default): ask the person to
    /// sign in or reconnect again to renew it.
    Expiring,
    /// A status this version of the SDK does not know.
    #[serde(other)]
    Unknown,
}

/// A usable Facebook credential.
///
/// `Debug` shows everything but the token.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct Credential {
    /// fbgate's id of the credential (`crd_…`).
    pub id: String,
    /// The Facebook access token.
    pub access_token: Secret,
    /// What kind of token it is.
    pub token_type: TokenType,
    /// When the token expires; `None` for tokens that never do (page and system-user tokens).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// When the app's access to the person's data ends (Facebook's 90-day data access window),
    /// when known.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// The permissions granted with the token.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Active or expiring.
    pub status: CredentialStatus,
}

#[derive(Deserialize)]
struct CredentialAnswer {
    credential: Credential,
}

impl Client {
    /// A usable Facebook token for `request`, from the cache when it may be served from there,
    /// else from fbgate (and then cached).
    ///
    /// Errors: [`Error::Api`] with `status` 404 and `code` `credential_not_found` (nothing stored
    /// at that address) or `provider_not_found`; 409 with `credential_revoked`,
    /// `credential_expired` or `credential_invalid`, a [`reason`](Error::reason), and
    /// [`needs_reconnect`](Error::needs_reconnect) true. Both remove the cached entry.
    ///
    /// ```no_run
    /// use fbgate_client::{Client, CredentialRequest};
    ///
    /// # async fn demo(fbgate: Client) -> Result<(), fbgate_client::Error> {
    /// let request = CredentialRequest::user("facebook", "usr_2x9…");
    /// match fbgate.get_credential(&request).await {
    ///     Ok(credential) => {
    ///         let _token = credential.access_token.expose();
    ///         // call the Graph API with it
    ///     }
    ///     Err(error) if error.needs_reconnect() => {
    ///         // ask the person to sign in again; error.reason() says why
    ///     }
    ///     Err(error) => return Err(error),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_credential(&self, request: &CredentialRequest) -> Result<Credential, Error> {
        if let Some(credential) = self.inner.credentials.get(request) {
            return Ok(credential);
        }
        match self.post_json("v1/credentials/get", request).await {
            Ok(response) => {
                let answer: CredentialAnswer = response.json().await?;
                self.inner.credentials.insert(request, &answer.credential);
                Ok(answer.credential)
            }
            Err(error) => {
                if matches!(error.status(), Some(404 | 409)) {
                    self.inner.credentials.remove(request);
                }
                Err(error)
            }
        }
    }

    /// Forgets the cached credential of `request`, so the next [`Client::get_credential`] asks
    /// fbgate. Call it when Facebook refuses a token (error 190) that came from the cache.
    ///
    /// ```no_run
    /// use fbgate_client::{Client, CredentialRequest};
    ///
    /// # async fn demo(fbgate: Client) -> Result<(), fbgate_client::Error> {
    /// let request = CredentialRequest::user("facebook", "usr_2x9…");
    /// // Facebook answered an OAuthException with code 190 for the cached token:
    /// fbgate.invalidate(&request);
    /// let fresh = fbgate.get_credential(&request).await; // fbgate says what happened
    /// # Ok(())
    /// # }
    /// ```
    pub fn invalidate(&self, request: &CredentialRequest) {
        self.inner.credentials.remove(request);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_serialise_to_the_api_shape() {
        let cases = [
            (
                CredentialRequest::user("facebook", "usr_1"),
                json!({"provider": "facebook", "user_id": "usr_1", "credential_for": "user"}),
            ),
            (
                CredentialRequest::tenant_user("facebook", "org_a", "u1"),
                json!({"provider": "facebook", "tenant_id": "org_a", "user_id": "u1",
                    "credential_for": "user"}),
            ),
            (
                CredentialRequest::installation("biz", "org_a"),
                json!({"provider": "biz", "tenant_id": "org_a", "credential_for": "installation"}),
            ),
            (
                CredentialRequest::tenant_user("facebook", "org_a", "u1").page("p1"),
                json!({"provider": "facebook", "tenant_id": "org_a", "user_id": "u1",
                    "credential_for": "page", "page_id": "p1"}),
            ),
        ];
        for (request, expected) in cases {
            assert_eq!(serde_json::to_value(&request).unwrap(), expected);
        }
    }

    #[test]
    fn credentials_parse_tolerantly_and_never_show_the_token() {
        let credential: Credential = serde_json::from_value(json!({
            "id": "crd_1", "access_token": "EAABsecret", "token_type": "system_user",
            "expires_at": null, "data_access_expires_at": "2026-11-22T04:35:50Z",
            "scopes": ["business_management"], "status": "active", "something_new": 1
        }))
        .unwrap();
        assert_eq!(credential.token_type, TokenType::SystemUser);
        assert_eq!(credential.expires_at, None);
        assert_eq!(
            credential
                .data_access_expires_at
                .map(|t| t.unix_timestamp()),
            Some(1_795_322_150)
        );
        assert!(!format!("{credential:?}").contains("EAABsecret"));
        let future: Credential = serde_json::from_value(json!({
            "id": "crd_2", "access_token": "t", "token_type": "something_else",
            "status": "sparkling"
        }))
        .unwrap();
        assert_eq!(future.token_type, TokenType::Unknown);
        assert_eq!(future.status, CredentialStatus::Unknown);
    }
}
