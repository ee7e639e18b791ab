//! Fixtures: one captured delivery per file, written as the HTTP request it
//! was (`.http`, which editors' REST clients highlight), with its exact body
//! bytes, so that it can be read, diffed, replayed and turned into a test.
//!
//! ```text
//! POST / HTTP/1.1
//! X-ICR-Event: credit_transfer
//! X-ICR-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958
//! X-ICR-Hook-ID: 60021
//! Content-Type: application/json
//! Content-Length: 1234
//!
//! <exactly Content-Length body bytes>
//! ```
//!
//! The signature is never written: a fixture is signed again when it is sent
//! ([`Fixture::signed_headers`], [`Fixture::to_request`]). The head is
//! written with LF line ends (CRLF is read too); `Content-Length` says where
//! the body ends, and one newline after it is tolerated (and written, so the
//! file ends with one).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use icr_webhooks::contract::{EventKey, header};
use icr_webhooks::receive::Secret;

use crate::sender::WireRequest;

/// The file extension of fixtures.
pub const EXTENSION: &str = "http";

/// The headers a fixture keeps, in the order it writes them first; other
/// `X-ICR-` headers follow in the order they came.
const KEPT: [&str; 7] = [
    header::EVENT,
    header::DELIVERY,
    header::HOOK_ID,
    header::INSTALLATION_TARGET_TYPE,
    header::INSTALLATION_TARGET_ID,
    "User-Agent",
    header::CONTENT_TYPE,
];

/// One delivery: its headers (no signature, no `Content-Length`) and its
/// exact body.
#[derive(Clone, PartialEq, Eq)]
pub struct Fixture {
    /// Header names and values, in file order.
    pub headers: Vec<(String, String)>,
    /// The body, exactly as sent (form-encoded for a `form` delivery).
    pub body: Bytes,
}

impl std::fmt::Debug for Fixture {
    /// The headers, and the body's size only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("headers", &self.headers)
            .field("body", &format_args!("<{} bytes>", self.body.len()))
            .finish()
    }
}

/// Why a fixture could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// A file or folder could not be read or written.
    #[error("cannot access {}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A fixture file is not a fixture.
    #[error("in {}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: Box<FixtureError>,
    },
    /// The first line is not `POST <target> HTTP/1.1`.
    #[error("line 1: expected `POST <target> HTTP/1.1`")]
    RequestLine,
    /// A header line is not `Name: value` in UTF-8.
    #[error("line {line}: expected a header `Name: value`")]
    Header {
        /// 1-based line.
        line: usize,
    },
    /// The file ends before the blank line that closes the headers.
    #[error("no blank line after the headers (the file ends at line {line})")]
    MissingBlankLine {
        /// The last line, 1-based.
        line: usize,
    },
    /// No `Content-Length` header.
    #[error("no `Content-Length` header")]
    MissingContentLength,
    /// `Content-Length` is not a number, or is repeated.
    #[error("line {line}: `Content-Length` is not one decimal number")]
    BadContentLength {
        /// 1-based line.
        line: usize,
    },
    /// The body is shorter than `Content-Length` says.
    #[error("the body has {found} bytes, `Content-Length` says {expected}")]
    TruncatedBody {
        /// `Content-Length`.
        expected: usize,
        /// The bytes after the blank line.
        found: usize,
    },
    /// More than one newline follows the body.
    #[error("{extra} bytes after the body (only one newline may follow it)")]
    TrailingBytes {
        /// How many.
        extra: usize,
    },
}

