//! The receiver: its configuration (secrets, body limit, the opt-in for
//! unsigned deliveries) and the checks in the contract's order, size first,
//! then signature, then everything [`Delivery::from_verified`] does.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use crate::contract::header;
use crate::delivery::{Delivery, DeliveryInfo};
use crate::error::{ConfigError, ReceiveError};
use crate::headers::{Collected, HeaderSource, Slot};
use crate::observe::{self, Step};
use crate::secret::{Secret, Signature};

/// From this body size on, [`Receiver::receive_async`] hands the MAC and
/// the parse to the blocking pool, side by side (measured: below it, the
/// hand-over costs more than it saves).
const PARALLEL_FROM: usize = 1 << 20;

/// Checks and parses deliveries: one or more secrets and a body limit.
///
/// Cheap to clone (the configuration is shared), so it can sit in an
/// application's state. Build one with [`Receiver::new`] for one secret or
/// [`Receiver::builder`] for more.
///
/// ```
/// use icr_webhooks::Receiver;
///
/// // While rotating: the old secret and the new one are both accepted.
/// let receiver = Receiver::builder()
///     .secret("whsec_old")
///     .secret("whsec_new")
///     .max_body_size(1024 * 1024)
///     .build()?;
/// assert_eq!(receiver.max_body_size(), 1024 * 1024);
/// # Ok::<(), icr_webhooks::receive::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Receiver {
    inner: Arc<Inner>,
}

struct Inner {
    secrets: Vec<Secret>,
    max_body_size: u64,
}

impl Receiver {
    /// A receiver with one secret and the default body limit.
    ///
    /// # Errors
    /// [`ConfigError::EmptySecret`] when the secret is empty.
    pub fn new(secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        Self::builder().secret(secret).build()
    }

