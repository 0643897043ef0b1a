//! Nodes (`/me`, `/{id}`) and the user's edges: `permissions` (also as a field of the node,
//! by field expansion) and `picture`.
//!
//! `me` means whoever the token belongs to: a user, a page (page token) or a system user.
//! A user token may read its own user only; other users answer Graph's "does not exist"
//! error (code 100, subcode 33), which is what Facebook answers for ids it will not show.

use serde_json::{Map, Value, json};

use super::fields::{self, Field};
use super::{CallMeta, GraphError, GraphOk, GraphRequest, GraphResult, authenticate, pages};
use crate::model::{PermissionStatus, TestUser, TokenKind, TokenRecord};
use crate::state::{Sim, State};

/// What a path segment names.
pub(super) enum Node {
    User(String),
    Page(String),
    SystemUser { id: String, business_id: String },
    Business(String),
}

pub(super) fn resolve(state: &State, record: &TokenRecord, node: &str) -> Result<Node, GraphError> {
    if node == "me" {
        return match &record.kind {
            TokenKind::User { user_id } => Ok(Node::User(user_id.clone())),
            TokenKind::Page { page_id, .. } => Ok(Node::Page(page_id.clone())),
            TokenKind::SystemUser {
                system_user_id,
                business_id,
                ..
            } => Ok(Node::SystemUser {
                id: system_user_id.clone(),
                business_id: business_id.clone(),
            }),
            TokenKind::App => Err(GraphError::no_token_for_me()),
        };
    }
    if state.users.contains_key(node) {
        let visible = match &record.kind {
            TokenKind::User { user_id } => user_id == node,
            TokenKind::App => state
                .grants
                .contains_key(&(record.app_id.clone(), node.to_owned())),
            _ => false,
        };
        return if visible {
            Ok(Node::User(node.to_owned()))
        } else {
            Err(GraphError::no_such_object(node))
        };
    }
    if state.pages.contains_key(node) {
        return Ok(Node::Page(node.to_owned()));
    }
    for business in state.businesses.values() {
        let member = match &record.kind {
            TokenKind::SystemUser { business_id, .. } => *business_id == business.id,
            TokenKind::User { user_id } => business.admins.contains(user_id),
            _ => false,
        };
        if business.id == node && member {
            return Ok(Node::Business(business.id.clone()));
        }
        if business.system_user_id == node && member {
            return Ok(Node::SystemUser {
                id: node.to_owned(),
                business_id: business.id.clone(),
            });
        }
    }
    Err(GraphError::no_such_object(node))
}

/// `GET /me`, `GET /{id}`.
pub(super) fn get_node(
    sim: &Sim,
    request: &GraphRequest,
    meta: &mut CallMeta,
    node: &str,
) -> GraphResult {
    let missing = if node == "me" {
        GraphError::no_token_for_me
    } else {
        GraphError::no_token
    };
    let requested = match request.param("fields") {
        Some(value) => fields::parse(value).map_err(|m| GraphError::oauth(100, m))?,
        None => Vec::new(),
    };
    let state = sim.read();
    let (token, record) = authenticate(sim, &state, request, meta, missing)?;
    match resolve(&state, &record, node)? {
        Node::User(id) => {
            let user = state
                .users
                .get(&id)
                .ok_or_else(|| GraphError::no_such_object(&id))?;
            let fields = if requested.is_empty() {
                default_fields(&["name", "id"])
            } else {
                requested
            };
            user_object(sim, &state, &record, user, &fields, &request.base_url).map(GraphOk::json)
        }
        Node::Page(id) => {
            drop(state);
            pages::page_node(sim, &token, &record, &id, requested)
        }
        Node::SystemUser { id, business_id } => {
            let business = state.businesses.get(&business_id);
            let name = business.map(|b| b.system_user_name.clone());
            simple_object(&id, name, &requested, "User")
        }
        Node::Business(id) => {
            let name = state.businesses.get(&id).map(|b| b.name.clone());
            simple_object(&id, name, &requested, "Business")
        }
    }
}

fn default_fields(names: &[&str]) -> Vec<Field> {
    names
        .iter()
        .map(|n| Field {
            name: (*n).to_owned(),
            modifiers: Vec::new(),
            children: None,
        })
        .collect()
}

