//! Typed Graph reads and writes: `/me`, permissions, Pages, system-user tokens.
//!
//! Every call here carries a token and therefore an `appsecret_proof`. Reads are retried when
//! safe; the writes (permission revocation, system-user token management) are sent once.

use serde_json::Value;

use crate::client::{Facebook, describe_json_error};
use crate::error::FacebookError;
use crate::model::{
    Accounts, DEFAULT_PROFILE_FIELDS, Page, Permissions, Profile, Success, TokenOnly,
};
use crate::secret::AccessToken;

/// Fields read from `/me/accounts` when the caller names none.
pub const DEFAULT_ACCOUNT_FIELDS: &[&str] = &[
    "id",
    "name",
    "access_token",
    "category",
    "category_list",
    "tasks",
];

/// The user's edge that [`Facebook::me_with_permissions`] expands inside `/me`.
const PERMISSIONS_EDGE: &str = "permissions";

/// The `fields` value of a `/me` read that also expands the permissions edge: `fields` (or
/// [`DEFAULT_PROFILE_FIELDS`] when empty), then `permissions`.
pub(crate) fn fields_with_permissions(fields: &[&str]) -> String {
    let requested = if fields.is_empty() {
        DEFAULT_PROFILE_FIELDS
    } else {
        fields
    };
    let mut all: Vec<&str> = requested
        .iter()
        .copied()
        .filter(|f| *f != PERMISSIONS_EDGE)
        .collect();
    all.push(PERMISSIONS_EDGE);
    all.join(",")
}

/// Most pages [`Facebook::all_accounts`] follows, so a looping cursor cannot run forever.
pub const MAX_ACCOUNT_PAGES: usize = 100;

/// A request to `/{client_business_id}/system_user_access_tokens` (Login for Business).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemUserTokenRequest {
    /// The client's business id.
    pub client_business_id: String,
    /// A specific system user; Facebook picks the installation's one when absent.
    pub system_user_id: Option<String>,
    /// Read the existing token instead of minting a new one.
    pub fetch_only: bool,
    /// Limit the token to these assets (a subset of the installation's).
    pub assets: Vec<String>,
    /// Limit the token to these permissions (a subset of the installation's).
    pub scopes: Vec<String>,
    /// Make the token expire in 60 days instead of never.
    pub expires_in_60_days: bool,
}

impl Facebook {
    /// `GET /me?fields=…` with the given fields ([`DEFAULT_PROFILE_FIELDS`] when empty).
    pub async fn me(&self, token: &AccessToken, fields: &[&str]) -> Result<Profile, FacebookError> {
        let fields = if fields.is_empty() {
            DEFAULT_PROFILE_FIELDS
        } else {
            fields
        };
        let response = self
            .get("me", &[("fields", &fields.join(","))], Some(token))
            .await?;
        let status = response.status;
        Profile::from_json(response.json::<Value>()?).ok_or_else(|| FacebookError::Protocol {
            status,
            detail: "profile without an id".to_owned(),
        })
    }

    /// `GET /me?fields=…,permissions`: the profile and the `permissions` edge in one call,
    /// through field expansion (an edge named in `fields` comes back as `{"data": [...]}`
    /// inside the node). The edge is taken out of [`Profile::raw`]. Should an answer lack it,
    /// `/me/permissions` is asked separately.
    pub async fn me_with_permissions(
        &self,
        token: &AccessToken,
        fields: &[&str],
    ) -> Result<(Profile, Permissions), FacebookError> {
        let response = self
            .get(
                "me",
                &[("fields", &fields_with_permissions(fields))],
                Some(token),
            )
            .await?;
        let status = response.status;
        self.profile_and_permissions(token, status, response.json::<Value>()?)
            .await
    }

    /// Splits a `/me` answer asked with [`fields_with_permissions`] into the profile and the
    /// permissions edge, reading `/me/permissions` when the edge is missing.
    pub(crate) async fn profile_and_permissions(
        &self,
        token: &AccessToken,
        status: u16,
        mut raw: Value,
    ) -> Result<(Profile, Permissions), FacebookError> {
        let edge = raw
            .as_object_mut()
            .and_then(|node| node.remove(PERMISSIONS_EDGE));
        let profile = Profile::from_json(raw).ok_or_else(|| FacebookError::Protocol {
            status,
            detail: "profile without an id".to_owned(),
        })?;
        let permissions = match edge {
            Some(edge) => serde_json::from_value(edge).map_err(|e| FacebookError::Protocol {
                status,
                detail: format!("permissions: {}", describe_json_error(&e)),
            })?,
            None => self.permissions(token).await?,
        };
        Ok((profile, permissions))
    }

