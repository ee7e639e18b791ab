//! The one HTTP client `listen` needs, to forward a delivery to the app and
//! to replay one: a `POST` of exact headers and body bytes over a fresh
//! HTTP/1.1 connection, within ICR's 10 s. The mock sender's client builds
//! ICR's headers itself, so it does not fit here.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyExt as _, Full};

/// An `http://` URL to post to.
pub use crate::url::HttpUrl as Url;

/// The headers a client sets itself: never copied from a recorded request.
pub(super) fn is_hop_by_hop(name: &str) -> bool {
    [
        "host",
        "content-length",
        "connection",
        "transfer-encoding",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
    ]
    .iter()
    .any(|hop| name.eq_ignore_ascii_case(hop))
}

/// The app's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) body: Bytes,
    pub(super) latency: Duration,
}

/// Posts `body` with `headers` (hop-by-hop ones left out) to `url`, and
/// reads the whole answer, within `timeout`.
pub(super) async fn post(
    url: &Url,
    headers: &HeaderMap,
    body: Bytes,
    timeout: Duration,
) -> Result<Answer, String> {
    let started = Instant::now();
    match tokio::time::timeout(timeout, exchange(url, headers, body)).await {
        Ok(Ok((status, body))) => Ok(Answer {
            status,
            body,
            latency: started.elapsed(),
        }),
        Ok(Err(error)) => Err(error),
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    }
}

async fn exchange(
    url: &Url,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Bytes), String> {
    let stream = tokio::net::TcpStream::connect((url.host(), url.port()))
        .await
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            _ => format!("cannot connect: {error}"),
        })?;
    let _ = stream.set_nodelay(true);
    let (mut connection, driver) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|error| format!("cannot connect: {error}"))?;
    tokio::spawn(async move {
        // Ends with the exchange: its errors reach the request.
        let _ended = driver.await;
    });
    let mut request = http::Request::post(url.target().clone())
        .body(Full::new(body))
        .map_err(|error| format!("cannot build the request: {error}"))?;
    let sent = request.headers_mut();
    sent.insert(http::header::HOST, url.host_header().clone());
    for (name, value) in headers {
        if !is_hop_by_hop(name.as_str()) {
            sent.append(name.clone(), value.clone());
        }
    }
    let response = connection
        .send_request(request)
        .await
        .map_err(|error| format!("no answer: {error}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| format!("answer broken off: {error}"))?
        .to_bytes();
    Ok((status, body))
}

/// A header list (as the history keeps it) as a map, names and values that
/// are not valid left out.
pub(super) fn header_map(headers: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.append(name, value);
        }
    }
    map
}
