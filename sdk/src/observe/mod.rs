//! What the SDK tells an operator (features `tracing` and `metrics`): one
//! span per delivery and per inbox job, events at levels to filter, and
//! counters, histograms and gauges on the [`metrics`](https://docs.rs/metrics)
//! facade. Without the features nothing here is compiled in.
//!
//! Nothing recorded holds a secret, a signature, a body or any value of
//! the payload, at any level: the values come from the catalogue, from the
//! fixed outcome codes, or are numbers and GUIDs. An event or action this
//! version does not know is `unknown`, so a sender cannot grow a label set.
//!
//! # Spans (feature `tracing`)
//!
//! Every span and event has the target `icr_webhooks` (`RUST_LOG=icr_webhooks=debug`).
//!
//! `icr_webhooks.delivery` ([`DELIVERY_SPAN`], level `INFO`): one request,
//! from the start of the body read to its answer, made by the framework
//! integrations (the axum and actix-web extractors, the tower layer). When
//! the handler or the inner service answers, the span ends as the delivery
//! is handed to it, without a `status`.
//!
//! | field | value |
//! | --- | --- |
//! | `delivery_id` | the `X-ICR-Delivery` GUID, when it is a UUID |
//! | `event` | the `X-ICR-Event` name when the catalogue has it, else `unknown` |
//! | `action` | the payload's action when the catalogue has it, else `unknown`; absent for an event without actions or a refused delivery |
//! | `hook_id` | `X-ICR-Hook-ID`, when a number |
//! | `body_bytes` | the size of the body, once read whole |
//! | `outcome` | how it ended: an outcome code (below) |
//! | `status` | the HTTP status answered; absent when the handler answers |
//! | `verify_us` | microseconds spent checking the signature |
//! | `parse_us` | microseconds spent in the typed parse |
//! | `store_us` | microseconds of the store call (the claim, or the inbox's accept) |
//!
//! | outcome | status | when |
//! | --- | --- | --- |
//! | a [`ReceiveError::code`](crate::ReceiveError::code): `signature_mismatch`, `malformed_json`, … | its status: 401, 413, 415, 400 | refused by a check of the contract |
//! | `body_timeout`, `body_read` | 408, 400 | the body did not arrive in time, or the connection failed |
//! | `in_progress` | 409 | exactly once: another request holds the delivery |
//! | `store_unavailable` | 503 | the store failed |
//! | `missing_state` | 500 | actix-web: the app data an extractor needs is missing |
//! | `verified` | none: the handler's | a verified delivery handed to the handler |
//! | `claimed` | none: the handler's | exactly once: a new delivery handed to the handler with its claim |
//! | `duplicate` | 200 | processed (or accepted) already |
//! | `accepted` | 202 | stored in the inbox |
//! | `cancelled` | none | the request was dropped before an answer (the client went away) |
//!
//! `icr_webhooks.job` ([`JOB_SPAN`], level `INFO`): one attempt of an
//! inbox worker, with `delivery_id`, `event`, `action`, `hook_id`,
//! `attempt` (from 1), `outcome` (`done`, `retry`, `dead`, or `unparsable`
//! for a stored delivery that no longer parses, dead at once),
//! `retry_in_ms`, `parse_us`, `handler_us` (the handler's time) and
//! `store_us` (the settlement's). The handler's error is kept in the store
//! (`DeliveryStore::get`), never logged: it may quote the payload.
//!
//! Each span ends with one event, at the level its operator acts on:
//!
//! | level | event |
//! | --- | --- |
//! | `ERROR` | a delivery answered 5xx (`store_unavailable`); an inbox delivery dead (`dead`, `unparsable`) |
//! | `WARN` | a delivery refused 401: no, a malformed or a wrong signature (someone without the secret, or a secret not rotated in); an inbox job failed and will be retried (`retry`, with `retry_in_ms`) |
//! | `INFO` | a delivery refused with any other 4xx: the client's mistake (413, 415, 400, 408, 409) |
//! | `DEBUG` | a delivery answered 2xx or handed to the handler, or cancelled; a job done |
//!
//! # Metrics (feature `metrics`)
//!
//! Recorded through the `metrics` facade to whatever recorder the
//! application installs (a Prometheus exporter, say):
//!
//! | metric | kind | labels | what |
//! | --- | --- | --- | --- |
//! | `icr_webhooks_deliveries_total` | counter | `event` (a catalogue name or `unknown`), `outcome` (the codes above) | deliveries, by how each ended |
//! | `icr_webhooks_body_bytes` | histogram | | the size of each request's body read whole |
//! | `icr_webhooks_verify_seconds` | histogram | | each signature check, by any [`Receiver`](crate::Receiver) call (one outside a request too) |
//! | `icr_webhooks_parse_seconds` | histogram | | each typed parse of a payload (an inbox worker's too) |
//! | `icr_webhooks_store_seconds` | histogram | `op`: `claim`, `complete`, `abort`, `accept`, `claim_jobs`, `fail` | each call to the delivery store |
//! | `icr_webhooks_inbox_attempts_total` | counter | | inbox job attempts started |
//! | `icr_webhooks_inbox_retries_total` | counter | | failed attempts to be retried |
//! | `icr_webhooks_inbox_dead_total` | counter | | deliveries that went dead here |
//! | `icr_webhooks_inbox_pending` | gauge | | deliveries waiting in the store (new or awaiting a retry), as the workers last read it |
//! | `icr_webhooks_inbox_dead` | gauge | | dead deliveries in the store, as the workers last read it |
//!
//! The workers read the two gauges from the store when they start, at
//! most once a second while they claim jobs, and when they shut down.
//!
//! # Cost
//!
//! Measured on `icr-webhooks listen` (`bench/README.md`): with tracing at
//! `info` into a JSON log and a Prometheus recorder, a delivery costs about
//! 9,300 instructions more than with neither, 2.7 to 4.6 µs of CPU (8 to
//! 11 % of a receive), and a server at full load takes about 0.92 of the
//! deliveries it takes without.
//! The delivery span is opened with what the headers say and completed with
//! one record when it closes, so a subscriber formats its late fields once.
//! Without a subscriber or a recorder the calls find nothing to do, and
//! without the features nothing is compiled in.
//!
//! One subscriber setting weighs more than all of that:
//! `tracing_subscriber::fmt().json()` formats span fields with `JsonFields`,
//! which parses a span's JSON back and writes it all again on each record,
//! about 20,000 instructions for the delivery span. Its text formats append
//! instead. `listen --log-format json` writes the same lines through a layer
//! of its own that keeps span fields as values until an event shows them.

