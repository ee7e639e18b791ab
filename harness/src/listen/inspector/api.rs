//! The inspector's page and its read API: the list, one delivery, the live
//! stream and the drift tally, as JSON.

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse as _, Redirect, Response};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;

use super::Inspector;
use crate::history::{Filter, HistoryError};

const INDEX: &str = include_str!("../ui/index.html");
const APP: &str = include_str!("../ui/app.js");
const STYLE: &str = include_str!("../ui/style.css");

/// The most rows one list answer holds.
const MAX_LIMIT: u32 = 500;

/// `?name=value&…` of a URI, percent-decoded.
pub(super) fn query(uri: &Uri) -> Vec<(String, String)> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// `%41+b` as `A b`; a broken escape is kept as it is.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (byte, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                at += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                at += 1;
            }
            (other, _) => {
                out.push(other);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON answer.
pub(super) fn json(status: StatusCode, value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// A JSON error: `{"error": message}`.
pub(super) fn error(status: StatusCode, message: &str) -> Response {
    json(status, &serde_json::json!({ "error": message }))
}

/// The history failed: 500 with its message.
pub(super) fn failed(failure: &HistoryError) -> Response {
    error(StatusCode::INTERNAL_SERVER_ERROR, &failure.to_string())
}

/// `/_icr` to `/_icr/`, the query kept (it may hold the token).
pub(super) async fn to_page(uri: Uri) -> Redirect {
    match uri.query() {
        Some(query) => Redirect::to(&format!("{}/?{query}", super::PREFIX)),
        None => Redirect::to(&format!("{}/", super::PREFIX)),
    }
}

/// The page, its script and style inlined: one request (with the token)
/// loads it all.
pub(super) async fn page() -> Response {
    let html = INDEX.replace("/*STYLE*/", STYLE).replace("/*APP*/", APP);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            ),
        ],
        html,
    )
        .into_response()
}

/// The filter of a list request.
fn filter(uri: &Uri) -> Filter {
    let mut filter = Filter {
        limit: 200,
        ..Filter::default()
    };
    for (name, value) in query(uri) {
        match name.as_str() {
            "event" => filter.event = Some(value),
            "status" => filter.status = Some(value),
            "guid" => filter.guid = Some(value),
            "before" => filter.before = value.parse().ok(),
            "limit" => filter.limit = value.parse().unwrap_or(200).clamp(1, MAX_LIMIT),
            _ => {}
        }
    }
    filter
}

/// `GET /_icr/api/deliveries`.
pub(super) async fn list(State(inspector): State<Inspector>, uri: Uri) -> Response {
    match inspector.history.list(filter(&uri)).await {
        Ok(rows) => json(StatusCode::OK, &serde_json::json!({ "deliveries": rows })),
        Err(failure) => failed(&failure),
    }
}

/// `GET /_icr/api/deliveries/ID`.
pub(super) async fn detail(State(inspector): State<Inspector>, Path(id): Path<i64>) -> Response {
    match inspector.history.detail(id).await {
        Ok(Some(detail)) => json(StatusCode::OK, &detail),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such delivery in the history"),
        Err(failure) => failed(&failure),
    }
}

/// `GET /_icr/api/stream`: each new row's summary as it is written.
pub(super) async fn stream(
    State(inspector): State<Inspector>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let live = inspector.history.subscribe();
    let stopped = inspector.stopped.clone();
    let events =
        futures_util::stream::unfold((live, stopped), |(mut live, mut stopped)| async move {
            if *stopped.borrow() {
                return None;
            }
            let received = tokio::select! {
                received = live.recv() => received,
                _ = stopped.changed() => return None,
            };
            let event = match received {
                Ok(summary) => match serde_json::to_string(&summary) {
                    Ok(data) => SseEvent::default().event("delivery").data(data),
                    Err(_) => SseEvent::default().event("resync").data("{}"),
                },
                // Too far behind: the page reloads the list.
                Err(RecvError::Lagged(_)) => SseEvent::default().event("resync").data("{}"),
                Err(RecvError::Closed) => return None,
            };
            Some((Ok(event), (live, stopped)))
        });
    Sse::new(events).keep_alive(KeepAlive::default())
}

/// `GET /_icr/api/drift`: the tally over the history.
pub(super) async fn drift(State(inspector): State<Inspector>) -> Response {
    match crate::history::tally(&inspector.history).await {
        Ok(entries) => json(StatusCode::OK, &serde_json::json!({ "drift": entries })),
        Err(failure) => failed(&failure),
    }
}
