//! What pressing Continue or Cancel does: update the user's grant, mint the code and/or
//! token, and build the redirect back to the app.
//!
//! Declined permissions stay declined unless the dialog was opened with
//! `auth_type=rerequest`; already granted ones stay granted. `public_profile` and every
//! permission of a Login-for-Business configuration are always granted.

use std::collections::BTreeMap;

use url::Url;

use super::request::{DialogError, DialogRequest};
use crate::ids;
use crate::model::{CodeRecord, CodeSubject, Grant, PermissionStatus};
use crate::state::{CODE_SECONDS, DATA_ACCESS_SECONDS, SHORT_LIVED_SECONDS, Sim};

/// The person's answer.
#[derive(Debug, Clone)]
pub(crate) enum Consent {
    Cancel,
    Continue {
        user_id: String,
        /// Ticked permissions.
        granted: Vec<String>,
        /// Ticked assets for system-user configurations (`None` = all allowed).
        assets: Option<Vec<String>>,
    },
}

/// Applies the answer and returns the `Location` to redirect to.
pub(crate) fn complete(
    sim: &Sim,
    request: &DialogRequest,
    consent: Consent,
) -> Result<String, DialogError> {
    let mut params: Vec<(&str, String)> = Vec::new();
    let (user_id, granted, assets) = match consent {
        Consent::Cancel => {
            params.push(("error", "access_denied".to_owned()));
            params.push(("error_code", "200".to_owned()));
            params.push(("error_description", "Permissions error".to_owned()));
            params.push(("error_reason", "user_denied".to_owned()));
            return finish(request, params);
        }
        Consent::Continue {
            user_id,
            granted,
            assets,
        } => (user_id, granted, assets),
    };
    let now = sim.now();
    let mut state = sim.write();
    let user = state
        .users
        .get(&user_id)
        .cloned()
        .ok_or_else(|| DialogError::invalid(format!("Unknown test user {user_id}.")))?;
    let app_id = request.app.id.clone();
    if let Some(config) = request.system_user_config() {
        let business = user
            .businesses
            .first()
            .and_then(|b| state.businesses.get(b))
            .cloned()
            .ok_or_else(|| {
                DialogError::invalid(format!("{} does not administer a business.", user.name))
            })?;
        let allowed: Vec<String> = business
            .assets
            .iter()
            .filter(|a| config.assets.is_empty() || config.assets.contains(a))
            .cloned()
            .collect();
        let chosen = match assets {
            Some(picked) => allowed.into_iter().filter(|a| picked.contains(a)).collect(),
            None => allowed,
        };
        let code = ids::auth_code();
        state.codes.insert(
            code.clone(),
            CodeRecord {
                app_id,
                subject: CodeSubject::SystemUser {
                    business_id: business.id.clone(),
                    scopes: config.permissions.clone(),
                    assets: chosen,
                    expires_in_60_days: config.token_expires_in_60_days,
                },
                redirect_uri: request.redirect_key.clone(),
                code_challenge: request.code_challenge.clone(),
                nonce: None,
                openid: false,
                auth_type: None,
                auth_nonce: None,
                expires_at: now + CODE_SECONDS,
                used: false,
            },
        );
        params.push(("code", code));
        drop(state);
        return finish(request, params);
    }

    let forced_all = request.config.is_some();
    let rerequest = request.rerequest();
    let grant = state
        .grants
        .entry((app_id.clone(), user_id.clone()))
        .or_insert_with(|| Grant {
            permissions: BTreeMap::new(),
            data_access_expires_at: now,
        });
    for permission in &request.permissions {
        let previous = grant.permissions.get(permission).copied();
        let status = if forced_all || permission == "public_profile" {
            PermissionStatus::Granted
        } else if previous == Some(PermissionStatus::Declined) && !rerequest {
            PermissionStatus::Declined
        } else if previous == Some(PermissionStatus::Granted) || granted.contains(permission) {
            PermissionStatus::Granted
        } else {
            PermissionStatus::Declined
        };
        grant.permissions.insert(permission.clone(), status);
    }
    grant.data_access_expires_at = now + DATA_ACCESS_SECONDS;
    let data_access = grant.data_access_expires_at;
    let granted_list = grant.granted();
    let declined_list: Vec<String> = grant
        .permissions
        .iter()
        .filter(|(_, s)| **s == PermissionStatus::Declined)
        .map(|(p, _)| p.clone())
        .collect();
    let auth_type = (!request.auth_types.is_empty()).then(|| request.auth_types.join(","));

    if request.want_code {
        let code = ids::auth_code();
        state.codes.insert(
            code.clone(),
            CodeRecord {
                app_id: app_id.clone(),
                subject: CodeSubject::User {
                    user_id: user_id.clone(),
                },
                redirect_uri: request.redirect_key.clone(),
                code_challenge: request.code_challenge.clone(),
                nonce: request.nonce.clone(),
                openid: request.openid,
                auth_type: auth_type.clone(),
                auth_nonce: request.auth_nonce.clone(),
                expires_at: now + CODE_SECONDS,
                used: false,
            },
        );
        params.push(("code", code));
    }
    if request.want_token {
        let token =
            state.insert_user_token(&app_id, &user_id, now, now + SHORT_LIVED_SECONDS, false);
        if let Some(record) = state.tokens.get_mut(&token) {
            record.auth_type = auth_type;
            record.auth_nonce = request.auth_nonce.clone();
        }
        params.push(("access_token", token));
        params.push(("data_access_expiration_time", data_access.to_string()));
        params.push(("expires_in", SHORT_LIVED_SECONDS.to_string()));
    }
    if request.want_id_token {
        let base = Url::parse(&request.redirect_uri)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        if let Some(id_token) = crate::oidc::id_token(
            sim,
            &state,
            &app_id,
            &user_id,
            request.nonce.as_deref(),
            &base,
        ) {
            params.push(("id_token", id_token));
        }
    }
    if request.want_granted_scopes {
        params.push(("granted_scopes", granted_list.join(",")));
        params.push(("denied_scopes", declined_list.join(",")));
    }
    drop(state);
    finish(request, params)
}

/// Adds `state` and builds the URL, in the fragment or the query.
fn finish(request: &DialogRequest, mut params: Vec<(&str, String)>) -> Result<String, DialogError> {
    if let Some(state) = &request.state {
        params.push(("state", state.clone()));
    }
    let mut url = Url::parse(&request.redirect_uri).map_err(|_| DialogError::url_blocked())?;
    if request.in_fragment() {
        let fragment: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        url.set_fragment(Some(&fragment));
    } else {
        url.query_pairs_mut().extend_pairs(params);
        // Facebook appends `#_=_` to redirects that have no fragment.
        url.set_fragment(Some("_=_"));
    }
    Ok(url.to_string())
}
