//! The router and a background server for tests and for `fbgate sim`.

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::state::{Sim, SimConfig};
use crate::{dialog, graph, oidc};

/// Every Facebook endpoint and the `/_sim/` control API, on one origin.
pub fn router(sim: Sim) -> Router {
    Router::new()
        .route("/dialog/oauth", get(dialog::show))
        .route("/dialog/oauth/", get(dialog::show))
        .route("/{version}/dialog/oauth", get(dialog::show))
        .route("/{version}/dialog/oauth/", get(dialog::show))
        .route("/dialog/oauth/confirm", post(dialog::confirm))
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/.well-known/openid-configuration/", get(oidc::discovery))
        .route("/.well-known/oauth/openid/jwks", get(oidc::jwks))
        .route("/.well-known/oauth/openid/jwks/", get(oidc::jwks))
        .merge(crate::control::routes())
        .fallback(graph::entry)
        .with_state(sim)
}

/// Serves the emulator on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    sim: Sim,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(sim))
        .with_graceful_shutdown(shutdown)
        .await
}

/// An emulator listening on `127.0.0.1` at a free port, served by a background task.
///
/// Dropping it stops the server (the task is aborted); `shutdown().await` stops it gracefully.
#[derive(Debug)]
pub struct SimServer {
    sim: Sim,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl SimServer {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(config: SimConfig) -> std::io::Result<SimServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let sim = Sim::new(config);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, sim.clone(), async move {
            let _ = stopped.await;
        }));
        Ok(SimServer {
            sim,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The emulator's state.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// Stops accepting connections and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
