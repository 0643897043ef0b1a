//! Control calls that act: mint and revoke tokens, move the clock, inject faults, and play
//! the user removing the app or asking for their data to be deleted.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::apps::parse;
use super::{ControlError, ControlResult, ok};
use crate::callbacks::{self, CallbackResult};
use crate::model::{
    Faults, PermissionStatus, RateLimitFault, Revocation, SystemPageGrant, TokenKind,
};
use crate::state::Sim;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MintSpec {
    app_id: String,
    user_id: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    long_lived: bool,
}

/// `POST /_sim/tokens`.
pub(crate) async fn mint_token(State(sim): State<Sim>, Json(body): Json<Value>) -> ControlResult {
    let spec: MintSpec = parse(body)?;
    let (token, expires_in) = sim
        .mint_user_token(&spec.app_id, &spec.user_id, &spec.scopes, spec.long_lived)
        .ok_or_else(|| ControlError::not_found("unknown app_id or user_id"))?;
    Ok(ok(
        json!({ "access_token": token, "token_type": "bearer", "expires_in": expires_in }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeSpec {
    access_token: String,
    subcode: Option<u32>,
}

/// `POST /_sim/tokens/revoke`: the token answers 190 with `subcode` from now on.
pub(crate) async fn revoke_token(State(sim): State<Sim>, Json(body): Json<Value>) -> ControlResult {
    let spec: RevokeSpec = parse(body)?;
    if let Some(subcode) = spec.subcode
        && ![458, 459, 460, 463, 464, 467].contains(&subcode)
    {
        return Err(ControlError::bad_request(
            "subcode must be one of 458, 459, 460, 463, 464, 467",
        ));
    }
    let mut state = sim.write();
    let record = state
        .tokens
        .get_mut(&spec.access_token)
        .ok_or_else(|| ControlError::not_found("unknown access_token"))?;
    record.revoked = Some(Revocation {
        subcode: spec.subcode,
    });
    Ok(ok(json!({ "success": true })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenSpec {
    access_token: String,
}

/// `POST /_sim/tokens/expire`: the token's expiry becomes now (190/463 from now on).
pub(crate) async fn expire_token(State(sim): State<Sim>, Json(body): Json<Value>) -> ControlResult {
    let spec: TokenSpec = parse(body)?;
    let now = sim.now();
    let mut state = sim.write();
    let record = state
        .tokens
        .get_mut(&spec.access_token)
        .ok_or_else(|| ControlError::not_found("unknown access_token"))?;
    record.expires_at = Some(now);
    Ok(ok(json!({ "success": true, "expires_at": now })))
}

/// `GET /_sim/clock`.
pub(crate) async fn clock(State(sim): State<Sim>) -> ControlResult {
    Ok(ok(json!({ "now": sim.now() })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceSpec {
    seconds: i64,
}

/// `POST /_sim/clock/advance`.
pub(crate) async fn advance_clock(
    State(sim): State<Sim>,
    Json(body): Json<Value>,
) -> ControlResult {
    let spec: AdvanceSpec = parse(body)?;
    if spec.seconds < 0 {
        return Err(ControlError::bad_request("seconds must not be negative"));
    }
    Ok(ok(json!({ "now": sim.clock().advance(spec.seconds) })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    server_error_rate: f64,
    rate_limit: Option<RateLimitSpec>,
    #[serde(default)]
    batch_null_rate: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitSpec {
    code: u32,
    #[serde(default)]
    remaining_calls: i64,
}

fn faults_view(faults: &Faults) -> Value {
    let mut value = json!({
        "latency_ms": faults.latency_ms,
        "server_error_rate": faults.server_error_rate,
        "batch_null_rate": faults.batch_null_rate,
        "rate_limit": null,
    });
    if let Some(limit) = &faults.rate_limit {
        let remaining = limit
            .remaining
            .load(std::sync::atomic::Ordering::Relaxed)
            .max(0);
        value["rate_limit"] = json!({ "code": limit.code, "remaining_calls": remaining });
    }
    value
}

/// `POST /_sim/faults`: replaces every fault setting.
pub(crate) async fn set_faults(State(sim): State<Sim>, Json(body): Json<Value>) -> ControlResult {
    let spec: FaultSpec = parse(body)?;
    for (name, rate) in [
        ("server_error_rate", spec.server_error_rate),
        ("batch_null_rate", spec.batch_null_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(ControlError::bad_request(format!(
                "{name} must be within 0.0..=1.0"
            )));
        }
    }
    let rate_limit = match spec.rate_limit {
        Some(limit) if [4, 17, 32, 613, 80001].contains(&limit.code) => Some(RateLimitFault {
            code: limit.code,
            remaining: Arc::new(AtomicI64::new(limit.remaining_calls.max(0))),
        }),
        Some(_) => {
            return Err(ControlError::bad_request(
                "rate_limit.code must be one of 4, 17, 32, 613, 80001",
            ));
        }
        None => None,
    };
    let mut state = sim.write();
    state.faults = Faults {
        latency_ms: spec.latency_ms.min(60_000),
        server_error_rate: spec.server_error_rate,
        rate_limit,
        batch_null_rate: spec.batch_null_rate,
    };
    Ok(ok(faults_view(&state.faults)))
}

/// `GET /_sim/faults`.
pub(crate) async fn show_faults(State(sim): State<Sim>) -> ControlResult {
    Ok(ok(faults_view(&sim.read().faults)))
}

/// `DELETE /_sim/faults`.
pub(crate) async fn clear_faults(State(sim): State<Sim>) -> ControlResult {
    let mut state = sim.write();
    state.faults = Faults::default();
    Ok(ok(faults_view(&state.faults)))
}

fn callback_view(result: CallbackResult) -> Value {
    json!({ "callback_status": result.status, "callback_body": result.body })
}

/// `POST /_sim/apps/{app_id}/users/{user_id}/remove`: the user removes the app in their
/// settings: grant gone, tokens answer 190/458, and the deauthorize callback is called.
pub(crate) async fn remove_app(
    State(sim): State<Sim>,
    Path((app_id, user_id)): Path<(String, String)>,
) -> ControlResult {
    let now = sim.now();
    let (url, secret) = {
        let mut state = sim.write();
        let app = state
            .apps
            .get(&app_id)
            .cloned()
            .ok_or_else(|| ControlError::not_found(format!("no app {app_id}")))?;
        if !state.users.contains_key(&user_id) {
            return Err(ControlError::not_found(format!("no user {user_id}")));
        }
        state.grants.remove(&(app_id.clone(), user_id.clone()));
        state.revoke_user_tokens(&app_id, &user_id, Some(458));
        (app.deauthorize_callback_url, app.secret)
    };
    let result = match url {
        Some(url) => {
            let payload = callbacks::deauthorize_payload(&user_id, now);
            callbacks::post_signed(&sim, &url, &secret, &payload).await
        }
        None => CallbackResult::default(),
    };
    Ok(ok(callback_view(result)))
}

/// `POST /_sim/apps/{app_id}/users/{user_id}/data-deletion`: the user asks for their data
/// to be deleted; the data-deletion callback is called.
pub(crate) async fn data_deletion(
    State(sim): State<Sim>,
    Path((app_id, user_id)): Path<(String, String)>,
) -> ControlResult {
    let now = sim.now();
    let (url, secret) = {
        let state = sim.read();
        let app = state
            .apps
            .get(&app_id)
            .ok_or_else(|| ControlError::not_found(format!("no app {app_id}")))?;
        if !state.users.contains_key(&user_id) {
            return Err(ControlError::not_found(format!("no user {user_id}")));
        }
        (app.data_deletion_callback_url.clone(), app.secret.clone())
    };
    let result = match url {
        Some(url) => {
            let payload = callbacks::data_deletion_payload(&user_id, now);
            callbacks::post_signed(&sim, &url, &secret, &payload).await
        }
        None => CallbackResult::default(),
    };
    Ok(ok(callback_view(result)))
}

/// `POST /_sim/apps/{app_id}/users/{user_id}/expire-data-access`.
pub(crate) async fn expire_data_access(
    State(sim): State<Sim>,
    Path((app_id, user_id)): Path<(String, String)>,
) -> ControlResult {
    let now = sim.now();
    let mut state = sim.write();
    let grant = state
        .grants
        .get_mut(&(app_id, user_id))
        .ok_or_else(|| ControlError::not_found("the user has not authorized this app"))?;
    grant.data_access_expires_at = now;
    Ok(ok(json!({ "data_access_expires_at": now })))
}

/// `DELETE /_sim/apps/{app_id}/users/{user_id}/permissions/{permission}`: the user removes
/// one permission in their settings; it reads `declined` from now on.
pub(crate) async fn revoke_permission(
    State(sim): State<Sim>,
    Path((app_id, user_id, permission)): Path<(String, String, String)>,
) -> ControlResult {
    let mut state = sim.write();
    let status = state
        .grants
        .get_mut(&(app_id, user_id))
        .and_then(|g| g.permissions.get_mut(&permission))
        .ok_or_else(|| ControlError::not_found("the user has not granted that permission"))?;
    *status = PermissionStatus::Declined;
    Ok(ok(json!({ "success": true })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitedLoginSpec {
    app_id: String,
    user_id: String,
    nonce: String,
    #[serde(default)]
    email: bool,
}

/// `POST /_sim/limited-login`: an RS256 authentication token as Limited Login gives an app.
pub(crate) async fn limited_login(
    State(sim): State<Sim>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> ControlResult {
    let spec: LimitedLoginSpec = parse(body)?;
    if spec.nonce.is_empty() {
        return Err(ControlError::bad_request("nonce must not be empty"));
    }
    let state = sim.read();
    if !state.apps.contains_key(&spec.app_id) {
        return Err(ControlError::not_found(format!("no app {}", spec.app_id)));
    }
    let base = crate::oidc::base_url(&headers);
    let token = crate::oidc::limited_login_token(
        &sim,
        &state,
        &spec.app_id,
        &spec.user_id,
        &spec.nonce,
        spec.email,
        &base,
    )
    .ok_or_else(|| ControlError::not_found(format!("no user {}", spec.user_id)))?;
    Ok(ok(json!({ "authentication_token": token })))
}

/// `GET /_sim/requests?endpoint=&user_id=&since_seq=`: the Graph calls answered, oldest first.
pub(crate) async fn requests(
    State(sim): State<Sim>,
    query: Result<
        axum::extract::Query<crate::requests::Filter>,
        axum::extract::rejection::QueryRejection,
    >,
) -> ControlResult {
    let axum::extract::Query(filter) =
        query.map_err(|e| ControlError::bad_request(e.body_text()))?;
    let data = sim.requests().select(&filter);
    Ok(ok(json!({ "data": data })))
}

/// `DELETE /_sim/requests`: forgets the logged calls.
pub(crate) async fn clear_requests(State(sim): State<Sim>) -> ControlResult {
    sim.requests().clear();
    Ok(ok(json!({ "success": true })))
}

/// `POST /_sim/reset`.
pub(crate) async fn reset(State(sim): State<Sim>) -> ControlResult {
    sim.reset();
    Ok(ok(json!({ "success": true })))
}

/// `POST /_sim/apps/{app_id}/businesses/{business_id}/remove`: the client business removes
/// the app in Business Settings > Integrations: the installation is gone and every
/// system-user token of that business for the app answers 190/458.
pub(crate) async fn remove_business_app(
    State(sim): State<Sim>,
    Path((app_id, business_id)): Path<(String, String)>,
) -> ControlResult {
    let mut state = sim.write();
    if state
        .installations
        .remove(&(app_id.clone(), business_id.clone()))
        .is_none()
    {
        return Err(ControlError::not_found(
            "the app is not installed for this business",
        ));
    }
    let mut revoked = 0;
    for record in state.tokens.values_mut() {
        let business = match &record.kind {
            TokenKind::SystemUser { business_id, .. }
            | TokenKind::Page {
                system: Some(SystemPageGrant { business_id, .. }),
                ..
            } => business_id,
            _ => continue,
        };
        if *business == business_id && record.app_id == app_id && record.revoked.is_none() {
            record.revoked = Some(Revocation { subcode: Some(458) });
            revoked += 1;
        }
    }
    Ok(ok(json!({ "revoked_tokens": revoked })))
}
