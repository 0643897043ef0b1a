//! The Rust SDK for fbgate.
//!
//! Apps talk to fbgate from their backend with a secret key. This first version covers the
//! transport every call shares: authentication, the API's error JSON turned into a typed
//! [`Error`], and the operational endpoints. Credential fetching with a local cache, sign-in code
//! exchange and session JWT verification build on it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fbgate_client::Error> {
//! let client = fbgate_client::Client::new("http://127.0.0.1:8080", "sk_test_…")?;
//! client.ready().await?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

/// Errors of the SDK.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The base URL is not an absolute http(s) URL.
    #[error("invalid base URL: {0}")]
    InvalidBaseUrl(String),
    /// fbgate answered with its error JSON.
    #[error("fbgate answered {status}: {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The stable error code, such as `credential_not_found`.
        code: String,
        /// Human-readable explanation.
        message: String,
        /// The input field at fault, if any.
        field: Option<String>,
    },
    /// fbgate could not be reached, or answered something that is not its API.
    #[error("transport error: {0}")]
    Transport(#[from] reqwest::Error),
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    field: Option<String>,
}

/// A client for one fbgate environment, authenticated by its secret key. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    base: Url,
    secret_key: String,
    http: reqwest::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("secret_key", &"[redacted]")
            .finish()
    }
}

impl Client {
    /// A client for the fbgate at `base_url`, acting with `secret_key`.
    pub fn new(base_url: &str, secret_key: impl Into<String>) -> Result<Self, Error> {
        let base = Url::parse(base_url).map_err(|e| Error::InvalidBaseUrl(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::InvalidBaseUrl(
                "scheme must be http or https".to_owned(),
            ));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            base,
            secret_key: secret_key.into(),
            http,
        })
    }

    fn url(&self, path: &str) -> Result<Url, Error> {
        self.base
            .join(path)
            .map_err(|e| Error::InvalidBaseUrl(e.to_string()))
    }

    /// Checks that fbgate is ready (database reachable, migrations applied).
    pub async fn ready(&self) -> Result<(), Error> {
        let response = self
            .http
            .get(self.url("/readyz")?)
            .bearer_auth(&self.secret_key)
            .send()
            .await?;
        check(response).await.map(drop)
    }
}

/// Turns a non-2xx answer into [`Error::Api`].
async fn check(response: reqwest::Response) -> Result<reqwest::Response, Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let bytes = response.bytes().await?;
    Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Error::Api {
            status: status.as_u16(),
            code: body.error.code,
            message: body.error.message,
            field: body.error.field,
        },
        Err(_) => Error::Api {
            status: status.as_u16(),
            code: "unexpected_answer".to_owned(),
            message: format!("answer without fbgate's error JSON ({} bytes)", bytes.len()),
            field: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn ready_sends_the_key_and_reads_error_json() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/readyz"))
            .and(header("authorization", "Bearer sk_test_abc"))
            .respond_with(ResponseTemplate::new(503).set_body_json(serde_json::json!({
                "error": {"code": "not_ready", "message": "1 migration(s) pending"}
            })))
            .mount(&server)
            .await;
        let client = Client::new(&server.uri(), "sk_test_abc").unwrap();
        match client.ready().await {
            Err(Error::Api { status, code, .. }) => {
                assert_eq!(status, 503);
                assert_eq!(code, "not_ready");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn debug_never_shows_the_key_and_bad_urls_are_refused() {
        let client = Client::new("http://127.0.0.1:8080", "sk_test_secret").unwrap();
        assert!(!format!("{client:?}").contains("sk_test_secret"));
        assert!(Client::new("not a url", "k").is_err());
        assert!(Client::new("ftp://example.com", "k").is_err());
    }
}
