//! The mock ICR sender: builds deliveries exactly as the contract's section 2
//! describes, signs them with the SDK's own signer, POSTs them with ICR's
//! 10 s timeout, injects faults on request and records every answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::Frame;
use icr_webhooks::{ContentType, EventKey, Secret};

/// ICR's wait for an answer ([`icr_webhooks::contract::RESPONSE_TIMEOUT`]).
pub const ICR_TIMEOUT: Duration = icr_webhooks::contract::RESPONSE_TIMEOUT;

/// The contract's body limit, 25 MiB ([`icr_webhooks::contract::MAX_BODY_SIZE`]).
#[allow(clippy::cast_possible_truncation)]
pub const MAX_BODY: usize = icr_webhooks::contract::MAX_BODY_SIZE as usize;

/// The `User-Agent` the sender uses.
pub const USER_AGENT: &str = concat!("ICR-Hookshot/harness-", env!("CARGO_PKG_VERSION"));

/// A fault to inject into one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Fault {
    /// Signed with a secret the receiver does not have.
    WrongSecret,
    /// No `X-ICR-Signature-256` header.
    MissingSignature,
    /// The signature header with one hex digit changed.
    CorruptedSignature,
    /// One byte of the body changed after signing.
    BodyChangedAfterSigning,
    /// `X-ICR-Event` names another known event than the payload's.
    WrongEventHeader,
    /// A body one byte over the 25 MiB limit.
    OversizedBody,
    /// The payload cut in half, then signed: valid signature, broken JSON.
    TruncatedBody,
    /// A JSON body labelled as a form body.
    ContentTypeMismatch,
    /// The body sent in small pieces over about a second; still valid.
    SlowBody,
}

impl Fault {
    /// Every fault, in a fixed order.
    pub const ALL: [Self; 9] = [
        Self::WrongSecret,
        Self::MissingSignature,
        Self::CorruptedSignature,
        Self::BodyChangedAfterSigning,
        Self::WrongEventHeader,
        Self::OversizedBody,
        Self::TruncatedBody,
        Self::ContentTypeMismatch,
        Self::SlowBody,
    ];

