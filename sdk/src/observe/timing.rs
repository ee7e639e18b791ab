//! The body's size, the timed steps of receiving (the signature check, the typed parse) and
//! of the store's calls: each one's time goes to its histogram and, when it
//! runs inside a delivery or job span, to that span's field.

use std::future::Future;

/// A step of receiving, timed on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// The MAC over the body, with every secret.
    Verify,
    /// The typed parse of the payload.
    Parse,
}

/// A call to the delivery store, the `op` label of its histogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StoreOp {
    /// `claim`, for exactly-once processing.
    Claim,
    /// `complete`.
    Complete,
    /// `abort`.
    Abort,
    /// `accept`, into the inbox.
    Accept,
    /// `claim_jobs`, by the inbox's workers.
    ClaimJobs,
    /// `fail`, a job's failed attempt.
    Fail,
}

impl StoreOp {
    /// The op's histogram, by a key built once (literal labels) rather
    /// than on each call.
    #[cfg(feature = "metrics")]
    fn histogram(self) -> metrics::Histogram {
        match self {
            Self::Claim => metrics::histogram!("icr_webhooks_store_seconds", "op" => "claim"),
            Self::Complete => metrics::histogram!("icr_webhooks_store_seconds", "op" => "complete"),
            Self::Abort => metrics::histogram!("icr_webhooks_store_seconds", "op" => "abort"),
            Self::Accept => metrics::histogram!("icr_webhooks_store_seconds", "op" => "accept"),
            Self::ClaimJobs => {
                metrics::histogram!("icr_webhooks_store_seconds", "op" => "claim_jobs")
            }
            Self::Fail => metrics::histogram!("icr_webhooks_store_seconds", "op" => "fail"),
        }
    }
}

/// Runs `f`, the step `step`, timed.
#[inline]
pub(crate) fn step<T>(step: Step, f: impl FnOnce() -> T) -> T {
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    {
        let start = std::time::Instant::now();
        let out = f();
        let elapsed = start.elapsed();
        #[cfg(feature = "metrics")]
        match step {
            Step::Verify => metrics::histogram!("icr_webhooks_verify_seconds"),
            Step::Parse => metrics::histogram!("icr_webhooks_parse_seconds"),
        }
        .record(elapsed.as_secs_f64());
        #[cfg(feature = "tracing")]
        super::span::mark(
            match step {
                Step::Verify => |marks| &marks.verify_us,
                Step::Parse => |marks| &marks.parse_us,
            },
            super::span::micros(elapsed),
        );
        out
    }
    #[cfg(not(any(feature = "tracing", feature = "metrics")))]
    {
        let _ = step;
        f()
    }
}

/// A request's body of `len` bytes is read whole.
#[inline]
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) fn body_read(len: usize) {
    #[cfg(feature = "metrics")]
    {
        #[allow(clippy::cast_precision_loss)]
        metrics::histogram!("icr_webhooks_body_bytes").record(len as f64);
    }
    #[cfg(feature = "tracing")]
    super::span::mark(
        |marks| &marks.body_bytes,
        u64::try_from(len).unwrap_or(u64::MAX),
    );
    let _ = len;
}

/// Awaits `call`, the store call `op`, timed.
#[inline]
pub(crate) async fn store<T>(op: StoreOp, call: impl Future<Output = T>) -> T {
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    {
        let start = std::time::Instant::now();
        let out = call.await;
        let elapsed = start.elapsed();
        let _ = op;
        #[cfg(feature = "metrics")]
        op.histogram().record(elapsed.as_secs_f64());
        #[cfg(feature = "tracing")]
        super::span::mark(|marks| &marks.store_us, super::span::micros(elapsed));
        out
    }
    #[cfg(not(any(feature = "tracing", feature = "metrics")))]
    {
        let _ = op;
        call.await
    }
}

/// `f`, to run on another thread (tokio's blocking pool) inside the span
/// and with the marks current here, so that the steps it times are
/// recorded in them.
#[inline]
pub(crate) fn carry<T>(f: impl FnOnce() -> T) -> impl FnOnce() -> T {
    #[cfg(feature = "tracing")]
    {
        super::span::carry(f)
    }
    #[cfg(not(feature = "tracing"))]
    f
}
