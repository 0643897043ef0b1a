//! The Facebook emulator as `fbgate dev` and `fbgate sim` run it. TEMPORARY STUB while crates/sim lands.

use std::future::Future;

use tokio::net::TcpListener;

pub const DEMO_APP_ID: &str = "1000000000000001";
pub const DEMO_APP_SECRET: &str = "sim-demo-app-secret-0001";

pub async fn serve(listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) {
    let _ = axum::serve(listener, axum::Router::new())
        .with_graceful_shutdown(shutdown)
        .await;
}
