//! The `tracing` side (feature `tracing`): the delivery and job spans,
//! created with what is known at the start and completed in one recording
//! when they close (a subscriber formats the late fields once, not once per
//! step); the marks the timed steps leave meanwhile, in a task-local that
//! the span's future carries; and the events that close the spans, each at
//! its level.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tracing::field::Empty;

/// One value left by a step, `u64::MAX` while none.
#[derive(Debug)]
pub(super) struct Mark(AtomicU64);

impl Default for Mark {
    fn default() -> Self {
        Self(AtomicU64::new(u64::MAX))
    }
}

impl Mark {
    pub(super) fn set(&self, value: u64) {
        self.0.store(value.min(u64::MAX - 1), Ordering::Relaxed);
    }

    pub(super) fn get(&self) -> Option<u64> {
        Some(self.0.load(Ordering::Relaxed)).filter(|value| *value != u64::MAX)
    }
}

/// What the timed steps of one delivery or job left, recorded on its span
/// when it closes.
#[derive(Debug, Default)]
pub(super) struct Marks {
    pub(super) body_bytes: Mark,
    pub(super) verify_us: Mark,
    pub(super) parse_us: Mark,
    pub(super) store_us: Mark,
    pub(super) handler_us: Mark,
    /// The payload's action, as its catalogue name or `unknown`.
    pub(super) action: std::sync::OnceLock<&'static str>,
}

tokio::task_local! {
    /// The marks of the delivery or job whose future is running, if a
    /// subscriber takes its span.
    static MARKS: Option<Arc<Marks>>;
}

/// A delivery's or job's span and, when a subscriber takes it, the marks
/// its steps leave (none to allocate and fill for a span nobody records).
#[derive(Debug)]
pub(super) struct Traced {
    pub(super) span: tracing::Span,
    marks: Option<Arc<Marks>>,
}

impl Traced {
    pub(super) fn new(span: tracing::Span) -> Self {
        let marks = (!span.is_disabled()).then(Arc::default);
        Self { span, marks }
    }

    /// The marks, `None` when no subscriber takes the span.
    pub(super) fn marks(&self) -> Option<&Marks> {
        self.marks.as_deref()
    }

    /// Marks the payload's `action` of `event` (`None` for an event
    /// without one), as its catalogue name or `unknown`.
    pub(super) fn action(&self, event: &str, action: Option<&str>) {
        if let (Some(marks), Some(action)) = (self.marks(), super::labels::action(event, action)) {
            let _ = marks.action.set(action);
        }
    }

    /// `future`, inside the span, with the marks as those of its steps.
    pub(super) fn instrument<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        MARKS.scope(
            self.marks.clone(),
            tracing::Instrument::instrument(future, self.span.clone()),
        )
    }
}

/// Leaves `value` in the current delivery's or job's marks, if any.
pub(super) fn mark(pick: fn(&Marks) -> &Mark, value: u64) {
    let _ = MARKS.try_with(|marks| {
        if let Some(marks) = marks {
            pick(marks).set(value);
        }
    });
}

/// `f`, to run on another thread, with the marks current here.
pub(super) fn carry<T>(f: impl FnOnce() -> T) -> impl FnOnce() -> T {
    let marks = MARKS.try_with(Clone::clone).ok();
    let span = tracing::Span::current();
    move || {
        let f = || span.in_scope(f);
        match marks {
            Some(marks) => MARKS.sync_scope(marks, f),
            None => f(),
        }
    }
}

pub(super) fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

/// A new delivery span, with what the headers say.
pub(super) fn delivery(id: Option<&str>, event: &'static str, hook: Option<u64>) -> tracing::Span {
    tracing::info_span!(
        target: "icr_webhooks",
        "icr_webhooks.delivery",
        delivery_id = id,
        event,
        action = Empty,
        hook_id = hook,
        body_bytes = Empty,
        outcome = Empty,
        status = Empty,
        verify_us = Empty,
        parse_us = Empty,
        store_us = Empty,
    )
}

/// Closes a delivery span: its late fields in one recording, then the
/// event at the level of its status: 401 `WARN`, 5xx `ERROR`, any other
/// 4xx `INFO`, an answer given (or left to the handler) `DEBUG`.
pub(super) fn answered(traced: &Traced, outcome: &'static str, status: Option<u16>) {
    let (span, Some(marks)) = (&traced.span, traced.marks()) else {
        return;
    };
    tracing::record_all!(
        span,
        action = marks.action.get().copied(),
        body_bytes = marks.body_bytes.get(),
        outcome = outcome,
        status = status,
        verify_us = marks.verify_us.get(),
        parse_us = marks.parse_us.get(),
        store_us = marks.store_us.get(),
    );
    span.in_scope(|| match status {
        Some(401) => tracing::warn!(
            target: "icr_webhooks",
            outcome,
            status,
            "delivery refused: bad signature"
        ),
        Some(500..) => tracing::error!(
            target: "icr_webhooks",
            outcome,
            status,
            "delivery not taken: the server failed"
        ),
        Some(400..) => tracing::info!(target: "icr_webhooks", outcome, status, "delivery refused"),
        _ => tracing::debug!(target: "icr_webhooks", outcome, status, "delivery answered"),
    });
}

/// A new job span, for one attempt at a stored delivery.
pub(super) fn job(delivery_id: &str, event: &str, hook_id: u64, attempt: u32) -> tracing::Span {
    tracing::info_span!(
        target: "icr_webhooks",
        "icr_webhooks.job",
        delivery_id,
        event,
        action = Empty,
        hook_id,
        attempt,
        outcome = Empty,
        retry_in_ms = Empty,
        parse_us = Empty,
        handler_us = Empty,
        store_us = Empty,
    )
}

/// Closes a job span: its late fields in one recording, then its event: a
/// retry `WARN`, a dead delivery `ERROR`, a job done `DEBUG`.
pub(super) fn settled(traced: &Traced, outcome: &'static str, retry_in: Option<Duration>) {
    let (span, Some(marks)) = (&traced.span, traced.marks()) else {
        return;
    };
    let retry_in_ms = retry_in.map(|delay| micros(delay) / 1000);
    tracing::record_all!(
        span,
        action = marks.action.get().copied(),
        outcome = outcome,
        retry_in_ms = retry_in_ms,
        parse_us = marks.parse_us.get(),
        handler_us = marks.handler_us.get(),
        store_us = marks.store_us.get(),
    );
    span.in_scope(|| match outcome {
        "retry" => tracing::warn!(
            target: "icr_webhooks",
            outcome,
            retry_in_ms,
            "inbox job failed; retrying"
        ),
        "dead" | "unparsable" => tracing::error!(
            target: "icr_webhooks",
            outcome,
            "inbox delivery dead: no more attempts"
        ),
        _ => tracing::debug!(target: "icr_webhooks", outcome, "inbox job settled"),
    });
}