    /// The name used on the command line (`wrong-secret`).
    pub fn name(self) -> &'static str {
        match self {
            Self::WrongSecret => "wrong-secret",
            Self::MissingSignature => "missing-signature",
            Self::CorruptedSignature => "corrupted-signature",
            Self::BodyChangedAfterSigning => "body-changed",
            Self::WrongEventHeader => "wrong-event",
            Self::OversizedBody => "oversized-body",
            Self::TruncatedBody => "truncated-body",
            Self::ContentTypeMismatch => "content-type-mismatch",
            Self::SlowBody => "slow-body",
        }
    }

    /// The fault of a command-line name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|fault| fault.name() == name)
    }

    /// The status a receiver built on the SDK answers (contract section 8).
    pub fn expected_status(self) -> u16 {
        match self {
            Self::WrongSecret
            | Self::MissingSignature
            | Self::CorruptedSignature
            | Self::BodyChangedAfterSigning => 401,
            Self::OversizedBody => 413,
            Self::WrongEventHeader | Self::TruncatedBody | Self::ContentTypeMismatch => 400,
            Self::SlowBody => 200,
        }
    }
}

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
        let payload = crate::samples::generate(&key.to_string(), seed, 1)?
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

    /// The same delivery with `fault` injected.
    #[must_use]
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// `event.action`, or the bare event name.
    pub fn key(&self) -> String {
        self.event_key().to_string()
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

/// The request as it goes on the wire: headers and body bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct WireRequest {
    /// Header names and values, in sending order.
    pub headers: Vec<(&'static str, String)>,
    /// The body bytes.
    pub body: Bytes,
    /// Whether to send the body slowly.
    pub slow: bool,
}

/// Where and how to send: the app's webhook settings as ICR holds them.
#[derive(Clone)]
pub struct SenderConfig {
    /// The webhook URL.
    pub url: String,
    /// More URLs of the same webhook (replicas behind no load balancer):
    /// attempts, redeliveries included, go to `url` and these in turn.
    pub more_urls: Vec<String>,
    /// The webhook secret; `None` sends unsigned deliveries.
    pub secret: Option<Secret>,
    /// `X-ICR-Hook-ID`.
    pub hook_id: u64,
    /// `X-ICR-Hook-Installation-Target-ID` (the app's ID).
    pub app_id: u64,
    /// How long to wait for an answer.
    pub timeout: Duration,
}

impl std::fmt::Debug for SenderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderConfig")
            .field("url", &self.url)
            .field("more_urls", &self.more_urls)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("hook_id", &self.hook_id)
            .field("app_id", &self.app_id)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl SenderConfig {
    /// Settings for `url`, signed with `secret`, with ICR's timeout.
    pub fn new(url: impl Into<String>, secret: Option<Secret>) -> Self {
        Self {
            url: url.into(),
            more_urls: Vec::new(),
            secret,
            hook_id: 60021,
            app_id: 1187,
            timeout: ICR_TIMEOUT,
        }
    }

    /// Builds the request for `delivery`: headers, signature and body, with
    /// its fault applied.
    pub fn build(&self, delivery: &Outgoing) -> WireRequest {
        let fault = delivery.fault;
        let mut event = delivery.event.clone();
        // The payload is shared, not copied, unless a fault rewrites it.
        let payload: Bytes = match fault {
            Some(Fault::TruncatedBody) => delivery.payload.slice(..delivery.payload.len() / 2),
            Some(Fault::OversizedBody) => {
                // Pad inside the JSON object so the body stays well-formed.
                let pad = (MAX_BODY + 1).saturating_sub(delivery.payload.len() + 16);
                let mut padded = Vec::with_capacity(MAX_BODY + 1);
                padded.extend_from_slice(b"{\"padding\":\"");
                padded.resize(padded.len() + pad, b'x');
                padded.extend_from_slice(b"\",");
                padded.extend_from_slice(delivery.payload.get(1..).unwrap_or_default());
                padded.resize(padded.len().max(MAX_BODY + 1), b' ');
                Bytes::from(padded)
            }
            Some(Fault::WrongEventHeader) => {
                event = wrong_event(&delivery.event).to_owned();
                delivery.payload.clone()
            }
            _ => delivery.payload.clone(),
        };
        let carried_as = match fault {
            Some(Fault::ContentTypeMismatch) => match delivery.content_type {
                ContentType::Form => ContentType::Json,
                _ => ContentType::Form,
            },
            _ => delivery.content_type,
        };
        let body = match delivery.content_type {
            ContentType::Form if fault != Some(Fault::OversizedBody) => {
                Bytes::from(icr_webhooks::form_body(&payload))
            }
            _ => payload,
        };
        let signature = match (&self.secret, fault) {
            (_, Some(Fault::MissingSignature)) | (None, _) => None,
            (Some(_), Some(Fault::WrongSecret)) => {
                Some(Secret::new("not-the-secret").sign(&body).to_string())
            }
            (Some(secret), _) => Some(secret.sign(&body).to_string()),
        };
        let signature = match (signature, fault) {
            (Some(sig), Some(Fault::CorruptedSignature)) => Some(corrupt(&sig)),
            (sig, _) => sig,
        };
        let body = if fault == Some(Fault::BodyChangedAfterSigning) {
            let mut changed = body.to_vec();
            if let Some(byte) = changed.iter_mut().rev().find(|b| b.is_ascii_alphanumeric()) {
                *byte = if *byte == b'0' { b'1' } else { b'0' };
            }
            Bytes::from(changed)
        } else {
            body
        };
        let mut headers = vec![
            ("X-ICR-Event", event),
            ("X-ICR-Delivery", delivery.id.clone()),
            ("X-ICR-Hook-ID", self.hook_id.to_string()),
            (
                "X-ICR-Hook-Installation-Target-Type",
                "integration".to_owned(),
            ),
            ("X-ICR-Hook-Installation-Target-ID", self.app_id.to_string()),
            ("User-Agent", USER_AGENT.to_owned()),
            ("Content-Type", carried_as.media_type().to_owned()),
        ];
        if let Some(signature) = signature {
            headers.push(("X-ICR-Signature-256", signature));
        }
        WireRequest {
            headers,
            body,
            slow: fault == Some(Fault::SlowBody),
        }
    }
}

/// Another known event than `event` whose type the payload cannot fit:
/// `ping` requires `zen`, `hook_id` and `hook`; `credit_transfer` an `action`.
fn wrong_event(event: &str) -> &'static str {
    if event == "ping" {
        "credit_transfer"
    } else {
        "ping"
    }
}

