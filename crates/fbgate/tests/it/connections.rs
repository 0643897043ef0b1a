//! Connections for the app's own tenants and users: connect sessions, tenant credentials,
//! reconnects, page tokens, isolation between tenants and environments, deletion and shredding.

use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

use crate::callbacks::scene;
use crate::facebook::{FacebookUser, RETURN_URL, TestProvider};
use crate::helpers::{Engine, TestApp, TestEnvironment, error_code, on_both_engines, spawn_app};
use crate::webhooks::Receiver;

on_both_engines!(
    a_connected_tenant_user_gets_a_credential_sealed_under_the_tenant_key,
    a_reconnect_keeps_the_ids_replaces_the_token_and_announces_credential_refreshed,
    pages_of_a_connected_user_get_their_own_page_credentials,
    other_tenants_and_other_environments_cannot_read_a_credential,
    a_connect_session_is_single_use_and_expires,
    connect_sessions_check_their_input,
    deleting_a_connection_destroys_its_tokens_and_a_tenant_can_be_shredded,
    connections_are_listed_by_tenant_and_page_through,
    removing_the_app_at_facebook_revokes_every_tenant_credential_of_that_person,
    a_data_deletion_request_deletes_the_persons_connections,
);

const TENANT: &str = "org_acme";

async fn connect_session(
    app: &TestApp,
    env: &TestEnvironment,
    tenant: &str,
    user: &str,
    extra: Value,
) -> reqwest::Response {
    let mut body = json!({
        "provider": "facebook",
        "tenant_id": tenant,
        "user_id": user,
        "redirect_to": format!("{RETURN_URL}?step=connected"),
    });
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    app.client
        .post(app.url("/v1/connect-sessions"))
        .bearer_auth(&env.secret_key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Runs a whole connect flow for (tenant, user) as `person`; returns where the browser lands.
pub(crate) async fn connect(
    app: &TestApp,
    env: &TestEnvironment,
    provider: &TestProvider,
    person: &FacebookUser,
    tenant: &str,
    user: &str,
    extra: Value,
) -> Url {
    app.consent_as(provider, person, &[]).await;
    let response = connect_session(app, env, tenant, user, extra).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let session: Value = response.json().await.unwrap();
    assert!(session["token"].as_str().unwrap().starts_with("cst_"));
    assert!(session["expires_at"].is_string());
    app.browse(session["authorization_url"].as_str().unwrap())
        .await
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn get_credential(app: &TestApp, env: &TestEnvironment, body: Value) -> reqwest::Response {
    let mut request = json!({ "provider": "facebook", "credential_for": "user" });
    for (key, value) in body.as_object().unwrap() {
        request[key] = value.clone();
    }
    app.client
        .post(app.url("/v1/credentials/get"))
        .bearer_auth(&env.secret_key)
        .json(&request)
        .send()
        .await
        .unwrap()
}

async fn credential(app: &TestApp, env: &TestEnvironment, body: Value) -> Value {
    let response = get_credential(app, env, body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    answer["credential"].clone()
}

async fn get_json(app: &TestApp, env: &TestEnvironment, path: &str) -> Value {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

async fn setup(app: &TestApp, slug: &str) -> (TestEnvironment, TestProvider) {
    let env = app.create_environment(slug).await;
    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    (env, provider)
}

async fn a_connected_tenant_user_gets_a_credential_sealed_under_the_tenant_key(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider) = setup(&app, "prod").await;
    let ada = app.facebook_user("Ada", Some("ada@example.com")).await;

    let landed = connect(&app, &env, &provider, &ada, TENANT, "user_123", json!({})).await;
    assert!(landed.as_str().starts_with(RETURN_URL), "{landed}");
    assert_eq!(query(&landed, "step").as_deref(), Some("connected"));
    assert_eq!(query(&landed, "tenant_id").as_deref(), Some(TENANT));
    assert_eq!(query(&landed, "user_id").as_deref(), Some("user_123"));
    assert!(query(&landed, "error").is_none(), "{landed}");
    let connection_id = query(&landed, "connection_id").expect("connection id");
    assert!(connection_id.starts_with("con_"));

    let credential = credential(
        &app,
        &env,
        json!({ "tenant_id": TENANT, "user_id": "user_123" }),
    )
    .await;
    assert_eq!(credential["token_type"], "user");
    assert_eq!(credential["status"], "active");
    assert!(credential["expires_at"].is_string(), "long-lived token");
    let token = credential["access_token"].as_str().unwrap();
    let debug = app.debug_token(&provider, token).await;
    assert_eq!(debug["is_valid"], true);
    assert_eq!(debug["user_id"], ada.id.as_str());

    // The tenant's own data key sealed it.
    let store = app.store().await;
    let row = store
        .credential_at(
            &env.id,
            &provider.id,
            &format!("t\u{1f}{TENANT}\u{1f}u\u{1f}user_123"),
        )
        .await
        .unwrap()
        .expect("row");
    assert_eq!(row.key_scope, format!("tenant:{TENANT}"));
    assert_eq!(row.connection_id.as_deref(), Some(connection_id.as_str()));

    // Not an fbgate user: no user was created, and the fbgate-user address finds nothing.
    let users = get_json(&app, &env, "/v1/users").await;
    assert_eq!(users["data"].as_array().unwrap().len(), 0);
    let response = get_credential(&app, &env, json!({ "user_id": "user_123" })).await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "credential_not_found"
    );
}

async fn a_reconnect_keeps_the_ids_replaces_the_token_and_announces_credential_refreshed(
    engine: Engine,
) {
    let app = spawn_app(engine).await;
    let (env, provider) = setup(&app, "prod").await;
    let receiver = Receiver::start(0).await;
    let response = app
        .client
        .post(app.url("/v1/webhook-endpoints"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "url": receiver.url, "events": ["credential.refreshed"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let ada = app.facebook_user("Ada", Some("ada@example.com")).await;
    let address = json!({ "tenant_id": TENANT, "user_id": "user_123" });

    let first = connect(&app, &env, &provider, &ada, TENANT, "user_123", json!({})).await;
    let before = credential(&app, &env, address.clone()).await;
    let second = connect(&app, &env, &provider, &ada, TENANT, "user_123", json!({})).await;
    let after = credential(&app, &env, address.clone()).await;

    assert_eq!(
        query(&first, "connection_id"),
        query(&second, "connection_id")
    );
    assert_eq!(before["id"], after["id"], "the credential keeps its id");
    assert_ne!(before["access_token"], after["access_token"]);
    let old = app
        .debug_token(&provider, before["access_token"].as_str().unwrap())
        .await;
    let new = app
        .debug_token(&provider, after["access_token"].as_str().unwrap())
        .await;
    assert_eq!(new["is_valid"], true);
    assert!(old["user_id"] == ada.id.as_str());

    let received = receiver.wait_for(1).await;
    assert_eq!(received.len(), 1, "one refresh, one event");
    let event: Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(event["type"], "credential.refreshed");
    assert_eq!(event["environment"], "prod");
    let data = &event["data"]["credential"];
    assert_eq!(data["id"], after["id"]);
    assert_eq!(data["tenant_id"], TENANT);
    assert_eq!(data["user_id"], "user_123");
    assert_eq!(data["status"], "active");
    assert!(
        !received[0]
            .body
            .contains(after["access_token"].as_str().unwrap()),
        "an event never carries a token"
    );
    let connections = get_json(&app, &env, "/v1/connections").await;
    assert_eq!(connections["data"].as_array().unwrap().len(), 1);
}

async fn pages_of_a_connected_user_get_their_own_page_credentials(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider) = setup(&app, "prod").await;
    let created: Value = app
        .client
        .post(app.sim_url("/_sim/users"))
        .json(&json!({
            "name": "Page Owner",
            "pages": [{ "name": "Bakery" }, { "name": "Cafe" }],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let owner = FacebookUser {
        id: created["id"].as_str().unwrap().to_owned(),
        email: None,
    };
    let page_ids: Vec<String> = created["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page_ids.len(), 2);

    let landed = connect(
        &app,
        &env,
        &provider,
        &owner,
        TENANT,
        "user_9",
        json!({ "scopes": ["pages_show_list", "pages_read_engagement"] }),
    )
    .await;
    assert!(query(&landed, "error").is_none(), "{landed}");
    let user_credential = credential(
        &app,
        &env,
        json!({ "tenant_id": TENANT, "user_id": "user_9" }),
    )
    .await;
    assert!(
        user_credential["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("pages_show_list"))
    );

    for page_id in &page_ids {
        let page = credential(
            &app,
            &env,
            json!({ "tenant_id": TENANT, "user_id": "user_9", "credential_for": "page", "page_id": page_id }),
        )
        .await;
        assert_eq!(page["token_type"], "page");
        assert_eq!(page["expires_at"], Value::Null, "page tokens do not expire");
        let debug = app
            .debug_token(&provider, page["access_token"].as_str().unwrap())
            .await;
        assert_eq!(debug["is_valid"], true, "{debug}");
        assert_eq!(debug["type"], "PAGE", "{debug}");
    }
    // A page the user does not manage, and a page under another user's address: not found.
    for body in [
        json!({ "tenant_id": TENANT, "user_id": "user_9", "credential_for": "page", "page_id": "999" }),
        json!({ "tenant_id": TENANT, "user_id": "user_8", "credential_for": "page", "page_id": page_ids[0] }),
    ] {
        let response = get_credential(&app, &env, body).await;
        assert_eq!(
            error_code(response, StatusCode::NOT_FOUND).await,
            "credential_not_found"
        );
    }
    let connection = get_json(
        &app,
        &env,
        &format!(
            "/v1/connections/{}",
            query(&landed, "connection_id").unwrap()
        ),
    )
    .await;
    let kinds: Vec<&str> = connection["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credential_for"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["user", "page", "page"]);
    assert!(
        !connection.to_string().contains("access_token"),
        "the connection view never shows tokens"
    );
}

async fn other_tenants_and_other_environments_cannot_read_a_credential(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider) = setup(&app, "prod").await;
    let ada = app.facebook_user("Ada", Some("ada@example.com")).await;
    connect(&app, &env, &provider, &ada, TENANT, "user_123", json!({})).await;

    let response = get_credential(
        &app,
        &env,
        json!({ "tenant_id": "org_other", "user_id": "user_123" }),
    )
    .await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "credential_not_found"
    );

    // Another environment with a provider of the same slug sees nothing.
    let (other, _) = setup(&app, "staging").await;
    let response = get_credential(
        &app,
        &other,
        json!({ "tenant_id": TENANT, "user_id": "user_123" }),
    )
    .await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "credential_not_found"
    );
    let listed = get_json(&app, &other, "/v1/connections").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 0);
    let connection_id = get_json(&app, &env, "/v1/connections").await["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let response = app
            .client
            .request(method, app.url(&format!("/v1/connections/{connection_id}")))
            .bearer_auth(&other.secret_key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response, StatusCode::NOT_FOUND).await,
            "connection_not_found"
        );
    }
    // Still there for its own environment.
    credential(
        &app,
        &env,
        json!({ "tenant_id": TENANT, "user_id": "user_123" }),
    )
    .await;
}

async fn a_connect_session_is_single_use_and_expires(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider) = setup(&app, "prod").await;
    let ada = app.facebook_user("Ada", Some("ada@example.com")).await;
    app.consent_as(&provider, &ada, &[]).await;

    let session: Value = connect_session(&app, &env, TENANT, "user_1", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let url = session["authorization_url"].as_str().unwrap();
    let landed = app.browse(url).await;
    assert!(query(&landed, "connection_id").is_some());
    let again = app.client.get(url).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("invalid_connect_token")
    );

    let session: Value = connect_session(&app, &env, TENANT, "user_2", json!({}))
        .await
        .json()
        .await
        .unwrap();
    app.clock.advance(std::time::Duration::from_secs(16 * 60));
    let late = app
        .client
        .get(session["authorization_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(late.text().await.unwrap().contains("invalid_connect_token"));
    let response = get_credential(
        &app,
        &env,
        json!({ "tenant_id": TENANT, "user_id": "user_2" }),
    )
    .await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "credential_not_found"
    );
}

async fn connect_sessions_check_their_input(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, _provider) = setup(&app, "prod").await;
    let cases = [
        (
            json!({ "redirect_to": "https://evil.test/" }),
            "redirect_to",
        ),
        (json!({ "tenant_id": "" }), "tenant_id"),
        (json!({ "user_id": "a\u{1f}b" }), "user_id"),
        (json!({ "flow": "robot" }), "flow"),
        (json!({ "flow": "installation" }), "flow"),
        (json!({ "scopes": ["not a scope!"] }), "scopes[0]"),
    ];
    for (extra, field) in cases {
        let response = connect_session(&app, &env, TENANT, "user_1", extra.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{extra}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["field"], field, "{extra}: {body}");
    }
    let response =
        connect_session(&app, &env, TENANT, "user_1", json!({ "provider": "nope" })).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = app
        .client
        .post(app.url("/v1/connect-sessions"))
        .bearer_auth(&env.publishable_key)
        .json(&json!({ "provider": "facebook", "tenant_id": "t", "user_id": "u", "redirect_to": RETURN_URL }))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(
            response.status(),
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED
        ),
        "a publishable key cannot make connect sessions"
    );
    // A request with a bad credential address names the field.
    let response = get_credential(
        &app,
        &env,
        json!({ "tenant_id": TENANT, "credential_for": "installation", "user_id": "u" }),
    )
    .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["field"], "user_id");
}

async fn deleting_a_connection_destroys_its_tokens_and_a_tenant_can_be_shredded(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider) = setup(&app, "prod").await;
    let ada = app.facebook_user("Ada", Some("ada@example.com")).await;
    let landed = connect(&app, &env, &provider, &ada, TENANT, "user_1", json!({})).await;
    connect(&app, &env, &provider, &ada, TENANT, "user_2", json!({})).await;
    connect(
        &app,
        &env,
        &provider,
        &ada,
        "org_other",
        "user_1",
        json!({}),
    )
    .await;

    let id = query(&landed, "connection_id").unwrap();
    let response = app
        .client
        .delete(app.url(&format!("/v1/connections/{id}")))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = get_credential(
        &app,
        &env,
        json!({ "tenant_id": TENANT, "user_id": "user_1" }),
    )
    .await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "credential_not_found"
    );
    credential(
        &app,
        &env,
        json!({ "tenant_id": TENANT, "user_id": "user_2" }),
    )
    .await;

    let store = app.store().await;
    let sealed = store
        .credential_at(
            &env.id,
            &provider.id,
            &format!("t\u{1f}{TENANT}\u{1f}u\u{1f}user_2"),
        )
        .await
        .unwrap()
        .unwrap();
    let response = app
        .client
        .delete(app.url(&format!("/v1/connections?tenant_id={TENANT}&shred=true")))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "deleted": 1, "shredded": true }));
    let listed = get_json(&app, &env, &format!("/v1/connections?tenant_id={TENANT}")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 0);

    // The tenant's key is gone: even a copy of the ciphertext cannot be opened any more.
    let key_id_of = |envelope: &[u8]| {
        fbgate::vault::Envelope::parse(envelope)
            .unwrap()
            .key_id
            .to_owned()
    };
    let shredded_key = key_id_of(&sealed.token_ciphertext);
    assert!(
        store
            .get_data_key(&env.id, &shredded_key)
            .await
            .unwrap()
            .is_none()
    );
    // Other tenants are untouched.
    credential(
        &app,
        &env,
        json!({ "tenant_id": "org_other", "user_id": "user_1" }),
    )
    .await;
}

