//! `oauth/access_token` (code, `fb_exchange_token`, `client_credentials`),
//! `oauth/access_token_info` and `debug_token`.
//!
//! Codes are single use and bound to the dialog's redirect URI and PKCE challenge. A failed
//! exchange (wrong redirect URI or verifier) does not burn the code; only a successful one does.
//! Exchanging a long-lived token gives a new string with the *same* expiry: Facebook does not
//! extend long-lived tokens.

use serde_json::{Map, Value, json};

use super::{CallMeta, GraphError, GraphOk, GraphRequest, GraphResult, check_proof};
use crate::crypto;
use crate::dialog::redirect_key;
use crate::ids;
use crate::model::{App, CodeRecord, CodeSubject, TokenKind, TokenRecord};
use crate::state::{LONG_LIVED_SECONDS, SHORT_LIVED_SECONDS, Sim, State};

fn check_secret(app: &App, request: &GraphRequest, required: bool) -> Result<bool, GraphError> {
    match request.param("client_secret") {
        Some(secret) if crypto::constant_time_eq(secret, &app.secret) => Ok(true),
        Some(_) => Err(GraphError::oauth(1, "Error validating client secret.")),
        None if required => Err(GraphError::oauth(1, "Missing client_secret parameter.")),
        None => Ok(false),
    }
}

/// `GET|POST /oauth/access_token`.
pub(super) fn access_token(sim: &Sim, request: &GraphRequest, meta: &mut CallMeta) -> GraphResult {
    let client_id = request
        .param("client_id")
        .ok_or_else(|| GraphError::oauth(101, "Missing client_id parameter."))?;
    let now = sim.now();
    let mut state = sim.write();
    let app = state.apps.get(client_id).cloned().ok_or_else(|| {
        GraphError::oauth(101, "Error validating application. Invalid application ID.")
    })?;
    meta.app_id = Some(app.id.clone());
    match request.param("grant_type") {
        Some("client_credentials") => {
            check_secret(&app, request, true)?;
            let token = format!("{}|{}", app.id, ids::alphanumeric(27));
            state.tokens.insert(
                token.clone(),
                TokenRecord {
                    app_id: app.id.clone(),
                    kind: TokenKind::App,
                    issued_at: now,
                    expires_at: None,
                    long_lived: true,
                    revoked: None,
                    auth_type: None,
                    auth_nonce: None,
                },
            );
            Ok(GraphOk::json(
                json!({ "access_token": token, "token_type": "bearer" }),
            ))
        }
        Some("fb_exchange_token") => {
            check_secret(&app, request, true)?;
            exchange_long_lived(&mut state, &app, request, now)
        }
        None | Some("authorization_code") => exchange_code(sim, &mut state, &app, request, now),
        Some(other) => Err(GraphError::oauth(
            100,
            format!("(#100) Unsupported grant_type: {other}"),
        )),
    }
}

fn exchange_long_lived(
    state: &mut State,
    app: &App,
    request: &GraphRequest,
    now: i64,
) -> GraphResult {
    let short = request
        .param("fb_exchange_token")
        .ok_or_else(|| GraphError::missing_param("fb_exchange_token"))?;
    let record = state
        .valid_token(short, now)
        .map_err(|p| GraphError::token(&p, now))?;
    let TokenKind::User { user_id } = &record.kind else {
        return Err(GraphError::oauth(
            100,
            "(#100) fb_exchange_token must be a user access token",
        ));
    };
    if record.app_id != app.id {
        return Err(GraphError::oauth(
            100,
            "(#100) The access token was not issued for this application",
        ));
    }
    let expires_at = match (record.long_lived, record.expires_at) {
        (true, Some(at)) => at,
        _ => now + LONG_LIVED_SECONDS,
    };
    let token = state.insert_user_token(&app.id, user_id, now, expires_at, true);
    if let Some(new) = state.tokens.get_mut(&token) {
        new.auth_type = record.auth_type.clone();
        new.auth_nonce = record.auth_nonce.clone();
    }
    Ok(GraphOk::json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": expires_at - now,
    })))
}

fn code_error(message: &str, subcode: Option<u32>) -> GraphError {
    let error = GraphError::oauth(100, message).invalid_code();
    match subcode {
        Some(s) => error.with_subcode(s),
        None => error,
    }
}