/// The signature with its last hex digit changed.
fn corrupt(signature: &str) -> String {
    let mut text = signature.to_owned();
    if let Some(last) = text.pop() {
        text.push(if last == '0' { '1' } else { '0' });
    }
    text
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

/// Where requests go, and the connections kept open to it.
struct Target {
    /// Host and port to connect to (IPv6 without brackets).
    host: String,
    port: u16,
    /// The `Host` header.
    authority: http::HeaderValue,
    /// The request target: path and query.
    path: http::Uri,
    /// Connections that answered and may take another request.
    idle: Mutex<Vec<Connection>>,
}

impl Target {
    /// Where `url` points: an `http://` URL with a host.
    fn parse(url: &str) -> Result<Self, SenderError> {
        let bad = |reason| SenderError::Url {
            url: url.to_owned(),
            reason,
        };
        let uri: http::Uri = url.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(bad("only http:// URLs are supported"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        // `host()` keeps an IPv6 address's brackets: the `Host` header wants
        // them, the socket address does not.
        let bracketed = authority.host();
        let host = bracketed
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(bracketed);
        if host.is_empty() {
            return Err(bad("no host"));
        }
        // Host and port only: user info in the URL never goes on the wire.
        let host_header = match authority.port() {
            Some(port) => format!("{bracketed}:{port}"),
            None => bracketed.to_owned(),
        };
        let path = match (uri.path(), uri.query()) {
            ("", None) => "/".to_owned(),
            ("", Some(query)) => format!("/?{query}"),
            (path, None) => path.to_owned(),
            (path, Some(query)) => format!("{path}?{query}"),
        };
        let target = Target {
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(80),
            authority: http::HeaderValue::from_str(&host_header).map_err(|_| bad("not a URL"))?,
            path: path.parse().map_err(|_| bad("not a URL"))?,
            idle: Mutex::new(Vec::new()),
        };
        Ok(target)
    }

    fn pool(&self, connection: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(connection);
        }
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("authority", &self.authority)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

type RequestBody = BoxBody<Bytes, std::io::Error>;
type Connection = hyper::client::conn::http1::SendRequest<RequestBody>;

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

/// Why an attempt got no answer.
enum Failed {
    /// Before any answer: nothing to report but why.
    NoAnswer(String),
    /// The answer's status came, then its body broke off.
    BrokenAnswer(u16, String),
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

    /// The target of the next attempt, in turn.
    fn next_target(&self) -> Result<Arc<Target>, Failed> {
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        self.targets
            .get(turn % self.targets.len().max(1))
            .cloned()
            .ok_or_else(|| Failed::NoAnswer("no webhook URL".to_owned()))
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
        }
    }

    /// One request and its whole answer. A request that an idle connection
    /// gives back unsent (the app closed it meanwhile) goes again on a new
    /// connection; one that was sent is never sent twice.
    async fn exchange(&self, wire: WireRequest) -> Result<u16, Failed> {
        let target = self.next_target()?;
        let mut request = Self::request(&target, wire)?;
        let (mut connection, mut reused) = match Self::idle_connection(&target) {
            Some(connection) => (connection, true),
            None => (Self::connect(&target).await?, false),
        };
        let response = loop {
            let ready = connection.ready().await;
            let sent = match ready {
                Ok(()) => connection.try_send_request(request).await,
                Err(_) if reused => {
                    connection = Self::connect(&target).await?;
                    reused = false;
                    continue;
                }
                Err(error) => return Err(Failed::NoAnswer(describe_http(&error))),
            };
            match sent {
                Ok(response) => break response,
                Err(mut error) => match error.take_message() {
                    Some(unsent) if reused => {
                        request = unsent;
                        connection = Self::connect(&target).await?;
                        reused = false;
                    }
                    _ => return Err(Failed::NoAnswer(describe_http(error.error()))),
                },
            }
        };
        let status = response.status().as_u16();
        match response.into_body().collect().await {
            Ok(_) => {
                self.put_back(&target, connection);
                Ok(status)
            }
            Err(error) => Err(Failed::BrokenAnswer(status, describe_http(&error))),
        }
    }

    fn request(target: &Target, wire: WireRequest) -> Result<http::Request<RequestBody>, Failed> {
        let body: RequestBody = if wire.slow {
            StreamBody::new(slow_stream(wire.body).map_ok(Frame::data)).boxed()
        } else {
            Full::new(wire.body).map_err(|never| match never {}).boxed()
        };
        let mut request = http::Request::post(target.path.clone())
            .header(http::header::HOST, target.authority.clone());
        for (name, value) in &wire.headers {
            request = request.header(*name, value.as_str());
        }
        request
            .body(body)
            .map_err(|error| Failed::NoAnswer(format!("cannot build the request: {error}")))
    }

    fn idle_connection(target: &Target) -> Option<Connection> {
        let mut idle = target.idle.lock().ok()?;
        while let Some(connection) = idle.pop() {
            if connection.is_ready() {
                return Some(connection);
            }
        }
        None
    }

    /// Pools a connection whose answer has been read. An app may answer
    /// before it has read the whole request (a 413 says so from the
    /// headers); such a connection is still writing the body, so it is
    /// pooled only once it is ready for another request, within the
    /// timeout, and dropped otherwise. Handing it out earlier would leave
    /// the next delivery waiting on a connection that is not free.
    fn put_back(&self, target: &Arc<Target>, mut connection: Connection) {
        if connection.is_ready() {
            target.pool(connection);
        } else if !connection.is_closed() {
            let target = Arc::clone(target);
            let wait = self.config.timeout;
            tokio::spawn(async move {
                if let Ok(Ok(())) = tokio::time::timeout(wait, connection.ready()).await {
                    target.pool(connection);
                }
            });
        }
    }

    async fn connect(target: &Target) -> Result<Connection, Failed> {
        let stream = tokio::net::TcpStream::connect((target.host.as_str(), target.port))
            .await
            .map_err(|error| {
                Failed::NoAnswer(match error.kind() {
                    std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                    _ => format!("cannot connect: {error}"),
                })
            })?;
        // Small requests go out at once, as from ICR's senders.
        stream
            .set_nodelay(true)
            .map_err(|error| Failed::NoAnswer(format!("cannot connect: {error}")))?;
        let (connection, driver) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|error| Failed::NoAnswer(describe_http(&error)))?;
        tokio::spawn(async move {
            // The connection ends when the app closes it or the sender drops
            // it; either way its requests have seen the error.
            let _ended = driver.await;
        });
        Ok(connection)
    }

    /// Sends every delivery with at most `concurrency` in flight, then
    /// redelivers the ones not answered 2xx, up to `redeliver_rounds` more
    /// times each. `on_attempt` sees every attempt as it ends (for progress).
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
                    loop {
                        let index = next_index.fetch_add(1, Ordering::Relaxed);
                        let Some((delivery, attempt)) = round.get(index) else {
                            break;
                        };
                        let outcome = sender.send_attempt(delivery, *attempt).await;
                        on_attempt(&outcome);
                        done.push((index, outcome));
                    }
                    done
                });
            }
            let mut results: Vec<Option<Attempt>> = vec![None; round.len()];
            while let Some(joined) = workers.join_next().await {
                for (index, outcome) in joined.unwrap_or_default() {
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
            pending = next;
        }
        all
    }
}

