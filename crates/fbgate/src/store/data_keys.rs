//! Queries on `data_keys`: the keys that encrypt credentials and client secrets.

use time::OffsetDateTime;

use super::{Store, StoreError, conflict_on_unique, with_pool};

/// A row of `data_keys`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DataKeyRow {
    /// `dk_…`, written into every envelope the key seals.
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// `environment` or `tenant:<tenant_id>`.
    pub scope: String,
    /// The data key sealed by the environment key.
    pub wrapped_key: Vec<u8>,
    /// Id of the environment key that sealed it.
    pub wrapping_key_id: String,
    /// Whether new values are sealed with this key.
    pub active: bool,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, environment_id, scope, wrapped_key, wrapping_key_id, active, created_at FROM data_keys ",
            $rest
        )
    };
}

impl Store {
    /// The key that seals new values of a scope, if one exists yet.
    pub async fn active_data_key(
        &self,
        environment_id: &str,
        scope: &str,
    ) -> Result<Option<DataKeyRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE environment_id = $1 AND scope = $2 AND active")).bind(environment_id).bind(scope).fetch_optional(pool).await?
        }))
    }

    /// Reads a data key by id, within its environment.
    pub async fn get_data_key(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<DataKeyRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE environment_id = $1 AND id = $2")).bind(environment_id).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Stores a new active data key. Fails with `Conflict` when the scope already has one
    /// (another request created it first).
    pub async fn insert_data_key(&self, key: &DataKeyRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO data_keys (id, environment_id, scope, wrapped_key, wrapping_key_id, active, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&key.id)
            .bind(&key.environment_id)
            .bind(&key.scope)
            .bind(&key.wrapped_key)
            .bind(&key.wrapping_key_id)
            .bind(key.active)
            .bind(key.created_at)
            .execute(pool)
            .await
            .map_err(conflict_on_unique("data key scope"))?;
        });
        Ok(())
    }

    /// Deletes every data key of a scope: whatever they sealed can never be opened again.
    pub async fn delete_data_keys(
        &self,
        environment_id: &str,
        scope: &str,
    ) -> Result<u64, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM data_keys WHERE environment_id = $1 AND scope = $2")
                .bind(environment_id)
                .bind(scope)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }
}
