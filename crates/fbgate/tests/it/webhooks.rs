//! Webhooks: endpoints, signed deliveries of `user.created`, retries, and the delivery log.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::hmac;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::facebook::returned_error;
use crate::helpers::{
    Engine, TestApp, TestEnvironment, database_contents, error_code, on_both_engines, spawn_app,
};

on_both_engines!(
    a_receiver_gets_user_created_once_per_sign_up_with_a_valid_signature,
    a_failing_receiver_is_retried_and_the_later_success_is_recorded,
    endpoint_urls_and_events_are_checked,
    endpoints_of_another_environment_are_invisible,
    the_signing_secret_is_shown_once_and_never_stored_in_plaintext,
);

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub signature: String,
    pub event_id: String,
    user_agent: String,
    content_type: String,
    pub body: String,
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    failures_left: usize,
}

/// An HTTP receiver on 127.0.0.1:0 that records every POST and answers 500 to the first
/// `failures` of them.
pub struct Receiver {
    pub url: String,
    state: Arc<Mutex<ReceiverState>>,
}

impl Receiver {
    pub async fn start(failures: usize) -> Self {
        let state = Arc::new(Mutex::new(ReceiverState {
            received: Vec::new(),
            failures_left: failures,
        }));
        let router = Router::new()
            .route("/hook", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, state }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits until `count` requests arrived (at most 10 s), then a little longer to catch extras.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            if self.received().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        self.received()
    }
}

async fn receive(
    State(state): State<Arc<Mutex<ReceiverState>>>,
    headers: HeaderMap,
    body: String,
) -> AxumStatus {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut state = state.lock().unwrap();
    state.received.push(Received {
        signature: header("fbgate-signature"),
        event_id: header("fbgate-event-id"),
        user_agent: header("user-agent"),
        content_type: header("content-type"),
        body,
    });
    if state.failures_left > 0 {
        state.failures_left -= 1;
        AxumStatus::INTERNAL_SERVER_ERROR
    } else {
        AxumStatus::NO_CONTENT
    }
}

/// Whether `Fbgate-Signature` verifies with `secret`, the way docs/webhooks.md tells receivers
/// to check it (HMAC-SHA256 over "<t>.<body>", and `t` within five minutes).
pub fn signature_verifies(received: &Received, secret: &str) -> bool {
    let Some((t, v1)) = received
        .signature
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
    else {
        return false;
    };
    let (Ok(t_seconds), Ok(mac)) = (t.parse::<i64>(), hex::decode(v1)) else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let fresh = (time::OffsetDateTime::now_utc().unix_timestamp() - t_seconds).abs() < 300;
    fresh && hmac::verify(&key, format!("{t}.{}", received.body).as_bytes(), &mac).is_ok()
}

