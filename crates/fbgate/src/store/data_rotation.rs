//! Queries of a data-key rotation: `data_key_rotations`, and the columns that hold values sealed
//! by an environment's data keys, read in batches and rewritten with a compare-and-set.
//!
//! Every rewrite is guarded by the ciphertext the rotation read (and, for credentials, the
//! version), so a concurrent writer that replaced the value, such as a sign-in storing a new
//! token, is never overwritten: the update changes no row and the caller reads the row again.

use time::OffsetDateTime;

use super::{DataKeyRow, Store, StoreError, conflict_on_unique, with_pool};

/// A row of `data_key_rotations`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DataKeyRotationRow {
    /// `dkr_…`
    pub id: String,
    /// The environment whose data keys are rotated.
    pub environment_id: String,
    /// When the new data keys were made.
    pub started_at: OffsetDateTime,
    /// When every value was re-encrypted; `None` while the rotation is in progress.
    pub finished_at: Option<OffsetDateTime>,
    /// Values re-encrypted so far, over every run of this rotation.
    pub rows_done: i64,
}

/// A column holding values sealed by an environment's data keys, which a rotation re-encrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedColumn {
    /// `credentials.token_ciphertext`: Facebook tokens, under the scope in `key_scope`.
    CredentialToken,
    /// `oauth_providers.client_secret_ciphertext`: Facebook app secrets, environment scope.
    ClientSecret,
    /// `webhook_endpoints.signing_secret`: webhook signing secrets, environment scope.
    WebhookSecret,
}

impl SealedColumn {
    /// Every column a rotation visits, in the order it visits them.
    pub const ALL: [SealedColumn; 3] = [
        SealedColumn::CredentialToken,
        SealedColumn::ClientSecret,
        SealedColumn::WebhookSecret,
    ];

    /// What the column holds, plural, for progress and summaries.
    pub fn label(self) -> &'static str {
        match self {
            SealedColumn::CredentialToken => "credentials",
            SealedColumn::ClientSecret => "client secrets",
            SealedColumn::WebhookSecret => "webhook signing secrets",
        }
    }
}

/// One sealed value as a rotation reads it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SealedValueRow {
    /// The row's id (part of the value's AAD).
    pub id: String,
    /// The data-key scope that seals it: `environment` or `tenant:<id>`.
    pub scope: String,
    /// The credential's version (part of its AAD); 0 for columns without one.
    pub version: i64,
    /// The envelope. Empty for a revoked credential whose token was destroyed.
    pub ciphertext: Vec<u8>,
}

// Client secrets and webhook secrets are always sealed by the environment-wide key and their AAD
// has no version; the constant columns let one row type serve all three tables.
const CREDENTIALS_AFTER: &str =
    "SELECT id, key_scope AS scope, version, token_ciphertext AS ciphertext
     FROM credentials
     WHERE environment_id = $1 AND id > $2 AND length(token_ciphertext) > 0
     ORDER BY id LIMIT $3";
const CLIENT_SECRETS_AFTER: &str =
    "SELECT id, 'environment' AS scope, CAST(0 AS BIGINT) AS version,
        client_secret_ciphertext AS ciphertext
     FROM oauth_providers
     WHERE environment_id = $1 AND id > $2
     ORDER BY id LIMIT $3";
const WEBHOOK_SECRETS_AFTER: &str =
    "SELECT id, 'environment' AS scope, CAST(0 AS BIGINT) AS version,
        signing_secret AS ciphertext
     FROM webhook_endpoints
     WHERE environment_id = $1 AND id > $2
     ORDER BY id LIMIT $3";

const CREDENTIAL_BY_ID: &str =
    "SELECT id, key_scope AS scope, version, token_ciphertext AS ciphertext
     FROM credentials WHERE environment_id = $1 AND id = $2";
const CLIENT_SECRET_BY_ID: &str = "SELECT id, 'environment' AS scope, CAST(0 AS BIGINT) AS version,
        client_secret_ciphertext AS ciphertext
     FROM oauth_providers WHERE environment_id = $1 AND id = $2";
const WEBHOOK_SECRET_BY_ID: &str =
    "SELECT id, 'environment' AS scope, CAST(0 AS BIGINT) AS version,
        signing_secret AS ciphertext
     FROM webhook_endpoints WHERE environment_id = $1 AND id = $2";

const COUNT_CREDENTIALS: &str =
    "SELECT COUNT(*) FROM credentials WHERE environment_id = $1 AND length(token_ciphertext) > 0";
const COUNT_CLIENT_SECRETS: &str = "SELECT COUNT(*) FROM oauth_providers WHERE environment_id = $1";
const COUNT_WEBHOOK_SECRETS: &str =
    "SELECT COUNT(*) FROM webhook_endpoints WHERE environment_id = $1";

impl SealedColumn {
    fn rows_after_sql(self) -> &'static str {
        match self {
            SealedColumn::CredentialToken => CREDENTIALS_AFTER,
            SealedColumn::ClientSecret => CLIENT_SECRETS_AFTER,
            SealedColumn::WebhookSecret => WEBHOOK_SECRETS_AFTER,
        }
    }

    fn row_sql(self) -> &'static str {
        match self {
            SealedColumn::CredentialToken => CREDENTIAL_BY_ID,
            SealedColumn::ClientSecret => CLIENT_SECRET_BY_ID,
            SealedColumn::WebhookSecret => WEBHOOK_SECRET_BY_ID,
        }
    }

    fn count_sql(self) -> &'static str {
        match self {
            SealedColumn::CredentialToken => COUNT_CREDENTIALS,
            SealedColumn::ClientSecret => COUNT_CLIENT_SECRETS,
            SealedColumn::WebhookSecret => COUNT_WEBHOOK_SECRETS,
        }
    }
}

