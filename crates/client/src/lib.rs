//! The Rust SDK for fbgate, for an app's backend.
//!
//! A [`Client`] acts for one fbgate environment with its secret key (`sk_live_…`/`sk_test_…`). It
//! does the three things a backend needs:
//!
//! - **Fetch a Facebook credential** to call the Graph API for a user, a tenant's user, an
//!   installation or a page: [`Client::get_credential`] with a [`CredentialRequest`]. Answers are
//!   kept in a local cache (below).
//! - **Finish a browser sign-in**: the browser comes back to your `redirect_to` with `?code=…`;
//!   [`Client::exchange_sign_in_code`] trades it (once, within 60 seconds) for the user, the
//!   Facebook identity and a new session ([`SignIn`]).
//! - **Check a session JWT** on each request: [`Client::verify_session_jwt`] verifies the ES256
//!   signature against the environment's published keys and the `iss`, `env` and `exp` claims,
//!   offline after the first key fetch.
//!
//! ```no_run
//! use fbgate_client::{Client, CredentialRequest};
//!
//! # async fn demo() -> Result<(), fbgate_client::Error> {
//! let fbgate = Client::new("https://fbgate.example.com", "sk_live_…")?;
//!
//! // After the sign-in redirect: /after-sign-in?code=…
//! let sign_in = fbgate.exchange_sign_in_code("code-from-the-query").await?;
//! println!("signed in {} (new: {})", sign_in.user.id, sign_in.is_new_user);
//!
//! // On every request that carries the session JWT:
//! let claims = fbgate
//!     .verify_session_jwt(sign_in.session_jwt.expose(), "production")
//!     .await?;
//!
//! // Whenever the backend calls Facebook for that user:
//! let credential = fbgate
//!     .get_credential(&CredentialRequest::user("facebook", &claims.sub))
//!     .await?;
//! let _token: &str = credential.access_token.expose();
//! # Ok(())
//! # }
//! ```
//!
//! # The credential cache
//!
//! Backends tend to ask for the same token on every Graph call, so [`Client::get_credential`]
//! keeps each credential it fetched in memory, keyed by the whole [`CredentialRequest`], and
//! serves it from there without asking fbgate while **both** of these hold:
//!
//! - the token is not within the **expiry margin** of its `expires_at` (or of its
//!   `data_access_expires_at`, whichever comes first); default 5 minutes, so a token is never
//!   handed out in the last minutes of its life;
//! - the entry is younger than the **maximum age**, default 5 minutes. fbgate learns of
//!   revocations (a person removing the app, a password change) through Facebook's callbacks and
//!   its health checks; the maximum age bounds how long this process can go on using a token
//!   fbgate already knows to be dead. Tokens that never expire (page and system-user tokens) are
//!   bounded by the maximum age alone.
//!
//! Anything else goes to fbgate. An answer of 404 (`credential_not_found`) or 409
//! (`credential_revoked`, `credential_expired`, `credential_invalid`) removes the entry and is
//! returned as the error. When Facebook itself refuses a token you got from the cache (an
//! `OAuthException` with code 190), call [`Client::invalidate`] and fetch again: the next answer
//! comes from fbgate and says what happened.
//!
//! The cache is shared by all clones of a [`Client`], safe to use from many tasks at once, bounded
//! in size ([`ClientBuilder::credential_cache_capacity`], default 10 000 entries), and held only
//! in this process's memory. Concurrent misses for the same key may each ask fbgate; that costs
//! one fast request each and never serves a wrong token. Configure it, or turn it off, with
//! [`Client::builder`]:
//!
//! ```no_run
//! use std::time::Duration;
//!
//! # fn demo() -> Result<(), fbgate_client::Error> {
//! let fbgate = fbgate_client::Client::builder("https://fbgate.example.com", "sk_live_…")
//!     .credential_cache_margin(Duration::from_secs(10 * 60))
//!     .credential_cache_max_age(Duration::from_secs(60))
//!     .build()?;
//! let uncached = fbgate_client::Client::builder("https://fbgate.example.com", "sk_live_…")
//!     .disable_credential_cache()
//!     .build()?;
//! # Ok(())
//! # }
//! ```
//!
//! # Session JWT keys
//!
//! The environment's public keys (`GET /v1/.well-known/jwks.json?environment=<slug>`) are cached
//! for 10 minutes ([`ClientBuilder::jwks_cache_ttl`]). A token whose `kid` is not among them
//! causes one fresh fetch, at most once per 30 seconds per environment
//! ([`ClientBuilder::jwks_min_refetch_interval`]), so keys that fbgate rotated in are picked up at
//! once while a flood of forged tokens with made-up key ids cannot turn into a flood of fetches.
//! When fbgate cannot be reached as the keys come due for a refresh, the keys already fetched go
//! on verifying tokens (at most one refresh is tried per interval), so an outage of fbgate does
//! not sign everybody out.

