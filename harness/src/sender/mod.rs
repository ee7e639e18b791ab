//! The mock ICR sender: builds deliveries exactly as the contract's section 2
//! describes, signs them with the SDK's own signer, POSTs them with ICR's
//! 10 s timeout, injects faults on request and records every answer.

mod fault;
mod pool;
mod stats;
mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use icr_webhooks::contract::EventKey;
use icr_webhooks::receive::{ContentType, Secret};

pub use self::fault::Fault;
pub use self::stats::Summary;
pub use self::wire::{SenderConfig, WireRequest};

use self::pool::{Failed, Target};

/// ICR's wait for an answer ([`icr_webhooks::contract::RESPONSE_TIMEOUT`]).
pub const ICR_TIMEOUT: Duration = icr_webhooks::contract::RESPONSE_TIMEOUT;

/// The contract's body limit, 25 MiB ([`icr_webhooks::contract::MAX_BODY_SIZE`]).
#[allow(clippy::cast_possible_truncation)]
pub const MAX_BODY: usize = icr_webhooks::contract::MAX_BODY_SIZE as usize;

/// The `User-Agent` the sender uses.
pub const USER_AGENT: &str = concat!("ICR-Hookshot/harness-", env!("CARGO_PKG_VERSION"));

/// One delivery to send: what ICR would put on the wire, before signing.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The `X-ICR-Delivery` GUID (lowercase, hyphenated).
    pub id: String,
    /// The `X-ICR-Event` name.
    pub event: String,
    /// The payload's action, for reports.
    pub action: Option<String>,
    /// The payload JSON, exactly as it will be signed (before form encoding).
    pub payload: Bytes,
    /// How the payload is carried.
    pub content_type: ContentType,
    /// The fault to inject, if any.
    pub fault: Option<Fault>,
    /// For a recorded delivery ([`Outgoing::from_fixture`]), its headers,
    /// sent as they are but for `X-ICR-Delivery`, which is `id`, and a new
    /// signature; `payload` is then the body exactly as it was carried
    /// (form-encoded already for a form delivery).
    pub recorded: Option<Arc<[(String, String)]>>,
    /// Whether [`Sender::send_all`] sends this delivery a second time, with
    /// the same GUID and body, and when.
    pub duplicate: Option<Duplicate>,
}

/// When [`Sender::send_all`] sends a delivery's duplicate: the same GUID and
/// body a second time, as ICR may ("the same GUID may arrive twice, even at
/// the same time").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Duplicate {
    /// Concurrently with the first attempt.
    AtOnce,
    /// Once the first attempt is answered.
    AfterAnswer,
}

impl Outgoing {
    /// A delivery of `payload` for `event`, with a fresh GUID; the action is
    /// read from the payload.
    pub fn new(event: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        let payload = payload.into();
        let action = serde_json::from_slice::<serde_json::Value>(&payload)
            .ok()
            .and_then(|v| v.get("action").and_then(|a| a.as_str().map(str::to_owned)));
        Self {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            event: event.into(),
            action,
            payload,
            content_type: ContentType::Json,
            fault: None,
            recorded: None,
            duplicate: None,
        }
    }

    /// The delivery recorded in `fixture`, to send again as it was: its
    /// headers, its GUID (a fresh one when it has none) and its exact body,
    /// signed anew when sent.
    pub fn from_fixture(fixture: &crate::fixture::Fixture) -> Self {
        let key = fixture.event_key();
        let is_form = fixture
            .header(icr_webhooks::contract::header::CONTENT_TYPE)
            .is_some_and(|t| {
                t.to_ascii_lowercase()
                    .starts_with(ContentType::Form.media_type())
            });
        Self {
            id: fixture.delivery_id().map_or_else(
                || uuid::Uuid::new_v4().hyphenated().to_string(),
                str::to_owned,
            ),
            event: key.as_ref().map_or("", EventKey::event).to_owned(),
            action: key.as_ref().and_then(EventKey::action).map(str::to_owned),
            payload: fixture.body.clone(),
            content_type: if is_form {
                ContentType::Form
            } else {
                ContentType::Json
            },
            fault: None,
            recorded: Some(fixture.headers.clone().into()),
            duplicate: None,
        }
    }

    /// A delivery of a schema-valid payload for `key`
    /// (`credit_transfer.completed`, or `credit_transfer` for any of its
    /// actions), the same payload for the same `seed`, with a fresh GUID.
    ///
    /// # Errors
    /// [`SampleError`](crate::samples::SampleError) for a key outside the
    /// schema.
    pub fn sample(key: &EventKey, seed: u64) -> Result<Self, crate::samples::SampleError> {
        let payload = crate::samples::generate(key, seed, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| crate::samples::SampleError::Draw {
                reason: "no sample drawn".to_owned(),
            })?;
        let bytes =
            serde_json::to_vec(&payload).map_err(|error| crate::samples::SampleError::Draw {
                reason: error.to_string(),
            })?;
        Ok(Self::new(key.event(), bytes))
    }

