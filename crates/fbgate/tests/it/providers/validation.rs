//! Every bad field of a provider is refused with a 422 that names it, on creation and on change.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{body_with, create, minimal, post, refused_field, send};
use crate::helpers::{Engine, on_both_engines, spawn_app};

on_both_engines!(
    every_invalid_field_is_named,
    a_change_is_checked_together_with_what_it_keeps,
);

async fn every_invalid_field_is_named(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("strict").await;
    let cases = [
        (json!({"provider_kind": "<remove>"}), "provider_kind"),
        (json!({"provider_kind": "custom"}), "provider_kind"),
        (json!({"provider_key": "google"}), "provider_key"),
        (json!({"provider_key": "<remove>"}), "provider_key"),
        (json!({"name": "  "}), "name"),
        (json!({"slug": "Face Book"}), "slug"),
        (json!({"client_id": "<remove>"}), "client_id"),
        (json!({"client_id": "12ab34"}), "client_id"),
        (json!({"client_id": "1234"}), "client_id"),
        (json!({"client_secret": "<remove>"}), "client_secret"),
        (json!({"client_secret": ""}), "client_secret"),
        (json!({"client_secret": "with space"}), "client_secret"),
        (json!({"client_secret": "s".repeat(257)}), "client_secret"),
        (json!({"scopes": ["email", "Pages"]}), "scopes[1]"),
        (json!({"scopes": "email"}), "scopes"),
        (
            json!({"login_product": "facebook_login_plus"}),
            "login_product",
        ),
        (json!({"config_id": "123"}), "config_id"),
        (
            json!({"login_product": "facebook_login_for_business"}),
            "config_id",
        ),
        (
            json!({"login_product": "facebook_login_for_business", "config_id": "12a"}),
            "config_id",
        ),
        (json!({"token_type": "page"}), "token_type"),
        (json!({"token_type": "system_user"}), "token_type"),
        (
            json!({"attribute_mapping": {"email_address": "emails"}}),
            "attribute_mapping.email_address",
        ),
        (
            json!({"attribute_mapping": {"profile_image_url": "picture.data.uri"}}),
            "attribute_mapping.profile_image_url",
        ),
        (
            json!({"attribute_mapping": {"nickname": "name"}}),
            "attribute_mapping.nickname",
        ),
        (
            json!({"attribute_mapping": {"provider_user_id": null}}),
            "attribute_mapping.provider_user_id",
        ),
        (json!({"allow_sign_up": "yes"}), "allow_sign_up"),
        (json!({"sync_profile": "never"}), "sync_profile"),
        (json!({"email_required": 1}), "email_required"),
        (json!({"enabled_for": []}), "enabled_for"),
        (
            json!({"enabled_for": ["sign_in", "admin"]}),
            "enabled_for[1]",
        ),
        (
            json!({"allowed_redirect_urls": ["https://ok.example.com/", "https://*.example.com/*"]}),
            "allowed_redirect_urls[1]",
        ),
        (
            json!({"allowed_redirect_urls": ["https://app.example.com*"]}),
            "allowed_redirect_urls[0]",
        ),
        (
            json!({"allowed_redirect_urls": ["/relative/*"]}),
            "allowed_redirect_urls[0]",
        ),
        (json!({"graph_api_version": "25.0"}), "graph_api_version"),
        (
            json!({"graph_api_version": "v25.0/../me"}),
            "graph_api_version",
        ),
        (
            json!({"facebook_base_url": "https://fb.example/?a=b"}),
            "facebook_base_url",
        ),
        (
            json!({"graph_base_url": "ftp://fb.example/"}),
            "graph_base_url",
        ),
        (json!({"colour": "blue"}), "colour"),
    ];
    for (extra, field) in cases {
        let response = post(&app, &env, &body_with(extra.clone())).await;
        assert_eq!(refused_field(response).await, field, "{extra}");
    }
    // Nothing was created along the way.
    let list: Value = send(
        &app,
        &env,
        reqwest::Method::GET,
        "/v1/oauth-providers",
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(list["data"], json!([]));
}

async fn a_change_is_checked_together_with_what_it_keeps(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("combined").await;
    let created = create(&app, &env, &minimal()).await;
    let path = format!("/v1/oauth-providers/{}", created["id"].as_str().unwrap());
    let patch = |body: Value| {
        let (app, env, path) = (&app, &env, &path);
        async move { send(app, env, reqwest::Method::PATCH, path, Some(&body)).await }
    };

    // Switching to Login for Business without a config_id would leave it unusable.
    let response = patch(json!({"login_product": "facebook_login_for_business"})).await;
    assert_eq!(refused_field(response).await, "config_id");
    let response = patch(json!({"config_id": "123456"})).await;
    assert_eq!(refused_field(response).await, "config_id");
    let response = patch(json!({"token_type": "system_user"})).await;
    assert_eq!(refused_field(response).await, "token_type");

    let response = patch(json!({
        "login_product": "facebook_login_for_business",
        "config_id": "123456",
        "token_type": "system_user",
    }))
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    // Back to classic login: the config_id and the system-user token must go in the same change.
    let response = patch(json!({"login_product": "facebook_login"})).await;
    assert_eq!(refused_field(response).await, "config_id");
    let response = patch(json!({"login_product": "facebook_login", "config_id": null})).await;
    assert_eq!(refused_field(response).await, "token_type");
    let response = patch(json!({
        "login_product": "facebook_login",
        "config_id": null,
        "token_type": "user",
    }))
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let back: Value = response.json().await.unwrap();
    assert_eq!(back["config_id"], Value::Null);
    assert_eq!(back["login_product"], "facebook_login");
}
