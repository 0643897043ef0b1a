//! Queries on `api_keys`.

use time::OffsetDateTime;

use super::{Store, StoreError, conflict_on_unique, with_pool};

/// Secret keys act for the backend; publishable keys may only start sign-in flows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ApiKeyKind {
    /// `sk_live_…` / `sk_test_…`
    Secret,
    /// `pk_live_…` / `pk_test_…`
    Publishable,
}

impl ApiKeyKind {
    /// The value stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyKind::Secret => "secret",
            ApiKeyKind::Publishable => "publishable",
        }
    }

    /// Parses the `kind` column.
    pub fn from_column(value: &str) -> Option<Self> {
        match value {
            "secret" => Some(ApiKeyKind::Secret),
            "publishable" => Some(ApiKeyKind::Publishable),
            _ => None,
        }
    }
}

/// A row of `api_keys`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    /// `key_…`
    pub id: String,
    /// The environment the key acts in.
    pub environment_id: String,
    /// `secret` or `publishable`.
    pub kind: String,
    /// First characters of the key, for display.
    pub prefix: String,
    /// SHA-256 of the key.
    pub key_hash: Vec<u8>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Set once the key is revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, environment_id, kind, prefix, key_hash, created_at, revoked_at FROM api_keys ",
            $rest
        )
    };
}

/// The INSERT of one `api_keys` row, shared by `insert_api_key` and environment creation.
macro_rules! insert_api_key {
    ($key:expr) => {
        sqlx::query(
            "INSERT INTO api_keys (id, environment_id, kind, prefix, key_hash, created_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&$key.id)
        .bind(&$key.environment_id)
        .bind(&$key.kind)
        .bind(&$key.prefix)
        .bind(&$key.key_hash)
        .bind($key.created_at)
        .bind($key.revoked_at)
    };
}
pub(super) use insert_api_key;

impl Store {
    /// Adds a key to an existing environment.
    pub async fn insert_api_key(&self, key: &ApiKeyRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            insert_api_key!(key)
                .execute(pool)
                .await
                .map_err(conflict_on_unique("key"))?;
        });
        Ok(())
    }

    /// Finds a key by the SHA-256 of its text, revoked or not.
    pub async fn find_api_key_by_hash(&self, hash: &[u8]) -> Result<Option<ApiKeyRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE key_hash = $1")).bind(hash).fetch_optional(pool).await?
        }))
    }

    /// Lists the keys of one environment, oldest first.
    pub async fn list_api_keys(&self, environment_id: &str) -> Result<Vec<ApiKeyRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE environment_id = $1 ORDER BY created_at, id")).bind(environment_id).fetch_all(pool).await?
        }))
    }

    /// Reads one key of one environment.
    pub async fn get_api_key(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<ApiKeyRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE environment_id = $1 AND id = $2")).bind(environment_id).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Marks a key revoked; returns false when no such key exists in that environment.
    pub async fn revoke_api_key(
        &self,
        environment_id: &str,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1)
                 WHERE environment_id = $2 AND id = $3",
            )
            .bind(now)
            .bind(environment_id)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }
}