impl Store {
    /// Every data key of an environment, active or not, by scope then age.
    pub async fn data_keys_of_environment(
        &self,
        environment_id: &str,
    ) -> Result<Vec<DataKeyRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, environment_id, scope, wrapped_key, wrapping_key_id, active, created_at
                 FROM data_keys WHERE environment_id = $1 ORDER BY scope, created_at, id",
            )
            .bind(environment_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The environment's rotation in progress, if any.
    pub async fn data_key_rotation_in_progress(
        &self,
        environment_id: &str,
    ) -> Result<Option<DataKeyRotationRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, environment_id, started_at, finished_at, rows_done
                 FROM data_key_rotations WHERE environment_id = $1 AND finished_at IS NULL",
            )
            .bind(environment_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Starts a rotation in one transaction: records it, and for each key in `new_keys` makes it
    /// the active key of its scope in place of the current one, which stays, inactive. A scope
    /// that lost its keys meanwhile (shredded) gets no new key. Returns the keys made active.
    /// Fails with `Conflict` when the environment already has a rotation in progress.
    pub async fn start_data_key_rotation(
        &self,
        rotation: &DataKeyRotationRow,
        new_keys: Vec<DataKeyRow>,
    ) -> Result<Vec<DataKeyRow>, StoreError> {
        let mut made = Vec::with_capacity(new_keys.len());
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO data_key_rotations (id, environment_id, started_at, finished_at, rows_done)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&rotation.id)
            .bind(&rotation.environment_id)
            .bind(rotation.started_at)
            .bind(rotation.finished_at)
            .bind(rotation.rows_done)
            .execute(&mut *tx)
            .await
            .map_err(conflict_on_unique("data key rotation in progress"))?;
            for key in new_keys {
                let retired = sqlx::query(
                    "UPDATE data_keys SET active = FALSE
                     WHERE environment_id = $1 AND scope = $2 AND active",
                )
                .bind(&key.environment_id)
                .bind(&key.scope)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if retired == 0 {
                    continue;
                }
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
                .execute(&mut *tx)
                .await
                .map_err(conflict_on_unique("data key scope"))?;
                made.push(key);
            }
            tx.commit().await?;
        });
        Ok(made)
    }

    /// Adds `rows` re-encrypted values to a rotation's count.
    pub async fn add_data_key_rotation_progress(
        &self,
        rotation_id: &str,
        rows: i64,
    ) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query("UPDATE data_key_rotations SET rows_done = rows_done + $1 WHERE id = $2")
                .bind(rows)
                .bind(rotation_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Marks a rotation finished. Returns false when it already was (a concurrent run finished
    /// it first).
    pub async fn finish_data_key_rotation(
        &self,
        rotation_id: &str,
        finished_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE data_key_rotations SET finished_at = $1 WHERE id = $2 AND finished_at IS NULL",
            )
            .bind(finished_at)
            .bind(rotation_id)
            .execute(pool)
            .await?
            .rows_affected()
                == 1
        }))
    }

    /// How many values of `column` an environment holds (credentials without a token excluded).
    pub async fn count_sealed_values(
        &self,
        environment_id: &str,
        column: SealedColumn,
    ) -> Result<i64, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_scalar(column.count_sql())
                .bind(environment_id)
                .fetch_one(pool)
                .await?
        }))
    }

    /// Up to `limit` values of `column` in an environment, in id order after `after_id`
    /// (`""` for the first batch). Credentials without a token are left out.
    pub async fn sealed_values_after(
        &self,
        environment_id: &str,
        column: SealedColumn,
        after_id: &str,
        limit: u32,
    ) -> Result<Vec<SealedValueRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(column.rows_after_sql())
                .bind(environment_id)
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        }))
    }

    /// One value of `column`, read again after a guarded rewrite changed nothing.
    pub async fn sealed_value(
        &self,
        environment_id: &str,
        column: SealedColumn,
        id: &str,
    ) -> Result<Option<SealedValueRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(column.row_sql())
                .bind(environment_id)
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Replaces a value by its re-encryption, only if the row still holds exactly what was read
    /// (same ciphertext and, for a credential, same version). Returns false when a concurrent
    /// writer changed or deleted it first; nothing is written then.
    pub async fn replace_sealed_value(
        &self,
        column: SealedColumn,
        read: &SealedValueRow,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            match column {
                SealedColumn::CredentialToken => sqlx::query(
                    "UPDATE credentials SET token_ciphertext = $1
                     WHERE id = $2 AND version = $3 AND token_ciphertext = $4",
                )
                .bind(ciphertext)
                .bind(&read.id)
                .bind(read.version)
                .bind(&read.ciphertext),
                SealedColumn::ClientSecret => sqlx::query(
                    "UPDATE oauth_providers SET client_secret_ciphertext = $1
                     WHERE id = $2 AND client_secret_ciphertext = $3",
                )
                .bind(ciphertext)
                .bind(&read.id)
                .bind(&read.ciphertext),
                SealedColumn::WebhookSecret => sqlx::query(
                    "UPDATE webhook_endpoints SET signing_secret = $1
                     WHERE id = $2 AND signing_secret = $3",
                )
                .bind(ciphertext)
                .bind(&read.id)
                .bind(&read.ciphertext),
            }
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }
}
