//! The emulator driven over HTTP on port 0, as its users drive it.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batch_and_faults;
mod business;
mod callbacks;
mod control;
mod dialog;
mod errors;
mod graph;
mod helpers;
mod oauth;
mod oidc;
mod pages;
mod persist;
mod request_log;
mod requests;
mod vectors;
