//! Facebook's compliance callbacks, driven through the emulator as Facebook would drive them: a
//! person removes the app (deauthorize) or asks for their data to be deleted (data deletion).
//! This module holds the scene both share; the tests are in [`deauthorize`] and [`data_deletion`].

mod data_deletion;
mod deauthorize;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use fbgate::app::{Application, Migrations};
use fbgate::clock::AdjustableClock;
use fbgate::domain::Context;
use fbgate::domain::avatars::FileAvatarStore;
use fbgate::jobs::{self, Runner};
use fbgate::vault::{MasterKey, Vault};
use fbgate_facebook::{AppSecret, SignedRequest};
use fbgate_sim::{SimConfig, SimServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::facebook::{FacebookUser, TestProvider, returned_error};
use crate::helpers::{Engine, TestApp, TestEnvironment, fresh_database, test_config};

/// A 1×1 PNG, served as the person's Facebook picture so that fbgate re-hosts it.
pub(crate) const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\
\0\0\0\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\0\x05\0\x01\xff\x89\x99=\x1d\0\0\0\0IEND\xaeB`\x82";

/// Like `helpers::spawn_app`, but the server's job runner polls only once a minute, so a test
/// sees a deletion `pending` for as long as it likes and runs the jobs itself ([`run_jobs`]).
pub(crate) async fn spawn_app_with_idle_jobs(engine: Engine) -> TestApp {
    let database = fresh_database(engine).await;
    let (_, master_key) = MasterKey::generate().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let mut config = test_config(&database.url, &master_key);
    config.public_url = url::Url::parse(&address).unwrap();
    config.jobs_poll_interval = Duration::from_secs(60);
    let clock = Arc::new(AdjustableClock::new());
    let app = Application::build_on(config, listener, Migrations::Apply, clock.clone())
        .await
        .unwrap();
    tokio::spawn(app.run_with_shutdown(std::future::pending()));
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        database,
        master_key,
        engine,
        clock,
        sim: SimServer::start(SimConfig::default()).await.unwrap(),
    }
}

/// Runs the due jobs once, as another fbgate process on the same database would.
pub(crate) async fn run_jobs(app: &TestApp) -> usize {
    Runner::new(
        context_of(app).await,
        jobs::registry(),
        Duration::from_millis(50),
    )
    .run_due()
    .await
    .unwrap()
}

/// An environment with a Facebook provider whose emulator app calls fbgate back at the URLs the
/// provider answer says to paste into Meta's dashboard.
pub(crate) struct Scene {
    pub(crate) app: TestApp,
    pub(crate) env: TestEnvironment,
    pub(crate) provider: TestProvider,
}

pub(crate) async fn scene(app: TestApp) -> Scene {
    scene_with(app, json!({})).await
}

/// [`scene`] with provider settings of the test's own.
pub(crate) async fn scene_with(app: TestApp, provider: Value) -> Scene {
    let env = app.create_environment("callbacks").await;
    let provider = app.facebook_provider(&env, "facebook", provider).await;
    let answer: Value = app
        .client
        .get(app.url(&format!("/v1/oauth-providers/{}", provider.id)))
        .bearer_auth(&env.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = app
        .client
        .patch(app.sim_url(&format!("/_sim/apps/{}", provider.app_id)))
        .json(&json!({
            "deauthorize_callback_url": answer["deauthorize_callback_url"],
            "data_deletion_callback_url": answer["data_deletion_callback_url"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    Scene { app, env, provider }
}

impl Scene {
    /// Signs a new Facebook person in; returns them and fbgate's user id.
    pub(crate) async fn sign_up(
        &self,
        name: &str,
        picture: Option<&str>,
    ) -> (FacebookUser, String) {
        let person = match picture {
            Some(url) => self.app.facebook_user_with_picture(name, url).await,
            None => {
                self.app
                    .facebook_user(name, Some("someone@example.com"))
                    .await
            }
        };
        self.app.consent_as(&self.provider, &person, &[]).await;
        let returned = self.app.sign_in(&self.env, &self.provider, "").await;
        assert_eq!(returned_error(&returned), None);
        let user_id = self.app.exchange(&self.env, &returned).await["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (person, user_id)
    }

    /// `POST /v1/credentials/get` for an fbgate user.
    pub(crate) async fn credential(&self, user_id: &str) -> reqwest::Response {
        self.app
            .client
            .post(self.app.url("/v1/credentials/get"))
            .bearer_auth(&self.env.secret_key)
            .json(&json!({ "provider": "facebook", "user_id": user_id, "credential_for": "user" }))
            .send()
            .await
            .unwrap()
    }

    /// Fires an emulator control action (`remove` or `data-deletion`) for a person; returns
    /// what fbgate answered the emulator's callback.
    pub(crate) async fn at_facebook(&self, person: &FacebookUser, action: &str) -> (u16, Value) {
        let answer: Value = self
            .app
            .client
            .post(self.app.sim_url(&format!(
                "/_sim/apps/{}/users/{}/{action}",
                self.provider.app_id, person.id
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let status = answer["callback_status"]
            .as_u64()
            .unwrap_or_else(|| panic!("the callback was not delivered: {answer}"));
        (
            u16::try_from(status).unwrap(),
            answer["callback_body"].clone(),
        )
    }

    /// POSTs a callback to fbgate directly, as Facebook would.
    pub(crate) async fn post_callback(
        &self,
        which: &str,
        signed_request: &str,
    ) -> reqwest::Response {
        self.app
            .client
            .post(
                self.app
                    .url(&format!("/v1/facebook/{}/{which}", self.provider.id)),
            )
            .form(&[("signed_request", signed_request)])
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn deletion_status(&self, code: &str) -> Value {
        let response = self
            .app
            .client
            .get(self.app.url(&format!("/v1/data-deletion/{code}")))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

pub(crate) fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A signed request as Facebook sends it: unpadded base64url.
pub(crate) fn unpadded(payload: &Value, secret: &str) -> String {
    SignedRequest::sign(payload, &AppSecret::new(secret))
}

/// A signed request as Facebook's PHP SDK builds it: padded base64url, the HMAC taken over the
/// padded payload segment.
pub(crate) fn padded(payload: &Value, secret: &str) -> String {
    let payload_part = URL_SAFE.encode(payload.to_string());
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let signature = aws_lc_rs::hmac::sign(&key, payload_part.as_bytes());
    format!("{}.{payload_part}", URL_SAFE.encode(signature.as_ref()))
}

pub(crate) fn deauthorize_payload(user_id: &str, issued_at: i64) -> Value {
    json!({ "user_id": user_id, "algorithm": "HMAC-SHA256", "issued_at": issued_at })
}

/// Runs SQL on the test's database, whichever engine it is.
macro_rules! with_db {
    ($app:expr, $pool:ident => $body:expr) => {
        match $app.engine {
            Engine::Sqlite => {
                let $pool = sqlx::SqlitePool::connect(&$app.database.url).await.unwrap();
                let out = $body;
                $pool.close().await;
                out
            }
            Engine::Postgres => {
                let $pool = sqlx::PgPool::connect(&$app.database.url).await.unwrap();
                let out = $body;
                $pool.close().await;
                out
            }
        }
    };
}
pub(crate) use with_db;

/// The count that `sql` (one `$1` parameter) reads from the test's database.
pub(crate) async fn count(app: &TestApp, sql: &'static str, value: &str) -> i64 {
    with_db!(app, pool => {
        sqlx::query_scalar::<_, i64>(sql).bind(value).fetch_one(&pool).await.unwrap()
    })
}

/// Token bytes left, version, status and reason of a user's credential.
pub(crate) async fn credential_row(
    app: &TestApp,
    user_id: &str,
) -> (i64, i64, String, Option<String>) {
    const SQL: &str = "SELECT CAST(length(token_ciphertext) AS BIGINT), version, status, \
                       status_reason FROM credentials WHERE user_id = $1";
    with_db!(app, pool => {
        sqlx::query_as(SQL).bind(user_id).fetch_one(&pool).await.unwrap()
    })
}

/// Every row of every table as text (blobs as hex): what "left in any table" means.
pub(crate) async fn all_rows(app: &TestApp) -> String {
    match app.engine {
        Engine::Postgres => {
            String::from_utf8(crate::helpers::database_contents(app).await).unwrap()
        }
        Engine::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database.url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut all = String::new();
            for table in tables {
                let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{table}')"
                )))
                .fetch_all(&pool)
                .await
                .unwrap();
                let row = columns
                    .iter()
                    .map(|c| format!("COALESCE(quote(\"{c}\"), '')"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT {row} FROM \"{table}\""
                )))
                .fetch_all(&pool)
                .await
                .unwrap();
                all.push_str(&rows.join("\n"));
                all.push('\n');
            }
            pool.close().await;
            all
        }
    }
}

/// A server standing in for Facebook's CDN, serving one PNG.
pub(crate) async fn picture_url() -> String {
    let router = Router::new().route(
        "/ada.png",
        get(|| async { ([(header::CONTENT_TYPE, "image/png")], PNG.to_vec()) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}/ada.png")
}

/// A domain context on the test app's database (for calling the job's work directly).
pub(crate) async fn context_of(app: &TestApp) -> Context {
    let store = app.store().await;
    let vault = Vault::new(
        MasterKey::from_base64(app.master_key.expose()).unwrap(),
        store.clone(),
    );
    let mut config = test_config(&app.database.url, &app.master_key);
    config.public_url = url::Url::parse(&app.address).unwrap();
    let avatars = Arc::new(FileAvatarStore::in_data_dir(&config.data_dir));
    Context::new(
        store,
        vault,
        app.clock.clone(),
        config.domain_settings(),
        avatars,
    )
}
