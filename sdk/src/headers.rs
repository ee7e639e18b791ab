//! The delivery's headers: where they come from ([`HeaderSource`]: an
//! `http::HeaderMap` or plain name/value pairs), the values they carry
//! ([`ContentType`], [`DeliveryId`]) and the one pass that picks out and
//! reads the ones that matter. The bottom layer of receiving: it knows no
//! delivery and no receive error.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;

use crate::contract::header;
use crate::secret::{Signature, trim_ows};

/// How the payload is carried: the `Content type` setting of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentType {
    /// `application/json`: the body is the payload.
    Json,
    /// `application/x-www-form-urlencoded`: the body's `payload` field holds
    /// the payload.
    Form,
}

impl ContentType {
    /// Reads a `Content-Type` value: the media type compared without regard
    /// to case, parameters (`charset=utf-8`, …) ignored.
    ///
    /// # Errors
    /// Any other media type, given back lowercased when it is short and
    /// printable (for the error message).
    pub(crate) fn from_header(value: &[u8]) -> Result<Self, Option<String>> {
        let media = value
            .split(|byte| *byte == b';')
            .next()
            .map(trim_ows)
            .unwrap_or_default();
        if media.eq_ignore_ascii_case(b"application/json") {
            Ok(Self::Json)
        } else if media.eq_ignore_ascii_case(b"application/x-www-form-urlencoded") {
            Ok(Self::Form)
        } else {
            let printable = !media.is_empty()
                && media.len() <= 64
                && media.iter().all(|byte| byte.is_ascii_graphic());
            Err(printable.then(|| String::from_utf8_lossy(media).to_ascii_lowercase()))
        }
    }

    /// The media type, as sent.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Form => "application/x-www-form-urlencoded",
        }
    }
}

/// A delivery's GUID, the `X-ICR-Delivery` header: a UUID in its hyphenated
/// form, kept in lower case.
///
/// A redelivery carries the same GUID, so it is the key to use to process a
/// delivery only once. It borrows as a `str`, so a `HashSet<DeliveryId>` can
/// be asked with a plain string.
///
/// ```
/// use icr_webhooks::receive::DeliveryId;
///
/// let id: DeliveryId = "9B2E4C1A-0F3D-4E5B-8A7C-6D1E2F3A4B5C".parse()?;
/// assert_eq!(id.as_str(), "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c");
/// # Ok::<(), icr_webhooks::receive::DeliveryIdError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeliveryId(String);

impl DeliveryId {
    /// The GUID, hyphenated, in lower case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A GUID already written hyphenated in lower case (as the stores write
    /// it back).
    pub(crate) fn from_canonical(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl FromStr for DeliveryId {
    type Err = DeliveryIdError;

    /// Reads a hyphenated UUID (8-4-4-4-12 hex digits) in either case.
    ///
    /// # Errors
    /// [`DeliveryIdError`] for anything else.
    fn from_str(text: &str) -> Result<Self, DeliveryIdError> {
        let mut id = [0; DELIVERY_ID_LEN];
        lower_case_id(text, &mut id)
            .map(|id| Self(id.to_owned()))
            .ok_or(DeliveryIdError)
    }
}

/// The length of a hyphenated UUID.
pub(crate) const DELIVERY_ID_LEN: usize = 36;

/// Where a hyphenated UUID has its hyphens (8-4-4-4-12).
const HYPHENS: [bool; DELIVERY_ID_LEN] = {
    let mut hyphens = [false; DELIVERY_ID_LEN];
    hyphens[8] = true;
    hyphens[13] = true;
    hyphens[18] = true;
    hyphens[23] = true;
    hyphens
};

/// `text` in lower case, written in `out`, when it is a hyphenated UUID
/// (8-4-4-4-12 hex digits) in either case: a [`DeliveryId`]'s text,
/// without a `String` for it.
pub(crate) fn lower_case_id<'a>(text: &str, out: &'a mut [u8; DELIVERY_ID_LEN]) -> Option<&'a str> {
    let bytes: &[u8; DELIVERY_ID_LEN] = text.as_bytes().try_into().ok()?;
    // Every byte checked against the shape (no early exit, which the
    // compiler turns into a few wide operations), then lowered.
    let mut fits = true;
    for ((byte, hyphen), lower) in bytes.iter().zip(HYPHENS).zip(out.iter_mut()) {
        fits &= if hyphen {
            *byte == b'-'
        } else {
            byte.is_ascii_hexdigit()
        };
        *lower = byte.to_ascii_lowercase();
    }
    if !fits {
        return None;
    }
    std::str::from_utf8(out).ok()
}

/// A delivery ID that is not a hyphenated UUID; a receiver answers it with
/// [`ReceiveError::MalformedDeliveryId`](crate::error::ReceiveError::MalformedDeliveryId).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the delivery ID is not a hyphenated UUID")]
pub struct DeliveryIdError;

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DeliveryId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for DeliveryId {
    fn borrow(&self) -> &str {
        &self.0
    }
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
