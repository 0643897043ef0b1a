//! Facebook's signed callbacks, emulated and verified end to end: the emulator signs, this
//! crate verifies with the app secret.

use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::routing::post;
use axum::{Json, Router};
use fbgate_facebook::{AppSecret, SignedRequest};
use serde_json::{Value, json};

use crate::sim::{ADA, SimEnv};

type Received = Arc<Mutex<Vec<String>>>;

async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    async fn take(
        State(received): State<Received>,
        Form(form): Form<std::collections::HashMap<String, String>>,
    ) -> Json<Value> {
        if let Some(signed) = form.get("signed_request") {
            received.lock().unwrap().push(signed.clone());
        }
        Json(
            json!({"url": "https://app.example.com/deletion?id=abc123", "confirmation_code": "abc123"}),
        )
    }
    let app = Router::new()
        .route("/deauthorize", post(take))
        .route("/deletion", post(take))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, received)
}

#[tokio::test]
async fn deauthorize_and_data_deletion_callbacks_verify() {
    let env = SimEnv::start().await;
    let (base, received) = receiver().await;
    let created = env
        .post(
            "/_sim/apps",
            json!({"name": "callbacks", "redirect_uris": ["https://app.example.com/cb"],
                   "deauthorize_callback_url": format!("{base}/deauthorize"),
                   "data_deletion_callback_url": format!("{base}/deletion")}),
        )
        .await;
    let app_id = created["app_id"].as_str().unwrap().to_owned();
    let secret = AppSecret::new(created["app_secret"].as_str().unwrap());
    let token = env.mint_for(&app_id, ADA, &["public_profile"], true).await;

    let removed = env
        .post(
            &format!("/_sim/apps/{app_id}/users/{ADA}/remove"),
            json!({}),
        )
        .await;
    assert_eq!(removed["callback_status"], 200);
    let deletion = env
        .post(
            &format!("/_sim/apps/{app_id}/users/{ADA}/data-deletion"),
            json!({}),
        )
        .await;
    assert_eq!(deletion["callback_status"], 200);
    assert_eq!(deletion["callback_body"]["confirmation_code"], "abc123");

    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 2);
    let deauth = SignedRequest::verify(&received[0], &secret)
        .unwrap()
        .deauthorize()
        .unwrap();
    assert_eq!(deauth.user_id, ADA);
    let delete = SignedRequest::verify(&received[1], &secret)
        .unwrap()
        .data_deletion()
        .unwrap();
    assert_eq!(delete.user_id, ADA);
    assert!(SignedRequest::verify(&received[0], &AppSecret::new("other")).is_err());

    // Removing the app invalidated the user's tokens with 190/458.
    let facebook = env.facebook_for(&app_id, secret.expose());
    let error = facebook.me(&token, &[]).await.unwrap_err();
    assert_eq!(
        error.kind(),
        fbgate_facebook::ErrorKind::Auth {
            reason: fbgate_facebook::AuthReason::AppNotInstalled
        }
    );
}