/// The app closing or resetting the connection reads the same whichever
/// way the race between the close and the request's write went.
const CLOSED: &str = "connection closed before the answer";

/// An HTTP error as an attempt's failure.
fn describe_http(error: &hyper::Error) -> String {
    let io = std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    let closed = error.is_incomplete_message()
        || error.is_canceled()
        || error.is_closed()
        || matches!(
            io,
            Some(
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        );
    if closed {
        CLOSED.to_owned()
    } else {
        describe(error)
    }
}

/// An error and its sources, as one line.
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

/// The body in 16 pieces spread over about a second.
fn slow_stream(
    body: Bytes,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let piece = body.len().div_ceil(16).max(1);
    let chunks: Vec<Bytes> = (0..body.len())
        .step_by(piece)
        .map(|start| body.slice(start..(start + piece).min(body.len())))
        .collect();
    futures_util::stream::unfold(chunks.into_iter(), |mut rest| async move {
        let chunk = rest.next()?;
        tokio::time::sleep(Duration::from_millis(60)).await;
        Some((Ok(chunk), rest))
    })
}

/// Latency percentiles and counts over a set of attempts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// Distinct deliveries.
    pub deliveries: usize,
    /// Attempts made (first deliveries and redeliveries).
    pub attempts: usize,
    /// Deliveries whose last attempt was answered 2xx.
    pub delivered: usize,
    /// Count of each status seen, over all attempts.
    pub statuses: std::collections::BTreeMap<u16, usize>,
    /// Attempts that got no answer.
    pub failures: usize,
    /// Redeliveries made.
    pub redeliveries: usize,
    /// Median latency.
    pub p50: Duration,
    /// 90th percentile latency.
    pub p90: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest attempt.
    pub max: Duration,
    /// Wall time of the whole run, when known.
    pub elapsed: Option<Duration>,
}

