//! The Facebook emulator as `fbgate dev` and `fbgate sim` run it.

use std::future::Future;

use tokio::net::TcpListener;

pub use fbgate_sim::{DEMO_APP_ID, DEMO_APP_SECRET};

/// Serves a freshly seeded emulator on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sim = fbgate_sim::Sim::new(fbgate_sim::SimConfig::default());
    fbgate_sim::serve(listener, sim, shutdown).await
}