    /// Another delivery of the same payload: a fresh GUID, nothing parsed
    /// again (for load runs that send one payload many times).
    #[must_use]
    pub fn fresh(&self) -> Self {
        Self {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            ..self.clone()
        }
    }

    /// The same delivery carried as `content_type`.
    #[must_use]
    pub fn with_content_type(mut self, content_type: ContentType) -> Self {
        self.content_type = content_type;
        self
    }

    /// The same delivery, sent a second time by [`Sender::send_all`] as
    /// `duplicate` says.
    #[must_use]
    pub fn with_duplicate(mut self, duplicate: Duplicate) -> Self {
        self.duplicate = Some(duplicate);
        self
    }

    /// The same delivery with `fault` injected.
    #[must_use]
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// `event.action`, or the bare event name.
    pub fn key(&self) -> String {
        EventKey::join(&self.event, self.action.as_deref())
    }

    /// The event and action.
    pub fn event_key(&self) -> EventKey {
        EventKey::new(self.event.clone(), self.action.as_deref())
    }

    /// The status a receiver built on the SDK answers to this delivery.
    pub fn expected_status(&self) -> u16 {
        self.fault.map_or(200, Fault::expected_status)
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The delivery's GUID.
    pub id: String,
    /// `event.action`.
    pub key: String,
    /// The injected fault.
    pub fault: Option<Fault>,
    /// 1 for the first delivery, 2 and up for redeliveries.
    pub attempt: u32,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Why no answer came (timeout, refused, dropped connection).
    pub failure: Option<String>,
    /// From sending the request to the end of the answer.
    pub latency: Duration,
    /// For the second sending of a delivery by [`Sender::send_all`] (the
    /// same GUID and body), when it was sent.
    pub duplicate: Option<Duplicate>,
}

impl Attempt {
    /// Whether ICR would count this as delivered (any 2xx).
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Sends deliveries over HTTP/1.1, on keep-alive connections of its own
/// (hyper's connection API, no client pool on top): each worker of
/// [`Sender::send_all`] takes an idle connection, sends, reads the whole
/// answer and puts the connection back, so a load run spends its CPU on
/// requests, not on connection management. Redirects are never followed.
#[derive(Debug, Clone)]
pub struct Sender {
    config: SenderConfig,
    /// `config.url` first, then `config.more_urls`.
    targets: Arc<[Arc<Target>]>,
    /// Which target the next attempt goes to.
    turn: Arc<AtomicUsize>,
}

/// Why the sender could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SenderError {
    /// The webhook URL is not an `http://` URL with a host.
    #[error("cannot send to `{url}`: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl Sender {
    /// A sender for `config`: no redirects followed, ICR's timeout.
    ///
    /// # Errors
    /// [`SenderError::Url`] when `config.url` is not an `http://` URL with
    /// a host (the mock sender speaks plain HTTP, as apps do on loopback).
    pub fn new(config: SenderConfig) -> Result<Self, SenderError> {
        let targets = std::iter::once(&config.url)
            .chain(&config.more_urls)
            .map(|url| Target::parse(url).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            config,
            targets: targets.into(),
            turn: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    /// Replaces the secret, as an app owner rotating it; later deliveries
    /// and redeliveries are signed with the new one.
    pub fn rotate_secret(&mut self, secret: Option<Secret>) {
        self.config.secret = secret;
    }

    /// Sends one delivery (attempt 1).
    pub async fn send(&self, delivery: &Outgoing) -> Attempt {
        self.send_attempt(delivery, 1).await
    }

    /// Redelivers `delivery` as ICR does when one is redelivered by hand
    /// (within three days of the first attempt): the same GUID and the same
    /// body, signed with the current secret; numbered attempt 2.
    pub async fn redeliver(&self, delivery: &Outgoing) -> Attempt {
        self.send_attempt(delivery, 2).await
    }

    /// Sends `delivery` again: same GUID, same body, signed with the current
    /// secret, numbered `attempt` (1 is the first delivery; every later one
    /// is a redelivery).
    pub async fn send_attempt(&self, delivery: &Outgoing, attempt: u32) -> Attempt {
        let wire = self.config.build(delivery);
        let started = Instant::now();
        let (status, failure) =
            match tokio::time::timeout(self.config.timeout, self.exchange(wire)).await {
                Ok(Ok(status)) => (Some(status), None),
                Ok(Err(Failed::NoAnswer(why))) => (None, Some(why)),
                Ok(Err(Failed::BrokenAnswer(status, why))) => (Some(status), Some(why)),
                Err(_) => (None, Some("timed out".to_owned())),
            };
        Attempt {
            id: delivery.id.clone(),
            key: delivery.key(),
            fault: delivery.fault,
            attempt,
            status,
            failure,
            latency: started.elapsed(),
            duplicate: None,
        }
    }

    /// The first attempt of `delivery`, and its duplicate when it has one.
    async fn send_first(&self, delivery: &Outgoing, attempt: u32) -> (Attempt, Option<Attempt>) {
        let duplicate = delivery.duplicate.filter(|_| attempt == 1);
        let mark = |mut second: Attempt, how| {
            second.duplicate = Some(how);
            second
        };
        match duplicate {
            None => (self.send_attempt(delivery, attempt).await, None),
            Some(Duplicate::AtOnce) => {
                let (first, second) = tokio::join!(
                    self.send_attempt(delivery, attempt),
                    self.send_attempt(delivery, attempt)
                );
                (first, Some(mark(second, Duplicate::AtOnce)))
            }
            Some(Duplicate::AfterAnswer) => {
                let first = self.send_attempt(delivery, attempt).await;
                let second = self.send_attempt(delivery, attempt).await;
                (first, Some(mark(second, Duplicate::AfterAnswer)))
            }
        }
    }

    /// Sends every delivery with at most `concurrency` in flight, then
    /// redelivers the ones not answered 2xx, up to `redeliver_rounds` more
    /// times each. A delivery with a [`Duplicate`] is sent twice at its
    /// first attempt; the duplicate is in the attempts returned, marked
    /// ([`Attempt::duplicate`]), and is never redelivered. `on_attempt` sees
    /// every attempt as it ends (for progress).
    pub async fn send_all(
        &self,
        deliveries: Vec<Outgoing>,
        concurrency: usize,
        redeliver_rounds: u32,
        on_attempt: impl Fn(&Attempt) + Send + Sync + 'static,
    ) -> Vec<Attempt> {
        let on_attempt = Arc::new(on_attempt);
        let mut all = Vec::with_capacity(deliveries.len());
        let mut pending: Vec<(Outgoing, u32)> = deliveries.into_iter().map(|d| (d, 1)).collect();
        for _round in 0..=redeliver_rounds {
            if pending.is_empty() {
                break;
            }
            // `concurrency` workers take the next delivery in turn, so a long
            // run holds one task per worker, not one per delivery.
            let round = Arc::new(std::mem::take(&mut pending));
            let next_index = Arc::new(AtomicUsize::new(0));
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..concurrency.max(1).min(round.len()) {
                let sender = self.clone();
                let round = Arc::clone(&round);
                let next_index = Arc::clone(&next_index);
                let on_attempt = Arc::clone(&on_attempt);
                workers.spawn(async move {
                    let mut done = Vec::new();
                    let mut duplicates = Vec::new();
                    loop {
                        let index = next_index.fetch_add(1, Ordering::Relaxed);
                        let Some((delivery, attempt)) = round.get(index) else {
                            break;
                        };
                        let (outcome, duplicate) = sender.send_first(delivery, *attempt).await;
                        on_attempt(&outcome);
                        done.push((index, outcome));
                        if let Some(duplicate) = duplicate {
                            on_attempt(&duplicate);
                            duplicates.push(duplicate);
                        }
                    }
                    (done, duplicates)
                });
            }
            let mut results: Vec<Option<Attempt>> = vec![None; round.len()];
            let mut duplicates = Vec::new();
            while let Some(joined) = workers.join_next().await {
                let (done, mut seconds) = joined.unwrap_or_default();
                duplicates.append(&mut seconds);
                for (index, outcome) in done {
                    if let Some(slot) = results.get_mut(index) {
                        *slot = Some(outcome);
                    }
                }
            }
            let sent: Vec<(Outgoing, u32)> =
                Arc::try_unwrap(round).unwrap_or_else(|shared| shared.as_ref().clone());
            let mut next = Vec::new();
            for ((delivery, attempt), outcome) in sent.into_iter().zip(results) {
                match outcome {
                    Some(outcome) => {
                        if !outcome.delivered() {
                            next.push((delivery, attempt + 1));
                        }
                        all.push(outcome);
                    }
                    None => next.push((delivery, attempt + 1)),
                }
            }
            all.append(&mut duplicates);
            pending = next;
        }
        all
    }
}
