//! The Graph API: one dispatcher for every Graph path, used by HTTP requests and by each
//! operation of a batch alike.
//!
//! A call runs through faults (latency, 5xx, rate limits), then the endpoint, then gets its
//! usage headers. Endpoints see a `GraphRequest` (method, path without version, merged query
//! and form parameters), never axum types, so that a batch operation is just another request.

mod batch;
mod business;
pub(crate) mod error;
mod fields;
mod oauth;
mod pages;
mod user;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(crate) use error::GraphError;

use crate::crypto;
use crate::model::{TokenKind, TokenRecord};
use crate::state::{Sim, State as SimState};

/// A Graph call, from HTTP or from a batch.
#[derive(Debug, Clone)]
pub(crate) struct GraphRequest {
    pub method: Method,
    /// Path without leading slash and without the version segment.
    pub path: String,
    /// The path as requested, without the query string, for the request log.
    pub requested_path: String,
    pub version: String,
    pub params: Vec<(String, String)>,
    pub bearer: Option<String>,
    /// `http://host:port` of this emulator, for URLs in answers.
    pub base_url: String,
    /// A token whose `appsecret_proof` the enclosing batch already checked.
    pub proof_checked_token: Option<String>,
    /// An operation inside a batch.
    pub in_batch: bool,
}

impl GraphRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn token(&self) -> Option<&str> {
        self.param("access_token").or(self.bearer.as_deref())
    }

    pub fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("true" | "1"))
    }
}

/// What an endpoint answered.
#[derive(Debug)]
pub(crate) struct GraphOk {
    pub status: u16,
    pub body: Value,
    pub location: Option<String>,
}

impl GraphOk {
    pub fn json(body: Value) -> Self {
        Self {
            status: 200,
            body,
            location: None,
        }
    }
}

pub(crate) type GraphResult = Result<GraphOk, GraphError>;

/// Who a call was made for, learned while handling it, for the usage headers.
#[derive(Debug, Default)]
pub(crate) struct CallMeta {
    pub app_id: Option<String>,
    /// Page or business id for `X-Business-Use-Case-Usage`.
    pub business_object: Option<String>,
}

/// A finished Graph answer.
#[derive(Debug)]
pub(crate) struct GraphResponse {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// The axum entry point for every path that is not the dialog, OIDC or the control API.
pub(crate) async fn entry(
    State(sim): State<Sim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = parse_http(method, &uri, &headers, &body);
    let latency = sim.read().faults.latency_ms;
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let response = execute(&sim, &request);
    into_http(response)
}

fn parse_http(method: Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> GraphRequest {
    let mut params: Vec<(String, String)> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !body.is_empty() {
        if content_type.starts_with("application/json") {
            if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
                for (k, v) in map {
                    let v = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    params.push((k, v));
                }
            }
        } else {
            params.extend(form_urlencoded::parse(body).into_owned());
        }
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("OAuth "))
        })
        .map(|v| v.trim().to_owned());
    let (version, path) = split_version(uri.path());
    let method = effective_method(method, &params);
    GraphRequest {
        method,
        path,
        requested_path: uri.path().to_owned(),
        version,
        params,
        bearer,
        base_url: crate::oidc::base_url(headers),
        proof_checked_token: None,
        in_batch: false,
    }
}

/// Splits `/v21.0/me/accounts` into (`v21.0`, `me/accounts`).
pub(crate) fn split_version(path: &str) -> (String, String) {
    let trimmed = path.trim_matches('/');
    let (first, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    if is_version(first) {
        (first.to_owned(), rest.to_owned())
    } else {
        (crate::DEFAULT_GRAPH_VERSION.to_owned(), trimmed.to_owned())
    }
}

pub(crate) fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        })
}

/// Graph honours a `method=` parameter on GET and POST (`method=delete`).
pub(crate) fn effective_method(method: Method, params: &[(String, String)]) -> Method {
    let Some((_, m)) = params.iter().find(|(k, _)| k == "method") else {
        return method;
    };
    match m.to_ascii_uppercase().as_str() {
        "DELETE" => Method::DELETE,
        "POST" => Method::POST,
        "GET" => Method::GET,
        _ => method,
    }
}

fn into_http(response: GraphResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::OK);
    let mut http = (status, response.body).into_response();
    let headers = http.headers_mut();
    for (name, value) in response.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
    http
}

/// Runs one call: faults, endpoint, usage headers.
pub(crate) fn execute(sim: &Sim, request: &GraphRequest) -> GraphResponse {
    let mut meta = CallMeta::default();
    let result = match injected_fault(sim) {
        Some(error) => {
            peek_app(sim, request, &mut meta);
            Err(error)
        }
        None => dispatch(sim, request, &mut meta),
    };
    let response = finish(sim, request, &meta, result);
    log(sim, request, meta.app_id, Some(response.status));
    response
}

