//! The connection pool: each webhook URL's target with its idle keep-alive
//! connections, and one request exchanged over them.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::Frame;

use super::wire::slow_stream;
use super::{Sender, SenderError, WireRequest};

/// Where requests go, and the connections kept open to it.
pub(super) struct Target {
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
    pub(super) fn parse(url: &str) -> Result<Self, SenderError> {
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

/// Why an attempt got no answer.
pub(super) enum Failed {
    /// Before any answer: nothing to report but why.
    NoAnswer(String),
    /// The answer's status came, then its body broke off.
    BrokenAnswer(u16, String),
}

impl Sender {
    /// The target of the next attempt, in turn.
    fn next_target(&self) -> Result<Arc<Target>, Failed> {
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        self.targets
            .get(turn % self.targets.len().max(1))
            .cloned()
            .ok_or_else(|| Failed::NoAnswer("no webhook URL".to_owned()))
    }

    /// One request and its whole answer. A request that an idle connection
    /// gives back unsent (the app closed it meanwhile) goes again on a new
    /// connection; one that was sent is never sent twice.
    pub(super) async fn exchange(&self, wire: WireRequest) -> Result<u16, Failed> {
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
        for (name, value) in &wire.extra {
            request = request.header(name.as_str(), value.as_str());
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
