//! Queries on `outbox_events`: the events fbgate announces to the app's webhook endpoints.
//!
//! An event is written in the same transaction as the change it announces, together with one
//! `webhooks.dispatch` job (unless the environment has no enabled endpoint); that job later fans
//! the event out to the subscribed endpoints. So a
//! change that commits always gets its event delivered, and a change that rolls back never
//! announces anything. Other store functions use [`record_event!`] inside their transaction;
//! changes without a transaction of their own use [`Store::record_event`].

use time::OffsetDateTime;

use super::jobs::JobRow;
use super::{Store, StoreError, with_pool};

/// The job kind that fans one event out into deliveries.
pub const DISPATCH_JOB: &str = "webhooks.dispatch";

/// A row of `outbox_events`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxEventRow {
    /// `evt_…`
    pub id: String,
    /// Owning environment.
    pub environment_id: String,
    /// The event type, e.g. `user.created`.
    #[sqlx(rename = "type")]
    pub event_type: String,
    /// The fbgate id the event is about (a user, an identity), if any.
    pub subject: Option<String>,
    /// The whole delivery body (JSON text), exactly as it is signed and sent.
    pub payload: String,
    /// When the change happened.
    pub created_at: OffsetDateTime,
}

impl OutboxEventRow {
    /// The job that fans this event out; due at once.
    pub fn dispatch_job(&self) -> JobRow {
        JobRow::new(
            DISPATCH_JOB,
            Some(&self.environment_id),
            &serde_json::json!({ "event_id": self.id }),
            self.created_at,
            self.created_at,
        )
    }
}

/// The INSERT of one event (without its dispatch job: see [`record_event!`]).
macro_rules! insert_event {
    ($event:expr) => {
        sqlx::query(
            "INSERT INTO outbox_events (id, environment_id, type, subject, payload, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&$event.id)
        .bind(&$event.environment_id)
        .bind(&$event.event_type)
        .bind(&$event.subject)
        .bind(&$event.payload)
        .bind($event.created_at)
    };
}
#[allow(unused_imports)]
pub(crate) use insert_event;

/// Writes an event and its dispatch job inside the transaction `$tx` (an
/// `sqlx::Transaction` of either engine); use it with `?` in a function returning
/// `Result<_, StoreError>`.
macro_rules! record_event {
    ($tx:ident, $event:expr) => {{
        let event: &$crate::store::OutboxEventRow = $event;
        $crate::store::outbox::insert_event!(event)
            .execute(&mut *$tx)
            .await?;
        let job = event.dispatch_job();
        // No job when the environment has no enabled endpoint: nobody would get the event, and
        // dispatch only ever sends to endpoints that existed when it happened.
        $crate::store::jobs::bind_job!(
            sqlx::query(
                "INSERT INTO jobs (id, environment_id, kind, payload, due_at, attempts, lease_owner,
                    lease_expires_at, last_error, outcome, created_at, done_at)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12
                 WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE environment_id = $2 AND enabled)",
            ),
            job
        )
        .execute(&mut *$tx)
        .await?;
    }};
}
// Used inside other store modules' transactions (`sign_in`, …).
#[allow(unused_imports)]
pub(crate) use record_event;

impl Store {
    /// Writes events and their dispatch jobs in one small transaction, for changes that have no
    /// transaction of their own.
    pub async fn record_events(&self, events: &[OutboxEventRow]) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            let mut tx = pool.begin().await?;
            for event in events {
                record_event!(tx, event);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Deletes the events about `subject` (with their deliveries), when the person they describe
    /// is erased. Returns how many went.
    pub async fn delete_events_about(
        &self,
        environment_id: &str,
        subject: &str,
    ) -> Result<u64, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query("DELETE FROM outbox_events WHERE environment_id = $1 AND subject = $2")
                .bind(environment_id)
                .bind(subject)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// Reads an event.
    pub async fn get_event(&self, id: &str) -> Result<Option<OutboxEventRow>, StoreError> {
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, environment_id, type, subject, payload, created_at FROM outbox_events WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }
}
