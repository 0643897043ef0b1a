//! The application: configuration in, a bound server out.
//!
//! `Application::build` does everything that can fail before serving (open the database, apply or
//! check migrations, load the master key, bind the socket), so a bad setting stops the process
//! at start with a clear message instead of at the first request. Tests build the same
//! application on port 0.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::domain::avatars::FileAvatarStore;
use crate::domain::{Context, api_keys};
use crate::http::{self, AppState};
use crate::jobs;
use crate::store::{PendingMigration, Store, StoreError, StoreOptions};
use crate::vault::{MasterKey, Vault, VaultError};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No master key and no permission to run without one.
    #[error(
        "no master key: set FBGATE_MASTER_KEY or FBGATE_MASTER_KEY_FILE (generate one with \
         `fbgate keys generate`), or pass --insecure-dev-key to use a generated key file"
    )]
    NoMasterKey,
    /// The master key setting is unusable.
    #[error("FBGATE_MASTER_KEY: {0}")]
    MasterKey(#[source] VaultError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// `--no-migrate` was given and the database is behind this binary.
    #[error("{} migration(s) pending: {}; run `fbgate migrate` or start without --no-migrate",
        .0.len(), .0.iter().map(|m| format!("{} {}", m.version, m.description)).collect::<Vec<_>>().join(", "))]
    PendingMigrations(Vec<PendingMigration>),
    /// The metrics recorder could not be installed.
    #[error("could not install the metrics recorder")]
    Metrics,
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// How to treat pending migrations at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrations {
    /// Apply them (the default).
    Apply,
    /// Refuse to start while any is pending.
    Refuse,
}

/// A built, bound, not yet serving fbgate.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState,
    router: axum::Router,
}

/// Opens the store described by `config`.
pub async fn open_store(config: &Config) -> Result<Store, StoreError> {
    Store::connect(&StoreOptions {
        url: config.database_url.expose().clone(),
        max_connections: config.database_max_connections,
    })
    .await
}

impl Application {
    /// Builds the application from `config`, applying migrations first.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        Self::build_with(config, Migrations::Apply, Arc::new(SystemClock)).await
    }

    /// Builds the application with explicit migration handling and clock.
    pub async fn build_with(
        config: Config,
        migrations: Migrations,
        clock: SharedClock,
    ) -> Result<Self, StartError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        Self::build_on(config, listener, migrations, clock).await
    }

    /// Builds the application on an already bound listener (tests bind first, to know the port
    /// that goes into the public URL).
    pub async fn build_on(
        config: Config,
        listener: TcpListener,
        migrations: Migrations,
        clock: SharedClock,
    ) -> Result<Self, StartError> {
        let master_key = match &config.master_key {
            Some(text) => MasterKey::from_base64(text.expose()).map_err(StartError::MasterKey)?,
            None => return Err(StartError::NoMasterKey),
        };
        let store = open_store(&config).await?;
        match migrations {
            Migrations::Apply => store.migrate().await?,
            Migrations::Refuse => {
                let pending = store.pending_migrations().await?;
                if !pending.is_empty() {
                    return Err(StartError::PendingMigrations(pending));
                }
            }
        }
        let vault = Vault::new(master_key, store.clone());
        let metrics = http::metrics_handle().ok_or(StartError::Metrics)?;
        let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        let admin_token_hash = config
            .admin_token
            .as_ref()
            .map(|token| api_keys::hash_key(token.expose()));
        let state = AppState {
            ctx: Context::new(
                store,
                vault,
                clock,
                config.domain_settings(),
                Arc::new(FileAvatarStore::in_data_dir(&config.data_dir)),
            ),
            config: Arc::new(config),
            metrics,
            admin_token_hash,
            demo: None,
        };
        let router = http::router(state.clone());
        Ok(Self {
            listener,
            local_addr,
            state,
            router,
        })
    }

    /// Serves the `/demo` app (for `fbgate dev`).
    pub fn with_demo(mut self, demo: http::demo::DemoSettings) -> Self {
        self.state.demo = Some(Arc::new(demo));
        self.router = http::router(self.state.clone());
        self
    }

    /// The address the server is bound to (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The domain context, for commands that run next to the server (such as `fbgate dev`).
    pub fn context(&self) -> &Context {
        &self.state.ctx
    }

    /// Serves until Ctrl-C or SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_with_shutdown(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_with_shutdown(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.state.ctx.store.clone();
        let metrics = self.state.metrics.clone();
        let runner = tokio::spawn(
            jobs::Runner::new(
                self.state.ctx.clone(),
                jobs::registry(),
                self.state.config.jobs_poll_interval,
            )
            .run(),
        );
        let health = tokio::spawn(
            crate::domain::credentials::health::Checker::new(self.state.ctx.clone()).run(),
        );
        let upkeep = tokio::spawn(async move {
            let mut interval = tokio::time::interval(http::METRICS_UPKEEP);
            loop {
                interval.tick().await;
                metrics.run_upkeep();
            }
        });
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        upkeep.abort();
        health.abort();
        runner.abort();
        store.close().await;
        served
    }
}

/// Completes on Ctrl-C, or on SIGTERM on Unix.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
