//! `/demo` (served by `fbgate dev` only): a tiny app that signs in with Facebook through fbgate.
//!
//! It plays both halves of an integrating app: the browser link to `authorize` with the
//! publishable key, and the backend's exchange of the one-time code (called in-process here,
//! where a real backend would `POST /v1/sign-ins/exchange` with its secret key).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use crate::domain::flows::sign_in;

/// What the demo needs to know about the environment it runs in.
#[derive(Debug, Clone)]
pub struct DemoSettings {
    /// The `dev` environment.
    pub environment_id: String,
    /// Its publishable key (public by nature).
    pub publishable_key: String,
    /// The provider's slug.
    pub provider_slug: String,
}

/// What the page shows.
#[derive(Debug)]
pub enum DemoOutcome {
    /// Nothing yet.
    Start,
    /// The flow came back with an error: code and description.
    Failed(String, String),
    /// Signed in.
    SignedIn(Box<SignedInView>),
}

/// The signed-in user as the page shows it.
#[derive(Debug)]
pub struct SignedInView {
    user_id: String,
    name: String,
    email: String,
    picture: Option<String>,
    is_new_user: bool,
    identity_id: String,
    facebook_id: String,
    granted: String,
    declined: String,
    token_status: String,
    expires_at: String,
    session_id: String,
}

#[derive(Template)]
#[template(path = "demo.html")]
struct DemoPage {
    outcome: DemoOutcome,
    authorize_url: String,
    rerequest_url: String,
}

/// Query of `/demo/return`.
#[derive(Debug, Deserialize)]
pub struct ReturnQuery {
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn urls(state: &AppState, demo: &DemoSettings) -> (String, String) {
    let base = state.config.public_base();
    let mut authorize =
        url::Url::parse(&format!("{base}/v1/oauth/{}/authorize", demo.provider_slug))
            .unwrap_or_else(|_| state.config.public_url.clone());
    authorize
        .query_pairs_mut()
        .append_pair("publishable_key", &demo.publishable_key)
        .append_pair("redirect_to", &format!("{base}/demo/return"));
    let mut rerequest = authorize.clone();
    rerequest.query_pairs_mut().append_pair("rerequest", "true");
    (authorize.to_string(), rerequest.to_string())
}

fn render(state: &AppState, demo: &DemoSettings, outcome: DemoOutcome) -> Response {
    let (authorize_url, rerequest_url) = urls(state, demo);
    let page = DemoPage {
        outcome,
        authorize_url,
        rerequest_url,
    };
    match page.render() {
        Ok(html) => {
            let mut response = Html(html).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The demo's start page.
pub async fn start(State(state): State<AppState>) -> Response {
    let Some(demo) = state.demo.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    render(&state, &demo, DemoOutcome::Start)
}

/// Where fbgate sends the browser back: exchange the code and show the result.
pub async fn finish(State(state): State<AppState>, Query(query): Query<ReturnQuery>) -> Response {
    let Some(demo) = state.demo.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(code) = query.error {
        let description = query.error_description.unwrap_or_default();
        return render(&state, &demo, DemoOutcome::Failed(code, description));
    }
    let Some(code) = query.code else {
        return render(&state, &demo, DemoOutcome::Start);
    };
    let outcome = match sign_in::exchange_code(&state.ctx, &demo.environment_id, &code).await {
        Ok(done) => {
            let details = &done.identity;
            let list = |text: &str| {
                serde_json::from_str::<Vec<String>>(text)
                    .unwrap_or_default()
                    .join(", ")
            };
            let view = SignedInView {
                user_id: done.user.id.clone(),
                name: done.user.name.clone().unwrap_or_default(),
                email: done
                    .user
                    .email
                    .clone()
                    .unwrap_or_else(|| "(none)".to_owned()),
                picture: done.user.profile_image_url.clone(),
                is_new_user: done.is_new_user,
                identity_id: details.identity.id.clone(),
                facebook_id: details.identity.provider_user_id.clone(),
                granted: list(&details.identity.granted_scopes),
                declined: list(&details.identity.declined_scopes),
                token_status: details.token_status.clone().unwrap_or_default(),
                expires_at: details
                    .credential
                    .as_ref()
                    .and_then(|c| c.expires_at)
                    .map_or_else(|| "never".to_owned(), super::timestamp),
                session_id: done.session.session.id.clone(),
            };
            DemoOutcome::SignedIn(Box::new(view))
        }
        Err(error) => DemoOutcome::Failed("invalid_sign_in_code".to_owned(), error.to_string()),
    };
    render(&state, &demo, outcome)
}
