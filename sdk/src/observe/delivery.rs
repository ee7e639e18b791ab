//! One delivery observed from its first byte to its answer
//! ([`Observed`]): its span and fields, the closing event at its level,
//! and its count. Without the features it is empty and every call
//! compiles to nothing.

use std::future::Future;

#[cfg(any(feature = "tracing", feature = "metrics"))]
use crate::contract::header;
#[cfg(feature = "tracing")]
use crate::headers::DeliveryId;
use crate::headers::HeaderSource;

#[cfg(any(feature = "tracing", feature = "metrics"))]
use super::labels;

/// What the SDK saw of one delivery; closed with [`finish`](Self::finish)
/// once its answer is known, or as `cancelled` when dropped before (the
/// client went away).
#[must_use]
pub(crate) struct Observed {
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    #[cfg(feature = "tracing")]
    marks: std::sync::Arc<super::span::Marks>,
    #[cfg(feature = "metrics")]
    event: &'static str,
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    open: bool,
}

impl Observed {
    /// Starts observing a delivery whose headers are `headers`. Only what
    /// cannot carry a secret or a payload value is taken from them, before
    /// any check: the GUID when it is a UUID, the event name when the
    /// catalogue has it (else `unknown`), the hook ID when it is a number.
    #[inline]
    pub(crate) fn start<H: HeaderSource + ?Sized>(headers: &H) -> Self {
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        {
            let mut event = None;
            #[cfg(feature = "tracing")]
            let (mut id, mut hook) = (None::<DeliveryId>, None::<u64>);
            headers.visit_headers(&mut |name, value| {
                let text = std::str::from_utf8(value).map(str::trim).unwrap_or("");
                if name.eq_ignore_ascii_case(header::EVENT) {
                    event = Some(labels::event(text));
                }
                #[cfg(feature = "tracing")]
                if name.eq_ignore_ascii_case(header::DELIVERY) {
                    id = text.parse().ok();
                } else if name.eq_ignore_ascii_case(header::HOOK_ID) {
                    hook = text.parse().ok();
                }
            });
            let event = event.unwrap_or(labels::UNKNOWN);
            Self {
                #[cfg(feature = "tracing")]
                span: super::span::delivery(id.as_ref().map(DeliveryId::as_str), event, hook),
                #[cfg(feature = "tracing")]
                marks: std::sync::Arc::default(),
                #[cfg(feature = "metrics")]
                event,
                open: true,
            }
        }
        #[cfg(not(any(feature = "tracing", feature = "metrics")))]
        {
            let _ = headers;
            Self {}
        }
    }

    /// `future`, run inside the delivery's span.
    #[cfg(feature = "tracing")]
    #[inline]
    pub(crate) fn instrument<F: Future>(&self, future: F) -> impl Future<Output = F::Output> {
        super::span::instrument(&self.span, &self.marks, future)
    }

    /// `future`, as it is (no span without the `tracing` feature).
    #[cfg(not(feature = "tracing"))]
    #[inline]
    pub(crate) fn instrument<F: Future>(&self, future: F) -> F {
        future
    }

    /// The action of the verified payload (`None` for an event without
    /// one), as its catalogue name or `unknown`.
    #[inline]
    pub(crate) fn action(&self, event: &str, action: Option<&str>) {
        #[cfg(feature = "tracing")]
        if let Some(action) = labels::action(event, action) {
            let _ = self.marks.action.set(action);
        }
        let _ = (event, action);
    }

    /// The delivery is answered, or handed to the handler (`status`
    /// `None`), as `outcome`.
    #[inline]
    pub(crate) fn finish(mut self, outcome: &'static str, status: Option<u16>) {
        self.close(outcome, status);
    }

    #[cfg_attr(
        not(any(feature = "tracing", feature = "metrics")),
        allow(clippy::unused_self)
    )]
    fn close(&mut self, outcome: &'static str, status: Option<u16>) {
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        {
            self.open = false;
            #[cfg(feature = "tracing")]
            super::span::answered(&self.span, &self.marks, outcome, status);
            #[cfg(feature = "metrics")]
            metrics::counter!(
                "icr_webhooks_deliveries_total",
                "event" => self.event,
                "outcome" => outcome,
            )
            .increment(1);
        }
        let _ = (outcome, status);
    }
}

#[cfg(any(feature = "tracing", feature = "metrics"))]
impl Drop for Observed {
    fn drop(&mut self) {
        if self.open {
            self.close(super::CANCELLED, None);
        }
    }
}