impl Fixture {
    /// Reads a fixture from its file's bytes.
    ///
    /// # Errors
    /// [`FixtureError::RequestLine`], [`FixtureError::Header`],
    /// [`FixtureError::MissingBlankLine`],
    /// [`FixtureError::MissingContentLength`],
    /// [`FixtureError::BadContentLength`], [`FixtureError::TruncatedBody`]
    /// or [`FixtureError::TrailingBytes`].
    pub fn parse(bytes: &[u8]) -> Result<Fixture, FixtureError> {
        let mut rest = bytes;
        let mut number = 0;
        let mut headers = Vec::new();
        let mut length = None;
        loop {
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                return Err(FixtureError::MissingBlankLine { line: number });
            };
            number += 1;
            let (line, after) = rest.split_at(end);
            rest = after.get(1..).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if number == 1 {
                if !is_request_line(line) {
                    return Err(FixtureError::RequestLine);
                }
                continue;
            }
            if line.is_empty() {
                break;
            }
            let bad = FixtureError::Header { line: number };
            let text = std::str::from_utf8(line).map_err(|_| bad)?;
            let (name, value) = text
                .split_once(':')
                .ok_or(FixtureError::Header { line: number })?;
            if name.is_empty() || !name.bytes().all(is_token) {
                return Err(FixtureError::Header { line: number });
            }
            let value = value.trim_matches([' ', '\t']);
            if name.eq_ignore_ascii_case("Content-Length") {
                let parsed = value
                    .parse::<usize>()
                    .ok()
                    .filter(|_| value.bytes().all(|b| b.is_ascii_digit()));
                match (length, parsed) {
                    (None, Some(n)) => length = Some(n),
                    _ => return Err(FixtureError::BadContentLength { line: number }),
                }
            } else {
                headers.push((name.to_owned(), value.to_owned()));
            }
        }
        let length = length.ok_or(FixtureError::MissingContentLength)?;
        let body = rest.get(..length).ok_or(FixtureError::TruncatedBody {
            expected: length,
            found: rest.len(),
        })?;
        match rest.get(length..).unwrap_or_default() {
            b"" | b"\n" | b"\r\n" => {}
            extra => return Err(FixtureError::TrailingBytes { extra: extra.len() }),
        }
        Ok(Fixture {
            headers,
            body: Bytes::copy_from_slice(body),
        })
    }

    /// The file's bytes: the request line, the headers, `Content-Length`, a
    /// blank line, the body and a newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 512);
        out.extend_from_slice(b"POST / HTTP/1.1\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\n").as_bytes());
        }
        out.extend_from_slice(format!("Content-Length: {}\n\n", self.body.len()).as_bytes());
        out.extend_from_slice(&self.body);
        out.push(b'\n');
        out
    }

    /// Reads the fixture in `path`.
    ///
    /// # Errors
    /// [`FixtureError::Io`] when it cannot be read, [`FixtureError::File`]
    /// (with the [`parse`](Self::parse) error as its source) when it is not
    /// a fixture.
    pub fn load(path: impl AsRef<Path>) -> Result<Fixture, FixtureError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| FixtureError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&bytes).map_err(|source| FixtureError::File {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Writes the fixture to `path`.
    ///
    /// # Errors
    /// [`FixtureError::Io`] when it cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), FixtureError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_bytes()).map_err(|source| FixtureError::Io {
            path: path.to_owned(),
            source,
        })
    }

    /// Every `*.http` fixture in `dir` (not in its subfolders), sorted by
    /// file name.
    ///
    /// # Errors
    /// As [`load`](Self::load), for the folder or any of its fixtures.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<(PathBuf, Fixture)>, FixtureError> {
        let dir = dir.as_ref();
        let io = |source| FixtureError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.extension().is_some_and(|ext| ext == EXTENSION) && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        paths
            .into_iter()
            .map(|path| Self::load(&path).map(|fixture| (path, fixture)))
            .collect()
    }

    /// The fixture of a request as it was received: ICR's `X-ICR-` headers
    /// but the signature, `User-Agent` and `Content-Type`; hop-by-hop and
    /// other headers (`Host`, `Content-Length`, `Connection`, …) are dropped.
    pub fn from_request(headers: &http::HeaderMap, body: Bytes) -> Fixture {
        let value = |v: &http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
        let mut kept: Vec<(String, String)> = Vec::new();
        for name in KEPT {
            kept.extend(
                headers
                    .get_all(name)
                    .iter()
                    .map(|v| (name.to_owned(), value(v))),
            );
        }
        for (name, v) in headers {
            let lower = name.as_str();
            let extra = lower.starts_with("x-icr-")
                && !lower.eq_ignore_ascii_case(header::SIGNATURE_256)
                && !KEPT.iter().any(|k| k.eq_ignore_ascii_case(lower));
            if let (true, Some(rest)) = (extra, lower.get("x-icr-".len()..)) {
                kept.push((format!("X-ICR-{}", title_case(rest)), value(v)));
            }
        }
        Fixture {
            headers: kept,
            body,
        }
    }

    /// The first value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The event (`X-ICR-Event`) and the payload's `action`, the payload
    /// read from a form body's `payload` field when it is one.
    pub fn event_key(&self) -> Option<EventKey> {
        let event = self.header(header::EVENT).filter(|e| !e.is_empty())?;
        let is_form = self.header(header::CONTENT_TYPE).is_some_and(|t| {
            t.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        let payload = if is_form {
            form_payload(&self.body)
        } else {
            Some(self.body.to_vec())
        };
        let action = payload
            .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
            .and_then(|v| v.get("action")?.as_str().map(str::to_owned));
        Some(EventKey::new(event, action.as_deref()))
    }

    /// The GUID (`X-ICR-Delivery`).
    pub fn delivery_id(&self) -> Option<&str> {
        self.header(header::DELIVERY)
    }

    /// The same delivery under a fresh random GUID (UUID v4).
    #[must_use]
    pub fn with_new_guid(&self) -> Fixture {
        let guid = uuid::Uuid::new_v4().hyphenated().to_string();
        let mut fixture = self.clone();
        match fixture
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(header::DELIVERY))
        {
            Some((_, value)) => *value = guid,
            None => fixture.headers.push((header::DELIVERY.to_owned(), guid)),
        }
        fixture
    }

    /// The headers with `X-ICR-Signature-256` over the exact body, signed
    /// with `secret`: ready for [`Receiver::receive`](icr_webhooks::Receiver::receive)
    /// with [`body`](Self::body).
    pub fn signed_headers(&self, secret: &Secret) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(header::SIGNATURE_256))
            .cloned()
            .collect();
        headers.push((
            header::SIGNATURE_256.to_owned(),
            secret.sign(&self.body).to_string(),
        ));
        headers
    }

    /// A signed `POST` of the fixture to `uri` (a path such as `/webhook`;
    /// `/` when it is not a URI), for `tower::ServiceExt::oneshot` against
    /// an axum app. A header whose name or value HTTP cannot carry is left
    /// out.
    pub fn to_request(&self, secret: &Secret, uri: &str) -> http::Request<axum::body::Body> {
        let mut request = http::Request::new(axum::body::Body::from(self.body.clone()));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = uri.parse().unwrap_or_default();
        let headers = request.headers_mut();
        for (name, value) in self.signed_headers(secret) {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                headers.append(name, value);
            }
        }
        headers.insert(http::header::CONTENT_LENGTH, self.body.len().into());
        request
    }

    /// A file name for the fixture: `event.action-` and the GUID's first
    /// eight characters (`credit_transfer.completed-72d3162e.http`), made
    /// of letters, digits, `_`, `.` and `-` only.
    pub fn file_name(&self) -> String {
        let key = self
            .event_key()
            .map_or_else(|| "delivery".to_owned(), |k| k.to_string());
        let mut name = safe(&key, 80);
        if let Some(guid) = self.delivery_id() {
            name.push('-');
            name.push_str(&safe(guid, 8));
        }
        format!("{name}.{EXTENSION}")
    }
}

