//! OAuth providers: created, listed, read, changed and deleted with an environment's secret key.
//! `validation` checks that every bad field is named; `secrets` that the client secret is sealed
//! at rest and absent from every answer.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Engine, TestApp, TestEnvironment, error_code, on_both_engines, spawn_app};

mod secrets;
mod validation;

on_both_engines!(
    a_provider_is_created_with_the_defaults_and_the_dashboard_urls,
    a_slug_is_unique_within_an_environment_only,
    providers_are_listed_in_pages,
    a_provider_is_read_changed_and_deleted,
    a_key_of_one_environment_never_reaches_another_environments_provider,
);

const SECRET: &str = "fbgateTestAppSecret0123456789abcdefNeverShown";
const NEW_SECRET: &str = "fbgateRotatedAppSecret9876543210fedcbaNeverShown";

fn minimal() -> Value {
    json!({
        "provider_kind": "preset",
        "provider_key": "facebook",
        "client_id": "1234567890123456",
        "client_secret": SECRET,
    })
}

fn body_with(extra: Value) -> Value {
    let mut body = minimal();
    for (key, value) in extra.as_object().unwrap() {
        if value == &json!("<remove>") {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value.clone();
        }
    }
    body
}

async fn post(app: &TestApp, env: &TestEnvironment, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v1/oauth-providers"))
        .bearer_auth(&env.secret_key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn create(app: &TestApp, env: &TestEnvironment, body: &Value) -> Value {
    let response = post(app, env, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn send(
    app: &TestApp,
    env: &TestEnvironment,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&env.secret_key);
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.unwrap()
}

/// Checks a 422 and returns the field it names.
async fn refused_field(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body["error"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no field named: {body}"))
        .to_owned()
}

async fn a_provider_is_created_with_the_defaults_and_the_dashboard_urls(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("shop").await;
    let provider = create(&app, &env, &minimal()).await;

    let id = provider["id"].as_str().unwrap();
    assert!(id.starts_with("prv_"), "{id}");
    assert_eq!(provider["provider_kind"], "preset");
    assert_eq!(provider["provider_key"], "facebook");
    assert_eq!(provider["slug"], "facebook");
    assert_eq!(provider["name"], "Facebook");
    assert_eq!(provider["client_id"], "1234567890123456");
    assert_eq!(provider["client_secret_set"], true);
    assert!(provider.get("client_secret").is_none());
    assert_eq!(provider["scopes"], json!(["public_profile", "email"]));
    assert_eq!(provider["login_product"], "facebook_login");
    assert_eq!(provider["config_id"], Value::Null);
    assert_eq!(provider["token_type"], "user");
    assert_eq!(
        provider["attribute_mapping"],
        json!({
            "email_address": "email",
            "first_name": "first_name",
            "last_name": "last_name",
            "provider_user_id": "id",
            "profile_image_url": "picture.data.url",
        })
    );
    assert_eq!(provider["allow_sign_up"], true);
    assert_eq!(provider["sync_profile"], "every_sign_in");
    assert_eq!(provider["email_required"], true);
    assert_eq!(provider["revoke_on_unlink"], false);
    assert_eq!(
        provider["enabled_for"],
        json!(["sign_in", "linking", "api_access"])
    );
    assert_eq!(provider["allowed_redirect_urls"], json!([]));
    assert_eq!(provider["graph_api_version"], "v25.0");
    assert_eq!(provider["facebook_base_url"], Value::Null);
    assert_eq!(provider["graph_base_url"], Value::Null);
    assert_eq!(
        provider["redirect_uri"],
        format!("{}/v1/oauth-callback/facebook", app.address)
    );
    assert_eq!(
        provider["deauthorize_callback_url"],
        format!("{}/v1/facebook/{id}/deauthorize", app.address)
    );
    assert_eq!(
        provider["data_deletion_callback_url"],
        format!("{}/v1/facebook/{id}/data-deletion", app.address)
    );
    assert!(provider["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(provider["created_at"], provider["updated_at"]);

    // Everything given is kept, normalised where URLs are concerned.
    let custom = create(
        &app,
        &env,
        &body_with(json!({
            "slug": "business",
            "name": "Business app",
            "scopes": ["business_management", "email", "business_management"],
            "login_product": "facebook_login_for_business",
            "config_id": "5550001112223",
            "token_type": "system_user",
            "attribute_mapping": {"name": "name", "profile_image_url": null},
            "allow_sign_up": false,
            "sync_profile": "sign_up_only",
            "email_required": false,
            "revoke_on_unlink": true,
            "enabled_for": ["api_access", "sign_in"],
            "allowed_redirect_urls": ["https://APP.example.com/*", "http://localhost:3000/cb"],
            "graph_api_version": "v21.0",
            "facebook_base_url": "http://127.0.0.1:9090",
            "graph_base_url": "http://127.0.0.1:9090/graph/",
        })),
    )
    .await;
    assert_eq!(
        custom["redirect_uri"],
        format!("{}/v1/oauth-callback/business", app.address)
    );
    assert_eq!(
        custom["scopes"],
        json!(["public_profile", "business_management", "email"])
    );
    assert_eq!(custom["config_id"], "5550001112223");
    assert_eq!(custom["token_type"], "system_user");
    assert_eq!(custom["attribute_mapping"]["name"], "name");
    assert!(
        custom["attribute_mapping"]
            .get("profile_image_url")
            .is_none()
    );
    assert_eq!(custom["email_required"], false);
    assert_eq!(custom["enabled_for"], json!(["sign_in", "api_access"]));
    assert_eq!(
        custom["allowed_redirect_urls"],
        json!(["https://app.example.com/*", "http://localhost:3000/cb"])
    );
    assert_eq!(custom["facebook_base_url"], "http://127.0.0.1:9090/");
    assert_eq!(custom["graph_base_url"], "http://127.0.0.1:9090/graph/");
}

async fn a_slug_is_unique_within_an_environment_only(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("one").await;
    let other = app.create_environment("two").await;
    create(&app, &env, &minimal()).await;

    let again = post(&app, &env, &minimal()).await;
    assert_eq!(
        error_code(again, StatusCode::CONFLICT).await,
        "provider_slug_taken"
    );
    // Another slug in the same environment, and the same slug elsewhere, are fine.
    let second = create(&app, &env, &body_with(json!({"slug": "consumer"}))).await;
    create(&app, &other, &minimal()).await;

    // Renaming onto a taken slug is a conflict too, and changes nothing.
    let path = format!("/v1/oauth-providers/{}", second["id"].as_str().unwrap());
    let rename = send(
        &app,
        &env,
        reqwest::Method::PATCH,
        &path,
        Some(&json!({"slug": "facebook", "name": "Renamed"})),
    )
    .await;
    assert_eq!(
        error_code(rename, StatusCode::CONFLICT).await,
        "provider_slug_taken"
    );
    let unchanged: Value = send(&app, &env, reqwest::Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged["slug"], "consumer");
    assert_eq!(unchanged["name"], "Facebook");
}

async fn providers_are_listed_in_pages(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("paged").await;
    let slugs = ["alpha", "bravo", "charlie", "delta", "echo"];
    for slug in slugs {
        create(&app, &env, &body_with(json!({"slug": slug}))).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/v1/oauth-providers?limit=2".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let response = send(&app, &env, reqwest::Method::GET, &path, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let page: Value = response.json().await.unwrap();
        pages += 1;
        for provider in page["data"].as_array().unwrap() {
            assert_eq!(provider["client_secret_set"], true);
            seen.push(provider["slug"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, slugs);
    assert_eq!(pages, 3);

    for query in ["limit=0", "limit=101", "limit=x"] {
        let response = send(
            &app,
            &env,
            reqwest::Method::GET,
            &format!("/v1/oauth-providers?{query}"),
            None,
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}"
        );
    }
}

async fn a_provider_is_read_changed_and_deleted(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("crud").await;
    let created = create(&app, &env, &minimal()).await;
    let path = format!("/v1/oauth-providers/{}", created["id"].as_str().unwrap());

    let read: Value = send(&app, &env, reqwest::Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, created);

    let response = send(
        &app,
        &env,
        reqwest::Method::PATCH,
        &path,
        Some(&json!({
            "name": "Consumer app",
            "slug": "consumer",
            "scopes": ["user_birthday"],
            "allowed_redirect_urls": ["https://app.example.com/*"],
            "attribute_mapping": {"first_name": "short_name"},
            "graph_base_url": "http://127.0.0.1:9090",
        })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["name"], "Consumer app");
    assert_eq!(changed["slug"], "consumer");
    assert_eq!(
        changed["redirect_uri"],
        format!("{}/v1/oauth-callback/consumer", app.address)
    );
    assert_eq!(
        changed["scopes"],
        json!(["public_profile", "user_birthday"])
    );
    assert_eq!(changed["attribute_mapping"]["first_name"], "short_name");
    assert_eq!(changed["attribute_mapping"]["email_address"], "email");
    assert_eq!(changed["graph_base_url"], "http://127.0.0.1:9090/");
    // Untouched fields keep their values.
    assert_eq!(changed["client_id"], created["client_id"]);
    assert_eq!(changed["enabled_for"], created["enabled_for"]);
    assert_eq!(changed["created_at"], created["created_at"]);
    assert_eq!(changed["id"], created["id"]);

    // null clears a nullable field and resets the others to their defaults.
    let cleared: Value = send(
        &app,
        &env,
        reqwest::Method::PATCH,
        &path,
        Some(&json!({"graph_base_url": null, "scopes": null, "name": null})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(cleared["graph_base_url"], Value::Null);
    assert_eq!(cleared["scopes"], json!(["public_profile", "email"]));
    assert_eq!(cleared["name"], "Facebook");
    assert_eq!(cleared["slug"], "consumer");

    // The secret cannot be removed, only replaced; bad values are named as on creation.
    for (body, field) in [
        (json!({"client_secret": null}), "client_secret"),
        (json!({"client_secret": "has space"}), "client_secret"),
        (json!({"client_id": null}), "client_id"),
        (json!({"enabled_for": []}), "enabled_for"),
        (json!({"unknown": true}), "unknown"),
    ] {
        let response = send(&app, &env, reqwest::Method::PATCH, &path, Some(&body)).await;
        assert_eq!(refused_field(response).await, field, "{body}");
    }

    let response = send(&app, &env, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let deleted: Value = response.json().await.unwrap();
    assert_eq!(deleted["id"], created["id"]);
    assert_eq!(deleted["slug"], "consumer");

    for method in [
        reqwest::Method::GET,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let body = (method == reqwest::Method::PATCH).then(|| json!({"name": "x"}));
        let response = send(&app, &env, method.clone(), &path, body.as_ref()).await;
        assert_eq!(
            error_code(response, StatusCode::NOT_FOUND).await,
            "provider_not_found",
            "{method}"
        );
    }
    // The slug is free again.
    create(&app, &env, &body_with(json!({"slug": "consumer"}))).await;
}

async fn a_key_of_one_environment_never_reaches_another_environments_provider(engine: Engine) {
    let app = spawn_app(engine).await;
    let a = app.create_environment("env-a").await;
    let b = app.create_environment("env-b").await;
    let provider_of_b = create(&app, &b, &minimal()).await;
    let path = format!(
        "/v1/oauth-providers/{}",
        provider_of_b["id"].as_str().unwrap()
    );

    for method in [
        reqwest::Method::GET,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let body = (method == reqwest::Method::PATCH).then(|| json!({"name": "Hijacked"}));
        let response = send(&app, &a, method.clone(), &path, body.as_ref()).await;
        assert_eq!(
            error_code(response, StatusCode::NOT_FOUND).await,
            "provider_not_found",
            "{method}"
        );
    }
    let list_of_a: Value = send(&app, &a, reqwest::Method::GET, "/v1/oauth-providers", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list_of_a["data"], json!([]));

    // B's provider is untouched, and a publishable key cannot manage providers at all.
    let still: Value = send(&app, &b, reqwest::Method::GET, &path, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still, provider_of_b);
    let response = app
        .client
        .get(app.url("/v1/oauth-providers"))
        .bearer_auth(&b.publishable_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response, StatusCode::FORBIDDEN).await,
        "secret_key_required"
    );
}

#[tokio::test]
async fn the_api_description_documents_the_provider_endpoints() {
    let app = spawn_app(Engine::Sqlite).await;
    let spec: Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let collection = &spec["paths"]["/v1/oauth-providers"];
    let item = &spec["paths"]["/v1/oauth-providers/{id}"];
    for operation in [
        &collection["post"],
        &collection["get"],
        &item["get"],
        &item["patch"],
        &item["delete"],
    ] {
        assert_eq!(operation["tags"], json!(["oauth providers"]), "{operation}");
        assert!(
            operation["responses"].get("200").is_some()
                || operation["responses"].get("201").is_some()
        );
    }
    assert!(collection["post"]["responses"].get("409").is_some());
    assert!(item["patch"]["responses"].get("422").is_some());
    let schemas = &spec["components"]["schemas"];
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&schemas["ProviderInput"]).unwrap()
    );
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&schemas["OAuthProvider"]).unwrap()
    );
    let answer = &schemas["OAuthProvider"]["properties"];
    assert!(answer.get("client_secret_set").is_some());
    assert!(answer.get("client_secret").is_none());
    assert!(
        schemas["ProviderInput"]["properties"]
            .get("client_secret")
            .is_some()
    );
}
