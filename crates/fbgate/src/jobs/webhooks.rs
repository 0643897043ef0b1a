//! The `webhooks.dispatch` and `webhooks.deliver` jobs (`domain::webhooks::delivery`).
//!
//! A failed delivery attempt is not a failed job: the delivery records it and enqueues its own
//! next attempt. These jobs fail (and the runner retries them) only when fbgate itself could not
//! do the work, such as the database or the vault being unavailable.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::{JobError, JobHandler};
use crate::domain::webhooks::delivery;
use crate::store::JobRow;

pub use crate::store::outbox::DISPATCH_JOB;
pub use crate::store::webhooks::DELIVER_JOB;

/// The handler of [`DISPATCH_JOB`].
pub fn dispatch_handler() -> JobHandler {
    Arc::new(|ctx, job: JobRow| {
        Box::pin(async move {
            let payload = parse(&job)?;
            let event_id = payload["event_id"]
                .as_str()
                .ok_or_else(|| JobError::GiveUp {
                    reason: "payload has no event_id".to_owned(),
                })?;
            delivery::dispatch(&ctx, event_id)
                .await
                .map(|_| ())
                .map_err(|error| retry(&job, &error))
        })
    })
}

/// The handler of [`DELIVER_JOB`].
pub fn deliver_handler() -> JobHandler {
    Arc::new(|ctx, job: JobRow| {
        Box::pin(async move {
            let payload = parse(&job)?;
            let (Some(delivery_id), Some(attempt)) =
                (payload["delivery_id"].as_str(), payload["attempt"].as_i64())
            else {
                return Err(JobError::GiveUp {
                    reason: "payload has no delivery_id and attempt".to_owned(),
                });
            };
            delivery::deliver(&ctx, delivery_id, attempt)
                .await
                .map_err(|error| retry(&job, &error))
        })
    })
}

fn parse(job: &JobRow) -> Result<Value, JobError> {
    serde_json::from_str(&job.payload).map_err(|_| JobError::GiveUp {
        reason: "payload is not JSON".to_owned(),
    })
}

/// fbgate's own failure: try again in 5 s, 10 s, 20 s, … up to 10 minutes.
fn retry(job: &JobRow, error: &crate::domain::Error) -> JobError {
    let exponent = u32::try_from(job.attempts.clamp(1, 8) - 1).unwrap_or(0);
    JobError::Retry {
        after: Duration::from_secs(5u64 << exponent).min(Duration::from_secs(600)),
        reason: error.to_string(),
    }
}
