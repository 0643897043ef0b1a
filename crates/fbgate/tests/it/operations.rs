//! Health, readiness, metrics and the API description.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Engine, on_both_engines, spawn_app};

on_both_engines!(
    health_and_readiness_answer_ok,
    metrics_count_requests_by_route_template
);

async fn health_and_readiness_answer_ok(engine: Engine) {
    let app = spawn_app(engine).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}

async fn metrics_count_requests_by_route_template(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("metrics").await;
    // A request whose path holds an id must be counted under the route template, not the id.
    let _ = app
        .client
        .get(app.url(&format!("/v1/environments/{}", env.id)))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/v1/environments/{id}\""), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(!text.contains(&env.id));
}

#[tokio::test]
async fn a_client_request_id_is_echoed_back() {
    let app = spawn_app(Engine::Sqlite).await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "req_from_client")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req_from_client");
}

#[tokio::test]
async fn openapi_document_and_rendered_docs_are_served() {
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
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/v1/environments",
        "/v1/environments/{id}",
        "/v1/api-keys",
        "/healthz",
        "/readyz",
    ] {
        assert!(spec["paths"].get(path).is_some(), "missing {path}");
    }
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    let html = docs.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    let asset = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), StatusCode::OK, "assets are served locally");
}

#[test]
fn migration_sets_have_identical_versions_on_both_engines() {
    let versions = |engine: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(engine);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let sqlite = versions("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, versions("postgres"));
}
