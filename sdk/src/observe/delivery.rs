//! One delivery observed from its first byte to its answer
//! ([`Observed`]): its span and fields, the closing event at its level,
//! and its count. Without the features it is empty and every call
//! compiles to nothing.

use std::future::Future;

#[cfg(feature = "tracing")]
use crate::headers::{DELIVERY_ID_LEN, lower_case_id};

#[cfg(any(feature = "tracing", feature = "metrics"))]
use super::labels;

/// [`header::EVENT`](crate::contract::header::EVENT), as `http` names it.
#[cfg(any(feature = "tracing", feature = "metrics"))]
static EVENT: http::HeaderName = http::HeaderName::from_static("x-icr-event");
/// [`header::DELIVERY`](crate::contract::header::DELIVERY).
#[cfg(feature = "tracing")]
static DELIVERY: http::HeaderName = http::HeaderName::from_static("x-icr-delivery");
/// [`header::HOOK_ID`](crate::contract::header::HOOK_ID).
#[cfg(feature = "tracing")]
static HOOK_ID: http::HeaderName = http::HeaderName::from_static("x-icr-hook-id");

/// What the SDK saw of one delivery; closed with [`finish`](Self::finish)
/// once its answer is known, or as `cancelled` when dropped before (the
/// client went away).
#[must_use]
pub(crate) struct Observed {
    #[cfg(feature = "tracing")]
    traced: super::span::Traced,
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
    /// Each is read as the receiver reads it: one value (an empty GUID or
    /// event name does not count), else none; looked up by its name, not
    /// found by a walk over all headers.
    #[inline]
    pub(crate) fn start(headers: &http::HeaderMap) -> Self {
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        {
            let single = |name, skip_empty| single(headers, name, skip_empty);
            let event = single(&EVENT, true).map_or(labels::UNKNOWN, labels::event);
            Self {
                #[cfg(feature = "tracing")]
                traced: {
                    let mut id = [0; DELIVERY_ID_LEN];
                    let id = single(&DELIVERY, true).and_then(|text| lower_case_id(text, &mut id));
                    let hook = single(&HOOK_ID, false).and_then(|hook| hook.parse::<u64>().ok());
                    super::span::Traced::new(super::span::delivery(id, event, hook))
                },
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
        self.traced.instrument(future)
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
        self.traced.action(event, action);
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
            super::span::answered(&self.traced, outcome, status);
            #[cfg(feature = "metrics")]
            count(self.event, outcome);
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

/// The one value of header `name`, trimmed (`None` when it is not UTF-8),
/// as the receiver reads it: empty values skipped when `skip_empty`, none
/// when there are more.
#[cfg(any(feature = "tracing", feature = "metrics"))]
fn single<'h>(
    headers: &'h http::HeaderMap,
    name: &http::HeaderName,
    skip_empty: bool,
) -> Option<&'h str> {
    let mut values = headers
        .get_all(name)
        .iter()
        .map(|value| std::str::from_utf8(value.as_bytes()).ok().map(str::trim))
        .filter(|value| !(skip_empty && *value == Some("")));
    let first = values.next().flatten();
    first.filter(|_| values.next().is_none())
}

/// Counts a delivery of `event` ended as `outcome`, by a key this thread
/// built once for the pair: the label set is bounded (the catalogue's
/// events and `unknown`, times the outcome codes), and a key built on each
/// call would allocate its labels and hash them again.
#[cfg(feature = "metrics")]
fn count(event: &'static str, outcome: &'static str) {
    type Keys = std::collections::HashMap<(&'static str, &'static str), metrics::Key>;
    thread_local! {
        static KEYS: std::cell::RefCell<Keys> = std::cell::RefCell::default();
    }
    static METADATA: metrics::Metadata<'static> =
        metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));
    let key = |(event, outcome): (&'static str, &'static str)| {
        metrics::Key::from_parts(
            "icr_webhooks_deliveries_total",
            vec![
                metrics::Label::from_static_parts("event", event),
                metrics::Label::from_static_parts("outcome", outcome),
            ],
        )
    };
    let increment = |key: &metrics::Key| {
        metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA)).increment(1);
    };
    let counted = KEYS.try_with(|keys| {
        let mut keys = keys.try_borrow_mut().ok()?;
        increment(
            keys.entry((event, outcome))
                .or_insert_with_key(|pair| key(*pair)),
        );
        Some(())
    });
    if !matches!(counted, Ok(Some(()))) {
        // The thread is ending, or a recorder counted while counting.
        increment(&key((event, outcome)));
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use super::*;
    use crate::contract::header;

    #[test]
    fn a_header_is_read_as_the_receiver_reads_it() {
        /// The values of the header, whether empty ones are skipped, and
        /// what is read.
        type Case = (&'static [&'static [u8]], bool, Option<&'static str>);
        let cases: [Case; 8] = [
            (&[], true, None),
            (&[b" ping "], true, Some("ping")),
            (&[b"", b"ping"], true, Some("ping")),
            (&[b"", b"ping"], false, None),
            (&[b"  "], false, Some("")),
            (&[b"ping", b"ping"], true, None),
            (&[b"\xff"], true, None),
            (&[b"7", b""], true, Some("7")),
        ];
        for (values, skip_empty, expected) in cases {
            let mut headers = http::HeaderMap::new();
            for value in values {
                headers.append(&EVENT, http::HeaderValue::from_bytes(value).unwrap());
            }
            assert_eq!(
                single(&headers, &EVENT, skip_empty),
                expected,
                "{values:?} {skip_empty}"
            );
        }
    }

    #[test]
    fn the_header_names_looked_up_are_the_contracts() {
        for (looked_up, contract) in [
            (&EVENT, header::EVENT),
            (&DELIVERY, header::DELIVERY),
            (&HOOK_ID, header::HOOK_ID),
        ] {
            assert_eq!(
                looked_up,
                &http::HeaderName::from_bytes(contract.as_bytes()).unwrap()
            );
        }
    }
}
