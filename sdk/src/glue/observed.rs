//! What the glue tells [`observe`](crate::observe) about each request:
//! one delivery span around the whole of it (body read, checks, claim or
//! accept), closed with the outcome code and status of its result.

use std::future::Future;

use super::{DeliveryRejection, Enqueued, InboxRejection, OnceDelivery, OnceRejection};
use crate::delivery::{Delivery, DeliveryInfo};
use crate::observe::{self, Observed};
use crate::once::Accepted;

/// A request's result, as the delivery span and counter record it.
pub(super) trait Outcome {
    /// The outcome code and the status answered (`None`: the handler's).
    fn outcome(&self) -> (&'static str, Option<u16>);

    /// The parsed delivery, when there is one, for its action.
    fn delivery(&self) -> Option<&Delivery> {
        None
    }
}

/// Runs `work`, the handling of a request with `headers`, inside a
/// delivery span, and closes it with the outcome of its result.
pub(super) async fn observed<T: Outcome>(
    headers: &http::HeaderMap,
    work: impl Future<Output = T>,
) -> T {
    let observed = Observed::start(headers);
    let result = observed.instrument(work).await;
    if let Some(delivery) = result.delivery() {
        observed.action(&delivery.info.event_name, delivery.event.action());
    }
    let (outcome, status) = result.outcome();
    observed.finish(outcome, status);
    result
}

impl DeliveryRejection {
    fn observed(&self) -> (&'static str, Option<u16>) {
        (self.code(), Some(self.status().as_u16()))
    }
}

impl Outcome for Result<Delivery, DeliveryRejection> {
    fn outcome(&self) -> (&'static str, Option<u16>) {
        match self {
            Ok(_) => (observe::VERIFIED, None),
            Err(rejection) => rejection.observed(),
        }
    }

    fn delivery(&self) -> Option<&Delivery> {
        self.as_ref().ok()
    }
}

impl Outcome for Result<DeliveryInfo, DeliveryRejection> {
    fn outcome(&self) -> (&'static str, Option<u16>) {
        match self {
            Ok(_) => (observe::VERIFIED, None),
            Err(rejection) => rejection.observed(),
        }
    }
}

impl Outcome for Result<OnceDelivery, OnceRejection> {
    fn outcome(&self) -> (&'static str, Option<u16>) {
        match self {
            Ok(OnceDelivery::New(..)) => (observe::CLAIMED, None),
            Ok(OnceDelivery::Done(_)) => (observe::DUPLICATE, Some(200)),
            Err(rejection) => (rejection.code(), Some(rejection.status().as_u16())),
        }
    }

    fn delivery(&self) -> Option<&Delivery> {
        self.as_ref().ok().map(OnceDelivery::delivery)
    }
}

impl Outcome for Result<Enqueued, InboxRejection> {
    fn outcome(&self) -> (&'static str, Option<u16>) {
        match self {
            Ok(Enqueued(_, Accepted::Stored)) => (observe::ACCEPTED, Some(202)),
            Ok(enqueued) => (observe::DUPLICATE, Some(enqueued.answer().status.as_u16())),
            Err(rejection) => (rejection.code(), Some(rejection.status().as_u16())),
        }
    }
}
