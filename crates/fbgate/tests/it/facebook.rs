//! Helpers for flows through the emulator: a Facebook app and provider, and a browser's walk
//! through authorize → dialog → callback.

use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

use crate::helpers::{TestApp, TestEnvironment};

/// Where the test app wants browsers back.
pub const RETURN_URL: &str = "http://app.test/after-sign-in";

/// A Facebook app registered in the emulator, with a provider for it in fbgate.
pub struct TestProvider {
    pub slug: String,
    pub id: String,
    pub app_id: String,
    pub app_secret: String,
}

/// A test user of the emulator.
pub struct FacebookUser {
    pub id: String,
    pub email: Option<String>,
}

impl TestApp {
    pub fn sim_url(&self, path: &str) -> String {
        format!("{}{}", self.sim.url(), path)
    }

    async fn sim_post(&self, path: &str, body: Value) -> Value {
        let response = self
            .client
            .post(self.sim_url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Registers an emulator app whose redirect URI is fbgate's callback for `slug`, and a
    /// provider for it; `provider` fields override the defaults.
    pub async fn facebook_provider(
        &self,
        env: &TestEnvironment,
        slug: &str,
        provider: Value,
    ) -> TestProvider {
        let app = self
            .sim_post(
                "/_sim/apps",
                json!({
                    "name": format!("App {slug}"),
                    "redirect_uris": [format!("{}/v1/oauth-callback/{slug}", self.address)],
                    "require_appsecret_proof": true,
                }),
            )
            .await;
        let mut body = json!({
            "provider_kind": "preset",
            "provider_key": "facebook",
            "slug": slug,
            "client_id": app["app_id"],
            "client_secret": app["app_secret"],
            "allowed_redirect_urls": ["http://app.test/*"],
            "facebook_base_url": self.sim.url(),
            "graph_base_url": self.sim.url(),
        });
        for (key, value) in provider.as_object().unwrap() {
            body[key] = value.clone();
        }
        let response = self
            .client
            .post(self.url("/v1/oauth-providers"))
            .bearer_auth(&env.secret_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        let created: Value = response.json().await.unwrap();
        TestProvider {
            slug: slug.to_owned(),
            id: created["id"].as_str().unwrap().to_owned(),
            app_id: app["app_id"].as_str().unwrap().to_owned(),
            app_secret: app["app_secret"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates an emulator test user (`email: None` makes one without email).
    pub async fn facebook_user(&self, name: &str, email: Option<&str>) -> FacebookUser {
        let user = self
            .sim_post("/_sim/users", json!({ "name": name, "email": email }))
            .await;
        FacebookUser {
            id: user["id"].as_str().unwrap().to_owned(),
            email: user["email"].as_str().map(str::to_owned),
        }
    }

    /// Creates an emulator test user whose Facebook picture is `picture` (any URL).
    pub async fn facebook_user_with_picture(&self, name: &str, picture: &str) -> FacebookUser {
        let user = self
            .sim_post("/_sim/users", json!({ "name": name, "picture": picture }))
            .await;
        FacebookUser {
            id: user["id"].as_str().unwrap().to_owned(),
            email: user["email"].as_str().map(str::to_owned),
        }
    }

    /// From now on the emulator's dialog for `provider` answers at once as `user` pressing
    /// Continue with `declined` unticked.
    pub async fn consent_as(
        &self,
        provider: &TestProvider,
        user: &FacebookUser,
        declined: &[&str],
    ) {
        self.sim_post(
            &format!("/_sim/apps/{}/auto-consent", provider.app_id),
            json!({ "user_id": user.id, "declined": declined }),
        )
        .await;
    }

    /// The emulator's dialog answers as if the person pressed Cancel.
    pub async fn cancel_at_facebook(&self, provider: &TestProvider) {
        self.sim_post(
            &format!("/_sim/apps/{}/auto-consent", provider.app_id),
            json!({ "cancel": true }),
        )
        .await;
    }
}

impl TestApp {
    /// `POST /v1/credentials/get` for an fbgate user at the `facebook` provider.
    pub async fn get_credential(&self, env: &TestEnvironment, user_id: &str) -> reqwest::Response {
        self.client
            .post(self.url("/v1/credentials/get"))
            .bearer_auth(&env.secret_key)
            .json(&json!({ "provider": "facebook", "user_id": user_id, "credential_for": "user" }))
            .send()
            .await
            .unwrap()
    }

    /// The stored Facebook token of an fbgate user (fails the test when there is none).
    pub async fn access_token(&self, env: &TestEnvironment, user_id: &str) -> String {
        let answer: Value = self
            .get_credential(env, user_id)
            .await
            .json()
            .await
            .unwrap();
        answer["credential"]["access_token"]
            .as_str()
            .expect("a credential")
            .to_owned()
    }

    /// What the emulator's `debug_token` says of a token, asked with the app's token.
    pub async fn debug_token(&self, provider: &TestProvider, token: &str) -> Value {
        let app_token = format!("{}|{}", provider.app_id, provider.app_secret);
        let answer: Value = self
            .client
            .get(self.sim_url("/v25.0/debug_token"))
            .query(&[("input_token", token), ("access_token", app_token.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["data"].clone()
    }
}

/// A browser in the middle of a flow.
pub struct Browser {
    pub dialog_url: Url,
    pub cookie: String,
    pub callback_url: Option<Url>,
}

fn location(response: &reqwest::Response) -> Url {
    let text = response.headers()["location"].to_str().unwrap();
    Url::parse(text).unwrap()
}

impl TestApp {
    /// Opens the authorize URL: returns the dialog URL and the cookie fbgate set.
    pub async fn start_sign_in(
        &self,
        env: &TestEnvironment,
        provider: &TestProvider,
        extra: &str,
    ) -> Browser {
        let url = format!(
            "{}?publishable_key={}&redirect_to={}{extra}",
            self.url(&format!("/v1/oauth/{}/authorize", provider.slug)),
            env.publishable_key,
            RETURN_URL
        );
        let response = self.client.get(url).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FOUND,
            "{}",
            response.text().await.unwrap()
        );
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        Browser {
            dialog_url: location(&response),
            cookie,
            callback_url: None,
        }
    }

    /// Visits the dialog (auto-consent answers at once) and records where it sends the browser.
    pub async fn through_dialog(&self, mut browser: Browser) -> Browser {
        let response = self
            .client
            .get(browser.dialog_url.clone())
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_redirection(),
            "dialog answered {}",
            response.status()
        );
        browser.callback_url = Some(location(&response));
        browser
    }

    /// Delivers the callback with the browser's cookie; returns the final response.
    pub async fn deliver_callback(
        &self,
        browser: &Browser,
        with_cookie: bool,
    ) -> reqwest::Response {
        let mut request = self.client.get(browser.callback_url.clone().unwrap());
        if with_cookie {
            request = request.header("cookie", &browser.cookie);
        }
        request.send().await.unwrap()
    }

    /// Walks a browser from any fbgate URL that starts a flow (authorize, or an Account API
    /// authorization URL) through the dialog and back; returns where fbgate finally sends it.
    pub async fn browse(&self, start: &str) -> Url {
        let response = self.client.get(start).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FOUND,
            "{}",
            response.text().await.unwrap()
        );
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let browser = Browser {
            dialog_url: location(&response),
            cookie,
            callback_url: None,
        };
        let browser = self.through_dialog(browser).await;
        let response = self.deliver_callback(&browser, true).await;
        assert!(
            response.status().is_redirection(),
            "callback answered {}",
            response.status()
        );
        location(&response)
    }

    /// The whole browser side of a sign-in: returns where fbgate finally sends the browser.
    pub async fn sign_in(
        &self,
        env: &TestEnvironment,
        provider: &TestProvider,
        extra: &str,
    ) -> Url {
        let browser = self
            .through_dialog(self.start_sign_in(env, provider, extra).await)
            .await;
        let response = self.deliver_callback(&browser, true).await;
        assert!(
            response.status().is_redirection(),
            "callback answered {}: {}",
            response.status(),
            response.text().await.unwrap()
        );
        location(&response)
    }

    /// Trades the one-time code for the sign-in result.
    pub async fn exchange(&self, env: &TestEnvironment, returned: &Url) -> Value {
        let code = returned
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("code in redirect");
        let response = self
            .client
            .post(self.url("/v1/sign-ins/exchange"))
            .bearer_auth(&env.secret_key)
            .json(&json!({ "code": code }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

/// The `error` of a redirect back to the app.
pub fn returned_error(url: &Url) -> Option<String> {
    assert!(url.as_str().starts_with(RETURN_URL), "returned to {url}");
    url.query_pairs()
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned())
}
