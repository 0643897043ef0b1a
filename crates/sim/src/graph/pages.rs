//! Pages: `/me/accounts` (with page tokens), `/{page-id}` and `/{page-id}/feed`.
//!
//! Page tokens follow Facebook's rule: derived from a long-lived user token they never expire,
//! from a short-lived one they last an hour. The same source token gets the same page token
//! back on repeated calls.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::error::graph_time;
use super::fields::{self, Field};
use super::user::{Node, resolve};
use super::{CallMeta, GraphError, GraphOk, GraphRequest, GraphResult, authenticate};
use crate::ids;
use crate::model::{Page, Post, TokenKind, TokenRecord};
use crate::state::{Sim, State};

const ACCOUNT_FIELDS: [&str; 6] = [
    "access_token",
    "category",
    "category_list",
    "name",
    "id",
    "tasks",
];

/// Whether `record` may act on `page_id` as its admin.
fn manages(state: &State, record: &TokenRecord, page_id: &str) -> bool {
    match &record.kind {
        TokenKind::User { user_id } => state
            .users
            .get(user_id)
            .is_some_and(|u| u.pages.iter().any(|p| p == page_id)),
        TokenKind::SystemUser { assets, .. } => assets.iter().any(|a| a == page_id),
        TokenKind::Page { page_id: own, .. } => own == page_id,
        TokenKind::App => false,
    }
}

fn page_fields(
    state: &mut State,
    token: &str,
    record: &TokenRecord,
    page: &Page,
    fields: &[Field],
    now: i64,
) -> Result<Value, GraphError> {
    let mut out = Map::new();
    for field in fields {
        let value = match field.name.as_str() {
            "id" => json!(page.id),
            "name" => json!(page.name),
            "category" => json!(page.category),
            "category_list" => {
                json!([{ "id": category_id(&page.category), "name": page.category }])
            }
            "tasks" if manages(state, record, &page.id) => json!(page.tasks),
            "tasks" => continue,
            "access_token" => match record.kind {
                TokenKind::App => continue,
                _ if !manages(state, record, &page.id) => continue,
                TokenKind::Page { .. } => json!(token),
                _ => json!(state.page_token_for(token, record, &page.id, now)),
            },
            other => {
                return Err(GraphError::oauth(
                    100,
                    format!(
                        "(#100) Tried accessing nonexisting field ({other}) on node type (Page)"
                    ),
                ));
            }
        };
        out.insert(field.name.clone(), value);
    }
    Ok(Value::Object(out))
}

/// A stable numeric id for a category name.
fn category_id(category: &str) -> String {
    let sum: u64 = category.bytes().fold(0u64, |acc, b| {
        acc.wrapping_mul(31).wrapping_add(u64::from(b))
    });
    format!("{}", 100_000_000_000_000 + sum % 900_000_000_000_000)
}

fn named(names: &[&str]) -> Vec<Field> {
    names
        .iter()
        .map(|n| Field {
            name: (*n).to_owned(),
            modifiers: Vec::new(),
            children: None,
        })
        .collect()
}

/// `GET /{page-id}` (`access_token` among the fields gives a page token to its admins).
pub(super) fn page_node(
    sim: &Sim,
    token: &str,
    record: &TokenRecord,
    page_id: &str,
    requested: Vec<Field>,
) -> GraphResult {
    let fields = if requested.is_empty() {
        named(&["name", "id"])
    } else {
        requested
    };
    let now = sim.now();
    let mut state = sim.write();
    let page = state
        .pages
        .get(page_id)
        .cloned()
        .ok_or_else(|| GraphError::no_such_object(page_id))?;
    page_fields(&mut state, token, record, &page, &fields, now).map(GraphOk::json)
}

/// `GET /me/accounts`: the pages the user (or system user) manages, with page tokens.
pub(super) fn accounts(
    sim: &Sim,
    request: &GraphRequest,
    meta: &mut CallMeta,
    node: &str,
) -> GraphResult {
    let fields = match request.param("fields") {
        Some(value) => fields::parse(value).map_err(|m| GraphError::oauth(100, m))?,
        None => named(&ACCOUNT_FIELDS),
    };
    let now = sim.now();
    let mut state = sim.write();
    let (token, record) = authenticate(sim, &state, request, meta, GraphError::no_token)?;
    let page_ids: Vec<String> = match resolve(&state, &record, node)? {
        Node::User(id) => state
            .users
            .get(&id)
            .map(|u| u.pages.clone())
            .unwrap_or_default(),
        Node::SystemUser { .. } => match &record.kind {
            TokenKind::SystemUser { assets, .. } => assets.clone(),
            _ => Vec::new(),
        },
        _ => {
            return Err(GraphError::oauth(
                100,
                "(#100) Tried accessing nonexisting field (accounts) on node type (Page)",
            ));
        }
    };
    let page_ids: Vec<String> = if state.has_scope(&record, "pages_show_list") {
        page_ids
            .into_iter()
            .filter(|id| state.pages.contains_key(id))
            .collect()
    } else {
        Vec::new()
    };
    let (start, end) = window(request, page_ids.len())?;
    let mut data = Vec::new();
    for id in &page_ids[start..end] {
        if let Some(page) = state.pages.get(id).cloned() {
            data.push(page_fields(
                &mut state, &token, &record, &page, &fields, now,
            )?);
        }
    }
    let path = format!("{}/{}/{node}/accounts", request.base_url, request.version);
    Ok(GraphOk::json(paged(
        data,
        start,
        end,
        page_ids.len(),
        &path,
        request,
    )))
}

