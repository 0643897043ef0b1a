//! Integration tests of `fbgate-facebook`: one binary. `fake` scripts exact answers for client
//! mechanics; the `sim_*` modules drive every call against the real emulator over loopback.

// clippy.toml allows these inside #[test] functions only; the helpers here are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batch;
mod fake;
mod sim;
mod sim_batch;
mod sim_callbacks;
mod sim_graph;
mod sim_login;
mod transport;