async fn create_endpoint(app: &TestApp, env: &TestEnvironment, body: Value) -> Value {
    let response = app
        .client
        .post(app.url("/v1/webhook-endpoints"))
        .bearer_auth(&env.secret_key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
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

async fn a_receiver_gets_user_created_once_per_sign_up_with_a_valid_signature(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("hooks").await;
    let receiver = Receiver::start(0).await;
    let endpoint = create_endpoint(
        &app,
        &env,
        json!({ "url": receiver.url, "events": ["user.created"] }),
    )
    .await;
    let secret = endpoint["signing_secret"].as_str().unwrap();
    // An endpoint that subscribes to another type gets none of these.
    let other = Receiver::start(0).await;
    create_endpoint(
        &app,
        &env,
        json!({ "url": other.url, "events": ["credential.revoked"] }),
    )
    .await;

    let provider = app.facebook_provider(&env, "facebook", json!({})).await;
    let person = app
        .facebook_user("Ada Lovelace", Some("ada@example.com"))
        .await;
    app.consent_as(&provider, &person, &[]).await;
    let returned = app.sign_in(&env, &provider, "").await;
    assert_eq!(returned_error(&returned), None);
    let signed_in = app.exchange(&env, &returned).await;
    assert_eq!(signed_in["is_new_user"], true);
    // Signing in again creates no user, so announces nothing.
    let again = app.sign_in(&env, &provider, "").await;
    assert_eq!(app.exchange(&env, &again).await["is_new_user"], false);
    // A user made by the backend is announced too.
    let made: Value = app
        .client
        .post(app.url("/v1/users"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "email": "grace@example.com" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let received = receiver.wait_for(2).await;
    assert_eq!(received.len(), 2, "one delivery per new user: {received:?}");
    let mut announced = Vec::new();
    for request in &received {
        assert!(signature_verifies(request, secret), "{request:?}");
        assert_eq!(request.content_type, "application/json");
        assert!(request.user_agent.starts_with("fbgate-webhooks/"));
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(body["type"], "user.created");
        assert_eq!(body["environment"], "hooks");
        assert_eq!(body["id"], request.event_id.as_str());
        assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
        announced.push(body["data"]["user"].clone());
    }
    let facebook_user = announced
        .iter()
        .find(|u| u["id"] == signed_in["user"]["id"])
        .expect("the Facebook sign-up is announced");
    assert_eq!(facebook_user["email"], "ada@example.com");
    assert_eq!(facebook_user["created_via"], "facebook");
    assert!(announced.iter().any(|u| u["id"] == made["id"]));
    assert!(
        other.received().is_empty(),
        "not subscribed to user.created"
    );
    // The check is not vacuous: another secret, or another body, does not verify.
    assert!(!signature_verifies(&received[0], "whsec_wrong"));
    let mut altered = received[0].clone();
    altered.body.push(' ');
    assert!(!signature_verifies(&altered, secret));

    let id = endpoint["id"].as_str().unwrap();
    let deliveries = get_json(
        &app,
        &env,
        &format!("/v1/webhook-endpoints/{id}/deliveries"),
    )
    .await;
    let data = deliveries["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    for delivery in data {
        assert_eq!(delivery["status"], "succeeded");
        assert_eq!(delivery["event_type"], "user.created");
        assert_eq!(delivery["attempts"].as_array().unwrap().len(), 1);
        assert_eq!(delivery["attempts"][0]["status_code"], 204);
    }
    // Newest first: the backend's user was created last.
    let newest: Value = serde_json::from_str(
        &received
            .iter()
            .find(|r| r.event_id == data[0]["event_id"].as_str().unwrap())
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(newest["data"]["user"]["id"], made["id"]);
}

async fn a_failing_receiver_is_retried_and_the_later_success_is_recorded(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("retries").await;
    let receiver = Receiver::start(2).await;
    let endpoint =
        create_endpoint(&app, &env, json!({ "url": receiver.url, "events": ["*"] })).await;
    assert_eq!(endpoint["events"], json!(["*"]));
    let secret = endpoint["signing_secret"].as_str().unwrap();
    let user: Value = app
        .client
        .post(app.url("/v1/users"))
        .bearer_auth(&env.secret_key)
        .json(&json!({ "first_name": "Retry" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let received = receiver.wait_for(3).await;
    assert_eq!(
        received.len(),
        3,
        "two failures, then the success: {received:?}"
    );
    for request in &received {
        // Every attempt carries the same event and body, freshly signed.
        assert_eq!(request.event_id, received[0].event_id);
        assert_eq!(request.body, received[0].body);
        assert!(signature_verifies(request, secret), "{request:?}");
    }
    let body: Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(body["data"]["user"]["id"], user["id"]);

    let id = endpoint["id"].as_str().unwrap();
    let deliveries = get_json(
        &app,
        &env,
        &format!("/v1/webhook-endpoints/{id}/deliveries"),
    )
    .await;
    assert_eq!(deliveries["data"].as_array().unwrap().len(), 1);
    let delivery = &deliveries["data"][0];
    assert_eq!(delivery["status"], "succeeded");
    assert_eq!(delivery["event_id"], received[0].event_id.as_str());
    assert!(delivery["delivered_at"].is_string());
    assert!(delivery["next_attempt_at"].is_null());
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    for failed in &attempts[..2] {
        assert_eq!(failed["status_code"], 500);
        assert!(failed["error"].as_str().unwrap().contains("500"));
    }
    assert_eq!(attempts[2]["status_code"], 204);
    assert!(attempts[2]["error"].is_null());
    for attempt in attempts {
        assert!(attempt["attempted_at"].as_str().unwrap().ends_with('Z'));
        assert!(attempt["duration_ms"].is_u64());
    }
}

async fn endpoint_urls_and_events_are_checked(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("checks").await;
    let refused = |body: Value| {
        let request = app
            .client
            .post(app.url("/v1/webhook-endpoints"))
            .bearer_auth(&env.secret_key)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let body: Value = response.json().await.unwrap();
            body["error"]["field"].as_str().unwrap().to_owned()
        }
    };
    let events = json!(["user.created"]);
    for url in [
        "http://hooks.example.com/fbgate",
        "http://10.1.2.3/hook",
        "ftp://hooks.example.com/",
        "hooks.example.com/fbgate",
        "https://user:secret@hooks.example.com/",
    ] {
        assert_eq!(
            refused(json!({ "url": url, "events": events })).await,
            "url",
            "{url}"
        );
    }
    for bad in [
        json!([]),
        json!(["user.deleted"]),
        json!(["*", "user.created"]),
    ] {
        assert_eq!(
            refused(json!({ "url": "https://hooks.example.com/", "events": bad })).await,
            "events",
            "{bad}"
        );
    }
    for url in [
        "https://hooks.example.com/fbgate",
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://[::1]:9/hook",
    ] {
        let created = create_endpoint(&app, &env, json!({ "url": url, "events": events })).await;
        assert!(created["id"].as_str().unwrap().starts_with("whe_"));
        assert_eq!(created["events"], events);
    }
    let list = get_json(&app, &env, "/v1/webhook-endpoints?limit=3").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    let rest = get_json(
        &app,
        &env,
        &format!(
            "/v1/webhook-endpoints?limit=3&cursor={}",
            list["next_cursor"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());
}

async fn endpoints_of_another_environment_are_invisible(engine: Engine) {
    let app = spawn_app(engine).await;
    let mine = app.create_environment("mine").await;
    let theirs = app.create_environment("theirs").await;
    let endpoint = create_endpoint(
        &app,
        &mine,
        json!({ "url": "https://hooks.example.com/", "events": ["*"] }),
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();
    for path in [
        format!("/v1/webhook-endpoints/{id}"),
        format!("/v1/webhook-endpoints/{id}/deliveries"),
    ] {
        let response = app
            .client
            .get(app.url(&path))
            .bearer_auth(&theirs.secret_key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response, StatusCode::NOT_FOUND).await,
            "webhook_endpoint_not_found"
        );
    }
    let delete = app
        .client
        .delete(app.url(&format!("/v1/webhook-endpoints/{id}")))
        .bearer_auth(&theirs.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(delete, StatusCode::NOT_FOUND).await,
        "webhook_endpoint_not_found"
    );
    let list = get_json(&app, &theirs, "/v1/webhook-endpoints").await;
    assert!(list["data"].as_array().unwrap().is_empty());

    // The owner still sees it, and can delete it.
    let own = get_json(&app, &mine, &format!("/v1/webhook-endpoints/{id}")).await;
    assert_eq!(own["url"], "https://hooks.example.com/");
    let deleted = app
        .client
        .delete(app.url(&format!("/v1/webhook-endpoints/{id}")))
        .bearer_auth(&mine.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::OK);
    let gone = app
        .client
        .get(app.url(&format!("/v1/webhook-endpoints/{id}")))
        .bearer_auth(&mine.secret_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(gone, StatusCode::NOT_FOUND).await,
        "webhook_endpoint_not_found"
    );
}

async fn the_signing_secret_is_shown_once_and_never_stored_in_plaintext(engine: Engine) {
    let app = spawn_app(engine).await;
    let env = app.create_environment("secrets").await;
    let endpoint = create_endpoint(
        &app,
        &env,
        json!({ "url": "https://hooks.example.com/", "events": ["user.created"] }),
    )
    .await;
    let secret = endpoint["signing_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() > 40);
    let id = endpoint["id"].as_str().unwrap();

    let shown = get_json(&app, &env, &format!("/v1/webhook-endpoints/{id}")).await;
    assert!(shown.get("signing_secret").is_none());
    let listed = get_json(&app, &env, "/v1/webhook-endpoints").await;
    assert!(!listed.to_string().contains(&secret));

    let contents = database_contents(&app).await;
    let contains = |needle: &[u8]| contents.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(secret.as_bytes()), "secret stored in plaintext");
    assert!(
        !contains(hex::encode(secret.as_bytes()).as_bytes()),
        "secret stored in plaintext (hex)"
    );
    // The scan would have seen it: the endpoint's URL is there.
    assert!(contains(b"https://hooks.example.com/"));
}