    /// A builder, to give several secrets, change the body limit or accept
    /// unsigned deliveries.
    pub fn builder() -> ReceiverBuilder {
        ReceiverBuilder::default()
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_size(&self) -> u64 {
        self.inner.max_body_size
    }

    /// Whether this receiver takes deliveries without a signature (it was
    /// built with [`ReceiverBuilder::accept_unsigned`]).
    pub fn accepts_unsigned(&self) -> bool {
        self.inner.secrets.is_empty()
    }

    /// Checks and parses a delivery: the request's headers and its raw body.
    ///
    /// The checks run in the contract's order and the first that fails
    /// decides: the body's size (413), the signature against every
    /// configured secret (401), then what [`Delivery::from_verified`] checks:
    /// the content type (415), `X-ICR-Event` and `X-ICR-Delivery`, the body
    /// and the typed parse (400). Unknown events and actions are not errors.
    ///
    /// The body is kept as it is, without a copy, in
    /// [`DeliveryInfo::body`](crate::receive::DeliveryInfo::body).
    ///
    /// # Errors
    /// [`ReceiveError::BodyTooLarge`]; [`ReceiveError::MissingHeader`],
    /// [`ReceiveError::MalformedSignature`] or
    /// [`ReceiveError::SignatureMismatch`]; then the errors of
    /// [`Delivery::from_verified`].
    pub fn receive<H: HeaderSource + ?Sized>(
        &self,
        headers: &H,
        body: impl Into<Bytes>,
    ) -> Result<Delivery, ReceiveError> {
        let body = body.into();
        let (collected, signature) = self.start(headers, &body)?;
        self.check_signature(signature, &body)?;
        Delivery::from_collected(collected, body)
    }

    /// [`receive`](Self::receive) for async code, with the same checks,
    /// order and outcome. A body of 1 MiB or more is not verified and
    /// parsed on the calling task: the MAC and the parse run side by side
    /// on tokio's blocking pool (threads it keeps and reuses, none started
    /// per request), so the runtime's workers go on serving other requests;
    /// a smaller body is handled inline, where that costs less than the
    /// hand-over. A signature failure wins over anything the parse found,
    /// and a delivery whose MAC does not match is dropped unseen. Used by
    /// the axum extractors and [`Inbox::accept`](crate::once::Inbox::accept).
    ///
    /// # Errors
    /// As [`receive`](Self::receive).
    pub async fn receive_async<H: HeaderSource + Sync + ?Sized>(
        &self,
        headers: &H,
        body: impl Into<Bytes>,
    ) -> Result<Delivery, ReceiveError> {
        let body = body.into();
        let (collected, signature) = self.start(headers, &body)?;
        if self.inline(&body) {
            self.check_signature(signature, &body)?;
            return Delivery::from_collected(collected, body);
        }
        let mac = self.spawn_mac(signature, &body);
        let parse = observe::carry(move || Delivery::from_collected(collected, body));
        let parsed = tokio::task::spawn_blocking(parse);
        // The MAC's outcome first: a signature failure wins.
        finished(mac.await)?;
        finished(parsed.await)
    }

    /// Runs every check of [`receive`](Self::receive) but the typed parse,
    /// in the same order and with the same errors, for code that parses the
    /// payload itself: with [`DeliveryInfo::parse_borrowed`] into a
    /// [`Event<Text<'_>>`](crate::Event) that points into the body
    /// instead of copying its strings. The JSON is not looked at here.
    ///
    /// # Errors
    /// As [`receive`](Self::receive), but for
    /// [`ReceiveError::MalformedJson`] and [`ReceiveError::UnexpectedShape`],
    /// which come from the parse.
    pub fn receive_unparsed<H: HeaderSource + ?Sized>(
        &self,
        headers: &H,
        body: impl Into<Bytes>,
    ) -> Result<DeliveryInfo, ReceiveError> {
        let body = body.into();
        let (collected, signature) = self.start(headers, &body)?;
        self.check_signature(signature, &body)?;
        DeliveryInfo::from_collected(collected, body)
    }

    /// [`receive_unparsed`](Self::receive_unparsed) for async code: the MAC of a body of 1 MiB or
    /// more is computed on tokio's blocking pool, as in
    /// [`receive_async`](Self::receive_async).
    ///
    /// # Errors
    /// As [`receive_unparsed`](Self::receive_unparsed).
    pub async fn receive_unparsed_async<H: HeaderSource + Sync + ?Sized>(
        &self,
        headers: &H,
        body: impl Into<Bytes>,
    ) -> Result<DeliveryInfo, ReceiveError> {
        let body = body.into();
        let (collected, signature) = self.start(headers, &body)?;
        if self.inline(&body) {
            self.check_signature(signature, &body)?;
        } else {
            finished(self.spawn_mac(signature, &body).await)?;
        }
        DeliveryInfo::from_collected(collected, body)
    }

    /// Whether the async calls check `body` on the calling task: a small
    /// body, or no MAC to compute.
    fn inline(&self, body: &[u8]) -> bool {
        body.len() < PARALLEL_FROM || self.inner.secrets.is_empty()
    }

    /// The signature check of `body` as a task of tokio's blocking pool.
    fn spawn_mac(
        &self,
        signature: Slot<Option<Signature>>,
        body: &Bytes,
    ) -> tokio::task::JoinHandle<Result<(), ReceiveError>> {
        let (receiver, body) = (self.clone(), body.clone());
        tokio::task::spawn_blocking(observe::carry(move || {
            receiver.check_signature(signature, &body)
        }))
    }

    /// The first check (the size), then the headers, with the signature
    /// taken out for its check.
    fn start<H: HeaderSource + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
    ) -> Result<(Collected, Slot<Option<Signature>>), ReceiveError> {
        self.check_content_length(len_u64(body))?;
        let mut collected = Collected::from_source(headers);
        let signature = std::mem::take(&mut collected.signature);
        Ok((collected, signature))
    }

