//! fbgate: a self-hosted broker between apps and Facebook.
//!
//! The library behind the `fbgate` binary. [`app::Application`] builds the server from a
//! [`config::Config`]; the modules follow the layers of `docs/architecture.md`: `http` (routes,
//! extractors, the one error mapping), `domain` (what fbgate does), `vault` (envelope
//! encryption), `store` (SQLite and PostgreSQL).

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod store;
pub mod telemetry;
pub mod vault;
