//! Background jobs: a runner that leases due rows of `jobs` and hands each to its handler.
//!
//! Every replica runs a [`Runner`]. A job is leased for [`LEASE`]; a process that dies mid-job
//! simply lets its lease run out, and any replica takes the job over. Handlers must therefore be
//! idempotent (a job may run again after a crash), and say with [`JobError`] whether a failure is
//! worth retrying. Work that belongs to a change (an event to deliver, a deletion to carry out)
//! is enqueued in the same transaction as the change (`store::jobs::insert_job!`), so it can
//! never be lost between the two.

mod data_deletion;
mod webhooks;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::domain::{Context, Error};
use crate::ids;
use crate::store::JobRow;

/// How long a runner may work on a job before another may take it over.
pub const LEASE: Duration = Duration::from_secs(60);

/// Jobs leased per poll.
pub const BATCH: u32 = 20;

/// After this many runs a job is given up, whatever its handler says.
pub const MAX_ATTEMPTS: i64 = 30;

/// How a run failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobError {
    /// Try again after `after`.
    Retry {
        /// Delay before the next run.
        after: Duration,
        /// Why this run failed (kept in `last_error`; never a secret).
        reason: String,
    },
    /// Stop: retrying cannot help.
    GiveUp {
        /// Why (kept in `last_error`).
        reason: String,
    },
}

/// The future a handler returns.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;

/// A handler for one kind of job.
pub type JobHandler = Arc<dyn Fn(Context, JobRow) -> JobFuture + Send + Sync>;

/// The handlers by kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, JobHandler>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.handlers.keys()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the handler of a kind.
    pub fn register(&mut self, kind: &'static str, handler: JobHandler) -> &mut Self {
        self.handlers.insert(kind, handler);
        self
    }
}

/// Every kind of job fbgate runs.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register(
        crate::domain::compliance::DATA_DELETION_JOB,
        data_deletion::handler(),
    );
    registry.register(webhooks::DISPATCH_JOB, webhooks::dispatch_handler());
    registry.register(webhooks::DELIVER_JOB, webhooks::deliver_handler());
    registry
}

/// Enqueues work that is not tied to a transaction.
pub async fn enqueue(
    ctx: &Context,
    kind: &str,
    environment_id: Option<&str>,
    payload: &serde_json::Value,
    due_at: OffsetDateTime,
) -> Result<String, Error> {
    let job = JobRow::new(kind, environment_id, payload, due_at, ctx.clock.now());
    ctx.store.enqueue_job(&job).await?;
    Ok(job.id)
}

/// Runs due jobs until stopped.
#[derive(Debug)]
pub struct Runner {
    ctx: Context,
    registry: Registry,
    owner: String,
    poll_interval: Duration,
}

impl Runner {
    /// A runner with a fresh owner id for its leases.
    pub fn new(ctx: Context, registry: Registry, poll_interval: Duration) -> Self {
        Self {
            ctx,
            registry,
            owner: ids::new_id("runner"),
            poll_interval,
        }
    }

    /// Polls forever; spawn it and abort the task to stop.
    pub async fn run(self) {
        let mut interval = tokio::time::interval(self.poll_interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            // Drain: when a full batch came back, more may be due right now.
            while let Ok(ran) = self.run_due().await {
                if ran < BATCH as usize {
                    break;
                }
            }
        }
    }

    /// Leases and runs one batch of due jobs; returns how many ran.
    pub async fn run_due(&self) -> Result<usize, Error> {
        let now = self.ctx.clock.now();
        let jobs = self
            .ctx
            .store
            .lease_due_jobs(&self.owner, now, LEASE, BATCH)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "cannot lease jobs"))?;
        let count = jobs.len();
        for job in jobs {
            self.run_one(job).await?;
        }
        Ok(count)
    }

    async fn run_one(&self, job: JobRow) -> Result<(), Error> {
        let store = &self.ctx.store;
        let (id, kind, attempts) = (job.id.clone(), job.kind.clone(), job.attempts);
        let result = match self.registry.handlers.get(kind.as_str()) {
            Some(handler) => handler(self.ctx.clone(), job).await,
            None => Err(JobError::GiveUp {
                reason: format!("no handler for job kind `{kind}`"),
            }),
        };
        let now = self.ctx.clock.now();
        match result {
            Ok(()) => {
                store.complete_job(&id, &self.owner, now).await?;
            }
            Err(JobError::Retry { after, reason }) if attempts < MAX_ATTEMPTS => {
                tracing::info!(job = %id, %kind, attempts, %reason, "job will be retried");
                store
                    .reschedule_job(&id, &self.owner, now + after, &reason)
                    .await?;
            }
            Err(JobError::Retry { reason, .. } | JobError::GiveUp { reason }) => {
                tracing::warn!(job = %id, %kind, attempts, %reason, "job given up");
                store.give_up_job(&id, &self.owner, now, &reason).await?;
            }
        }
        Ok(())
    }
}
