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
use crate::url::HttpUrl;

/// Where requests go, and the connections kept open to it.
pub(super) struct Target {
    url: HttpUrl,
    /// Connections that answered and may take another request.
    idle: Mutex<Vec<Connection>>,
}

impl Target {
    /// Where `url` points: an `http://` URL with a host.
    pub(super) fn parse(url: &str) -> Result<Self, SenderError> {
        let url: HttpUrl = url
            .parse()
            .map_err(|error: crate::url::UrlError| SenderError::Url {
                url: error.url,
                reason: error.reason,
            })?;
        Ok(Target {
            url,
            idle: Mutex::new(Vec::new()),
        })
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
            .field("url", &self.url)
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
        let mut request = http::Request::post(target.url.target().clone())
            .header(http::header::HOST, target.url.host_header().clone());
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
        let stream = tokio::net::TcpStream::connect((target.url.host(), target.url.port()))
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
