//! `/_sim/apps`: register and change apps, and switch the dialog's auto-consent.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ControlError, ControlResult, created, ok};
use crate::dialog::{KNOWN_PERMISSIONS, redirect_key};
use crate::ids;
use crate::model::{App, AutoConsent, ConfigTokenType, LoginConfig};
use crate::state::{Sim, State as SimState};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppSpec {
    app_id: Option<String>,
    app_secret: Option<String>,
    name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    require_appsecret_proof: Option<bool>,
    deauthorize_callback_url: Option<String>,
    data_deletion_callback_url: Option<String>,
    login_configs: Option<Vec<ConfigSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigSpec {
    config_id: Option<String>,
    token_type: ConfigTokenType,
    permissions: Vec<String>,
    #[serde(default)]
    assets: Vec<String>,
    #[serde(default)]
    token_expires_in_60_days: bool,
}

pub(crate) fn parse<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, ControlError> {
    serde_json::from_value(body).map_err(|e| ControlError::bad_request(e.to_string()))
}

/// The app as the control API shows it (secret included: this is a test tool).
pub(crate) fn view(app: &App) -> Value {
    json!({
        "app_id": app.id,
        "app_secret": app.secret,
        "name": app.name,
        "redirect_uris": app.redirect_uris,
        "accepts_any_loopback_redirect": app.any_loopback_redirect && app.redirect_uris.is_empty(),
        "require_appsecret_proof": app.require_appsecret_proof,
        "deauthorize_callback_url": app.deauthorize_callback_url,
        "data_deletion_callback_url": app.data_deletion_callback_url,
        "login_configs": app.login_configs,
        "auto_consent": app.auto_consent,
    })
}

fn check_uris(uris: &[String]) -> Result<(), ControlError> {
    match uris.iter().find(|u| redirect_key(u).is_none()) {
        Some(bad) => Err(ControlError::bad_request(format!(
            "redirect URI {bad} is not an absolute http(s) URL without fragment"
        ))),
        None => Ok(()),
    }
}

fn build_configs(
    specs: Vec<ConfigSpec>,
    state: &SimState,
    own_app: Option<&str>,
) -> Result<Vec<LoginConfig>, ControlError> {
    let mut configs = Vec::new();
    for spec in specs {
        if let Some(bad) = spec
            .permissions
            .iter()
            .find(|p| !KNOWN_PERMISSIONS.contains(&p.as_str()))
        {
            return Err(ControlError::bad_request(format!(
                "unknown permission {bad}"
            )));
        }
        let config_id = spec.config_id.unwrap_or_else(|| ids::numeric_id(17));
        let taken = state
            .apps
            .values()
            .filter(|a| Some(a.id.as_str()) != own_app)
            .flat_map(|a| a.login_configs.iter())
            .any(|c| c.config_id == config_id);
        if taken
            || configs
                .iter()
                .any(|c: &LoginConfig| c.config_id == config_id)
        {
            return Err(ControlError::conflict(format!(
                "config_id {config_id} is taken"
            )));
        }
        configs.push(LoginConfig {
            config_id,
            token_type: spec.token_type,
            permissions: spec.permissions,
            assets: spec.assets,
            token_expires_in_60_days: spec.token_expires_in_60_days,
        });
    }
    Ok(configs)
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// `POST /_sim/apps`.
pub(crate) async fn create(State(sim): State<Sim>, Json(body): Json<Value>) -> ControlResult {
    let spec: AppSpec = parse(body)?;
    let mut state = sim.write();
    let app_id = spec.app_id.unwrap_or_else(|| ids::numeric_id(16));
    if state.apps.contains_key(&app_id) {
        return Err(ControlError::conflict(format!("app {app_id} exists")));
    }
    let redirect_uris = spec.redirect_uris.unwrap_or_default();
    check_uris(&redirect_uris)?;
    let login_configs = build_configs(spec.login_configs.unwrap_or_default(), &state, None)?;
    let app = App {
        id: app_id.clone(),
        secret: spec
            .app_secret
            .unwrap_or_else(|| ids::alphanumeric(32).to_lowercase()),
        name: spec.name.unwrap_or_else(|| format!("Test app {app_id}")),
        redirect_uris,
        any_loopback_redirect: false,
        require_appsecret_proof: spec.require_appsecret_proof.unwrap_or(false),
        deauthorize_callback_url: non_empty(spec.deauthorize_callback_url),
        data_deletion_callback_url: non_empty(spec.data_deletion_callback_url),
        login_configs,
        auto_consent: None,
        usage: SimState::new_usage(),
    };
    let body = view(&app);
    state.apps.insert(app_id, app);
    Ok(created(body))
}

/// `GET /_sim/apps`.
pub(crate) async fn list(State(sim): State<Sim>) -> ControlResult {
    let state = sim.read();
    let mut apps: Vec<&App> = state.apps.values().collect();
    apps.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(ok(
        json!({ "data": apps.into_iter().map(view).collect::<Vec<_>>() }),
    ))
}

/// `GET /_sim/apps/{app_id}`.
pub(crate) async fn show(State(sim): State<Sim>, Path(app_id): Path<String>) -> ControlResult {
    let state = sim.read();
    let app = state
        .apps
        .get(&app_id)
        .ok_or_else(|| ControlError::not_found(format!("no app {app_id}")))?;
    Ok(ok(view(app)))
}

/// `PATCH /_sim/apps/{app_id}`: only the fields given change; `""` clears a callback URL.
pub(crate) async fn update(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
    Json(body): Json<Value>,
) -> ControlResult {
    let spec: AppSpec = parse(body)?;
    if spec.app_id.as_ref().is_some_and(|id| *id != app_id) {
        return Err(ControlError::bad_request("app_id cannot change"));
    }
    let mut state = sim.write();
    let configs = match spec.login_configs {
        Some(specs) => Some(build_configs(specs, &state, Some(&app_id))?),
        None => None,
    };
    let app = state
        .apps
        .get_mut(&app_id)
        .ok_or_else(|| ControlError::not_found(format!("no app {app_id}")))?;
    if let Some(uris) = spec.redirect_uris {
        check_uris(&uris)?;
        app.redirect_uris = uris;
    }
    if let Some(secret) = spec.app_secret {
        app.secret = secret;
    }
    if let Some(name) = spec.name {
        app.name = name;
    }
    if let Some(require) = spec.require_appsecret_proof {
        app.require_appsecret_proof = require;
    }
    if let Some(url) = spec.deauthorize_callback_url {
        app.deauthorize_callback_url = non_empty(Some(url));
    }
    if let Some(url) = spec.data_deletion_callback_url {
        app.data_deletion_callback_url = non_empty(Some(url));
    }
    if let Some(configs) = configs {
        app.login_configs = configs;
    }
    Ok(ok(view(app)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AutoConsentSpec {
    user_id: Option<String>,
    #[serde(default)]
    declined: Vec<String>,
    #[serde(default)]
    cancel: bool,
}

/// `POST /_sim/apps/{app_id}/auto-consent`.
pub(crate) async fn set_auto_consent(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
    Json(body): Json<Value>,
) -> ControlResult {
    let spec: AutoConsentSpec = parse(body)?;
    let mut state = sim.write();
    let user_id = match (spec.user_id, spec.cancel) {
        (Some(id), _) if state.users.contains_key(&id) => id,
        (Some(id), _) => return Err(ControlError::not_found(format!("no user {id}"))),
        (None, true) => String::new(),
        (None, false) => return Err(ControlError::bad_request("user_id is required")),
    };
    let app = state
        .apps
        .get_mut(&app_id)
        .ok_or_else(|| ControlError::not_found(format!("no app {app_id}")))?;
    app.auto_consent = Some(AutoConsent {
        user_id,
        declined: spec.declined,
        cancel: spec.cancel,
    });
    Ok(ok(view(app)))
}

/// `DELETE /_sim/apps/{app_id}/auto-consent`.
pub(crate) async fn clear_auto_consent(
    State(sim): State<Sim>,
    Path(app_id): Path<String>,
) -> ControlResult {
    let mut state = sim.write();
    let app = state
        .apps
        .get_mut(&app_id)
        .ok_or_else(|| ControlError::not_found(format!("no app {app_id}")))?;
    app.auto_consent = None;
    Ok(ok(view(app)))
}
