//! A running emulator and a client that does not follow redirects.

use std::collections::HashMap;

use fbgate_sim::{DEMO_APP_ID, DEMO_APP_SECRET, SimConfig, SimServer};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

pub const REDIRECT: &str = "http://127.0.0.1:4000/callback";

pub struct TestSim {
    pub server: SimServer,
    pub http: reqwest::Client,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

pub async fn start() -> TestSim {
    let server = SimServer::start(SimConfig::default()).await.unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestSim { server, http }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

/// Query and fragment parameters of a redirect target.
pub fn params_of(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    let mut out: HashMap<String, String> = url.query_pairs().into_owned().collect();
    if let Some(fragment) = url.fragment() {
        out.extend(form_urlencoded::parse(fragment.as_bytes()).into_owned());
    }
    out
}

impl TestSim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// `GET` a Graph path with query parameters.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        answer(
            self.http
                .get(self.url(path))
                .query(query)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// `POST` a Graph path with a form body.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        answer(
            self.http
                .post(self.url(path))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn delete(&self, path: &str, query: &[(&str, &str)]) -> Answer {
        answer(
            self.http
                .delete(self.url(path))
                .query(query)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A control-API call with a JSON body.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Answer {
        let mut request = self.http.request(method, self.url(path));
        if !body.is_null() {
            request = request.json(&body);
        }
        answer(request.send().await.unwrap()).await
    }

    pub async fn control_post(&self, path: &str, body: Value) -> Answer {
        self.control(reqwest::Method::POST, path, body).await
    }

    /// `GET /v21.0/dialog/oauth`.
    pub async fn dialog(&self, query: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .get(self.url("/v21.0/dialog/oauth"))
            .query(query)
            .send()
            .await
            .unwrap()
    }

    /// Submits the dialog's form as the page would: the dialog's parameters (the hidden
    /// fields), the chosen user, the ticked permissions and the button. Returns the response.
    pub async fn submit(
        &self,
        query: &[(&str, &str)],
        user_id: &str,
        granted: &[&str],
        action: &str,
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = query.to_vec();
        form.push(("user_id", user_id));
        for permission in granted {
            form.push(("granted", permission));
        }
        form.push(("action", action));
        self.http
            .post(self.url("/dialog/oauth/confirm"))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Submits and returns the redirect's parameters (asserting a 302).
    pub async fn consent(
        &self,
        query: &[(&str, &str)],
        user_id: &str,
        granted: &[&str],
    ) -> HashMap<String, String> {
        let response = self.submit(query, user_id, granted, "continue").await;
        assert_eq!(response.status(), StatusCode::FOUND);
        params_of(response.headers()["location"].to_str().unwrap())
    }

    /// A code for the demo app, granting every requested scope.
    pub async fn code_for(&self, user_id: &str, scope: &str) -> String {
        let granted: Vec<&str> = scope.split(',').collect();
        let query = [
            ("client_id", DEMO_APP_ID),
            ("redirect_uri", REDIRECT),
            ("scope", scope),
            ("state", "st"),
        ];
        self.consent(&query, user_id, &granted).await["code"].clone()
    }

    pub async fn exchange(&self, code: &str) -> Answer {
        self.get(
            "/v21.0/oauth/access_token",
            &[
                ("client_id", DEMO_APP_ID),
                ("client_secret", DEMO_APP_SECRET),
                ("redirect_uri", REDIRECT),
                ("code", code),
            ],
        )
        .await
    }

    /// A user token minted through the control API.
    pub async fn token(&self, user_id: &str, scopes: &[&str], long_lived: bool) -> String {
        let answer = self
            .control_post(
                "/_sim/tokens",
                serde_json::json!({
                    "app_id": DEMO_APP_ID,
                    "user_id": user_id,
                    "scopes": scopes,
                    "long_lived": long_lived,
                }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        answer.body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn app_token(&self) -> String {
        format!("{DEMO_APP_ID}|{DEMO_APP_SECRET}")
    }

    pub async fn debug(&self, token: &str) -> Value {
        let app = self.app_token().await;
        let answer = self
            .get(
                "/v21.0/debug_token",
                &[("input_token", token), ("access_token", &app)],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        answer.body["data"].clone()
    }

    pub async fn now(&self) -> i64 {
        self.get("/_sim/clock", &[]).await.body["now"]
            .as_i64()
            .unwrap()
    }

    pub async fn advance(&self, seconds: i64) {
        let answer = self
            .control_post(
                "/_sim/clock/advance",
                serde_json::json!({ "seconds": seconds }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
}

/// Asserts a Graph error answer and returns its `error` object.
pub fn graph_error(answer: &Answer, code: i64) -> Value {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{:?}", answer.body);
    let error = answer.body["error"].clone();
    assert_eq!(error["code"], code, "{error:?}");
    assert!(error["fbtrace_id"].is_string());
    error
}
