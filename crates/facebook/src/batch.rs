//! Batch requests: up to 50 Graph calls in one POST.
//!
//! Larger sets are split into requests of 50, sent one after another. Facebook answers an
//! array in request order whose entries may be `null` when an operation timed out; those are
//! re-sent (GETs only, since a null write may have happened) for as many rounds as the retry
//! policy allows, and any still missing come back as [`BatchItem::TimedOut`]. Operations with a
//! `name` or `depends_on` are never re-sent alone, because the reference they rely on would not
//! be in the retry batch. A batch made only of GETs is itself idempotent and is retried on
//! transient failures like any read.

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::client::{Facebook, Repeat, describe_json_error};
use crate::error::{FacebookError, GraphError};
use crate::model::{Permissions, Profile};
use crate::oauth::parse_debug_token;
use crate::secret::AccessToken;
use crate::token::DebugToken;
use crate::usage::Usage;

/// Facebook's limit of operations per batch request.
pub const MAX_BATCH_SIZE: usize = 50;

/// The HTTP method of one batch operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchMethod {
    /// A read.
    Get,
    /// A write.
    Post,
    /// A delete.
    Delete,
}

impl BatchMethod {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// One operation of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchOperation {
    /// The method.
    pub method: BatchMethod,
    /// The path and query relative to the version root, e.g. `me?fields=id,name`.
    pub relative_url: String,
    /// A name other operations can reference (JSONPath results).
    pub name: Option<String>,
    /// The urlencoded body of a POST.
    pub body: Option<String>,
    /// The name of an operation that must run first.
    pub depends_on: Option<String>,
    /// Drop the body of a successful answer (Facebook's default for named operations).
    pub omit_response_on_success: Option<bool>,
}

impl BatchOperation {
    fn new(method: BatchMethod, relative_url: String) -> Self {
        Self {
            method,
            relative_url,
            name: None,
            body: None,
            depends_on: None,
            omit_response_on_success: None,
        }
    }

    /// A GET of `path` with query parameters (encoded here).
    pub fn get(path: &str, params: &[(&str, &str)]) -> Self {
        Self::new(BatchMethod::Get, with_query(path, params))
    }

    /// A POST to `path` with form parameters.
    pub fn post(path: &str, params: &[(&str, &str)]) -> Self {
        let mut op = Self::new(BatchMethod::Post, path.trim_start_matches('/').to_owned());
        op.body = Some(encode(params));
        op
    }

    /// A DELETE of `path` with query parameters.
    pub fn delete(path: &str, params: &[(&str, &str)]) -> Self {
        Self::new(BatchMethod::Delete, with_query(path, params))
    }

    /// `debug_token` of one token: the health check's building block.
    pub fn debug_token(input_token: &AccessToken) -> Self {
        Self::get("debug_token", &[("input_token", input_token.expose())])
    }

    /// Names the operation.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Makes the operation wait for the named one.
    pub fn depends_on(mut self, name: impl Into<String>) -> Self {
        self.depends_on = Some(name.into());
        self
    }

    fn to_json(&self) -> Value {
        let mut op = json!({"method": self.method.as_str(), "relative_url": self.relative_url});
        if let Some(name) = &self.name {
            op["name"] = json!(name);
        }
        if let Some(body) = &self.body {
            op["body"] = json!(body);
        }
        if let Some(depends_on) = &self.depends_on {
            op["depends_on"] = json!(depends_on);
        }
        if let Some(omit) = self.omit_response_on_success {
            op["omit_response_on_success"] = json!(omit);
        }
        op
    }

    fn may_resend_alone(&self) -> bool {
        self.method == BatchMethod::Get && self.name.is_none() && self.depends_on.is_none()
    }
}

/// The answer to one operation. `Debug` shows the body's length only: bodies can hold tokens.
#[derive(Clone, PartialEq)]
pub struct BatchResponse {
    /// The operation's HTTP status.
    pub code: u16,
    /// The operation's headers.
    pub headers: Vec<(String, String)>,
    /// The operation's body (JSON text), absent when omitted.
    pub body: Option<String>,
}

impl std::fmt::Debug for BatchResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchResponse")
            .field("code", &self.code)
            .field("headers", &self.headers)
            .field("body_len", &self.body.as_ref().map(String::len))
            .finish()
    }
}

