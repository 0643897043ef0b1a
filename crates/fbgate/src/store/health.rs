//! Queries of the credential health job: claiming due credentials with a lease, and recording
//! what a check found.

use std::time::Duration;

use time::OffsetDateTime;

use super::credentials::{columns, select};
use super::outbox::record_event;
use super::{CredentialRow, Db, OutboxEventRow, Store, StoreError, with_pool};

/// The claim: due, checkable credentials whose lease is free, soonest due first.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE credentials SET check_lease_owner = $1, check_lease_expires_at = $2
             WHERE id IN (
                SELECT id FROM credentials
                WHERE status IN ('active', 'expiring')
                  AND length(token_ciphertext) > 0
                  AND (next_check_at IS NULL OR next_check_at <= $3)
                  AND (check_lease_expires_at IS NULL OR check_lease_expires_at <= $3)
                ORDER BY next_check_at NULLS FIRST
                LIMIT $4 ",
            $lock,
            ") RETURNING ",
            columns!("")
        )
    };
}

/// What a check found, to write back.
#[derive(Debug)]
pub struct CheckWrite<'a> {
    /// The credential.
    pub id: &'a str,
    /// The version that was checked: nothing is written if the token was replaced meanwhile.
    pub version: i64,
    /// The status the check started from: nothing is written if another check changed it
    /// meanwhile, so each change is recorded (and announced) once.
    pub previous_status: &'a str,
    /// New status and reason.
    pub status: &'a str,
    /// Why, for `expired`, `revoked` and `invalid`.
    pub status_reason: Option<&'a str>,
    /// Expiry as Facebook now says.
    pub expires_at: Option<OffsetDateTime>,
    /// Data-access expiry as Facebook now says.
    pub data_access_expires_at: Option<OffsetDateTime>,
    /// Granted permissions (JSON array).
    pub scopes: &'a str,
    /// When it was checked.
    pub checked_at: OffsetDateTime,
    /// When it is due again.
    pub next_check_at: OffsetDateTime,
    /// Events announcing a change of status, recorded with it.
    pub events: Vec<OutboxEventRow>,
}

impl Store {
    /// Leases up to `limit` due credentials for `lease_for` and returns them. Two processes
    /// never get the same credential while its lease runs (PostgreSQL skips rows another
    /// transaction holds; SQLite has one writer).
    pub async fn claim_due_credentials(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease_for: Duration,
        limit: u32,
    ) -> Result<Vec<CredentialRow>, StoreError> {
        let until = now + lease_for;
        let limit = i64::from(limit);
        Ok(match &self.db {
            Db::Sqlite(pool) => {
                sqlx::query_as(claim_sql!(""))
                    .bind(owner)
                    .bind(until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_as(claim_sql!("FOR UPDATE SKIP LOCKED"))
                    .bind(owner)
                    .bind(until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
        })
    }

    /// Writes a check's result and its events in one transaction, unless the credential's token
    /// was replaced meanwhile. True when written.
    pub async fn record_check(&self, write: &CheckWrite<'_>) -> Result<bool, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let affected = sqlx::query(
                "UPDATE credentials SET status = $1, status_reason = $2, expires_at = $3,
                    data_access_expires_at = $4, scopes = $5, last_checked_at = $6,
                    next_check_at = $7, updated_at = $6, check_lease_owner = NULL,
                    check_lease_expires_at = NULL
                 WHERE id = $8 AND version = $9 AND status = $10",
            )
            .bind(write.status)
            .bind(write.status_reason)
            .bind(write.expires_at)
            .bind(write.data_access_expires_at)
            .bind(write.scopes)
            .bind(write.checked_at)
            .bind(write.next_check_at)
            .bind(write.id)
            .bind(write.version)
            .bind(write.previous_status)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if affected == 1 {
                for event in &write.events {
                    record_event!(tx, event);
                }
            }
            tx.commit().await?;
            affected == 1
        }))
    }

    /// Gives a claimed credential back, due again at `next_check_at` (Facebook could not be
    /// asked).
    pub async fn postpone_check(
        &self,
        id: &str,
        version: i64,
        next_check_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE credentials SET next_check_at = $1, check_lease_owner = NULL,
                    check_lease_expires_at = NULL
                 WHERE id = $2 AND version = $3",
            )
            .bind(next_check_at)
            .bind(id)
            .bind(version)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A credential by id, within its environment.
    pub async fn get_credential(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<CredentialRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!("WHERE environment_id = $1 AND id = $2"))
                .bind(environment_id)
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// An environment's credentials in id order, after `after`.
    pub async fn list_credentials(
        &self,
        environment_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CredentialRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(select!(
                "WHERE environment_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
            ))
            .bind(environment_id)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
        }))
    }

    /// How many credentials an environment holds.
    pub async fn count_credentials(&self, environment_id: &str) -> Result<i64, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM credentials WHERE environment_id = $1")
                .bind(environment_id)
                .fetch_one(pool)
                .await?
        }))
    }
}
