//! Queries on `webhook_endpoints` and `webhook_deliveries`.
//!
//! A delivery advances by optimistic updates keyed on its attempt count: a delivery job that runs
//! again after a crash finds the count moved on and does nothing, so an attempt is recorded once
//! and the next attempt's job is enqueued in the same transaction as the record.

use time::OffsetDateTime;

use super::jobs::JobRow;
use super::{Store, StoreError, with_pool};

/// The job kind that makes one delivery attempt.
pub const DELIVER_JOB: &str = "webhooks.deliver";

/// A row of `webhook_endpoints`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookEndpointRow {
    /// `whe_…`
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// Subscribed event types (JSON array), or `["*"]`.
    pub events: String,
    /// The signing secret, sealed by the vault.
    pub signing_secret: Vec<u8>,
    /// Disabled endpoints get no new deliveries.
    pub enabled: bool,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// A row of `webhook_deliveries`, with the type of its event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookDeliveryRow {
    /// `whd_…`
    pub id: String,
    /// The event delivered.
    pub event_id: String,
    /// The event's type (from `outbox_events`).
    pub event_type: String,
    /// The endpoint it goes to.
    pub endpoint_id: String,
    /// Owning environment.
    pub environment_id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The receiver's last HTTP status.
    pub last_status_code: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Every attempt, oldest first (JSON array).
    pub attempt_log: String,
    /// When it succeeded.
    pub delivered_at: Option<OffsetDateTime>,
}

/// What a delivery job needs in one read: the delivery, the body and where to send it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingDeliveryRow {
    /// The delivery.
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// The event's id (sent as `Fbgate-Event-Id`).
    pub event_id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the delivery was created (the retry window starts here).
    pub created_at: OffsetDateTime,
    /// Every attempt, oldest first (JSON array).
    pub attempt_log: String,
    /// The body to send.
    pub payload: String,
    /// The endpoint's URL.
    pub url: String,
    /// The endpoint's sealed signing secret.
    pub signing_secret: Vec<u8>,
}

/// The outcome of one attempt, written over a delivery whose count is still `attempts_before`.
#[derive(Debug, Clone)]
pub struct DeliveryAttemptWrite<'a> {
    /// The delivery.
    pub delivery_id: &'a str,
    /// The attempt count the job saw; the write is skipped when it moved on.
    pub attempts_before: i64,
    /// `pending` (another attempt follows), `succeeded` or `failed`.
    pub status: &'a str,
    /// When the next attempt is due.
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i64>,
    /// Why it failed, if it did.
    pub error: Option<&'a str>,
    /// The whole history including this attempt (JSON array).
    pub attempt_log: &'a str,
    /// Set when it succeeded.
    pub delivered_at: Option<OffsetDateTime>,
    /// The job of the next attempt, enqueued with this write.
    pub next_job: Option<&'a JobRow>,
}

const ENDPOINT_COLUMNS: &str =
    "id, environment_id, url, events, signing_secret, enabled, created_at";

const DELIVERY_COLUMNS: &str = "d.id, d.event_id, e.type AS event_type, d.endpoint_id, \
     d.environment_id, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, \
     d.created_at, d.attempt_log, d.delivered_at";