impl From<&WireRequest> for Fixture {
    /// The fixture of a request the mock sender built, without its
    /// signature.
    fn from(wire: &WireRequest) -> Self {
        let headers = wire
            .headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .chain(wire.extra.iter().cloned())
            .filter(|(n, _)| !n.eq_ignore_ascii_case(header::SIGNATURE_256))
            .collect();
        Fixture {
            headers,
            body: wire.body.clone(),
        }
    }
}

fn is_request_line(line: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(line) else {
        return false;
    };
    let mut parts = text.split(' ');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("POST"), Some(target), Some("HTTP/1.1" | "HTTP/1.0"), None) if !target.is_empty()
    )
}

/// A byte of an HTTP token (a header name).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `hook-id` as `Hook-Id`.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `text` with every character but letters, digits, `_`, `.` and `-` made
/// `_`, cut to `max` characters, never starting with `.`.
fn safe(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    out
}

/// The decoded `payload` field of a form body.
fn form_payload(body: &[u8]) -> Option<Vec<u8>> {
    let field = body
        .split(|&b| b == b'&')
        .find_map(|pair| pair.strip_prefix(b"payload="))?;
    let mut out = Vec::with_capacity(field.len());
    let mut bytes = field.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = [*bytes.next()?, *bytes.next()?];
                let text = std::str::from_utf8(&hex).ok()?;
                out.push(u8::from_str_radix(text, 16).ok()?);
            }
            _ => out.push(b),
        }
    }
    Some(out)
}
