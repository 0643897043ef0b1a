//! The emulator's clock: wall time plus an offset that only moves forward.
//!
//! Tests expire codes and tokens by advancing this clock through the control API instead of
//! sleeping, so every lifetime in the emulator is read from here and never from `SystemTime`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A shared clock in unix seconds that can be advanced.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Current emulator time in unix seconds.
    pub fn now(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        wall.saturating_add(self.offset.load(Ordering::Relaxed))
    }

    /// Moves the clock forward; negative values are ignored (time never runs backwards).
    pub fn advance(&self, seconds: i64) -> i64 {
        if seconds > 0 {
            self.offset.fetch_add(seconds, Ordering::Relaxed);
        }
        self.now()
    }

    /// How far the clock is ahead of wall time, in seconds.
    pub fn offset(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }

    /// Back to wall time (used by `/_sim/reset`).
    pub fn reset(&self) {
        self.offset.store(0, Ordering::Relaxed);
    }
}
