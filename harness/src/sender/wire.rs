//! What goes on the wire: the webhook settings and the request built from
//! a delivery (headers, signature, body, with its fault applied).

use std::time::Duration;

use bytes::Bytes;
use icr_webhooks::contract::header;
use icr_webhooks::receive::{ContentType, Secret};

use super::{Fault, ICR_TIMEOUT, MAX_BODY, Outgoing, USER_AGENT};

/// The request as it goes on the wire: headers and body bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct WireRequest {
    /// Header names and values, in sending order.
    pub headers: Vec<(&'static str, String)>,
    /// Headers of a recorded delivery that are none of the contract's (an
    /// `X-ICR-` header added later, ...), sent after `headers`.
    pub extra: Vec<(String, String)>,
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
        if let Some(recorded) = &delivery.recorded {
            return self.replay(delivery, recorded);
        }
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
                Bytes::from(icr_webhooks::receive::form_body(&payload))
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
            extra: Vec::new(),
            body,
            slow: fault == Some(Fault::SlowBody),
        }
    }

    /// The request of a recorded delivery: its headers in their order (the
    /// GUID `delivery.id`, no old signature), its exact body, and a
    /// signature over it with this sender's secret. Faults do not apply.
    fn replay(&self, delivery: &Outgoing, recorded: &[(String, String)]) -> WireRequest {
        let mut headers = Vec::with_capacity(recorded.len() + 1);
        let mut extra = Vec::new();
        for (name, value) in recorded {
            match KNOWN.iter().find(|known| known.eq_ignore_ascii_case(name)) {
                Some(&header::SIGNATURE_256) => {}
                Some(&header::DELIVERY) => headers.push((header::DELIVERY, delivery.id.clone())),
                Some(known) => headers.push((*known, value.clone())),
                None => extra.push((name.clone(), value.clone())),
            }
        }
        if !headers.iter().any(|(name, _)| *name == header::DELIVERY) {
            headers.push((header::DELIVERY, delivery.id.clone()));
        }
        if let Some(secret) = &self.secret {
            headers.push((
                header::SIGNATURE_256,
                secret.sign(&delivery.payload).to_string(),
            ));
        }
        WireRequest {
            headers,
            extra,
            body: delivery.payload.clone(),
            slow: false,
        }
    }
}

/// The headers of the contract, by the names the sender writes.
const KNOWN: [&str; 8] = [
    header::EVENT,
    header::DELIVERY,
    header::HOOK_ID,
    header::INSTALLATION_TARGET_TYPE,
    header::INSTALLATION_TARGET_ID,
    header::SIGNATURE_256,
    header::CONTENT_TYPE,
    "User-Agent",
];

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

/// The body in 16 pieces spread over about a second.
pub(super) fn slow_stream(
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