mod cache;
mod credentials;
mod error;
mod secret;
mod session_jwt;
mod sign_in;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

pub use credentials::{Credential, CredentialFor, CredentialRequest, CredentialStatus, TokenType};
pub use error::Error;
pub use secret::Secret;
pub use session_jwt::{JwtError, SessionClaims};
pub use sign_in::{Identity, SignIn, User};

use cache::{CacheSettings, CredentialCache};
use session_jwt::JwksCache;

/// A client for one fbgate environment, authenticated by its secret key.
///
/// Cheap to clone: clones share the connection pool and the caches. `Send + Sync`, so keep one in
/// your application state.
///
/// ```no_run
/// # fn demo() -> Result<(), fbgate_client::Error> {
/// let fbgate = fbgate_client::Client::new("https://fbgate.example.com", "sk_live_…")?;
/// let for_a_task = fbgate.clone();
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    base: Url,
    secret_key: Secret,
    issuer: String,
    http: reqwest::Client,
    credentials: CredentialCache,
    jwks: JwksCache,
    jwt_leeway: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .field("secret_key", &"[redacted]")
            .field("issuer", &self.inner.issuer)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the fbgate at `base_url` (its public URL, such as
    /// `https://fbgate.example.com`), acting with `secret_key`, with the default settings.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), fbgate_client::Error> {
    /// let fbgate = fbgate_client::Client::new("https://fbgate.example.com", "sk_live_…")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(base_url: &str, secret_key: impl Into<String>) -> Result<Self, Error> {
        Self::builder(base_url, secret_key).build()
    }

    /// A builder to change the defaults: caches, timeout, expected issuer.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # fn demo() -> Result<(), fbgate_client::Error> {
    /// let fbgate = fbgate_client::Client::builder("https://fbgate.example.com", "sk_live_…")
    ///     .timeout(Duration::from_secs(5))
    ///     .credential_cache_max_age(Duration::from_secs(60))
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(base_url: &str, secret_key: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.to_owned(),
            secret_key: Secret::new(secret_key),
            timeout: Duration::from_secs(30),
            cache: CacheSettings::default(),
            jwks_ttl: Duration::from_secs(10 * 60),
            jwks_refetch_interval: Duration::from_secs(30),
            jwt_leeway: Duration::from_secs(30),
            issuer: None,
        }
    }

    /// The issuer that session JWTs must name in `iss`.
    pub fn expected_issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Checks that fbgate is ready (database reachable, migrations applied).
    ///
    /// ```no_run
    /// # async fn demo(fbgate: fbgate_client::Client) -> Result<(), fbgate_client::Error> {
    /// fbgate.ready().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn ready(&self) -> Result<(), Error> {
        let response = self
            .inner
            .http
            .get(self.url("readyz")?)
            .bearer_auth(self.inner.secret_key.expose())
            .send()
            .await?;
        error::check(response).await.map(drop)
    }

    /// The URL of an API path, relative to the base (no leading slash), so a base URL with a
    /// path prefix keeps it.
    fn url(&self, path: &str) -> Result<Url, Error> {
        self.inner
            .base
            .join(path)
            .map_err(|e| Error::InvalidBaseUrl(e.to_string()))
    }

    /// POSTs `body` as JSON with the secret key and returns the 2xx answer.
    async fn post_json<B: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<reqwest::Response, Error> {
        let response = self
            .inner
            .http
            .post(self.url(path)?)
            .bearer_auth(self.inner.secret_key.expose())
            .json(body)
            .send()
            .await?;
        error::check(response).await
    }
}

/// Settings of a [`Client`]; made by [`Client::builder`].
#[derive(Debug)]
#[must_use = "call .build() to get a Client"]
pub struct ClientBuilder {
    base_url: String,
    secret_key: Secret,
    timeout: Duration,
    cache: CacheSettings,
    jwks_ttl: Duration,
    jwks_refetch_interval: Duration,
    jwt_leeway: Duration,
    issuer: Option<String>,
}

impl ClientBuilder {
    /// Timeout of each HTTP request to fbgate (default 30 seconds).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long before a token's expiry the cache stops serving it (default 5 minutes). A token
    /// that is already within the margin when fetched is not cached at all.
    pub fn credential_cache_margin(mut self, margin: Duration) -> Self {
        self.cache.expiry_margin = margin;
        self
    }

