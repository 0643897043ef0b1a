//! Queries on `environments`.

use time::OffsetDateTime;

use super::{ApiKeyRow, Store, StoreError, conflict_on_unique, with_pool};

/// A row of `environments`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnvironmentRow {
    /// `env_…`
    pub id: String,
    /// Unique, URL-safe name chosen by the operator.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// `live` or `test`: decides the prefix of the environment's API keys.
    pub mode: String,
    /// Id of the environment key (`ek_…`).
    pub key_id: String,
    /// The environment key sealed by the master key.
    pub wrapped_key: Vec<u8>,
    /// Id of the master key that sealed `wrapped_key`.
    pub master_key_id: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// An environment key as stored: which key it is, and the envelope holding it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WrappedEnvironmentKey {
    /// The environment's id.
    pub id: String,
    /// Id of the environment key.
    pub key_id: String,
    /// The sealed key.
    pub wrapped_key: Vec<u8>,
    /// Id of the master key that sealed it.
    pub master_key_id: String,
}

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, slug, name, mode, key_id, wrapped_key, master_key_id, created_at FROM environments ",
            $rest
        )
    };
}

impl Store {
    /// Inserts an environment together with its first API keys, atomically.
    pub async fn insert_environment(
        &self,
        env: &EnvironmentRow,
        keys: &[ApiKeyRow],
    ) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO environments (id, slug, name, mode, key_id, wrapped_key, master_key_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&env.id)
            .bind(&env.slug)
            .bind(&env.name)
            .bind(&env.mode)
            .bind(&env.key_id)
            .bind(&env.wrapped_key)
            .bind(&env.master_key_id)
            .bind(env.created_at)
            .execute(&mut *tx)
            .await
            .map_err(conflict_on_unique("slug"))?;
            for key in keys {
                super::api_keys::insert_api_key!(key).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Reads one environment by id.
    pub async fn get_environment(&self, id: &str) -> Result<Option<EnvironmentRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE id = $1")).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Reads one environment by slug.
    pub async fn get_environment_by_slug(
        &self,
        slug: &str,
    ) -> Result<Option<EnvironmentRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE slug = $1")).bind(slug).fetch_optional(pool).await?
        }))
    }

    /// Lists environments in creation order, `limit` rows after the one with id `after`.
    pub async fn list_environments(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EnvironmentRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE $1 IS NULL
                OR (created_at, id) > (SELECT created_at, id FROM environments WHERE id = $1)
             ORDER BY created_at, id
             LIMIT $2"))
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        }))
    }

    /// The sealed environment key of one environment.
    pub async fn environment_key(
        &self,
        environment_id: &str,
    ) -> Result<Option<WrappedEnvironmentKey>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, key_id, wrapped_key, master_key_id FROM environments WHERE id = $1",
            )
            .bind(environment_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Every environment key that is not sealed by `master_key_id` (the work left in a rotation).
    pub async fn environment_keys_not_sealed_by(
        &self,
        master_key_id: &str,
    ) -> Result<Vec<WrappedEnvironmentKey>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, key_id, wrapped_key, master_key_id FROM environments
                 WHERE master_key_id <> $1 ORDER BY id",
            )
            .bind(master_key_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Replaces a sealed environment key if it is still sealed by `previous_master_key_id`.
    /// Returns false when another process got there first (the rotation is then already done
    /// for this row).
    pub async fn reseal_environment_key(
        &self,
        environment_id: &str,
        previous_master_key_id: &str,
        wrapped_key: &[u8],
        master_key_id: &str,
    ) -> Result<bool, StoreError> {
        let result = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE environments SET wrapped_key = $1, master_key_id = $2
                 WHERE id = $3 AND master_key_id = $4",
            )
            .bind(wrapped_key)
            .bind(master_key_id)
            .bind(environment_id)
            .bind(previous_master_key_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(result == 1)
    }
}
