//! Queries on `connect_sessions` and `connections`: credentials of the app's own tenants' users.

use time::OffsetDateTime;

use super::credentials::{insert_credential, replace_credential_token};
use super::outbox::record_event;
use super::{CredentialRow, OutboxEventRow, Store, StoreError, with_pool};

/// A row of `connect_sessions`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConnectSessionRow {
    /// `cns_…`
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// The provider the flow goes through.
    pub provider_id: String,
    /// SHA-256 of the token carried by the authorization URL.
    pub token_hash: Vec<u8>,
    /// The app's tenant.
    pub tenant_id: String,
    /// The app's user.
    pub external_user_id: String,
    /// `user`.
    pub flow: String,
    /// Where the browser returns.
    pub redirect_to: String,
    /// Requested permissions (JSON array), or `None` for the provider's.
    pub scopes: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// The token is refused after this.
    pub expires_at: OffsetDateTime,
    /// Set when a browser opened the authorization URL.
    pub used_at: Option<OffsetDateTime>,
}

/// A row of `connections`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConnectionRow {
    /// `con_…`
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// The provider whose app holds the token.
    pub provider_id: String,
    /// The app's tenant.
    pub tenant_id: String,
    /// The app's user.
    pub external_user_id: String,
    /// The Facebook user (app-scoped id) who connected.
    pub facebook_user_id: String,
    /// First connected.
    pub created_at: OffsetDateTime,
    /// Last (re)connected.
    pub updated_at: OffsetDateTime,
}

