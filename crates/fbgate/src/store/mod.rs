//! Storage: one `Store` over SQLite or PostgreSQL.
//!
//! Every query of fbgate lives in this module, grouped by table. Queries are written once, with
//! `$1`-style parameters that both engines accept, and run on whichever pool is configured through
//! the `with_pool!` macro: it expands the same code once per engine, so each is type-checked by
//! sqlx for that driver while the SQL text and the bind list exist a single time. Where the engines
//! really differ (locking, upserts), the two statements sit side by side in the same function.
//!
//! Times are always passed in from the application's clock, never taken from the database, so the
//! two engines behave the same and tests can move time.

mod api_keys;
mod avatars;
mod bulk;
mod compliance;
mod connections;
pub(crate) mod credentials;
mod data_keys;
pub mod data_rotation;
mod environments;
mod flows;
mod health;
mod identities;
pub(crate) mod jobs;
mod link_tickets;
mod migrate;
pub(crate) mod outbox;
mod providers;
mod sessions;
mod users;
pub(crate) mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub use api_keys::{ApiKeyKind, ApiKeyRow};
pub use avatars::AvatarRow;
pub use compliance::{AuditRow, DeletionRequestRow, ErasureWrite, UserFate};
pub use connections::{ConnectSessionRow, ConnectionRow, ConnectionWrite};
pub use credentials::CredentialRow;
pub use data_keys::DataKeyRow;
pub use environments::{EnvironmentRow, WrappedEnvironmentKey};
pub use flows::{AuthAttemptRow, RedeemedCode, SignInCodeRow, SignInSubject, SignInWrite};
pub use health::CheckWrite;
pub use identities::IdentityRow;
pub use jobs::JobRow;
pub use link_tickets::LinkTicketRow;
pub use migrate::PendingMigration;
pub use outbox::OutboxEventRow;
pub use providers::ProviderRow;
pub use sessions::{SessionRow, SigningKeyRow};
pub use users::UserRow;
pub use webhooks::{
    DeliveryAttemptWrite, PendingDeliveryRow, WebhookDeliveryRow, WebhookEndpointRow,
};

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL scheme (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    /// A unique constraint rejected the write.
    #[error("a row with the same {0} already exists")]
    Conflict(&'static str),
    /// A migration failed or the applied set does not match this binary's.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The SQLite database's folder could not be created.
    #[error("cannot create the database folder: {0}")]
    Io(#[from] std::io::Error),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Database(error)
    }
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`], anything else to `Database`.
pub(crate) fn conflict_on_unique(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(error),
    }
}

/// The database engine behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Embedded SQLite: one node.
    Sqlite,
    /// PostgreSQL: any number of fbgate replicas.
    Postgres,
}

#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same code on whichever pool the store holds; `$pool` is bound to the typed pool.
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// WAL pages (4 KiB each) after which a committing SQLite connection checkpoints.
const SQLITE_WAL_AUTOCHECKPOINT_PAGES: &str = "10000";

/// A pooled PostgreSQL connection idle for this long is pinged before it is used again.
const PG_PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(5);

/// Options for opening a [`Store`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://path`, `sqlite::memory:` or `postgres://...`.
    pub url: String,
    /// Upper bound of pooled connections (SQLite uses it for readers).
    pub max_connections: u32,
}

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) db: Db,
}

impl Store {
    /// Opens (and for SQLite, creates) the database. Does not run migrations.
    pub async fn connect(options: &StoreOptions) -> Result<Self, StoreError> {
        let url = options.url.as_str();
        let db = if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
                // Deleted rows (tokens, profiles erased on a data-deletion request) are
                // overwritten on disk instead of lingering in free pages.
                .pragma("secure_delete", "on")
                // A checkpoint (copying the WAL back into the database file, then an fsync) after
                // every 4 MB of WAL, SQLite's default, was a tenth of fbgate's CPU under a sign-in
                // load: every flow writes a few pages, so it came every few dozen flows. After
                // 40 MB it comes ten times less often, and copies each page changed in between
                // once however often it changed.
                .pragma("wal_autocheckpoint", SQLITE_WAL_AUTOCHECKPOINT_PAGES);
            let file = connect.get_filename();
            if let Some(parent) = file.parent()
                && !parent.as_os_str().is_empty()
                && !url.contains(":memory:")
            {
                std::fs::create_dir_all(parent)?;
            }
            // No liveness ping before each use: an embedded database does not drop connections,
            // and with SQLite every statement is a hop to a worker thread.
            let pool = SqlitePoolOptions::new()
                .test_before_acquire(false)
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(connect)
                .await?;
            Db::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let connect = PgConnectOptions::from_str(url)?;
            // sqlx already pings every connection when it goes back to the pool, so one that
            // was in use moments ago is known to be alive; a ping before each use as well would
            // be one more round trip per checkout. Only a connection that sat idle long enough
            // for the server or a proxy to have dropped it is pinged before it is handed out.
            let pool = PgPoolOptions::new()
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PG_PING_WHEN_IDLE_FOR {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(connect)
                .await?;
            Db::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        Ok(Self { db })
    }

    /// Which engine this store runs on.
    pub fn engine(&self) -> Engine {
        match self.db {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Checks that the database answers a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every pooled connection, waiting for those in use.
    pub async fn close(&self) {
        with_pool!(&self.db, pool => pool.close().await);
    }
}