    /// The longest time a credential is served from the cache, whatever its expiry (default 5
    /// minutes). Zero turns the cache off.
    pub fn credential_cache_max_age(mut self, max_age: Duration) -> Self {
        self.cache.max_age = max_age;
        self
    }

    /// The most credentials kept at once (default 10 000). When full, expired entries go first,
    /// then the ones closest to leaving.
    pub fn credential_cache_capacity(mut self, entries: usize) -> Self {
        self.cache.capacity = entries;
        self
    }

    /// Every [`Client::get_credential`] asks fbgate.
    pub fn disable_credential_cache(mut self) -> Self {
        self.cache.max_age = Duration::ZERO;
        self
    }

    /// How long an environment's public keys are kept (default 10 minutes).
    pub fn jwks_cache_ttl(mut self, ttl: Duration) -> Self {
        self.jwks_ttl = ttl;
        self
    }

    /// The shortest time between two key fetches caused by a token with an unknown `kid`
    /// (default 30 seconds).
    pub fn jwks_min_refetch_interval(mut self, interval: Duration) -> Self {
        self.jwks_refetch_interval = interval;
        self
    }

    /// Clock skew tolerated when checking a session JWT's `exp` and `iat` (default 30 seconds).
    pub fn jwt_leeway(mut self, leeway: Duration) -> Self {
        self.jwt_leeway = leeway;
        self
    }

    /// The `iss` that session JWTs must carry: fbgate's public URL (`FBGATE_PUBLIC_URL`). Default:
    /// the base URL without its trailing slash, right when the backend reaches fbgate at its
    /// public URL; set it when the backend uses an internal address instead.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The client.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), fbgate_client::Error> {
    /// let fbgate = fbgate_client::Client::builder("http://10.0.0.5:8080", "sk_live_…")
    ///     .issuer("https://fbgate.example.com")
    ///     .build()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn build(self) -> Result<Client, Error> {
        let base = normalized_base(&self.base_url)?;
        let issuer = self
            .issuer
            .unwrap_or_else(|| base.as_str().trim_end_matches('/').to_owned());
        let http = reqwest::Client::builder().timeout(self.timeout).build()?;
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                secret_key: self.secret_key,
                issuer,
                http,
                credentials: CredentialCache::new(self.cache),
                jwks: JwksCache::new(self.jwks_ttl, self.jwks_refetch_interval),
                jwt_leeway: self.jwt_leeway,
            }),
        })
    }
}

/// Parses the base URL and makes its path end in `/`, so API paths join below it.
fn normalized_base(base_url: &str) -> Result<Url, Error> {
    let mut base = Url::parse(base_url).map_err(|e| Error::InvalidBaseUrl(e.to_string()))?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(Error::InvalidBaseUrl(
            "scheme must be http or https".to_owned(),
        ));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(Error::InvalidBaseUrl(
            "the base URL takes no query or fragment".to_owned(),
        ));
    }
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key_and_bad_urls_are_refused() {
        let client = Client::new("http://127.0.0.1:8080", "sk_test_secret").unwrap();
        assert!(!format!("{client:?}").contains("sk_test_secret"));
        assert!(Client::new("not a url", "k").is_err());
        assert!(Client::new("ftp://example.com", "k").is_err());
        assert!(Client::new("https://example.com/?x=1", "k").is_err());
    }

    #[test]
    fn the_default_issuer_is_the_base_url_without_its_trailing_slash() {
        let client = Client::new("http://127.0.0.1:8080/", "k").unwrap();
        assert_eq!(client.expected_issuer(), "http://127.0.0.1:8080");
        let client = Client::new("https://example.com/fbgate", "k").unwrap();
        assert_eq!(client.expected_issuer(), "https://example.com/fbgate");
        assert_eq!(
            client.url("v1/credentials/get").unwrap().as_str(),
            "https://example.com/fbgate/v1/credentials/get"
        );
    }

    #[test]
    fn a_configured_issuer_wins() {
        let client = Client::builder("http://10.0.0.5:8080", "k")
            .issuer("https://fbgate.example.com")
            .build()
            .unwrap();
        assert_eq!(client.expected_issuer(), "https://fbgate.example.com");
    }

    #[test]
    fn the_client_can_be_shared_between_tasks() {
        fn shareable<T: Clone + Send + Sync + 'static>() {}
        shareable::<Client>();
    }
}