/// Everything a completed connect flow writes, in one transaction.
#[derive(Debug)]
pub struct ConnectionWrite<'a> {
    /// The connection.
    pub connection: &'a ConnectionRow,
    /// True when the connection is new (insert), else its Facebook user and time are updated.
    pub new_connection: bool,
    /// The user credential, with the version it replaces (`None`: insert).
    pub credential: (&'a CredentialRow, Option<i64>),
    /// Page credentials, each with the version it replaces (`None`: insert).
    pub pages: Vec<(&'a CredentialRow, Option<i64>)>,
    /// Page credentials whose pages the user no longer manages: deleted.
    pub removed_pages: Vec<String>,
    /// Events announcing the change.
    pub events: Vec<OutboxEventRow>,
}

macro_rules! select_sessions {
    ($rest:literal) => {
        concat!(
            "SELECT id, environment_id, provider_id, token_hash, tenant_id, external_user_id, flow, \
             redirect_to, scopes, created_at, expires_at, used_at FROM connect_sessions ",
            $rest
        )
    };
}

macro_rules! select_connections {
    ($rest:literal) => {
        concat!(
            "SELECT id, environment_id, provider_id, tenant_id, external_user_id, facebook_user_id, \
             created_at, updated_at FROM connections ",
            $rest
        )
    };
}

impl Store {
    /// Records a new connect session.
    pub async fn insert_connect_session(&self, row: &ConnectSessionRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO connect_sessions (id, environment_id, provider_id, token_hash, tenant_id,
                    external_user_id, flow, redirect_to, scopes, created_at, expires_at, used_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&row.id)
            .bind(&row.environment_id)
            .bind(&row.provider_id)
            .bind(&row.token_hash)
            .bind(&row.tenant_id)
            .bind(&row.external_user_id)
            .bind(&row.flow)
            .bind(&row.redirect_to)
            .bind(&row.scopes)
            .bind(row.created_at)
            .bind(row.expires_at)
            .bind(row.used_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Marks an unused, unexpired connect session used and returns it; `None` when the token is
    /// unknown, used or expired.
    pub async fn consume_connect_session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<ConnectSessionRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(
                "UPDATE connect_sessions SET used_at = $1
                 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1
                 RETURNING id, environment_id, provider_id, token_hash, tenant_id, external_user_id,
                    flow, redirect_to, scopes, created_at, expires_at, used_at",
            )
            .bind(now)
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// A connect session by id.
    pub async fn get_connect_session(
        &self,
        id: &str,
    ) -> Result<Option<ConnectSessionRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_sessions!("WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The connection of a (tenant, user) at a provider.
    pub async fn connection_of(
        &self,
        environment_id: &str,
        provider_id: &str,
        tenant_id: &str,
        external_user_id: &str,
    ) -> Result<Option<ConnectionRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_connections!(
                "WHERE environment_id = $1 AND provider_id = $2 AND tenant_id = $3
                   AND external_user_id = $4"
            ))
            .bind(environment_id)
            .bind(provider_id)
            .bind(tenant_id)
            .bind(external_user_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// A connection by id, within its environment.
    pub async fn get_connection(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<ConnectionRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_connections!("WHERE environment_id = $1 AND id = $2"))
                .bind(environment_id)
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Lists connections in creation order, optionally of one tenant.
    pub async fn list_connections(
        &self,
        environment_id: &str,
        tenant_id: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<ConnectionRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select_connections!(
                "WHERE environment_id = $1
                   AND ($2 IS NULL OR tenant_id = $2)
                   AND ($3 IS NULL
                        OR (created_at, id) > (SELECT created_at, id FROM connections WHERE id = $3))
                 ORDER BY created_at, id
                 LIMIT $4"
            ))
            .bind(environment_id)
            .bind(tenant_id)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }))
    }

    /// The credentials of a connection: its user credential and its pages'.
    pub async fn connection_credentials(
        &self,
        connection_id: &str,
    ) -> Result<Vec<CredentialRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(super::credentials::select!(
                "WHERE connection_id = $1 ORDER BY owner_kind DESC, page_id"
            ))
            .bind(connection_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Deletes a connection and, with it, every credential it holds. False when it did not
    /// exist.
    pub async fn delete_connection(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM credentials WHERE environment_id = $1 AND connection_id = $2")
                .bind(environment_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let affected = sqlx::query("DELETE FROM connections WHERE environment_id = $1 AND id = $2")
                .bind(environment_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            affected
        });
        Ok(affected == 1)
    }

    /// Deletes every connection and credential of a tenant; returns how many connections went.
    pub async fn delete_tenant_connections(
        &self,
        environment_id: &str,
        tenant_id: &str,
    ) -> Result<u64, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM credentials WHERE environment_id = $1 AND tenant_id = $2")
                .bind(environment_id)
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;
            let affected = sqlx::query(
                "DELETE FROM connections WHERE environment_id = $1 AND tenant_id = $2",
            )
            .bind(environment_id)
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            affected
        }))
    }

    /// The tenant-user credentials of a Facebook user at a provider, with their pages'.
    pub async fn tenant_credentials_of_facebook_user(
        &self,
        environment_id: &str,
        provider_id: &str,
        facebook_user_id: &str,
    ) -> Result<Vec<CredentialRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(super::credentials::select!(
                "WHERE environment_id = $1 AND provider_id = $2
                   AND ((owner_kind = 'tenant_user' AND facebook_id = $3)
                        OR parent_id IN (SELECT id FROM credentials
                                         WHERE environment_id = $1 AND provider_id = $2
                                           AND owner_kind = 'tenant_user' AND facebook_id = $3))
                 ORDER BY id"
            ))
            .bind(environment_id)
            .bind(provider_id)
            .bind(facebook_user_id)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Destroys the tokens of credentials and marks them `revoked` with `reason`; records each
    /// event `(credential id, event)` only when its credential really changed (a repeat
    /// announces nothing). Returns the ids that changed.
    pub async fn revoke_credentials(
        &self,
        environment_id: &str,
        ids: &[String],
        reason: &str,
        now: OffsetDateTime,
        events: &[(String, OutboxEventRow)],
    ) -> Result<Vec<String>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let mut revoked = Vec::new();
            for id in ids {
                let affected = sqlx::query(
                    "UPDATE credentials SET token_ciphertext = $1, version = version + 1,
                        status = 'revoked', status_reason = $2, updated_at = $3,
                        check_lease_owner = NULL, check_lease_expires_at = NULL
                     WHERE environment_id = $4 AND id = $5
                       AND (status <> 'revoked' OR length(token_ciphertext) > 0)",
                )
                .bind(Vec::<u8>::new())
                .bind(reason)
                .bind(now)
                .bind(environment_id)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if affected == 1 {
                    revoked.push(id.clone());
                }
            }
            for (credential_id, event) in events {
                if revoked.contains(credential_id) {
                    record_event!(tx, event);
                }
            }
            tx.commit().await?;
            revoked
        }))
    }

    /// Deletes every connection a Facebook user made at a provider, with its credentials (a data
    /// deletion request); returns how many connections went.
    pub async fn delete_connections_of_facebook_user(
        &self,
        environment_id: &str,
        provider_id: &str,
        facebook_user_id: &str,
    ) -> Result<u64, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "DELETE FROM credentials WHERE connection_id IN (
                    SELECT id FROM connections
                    WHERE environment_id = $1 AND provider_id = $2 AND facebook_user_id = $3)",
            )
            .bind(environment_id)
            .bind(provider_id)
            .bind(facebook_user_id)
            .execute(&mut *tx)
            .await?;
            let affected = sqlx::query(
                "DELETE FROM connections
                 WHERE environment_id = $1 AND provider_id = $2 AND facebook_user_id = $3",
            )
            .bind(environment_id)
            .bind(provider_id)
            .bind(facebook_user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            affected
        }))
    }

    /// Writes a completed connect flow atomically. Fails with `Conflict` when a concurrent
    /// reconnect replaced a credential first (its version moved on).
    pub async fn save_connection(&self, write: &ConnectionWrite<'_>) -> Result<(), StoreError> {
        let connection = write.connection;
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            if write.new_connection {
                sqlx::query(
                    "INSERT INTO connections (id, environment_id, provider_id, tenant_id,
                        external_user_id, facebook_user_id, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&connection.id)
                .bind(&connection.environment_id)
                .bind(&connection.provider_id)
                .bind(&connection.tenant_id)
                .bind(&connection.external_user_id)
                .bind(&connection.facebook_user_id)
                .bind(connection.created_at)
                .bind(connection.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(super::conflict_on_unique("connection"))?;
            } else {
                sqlx::query(
                    "UPDATE connections SET facebook_user_id = $1, updated_at = $2 WHERE id = $3",
                )
                .bind(&connection.facebook_user_id)
                .bind(connection.updated_at)
                .bind(&connection.id)
                .execute(&mut *tx)
                .await?;
            }
            for id in &write.removed_pages {
                sqlx::query("DELETE FROM credentials WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let rows = std::iter::once(&write.credential).chain(write.pages.iter());
            for (credential, replaces) in rows {
                match replaces {
                    None => {
                        insert_credential!(credential)
                            .execute(&mut *tx)
                            .await
                            .map_err(super::conflict_on_unique("credential"))?;
                    }
                    Some(version) => {
                        let affected = replace_credential_token!(credential, *version)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        if affected != 1 {
                            return Err(StoreError::Conflict("credential"));
                        }
                    }
                }
            }
            for event in &write.events {
                record_event!(tx, event);
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
