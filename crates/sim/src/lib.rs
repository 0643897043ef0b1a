//! A faithful local Facebook: the login dialog, the Graph endpoints fbgate uses, and a JSON
//! control API under `/_sim/` that drives time, faults and user actions.
//!
//! Everything is served from one origin, so one base URL stands in for both
//! `www.facebook.com` (the dialog) and `graph.facebook.com` (the Graph API). State lives in
//! memory behind a lock; the hot path (`GET /me`) only takes a read lock. This crate shares no
//! code with `fbgate-facebook` on purpose: a misunderstanding of Facebook in one must not hide
//! itself by being reused in the other.

mod callbacks;
mod clock;
mod control;
pub mod crypto;
mod dialog;
mod graph;
mod ids;
mod model;
mod oidc;
mod openapi;
mod persist;
pub mod requests;
mod seed;
mod server;
mod state;

pub use clock::Clock;
pub use seed::{
    DEMO_APP_ID, DEMO_APP_NAME, DEMO_APP_SECRET, DEMO_BUSINESS_CONFIG_ID, DEMO_BUSINESS_ID,
    DEMO_PAGE_IDS, DEMO_SYSTEM_USER_ID, DEMO_USER_ADA, DEMO_USER_CONFIG_ID, DEMO_USER_NOMAIL,
    DEMO_USER_PAGE_OWNER,
};
pub use server::{SimServer, router, serve};
pub use state::{Sim, SimConfig};

/// Graph API version the emulator reports for unversioned calls.
pub const DEFAULT_GRAPH_VERSION: &str = "v21.0";
