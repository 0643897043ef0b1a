//! `POST /{client_business_id}/system_user_access_tokens`: Login for Business token
//! management.
//!
//! `appsecret_proof` is always required here, whatever the app's setting, as Facebook
//! documents. New tokens may narrow the installation's scope and assets, never widen them.

use serde_json::json;

use super::{CallMeta, GraphError, GraphOk, GraphRequest, GraphResult, check_proof};
use crate::model::TokenKind;
use crate::state::Sim;

fn needs_business_management() -> GraphError {
    GraphError::permission("(#200) Requires business_management permission to manage the object")
}

fn list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

pub(super) fn system_user_access_tokens(
    sim: &Sim,
    request: &GraphRequest,
    meta: &mut CallMeta,
    business_id: &str,
) -> GraphResult {
    let now = sim.now();
    let mut state = sim.write();
    let token = request.token().ok_or_else(GraphError::no_token)?;
    let record = state
        .valid_token(token, now)
        .map_err(|p| GraphError::token(&p, now))?;
    meta.app_id = Some(record.app_id.clone());
    meta.business_object = Some(business_id.to_owned());
    check_proof(&state, request, token, &record, now, true)?;
    let business = state
        .businesses
        .get(business_id)
        .cloned()
        .ok_or_else(|| GraphError::no_such_object(business_id))?;
    let allowed = match &record.kind {
        TokenKind::SystemUser {
            business_id: own, ..
        } => own == business_id,
        TokenKind::User { user_id } => business.admins.contains(user_id),
        _ => false,
    };
    if !allowed || !state.has_scope(&record, "business_management") {
        return Err(needs_business_management());
    }
    let installation = state
        .installations
        .get(&(record.app_id.clone(), business_id.to_owned()))
        .cloned()
        .ok_or_else(|| {
            GraphError::oauth(100, "(#100) The app is not installed for this business")
        })?;
    if let Some(system_user_id) = request.param("system_user_id")
        && system_user_id != installation.system_user_id
    {
        return Err(GraphError::oauth(100, "(#100) Invalid system_user_id"));
    }
    if request.flag("fetch_only") {
        return Ok(GraphOk::json(json!({ "access_token": installation.token })));
    }
    let scopes = match list(request.param("scope")) {
        requested if requested.is_empty() => installation.scopes.clone(),
        requested => {
            if let Some(bad) = requested.iter().find(|s| !installation.scopes.contains(s)) {
                return Err(GraphError::oauth(
                    3962,
                    format!("(#3962) Invalid permission: {bad}"),
                ));
            }
            requested
        }
    };
    let assets = match list(request.param("asset")) {
        requested if requested.is_empty() => installation.assets.clone(),
        requested => {
            if let Some(bad) = requested.iter().find(|a| !installation.assets.contains(a)) {
                return Err(GraphError::oauth(
                    100,
                    format!("(#100) Invalid asset: {bad}"),
                ));
            }
            requested
        }
    };
    let token = state.insert_system_user_token(
        &record.app_id,
        business_id,
        &installation.system_user_id,
        scopes,
        assets,
        request.flag("set_token_expires_in_60_days"),
        now,
    );
    Ok(GraphOk::json(json!({ "access_token": token })))
}
