//! Configuration: defaults, then an optional `fbgate.toml`, then `FBGATE_*` environment variables.
//!
//! Secrets (`master_key`, `admin_token`, `database_url`) may also come from a file named by the
//! same setting with `_file` appended (`FBGATE_MASTER_KEY_FILE=/run/secrets/fbgate-master-key`),
//! which keeps them out of the process environment. Every value is checked when loaded, and an
//! error names the setting as the operator wrote it (`FBGATE_LISTEN`), not a Rust field.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::vault::{MasterKey, SecretString};

/// The public URL when none is configured.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// Every setting, by its name in `fbgate.toml`; the environment variable is `FBGATE_` + upper case.
const SETTINGS: &[&str] = &[
    "listen",
    "public_url",
    "database_url",
    "database_url_file",
    "database_max_connections",
    "master_key",
    "master_key_file",
    "admin_token",
    "admin_token_file",
    "log_format",
    "log",
    "data_dir",
    "body_limit_bytes",
    "request_timeout_secs",
    "session_ttl_secs",
    "jobs_poll_interval_ms",
    "health_interval_ms",
    "health_calls_per_hour",
    "health_check_period_hours",
    "credential_expiring_days",
];

/// A configuration value that cannot be used; the message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting has a bad value.
    #[error("invalid setting {setting}: {message}")]
    Invalid {
        /// The setting as the operator wrote it, e.g. `FBGATE_LISTEN`.
        setting: String,
        /// What is wrong with it.
        message: String,
    },
    /// The configuration file could not be read or parsed.
    #[error("configuration file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

fn invalid(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: format!("FBGATE_{}", setting.to_uppercase()),
        message: message.into(),
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable lines, for terminals.
    Pretty,
}

/// The settings as written, before they are checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: String,
    public_url: String,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    database_max_connections: u32,
    master_key: Option<String>,
    master_key_file: Option<PathBuf>,
    admin_token: Option<String>,
    admin_token_file: Option<PathBuf>,
    log_format: LogFormat,
    log: String,
    data_dir: PathBuf,
    body_limit_bytes: usize,
    request_timeout_secs: u64,
    session_ttl_secs: u64,
    jobs_poll_interval_ms: u64,
    health_interval_ms: u64,
    health_calls_per_hour: u32,
    health_check_period_hours: u32,
    credential_expiring_days: u32,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            public_url: DEFAULT_PUBLIC_URL.to_owned(),
            database_url: None,
            database_url_file: None,
            database_max_connections: 10,
            master_key: None,
            master_key_file: None,
            admin_token: None,
            admin_token_file: None,
            log_format: LogFormat::Pretty,
            log: "info".to_owned(),
            data_dir: PathBuf::from("fbgate-data"),
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            session_ttl_secs: 30 * 24 * 60 * 60,
            jobs_poll_interval_ms: 1000,
            health_interval_ms: 60_000,
            health_calls_per_hour: 3600,
            health_check_period_hours: 24,
            credential_expiring_days: 7,
        }
    }
}

/// The checked configuration of one fbgate process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address the HTTP server binds (`FBGATE_LISTEN`); port 0 picks a free port.
    pub listen: SocketAddr,
    /// Base URL that every redirect and callback URL is built from, without a trailing slash.
    pub public_url: Url,
    /// `sqlite://…` or `postgres://…`; a secret because it may hold a password.
    pub database_url: SecretString,
    /// Pool size.
    pub database_max_connections: u32,
    /// Base64 of the 32-byte master key, if configured.
    pub master_key: Option<SecretString>,
    /// Operator token for `/v1/environments` and `/admin`, if configured.
    pub admin_token: Option<SecretString>,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter in `tracing` syntax (`info`, `fbgate=debug,sqlx=warn`).
    pub log_filter: String,
    /// Directory for the dev key file, SQLite database and avatars.
    pub data_dir: PathBuf,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Time after which a request is answered with 408 instead of hanging.
    pub request_timeout: Duration,
    /// How long a session lasts before the user must sign in again.
    pub session_ttl: Duration,
    /// How often each process looks for due background jobs.
    pub jobs_poll_interval: Duration,
    /// The first wait before a failed webhook delivery is retried (not a setting: tests shorten it).
    pub webhook_retry_base: Duration,
    /// How often each process runs a round of the credential health job.
    pub health_interval: Duration,
    /// Facebook calls the health job may make per hour, across all processes' rounds.
    pub health_calls_per_hour: u32,
    /// When credentials count as expiring, and how often each is checked.
    pub credentials: crate::domain::credentials::Timing,
}

