//! The login dialog, `GET /{version}/dialog/oauth`: an HTML page where a person picks a test
//! user, unticks permissions and presses Continue or Cancel.
//!
//! The page posts to `POST /dialog/oauth/confirm` with the dialog's parameters in hidden
//! fields; they are checked again there. An app with auto-consent set through the control API
//! skips the page and is redirected at once, for load tests and CI.

mod consent;
mod request;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

pub(crate) use consent::{Consent, complete};
pub(crate) use request::{DialogError, DialogRequest, KNOWN_PERMISSIONS, parse, redirect_key};

use crate::model::ConfigTokenType;
use crate::state::Sim;

#[derive(Debug)]
struct Hidden {
    name: String,
    value: String,
}

#[derive(Debug)]
struct UserChoice {
    id: String,
    label: String,
}

#[derive(Debug)]
struct PermissionChoice {
    name: String,
    forced: bool,
}

#[derive(Debug)]
struct AssetChoice {
    id: String,
    label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dialog.html")]
struct DialogPage {
    app_name: String,
    hidden: Vec<Hidden>,
    users: Vec<UserChoice>,
    permissions: Vec<PermissionChoice>,
    assets: Vec<AssetChoice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
struct MessagePage {
    title: String,
    message: String,
}

fn error_page(error: DialogError) -> Response {
    let page = MessagePage {
        title: error.title,
        message: error.message,
    };
    (StatusCode::BAD_REQUEST, page).into_response()
}

fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

/// Appends a dialog call to the request log. There is no token: `user_id` is null, and the
/// app is the `client_id` when it names a registered app.
fn log(sim: &Sim, method: Method, uri: &Uri, params: &[(String, String)], response: &Response) {
    let (version, endpoint) = crate::graph::split_version(uri.path());
    let app_id = params
        .iter()
        .find(|(name, _)| name == "client_id")
        .map(|(_, value)| value)
        .filter(|id| sim.read().apps.contains_key(id.as_str()))
        .cloned();
    sim.requests().push(crate::requests::LoggedRequest {
        seq: 0,
        at: sim.now(),
        method: method.to_string(),
        path: uri.path().to_owned(),
        version,
        endpoint,
        app_id,
        user_id: None,
        input_token_fingerprint: None,
        status: Some(response.status().as_u16()),
        batch: false,
    });
}

/// `GET /dialog/oauth` and `GET /{version}/dialog/oauth`.
pub(crate) async fn show(
    State(sim): State<Sim>,
    uri: Uri,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let response = show_page(&sim, &params);
    log(&sim, Method::GET, &uri, &params, &response);
    response
}

fn show_page(sim: &Sim, params: &[(String, String)]) -> Response {
    let request = match parse(&sim.read(), params) {
        Ok(request) => request,
        Err(error) => return error_page(error),
    };
    if let Some(auto) = request.app.auto_consent.clone() {
        let consent = if auto.cancel {
            Consent::Cancel
        } else {
            let granted = request
                .permissions
                .iter()
                .filter(|p| !auto.declined.contains(p))
                .cloned()
                .collect();
            Consent::Continue {
                user_id: auto.user_id,
                granted,
                assets: None,
            }
        };
        return match complete(sim, &request, consent) {
            Ok(location) => redirect(&location),
            Err(error) => error_page(error),
        };
    }
    render(sim, &request)
}

fn render(sim: &Sim, request: &DialogRequest) -> Response {
    let state = sim.read();
    let system_user = request.system_user_config().is_some();
    let users = state
        .users
        .values()
        .filter(|u| !system_user || !u.businesses.is_empty())
        .map(|u| UserChoice {
            id: u.id.clone(),
            label: match &u.email {
                Some(email) => format!("{} ({email})", u.name),
                None => format!("{} (no email)", u.name),
            },
        })
        .collect();
    let forced_all = request.config.is_some();
    let permissions = request
        .permissions
        .iter()
        .map(|p| PermissionChoice {
            name: p.clone(),
            forced: forced_all || p == "public_profile",
        })
        .collect();
    let mut assets = Vec::new();
    if let Some(config) = request.system_user_config() {
        for business in state.businesses.values() {
            for asset in &business.assets {
                if !config.assets.is_empty() && !config.assets.contains(asset) {
                    continue;
                }
                let name = state
                    .pages
                    .get(asset)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| asset.clone());
                assets.push(AssetChoice {
                    id: asset.clone(),
                    label: format!("{name} ({})", business.name),
                });
            }
        }
    }
    let page = DialogPage {
        app_name: request.app.name.clone(),
        hidden: request
            .carried
            .iter()
            .map(|(name, value)| Hidden {
                name: name.clone(),
                value: value.clone(),
            })
            .collect(),
        users,
        permissions,
        assets,
    };
    page.into_response()
}

/// `POST /dialog/oauth/confirm`: the page's form.
pub(crate) async fn confirm(
    State(sim): State<Sim>,
    uri: Uri,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let response = submit(&sim, &form);
    log(&sim, Method::POST, &uri, &form, &response);
    response
}

fn submit(sim: &Sim, form: &[(String, String)]) -> Response {
    let request = match parse(&sim.read(), form) {
        Ok(request) => request,
        Err(error) => return error_page(error),
    };
    let values = |name: &str| -> Vec<String> {
        form.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let action = values("action").into_iter().next().unwrap_or_default();
    let consent = if action == "cancel" {
        Consent::Cancel
    } else {
        let Some(user_id) = values("user_id").into_iter().next() else {
            return error_page(DialogError::invalid("Choose a test user to continue."));
        };
        Consent::Continue {
            user_id,
            granted: values("granted"),
            assets: request
                .config
                .as_ref()
                .filter(|c| c.token_type == ConfigTokenType::SystemUser)
                .map(|_| values("asset")),
        }
    };
    match complete(sim, &request, consent) {
        Ok(location) => redirect(&location),
        Err(error) => error_page(error),
    }
}
