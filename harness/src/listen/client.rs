//! The one HTTP client `listen` needs, to forward a delivery to the app and
//! to replay one: a `POST` of exact headers and body bytes over a fresh
//! HTTP/1.1 connection, within ICR's 10 s. The mock sender's client builds
//! ICR's headers itself, so it does not fit here.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};

/// An `http://` URL to post to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    host: String,
    port: u16,
    authority: HeaderValue,
    path: Uri,
    text: String,
}

impl std::str::FromStr for Url {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("`{text}` is not a URL to forward to: {why}");
        let uri: Uri = text.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(bad("only http:// URLs are supported"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let bracketed = authority.host();
        let host = bracketed
            .strip_prefix('[')
            .and_then(|host| host.strip_suffix(']'))
            .unwrap_or(bracketed);
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let host_header = match authority.port() {
            Some(port) => format!("{bracketed}:{port}"),
            None => bracketed.to_owned(),
        };
        let path = uri
            .path_and_query()
            .map_or("/", |path| path.as_str())
            .parse()
            .map_err(|_| bad("not a URL"))?;
        Ok(Self {
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(80),
            authority: HeaderValue::from_str(&host_header).map_err(|_| bad("not a URL"))?,
            path,
            text: text.to_owned(),
        })
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl Url {
    /// The port (80 when the URL names none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port` as in the `Host` header.
    pub fn authority(&self) -> &str {
        self.authority.to_str().unwrap_or_default()
    }

    /// The same host with another path.
    pub(super) fn with_path(&self, path: &str) -> Self {
        let mut url = self.clone();
        if let Ok(path) = path.parse() {
            url.path = path;
        }
        url.text = format!(
            "http://{}{path}",
            self.authority.to_str().unwrap_or_default()
        );
        url
    }
}

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
    let stream = tokio::net::TcpStream::connect((url.host.as_str(), url.port))
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
    let mut request = http::Request::post(url.path.clone())
        .body(Full::new(body))
        .map_err(|error| format!("cannot build the request: {error}"))?;
    let sent = request.headers_mut();
    sent.insert(http::header::HOST, url.authority.clone());
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
