//! Schema migrations, embedded in the binary: one folder per engine, identical versions.

use sqlx::migrate::{Migrate, Migrator};

use super::{Db, Store, StoreError, with_pool};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// A migration this binary knows and the database has not applied yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMigration {
    /// The numeric version (the file name's prefix).
    pub version: i64,
    /// The description (the rest of the file name).
    pub description: String,
}

impl Store {
    fn migrator(&self) -> &'static Migrator {
        match self.db {
            Db::Sqlite(_) => &SQLITE,
            Db::Postgres(_) => &POSTGRES,
        }
    }

    /// Applies every pending migration. Safe to run concurrently from several processes: sqlx
    /// takes an advisory lock on PostgreSQL, and SQLite serialises writers.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = self.migrator();
        with_pool!(&self.db, pool => migrator.run(pool).await?);
        Ok(())
    }

    /// Lists the migrations this binary carries that the database has not applied.
    pub async fn pending_migrations(&self) -> Result<Vec<PendingMigration>, StoreError> {
        let migrator = self.migrator();
        let applied = with_pool!(&self.db, pool => {
            let mut conn = pool.acquire().await?;
            conn.ensure_migrations_table(MIGRATIONS_TABLE).await?;
            conn.list_applied_migrations(MIGRATIONS_TABLE).await?
        });
        Ok(migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .map(|m| PendingMigration {
                version: m.version,
                description: m.description.to_string(),
            })
            .collect())
    }
}