fn nonexisting(field: &str, node_type: &str) -> GraphError {
    GraphError::oauth(
        100,
        format!("(#100) Tried accessing nonexisting field ({field}) on node type ({node_type})"),
    )
}

fn simple_object(id: &str, name: Option<String>, fields: &[Field], node_type: &str) -> GraphResult {
    let mut out = Map::new();
    let wanted = if fields.is_empty() {
        default_fields(&["name", "id"])
    } else {
        fields.to_vec()
    };
    for field in &wanted {
        match field.name.as_str() {
            "id" => {
                out.insert("id".into(), json!(id));
            }
            "name" => {
                out.insert("name".into(), json!(name.clone().unwrap_or_default()));
            }
            other => return Err(nonexisting(other, node_type)),
        }
    }
    Ok(GraphOk::json(Value::Object(out)))
}

fn user_object(
    sim: &Sim,
    state: &State,
    record: &TokenRecord,
    user: &TestUser,
    fields: &[Field],
    base_url: &str,
) -> Result<Value, GraphError> {
    let grant = state.grants.get(&(record.app_id.clone(), user.id.clone()));
    let data_expired = matches!(record.kind, TokenKind::User { .. })
        && grant.is_some_and(|g| g.data_access_expires_at <= sim.now());
    let mut out = Map::new();
    for field in fields {
        let name = field.name.as_str();
        if data_expired && name != "id" {
            return Err(GraphError {
                www_authenticate: Some("invalid_token"),
                ..GraphError::oauth(
                    190,
                    "Error validating access token: Data access for this app has expired. \
                     The user must log in again.",
                )
            });
        }
        let value = match name {
            "id" => json!(user.id),
            "name" => json!(user.name),
            "first_name" => json!(user.first_name),
            "last_name" => json!(user.last_name),
            "short_name" => json!(user.first_name),
            "name_format" => json!("{first} {last}"),
            "middle_name" => continue,
            "email" => {
                let granted = matches!(record.kind, TokenKind::User { .. })
                    && grant.and_then(|g| g.permissions.get("email"))
                        == Some(&PermissionStatus::Granted);
                match (&user.email, granted) {
                    (Some(email), true) => json!(email),
                    _ => continue,
                }
            }
            "picture" => json!({ "data": picture_data(user, field, base_url)? }),
            // Field expansion: the `permissions` edge, inside the node.
            "permissions" => {
                json!({ "data": permission_list(state, &record.app_id, &user.id, None) })
            }
            other => return Err(nonexisting(other, "User")),
        };
        out.insert(name.to_owned(), value);
    }
    Ok(Value::Object(out))
}

/// Side length in pixels for a picture `type`.
fn picture_size(kind: &str) -> Option<u32> {
    match kind {
        "square" | "small" | "album" => Some(50),
        "normal" => Some(100),
        "large" => Some(200),
        _ => None,
    }
}

/// `{"height","is_silhouette","url","width"}` for `picture`, honouring `.type()`, `.width()`,
/// `.height()` and a `{url,width,height,is_silhouette}` sub-list (a `data{...}` wrapper is
/// accepted too).
fn picture_data(user: &TestUser, field: &Field, base_url: &str) -> Result<Value, GraphError> {
    let params: Vec<(String, String)> = field.modifiers.clone();
    picture_from_params(user, &params, field.children.as_deref(), base_url)
}

fn picture_from_params(
    user: &TestUser,
    params: &[(String, String)],
    children: Option<&[Field]>,
    base_url: &str,
) -> Result<Value, GraphError> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let base = match get("type") {
        Some(kind) => picture_size(kind).ok_or_else(|| {
            GraphError::oauth(100, format!("(#100) type must be one of the following values: small, normal, album, large, square (got {kind})"))
        })?,
        None => 50,
    };
    let parse = |v: Option<&str>| v.and_then(|s| s.parse::<u32>().ok());
    let width = parse(get("width"));
    let height = parse(get("height"));
    let (width, height) = match (width, height) {
        (Some(w), Some(h)) => (w, h),
        (Some(w), None) => (w, w),
        (None, Some(h)) => (h, h),
        (None, None) => (base, base),
    };
    let url = match &user.picture {
        Some(url) => url.clone(),
        None => format!(
            "{base_url}/_sim/pictures/{}?width={width}&height={height}",
            user.id
        ),
    };
    let full = json!({
        "height": height,
        "is_silhouette": false,
        "url": url,
        "width": width,
    });
    let Some(children) = children else {
        return Ok(full);
    };
    let mut out = Map::new();
    for child in children {
        if child.name == "data" {
            return picture_from_params(user, params, child.children.as_deref(), base_url);
        }
        match full.get(&child.name) {
            Some(value) => {
                out.insert(child.name.clone(), value.clone());
            }
            None => return Err(nonexisting(&child.name, "ProfilePictureSource")),
        }
    }
    Ok(Value::Object(out))
}

