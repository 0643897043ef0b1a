//! The control API's OpenAPI document, served at `GET /_sim/openapi.json`.
//!
//! Written as a table rather than derived: the control handlers take free-form JSON (to give
//! precise error messages), so the table is the single place that names each call.

use axum::Json;
use serde_json::{Map, Value, json};

/// (method, path, summary, example request body or null).
fn calls() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        (
            "post",
            "/_sim/apps",
            "Register an app",
            json!({"app_id": "1234", "app_secret": "s3cret", "name": "My app", "redirect_uris": ["http://127.0.0.1:3000/callback"], "require_appsecret_proof": true, "deauthorize_callback_url": "http://127.0.0.1:3000/deauth", "data_deletion_callback_url": "http://127.0.0.1:3000/delete", "login_configs": [{"config_id": "555", "token_type": "system_user", "permissions": ["business_management", "pages_show_list"], "assets": [], "token_expires_in_60_days": false}]}),
        ),
        ("get", "/_sim/apps", "List apps", Value::Null),
        ("get", "/_sim/apps/{app_id}", "Show an app", Value::Null),
        (
            "patch",
            "/_sim/apps/{app_id}",
            "Change an app (fields given only; \"\" clears a callback URL)",
            json!({"require_appsecret_proof": true}),
        ),
        (
            "post",
            "/_sim/apps/{app_id}/auto-consent",
            "Answer the dialog automatically as a user",
            json!({"user_id": "10000000000000101", "declined": ["email"], "cancel": false}),
        ),
        (
            "delete",
            "/_sim/apps/{app_id}/auto-consent",
            "Show the dialog page again",
            Value::Null,
        ),
        (
            "post",
            "/_sim/users",
            "Create a test user (email absent: generated; null: none)",
            json!({"name": "Grace Hopper", "email": null, "pages": [{"name": "Grace's Page", "category": "Scientist"}], "businesses": [{"name": "Grace Inc"}]}),
        ),
        ("get", "/_sim/users", "List test users", Value::Null),
        (
            "get",
            "/_sim/users/{user_id}",
            "Show a test user",
            Value::Null,
        ),
        (
            "get",
            "/_sim/pictures/{user_id}",
            "A user's default picture (SVG)",
            Value::Null,
        ),
        (
            "post",
            "/_sim/tokens",
            "Mint a user token without the dialog",
            json!({"app_id": "1000000000000001", "user_id": "10000000000000101", "scopes": ["email"], "long_lived": false}),
        ),
        (
            "post",
            "/_sim/tokens/revoke",
            "Revoke a token (190 with the subcode)",
            json!({"access_token": "EAA...", "subcode": 460}),
        ),
        (
            "post",
            "/_sim/tokens/expire",
            "Expire a token now (190/463)",
            json!({"access_token": "EAA..."}),
        ),
        ("get", "/_sim/clock", "Emulator time", Value::Null),
        (
            "post",
            "/_sim/clock/advance",
            "Move the clock forward",
            json!({"seconds": 3600}),
        ),
        (
            "post",
            "/_sim/faults",
            "Inject faults (replaces all settings)",
            json!({"latency_ms": 0, "server_error_rate": 0.0, "rate_limit": {"code": 4, "remaining_calls": 10}, "batch_null_rate": 0.0}),
        ),
        ("get", "/_sim/faults", "Show faults", Value::Null),
        ("delete", "/_sim/faults", "Clear faults", Value::Null),
        (
            "post",
            "/_sim/apps/{app_id}/users/{user_id}/remove",
            "The user removes the app (deauthorize callback)",
            Value::Null,
        ),
        (
            "post",
            "/_sim/apps/{app_id}/users/{user_id}/data-deletion",
            "The user asks for data deletion (data-deletion callback)",
            Value::Null,
        ),
        (
            "post",
            "/_sim/apps/{app_id}/users/{user_id}/expire-data-access",
            "End the user's 90-day data access now",
            Value::Null,
        ),
        (
            "delete",
            "/_sim/apps/{app_id}/users/{user_id}/permissions/{permission}",
            "The user removes one permission",
            Value::Null,
        ),
        (
            "post",
            "/_sim/limited-login",
            "Mint a Limited Login authentication token",
            json!({"app_id": "1000000000000001", "user_id": "10000000000000101", "nonce": "abc", "email": true}),
        ),
        ("post", "/_sim/reset", "Back to the seed state", Value::Null),
        (
            "get",
            "/_sim/requests",
            "The Graph calls answered, batch operations included (filters: endpoint, user_id, since_seq)",
            Value::Null,
        ),
        (
            "delete",
            "/_sim/requests",
            "Forget the logged calls",
            Value::Null,
        ),
    ]
}

/// `GET /_sim/openapi.json`.
pub(crate) async fn document() -> Json<Value> {
    let mut paths = Map::new();
    for (method, path, summary, example) in calls() {
        let mut operation = json!({
            "summary": summary,
            "responses": {
                "200": { "description": "OK (201 for creations)", "content": { "application/json": {} } },
                "400": { "description": "Bad input: {\"error\": \"...\"}" },
                "404": { "description": "Unknown id: {\"error\": \"...\"}" }
            }
        });
        let params: Vec<Value> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        if !params.is_empty() {
            operation["parameters"] = Value::Array(params);
        }
        if !example.is_null() {
            operation["requestBody"] = json!({
                "content": { "application/json": { "schema": { "type": "object" }, "example": example } }
            });
        }
        let entry = paths.entry(path.to_owned()).or_insert_with(|| json!({}));
        entry[method] = operation;
    }
    Json(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "fbgate sim control API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Controls the Facebook emulator. The Facebook endpoints themselves are documented in docs/emulator.md."
        },
        "paths": paths,
    }))
}
