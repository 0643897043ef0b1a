//! The `facebook.data_deletion` job: carries out one data-deletion request
//! (`domain::compliance::carry_out`), retried with growing delays while the database or the
//! avatar store fails. Running it twice is harmless: a completed request is left alone.

use std::sync::Arc;
use std::time::Duration;

use super::{JobError, JobHandler};
use crate::domain::compliance;
use crate::store::JobRow;

/// The handler to register under [`compliance::DATA_DELETION_JOB`].
pub fn handler() -> JobHandler {
    Arc::new(|ctx, job: JobRow| {
        Box::pin(async move {
            let code = serde_json::from_str::<serde_json::Value>(&job.payload)
                .ok()
                .and_then(|p| p["confirmation_code"].as_str().map(str::to_owned))
                .ok_or_else(|| JobError::GiveUp {
                    reason: "payload has no confirmation_code".to_owned(),
                })?;
            compliance::carry_out(&ctx, &code)
                .await
                .map_err(|error| JobError::Retry {
                    after: backoff(job.attempts),
                    reason: with_causes(&error),
                })
        })
    })
}

/// `error: cause: cause`, for `last_error` (domain errors keep their detail in the chain).
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// 10 s, 20 s, 40 s, … up to an hour.
fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    Duration::from_secs(10u64.saturating_mul(1 << exponent)).min(Duration::from_secs(3600))
}