impl Summary {
    /// Summarizes `attempts`.
    pub fn of(attempts: &[Attempt]) -> Self {
        let mut summary = Self {
            attempts: attempts.len(),
            ..Self::default()
        };
        let mut last: std::collections::HashMap<&str, &Attempt> = std::collections::HashMap::new();
        for attempt in attempts {
            if let Some(status) = attempt.status {
                *summary.statuses.entry(status).or_default() += 1;
            }
            if attempt.status.is_none() {
                summary.failures += 1;
            }
            if attempt.attempt > 1 {
                summary.redeliveries += 1;
            }
            let entry = last.entry(attempt.id.as_str()).or_insert(attempt);
            if attempt.attempt >= entry.attempt {
                *entry = attempt;
            }
        }
        summary.deliveries = last.len();
        summary.delivered = last.values().filter(|a| a.delivered()).count();
        let mut latencies: Vec<Duration> = attempts.iter().map(|a| a.latency).collect();
        latencies.sort();
        let at = |q: f64| -> Duration {
            if latencies.is_empty() {
                return Duration::ZERO;
            }
            let rank = ((latencies.len() as f64) * q).ceil() as usize;
            latencies
                .get(rank.saturating_sub(1).min(latencies.len() - 1))
                .copied()
                .unwrap_or_default()
        };
        summary.p50 = at(0.50);
        summary.p90 = at(0.90);
        summary.p99 = at(0.99);
        summary.max = latencies.last().copied().unwrap_or_default();
        summary
    }

    /// Summarizes `attempts` made in `elapsed` of wall time.
    pub fn timed(attempts: &[Attempt], elapsed: Duration) -> Self {
        Self {
            elapsed: Some(elapsed),
            ..Self::of(attempts)
        }
    }

    /// Attempts per second of wall time, when the wall time is known.
    pub fn throughput(&self) -> Option<f64> {
        let seconds = self.elapsed?.as_secs_f64();
        (seconds > 0.0).then(|| self.attempts as f64 / seconds)
    }

    /// Whether every delivery was finally answered 2xx.
    pub fn all_delivered(&self) -> bool {
        self.delivered == self.deliveries
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, count)| format!("{status}: {count}"))
            .collect();
        writeln!(
            f,
            "deliveries {}  attempts {}  delivered (2xx) {}  not delivered {}",
            self.deliveries,
            self.attempts,
            self.delivered,
            self.deliveries - self.delivered
        )?;
        writeln!(
            f,
            "statuses {{{}}}  no answer {}  redeliveries {}",
            statuses.join(", "),
            self.failures,
            self.redeliveries
        )?;
        write!(
            f,
            "latency p50 {:.1} ms  p90 {:.1} ms  p99 {:.1} ms  max {:.1} ms",
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max)
        )?;
        if let (Some(elapsed), Some(rate)) = (self.elapsed, self.throughput()) {
            write!(
                f,
                "\nelapsed {:.2} s  throughput {rate:.0} attempts/s",
                elapsed.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
