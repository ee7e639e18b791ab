//! One attempt of an inbox worker at a stored delivery ([`JobObserved`]):
//! its span, its closing event (a retry `WARN`, a dead delivery `ERROR`)
//! and the inbox's counters; and the inbox's gauges.

use std::future::Future;
use std::time::Duration;

/// How an attempt ended, as the job span's `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobOutcome {
    /// The handler succeeded and the delivery is done (`done`).
    Done,
    /// The handler failed; retried after the delay (`retry`).
    Retry(Duration),
    /// The handler failed its last attempt: dead (`dead`).
    Dead,
    /// The stored delivery no longer parses: dead at once (`unparsable`).
    Unparsable,
}

impl JobOutcome {
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    fn as_str(self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Retry(_) => "retry",
            Self::Dead => "dead",
            Self::Unparsable => "unparsable",
        }
    }
}

/// What the SDK saw of one job attempt.
#[must_use]
pub(crate) struct JobObserved {
    #[cfg(feature = "tracing")]
    traced: super::span::Traced,
    #[cfg(feature = "tracing")]
    started: std::time::Instant,
}

impl JobObserved {
    /// Starts observing attempt `attempt` at delivery `delivery_id` of
    /// event `event_name` (its catalogue name or `unknown`), from hook
    /// `hook_id`.
    #[inline]
    pub(crate) fn start(delivery_id: &str, event_name: &str, hook_id: u64, attempt: u32) -> Self {
        #[cfg(feature = "metrics")]
        metrics::counter!("icr_webhooks_inbox_attempts_total").increment(1);
        #[cfg(feature = "tracing")]
        {
            let event = super::labels::event(event_name);
            Self {
                traced: super::span::Traced::new(super::span::job(
                    delivery_id,
                    event,
                    hook_id,
                    attempt,
                )),
                started: std::time::Instant::now(),
            }
        }
        #[cfg(not(feature = "tracing"))]
        {
            let _ = (delivery_id, event_name, hook_id, attempt);
            Self {}
        }
    }

    /// `future`, run inside the job's span.
    #[cfg(feature = "tracing")]
    #[inline]
    pub(crate) fn instrument<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        self.traced.instrument(future)
    }

    /// `future`, as it is (no span without the `tracing` feature).
    #[cfg(not(feature = "tracing"))]
    #[inline]
    pub(crate) fn instrument<F: Future>(&self, future: F) -> F {
        future
    }

    /// The parsed delivery's action.
    #[inline]
    pub(crate) fn action(&self, event: &str, action: Option<&str>) {
        #[cfg(feature = "tracing")]
        self.traced.action(event, action);
        let _ = (event, action);
    }

    /// The handler returned: how long it ran (since the start).
    #[inline]
    pub(crate) fn handled(&self) {
        #[cfg(feature = "tracing")]
        if let Some(marks) = self.traced.marks() {
            marks
                .handler_us
                .set(super::span::micros(self.started.elapsed()));
        }
    }

    /// The attempt is settled as `outcome`.
    #[inline]
    pub(crate) fn finish(self, outcome: JobOutcome) {
        #[cfg(feature = "metrics")]
        match outcome {
            JobOutcome::Retry(_) => {
                metrics::counter!("icr_webhooks_inbox_retries_total").increment(1);
            }
            JobOutcome::Dead | JobOutcome::Unparsable => {
                metrics::counter!("icr_webhooks_inbox_dead_total").increment(1);
            }
            JobOutcome::Done => {}
        }
        #[cfg(feature = "tracing")]
        {
            let retry_in = match outcome {
                JobOutcome::Retry(delay) => Some(delay),
                _ => None,
            };
            super::span::settled(&self.traced, outcome.as_str(), retry_in);
        }
        let _ = outcome;
    }
}

/// Whether the inbox's gauges are kept: the dispatcher reads the store's
/// counts for them only then.
pub(crate) const GAUGES: bool = cfg!(feature = "metrics");

/// Sets the inbox's gauges from the store's counts.
#[inline]
pub(crate) fn inbox_gauges(pending: u64, dead: u64) {
    #[cfg(feature = "metrics")]
    {
        #[allow(clippy::cast_precision_loss)]
        {
            metrics::gauge!("icr_webhooks_inbox_pending").set(pending as f64);
            metrics::gauge!("icr_webhooks_inbox_dead").set(dead as f64);
        }
    }
    let _ = (pending, dead);
}