fn exchange_code(
    sim: &Sim,
    state: &mut State,
    app: &App,
    request: &GraphRequest,
    now: i64,
) -> GraphResult {
    let code = request
        .param("code")
        .ok_or_else(|| GraphError::missing_param("code"))?;
    let record: CodeRecord = state
        .codes
        .get(code)
        .filter(|c| c.app_id == app.id)
        .cloned()
        .ok_or_else(|| code_error("Invalid verification code format.", None))?;
    let public_pkce = record.code_challenge.is_some() && request.param("code_verifier").is_some();
    check_secret(app, request, !public_pkce)?;
    if record.used {
        return Err(code_error(
            "This authorization code has been used.",
            Some(36009),
        ));
    }
    if now >= record.expires_at {
        return Err(code_error(
            "This authorization code has expired.",
            Some(36007),
        ));
    }
    let given = request.param("redirect_uri");
    let redirect_ok = match (&record.subject, given) {
        (CodeSubject::SystemUser { .. }, None) => true,
        (_, Some(uri)) => redirect_key(uri).is_some_and(|k| k == record.redirect_uri),
        (_, None) => false,
    };
    if !redirect_ok {
        return Err(code_error(
            "Error validating verification code. Please make sure your redirect_uri is \
             identical to the one you used in the OAuth dialog request",
            Some(36008),
        ));
    }
    if let Some(challenge) = &record.code_challenge {
        let verified = request
            .param("code_verifier")
            .filter(|v| crypto::is_pkce_string(v))
            .is_some_and(|v| crypto::constant_time_eq(&crypto::pkce_s256(v), challenge));
        if !verified {
            return Err(code_error(
                "Invalid code verifier. Code verifier should be a cryptographically random \
                 string using the characters A-Z, a-z, 0-9, and the punctuation characters -._~ \
                 (hyphen, period, underscore, and tilde), between 43 and 128 characters long.",
                None,
            ));
        }
    }
    if let Some(stored) = state.codes.get_mut(code) {
        stored.used = true;
    }
    match &record.subject {
        CodeSubject::User { user_id } => {
            let expires_at = now + SHORT_LIVED_SECONDS;
            let token = state.insert_user_token(&app.id, user_id, now, expires_at, false);
            if let Some(new) = state.tokens.get_mut(&token) {
                new.auth_type = record.auth_type.clone();
                new.auth_nonce = record.auth_nonce.clone();
            }
            let mut body = json!({
                "access_token": token,
                "token_type": "bearer",
                "expires_in": SHORT_LIVED_SECONDS,
            });
            if let (true, Some(nonce)) = (record.openid, &record.nonce)
                && let Some(id_token) = crate::oidc::id_token(
                    sim,
                    state,
                    &app.id,
                    user_id,
                    Some(nonce),
                    &request.base_url,
                )
            {
                body["id_token"] = json!(id_token);
            }
            Ok(GraphOk::json(body))
        }
        CodeSubject::SystemUser {
            business_id,
            scopes,
            assets,
            expires_in_60_days,
        } => {
            let token = state
                .install_for_business(
                    &app.id,
                    business_id,
                    scopes.clone(),
                    assets.clone(),
                    *expires_in_60_days,
                    now,
                )
                .ok_or_else(|| code_error("Invalid verification code format.", None))?;
            Ok(GraphOk::json(json!({ "access_token": token })))
        }
    }
}

/// `GET /oauth/access_token_info?client_id=&access_token=`.
pub(super) fn access_token_info(
    sim: &Sim,
    request: &GraphRequest,
    meta: &mut CallMeta,
) -> GraphResult {
    let now = sim.now();
    let state = sim.read();
    let token = request.token().ok_or_else(GraphError::no_token)?;
    let record = state
        .valid_token(token, now)
        .map_err(|p| GraphError::token(&p, now))?;
    meta.app_id = Some(record.app_id.clone());
    if let Some(client_id) = request.param("client_id")
        && client_id != record.app_id
    {
        return Err(GraphError::oauth(
            100,
            "(#100) The access token was not issued for this application",
        ));
    }
    let mut body = json!({ "access_token": token, "token_type": "bearer" });
    if let Some(expires_at) = record.expires_at {
        body["expires_in"] = json!(expires_at - now);
    }
    if let Some(nonce) = &record.auth_nonce {
        body["auth_nonce"] = json!(nonce);
    }
    Ok(GraphOk::json(body))
}