    /// Checks the size and signature only (the first two checks of
    /// [`receive`](Self::receive)), for code that parses the body itself.
    ///
    /// # Errors
    /// [`ReceiveError::BodyTooLarge`], [`ReceiveError::MissingHeader`],
    /// [`ReceiveError::MalformedSignature`] or
    /// [`ReceiveError::SignatureMismatch`].
    pub fn verify_size_and_signature<H: HeaderSource + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
    ) -> Result<(), ReceiveError> {
        self.check_content_length(len_u64(body))?;
        self.check_signature(Collected::from_source(headers).signature, body)
    }

    /// Checks an `X-ICR-Signature-256` value (`None` when the header is
    /// absent) against the body with every configured secret, in constant
    /// time. A receiver that accepts unsigned deliveries accepts anything.
    ///
    /// # Errors
    /// [`ReceiveError::MissingHeader`] when `signature` is `None`,
    /// [`ReceiveError::MalformedSignature`] when it is not `sha256=` and 64
    /// hex digits, [`ReceiveError::SignatureMismatch`] when no secret
    /// matches.
    pub fn verify_signature(
        &self,
        signature: Option<&[u8]>,
        body: &[u8],
    ) -> Result<(), ReceiveError> {
        let slot = match signature {
            Some(value) => Slot::One(Signature::from_header(value).ok()),
            None => Slot::Absent,
        };
        self.check_signature(slot, body)
    }

    /// Checks a body size, e.g. a `Content-Length`, against the limit,
    /// before reading the body.
    ///
    /// # Errors
    /// [`ReceiveError::BodyTooLarge`] when `len` is over the limit.
    pub fn check_content_length(&self, len: u64) -> Result<(), ReceiveError> {
        if len > self.inner.max_body_size {
            Err(ReceiveError::BodyTooLarge {
                limit: self.inner.max_body_size,
            })
        } else {
            Ok(())
        }
    }

    fn check_signature(
        &self,
        signature: Slot<Option<Signature>>,
        body: &[u8],
    ) -> Result<(), ReceiveError> {
        if self.inner.secrets.is_empty() {
            return Ok(());
        }
        let signature = match signature {
            Slot::One(Some(signature)) => signature,
            Slot::Absent => {
                return Err(ReceiveError::MissingHeader {
                    header: header::SIGNATURE_256,
                });
            }
            Slot::One(None) | Slot::Repeated => return Err(ReceiveError::MalformedSignature),
        };
        // Every secret is tried, with no early exit, so the time taken does
        // not tell which one matched.
        let matched = observe::step(Step::Verify, || {
            let secrets = self.inner.secrets.iter();
            secrets.fold(false, |matched, secret| {
                secret.verify(&signature, body) | matched
            })
        });
        if matched {
            Ok(())
        } else {
            Err(ReceiveError::SignatureMismatch)
        }
    }
}

/// The outcome of a blocking-pool task of the async calls. The tasks do
/// not panic and the runtime outlives the call; if one did not finish all
/// the same, the delivery is refused rather than accepted.
fn finished<T>(
    joined: Result<Result<T, ReceiveError>, tokio::task::JoinError>,
) -> Result<T, ReceiveError> {
    joined.unwrap_or(Err(ReceiveError::SignatureMismatch))
}

fn len_u64(body: &[u8]) -> u64 {
    u64::try_from(body.len()).unwrap_or(u64::MAX)
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("secrets", &self.inner.secrets.len())
            .field("max_body_size", &self.inner.max_body_size)
            .finish()
    }
}

/// Configures a [`Receiver`].
///
/// At least one non-empty secret is required, unless unsigned deliveries
/// are accepted explicitly with [`accept_unsigned`](Self::accept_unsigned).
#[derive(Debug)]
#[must_use]
pub struct ReceiverBuilder {
    secrets: Vec<Secret>,
    max_body_size: u64,
    accept_unsigned: bool,
}

impl Default for ReceiverBuilder {
    fn default() -> Self {
        Self {
            secrets: Vec::new(),
            max_body_size: crate::contract::MAX_BODY_SIZE,
            accept_unsigned: false,
        }
    }
}

impl ReceiverBuilder {
    /// Adds a secret. A delivery signed with any of the secrets is accepted,
    /// which is how a secret is rotated: add the new one, change it at ICR,
    /// then remove the old one.
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secrets.push(secret.into());
        self
    }

    /// Sets the largest body accepted, in bytes; the default is
    /// [`contract::MAX_BODY_SIZE`](crate::contract::MAX_BODY_SIZE), the largest
    /// ICR sends.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.max_body_size = bytes;
        self
    }

    /// Accepts deliveries without any signature check, for an app that has
    /// no webhook secret. Anyone who can reach the endpoint can then send
    /// anything: set a secret instead whenever possible.
    pub fn accept_unsigned(mut self) -> Self {
        self.accept_unsigned = true;
        self
    }

    /// Builds the receiver.
    ///
    /// # Errors
    /// [`ConfigError::NoSecret`] without a secret and without
    /// [`accept_unsigned`](Self::accept_unsigned);
    /// [`ConfigError::SecretAndUnsigned`] with both;
    /// [`ConfigError::EmptySecret`] when a secret is empty.
    pub fn build(self) -> Result<Receiver, ConfigError> {
        match (self.secrets.is_empty(), self.accept_unsigned) {
            (true, false) => return Err(ConfigError::NoSecret),
            (false, true) => return Err(ConfigError::SecretAndUnsigned),
            _ => {}
        }
        if self.secrets.iter().any(Secret::is_empty) {
            return Err(ConfigError::EmptySecret);
        }
        Ok(Receiver {
            inner: Arc::new(Inner {
                secrets: self.secrets,
                max_body_size: self.max_body_size,
            }),
        })
    }
}

#[cfg(test)]
mod tests;