/// Appends the call to the request log: `app_id` is the app it was made as, when known;
/// `status` is `None` for a batch operation answered `null`.
fn log(sim: &Sim, request: &GraphRequest, app_id: Option<String>, status: Option<u16>) {
    let subject = match request.path.as_str() {
        "debug_token" => request.param("input_token"),
        _ => request.token(),
    };
    let user_id = subject.and_then(|token| {
        let state = sim.read();
        state
            .tokens
            .get(token)
            .and_then(|record| match &record.kind {
                TokenKind::User { user_id } | TokenKind::Page { user_id, .. } => {
                    Some(user_id.clone())
                }
                _ => None,
            })
    });
    let endpoint = if request.path.is_empty() && request.param("batch").is_some() {
        "batch".to_owned()
    } else {
        request.path.clone()
    };
    let entry = crate::requests::LoggedRequest {
        seq: 0,
        at: sim.now(),
        method: request.method.to_string(),
        path: request.requested_path.clone(),
        version: request.version.clone(),
        input_token_fingerprint: (endpoint == "debug_token")
            .then(|| {
                request
                    .param("input_token")
                    .map(crate::requests::fingerprint)
            })
            .flatten(),
        endpoint,
        app_id,
        user_id,
        status,
        batch: request.in_batch,
    };
    sim.requests().push(entry);
}

fn finish(
    sim: &Sim,
    request: &GraphRequest,
    meta: &CallMeta,
    result: GraphResult,
) -> GraphResponse {
    let mut headers: Vec<(&'static str, String)> = vec![
        ("content-type", "application/json; charset=UTF-8".to_owned()),
        ("facebook-api-version", request.version.clone()),
        ("x-fb-trace-id", crate::ids::trace_id()),
        ("x-fb-rev", "1000000001".to_owned()),
    ];
    let throttled = matches!(&result, Err(e) if is_rate_limit(e.code));
    usage_headers(sim, meta, throttled, &mut headers);
    match result {
        Ok(ok) => {
            if let Some(location) = ok.location {
                headers.push(("location", location));
            }
            GraphResponse {
                status: ok.status,
                headers,
                body: ok.body.to_string(),
            }
        }
        Err(error) => {
            if let Some(value) = error.www_authenticate_header() {
                headers.push(("www-authenticate", value));
            }
            GraphResponse {
                status: error.status,
                headers,
                body: error.body().to_string(),
            }
        }
    }
}

fn is_rate_limit(code: u32) -> bool {
    matches!(code, 4 | 17 | 32 | 613 | 80001)
}

