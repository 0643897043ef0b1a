//! Helpers to drive the emulator (`fbgate-sim`) through its control API, as its contract
//! describes, and a client pointed at it.

use std::time::Duration;

use fbgate_facebook::{
    AccessToken, CallbackOutcome, CodeExchange, Facebook, FacebookApp, LoginCallback, RetryPolicy,
};
use fbgate_sim::{SimConfig, SimServer};
use serde_json::{Value, json};
use url::Url;

pub use fbgate_sim::{DEMO_APP_ID, DEMO_APP_SECRET};

pub const ADA: &str = "10000000000000101";
pub const NOMAIL: &str = "10000000000000102";
pub const PAGE_OWNER: &str = "10000000000000103";
pub const BUSINESS_ID: &str = "20000000000000001";
pub const BUSINESS_CONFIG_ID: &str = "30000000000000001";
/// Any loopback redirect URI is accepted by the demo app until URIs are registered.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

pub struct SimEnv {
    pub server: SimServer,
    pub http: reqwest::Client,
    pub facebook: Facebook,
}

impl SimEnv {
    pub async fn start() -> Self {
        let server = SimServer::start(SimConfig::default()).await.unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let base = Url::parse(&server.url()).unwrap();
        let app = FacebookApp::new(DEMO_APP_ID, DEMO_APP_SECRET).with_base_url(base);
        let facebook = client(app, quick());
        Self {
            server,
            http,
            facebook,
        }
    }

    pub fn base_url(&self) -> Url {
        Url::parse(&self.server.url()).unwrap()
    }

    /// A client for another app on this emulator.
    pub fn facebook_for(&self, app_id: &str, secret: &str) -> Facebook {
        client(
            FacebookApp::new(app_id, secret).with_base_url(self.base_url()),
            quick(),
        )
    }

    /// Calls the control API and returns its JSON, failing the test on a non-2xx answer.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.server.url());
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path} answered {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.control(reqwest::Method::POST, path, Some(body)).await
    }

    /// Mints a user token of the demo app without the dialog.
    pub async fn mint(&self, user_id: &str, scopes: &[&str], long_lived: bool) -> AccessToken {
        self.mint_for(DEMO_APP_ID, user_id, scopes, long_lived)
            .await
    }

    pub async fn mint_for(
        &self,
        app_id: &str,
        user_id: &str,
        scopes: &[&str],
        long_lived: bool,
    ) -> AccessToken {
        let answer = self
            .post(
                "/_sim/tokens",
                json!({"app_id": app_id, "user_id": user_id, "scopes": scopes, "long_lived": long_lived}),
            )
            .await;
        AccessToken::new(answer["access_token"].as_str().unwrap())
    }

    /// Registers an app that requires `appsecret_proof`; returns its id and secret.
    pub async fn strict_app(&self) -> (String, String) {
        let created = self
            .post(
                "/_sim/apps",
                json!({"name": "strict", "redirect_uris": ["https://app.example.com/cb"], "require_appsecret_proof": true}),
            )
            .await;
        let field = |name: &str| created[name].as_str().unwrap().to_owned();
        (field("app_id"), field("app_secret"))
    }

    pub async fn revoke(&self, token: &AccessToken, subcode: Option<u32>) {
        let mut body = json!({"access_token": token.expose()});
        if let Some(subcode) = subcode {
            body["subcode"] = json!(subcode);
        }
        self.post("/_sim/tokens/revoke", body).await;
    }

    pub async fn auto_consent(&self, body: Value) {
        self.post(&format!("/_sim/apps/{DEMO_APP_ID}/auto-consent"), body)
            .await;
    }

    pub async fn faults(&self, body: Value) {
        self.post("/_sim/faults", body).await;
    }

    pub async fn clear_faults(&self) {
        self.control(reqwest::Method::DELETE, "/_sim/faults", None)
            .await;
    }

    pub async fn advance_clock(&self, seconds: u64) {
        self.post("/_sim/clock/advance", json!({"seconds": seconds}))
            .await;
    }

    /// Page Owner installs the demo app for the demo business through the Login for Business
    /// configuration; returns the system-user token the code exchange gave.
    pub async fn install_business(&self) -> AccessToken {
        self.auto_consent(json!({"user_id": PAGE_OWNER})).await;
        let url = self
            .facebook
            .app()
            .login_dialog(REDIRECT_URI, "install")
            .config_id(BUSINESS_CONFIG_ID)
            .override_default_response_type()
            .url();
        let CallbackOutcome::Code { code, .. } = self.follow_dialog(&url).await.outcome else {
            panic!("expected a code");
        };
        let exchange = CodeExchange {
            redirect_uri: Some(REDIRECT_URI),
            ..CodeExchange::default()
        };
        self.facebook
            .exchange_code(&code, exchange)
            .await
            .unwrap()
            .access_token
    }

    /// Opens the dialog URL like a browser whose user auto-consents and reads the redirect.
    pub async fn follow_dialog(&self, dialog: &Url) -> LoginCallback {
        let response = self.http.get(dialog.clone()).send().await.unwrap();
        assert!(
            response.status().is_redirection(),
            "dialog answered {}",
            response.status()
        );
        let location = response
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        LoginCallback::parse(&location).unwrap()
    }
}

pub fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

pub fn client(app: FacebookApp, retry: RetryPolicy) -> Facebook {
    Facebook::builder(app)
        .retry_policy(retry)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}
