//! Batch requests: `POST /` with `batch=[{"method","relative_url","body"?},...]`.
//!
//! Each operation is an ordinary Graph call (it counts toward usage and can draw an injected
//! fault). Operations inherit the batch's `access_token` unless they carry their own; the
//! batch's `appsecret_proof` covers the batch token. With `batch_null_rate` set, entries are
//! `null` as when Facebook times an operation out. `depends_on` and JSONPath references are not
//! supported: operations run in order and independently.

use serde_json::{Value, json};

use super::{
    CallMeta, GraphError, GraphOk, GraphRequest, GraphResult, check_proof, effective_method,
    execute, is_version, log, peek_app,
};
use crate::state::Sim;
use axum::http::Method;

/// Facebook's limit on operations per batch.
pub(crate) const MAX_OPERATIONS: usize = 50;

pub(super) fn run(sim: &Sim, request: &GraphRequest, meta: &mut CallMeta) -> GraphResult {
    let raw = request.param("batch").unwrap_or("[]");
    let ops: Vec<Value> = serde_json::from_str(raw)
        .map_err(|_| GraphError::oauth(100, "(#100) The parameter batch must be a JSON array"))?;
    if ops.len() > MAX_OPERATIONS {
        return Err(GraphError::oauth(
            100,
            "(#100) Too many requests in batch message. Maximum batch size is 50",
        ));
    }
    let batch_token = request.token().map(str::to_owned);
    let null_rate = {
        let now = sim.now();
        let state = sim.read();
        if let Some(token) = &batch_token {
            let record = state
                .valid_token(token, now)
                .map_err(|p| GraphError::token(&p, now))?;
            meta.app_id = Some(record.app_id.clone());
            check_proof(&state, request, token, &record, now, false)?;
        }
        state.faults.batch_null_rate
    };
    let include_headers = request.param("include_headers") != Some("false");
    let mut answers = Vec::with_capacity(ops.len());
    for op in &ops {
        let sub = match operation(request, op, batch_token.as_deref()) {
            Ok(sub) => sub,
            Err(error) => {
                answers.push(json!({
                    "code": error.status,
                    "headers": [],
                    "body": error.body().to_string(),
                }));
                continue;
            }
        };
        if null_rate > 0.0 && rand::random::<f64>() < null_rate {
            // Facebook timed the operation out: it was sent, but there is no answer.
            let mut op_meta = CallMeta::default();
            peek_app(sim, &sub, &mut op_meta);
            log(sim, &sub, op_meta.app_id, None);
            answers.push(Value::Null);
            continue;
        }
        let response = execute(sim, &sub);
        let omit = op.get("omit_response_on_success") == Some(&Value::Bool(true));
        if omit && response.status == 200 {
            answers.push(Value::Null);
            continue;
        }
        let mut answer = json!({ "code": response.status, "body": response.body });
        if include_headers {
            answer["headers"] = response
                .headers
                .iter()
                .map(|(name, value)| json!({ "name": name, "value": value }))
                .collect();
        }
        answers.push(answer);
    }
    Ok(GraphOk::json(Value::Array(answers)))
}

fn operation(
    batch: &GraphRequest,
    op: &Value,
    batch_token: Option<&str>,
) -> Result<GraphRequest, GraphError> {
    let relative_url = op
        .get("relative_url")
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::missing_param("relative_url"))?;
    let method = match op
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase()
        .as_str()
    {
        "GET" => Method::GET,
        "POST" => Method::POST,
        "DELETE" => Method::DELETE,
        other => {
            return Err(GraphError::oauth(
                100,
                format!("(#100) Unsupported method in batch operation: {other}"),
            ));
        }
    };
    let (path, query) = relative_url.split_once('?').unwrap_or((relative_url, ""));
    let mut params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if let Some(body) = op.get("body").and_then(Value::as_str) {
        params.extend(form_urlencoded::parse(body.as_bytes()).into_owned());
    }
    let mut proof_checked_token = None;
    if !params.iter().any(|(k, _)| k == "access_token")
        && let Some(token) = batch_token
    {
        params.push(("access_token".to_owned(), token.to_owned()));
        proof_checked_token = Some(token.to_owned());
    }
    let requested_path = format!("/{}", path.trim_start_matches('/'));
    let trimmed = path.trim_matches('/');
    let (version, path) = match trimmed.split_once('/') {
        Some((first, rest)) if is_version(first) => (first.to_owned(), rest.to_owned()),
        _ if is_version(trimmed) => (trimmed.to_owned(), String::new()),
        _ => (batch.version.clone(), trimmed.to_owned()),
    };
    Ok(GraphRequest {
        method: effective_method(method, &params),
        path,
        requested_path,
        version,
        params,
        bearer: None,
        base_url: batch.base_url.clone(),
        proof_checked_token,
        in_batch: true,
    })
}