/// `X-App-Usage` and, for page and system-user tokens, `X-Business-Use-Case-Usage`, as
/// percentages of `SimConfig::app_calls_per_hour`.
fn usage_headers(
    sim: &Sim,
    meta: &CallMeta,
    throttled: bool,
    headers: &mut Vec<(&'static str, String)>,
) {
    let Some(app_id) = &meta.app_id else { return };
    let now = sim.now();
    let calls = {
        let state = sim.read();
        match state.apps.get(app_id) {
            Some(app) => app.usage.record(now),
            None => return,
        }
    };
    let budget = sim.config().app_calls_per_hour.max(1);
    let pct = if throttled {
        100
    } else {
        (calls.saturating_mul(100) / budget).min(100)
    };
    headers.push((
        "x-app-usage",
        format!(r#"{{"call_count":{pct},"total_cputime":{pct},"total_time":{pct}}}"#),
    ));
    if let Some(object) = &meta.business_object {
        let wait = if throttled { 60 } else { 0 };
        headers.push((
            "x-business-use-case-usage",
            json!({ object: [{
                "type": "pages",
                "call_count": pct,
                "total_cputime": pct,
                "total_time": pct,
                "estimated_time_to_regain_access": wait,
            }]})
            .to_string(),
        ));
    }
}

/// A 5xx or rate-limit error injected through `/_sim/faults`, if this call draws one.
fn injected_fault(sim: &Sim) -> Option<GraphError> {
    let state = sim.read();
    let faults = &state.faults;
    if faults.server_error_rate > 0.0 && rand::random::<f64>() < faults.server_error_rate {
        let mut error = GraphError::oauth(
            2,
            "An unexpected error has occurred. Please retry your request later.",
        );
        error.status = 500;
        error.transient = true;
        error.www_authenticate = None;
        return Some(error);
    }
    let limit = faults.rate_limit.as_ref()?;
    if !limit.exhausted() {
        return None;
    }
    let message = match limit.code {
        4 => "(#4) Application request limit reached",
        17 => "(#17) User request limit reached",
        32 => "(#32) Page request limit reached",
        613 => "(#613) Calls to this api have exceeded the rate limit.",
        _ => {
            "(#80001) There have been too many calls to this Page account. Wait a bit and try \
             again. For more info, please refer to \
             https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
        }
    };
    let mut error = GraphError::oauth(limit.code, message);
    error.transient = true;
    error.www_authenticate = None;
    Some(error)
}

fn peek_app(sim: &Sim, request: &GraphRequest, meta: &mut CallMeta) {
    let state = sim.read();
    if let Some(record) = request.token().and_then(|t| state.find_token(t)) {
        note_token(&record, meta);
    } else if let Some(app_id) = request.param("client_id")
        && state.apps.contains_key(app_id)
    {
        meta.app_id = Some(app_id.to_owned());
    }
}

fn note_token(record: &TokenRecord, meta: &mut CallMeta) {
    meta.app_id = Some(record.app_id.clone());
    meta.business_object = match &record.kind {
        TokenKind::Page { page_id, .. } => Some(page_id.clone()),
        TokenKind::SystemUser { business_id, .. } => Some(business_id.clone()),
        _ => None,
    };
}

fn dispatch(sim: &Sim, request: &GraphRequest, meta: &mut CallMeta) -> GraphResult {
    let segments: Vec<&str> = request.path.split('/').filter(|s| !s.is_empty()).collect();
    let method = &request.method;
    match segments.as_slice() {
        [] if *method == Method::POST && request.param("batch").is_some() => {
            batch::run(sim, request, meta)
        }
        ["oauth", "access_token"] => oauth::access_token(sim, request, meta),
        ["oauth", "access_token_info"] => oauth::access_token_info(sim, request, meta),
        ["debug_token"] => oauth::debug_token(sim, request, meta),
        [node] if *method == Method::GET => user::get_node(sim, request, meta, node),
        [node, "permissions", rest @ ..] if rest.len() <= 1 => {
            let perm = rest.first().copied();
            if *method == Method::DELETE {
                user::delete_permissions(sim, request, meta, node, perm)
            } else {
                user::permissions(sim, request, meta, node, perm)
            }
        }
        [node, "picture"] if *method == Method::GET => user::picture(sim, request, meta, node),
        [node, "accounts"] if *method == Method::GET => pages::accounts(sim, request, meta, node),
        [node, "feed"] if *method == Method::GET => pages::feed(sim, request, meta, node),
        [node, "feed"] if *method == Method::POST => pages::post(sim, request, meta, node),
        [node, "system_user_access_tokens"] if *method == Method::POST => {
            business::system_user_access_tokens(sim, request, meta, node)
        }
        _ => Err(GraphError::oauth(
            2500,
            format!("Unknown path components: /{}", request.path),
        )),
    }
}

/// The token of a call, checked: valid, and with a correct `appsecret_proof` when one is sent
/// or the app requires one.
pub(crate) fn authenticate(
    sim: &Sim,
    state: &SimState,
    request: &GraphRequest,
    meta: &mut CallMeta,
    missing: fn() -> GraphError,
) -> Result<(String, TokenRecord), GraphError> {
    let token = request.token().ok_or_else(missing)?;
    let now = sim.now();
    let record = state
        .valid_token(token, now)
        .map_err(|p| GraphError::token(&p, now))?;
    note_token(&record, meta);
    if request.proof_checked_token.as_deref() != Some(token) {
        check_proof(state, request, token, &record, now, false)?;
    }
    Ok((token.to_owned(), record))
}

/// Checks `appsecret_proof` (plain, or with `appsecret_time` within five minutes).
pub(crate) fn check_proof(
    state: &SimState,
    request: &GraphRequest,
    token: &str,
    record: &TokenRecord,
    now: i64,
    always_required: bool,
) -> Result<(), GraphError> {
    let Some(app) = state.apps.get(&record.app_id) else {
        return Err(GraphError::token(&crate::state::TokenProblem::Unknown, now));
    };
    let invalid =
        || GraphError::method(100, "Invalid appsecret_proof provided in the API argument");
    match request.param("appsecret_proof") {
        Some(proof) => {
            let expected = match request.param("appsecret_time") {
                Some(time) => {
                    let time: i64 = time.parse().map_err(|_| invalid())?;
                    if (now - time).abs() > 300 {
                        return Err(invalid());
                    }
                    crypto::appsecret_proof_with_time(&app.secret, token, time)
                }
                None => crypto::appsecret_proof(&app.secret, token),
            };
            if crypto::constant_time_eq(&expected, &proof.to_ascii_lowercase()) {
                Ok(())
            } else {
                Err(invalid())
            }
        }
        None if (always_required || app.require_appsecret_proof)
            && !matches!(record.kind, TokenKind::App) =>
        {
            Err(GraphError::method(
                100,
                "API calls from the server require an appsecret_proof argument",
            ))
        }
        None => Ok(()),
    }
}
