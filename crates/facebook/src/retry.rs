//! When and how long to wait before trying a call again.
//!
//! Only calls that are safe to repeat are retried: idempotent reads. A code exchange never is,
//! because Facebook burns a code on first use, so a retry after a lost answer can only fail with
//! "This authorization code has been used" and hide the real outcome. POSTs are never retried.
//! The delay is exponential with jitter (half to full of the step) and capped; a throttle whose
//! suggested wait exceeds the cap fails at once so the caller can schedule the work later.

use std::time::Duration;

use crate::error::{ErrorKind, FacebookError};

/// How many times and how fast a safe call is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 disables retries.
    pub max_attempts: u32,
    /// The first delay; each further retry doubles it.
    pub base_delay: Duration,
    /// No single delay is longer than this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The delay before retry number `retry` (1 for the first retry), before jitter.
    pub fn step(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(16));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The delay before retry number `retry`, with jitter: uniformly between half and all of
    /// [`step`](Self::step).
    pub fn jittered(&self, retry: u32) -> Duration {
        let step = self.step(retry);
        let half = step / 2;
        let spread = u64::try_from((step - half).as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::random_range(0..=spread))
    }

    /// Whether `error` after attempt `attempt` (1-based) deserves another try, and after how
    /// long. `None` means give up.
    pub(crate) fn decide(&self, attempt: u32, error: &FacebookError) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let backoff = self.jittered(attempt);
        match error.kind() {
            ErrorKind::Transient | ErrorKind::Transport => Some(backoff),
            ErrorKind::Throttled { retry_after, .. } => match retry_after {
                Some(wait) if wait > self.max_delay => None,
                Some(wait) => Some(wait.max(backoff)),
                None => Some(backoff),
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{GraphError, TransportError};
    use crate::usage::Usage;

    fn graph(code: i64, retry_after: Option<u64>) -> FacebookError {
        let usage = Usage {
            retry_after: retry_after.map(Duration::from_secs),
            ..Usage::default()
        };
        let body = serde_json::json!({"error": {"code": code, "message": "m"}});
        GraphError::from_body(400, &body, usage).unwrap().into()
    }

    #[test]
    fn steps_double_and_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        assert_eq!(policy.step(1), Duration::from_millis(100));
        assert_eq!(policy.step(2), Duration::from_millis(200));
        assert_eq!(policy.step(3), Duration::from_millis(350));
        assert_eq!(policy.step(40), Duration::from_millis(350));
        for _ in 0..50 {
            let d = policy.jittered(2);
            assert!(d >= Duration::from_millis(100) && d <= Duration::from_millis(200));
        }
    }

    #[test]
    fn only_temporary_errors_are_retried() {
        let policy = RetryPolicy::default();
        assert!(policy.decide(1, &graph(2, None)).is_some());
        assert!(policy.decide(1, &graph(4, None)).is_some());
        let transport = FacebookError::Transport(TransportError {
            timeout: true,
            detail: String::new(),
        });
        assert!(policy.decide(1, &transport).is_some());
        assert!(policy.decide(1, &graph(190, None)).is_none());
        assert!(policy.decide(1, &graph(100, None)).is_none());
        assert!(policy.decide(1, &graph(200, None)).is_none());
    }

    #[test]
    fn attempts_run_out() {
        let policy = RetryPolicy::default();
        assert!(policy.decide(2, &graph(2, None)).is_some());
        assert!(policy.decide(3, &graph(2, None)).is_none());
        assert!(RetryPolicy::none().decide(1, &graph(2, None)).is_none());
    }

    #[test]
    fn long_throttle_waits_are_left_to_the_caller() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.decide(1, &graph(4, Some(1))),
            Some(Duration::from_secs(1))
        );
        assert_eq!(policy.decide(1, &graph(4, Some(600))), None);
    }
}
