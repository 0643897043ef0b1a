//! The HTTP side: one `reqwest::Client` (rustls, timeouts, no redirects), the request
//! executor with `appsecret_proof` and retries, and the generic `get`/`post`/`delete` the
//! proxy uses.
//!
//! Tokens travel as `access_token` query parameters on reads and form fields on writes, with
//! the proof beside them, because that is the form every Graph version accepts. URLs are
//! therefore secret-bearing: errors are stripped of them and logs name only method and path.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use crate::app::FacebookApp;
use crate::error::{FacebookError, GraphError, TransportError};
use crate::retry::RetryPolicy;
use crate::secret::AccessToken;
use crate::usage::Usage;

/// Default limit for a whole call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Default limit for opening a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A Facebook client for one app. Cheap to clone: clones share the connection pool.
#[derive(Clone, Debug)]
pub struct Facebook {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    app: FacebookApp,
    http: reqwest::Client,
    retry: RetryPolicy,
}

/// Configures a [`Facebook`] client.
#[derive(Debug)]
#[must_use = "call .build() to get the client"]
pub struct FacebookBuilder {
    app: FacebookApp,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryPolicy,
    http: Option<reqwest::Client>,
}

impl FacebookBuilder {
    /// Limit for a whole call (connect, send, read the answer).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Limit for opening a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How safe calls are retried.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Uses an existing `reqwest::Client` (its own timeouts then apply). It should not
    /// follow redirects.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Facebook, FacebookError> {
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("fbgate-facebook/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| FacebookError::Transport(TransportError::from(e)))?,
        };
        Ok(Facebook {
            inner: Arc::new(Inner {
                app: self.app,
                http,
                retry: self.retry,
            }),
        })
    }
}

/// A successful Graph answer, kept raw for the proxy. `Debug` shows the body's length only:
/// bodies can hold tokens (exchanges, `/me/accounts`).
#[derive(Clone)]
pub struct GraphResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// All headers.
    pub headers: HeaderMap,
    /// The usage headers, parsed.
    pub usage: Usage,
    /// The body as received.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for GraphResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphResponse")
            .field("status", &self.status)
            .field("usage", &self.usage)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl GraphResponse {
    /// The body as JSON of type `T`; a mismatch is a `Protocol` error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, FacebookError> {
        serde_json::from_slice(&self.body).map_err(|e| FacebookError::Protocol {
            status: self.status,
            detail: describe_json_error(&e),
        })
    }
}

/// Whether a call may be repeated after a temporary failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Idempotent: retry per the policy.
    Safe,
    /// Never repeat (code exchange, writes).
    Never,
}

impl Facebook {
    /// A client with default timeouts and retry policy.
    pub fn new(app: FacebookApp) -> Result<Self, FacebookError> {
        Self::builder(app).build()
    }

    /// Starts configuring a client.
    pub fn builder(app: FacebookApp) -> FacebookBuilder {
        FacebookBuilder {
            app,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryPolicy::default(),
            http: None,
        }
    }

    /// The app this client speaks for.
    pub fn app(&self) -> &FacebookApp {
        &self.inner.app
    }

