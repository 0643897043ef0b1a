//! Fanning an event out and delivering it: the work of the `webhooks.dispatch` and
//! `webhooks.deliver` jobs.
//!
//! Each attempt is its own job: the delivery row, not the job, counts attempts and decides when
//! to stop, so the retry schedule (exponential backoff with full jitter from
//! `Settings::webhook_retry_base`, at most an hour per wait, for [`RETRY_WINDOW`] in all) does not
//! depend on the job runner's own retry limit. An attempt's record and the next attempt's job are
//! written in one transaction, guarded by the attempt count the job was made for; a job that runs
//! again after a crash finds the count moved on and does nothing. A crash between sending and
//! recording can repeat an attempt: receivers deduplicate by `Fbgate-Event-Id`.

use std::time::{Duration, Instant};

use aws_lc_rs::hmac;
use rand::RngExt as _;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{Subscription, api_time, secret_aad};
use crate::domain::{Context, Error};
use crate::ids;
use crate::store::webhooks::DELIVER_JOB;
use crate::store::{DeliveryAttemptWrite, JobRow, PendingDeliveryRow, WebhookDeliveryRow};

/// A delivery is retried for this long after it was created, then marked `failed`.
pub const RETRY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// No single wait between attempts is longer than this.
pub const MAX_WAIT: Duration = Duration::from_secs(60 * 60);

/// How long fbgate waits for a receiver's answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "Fbgate-Signature";

/// The header carrying the event id, for receivers to deduplicate.
pub const EVENT_ID_HEADER: &str = "Fbgate-Event-Id";

const USER_AGENT: &str = concat!("fbgate-webhooks/", env!("CARGO_PKG_VERSION"));

/// The `Fbgate-Signature` value for `body` sent at unix time `t`: HMAC-SHA256 keyed by the
/// secret string's UTF-8 bytes over `"<t>.<body>"`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(t.to_string().as_bytes());
    context.update(b".");
    context.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(context.sign().as_ref()))
}

/// The wait before the next attempt after `attempts` failed ones: a random time up to
/// `base · 2^(attempts-1)`, capped at [`MAX_WAIT`] ("full jitter", which spreads the retries of
/// many deliveries that failed together).
pub fn retry_delay(base: Duration, attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 32) - 1).unwrap_or(0);
    let ceiling = base
        .checked_mul(1u32 << exponent.min(31))
        .unwrap_or(MAX_WAIT)
        .min(MAX_WAIT);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

/// Creates the deliveries of one event: one per enabled endpoint that existed when the event
/// happened and subscribes to its type. Running it again creates nothing twice.
pub async fn dispatch(ctx: &Context, event_id: &str) -> Result<usize, Error> {
    let Some(event) = ctx.store.get_event(event_id).await? else {
        // The event was erased with the person it described: nothing to deliver.
        return Ok(0);
    };
    let endpoints = ctx
        .store
        .webhook_endpoints_at(&event.environment_id, event.created_at)
        .await?;
    let now = ctx.clock.now();
    let deliveries: Vec<(WebhookDeliveryRow, JobRow)> = endpoints
        .iter()
        .filter(|e| Subscription::from_column(&e.events).includes(&event.event_type))
        .map(|endpoint| {
            let delivery = WebhookDeliveryRow {
                id: ids::new_id("whd"),
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                endpoint_id: endpoint.id.clone(),
                environment_id: event.environment_id.clone(),
                status: "pending".to_owned(),
                attempts: 0,
                next_attempt_at: Some(now),
                last_status_code: None,
                last_error: None,
                created_at: now,
                attempt_log: "[]".to_owned(),
                delivered_at: None,
            };
            let job = deliver_job(&delivery.environment_id, &delivery.id, 0, now, now);
            (delivery, job)
        })
        .collect();
    Ok(ctx.store.create_deliveries(&deliveries).await?)
}

fn deliver_job(
    environment_id: &str,
    delivery_id: &str,
    attempt: i64,
    due_at: OffsetDateTime,
    now: OffsetDateTime,
) -> JobRow {
    JobRow::new(
        DELIVER_JOB,
        Some(environment_id),
        &json!({ "delivery_id": delivery_id, "attempt": attempt }),
        due_at,
        now,
    )
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    status_code: Option<u16>,
    error: Option<String>,
}