/// `GET /{id}/picture`: a 302 to the image, or its data with `redirect=false`.
pub(super) fn picture(
    sim: &Sim,
    request: &GraphRequest,
    _meta: &mut CallMeta,
    node: &str,
) -> GraphResult {
    let state = sim.read();
    let user = state
        .users
        .get(node)
        .ok_or_else(|| GraphError::no_such_object(node))?;
    let data = picture_from_params(user, &request.params, None, &request.base_url)?;
    if matches!(request.param("redirect"), Some("false" | "0")) {
        return Ok(GraphOk::json(json!({ "data": data })));
    }
    let location = data["url"].as_str().unwrap_or_default().to_owned();
    Ok(GraphOk {
        status: 302,
        body: Value::Null,
        location: Some(location),
    })
}

fn user_for_permissions(
    state: &State,
    record: &TokenRecord,
    node: &str,
) -> Result<String, GraphError> {
    match resolve(state, record, node)? {
        Node::User(id) => Ok(id),
        _ => Err(GraphError::oauth(
            100,
            "(#100) Tried accessing nonexisting field (permissions) on node type (Page)",
        )),
    }
}

/// `GET /me/permissions[/{permission}]`.
pub(super) fn permissions(
    sim: &Sim,
    request: &GraphRequest,
    meta: &mut CallMeta,
    node: &str,
    only: Option<&str>,
) -> GraphResult {
    let state = sim.read();
    let (_, record) = authenticate(sim, &state, request, meta, GraphError::no_token)?;
    let user_id = user_for_permissions(&state, &record, node)?;
    let data = permission_list(&state, &record.app_id, &user_id, only);
    Ok(GraphOk::json(json!({ "data": data })))
}

/// `[{"permission","status"}]` of what `app_id` asked `user_id` for (one permission with `only`).
fn permission_list(state: &State, app_id: &str, user_id: &str, only: Option<&str>) -> Vec<Value> {
    state
        .grants
        .get(&(app_id.to_owned(), user_id.to_owned()))
        .map(|grant| {
            grant
                .permissions
                .iter()
                .filter(|(p, _)| only.is_none_or(|o| o == p.as_str()))
                .map(|(p, s)| json!({ "permission": p, "status": s }))
                .collect()
        })
        .unwrap_or_default()
}

/// `DELETE /me/permissions` (the app de-authorizes itself) and `DELETE /me/permissions/{p}`.
pub(super) fn delete_permissions(
    sim: &Sim,
    request: &GraphRequest,
    meta: &mut CallMeta,
    node: &str,
    only: Option<&str>,
) -> GraphResult {
    let mut state = sim.write();
    let (_, record) = authenticate(sim, &state, request, meta, GraphError::no_token)?;
    let user_id = user_for_permissions(&state, &record, node)?;
    let key = (record.app_id.clone(), user_id.clone());
    match only {
        None => {
            state.grants.remove(&key);
            state.revoke_user_tokens(&record.app_id, &user_id, Some(458));
        }
        Some("public_profile") => {
            return Err(GraphError::oauth(
                100,
                "(#100) public_profile cannot be revoked on its own; delete /permissions to \
                 remove the app",
            ));
        }
        Some(permission) => {
            if let Some(status) = state
                .grants
                .get_mut(&key)
                .and_then(|g| g.permissions.get_mut(permission))
            {
                *status = PermissionStatus::Declined;
            }
        }
    }
    Ok(GraphOk::json(json!({ "success": true })))
}
