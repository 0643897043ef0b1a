//! `spawn_app()`: the real server on port 0 with a fresh database, and a small client.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use fbgate::app::{Application, Migrations};
use fbgate::clock::AdjustableClock;
use fbgate::config::{Config, LogFormat};
use fbgate::store::{Store, StoreOptions};
use fbgate::vault::{MasterKey, SecretString};
use fbgate_sim::{SimConfig, SimServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const ADMIN_TOKEN: &str = "test-operator-token-0123456789";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Declares storage tests once and runs each on both engines: `sqlite::name` and `postgres::name`.
/// Without `FBGATE_TEST_POSTGRES_URL` the PostgreSQL half says so and passes; CI always sets it.
macro_rules! on_both_engines {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::helpers::Engine::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if $crate::helpers::postgres_url().is_none() {
                        eprintln!("FBGATE_TEST_POSTGRES_URL is not set; PostgreSQL half not run");
                        return;
                    }
                    super::$name($crate::helpers::Engine::Postgres).await;
                }
            )+
        }
    };
}
pub(crate) use on_both_engines;

pub fn postgres_url() -> Option<String> {
    std::env::var("FBGATE_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A fresh, empty database of the given engine; the temp dir lives as long as the value.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn fresh_database(engine: Engine) -> TestDatabase {
    match engine {
        Engine::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("fbgate.db").display());
            TestDatabase {
                url,
                _dir: Some(dir),
            }
        }
        Engine::Postgres => {
            let base = postgres_url().expect("FBGATE_TEST_POSTGRES_URL");
            let name = format!(
                "fbgate_test_{}",
                fbgate::ids::new_id("db").trim_start_matches("db_")
            );
            let admin = sqlx::PgPool::connect(&base)
                .await
                .expect("connect to FBGATE_TEST_POSTGRES_URL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            let mut url = url::Url::parse(&base).unwrap();
            url.set_path(&name);
            TestDatabase {
                url: url.to_string(),
                _dir: None,
            }
        }
    }
}

pub fn test_config(database_url: &str, master_key: &SecretString) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        public_url: url::Url::parse("http://127.0.0.1:8080").unwrap(),
        database_url: SecretString::new(database_url.to_owned()),
        database_max_connections: 5,
        master_key: Some(master_key.clone()),
        admin_token: Some(SecretString::new(ADMIN_TOKEN.to_owned())),
        log_format: LogFormat::Pretty,
        log_filter: "warn".to_owned(),
        data_dir: std::env::temp_dir(),
        body_limit_bytes: 64 * 1024,
        request_timeout: Duration::from_secs(10),
        session_ttl: Duration::from_secs(3600),
        jobs_poll_interval: Duration::from_millis(50),
        webhook_retry_base: Duration::from_millis(50),
        health_interval: Duration::from_millis(50),
        health_calls_per_hour: 360_000,
        credentials: Default::default(),
    }
}

/// A running fbgate, the Facebook emulator next to it, and a client.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    pub master_key: SecretString,
    pub engine: Engine,
    pub clock: Arc<AdjustableClock>,
    pub sim: SimServer,
}

/// An environment made through the API, with its keys.
pub struct TestEnvironment {
    pub id: String,
    pub secret_key: String,
    pub publishable_key: String,
}

pub async fn spawn_app(engine: Engine) -> TestApp {
    let database = fresh_database(engine).await;
    let (_, master_key) = MasterKey::generate().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let mut config = test_config(&database.url, &master_key);
    config.public_url = url::Url::parse(&address).unwrap();
    let clock = Arc::new(AdjustableClock::new());
    let app = Application::build_on(config, listener, Migrations::Apply, clock.clone())
        .await
        .expect("application builds");
    tokio::spawn(app.run_with_shutdown(std::future::pending()));
    let sim = SimServer::start(SimConfig::default()).await.unwrap();
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
        sim,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A store on the same database, for tests that inspect raw rows.
    pub async fn store(&self) -> Store {
        Store::connect(&StoreOptions {
            url: self.database.url.clone(),
            max_connections: 2,
        })
        .await
        .unwrap()
    }

    pub async fn create_environment(&self, slug: &str) -> TestEnvironment {
        let response = self
            .client
            .post(self.url("/v1/environments"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "slug": slug, "name": format!("Env {slug}") }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        TestEnvironment {
            id: body["id"].as_str().unwrap().to_owned(),

            secret_key: body["secret_key"].as_str().unwrap().to_owned(),
            publishable_key: body["publishable_key"].as_str().unwrap().to_owned(),
        }
    }
}

/// Reads an error answer, checks its status and shape, and returns its `code`.
pub async fn error_code(response: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type}"
    );
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "error without message: {body}");
    body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned()
}

/// Every byte the database holds, as far as a test can see it: the SQLite file and its WAL, or
/// every PostgreSQL table's rows as text (BYTEA shows as hex there, so check both encodings).
pub async fn database_contents(app: &TestApp) -> Vec<u8> {
    match app.engine {
        Engine::Sqlite => {
            let path = app.database.url.trim_start_matches("sqlite://").to_owned();
            let mut bytes = std::fs::read(&path).unwrap();
            if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
                bytes.extend(wal);
            }
            bytes
        }
        Engine::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database.url).await.unwrap();
            let tables: Vec<(String,)> = sqlx::query_as(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            let mut all = Vec::new();
            for (table,) in tables {
                let (text,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COALESCE(string_agg(t::text, E'\\n'), '') FROM {table} t"
                )))
                .fetch_one(&pool)
                .await
                .unwrap();
                all.extend(text.into_bytes());
            }
            pool.close().await;
            all
        }
    }
}

/// The `fbgate serve` process; killed when dropped, so a failing test leaves nothing running.
pub struct Server(Child);

impl Server {
    /// SIGKILL: no graceful shutdown, nothing flushed on the way out.
    pub fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `fbgate serve` on `address` and waits until it answers `/healthz`.
pub async fn serve(
    address: &str,
    database: &TestDatabase,
    master_key: &SecretString,
    data_dir: &Path,
    poll_ms: u32,
) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_fbgate"))
        .arg("serve")
        .current_dir(data_dir)
        .env_clear()
        .env("FBGATE_LISTEN", address.trim_start_matches("http://"))
        .env("FBGATE_PUBLIC_URL", address)
        .env("FBGATE_DATABASE_URL", &database.url)
        .env("FBGATE_MASTER_KEY", master_key.expose())
        .env("FBGATE_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("FBGATE_DATA_DIR", data_dir)
        .env("FBGATE_JOBS_POLL_INTERVAL_MS", poll_ms.to_string())
        .env("FBGATE_HEALTH_INTERVAL_MS", poll_ms.to_string())
        .env("FBGATE_HEALTH_CALLS_PER_HOUR", "3600000")
        .env("FBGATE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = client.get(format!("{address}/healthz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        assert!(Instant::now() < deadline, "fbgate serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