impl BatchResponse {
    /// The usage headers of this operation.
    pub fn usage(&self) -> Usage {
        let mut map = HeaderMap::new();
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                map.append(name, value);
            }
        }
        Usage::from_headers(&map)
    }

    /// Facebook's error object when the operation failed.
    pub fn graph_error(&self) -> Option<GraphError> {
        let body: Value = serde_json::from_str(self.body.as_deref()?).ok()?;
        GraphError::from_body(self.code, &body, self.usage())
    }

    /// The body as `T`, or the operation's error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, FacebookError> {
        if let Some(error) = self.graph_error() {
            return Err(error.into());
        }
        let protocol = |detail: String| FacebookError::Protocol {
            status: self.code,
            detail,
        };
        let body = self
            .body
            .as_deref()
            .ok_or_else(|| protocol("batch entry without a body".to_owned()))?;
        if !(200..300).contains(&self.code) {
            return Err(protocol(
                "batch entry failed without an error object".to_owned(),
            ));
        }
        serde_json::from_str(body).map_err(|e| protocol(describe_json_error(&e)))
    }

    /// Reads the answer of a [`BatchOperation::debug_token`].
    pub fn debug_token(&self) -> Result<DebugToken, FacebookError> {
        let body: Value = self.json()?;
        parse_debug_token(&body).ok_or_else(|| FacebookError::Protocol {
            status: self.code,
            detail: "debug_token answer without a data object".to_owned(),
        })
    }
}

/// What [`Facebook::debug_token_and_me`] read: each part succeeds or fails on its own.
#[derive(Debug)]
pub struct DebugAndProfile {
    /// The token's `debug_token` answer.
    pub debug: Result<DebugToken, FacebookError>,
    /// `/me` with the token, and its permissions.
    pub profile: Result<(Profile, Permissions), FacebookError>,
}

/// The outcome of one operation.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchItem {
    /// Facebook answered it (successfully or with an error; see [`BatchResponse::json`]).
    Done(BatchResponse),
    /// Facebook returned `null` for it on every attempt.
    TimedOut,
}

#[derive(Deserialize)]
struct RawEntry {
    code: u16,
    #[serde(default)]
    headers: Vec<RawHeader>,
    #[serde(default)]
    body: Option<String>,
}

#[derive(Deserialize)]
struct RawHeader {
    name: String,
    value: String,
}

