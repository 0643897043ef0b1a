//! fbgate's integration tests: one binary that starts the real server on port 0 and talks HTTP
//! to it the way clients do. Tests that touch storage run once on SQLite and once on PostgreSQL
//! (the latter when `FBGATE_TEST_POSTGRES_URL` is set, as CI always does).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod account;
mod api_keys;
mod avatars;
mod callbacks;
mod cli;
mod connections;
mod data_key_rotation;
mod deletion_crash;
mod dev;
mod environments;
mod errors;
mod facebook;
mod health;
mod jobs;
mod native_sign_in;
mod no_leaks;
mod operations;
mod providers;
mod sdk;
mod sign_in;
mod users_and_sessions;
mod vault;
mod webhooks;
mod webhooks_crash;