    /// `GET /me/permissions`: every permission the app asked for, with its status.
    pub async fn permissions(&self, token: &AccessToken) -> Result<Permissions, FacebookError> {
        self.get("me/permissions", &[], Some(token)).await?.json()
    }

    /// `DELETE /me/permissions` (all: the user de-authorizes the app) or
    /// `DELETE /me/permissions/{permission}`. Returns Facebook's success flag.
    pub async fn revoke_permissions(
        &self,
        token: &AccessToken,
        permission: Option<&str>,
    ) -> Result<bool, FacebookError> {
        let path = match permission {
            Some(permission) if !permission.is_empty() => format!("me/permissions/{permission}"),
            Some(_) => {
                return Err(FacebookError::InvalidRequest(
                    "empty permission name".to_owned(),
                ));
            }
            None => "me/permissions".to_owned(),
        };
        let response = self.delete(&path, &[], Some(token)).await?;
        let status = response.status;
        Success::from_json(&response.json::<Value>()?)
            .map(|s| s.0)
            .ok_or_else(|| FacebookError::Protocol {
                status,
                detail: "delete answer is neither true nor {\"success\": …}".to_owned(),
            })
    }

    /// One page of `GET /me/accounts` (the Pages the user manages, with Page tokens).
    /// Pass the previous page's [`next_cursor`](crate::Paged::next_cursor) as `after`.
    pub async fn accounts(
        &self,
        token: &AccessToken,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Accounts, FacebookError> {
        let fields = DEFAULT_ACCOUNT_FIELDS.join(",");
        let limit = limit.map(|l| l.to_string());
        let mut params = vec![("fields", fields.as_str())];
        if let Some(after) = after {
            params.push(("after", after));
        }
        if let Some(limit) = &limit {
            params.push(("limit", limit.as_str()));
        }
        self.get("me/accounts", &params, Some(token)).await?.json()
    }

    /// Every Page of `/me/accounts`, following cursors (at most [`MAX_ACCOUNT_PAGES`] pages).
    pub async fn all_accounts(&self, token: &AccessToken) -> Result<Vec<Page>, FacebookError> {
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_ACCOUNT_PAGES {
            let page = self.accounts(token, after.as_deref(), None).await?;
            let next = page.next_cursor().map(str::to_owned);
            pages.extend(page.data);
            match next {
                Some(cursor) if Some(&cursor) != after.as_ref() => after = Some(cursor),
                _ => return Ok(pages),
            }
        }
        Ok(pages)
    }

    /// `GET /{page_id}?fields=access_token`: the Page token for one Page.
    pub async fn page_access_token(
        &self,
        token: &AccessToken,
        page_id: &str,
    ) -> Result<AccessToken, FacebookError> {
        non_empty(page_id, "page id")?;
        let response = self
            .get(page_id, &[("fields", "access_token")], Some(token))
            .await?;
        Ok(response.json::<TokenOnly>()?.access_token)
    }

    /// `POST /{client_business_id}/system_user_access_tokens`: mints (or, with `fetch_only`,
    /// reads) the system-user token of a Login for Business installation. `token` needs
    /// `business_management`. Never retried.
    pub async fn system_user_access_token(
        &self,
        token: &AccessToken,
        request: &SystemUserTokenRequest,
    ) -> Result<AccessToken, FacebookError> {
        non_empty(&request.client_business_id, "client business id")?;
        let assets = request.assets.join(",");
        let scopes = request.scopes.join(",");
        let mut params: Vec<(&str, &str)> = Vec::new();
        if let Some(system_user_id) = &request.system_user_id {
            params.push(("system_user_id", system_user_id));
        }
        if request.fetch_only {
            params.push(("fetch_only", "true"));
        }
        if !assets.is_empty() {
            params.push(("asset", &assets));
        }
        if !scopes.is_empty() {
            params.push(("scope", &scopes));
        }
        if request.expires_in_60_days {
            params.push(("set_token_expires_in_60_days", "true"));
        }
        let path = format!("{}/system_user_access_tokens", request.client_business_id);
        let response = self.post(&path, &params, Some(token)).await?;
        Ok(response.json::<TokenOnly>()?.access_token)
    }
}

fn non_empty(value: &str, what: &str) -> Result<(), FacebookError> {
    if value.is_empty() || value.contains('/') {
        Err(FacebookError::InvalidRequest(format!("invalid {what}")))
    } else {
        Ok(())
    }
}