impl Facebook {
    /// Runs `operations` as batch requests of at most [`MAX_BATCH_SIZE`], with `token` (and
    /// its proof) for all of them. Returns one item per operation, in order.
    pub async fn batch(
        &self,
        token: &AccessToken,
        operations: &[BatchOperation],
    ) -> Result<Vec<BatchItem>, FacebookError> {
        let mut items = Vec::with_capacity(operations.len());
        for chunk in operations.chunks(MAX_BATCH_SIZE) {
            items.extend(self.batch_once(token, chunk).await?);
        }
        let policy = self.retry_policy();
        for round in 1..policy.max_attempts {
            let missing: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(i, item)| {
                    **item == BatchItem::TimedOut && operations[*i].may_resend_alone()
                })
                .map(|(i, _)| i)
                .collect();
            if missing.is_empty() {
                break;
            }
            tokio::time::sleep(policy.jittered(round)).await;
            for indexes in missing.chunks(MAX_BATCH_SIZE) {
                let retry: Vec<BatchOperation> =
                    indexes.iter().map(|i| operations[*i].clone()).collect();
                let answers = self.batch_once(token, &retry).await?;
                for (index, answer) in indexes.iter().zip(answers) {
                    items[*index] = answer;
                }
            }
        }
        Ok(items)
    }

    /// `debug_token` for many tokens at once (50 per request) with the app token: the health
    /// check's call. One result per token, in order; an entry Facebook never answered is a
    /// timed-out [`TransportError`](crate::TransportError).
    pub async fn debug_tokens(
        &self,
        tokens: &[AccessToken],
    ) -> Result<Vec<Result<DebugToken, FacebookError>>, FacebookError> {
        let operations: Vec<BatchOperation> =
            tokens.iter().map(BatchOperation::debug_token).collect();
        let items = self
            .batch(&self.app().app_access_token(), &operations)
            .await?;
        Ok(items
            .into_iter()
            .map(|item| match item {
                BatchItem::Done(response) => response.debug_token(),
                BatchItem::TimedOut => Err(FacebookError::Transport(crate::TransportError {
                    timeout: true,
                    detail: "Facebook returned no answer for this batch entry".to_owned(),
                })),
            })
            .collect())
    }

    /// `debug_token` of a user token (with the app token) and `/me` with its permissions (with
    /// the user token and its proof), in one batch request: the sign-in's reads after the code
    /// exchange. The caller must accept the `debug_token` answer before it trusts the profile,
    /// which is why the two come back as separate results. An operation that Facebook never
    /// answered is a timed-out [`TransportError`](crate::TransportError).
    pub async fn debug_token_and_me(
        &self,
        token: &AccessToken,
        fields: &[&str],
    ) -> Result<DebugAndProfile, FacebookError> {
        let mut me_params = vec![
            ("fields", crate::graph::fields_with_permissions(fields)),
            ("access_token", token.expose().to_owned()),
        ];
        me_params.extend(
            self.app()
                .appsecret_proof_params(token, crate::client::unix_now()),
        );
        let me_params: Vec<(&str, &str)> =
            me_params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let operations = [
            BatchOperation::debug_token(token),
            BatchOperation::get("me", &me_params),
        ];
        let mut items = self
            .batch(&self.app().app_access_token(), &operations)
            .await?
            .into_iter();
        let mut next = move || match items.next() {
            Some(BatchItem::Done(response)) => Ok(response),
            _ => Err(FacebookError::Transport(crate::TransportError {
                timeout: true,
                detail: "Facebook returned no answer for this batch entry".to_owned(),
            })),
        };
        let debug = next().and_then(|response| response.debug_token());
        let profile = match next().and_then(|response| {
            let raw = response.json::<Value>()?;
            Ok((response.code, raw))
        }) {
            Ok((status, raw)) => self.profile_and_permissions(token, status, raw).await,
            Err(error) => Err(error),
        };
        Ok(DebugAndProfile { debug, profile })
    }

    async fn batch_once(
        &self,
        token: &AccessToken,
        operations: &[BatchOperation],
    ) -> Result<Vec<BatchItem>, FacebookError> {
        let batch = Value::Array(operations.iter().map(BatchOperation::to_json).collect());
        let params = vec![("batch".to_owned(), batch.to_string())];
        let repeat = if operations.iter().all(|op| op.method == BatchMethod::Get) {
            Repeat::Safe
        } else {
            Repeat::Never
        };
        let url = self.app().graph_root_url();
        let response = self
            .execute(Method::POST, url, params, Some(token), repeat)
            .await?;
        let entries: Vec<Option<RawEntry>> = response.json()?;
        if entries.len() != operations.len() {
            return Err(FacebookError::Protocol {
                status: response.status,
                detail: format!(
                    "batch of {} operations answered with {} entries",
                    operations.len(),
                    entries.len()
                ),
            });
        }
        Ok(entries
            .into_iter()
            .map(|entry| match entry {
                None => BatchItem::TimedOut,
                Some(raw) => BatchItem::Done(BatchResponse {
                    code: raw.code,
                    headers: raw.headers.into_iter().map(|h| (h.name, h.value)).collect(),
                    body: raw.body,
                }),
            })
            .collect())
    }
}

fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let path = path.trim_start_matches('/');
    if params.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", encode(params))
    }
}

fn encode(params: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_serialize_as_facebook_expects() {
        let op = BatchOperation::get("/me", &[("fields", "id,name")]);
        assert_eq!(
            op.to_json(),
            json!({"method": "GET", "relative_url": "me?fields=id%2Cname"})
        );
        let post = BatchOperation::post("me/feed", &[("message", "hi there")])
            .named("first")
            .depends_on("zero");
        assert_eq!(
            post.to_json(),
            json!({"method": "POST", "relative_url": "me/feed", "body": "message=hi+there",
                   "name": "first", "depends_on": "zero"})
        );
        assert!(!post.may_resend_alone());
        assert!(op.may_resend_alone());
    }

    #[test]
    fn entry_body_and_errors() {
        let ok = BatchResponse {
            code: 200,
            headers: vec![("X-App-Usage".into(), r#"{"call_count":5}"#.into())],
            body: Some(r#"{"id":"1"}"#.into()),
        };
        assert_eq!(ok.json::<Value>().unwrap()["id"], "1");
        assert_eq!(ok.usage().app.unwrap().call_count, 5.0);
        let failed = BatchResponse {
            code: 400,
            headers: vec![],
            body: Some(r#"{"error":{"code":190,"error_subcode":460,"message":"x"}}"#.into()),
        };
        assert_eq!(failed.graph_error().unwrap().subcode, Some(460));
        assert!(failed.json::<Value>().is_err());
    }

    #[test]
    fn debug_and_errors_never_show_the_body() {
        let page = BatchResponse {
            code: 200,
            headers: vec![],
            body: Some(r#"{"access_token":"EAApagetoken"}"#.into()),
        };
        assert!(!format!("{page:?}").contains("EAApagetoken"));
        let error = page.json::<Vec<u8>>().unwrap_err();
        assert!(!error.to_string().contains("EAApagetoken"), "{error}");
    }
}