impl Outcome {
    fn succeeded(&self) -> bool {
        self.error.is_none() && self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Makes attempt number `attempt + 1` of a delivery, records it, and schedules the next one if
/// it failed and the retry window allows. A job made for an older attempt does nothing.
pub async fn deliver(ctx: &Context, delivery_id: &str, attempt: i64) -> Result<(), Error> {
    let Some(delivery) = ctx.store.pending_delivery(delivery_id).await? else {
        // The endpoint (or the event) was deleted: nothing left to deliver.
        return Ok(());
    };
    if delivery.status != "pending" || delivery.attempts != attempt {
        return Ok(());
    }
    let secret = ctx
        .vault
        .open_string(
            &delivery.environment_id,
            &secret_aad(&delivery.environment_id, &delivery.endpoint_id),
            &delivery.signing_secret,
        )
        .await?;
    let sent_at = ctx.clock.now();
    let started = Instant::now();
    let outcome = send(ctx, &delivery, secret.expose(), sent_at).await;
    let duration = started.elapsed();
    record(ctx, &delivery, &outcome, sent_at, duration).await
}

async fn send(
    ctx: &Context,
    delivery: &PendingDeliveryRow,
    secret: &str,
    sent_at: OffsetDateTime,
) -> Outcome {
    let answer = ctx
        .http
        .post(&delivery.url)
        .timeout(TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, USER_AGENT)
        .header(
            SIGNATURE_HEADER,
            signature(secret, sent_at.unix_timestamp(), &delivery.payload),
        )
        .header(EVENT_ID_HEADER, &delivery.event_id)
        .body(delivery.payload.clone())
        .send()
        .await;
    match answer {
        Ok(response) => {
            let status = response.status();
            Outcome {
                status_code: Some(status.as_u16()),
                error: (!status.is_success())
                    .then(|| format!("the endpoint answered HTTP {}", status.as_u16())),
            }
        }
        // The transport error's own text names the URL; the class is enough and leaks nothing.
        Err(error) => Outcome {
            status_code: None,
            error: Some(
                if error.is_timeout() {
                    "no answer within 10 s"
                } else if error.is_connect() {
                    "cannot connect to the endpoint"
                } else {
                    "the request failed"
                }
                .to_owned(),
            ),
        },
    }
}

async fn record(
    ctx: &Context,
    delivery: &PendingDeliveryRow,
    outcome: &Outcome,
    sent_at: OffsetDateTime,
    duration: Duration,
) -> Result<(), Error> {
    let mut log: Vec<Value> = serde_json::from_str(&delivery.attempt_log).unwrap_or_default();
    log.push(json!({
        "attempted_at": api_time(sent_at),
        "status_code": outcome.status_code,
        "error": outcome.error,
        "duration_ms": u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    }));
    let log = Value::from(log).to_string();
    let attempts = delivery.attempts + 1;
    let now = ctx.clock.now();
    let next_at = (!outcome.succeeded())
        .then(|| now + retry_delay(ctx.settings.webhook_retry_base, attempts))
        .filter(|at| *at <= delivery.created_at + RETRY_WINDOW);
    let next_job =
        next_at.map(|at| deliver_job(&delivery.environment_id, &delivery.id, attempts, at, now));
    let status = match (outcome.succeeded(), next_at) {
        (true, _) => "succeeded",
        (false, Some(_)) => "pending",
        (false, None) => "failed",
    };
    ctx.store
        .record_delivery_attempt(&DeliveryAttemptWrite {
            delivery_id: &delivery.id,
            attempts_before: delivery.attempts,
            status,
            next_attempt_at: next_at,
            status_code: outcome.status_code.map(i64::from),
            error: outcome.error.as_deref(),
            attempt_log: &log,
            delivered_at: outcome.succeeded().then_some(now),
            next_job: next_job.as_ref(),
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_t_dot_body() {
        // Computed independently: Python's hmac.new(b"Jefe", b"1700000000.{}", sha256).
        assert_eq!(
            signature("Jefe", 1_700_000_000, "{}"),
            "t=1700000000,v1=d3793e2b4103edfbd98cc19591832f5fad701d413db9fcae0ae7dab8184ed207"
        );
        assert_ne!(
            signature("other", 1_700_000_000, "{}"),
            signature("Jefe", 1_700_000_000, "{}")
        );
    }

    #[test]
    fn waits_grow_exponentially_under_a_one_hour_cap() {
        let base = Duration::from_secs(5);
        for _ in 0..200 {
            assert!(retry_delay(base, 1) <= Duration::from_secs(5));
            assert!(retry_delay(base, 3) <= Duration::from_secs(20));
            assert!(retry_delay(base, 40) <= MAX_WAIT);
        }
        // Full jitter, but the ceiling does grow: some late waits exceed the first ceiling.
        assert!((0..200).any(|_| retry_delay(base, 10) > Duration::from_secs(5)));
    }

    #[test]
    fn only_2xx_answers_count_as_delivered() {
        let answered = |code| Outcome {
            status_code: Some(code),
            error: (!(200..300).contains(&code)).then(|| "x".to_owned()),
        };
        assert!(answered(200).succeeded());
        assert!(answered(204).succeeded());
        assert!(!answered(301).succeeded());
        assert!(!answered(500).succeeded());
        assert!(
            !Outcome {
                status_code: None,
                error: Some("timeout".to_owned())
            }
            .succeeded()
        );
    }
}
