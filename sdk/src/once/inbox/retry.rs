//! When the inbox retries a failed delivery, and when it gives up
//! ([`RetryPolicy`]).

use std::time::Duration;

/// When the inbox retries a failed delivery, and when it gives up.
///
/// Attempt `n` (from 1) that fails is retried after
/// `first_delay × factorⁿ⁻¹`, at most `max_delay`; after attempt
/// `attempts` the delivery is dead: kept, listed, retried by hand
/// ([`DeliveryStore::retry`]), never dropped.
///
/// [`DeliveryStore::retry`]: crate::once::DeliveryStore::retry
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// How many attempts in all, at least 1; 8 by default.
    pub attempts: u32,
    /// The delay after the first failure; 1 s by default.
    pub first_delay: Duration,
    /// The longest delay; 10 minutes by default.
    pub max_delay: Duration,
    /// How much each delay grows over the one before; 2 by default.
    pub factor: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 8,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(600),
            factor: 2.0,
        }
    }
}

impl RetryPolicy {
    /// How long to wait after attempt `attempt` (from 1) failed, or `None`
    /// when it was the last.
    pub fn delay_after(&self, attempt: u32) -> Option<Duration> {
        if attempt >= self.attempts.max(1) {
            return None;
        }
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let seconds = self.first_delay.as_secs_f64() * self.factor.max(1.0).powi(exponent);
        let capped = seconds.min(self.max_delay.as_secs_f64());
        Some(Duration::try_from_secs_f64(capped).unwrap_or(self.max_delay))
    }
}
