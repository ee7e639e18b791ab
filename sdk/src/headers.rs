//! The delivery's headers: their names, where they come from
//! ([`HeaderSource`]: an `http::HeaderMap` or plain name/value pairs) and
//! the one pass that picks out and reads the ones that matter.

use crate::delivery::{ContentType, DeliveryId};
use crate::secret::{Signature, trim_ows};

/// The names of the headers of a delivery, as the contract spells them.
///
/// Header names are case-insensitive; these work as keys of an
/// [`http::HeaderMap`] as they are.
pub mod header {
    /// The event name, e.g. `credit_transfer`.
    pub const EVENT: &str = "X-ICR-Event";
    /// The delivery's GUID, the same for a redelivery.
    pub const DELIVERY: &str = "X-ICR-Delivery";
    /// The webhook's numeric ID.
    pub const HOOK_ID: &str = "X-ICR-Hook-ID";
    /// What the webhook belongs to: `integration`.
    pub const INSTALLATION_TARGET_TYPE: &str = "X-ICR-Hook-Installation-Target-Type";
    /// The ICR App's numeric ID.
    pub const INSTALLATION_TARGET_ID: &str = "X-ICR-Hook-Installation-Target-ID";
    /// `sha256=` and the HMAC-SHA256 of the body, in hex.
    pub const SIGNATURE_256: &str = "X-ICR-Signature-256";
    /// `application/json` or `application/x-www-form-urlencoded`.
    pub const CONTENT_TYPE: &str = "Content-Type";
}

/// Where a delivery's headers come from: anything that can list its
/// headers as name and raw value.
///
/// Implemented for [`http::HeaderMap`] and for slices, arrays and vectors
/// of `(name, value)` pairs (`&str` and `String` names; `&str`, `String`,
/// `&[u8]` and `Vec<u8>` values), so frameworks that do not use the `http`
/// crate can hand over their headers as they are. Names are compared without
/// regard to case; a header given twice is seen twice.
pub trait HeaderSource {
    /// Calls `visit` with the name and raw value of each header.
    fn visit_headers(&self, visit: &mut dyn FnMut(&str, &[u8]));
}

impl HeaderSource for http::HeaderMap {
    fn visit_headers(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self {
            visit(name.as_str(), value.as_bytes());
        }
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> HeaderSource for [(N, V)] {
    fn visit_headers(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self {
            visit(name.as_ref(), value.as_ref());
        }
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>, const LEN: usize> HeaderSource for [(N, V); LEN] {
    fn visit_headers(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        self.as_slice().visit_headers(visit);
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> HeaderSource for Vec<(N, V)> {
    fn visit_headers(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        self.as_slice().visit_headers(visit);
    }
}

impl<T: HeaderSource + ?Sized> HeaderSource for &T {
    fn visit_headers(&self, visit: &mut dyn FnMut(&str, &[u8])) {
        (**self).visit_headers(visit);
    }
}

/// A header seen not at all, once or more than once.
#[derive(Debug, Default)]
pub(crate) enum Slot<T> {
    /// Not present (or, for some headers, empty).
    #[default]
    Absent,
    /// Present once, read.
    One(T),
    /// Present more than once.
    Repeated,
}

impl<T> Slot<T> {
    fn put(&mut self, value: T) {
        *self = match self {
            Self::Absent => Self::One(value),
            Self::One(_) | Self::Repeated => Self::Repeated,
        };
    }
}

/// The headers that matter, each read once as it goes by.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// The signature, or `None` when malformed.
    pub(crate) signature: Slot<Option<Signature>>,
    /// The content type, or the media type that is not supported.
    pub(crate) content_type: Slot<Result<ContentType, Option<String>>>,
    /// The event name, or `None` when it is not UTF-8.
    pub(crate) event: Slot<Option<String>>,
    /// The delivery ID, or `None` when it is not a UUID.
    pub(crate) delivery: Slot<Option<DeliveryId>>,
    pub(crate) hook_id: Slot<Option<u64>>,
    pub(crate) target_type: Slot<Option<String>>,
    pub(crate) target_id: Slot<Option<u64>>,
}

impl Collected {
    pub(crate) fn from_source<H: HeaderSource + ?Sized>(headers: &H) -> Self {
        let mut collected = Self::default();
        headers.visit_headers(&mut |name, value| collected.see(name, value));
        collected
    }

    fn see(&mut self, name: &str, value: &[u8]) {
        let is = |known: &str| name.eq_ignore_ascii_case(known);
        if is(header::SIGNATURE_256) {
            self.signature.put(Signature::from_header(value).ok());
        } else if is(header::CONTENT_TYPE) {
            self.content_type.put(ContentType::from_header(value));
        } else if is(header::EVENT) {
            let value = trim_ows(value);
            if !value.is_empty() {
                self.event.put(text(value).map(str::to_owned));
            }
        } else if is(header::DELIVERY) {
            let value = trim_ows(value);
            if !value.is_empty() {
                self.delivery
                    .put(text(value).and_then(|id| id.parse::<DeliveryId>().ok()));
            }
        } else if is(header::HOOK_ID) {
            self.hook_id.put(number(value));
        } else if is(header::INSTALLATION_TARGET_TYPE) {
            self.target_type
                .put(text(trim_ows(value)).map(str::to_owned));
        } else if is(header::INSTALLATION_TARGET_ID) {
            self.target_id.put(number(value));
        }
    }
}

fn text(value: &[u8]) -> Option<&str> {
    std::str::from_utf8(value).ok()
}

fn number(value: &[u8]) -> Option<u64> {
    text(trim_ows(value))?.parse().ok()
}

impl<T> Slot<Option<T>> {
    /// The value when the header was present once and readable.
    pub(crate) fn into_value(self) -> Option<T> {
        match self {
            Self::One(value) => value,
            Self::Absent | Self::Repeated => None,
        }
    }
}