impl Config {
    /// Loads the configuration from `file` (when it exists) and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env = Env::prefixed("FBGATE_").only(SETTINGS);
        Self::from_figment(Self::figment(file).merge(env))
    }

    fn figment(file: Option<&Path>) -> Figment {
        let path = file.map_or_else(|| PathBuf::from("fbgate.toml"), Path::to_path_buf);
        Figment::from(Serialized::defaults(RawConfig::default())).merge(Toml::file(path))
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let raw: RawConfig = figment.extract().map_err(figment_error)?;
        Self::check(raw)
    }

    fn check(raw: RawConfig) -> Result<Self, ConfigError> {
        let listen = raw.listen.parse::<SocketAddr>().map_err(|_| {
            invalid(
                "listen",
                format!("`{}` is not an address like 127.0.0.1:8080", raw.listen),
            )
        })?;

        let mut public_url = Url::parse(&raw.public_url)
            .map_err(|e| invalid("public_url", format!("not a URL ({e})")))?;
        if !matches!(public_url.scheme(), "http" | "https") || public_url.host().is_none() {
            return Err(invalid("public_url", "must be an http:// or https:// URL"));
        }
        if public_url.query().is_some() || public_url.fragment().is_some() {
            return Err(invalid("public_url", "must not have a query or fragment"));
        }
        let trimmed = public_url.path().trim_end_matches('/').to_owned();
        public_url.set_path(&trimmed);

        let database_url = secret_setting(
            "database_url",
            raw.database_url,
            raw.database_url_file.as_deref(),
        )?
        .unwrap_or_else(|| {
            let path = raw.data_dir.join("fbgate.db");
            SecretString::new(format!("sqlite://{}", path.display()))
        });
        let db = database_url.expose();
        if !(db.starts_with("sqlite:")
            || db.starts_with("postgres:")
            || db.starts_with("postgresql:"))
        {
            return Err(invalid(
                "database_url",
                "must start with sqlite:// or postgres://",
            ));
        }
        if raw.database_max_connections == 0 {
            return Err(invalid("database_max_connections", "must be at least 1"));
        }

        let master_key =
            secret_setting("master_key", raw.master_key, raw.master_key_file.as_deref())?;
        if let Some(key) = &master_key {
            MasterKey::from_base64(key.expose()).map_err(|e| {
                invalid(
                    "master_key",
                    format!("{e} (generate one with `fbgate keys generate`)"),
                )
            })?;
        }
        let admin_token = secret_setting(
            "admin_token",
            raw.admin_token,
            raw.admin_token_file.as_deref(),
        )?;
        if let Some(token) = &admin_token
            && token.expose().len() < 16
        {
            return Err(invalid("admin_token", "must be at least 16 characters"));
        }
        if raw.body_limit_bytes < 1024 {
            return Err(invalid("body_limit_bytes", "must be at least 1024"));
        }
        if raw.request_timeout_secs == 0 {
            return Err(invalid("request_timeout_secs", "must be at least 1"));
        }
        if !(10..=60_000).contains(&raw.jobs_poll_interval_ms) {
            return Err(invalid(
                "jobs_poll_interval_ms",
                "must be between 10 and 60000",
            ));
        }
        if !(10..=3_600_000).contains(&raw.health_interval_ms) {
            return Err(invalid(
                "health_interval_ms",
                "must be between 10 and 3600000 (one hour)",
            ));
        }
        if raw.health_calls_per_hour == 0 {
            return Err(invalid("health_calls_per_hour", "must be at least 1"));
        }
        if !(1..=720).contains(&raw.health_check_period_hours) {
            return Err(invalid(
                "health_check_period_hours",
                "must be between 1 and 720 (30 days)",
            ));
        }
        if !(1..=59).contains(&raw.credential_expiring_days) {
            return Err(invalid(
                "credential_expiring_days",
                "must be between 1 and 59 (a user token lives about 60 days)",
            ));
        }
        if !(60..=366 * 24 * 60 * 60).contains(&raw.session_ttl_secs) {
            return Err(invalid(
                "session_ttl_secs",
                "must be between 60 and 31622400 (366 days)",
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&raw.log)
            .map_err(|e| invalid("log", format!("not a valid log filter ({e})")))?;

        Ok(Self {
            listen,
            public_url,
            database_url,
            database_max_connections: raw.database_max_connections,
            master_key,
            admin_token,
            log_format: raw.log_format,
            log_filter: raw.log,
            data_dir: raw.data_dir,
            body_limit_bytes: raw.body_limit_bytes,
            request_timeout: Duration::from_secs(raw.request_timeout_secs),
            session_ttl: Duration::from_secs(raw.session_ttl_secs),
            jobs_poll_interval: Duration::from_millis(raw.jobs_poll_interval_ms),
            webhook_retry_base: Duration::from_secs(5),
            health_interval: Duration::from_millis(raw.health_interval_ms),
            health_calls_per_hour: raw.health_calls_per_hour,
            credentials: crate::domain::credentials::Timing {
                expiring_threshold: Duration::from_secs(
                    u64::from(raw.credential_expiring_days) * 24 * 60 * 60,
                ),
                check_period: Duration::from_secs(
                    u64::from(raw.health_check_period_hours) * 60 * 60,
                ),
            },
        })
    }

    /// The settings domain operations read.
    pub fn domain_settings(&self) -> crate::domain::Settings {
        crate::domain::Settings {
            issuer: self.public_base().to_owned(),
            session_ttl: self.session_ttl,
            webhook_retry_base: self.webhook_retry_base,
            credentials: self.credentials,
            health: crate::domain::credentials::health::HealthSettings {
                interval: self.health_interval,
                calls_per_hour: self.health_calls_per_hour,
            },
        }
    }

    /// The public URL as text, without a trailing slash, for building URLs.
    pub fn public_base(&self) -> &str {
        self.public_url.as_str().trim_end_matches('/')
    }
}

/// Reads a secret setting given either inline or as `<name>_file`, never both.
fn secret_setting(
    name: &str,
    inline: Option<String>,
    file: Option<&Path>,
) -> Result<Option<SecretString>, ConfigError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(invalid(
            name,
            format!(
                "set either FBGATE_{0} or FBGATE_{0}_FILE, not both",
                name.to_uppercase()
            ),
        )),
        (Some(value), None) if value.trim().is_empty() => Ok(None),
        (Some(value), None) => Ok(Some(SecretString::new(value))),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                invalid(
                    &format!("{name}_file"),
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            Ok(Some(SecretString::new(text.trim().to_owned())))
        }
        (None, None) => Ok(None),
    }
}

fn figment_error(error: figment::Error) -> ConfigError {
    let message = error.kind.to_string();
    if let Some(key) = error.path.first() {
        let from_file = error
            .metadata
            .as_ref()
            .is_some_and(|m| m.name.to_ascii_lowercase().contains("toml"));
        let setting = if from_file {
            format!("`{key}` in fbgate.toml")
        } else {
            format!("FBGATE_{}", key.to_uppercase())
        };
        return ConfigError::Invalid { setting, message };
    }
    match error.metadata.and_then(|m| m.source) {
        Some(figment::Source::File(path)) => ConfigError::File { path, message },
        _ => ConfigError::Invalid {
            setting: "configuration".to_owned(),
            message,
        },
    }
}
