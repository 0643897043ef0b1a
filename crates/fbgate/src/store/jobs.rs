//! Queries on `jobs`: background work as leased rows.
//!
//! Leasing is the one place where the engines differ: PostgreSQL picks due rows with
//! `FOR UPDATE SKIP LOCKED`, so replicas never take the same job; SQLite has a single writer,
//! so the same statement without the locking clause is already exclusive. A lease that expired
//! (its process died) makes the job due again.

use std::time::Duration;

use time::OffsetDateTime;

use super::{Db, Store, StoreError, with_pool};
use crate::ids;

/// A row of `jobs`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    /// `job_…`
    pub id: String,
    /// The environment the work belongs to, if any.
    pub environment_id: Option<String>,
    /// What to do, e.g. `webhooks.deliver`.
    pub kind: String,
    /// Parameters (JSON text).
    pub payload: String,
    /// Not run before this time.
    pub due_at: OffsetDateTime,
    /// Runs started so far.
    pub attempts: i64,
    /// The process running it now.
    pub lease_owner: Option<String>,
    /// The lease ends here; after it another process may take the job.
    pub lease_expires_at: Option<OffsetDateTime>,
    /// Why the last run failed.
    pub last_error: Option<String>,
    /// `succeeded` or `gave_up` once done.
    pub outcome: Option<String>,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// When it finished.
    pub done_at: Option<OffsetDateTime>,
}

impl JobRow {
    /// A new job, due at `due_at`.
    pub fn new(
        kind: &str,
        environment_id: Option<&str>,
        payload: &serde_json::Value,
        due_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: ids::new_id("job"),
            environment_id: environment_id.map(str::to_owned),
            kind: kind.to_owned(),
            payload: payload.to_string(),
            due_at,
            attempts: 0,
            lease_owner: None,
            lease_expires_at: None,
            last_error: None,
            outcome: None,
            created_at: now,
            done_at: None,
        }
    }
}

/// The INSERT of one job; use it inside a transaction to enqueue work together with the change
/// that calls for it.
macro_rules! insert_job {
    ($job:expr) => {
        $crate::store::jobs::bind_job!(
            sqlx::query(
                "INSERT INTO jobs (id, environment_id, kind, payload, due_at, attempts, lease_owner,
                    lease_expires_at, last_error, outcome, created_at, done_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            ),
            $job
        )
    };
}
// Used inside other store modules' transactions to enqueue work with the change it belongs to.
#[allow(unused_imports)]
pub(crate) use insert_job;

/// Binds a job's twelve columns, in table order, as `$1`…`$12` of `$query`.
macro_rules! bind_job {
    ($query:expr, $job:expr) => {
        $query
            .bind(&$job.id)
            .bind(&$job.environment_id)
            .bind(&$job.kind)
            .bind(&$job.payload)
            .bind($job.due_at)
            .bind($job.attempts)
            .bind(&$job.lease_owner)
            .bind($job.lease_expires_at)
            .bind(&$job.last_error)
            .bind(&$job.outcome)
            .bind($job.created_at)
            .bind($job.done_at)
    };
}
pub(crate) use bind_job;

const COLUMNS: &str = "id, environment_id, kind, payload, due_at, attempts, lease_owner, \
     lease_expires_at, last_error, outcome, created_at, done_at";

/// The lease statement; `$locking` is the engine's row-locking clause.
macro_rules! lease_sql {
    ($locking:literal) => {
        concat!(
            "UPDATE jobs SET lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1
             WHERE id IN (
                 SELECT id FROM jobs
                 WHERE done_at IS NULL AND due_at <= $3
                   AND (lease_expires_at IS NULL OR lease_expires_at < $3)
                 ORDER BY due_at
                 LIMIT $4 ",
            $locking,
            ")
             RETURNING id, environment_id, kind, payload, due_at, attempts, lease_owner,
                 lease_expires_at, last_error, outcome, created_at, done_at"
        )
    };
}

impl Store {
    /// Adds a job.
    pub async fn enqueue_job(&self, job: &JobRow) -> Result<(), StoreError> {
        with_pool!(&self.db, pool => {
            insert_job!(job).execute(pool).await?;
        });
        Ok(())
    }

    /// Takes up to `limit` due jobs for `owner` until `now + lease_for`, oldest due first.
    pub async fn lease_due_jobs(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease_for: Duration,
        limit: u32,
    ) -> Result<Vec<JobRow>, StoreError> {
        let until = now + lease_for;
        let limit = i64::from(limit);
        let mut jobs: Vec<JobRow> = match &self.db {
            Db::Sqlite(pool) => {
                sqlx::query_as(lease_sql!(""))
                    .bind(owner)
                    .bind(until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_as(lease_sql!("FOR UPDATE SKIP LOCKED"))
                    .bind(owner)
                    .bind(until)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
        };
        // RETURNING gives the rows in whatever order the UPDATE met them, not the subquery's:
        // hand them out oldest due first.
        jobs.sort_by_key(|job| job.due_at);
        Ok(jobs)
    }

    /// Reads a job.
    pub async fn get_job(&self, id: &str) -> Result<Option<JobRow>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"));
        Ok(with_pool!(&self.db, pool => {
            sqlx::query_as(sql).bind(id).fetch_optional(pool).await?
        }))
    }

    /// Marks a leased job done. False when the lease was lost (another process took over).
    pub async fn complete_job(
        &self,
        id: &str,
        owner: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.finish_job(id, owner, now, "succeeded", None).await
    }

    /// Gives up on a leased job, keeping the reason.
    pub async fn give_up_job(
        &self,
        id: &str,
        owner: &str,
        now: OffsetDateTime,
        error: &str,
    ) -> Result<bool, StoreError> {
        self.finish_job(id, owner, now, "gave_up", Some(error))
            .await
    }

    async fn finish_job(
        &self,
        id: &str,
        owner: &str,
        now: OffsetDateTime,
        outcome: &str,
        error: Option<&str>,
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE jobs SET done_at = $1, outcome = $2, last_error = COALESCE($3, last_error),
                    lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = $4 AND lease_owner = $5 AND done_at IS NULL",
            )
            .bind(now)
            .bind(outcome)
            .bind(error)
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }

    /// Releases a leased job to run again at `due_at`.
    pub async fn reschedule_job(
        &self,
        id: &str,
        owner: &str,
        due_at: OffsetDateTime,
        error: &str,
    ) -> Result<bool, StoreError> {
        let affected = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE jobs SET due_at = $1, last_error = $2, lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = $3 AND lease_owner = $4 AND done_at IS NULL",
            )
            .bind(due_at)
            .bind(error)
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(affected == 1)
    }
}
