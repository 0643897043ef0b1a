//! Deauthorize and data-deletion callbacks: a form POST with one field, `signed_request`,
//! signed with the app secret exactly as Facebook signs it (unpadded base64url).

use serde_json::{Value, json};

use crate::crypto::sign_request;
use crate::state::Sim;

/// What the app's callback answered.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallbackResult {
    pub status: Option<u16>,
    pub body: Option<Value>,
}

/// `{"user_id","algorithm","issued_at"}` in Facebook's key order.
pub(crate) fn deauthorize_payload(user_id: &str, issued_at: i64) -> String {
    format!(
        r#"{{"user_id":{},"algorithm":"HMAC-SHA256","issued_at":{issued_at}}}"#,
        json!(user_id)
    )
}

/// `{"algorithm","expires","issued_at","user_id"}` in Facebook's key order.
pub(crate) fn data_deletion_payload(user_id: &str, issued_at: i64) -> String {
    format!(
        r#"{{"algorithm":"HMAC-SHA256","expires":{},"issued_at":{issued_at},"user_id":{}}}"#,
        issued_at + 3600,
        json!(user_id)
    )
}

/// POSTs `signed_request=<sign(payload)>` to `url`; network failures give an empty result.
pub(crate) async fn post_signed(
    sim: &Sim,
    url: &str,
    secret: &str,
    payload: &str,
) -> CallbackResult {
    let signed = sign_request(secret, payload);
    let response = sim
        .http()
        .post(url)
        .form(&[("signed_request", signed.as_str())])
        .send()
        .await;
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
            CallbackResult {
                status: Some(status),
                body,
            }
        }
        Err(error) => {
            tracing::warn!(%url, %error, "sim: callback delivery failed");
            CallbackResult::default()
        }
    }
}
