//! The request handlers (process then answer, accept then process) and the
//! inbox workers' processing, over the receiver's shared state.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use icr_webhooks::axum::{
    Enqueued, InboxRejection, InboxState, OnceDelivery, OnceRejection, OnceState, ReceiverState,
};
use icr_webhooks::once::ExactlyOnce;
use icr_webhooks::once::{self, AcceptError, Inbox, Job, StoreError};
use icr_webhooks::{BoxError, Delivery, Receiver};
use tokio::sync::mpsc;

use super::Accepted;
use super::counts::Counts;
use super::fail::FailRate;
use super::forward::Forward;
use super::record::with_reason;
use crate::stores::ListenStore;

#[derive(Clone)]
pub(super) struct ListenState {
    pub(super) receiver: Receiver,
    pub(super) once: ExactlyOnce,
    pub(super) inbox: Inbox,
    pub(super) store: ListenStore,
    pub(super) fail: Arc<FailRate>,
    pub(super) counts: Arc<Counts>,
    pub(super) verbose: bool,
    pub(super) process_delay: Duration,
    pub(super) accepted: mpsc::UnboundedSender<Accepted>,
    pub(super) forward: Option<Forward>,
}

impl ReceiverState for ListenState {
    fn receiver(&self) -> &Receiver {
        &self.receiver
    }
}

impl OnceState for ListenState {
    fn exactly_once(&self) -> &ExactlyOnce {
        &self.once
    }
}

impl InboxState for ListenState {
    fn inbox(&self) -> &Inbox {
        &self.inbox
    }
}

pub(super) fn note(state: &ListenState, status: u16, code: &str, what: &dyn std::fmt::Display) {
    if state.verbose {
        // A closed stderr drops the line rather than the request.
        let _ = writeln!(
            std::io::stderr().lock(),
            "not processed: {status} {code}: {what}"
        );
    }
}

fn report(state: &ListenState, delivery: &Delivery) {
    let accepted = Accepted {
        delivery: delivery.info.id.as_str().to_owned(),
        event: delivery.event.name().to_owned(),
        action: delivery.event.action().map(str::to_owned),
        known: delivery.event.is_known(),
    };
    // The receiving side may be gone at shutdown; the delivery is processed
    // all the same.
    let _ = state.accepted.send(accepted);
    state.counts.processed.fetch_add(1, Ordering::Relaxed);
}

/// Process, then answer.
pub(super) async fn handle(
    State(state): State<ListenState>,
    once: Result<OnceDelivery, OnceRejection>,
) -> Response {
    let (delivery, claim) = match once {
        Ok(OnceDelivery::New(delivery, claim)) => (delivery, claim),
        Ok(OnceDelivery::Done(delivery)) => {
            state.counts.duplicates.fetch_add(1, Ordering::Relaxed);
            note(&state, 200, "already_processed", delivery.id());
            return with_reason(
                (StatusCode::OK, "delivery already processed").into_response(),
                "already_processed",
            );
        }
        Err(rejection) => {
            let counter = match rejection {
                OnceRejection::InProgress => &state.counts.in_progress,
                OnceRejection::StoreUnavailable(_) => &state.counts.unavailable,
                _ => &state.counts.refused,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            note(
                &state,
                rejection.status().as_u16(),
                rejection.code(),
                &rejection,
            );
            let code = rejection.code();
            return with_reason(rejection.into_response(), code);
        }
    };
    if state.fail.fails(claim.id()) {
        state.counts.injected.fetch_add(1, Ordering::Relaxed);
        note(&state, 500, "injected_failure", claim.id());
        // The claim is given back as it drops: the redelivery is processed.
        return with_reason(
            (StatusCode::INTERNAL_SERVER_ERROR, "injected failure").into_response(),
            "injected_failure",
        );
    }
    if !state.process_delay.is_zero() {
        tokio::time::sleep(state.process_delay).await;
    }
    match state
        .store
        .record_and_complete(claim.key(), claim.token())
        .await
    {
        Ok(()) => {
            claim.committed();
            report(&state, &delivery);
            with_reason((StatusCode::OK, "ok").into_response(), "processed")
        }
        Err(StoreError::Fenced) => {
            state.counts.fenced.fetch_add(1, Ordering::Relaxed);
            note(&state, 409, "fenced", claim.id());
            with_reason(
                (StatusCode::CONFLICT, "claim taken over; redeliver it").into_response(),
                "fenced",
            )
        }
        Err(error) => {
            state.counts.unavailable.fetch_add(1, Ordering::Relaxed);
            note(&state, 503, error.code(), &error);
            with_reason(
                (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response(),
                error.code(),
            )
        }
    }
}

/// Accept, then process: answered once stored.
pub(super) async fn handle_inbox(
    State(state): State<ListenState>,
    enqueued: Result<Enqueued, InboxRejection>,
) -> Response {
    let enqueued = match enqueued {
        Ok(enqueued) => enqueued,
        Err(rejection) => {
            let counter = match &rejection {
                InboxRejection::Accept(AcceptError::Store(_)) => &state.counts.unavailable,
                _ => &state.counts.refused,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            note(
                &state,
                rejection.status().as_u16(),
                rejection.code(),
                &rejection,
            );
            let code = rejection.code();
            return with_reason(rejection.into_response(), code);
        }
    };
    let reason = match enqueued.1 {
        once::Accepted::Stored => {
            state.counts.stored.fetch_add(1, Ordering::Relaxed);
            if state.fail.fails(&enqueued.0.id) {
                state.counts.injected.fetch_add(1, Ordering::Relaxed);
                note(&state, 500, "injected_failure", &enqueued.0.id);
                return with_reason(
                    (StatusCode::INTERNAL_SERVER_ERROR, "injected failure").into_response(),
                    "injected_failure",
                );
            }
            "stored"
        }
        _ => {
            state.counts.duplicates.fetch_add(1, Ordering::Relaxed);
            "already_stored"
        }
    };
    with_reason(enqueued.into_response(), reason)
}

/// An inbox worker's processing of one delivery: a fraction of first
/// attempts fails on purpose; the others record the effect and complete
/// in one transaction.
pub(super) async fn process_job(state: &ListenState, job: Job) -> Result<(), BoxError> {
    if job.attempt == 1 && state.fail.picks_processing(&job.delivery.info.id) {
        state
            .counts
            .processing_failures
            .fetch_add(1, Ordering::Relaxed);
        return Err("injected processing failure".into());
    }
    if !state.process_delay.is_zero() {
        tokio::time::sleep(state.process_delay).await;
    }
    match state
        .store
        .record_and_complete(job.key(), job.token())
        .await
    {
        Ok(()) => {
            job.completed();
            report(state, &job.delivery);
            Ok(())
        }
        // Taken over by another worker, which records it: nothing here.
        Err(StoreError::Fenced) => {
            state.counts.fenced.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        Err(error) => Err(Box::new(error)),
    }
}
