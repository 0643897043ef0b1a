//! Bulk writes: many credential rows in one transaction, for seeding and benchmarks.
//!
//! The service itself writes credentials one flow at a time (`connections`, `flows`); loading a
//! million through those paths would take hours. Rows go in as multi-row `INSERT`s with the same
//! columns as the single-row insert of `credentials.rs`, a few hundred rows per statement so the
//! bind count stays under both engines' limits (SQLite 32 766, PostgreSQL 65 535).

use sqlx::QueryBuilder;

use super::{CredentialRow, Store, StoreError, conflict_on_unique, with_pool};

/// Rows per `INSERT` statement: 27 binds each, 13 500 per statement.
const ROWS_PER_STATEMENT: usize = 500;

const INSERT_CREDENTIALS: &str = "INSERT INTO credentials (id, environment_id, provider_id, \
    owner_kind, owner_key, tenant_id, external_user_id, connection_id, page_id, parent_id, \
    user_id, identity_id, facebook_id, token_ciphertext, key_scope, token_type, issued_at, \
    expires_at, data_access_expires_at, scopes, status, status_reason, last_checked_at, \
    next_check_at, version, created_at, updated_at) ";

impl Store {
    /// Inserts `rows` in one transaction: all of them or, on any error, none. A row whose
    /// address is already taken fails the whole batch with [`StoreError::Conflict`].
    pub async fn insert_credentials_batch(&self, rows: &[CredentialRow]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut insert = QueryBuilder::new(INSERT_CREDENTIALS);
                insert.push_values(chunk, |mut values, c| {
                    values
                        .push_bind(&c.id)
                        .push_bind(&c.environment_id)
                        .push_bind(&c.provider_id)
                        .push_bind(&c.owner_kind)
                        .push_bind(&c.owner_key)
                        .push_bind(&c.tenant_id)
                        .push_bind(&c.external_user_id)
                        .push_bind(&c.connection_id)
                        .push_bind(&c.page_id)
                        .push_bind(&c.parent_id)
                        .push_bind(&c.user_id)
                        .push_bind(&c.identity_id)
                        .push_bind(&c.facebook_id)
                        .push_bind(&c.token_ciphertext)
                        .push_bind(&c.key_scope)
                        .push_bind(&c.token_type)
                        .push_bind(c.issued_at)
                        .push_bind(c.expires_at)
                        .push_bind(c.data_access_expires_at)
                        .push_bind(&c.scopes)
                        .push_bind(&c.status)
                        .push_bind(&c.status_reason)
                        .push_bind(c.last_checked_at)
                        .push_bind(c.next_check_at)
                        .push_bind(c.version)
                        .push_bind(c.created_at)
                        .push_bind(c.updated_at);
                });
                insert
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(conflict_on_unique("credential address"))?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
