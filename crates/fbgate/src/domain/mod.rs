//! The domain: what fbgate does, independent of HTTP and SQL.
//!
//! Functions here take parsed input (newtypes that cannot hold bad values), use the store and
//! the vault through [`Context`], and return [`Error`], which `http::error` alone turns into
//! status codes and the API's error JSON.

pub mod account;
pub mod api_keys;
pub mod avatars;
pub mod compliance;
pub mod connections;
pub mod credentials;
pub mod environments;
mod error;
pub mod flows;
pub mod identities;
pub mod jwt;
pub mod pagination;
pub mod providers;
pub mod sessions;
pub mod slug;
pub mod users;
pub mod webhooks;

pub use error::Error;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::store::Store;
use crate::vault::Vault;

/// The handles every domain operation needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct Context {
    /// The database.
    pub store: Store,
    /// Envelope encryption.
    pub vault: Vault,
    /// The time source.
    pub clock: SharedClock,
    /// Recently authenticated API keys, so the hot path does not hit the database each time.
    pub key_cache: api_keys::KeyCache,
    /// Unsealed session-JWT signing keys.
    pub signers: jwt::SignerCache,
    /// Recently read providers.
    pub provider_cache: providers::ProviderCache,
    /// Environment slugs, which never change.
    pub environment_slugs: environments::SlugCache,
    /// Recently read credential rows (the `credentials/get` hot path).
    pub credential_cache: credentials::CredentialCache,
    /// Settings the domain needs from configuration.
    pub settings: Arc<Settings>,
    /// The HTTP client for calls to Facebook: one connection pool for the process.
    pub http: reqwest::Client,
    /// Where re-hosted profile pictures are kept.
    pub avatars: Arc<dyn avatars::AvatarStore>,
}

/// The part of the configuration that domain operations read.
#[derive(Debug, Clone)]
pub struct Settings {
    /// fbgate's public URL: the `iss` of session JWTs and the base of callback URLs.
    pub issuer: String,
    /// How long a session lasts.
    pub session_ttl: Duration,
    /// The first wait before a failed webhook delivery is retried (5 s; tests use less).
    pub webhook_retry_base: Duration,
    /// When credentials count as expiring, and how often they are checked.
    pub credentials: credentials::Timing,
    /// The health job's pace and budget.
    pub health: credentials::health::HealthSettings,
}

impl Context {
    /// Builds a context.
    pub fn new(
        store: Store,
        vault: Vault,
        clock: SharedClock,
        settings: Settings,
        avatars: Arc<dyn avatars::AvatarStore>,
    ) -> Self {
        Self {
            store,
            vault,
            clock,
            key_cache: api_keys::KeyCache::new(),
            signers: jwt::SignerCache::new(),
            provider_cache: providers::ProviderCache::new(),
            environment_slugs: environments::SlugCache::new(),
            credential_cache: credentials::CredentialCache::new(),
            settings: Arc::new(settings),
            http: outbound_http_client(),
            avatars,
        }
    }
}

/// The client for outbound calls: bounded timeouts, no redirects (Facebook's API never needs
/// them, and following one could leak a token to another host).
fn outbound_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("fbgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}