/// Permissions whose grant is per object (pages, businesses): they carry `target_ids`.
fn is_targeted(scope: &str) -> bool {
    scope.starts_with("pages_")
        || matches!(
            scope,
            "business_management" | "read_insights" | "instagram_basic" | "ads_management"
        )
}

/// `GET /debug_token?input_token=`.
pub(super) fn debug_token(sim: &Sim, request: &GraphRequest, meta: &mut CallMeta) -> GraphResult {
    let now = sim.now();
    let state = sim.read();
    let caller_token = request.token().ok_or_else(GraphError::no_token)?;
    let caller = state
        .valid_token(caller_token, now)
        .map_err(|p| GraphError::token(&p, now))?;
    meta.app_id = Some(caller.app_id.clone());
    check_proof(&state, request, caller_token, &caller, now, false)?;
    let input = request
        .param("input_token")
        .ok_or_else(|| GraphError::missing_param("input_token"))?;
    let Some(record) = state.find_token(input) else {
        return Ok(GraphOk::json(json!({ "data": {
            "error": {
                "code": 190,
                "message": "Invalid OAuth access token - Cannot parse access token",
            },
            "is_valid": false,
            "scopes": [],
        }})));
    };
    Ok(GraphOk::json(
        json!({ "data": describe(&state, &record, now) }),
    ))
}

fn describe(state: &State, record: &TokenRecord, now: i64) -> Value {
    let mut data = Map::new();
    let app_name = state
        .apps
        .get(&record.app_id)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    data.insert("app_id".into(), json!(record.app_id));
    let (kind, user_id, targets) = match &record.kind {
        TokenKind::User { user_id } => (
            "USER",
            Some(user_id.clone()),
            state
                .users
                .get(user_id)
                .map(|u| u.pages.clone())
                .unwrap_or_default(),
        ),
        TokenKind::Page {
            user_id, page_id, ..
        } => {
            data.insert("profile_id".into(), json!(page_id));
            ("PAGE", Some(user_id.clone()), vec![page_id.clone()])
        }
        TokenKind::SystemUser {
            system_user_id,
            assets,
            ..
        } => ("SYSTEM_USER", Some(system_user_id.clone()), assets.clone()),
        TokenKind::App => ("APP", None, Vec::new()),
    };
    data.insert("type".into(), json!(kind));
    data.insert("application".into(), json!(app_name));
    let data_access = match &record.kind {
        TokenKind::User { user_id } | TokenKind::Page { user_id, .. } => state
            .grants
            .get(&(record.app_id.clone(), user_id.clone()))
            .map(|g| g.data_access_expires_at)
            .unwrap_or(0),
        _ => 0,
    };
    if !matches!(record.kind, TokenKind::App) {
        data.insert("data_access_expires_at".into(), json!(data_access));
    }
    data.insert("expires_at".into(), json!(record.expires_at.unwrap_or(0)));
    let check = state.check(record, now);
    data.insert("is_valid".into(), json!(check.is_ok()));
    if !matches!(record.kind, TokenKind::App) {
        data.insert("issued_at".into(), json!(record.issued_at));
    }
    if let Some(auth_type) = &record.auth_type {
        let mut metadata = json!({ "auth_type": auth_type });
        if let Some(nonce) = &record.auth_nonce {
            metadata["auth_nonce"] = json!(nonce);
        }
        data.insert("metadata".into(), metadata);
    }
    match check {
        Ok(()) => {
            let scopes = state.token_scopes(record);
            let granular: Vec<Value> = scopes
                .iter()
                .map(|s| {
                    if is_targeted(s) && !targets.is_empty() {
                        json!({ "scope": s, "target_ids": targets })
                    } else {
                        json!({ "scope": s })
                    }
                })
                .collect();
            data.insert("scopes".into(), json!(scopes));
            data.insert("granular_scopes".into(), json!(granular));
        }
        Err(problem) => {
            let error = GraphError::token(&problem, now);
            let mut object = json!({ "code": 190, "message": error.message });
            if let Some(subcode) = error.subcode {
                object["subcode"] = json!(subcode);
            }
            data.insert("error".into(), object);
            data.insert("scopes".into(), json!([]));
        }
    }
    if let Some(user_id) = user_id {
        data.insert("user_id".into(), json!(user_id));
    }
    Value::Object(data)
}
