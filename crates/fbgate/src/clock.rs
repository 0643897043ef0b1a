//! Time, behind a trait so tests can move it.

use std::fmt::Debug;
use std::sync::Arc;

use time::OffsetDateTime;

/// A source of the current time.
pub trait Clock: Send + Sync + Debug {
    /// The current UTC time, truncated to whole microseconds (what both databases keep).
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        let micros = now.microsecond();
        now.replace_microsecond(micros).unwrap_or(now)
    }
}

/// Formats a time as the API shows it everywhere (answers, webhook payloads, pages): RFC 3339,
/// UTC, whole seconds, e.g. `2026-11-22T04:35:50Z`.
pub fn api_time(time: OffsetDateTime) -> String {
    let utc = time.to_offset(time::UtcOffset::UTC);
    utc.replace_nanosecond(0)
        .unwrap_or(utc)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

/// The system clock plus an offset that tests move forward, to expire states, codes and
/// sessions without waiting. Time still flows, so creation order stays meaningful.
#[derive(Debug, Default)]
pub struct AdjustableClock {
    offset: std::sync::Mutex<std::time::Duration>,
}

impl AdjustableClock {
    /// A clock that reads the system time until moved.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        if let Ok(mut offset) = self.offset.lock() {
            *offset += by;
        }
    }
}

impl Clock for AdjustableClock {
    fn now(&self) -> OffsetDateTime {
        let offset = self.offset.lock().map(|o| *o).unwrap_or_default();
        SystemClock.now() + offset
    }
}
