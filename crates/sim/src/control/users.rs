//! `/_sim/users`: test users with their pages and businesses, and their pictures.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use super::apps::parse;
use super::{ControlError, ControlResult, created, ok};
use crate::ids;
use crate::model::{Business, Page, TestUser};
use crate::seed::{ADMIN_TASKS, split_name, strings};
use crate::state::{Sim, State as SimState};

#[derive(Debug, Deserialize)]
struct UserSpec {
    id: Option<String>,
    name: String,
    first_name: Option<String>,
    last_name: Option<String>,
    picture: Option<String>,
    #[serde(default)]
    pages: Vec<PageSpec>,
    #[serde(default)]
    businesses: Vec<BusinessSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageSpec {
    id: Option<String>,
    name: String,
    category: Option<String>,
    tasks: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BusinessSpec {
    id: Option<String>,
    name: String,
    system_user_id: Option<String>,
    system_user_name: Option<String>,
}

fn view(state: &SimState, user: &TestUser) -> Value {
    let pages: Vec<Value> = user
        .pages
        .iter()
        .filter_map(|id| state.pages.get(id))
        .map(|p| json!({ "id": p.id, "name": p.name, "category": p.category, "tasks": p.tasks }))
        .collect();
    let businesses: Vec<Value> = user
        .businesses
        .iter()
        .filter_map(|id| state.businesses.get(id))
        .map(|b| {
            json!({
                "id": b.id,
                "name": b.name,
                "system_user_id": b.system_user_id,
                "system_user_name": b.system_user_name,
                "assets": b.assets,
            })
        })
        .collect();
    json!({
        "id": user.id,
        "name": user.name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "picture": user.picture,
        "pages": pages,
        "businesses": businesses,
    })
}

fn taken(state: &SimState, id: &str) -> bool {
    state.users.contains_key(id)
        || state.pages.contains_key(id)
        || state.businesses.contains_key(id)
        || state.apps.contains_key(id)
        || state.businesses.values().any(|b| b.system_user_id == id)
}

/// `POST /_sim/users`: `email` absent gets `<first>.<id>@example.com`; `null` means none.
pub(crate) async fn create(State(sim): State<Sim>, Json(body): Json<Value>) -> ControlResult {
    let email = match body.get("email") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(e)) => Some(Some(e.clone())),
        Some(_) => return Err(ControlError::bad_request("email must be a string or null")),
    };
    let mut body = body;
    if let Some(object) = body.as_object_mut() {
        object.remove("email");
    }
    let spec: UserSpec = parse(body)?;
    if spec.name.trim().is_empty() {
        return Err(ControlError::bad_request("name must not be empty"));
    }
    let mut state = sim.write();
    let id = spec.id.unwrap_or_else(|| ids::numeric_id(17));
    let mut new_ids = vec![id.clone()];
    let (first, last) = split_name(&spec.name);
    let email = email.unwrap_or_else(|| Some(format!("{}.{id}@example.com", first.to_lowercase())));
    let pages: Vec<Page> = spec
        .pages
        .into_iter()
        .map(|p| Page {
            id: p.id.unwrap_or_else(|| ids::numeric_id(17)),
            name: p.name,
            category: p.category.unwrap_or_else(|| "Local Business".to_owned()),
            tasks: p.tasks.unwrap_or_else(|| strings(&ADMIN_TASKS)),
            posts: Vec::new(),
        })
        .collect();
    let page_ids: Vec<String> = pages.iter().map(|p| p.id.clone()).collect();
    let businesses: Vec<Business> = spec
        .businesses
        .into_iter()
        .map(|b| Business {
            id: b.id.unwrap_or_else(|| ids::numeric_id(17)),
            system_user_id: b.system_user_id.unwrap_or_else(|| ids::numeric_id(17)),
            system_user_name: b
                .system_user_name
                .unwrap_or_else(|| format!("{} System User", b.name)),
            name: b.name,
            admins: vec![id.clone()],
            assets: page_ids.clone(),
        })
        .collect();
    new_ids.extend(page_ids.iter().cloned());
    for b in &businesses {
        new_ids.push(b.id.clone());
        new_ids.push(b.system_user_id.clone());
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = new_ids
        .iter()
        .find(|i| taken(&state, i) || !seen.insert(*i))
    {
        return Err(ControlError::conflict(format!("id {dup} is taken")));
    }
    let user = TestUser {
        id: id.clone(),
        name: spec.name.trim().to_owned(),
        first_name: spec.first_name.unwrap_or(first),
        last_name: spec.last_name.unwrap_or(last),
        email,
        picture: spec.picture,
        pages: page_ids,
        businesses: businesses.iter().map(|b| b.id.clone()).collect(),
    };
    for page in pages {
        state.pages.insert(page.id.clone(), page);
    }
    for business in businesses {
        state.businesses.insert(business.id.clone(), business);
    }
    let body = view(&state, &user);
    state.users.insert(id, user);
    Ok(created(body))
}

/// `GET /_sim/users`.
pub(crate) async fn list(State(sim): State<Sim>) -> ControlResult {
    let state = sim.read();
    let users: Vec<Value> = state.users.values().map(|u| view(&state, u)).collect();
    Ok(ok(json!({ "data": users })))
}

/// `GET /_sim/users/{user_id}`.
pub(crate) async fn show(State(sim): State<Sim>, Path(user_id): Path<String>) -> ControlResult {
    let state = sim.read();
    let user = state
        .users
        .get(&user_id)
        .ok_or_else(|| ControlError::not_found(format!("no user {user_id}")))?;
    Ok(ok(view(&state, user)))
}

/// `GET /_sim/pictures/{user_id}`: an SVG with the user's initials (the default picture).
pub(crate) async fn picture(State(sim): State<Sim>, Path(user_id): Path<String>) -> ControlResult {
    let initials: String = {
        let state = sim.read();
        let user = state
            .users
            .get(&user_id)
            .ok_or_else(|| ControlError::not_found(format!("no user {user_id}")))?;
        user.name
            .split_whitespace()
            .filter_map(|w| w.chars().next())
            .filter(char::is_ascii_alphanumeric)
            .take(2)
            .collect()
    };
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 100 100\">\
         <rect width=\"100\" height=\"100\" fill=\"#1877f2\"/>\
         <text x=\"50\" y=\"62\" font-family=\"Helvetica,Arial,sans-serif\" font-size=\"36\" \
         fill=\"#fff\" text-anchor=\"middle\">{initials}</text></svg>"
    );
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
