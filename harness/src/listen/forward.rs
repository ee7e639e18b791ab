//! `listen --forward-to URL`: every delivery that passes the contract's
//! checks (all but the typed parse, so that the app also sees payloads its
//! types may refuse) is forwarded byte-exact with the headers ICR sent,
//! re-signed when `--forward-secret` is given, and ICR is answered with the
//! app's status; the app's answer and latency go into the history. No
//! exactly-once here: the app under development does its own.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse as _, Response};
use icr_webhooks::axum::DeliveryRejection;
use icr_webhooks::receive::{DeliveryInfo, Secret};

use super::client::{self, Url};
use super::handlers::{ListenState, note};
use super::record::with_reason;
use crate::history::Forwarded;

/// Where deliveries are forwarded, and the secret they are re-signed with
/// (`None`: the signature ICR sent goes along).
#[derive(Debug, Clone)]
pub struct Forward {
    /// The app's webhook URL.
    pub url: Url,
    /// The app's secret, when it differs from `listen`'s.
    pub secret: Option<Secret>,
}

impl Forward {
    /// The headers to send the app for `body`: those given, re-signed with
    /// the forward secret when there is one.
    pub(super) fn sign(&self, mut headers: HeaderMap, body: &[u8]) -> HeaderMap {
        if let Some(secret) = &self.secret {
            if let Ok(value) = HeaderValue::from_str(&secret.sign(body).to_string()) {
                headers.insert(icr_webhooks::contract::header::SIGNATURE_256, value);
            }
        }
        headers
    }
}

/// Checks, forwards, answers with the app's status.
pub(super) async fn handle_forward(
    State(state): State<ListenState>,
    headers: HeaderMap,
    info: Result<DeliveryInfo, DeliveryRejection>,
) -> Response {
    let info = match info {
        Ok(info) => info,
        Err(rejection) => {
            state.counts.refused.fetch_add(1, Ordering::Relaxed);
            note(
                &state,
                rejection.status().as_u16(),
                rejection.code(),
                &rejection,
            );
            let code = rejection.code();
            return with_reason(rejection.into_response(), code);
        }
    };
    let Some(forward) = state.forward.as_ref() else {
        return with_reason(
            (StatusCode::INTERNAL_SERVER_ERROR, "nowhere to forward").into_response(),
            "forward_failed",
        );
    };
    let headers = forward.sign(headers, &info.body);
    let sent = client::post(
        &forward.url,
        &headers,
        info.body.clone(),
        icr_webhooks::contract::RESPONSE_TIMEOUT,
    )
    .await;
    let (mut response, forwarded, reason) = match sent {
        Ok(answer) => {
            state.counts.forwarded.fetch_add(1, Ordering::Relaxed);
            let forwarded = Forwarded {
                url: forward.url.to_string(),
                status: Some(answer.status.as_u16()),
                error: None,
                latency_ms: u64::try_from(answer.latency.as_millis()).unwrap_or(u64::MAX),
            };
            (
                (answer.status, answer.body).into_response(),
                forwarded,
                "forwarded",
            )
        }
        Err(failure) => {
            state.counts.forward_failed.fetch_add(1, Ordering::Relaxed);
            note(&state, 502, "forward_failed", &failure);
            let forwarded = Forwarded {
                url: forward.url.to_string(),
                status: None,
                error: Some(failure.clone()),
                latency_ms: 0,
            };
            (
                (
                    StatusCode::BAD_GATEWAY,
                    format!("forwarding failed: {failure}"),
                )
                    .into_response(),
                forwarded,
                "forward_failed",
            )
        }
    };
    response.extensions_mut().insert(forwarded);
    with_reason(response, reason)
}