async fn connections_are_listed_by_tenant_and_page_through(engine: Engine) {
    let app = spawn_app(engine).await;
    let (env, provider) = setup(&app, "prod").await;
    let ada = app.facebook_user("Ada", Some("ada@example.com")).await;
    for user in ["u1", "u2", "u3"] {
        connect(&app, &env, &provider, &ada, TENANT, user, json!({})).await;
    }
    connect(&app, &env, &provider, &ada, "org_other", "u1", json!({})).await;

    let first = get_json(
        &app,
        &env,
        &format!("/v1/connections?tenant_id={TENANT}&limit=2"),
    )
    .await;
    let users: Vec<&str> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["u1", "u2"]);
    assert_eq!(first["data"][0]["tenant_id"], TENANT);
    assert_eq!(first["data"][0]["provider"], "facebook");
    assert_eq!(first["data"][0]["facebook_user_id"], ada.id.as_str());
    assert_eq!(first["data"][0]["credentials"][0]["status"], "active");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = get_json(
        &app,
        &env,
        &format!("/v1/connections?tenant_id={TENANT}&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    let all = get_json(&app, &env, "/v1/connections").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 4);
    let response = app
        .client
        .get(app.url("/v1/connections?limit=0"))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// An emulator person who manages one page.
pub(crate) async fn page_owner(app: &TestApp) -> (FacebookUser, String) {
    let created: Value = app
        .client
        .post(app.sim_url("/_sim/users"))
        .json(&json!({ "name": "Page Owner", "pages": [{ "name": "Bakery" }] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let person = FacebookUser {
        id: created["id"].as_str().unwrap().to_owned(),
        email: None,
    };
    (
        person,
        created["pages"][0]["id"].as_str().unwrap().to_owned(),
    )
}

async fn removing_the_app_at_facebook_revokes_every_tenant_credential_of_that_person(
    engine: Engine,
) {
    let s = scene(spawn_app(engine).await).await;
    let (app, env, provider) = (&s.app, &s.env, &s.provider);
    let receiver = Receiver::start(0).await;
    let response = app
        .client
        .post(app.url("/v1/webhook-endpoints"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "url": receiver.url, "events": ["credential.revoked"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (person, page_id) = page_owner(app).await;
    let pages = json!({ "scopes": ["pages_show_list"] });
    connect(app, env, provider, &person, TENANT, "user_1", pages.clone()).await;
    connect(app, env, provider, &person, "org_other", "u9", pages).await;
    let bystander = app.facebook_user("Bystander", None).await;
    connect(app, env, provider, &bystander, TENANT, "user_2", json!({})).await;

    let (status, _) = s.at_facebook(&person, "remove").await;
    assert_eq!(status, 200);
    for (tenant, user) in [(TENANT, "user_1"), ("org_other", "u9")] {
        for body in [
            json!({ "tenant_id": tenant, "user_id": user }),
            json!({ "tenant_id": tenant, "user_id": user, "credential_for": "page", "page_id": page_id }),
        ] {
            let response = get_credential(app, env, body).await;
            assert_eq!(response.status(), StatusCode::CONFLICT);
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"]["code"], "credential_revoked");
            assert_eq!(error["error"]["reason"], "user_removed_app");
            assert_eq!(error["error"]["reconnect"], true);
        }
    }
    credential(
        app,
        env,
        json!({ "tenant_id": TENANT, "user_id": "user_2" }),
    )
    .await;

    // One event per credential, and a repeat of the callback announces nothing more.
    let received = receiver.wait_for(4).await;
    assert_eq!(received.len(), 4);
    let (status, _) = s.at_facebook(&person, "remove").await;
    assert_eq!(status, 200);
    assert_eq!(receiver.wait_for(5).await.len(), 4);
    let mut revoked: Vec<(String, String)> = received
        .iter()
        .map(|r| {
            let event: Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(event["type"], "credential.revoked");
            assert_eq!(event["data"]["credential"]["reason"], "user_removed_app");
            (
                event["data"]["credential"]["tenant_id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                event["data"]["credential"]["credential_for"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    revoked.sort();
    assert_eq!(
        revoked,
        [
            ("org_acme".to_owned(), "page".to_owned()),
            ("org_acme".to_owned(), "user".to_owned()),
            ("org_other".to_owned(), "page".to_owned()),
            ("org_other".to_owned(), "user".to_owned()),
        ]
    );
    // The tokens are destroyed, not just marked.
    let store = app.store().await;
    let row = store
        .credential_at(
            &env.id,
            &provider.id,
            &format!("t\u{1f}{TENANT}\u{1f}u\u{1f}user_1"),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(row.token_ciphertext.is_empty());

    // Connecting again brings the credential back.
    connect(app, env, provider, &person, TENANT, "user_1", json!({})).await;
    let again = credential(
        app,
        env,
        json!({ "tenant_id": TENANT, "user_id": "user_1" }),
    )
    .await;
    assert_eq!(again["status"], "active");
}

async fn a_data_deletion_request_deletes_the_persons_connections(engine: Engine) {
    let s = scene(spawn_app(engine).await).await;
    let (app, env, provider) = (&s.app, &s.env, &s.provider);
    let (person, _) = page_owner(app).await;
    let pages = json!({ "scopes": ["pages_show_list"] });
    connect(app, env, provider, &person, TENANT, "user_1", pages).await;
    let bystander = app.facebook_user("Bystander", None).await;
    connect(app, env, provider, &bystander, TENANT, "user_2", json!({})).await;

    let (status, body) = s.at_facebook(&person, "data-deletion").await;
    assert_eq!(status, 200);
    let code = body["confirmation_code"].as_str().unwrap();
    let mut state = Value::Null;
    for _ in 0..100 {
        state = s.deletion_status(code).await;
        if state["status"] == "completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state["status"], "completed");
    let listed = get_json(app, env, "/v1/connections").await;
    let users: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["user_2"]);
    let response = get_credential(
        app,
        env,
        json!({ "tenant_id": TENANT, "user_id": "user_1" }),
    )
    .await;
    assert_eq!(
        error_code(response, StatusCode::NOT_FOUND).await,
        "credential_not_found"
    );
    let rows = crate::callbacks::all_rows(app).await;
    assert!(
        !rows.contains(&person.id),
        "no row names the person any more"
    );
}