/// The `[start, end)` slice that `limit` / `after` / `before` select.
fn window(request: &GraphRequest, len: usize) -> Result<(usize, usize), GraphError> {
    let limit = request
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let decode = |cursor: &str| -> Result<usize, GraphError> {
        URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<usize>().ok())
            .ok_or_else(|| GraphError::oauth(100, "(#100) Invalid cursor"))
    };
    if let Some(after) = request.param("after") {
        let start = (decode(after)? + 1).min(len);
        return Ok((start, (start + limit).min(len)));
    }
    if let Some(before) = request.param("before") {
        let end = decode(before)?.min(len);
        return Ok((end.saturating_sub(limit), end));
    }
    Ok((0, limit.min(len)))
}

fn paged(
    data: Vec<Value>,
    start: usize,
    end: usize,
    len: usize,
    path: &str,
    request: &GraphRequest,
) -> Value {
    if data.is_empty() {
        return json!({ "data": data });
    }
    let cursor = |i: usize| URL_SAFE_NO_PAD.encode(i.to_string());
    let before = cursor(start);
    let after = cursor(end - 1);
    let mut paging = json!({ "cursors": { "before": before, "after": after } });
    let mut link = |key: &str, cursor_key: &str, value: &str| {
        let mut url = format!("{path}?{cursor_key}={value}");
        for name in ["access_token", "limit", "fields"] {
            if let Some(v) = request.param(name) {
                url.push_str(&format!("&{name}={}", urlencode(v)));
            }
        }
        paging[key] = json!(url);
    };
    if end < len {
        link("next", "after", &after);
    }
    if start > 0 {
        link("previous", "before", &before);
    }
    json!({ "data": data, "paging": paging })
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The checks shared by feed reads and writes: a page (or system-user) token for this page.
fn page_actor(state: &State, record: &TokenRecord, page_id: &str) -> Result<(), GraphError> {
    if !state.pages.contains_key(page_id) {
        return Err(GraphError::no_such_object(page_id));
    }
    match &record.kind {
        TokenKind::Page { .. } | TokenKind::SystemUser { .. }
            if manages(state, record, page_id) =>
        {
            Ok(())
        }
        TokenKind::Page { .. } | TokenKind::SystemUser { .. } => {
            Err(GraphError::permission("(#200) Permissions error"))
        }
        _ => Err(GraphError::oauth(
            210,
            "(#210) A page access token is required to request this resource.",
        )),
    }
}

/// `GET /{page-id}/feed`: newest first.
pub(super) fn feed(
    sim: &Sim,
    request: &GraphRequest,
    meta: &mut CallMeta,
    node: &str,
) -> GraphResult {
    let state = sim.read();
    let (_, record) = authenticate(sim, &state, request, meta, GraphError::no_token)?;
    page_actor(&state, &record, node)?;
    if !state.has_scope(&record, "pages_read_engagement") {
        return Err(GraphError::oauth(
            10,
            "(#10) This endpoint requires the 'pages_read_engagement' permission or the \
             'Page Public Content Access' feature.",
        ));
    }
    let posts: Vec<&Post> = state
        .pages
        .get(node)
        .map(|p| p.posts.iter().rev().collect())
        .unwrap_or_default();
    let (start, end) = window(request, posts.len())?;
    let data: Vec<Value> = posts[start..end]
        .iter()
        .map(|p| {
            json!({
                "created_time": graph_time(p.created_time),
                "message": p.message,
                "id": p.id,
            })
        })
        .collect();
    let path = format!("{}/{}/{node}/feed", request.base_url, request.version);
    Ok(GraphOk::json(paged(
        data,
        start,
        end,
        posts.len(),
        &path,
        request,
    )))
}

/// `POST /{page-id}/feed` with `message`.
pub(super) fn post(
    sim: &Sim,
    request: &GraphRequest,
    meta: &mut CallMeta,
    node: &str,
) -> GraphResult {
    let now = sim.now();
    let mut state = sim.write();
    let (_, record) = authenticate(sim, &state, request, meta, GraphError::no_token)?;
    page_actor(&state, &record, node)?;
    if !state.has_scope(&record, "pages_manage_posts")
        || !state.has_scope(&record, "pages_read_engagement")
    {
        return Err(GraphError::permission(
            "(#200) If posting to a page, requires both pages_read_engagement and \
             pages_manage_posts as an admin with sufficient administrative permission",
        ));
    }
    let message = request
        .param("message")
        .ok_or_else(|| GraphError::oauth(100, "(#100) Missing message or attachment"))?
        .to_owned();
    let id = format!("{node}_{}", ids::numeric_id(16));
    if let Some(page) = state.pages.get_mut(node) {
        page.posts.push(Post {
            id: id.clone(),
            message,
            created_time: now,
        });
    }
    Ok(GraphOk::json(json!({ "id": id })))
}
