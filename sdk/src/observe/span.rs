//! The `tracing` side (feature `tracing`): the delivery and job spans with
//! their fields, the events that close them, each at its level, and the
//! recording of a timed step into the span it runs in.

use std::time::Duration;

use tracing::field::Empty;

use super::{DELIVERY_SPAN, JOB_SPAN};

/// A new delivery span, every field empty.
pub(super) fn delivery() -> tracing::Span {
    tracing::info_span!(
        target: "icr_webhooks",
        "icr_webhooks.delivery",
        delivery_id = Empty,
        event = Empty,
        action = Empty,
        hook_id = Empty,
        body_bytes = Empty,
        outcome = Empty,
        status = Empty,
        verify_us = Empty,
        parse_us = Empty,
        store_us = Empty,
    )
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

/// Records `elapsed` in microseconds as `field` of the current span, when
/// it is a delivery or job span (never in a span of the application's).
pub(super) fn record_micros(field: &'static str, elapsed: Duration) {
    record(field, micros(elapsed));
}

/// Records `value` as `field` of the current span, when it is a delivery
/// or job span.
pub(super) fn record(field: &'static str, value: u64) {
    let span = tracing::Span::current();
    let ours = span
        .metadata()
        .is_some_and(|meta| meta.name() == DELIVERY_SPAN || meta.name() == JOB_SPAN);
    if ours {
        span.record(field, value);
    }
}

pub(super) fn micros(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX)
}

/// The event that closes a delivery span, at the level of its status: 401
/// `WARN`, 5xx `ERROR`, any other 4xx `INFO`, an answer given (or left to
/// the handler) `DEBUG`.
pub(super) fn answered(span: &tracing::Span, outcome: &'static str, status: Option<u16>) {
    span.record("outcome", outcome);
    if let Some(status) = status {
        span.record("status", status);
    }
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

/// The event that closes a job span.
pub(super) fn settled(span: &tracing::Span, outcome: &'static str, retry_in: Option<Duration>) {
    span.record("outcome", outcome);
    let retry_in_ms = retry_in.map(|delay| micros(delay) / 1000);
    if let Some(ms) = retry_in_ms {
        span.record("retry_in_ms", ms);
    }
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