impl Store {
    /// Adds an endpoint.
    pub async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpointRow,
    ) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, environment_id, url, events, signing_secret, enabled,
                    created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&endpoint.id)
            .bind(&endpoint.environment_id)
            .bind(&endpoint.url)
            .bind(&endpoint.events)
            .bind(&endpoint.signing_secret)
            .bind(endpoint.enabled)
            .bind(endpoint.created_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Reads an endpoint of an environment.
    pub async fn get_webhook_endpoint(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpointRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE environment_id = $1 AND id = $2"
        ));
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(sql).bind(environment_id).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Lists an environment's endpoints in creation order.
    pub async fn list_webhook_endpoints(
        &self,
        environment_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WebhookEndpointRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
             WHERE environment_id = $1
               AND ($2 IS NULL
                    OR (created_at, id) > (SELECT created_at, id FROM webhook_endpoints WHERE id = $2))
             ORDER BY created_at, id
             LIMIT $3"
        ));
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(sql)
                .bind(environment_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        }))
    }

    /// The enabled endpoints of an environment that existed at `at` (an event goes to the
    /// endpoints that existed when it happened).
    pub async fn webhook_endpoints_at(
        &self,
        environment_id: &str,
        at: OffsetDateTime,
    ) -> Result<Vec<WebhookEndpointRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
             WHERE environment_id = $1 AND enabled AND created_at <= $2
             ORDER BY created_at, id"
        ));
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(sql).bind(environment_id).bind(at).fetch_all(pool).await?
        }))
    }

    /// Deletes an endpoint with its deliveries; false when it did not exist.
    pub async fn delete_webhook_endpoint(
        &self,
        environment_id: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM webhook_endpoints WHERE environment_id = $1 AND id = $2")
                .bind(environment_id)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Creates the deliveries of one event, each with the job of its first attempt, in one
    /// transaction. A delivery that already exists (the dispatch ran before) is left alone and
    /// gets no second job. Returns how many were created.
    pub async fn create_deliveries(
        &self,
        deliveries: &[(WebhookDeliveryRow, JobRow)],
    ) -> Result<usize, StoreError> {
        let mut created = 0;
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            for (delivery, job) in deliveries {
                let inserted = sqlx::query(
                    "INSERT INTO webhook_deliveries (id, event_id, endpoint_id, environment_id, status,
                        attempts, next_attempt_at, last_status_code, last_error, created_at,
                        attempt_log, delivered_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (event_id, endpoint_id) DO NOTHING",
                )
                .bind(&delivery.id)
                .bind(&delivery.event_id)
                .bind(&delivery.endpoint_id)
                .bind(&delivery.environment_id)
                .bind(&delivery.status)
                .bind(delivery.attempts)
                .bind(delivery.next_attempt_at)
                .bind(delivery.last_status_code)
                .bind(&delivery.last_error)
                .bind(delivery.created_at)
                .bind(&delivery.attempt_log)
                .bind(delivery.delivered_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 1 {
                    super::jobs::insert_job!(job).execute(&mut *tx).await?;
                    created += 1;
                }
            }
            tx.commit().await?;
        });
        Ok(created)
    }

    /// Reads what a delivery job needs.
    pub async fn pending_delivery(
        &self,
        id: &str,
    ) -> Result<Option<PendingDeliveryRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT d.id, d.environment_id, d.event_id, d.endpoint_id, d.status, d.attempts,
                    d.created_at, d.attempt_log, e.payload, w.url, w.signing_secret
                 FROM webhook_deliveries d
                 JOIN outbox_events e ON e.id = d.event_id
                 JOIN webhook_endpoints w ON w.id = d.endpoint_id
                 WHERE d.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Records one attempt (and enqueues the next one's job) if the delivery is still pending at
    /// the count the job saw. False when another run got there first.
    pub async fn record_delivery_attempt(
        &self,
        write: &DeliveryAttemptWrite<'_>,
    ) -> Result<bool, StoreError> {
        let mut recorded = false;
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            let affected = sqlx::query(
                "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1,
                    next_attempt_at = $2, last_status_code = $3, last_error = $4, attempt_log = $5,
                    delivered_at = $6
                 WHERE id = $7 AND attempts = $8 AND status = 'pending'",
            )
            .bind(write.status)
            .bind(write.next_attempt_at)
            .bind(write.status_code)
            .bind(write.error)
            .bind(write.attempt_log)
            .bind(write.delivered_at)
            .bind(write.delivery_id)
            .bind(write.attempts_before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if affected == 1 {
                if let Some(job) = write.next_job {
                    super::jobs::insert_job!(job).execute(&mut *tx).await?;
                }
                recorded = true;
            }
            tx.commit().await?;
        });
        Ok(recorded)
    }

    /// One page of an endpoint's deliveries, newest first.
    pub async fn list_webhook_deliveries(
        &self,
        environment_id: &str,
        endpoint_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<WebhookDeliveryRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS}
             FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
             WHERE d.environment_id = $1 AND d.endpoint_id = $2
               AND ($3 IS NULL
                    OR (d.created_at, d.id) < (SELECT created_at, id FROM webhook_deliveries WHERE id = $3))
             ORDER BY d.created_at DESC, d.id DESC
             LIMIT $4"
        ));
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(sql)
                .bind(environment_id)
                .bind(endpoint_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        }))
    }
}
