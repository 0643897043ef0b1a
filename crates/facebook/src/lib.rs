//! A typed client for the parts of Facebook Login and the Graph API that fbgate uses.
//!
//! It builds the login dialog URL (with PKCE, `auth_type`, Login for Business `config_id`),
//! parses the callback, exchanges codes, reads `debug_token`, `/me`, permissions and Pages,
//! manages system-user tokens, sends batches, verifies `signed_request`, and turns Facebook's
//! error object into an [`ErrorKind`] the caller can act on. Every token-bearing call carries
//! `appsecret_proof`; reads are retried with jittered backoff, code exchanges and writes never.
//! Secrets live in types whose `Debug` prints `<redacted>`.
//!
//! Base URLs are parameters of [`FacebookApp`], so the same code runs against the real
//! Facebook, the `fbgate-sim` emulator, or a test server. The crate knows nothing of databases
//! or servers.
//!
//! # Example
//!
//! ```no_run
//! use fbgate_facebook::{
//!     CallbackOutcome, CodeExchange, ErrorKind, Facebook, FacebookApp, LoginCallback, PkceVerifier,
//! };
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let app = FacebookApp::new("1234567890123456", "app-secret");
//! let facebook = Facebook::new(app)?;
//!
//! // 1. Send the browser to the dialog.
//! let verifier = PkceVerifier::generate();
//! let dialog = facebook
//!     .app()
//!     .login_dialog("https://app.example.com/callback", "random-state")
//!     .scopes(["public_profile", "email"])
//!     .pkce(&verifier)
//!     .url();
//! println!("redirect to {dialog}");
//!
//! // 2. Facebook redirects back; read the callback.
//! let callback = LoginCallback::parse("https://app.example.com/callback?code=AQD&state=random-state#_=_")?;
//! let CallbackOutcome::Code { code, .. } = callback.outcome else {
//!     return Ok(()); // the user cancelled
//! };
//!
//! // 3. Exchange the code (once), confirm the token, read the profile.
//! let exchange = CodeExchange {
//!     redirect_uri: Some("https://app.example.com/callback"),
//!     code_verifier: Some(&verifier),
//!     ..CodeExchange::default()
//! };
//! let short = facebook.exchange_code(&code, exchange).await?;
//! let info = facebook.debug_token(&short.access_token).await?;
//! assert!(info.is_valid && info.is_for_app(&facebook.app().app_id));
//! let long = facebook.exchange_long_lived(&short.access_token).await?;
//! match facebook.me(&long.access_token, &[]).await {
//!     Ok(profile) => println!("signed in as {}", profile.id),
//!     Err(error) if matches!(error.kind(), ErrorKind::Auth { .. }) => println!("log in again"),
//!     Err(error) => return Err(error.into()),
//! }
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod app;
mod batch;
mod callback;
mod client;
mod de;
mod error;
mod graph;
mod login;
mod model;
mod oauth;
mod proof;
mod retry;
mod secret;
mod signed_request;
mod token;
mod usage;

pub use app::*;
pub use batch::*;
pub use callback::*;
pub use client::*;
pub use error::*;
pub use graph::*;
pub use login::*;
pub use model::*;
pub use oauth::*;
pub use proof::*;
pub use retry::*;
pub use secret::*;
pub use signed_request::*;
pub use token::*;
pub use usage::*;