    /// The retry policy in use.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.retry
    }

    /// `GET /{version}/{path}`, retried when safe. `token` adds `access_token` and
    /// `appsecret_proof`.
    pub async fn get(
        &self,
        path: &str,
        params: &[(&str, &str)],
        token: Option<&AccessToken>,
    ) -> Result<GraphResponse, FacebookError> {
        let url = self.app().graph_url(path);
        self.execute(Method::GET, url, owned(params), token, Repeat::Safe)
            .await
    }

    /// `POST /{version}/{path}` with form parameters. Never retried.
    pub async fn post(
        &self,
        path: &str,
        params: &[(&str, &str)],
        token: Option<&AccessToken>,
    ) -> Result<GraphResponse, FacebookError> {
        let url = self.app().graph_url(path);
        self.execute(Method::POST, url, owned(params), token, Repeat::Never)
            .await
    }

    /// `DELETE /{version}/{path}`. Never retried: a repeat after a lost answer would fail on
    /// the already-deleted object and hide the success.
    pub async fn delete(
        &self,
        path: &str,
        params: &[(&str, &str)],
        token: Option<&AccessToken>,
    ) -> Result<GraphResponse, FacebookError> {
        let url = self.app().graph_url(path);
        self.execute(Method::DELETE, url, owned(params), token, Repeat::Never)
            .await
    }

    /// Runs one call with proof and retries, and turns error answers into errors.
    pub(crate) async fn execute(
        &self,
        method: Method,
        url: Url,
        params: Vec<(String, String)>,
        token: Option<&AccessToken>,
        repeat: Repeat,
    ) -> Result<GraphResponse, FacebookError> {
        let mut attempt = 1;
        loop {
            let result = self.attempt(&method, &url, &params, token).await;
            let error = match result {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            let delay = match repeat {
                Repeat::Safe => self.inner.retry.decide(attempt, &error),
                Repeat::Never => None,
            };
            let Some(delay) = delay else {
                return Err(error);
            };
            tracing::debug!(
                method = %method,
                path = url.path(),
                attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying Facebook call"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        params: &[(String, String)],
        token: Option<&AccessToken>,
    ) -> Result<GraphResponse, FacebookError> {
        let mut all: Vec<(String, String)> = params.to_vec();
        if let Some(token) = token {
            all.push(("access_token".to_owned(), token.expose().to_owned()));
            for (key, value) in self.app().appsecret_proof_params(token, unix_now()) {
                all.push((key.to_owned(), value));
            }
        }
        let request = self.inner.http.request(method.clone(), url.clone());
        let request = if *method == Method::POST {
            request.form(&all)
        } else {
            request.query(&all)
        };
        let response = request
            .send()
            .await
            .map_err(|e| FacebookError::Transport(e.into()))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| FacebookError::Transport(e.into()))?
            .to_vec();
        tracing::debug!(method = %method, path = url.path(), status, "Facebook answered");
        check(status, headers, body)
    }
}

/// Splits error answers from successful ones.
pub(crate) fn check(
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
) -> Result<GraphResponse, FacebookError> {
    let usage = Usage::from_headers(&headers);
    let json = serde_json::from_slice::<Value>(&body).ok();
    if let Some(error) = json
        .as_ref()
        .and_then(|v| GraphError::from_body(status, v, usage.clone()))
    {
        return Err(error.into());
    }
    if !(200..300).contains(&status) {
        let detail = if json.is_some() {
            "an error status without an error object"
        } else {
            "an error status with a body that is not JSON"
        };
        return Err(FacebookError::Protocol {
            status,
            detail: detail.to_owned(),
        });
    }
    Ok(GraphResponse {
        status,
        headers,
        usage,
        body,
    })
}

/// Describes a JSON mismatch by position only: serde's own message quotes the offending
/// value, which may be a token.
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    format!(
        "unexpected JSON ({:?} error at line {}, column {})",
        error.classify(),
        error.line(),
        error.column()
    )
}

fn owned(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_can_be_shared_across_tasks() {
        fn assert_shareable<T: Send + Sync + Clone + 'static>() {}
        assert_shareable::<Facebook>();
    }

    #[test]
    fn debug_of_a_response_hides_the_body() {
        let response = GraphResponse {
            status: 200,
            headers: HeaderMap::new(),
            usage: Usage::default(),
            body: br#"{"access_token":"EAAsecret"}"#.to_vec(),
        };
        assert!(!format!("{response:?}").contains("EAAsecret"));
        let error = response.json::<Vec<u8>>().unwrap_err();
        assert!(!error.to_string().contains("EAAsecret"), "{error}");
    }

    #[test]
    fn error_answers_become_errors() {
        let body = br#"{"error":{"code":190,"message":"x"}}"#.to_vec();
        assert!(matches!(
            check(400, HeaderMap::new(), body),
            Err(FacebookError::Graph(_))
        ));
        let html = b"<html>".to_vec();
        assert!(matches!(
            check(404, HeaderMap::new(), html),
            Err(FacebookError::Protocol { status: 404, .. })
        ));
        assert!(check(200, HeaderMap::new(), b"{}".to_vec()).is_ok());
    }
}