// The delivery span is opened by the framework integrations.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
mod delivery;
mod job;
#[cfg(any(feature = "tracing", feature = "metrics"))]
mod labels;
#[cfg(feature = "tracing")]
mod span;
mod timing;

#[cfg_attr(not(feature = "axum"), allow(unused_imports))]
pub(crate) use delivery::Observed;
pub(crate) use job::{GAUGES, JobObserved, JobOutcome, inbox_gauges};
#[cfg_attr(not(feature = "axum"), allow(unused_imports))]
pub(crate) use timing::body_read;
pub(crate) use timing::{Step, StoreOp, carry, step, store};

/// The name of the span of one delivery.
pub const DELIVERY_SPAN: &str = "icr_webhooks.delivery";

/// The name of the span of one inbox job attempt.
pub const JOB_SPAN: &str = "icr_webhooks.job";

/// The target of every span and event.
pub const TARGET: &str = "icr_webhooks";

/// The outcome of a verified delivery handed to the handler.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) const VERIFIED: &str = "verified";
/// The outcome of a new delivery handed to the handler with its claim.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) const CLAIMED: &str = "claimed";
/// The outcome of a delivery processed or accepted already.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) const DUPLICATE: &str = "duplicate";
/// The outcome of a delivery stored in the inbox.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) const ACCEPTED: &str = "accepted";
/// The outcome of a request dropped before its answer.
#[cfg_attr(not(any(feature = "tracing", feature = "metrics")), allow(dead_code))]
pub(crate) const CANCELLED: &str = "cancelled";
