//! Hostile deliveries, each with its exact outcome: what anyone who can
//! reach a public webhook URL can send, beyond the bad deliveries of
//! `bad_deliveries.rs`. Deep nesting, numbers out of range, duplicate keys,
//! byte-order marks, NUL bytes, overlong UTF-8, lone surrogates, repeated
//! and odd headers, odd form bodies, huge names. Signed correctly unless
//! the case is about the signature, so that each reaches the check it
//! aims at.

use icr_webhooks::contract::header;
use icr_webhooks::receive::ParseError;
use icr_webhooks::types::{CreditTransferEvent, InventoryEvent};
use icr_webhooks::{Delivery, Event, ReceiveError};

use crate::support::{GUID, SECRET, Wire, example, receiver};

/// The exact outcome of one delivery.
enum Expect {
    /// Accepted; the check tells whether the delivery is the expected one.
    Accepted(fn(&Delivery) -> bool),
    /// Refused with exactly this error (its source included).
    Refused(ReceiveError),
}

/// A compact ping payload with `zen` and `hook_id` given as raw JSON.
fn ping_with(zen: &str, hook_id: &str) -> Vec<u8> {
    format!(
        r#"{{"zen":{zen},"hook_id":{hook_id},"hook":{{"id":60021,"type":"App","name":"web","active":true,"events":[],"config":{{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"}},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}}}"#
    )
    .into_bytes()
}

/// The compact ping, as bytes.
fn ping() -> Vec<u8> {
    ping_with(r#""z""#, "60021")
}

/// `bytes` with the first `from` replaced by `to`.
fn replaced(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|window| window == from)
        .unwrap_or_else(|| panic!("{:?} not found", String::from_utf8_lossy(from)));
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

/// The `inventory.created` example with `credit_balance` (a `u64`) set to
/// the raw JSON `balance`.
fn inventory_with_balance(balance: &str) -> Wire {
    let body = example("inventory.created.json");
    Wire::json(
        "inventory",
        replaced(
            &body,
            b"\"credit_balance\": 0",
            format!("\"credit_balance\": {balance}").as_bytes(),
        ),
    )
}

/// A JSON delivery of `body` for `event`, signed.
fn json(event: &str, body: Vec<u8>) -> Wire {
    Wire::json(event, body)
}

/// A signed form delivery whose whole body is `body`, as given.
fn raw_form(event: &str, body: impl Into<Vec<u8>>) -> Wire {
    Wire::json(event, body.into())
        .with(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .signed_with(SECRET)
}

fn malformed(line: usize, column: usize, reason: &str) -> ReceiveError {
    ReceiveError::MalformedJson {
        source: Box::new(ParseError::Malformed {
            line,
            column,
            reason: reason.to_owned(),
        }),
    }
}

fn shape(event: &str, action: Option<&str>, path: &str, reason: &str) -> ReceiveError {
    ReceiveError::UnexpectedShape {
        source: Box::new(ParseError::Shape {
            event: event.to_owned(),
            action: action.map(str::to_owned),
            path: path.to_owned(),
            reason: reason.to_owned(),
        }),
    }
}

fn not_an_object() -> ReceiveError {
    ReceiveError::MalformedJson {
        source: Box::new(ParseError::NotAnObject),
    }
}

fn zen_is(delivery: &Delivery, zen: &str) -> bool {
    matches!(&delivery.event, Event::Ping(ping) if ping.zen == zen)
}

fn is_ping(delivery: &Delivery) -> bool {
    matches!(delivery.event, Event::Ping(_))
}

/// `[` nested `depth` times, then as many `]`.
fn nested_arrays(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// `{"a":` nested `depth` times around `1`.
fn nested_objects(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

const EVENT_MISSING: ReceiveError = ReceiveError::MissingHeader {
    header: header::EVENT,
};
const EVENT_INVALID: ReceiveError = ReceiveError::InvalidHeader {
    header: header::EVENT,
};
const DELIVERY_INVALID: ReceiveError = ReceiveError::InvalidHeader {
    header: header::DELIVERY,
};

/// Every hostile case: the bodies, then the headers and forms.
fn cases() -> Vec<(&'static str, Wire, Expect)> {
    let mut cases = bodies::body_cases();
    cases.extend(headers::header_and_form_cases());
    cases
}

#[test]
fn hostile_deliveries_get_their_exact_outcome() {
    let cases = cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let receiver = receiver();
    let mut failures = Vec::new();
    for (name, wire, expect) in &cases {
        let outcome = wire.receive(&receiver);
        let problem = match (expect, &outcome) {
            (Expect::Accepted(check), Ok(delivery)) if check(delivery) => continue,
            (Expect::Refused(expected), Err(error)) if error == expected => {
                let status = error.status().as_u16();
                assert!(matches!(status, 400 | 401 | 413 | 415), "{name}: {status}");
                continue;
            }
            (Expect::Accepted(_), Ok(delivery)) => {
                format!("accepted as another delivery: {:?}", delivery.event.name())
            }
            (Expect::Accepted(_), Err(error)) => format!("refused: {error:?}"),
            (Expect::Refused(expected), Err(error)) => {
                format!("refused with {error:?}, expected {expected:?}")
            }
            (Expect::Refused(expected), Ok(delivery)) => format!(
                "accepted as {:?}, expected {expected:?}",
                delivery.event.name()
            ),
        };
        failures.push(format!("{name}: {problem}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An HTTP answer: status and body.
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
type Answer = (u16, &'static str);

/// What the client does once its request is written.
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
#[derive(Clone, Copy)]
enum Then {
    /// Keeps its side open and reads the answer.
    Wait,
    /// Closes its sending side, then reads the answer.
    Close,
}

/// A request over HTTP/1.1 with `framing` lines (each ending in CRLF) and
/// the headers of `wire`, then `body`.
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
fn request(wire: &Wire, framing: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n{framing}").into_bytes();
    for (name, value) in &wire.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// `wire` as a request with its exact `Content-Length`, closing after.
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
fn plain(wire: &Wire) -> Vec<u8> {
    request(
        wire,
        &format!(
            "Connection: close\r\nContent-Length: {}\r\n",
            wire.body.len()
        ),
        &wire.body,
    )
}

#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
async fn exchange(addr: std::net::SocketAddr, bytes: Vec<u8>, then: Then) -> (u16, String) {
    use tokio::io::AsyncWriteExt;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        // A refused request may be cut off before it is all written.
        let _ = write.write_all(&bytes).await;
        if let Then::Close = then {
            let _ = write.shutdown().await;
        }
        write
    });
    let answer = crate::loopback::read_response(&mut read).await;
    drop(writer.await.unwrap());
    answer
}

#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
#[test]
fn hostile_requests_over_http_get_their_exact_answer() {
    use crate::server::{Options, drain, start};
    const MISMATCH: &str = "signature does not match the body with any configured secret";
    let ping_wire = json("ping", ping());
    let body = ping_wire.body.clone();
    let len = body.len();
    // Each accepted case has a GUID of its own.
    let fresh = |n: u32| {
        json("ping", ping()).with(
            header::DELIVERY,
            format!("{n:08x}-dddd-4000-8000-000000000000"),
        )
    };
    let with_framing =
        |wire: &Wire, extra: &str| request(wire, &format!("Connection: close\r\n{extra}"), &body);
    let without_framing = |extra: &str| with_framing(&ping_wire, extra);
    let chunked_body = |wire: &Wire, chunks: &str| {
        request(
            wire,
            "Connection: close\r\nTransfer-Encoding: chunked\r\n",
            chunks.as_bytes(),
        )
    };
    let whole_chunk = format!("{len:x}\r\n{}\r\n0\r\n\r\n", String::from_utf8_lossy(&body));
    let cases: Vec<(&str, Vec<u8>, Then, Answer)> = vec![
        (
            "a Content-Length shorter than the body",
            without_framing(&format!("Content-Length: {}\r\n", len - 10)),
            Then::Wait,
            (401, MISMATCH),
        ),
        (
            "a Content-Length longer than the body, then the client closes its side",
            without_framing(&format!("Content-Length: {}\r\n", len + 10)),
            Then::Close,
            (400, "failed to read the request body"),
        ),
        (
            "a Content-Length longer than the body, the client waits",
            without_framing(&format!("Content-Length: {}\r\n", len + 10)),
            Then::Wait,
            (408, "request body not received within 300 ms"),
        ),
        (
            "two Content-Length headers that differ",
            without_framing(&format!(
                "Content-Length: {len}\r\nContent-Length: {}\r\n",
                len - 1
            )),
            Then::Wait,
            (400, ""),
        ),
        (
            "two equal Content-Length headers",
            with_framing(
                &fresh(1),
                &format!("Content-Length: {len}\r\nContent-Length: {len}\r\n"),
            ),
            Then::Wait,
            (200, ""),
        ),
        (
            "a Content-Length and chunked together: chunked wins",
            request(
                &fresh(2),
                "Connection: close\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                whole_chunk.as_bytes(),
            ),
            Then::Wait,
            (200, ""),
        ),
        (
            "a Content-Length of -1",
            without_framing("Content-Length: -1\r\n"),
            Then::Wait,
            (400, ""),
        ),
        (
            "a Content-Length beyond 2^64",
            without_framing("Content-Length: 99999999999999999999\r\n"),
            Then::Wait,
            (400, ""),
        ),
        (
            "a Content-Length of 1 TiB",
            without_framing("Content-Length: 1099511627776\r\n"),
            Then::Wait,
            (413, "body larger than the limit of 26214400 bytes"),
        ),
        (
            "Expect: 100-continue with a Content-Length over the limit: no 100",
            request(
                &ping_wire,
                "Connection: close\r\nExpect: 100-continue\r\nContent-Length: 26214401\r\n",
                b"",
            ),
            Then::Wait,
            (413, "body larger than the limit of 26214400 bytes"),
        ),
        (
            "a bad chunk size",
            chunked_body(&ping_wire, "zz\r\nabc\r\n0\r\n\r\n"),
            Then::Wait,
            (400, "failed to read the request body"),
        ),
        (
            "a chunk size beyond 2^64",
            chunked_body(&ping_wire, "fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"),
            Then::Wait,
            (400, "failed to read the request body"),
        ),
        (
            "a chunked body with chunk extensions and a trailer",
            chunked_body(
                &fresh(3),
                &format!(
                    "{len:x};name=value\r\n{}\r\n0\r\nX-Trailer: 1\r\n\r\n",
                    String::from_utf8_lossy(&body)
                ),
            ),
            Then::Wait,
            (200, ""),
        ),
        (
            "a header value with a control character",
            plain(&ping_wire.clone().with(header::EVENT, "pi\x01ng")),
            Then::Wait,
            (400, ""),
        ),
        (
            "a header value with a NUL",
            plain(&ping_wire.clone().with(header::EVENT, "ping\0")),
            Then::Wait,
            (400, ""),
        ),
        (
            "a header value with DEL",
            plain(&ping_wire.clone().with(header::EVENT, "ping\x7f")),
            Then::Wait,
            (400, ""),
        ),
        (
            "X-ICR-Event with bytes that are not UTF-8",
            plain(&ping_wire.clone().with(header::EVENT, b"p\xe9ng".to_vec())),
            Then::Wait,
            (400, "invalid `X-ICR-Event` header"),
        ),
        (
            "X-ICR-Event repeated with two values",
            plain(&ping_wire.clone().also(header::EVENT, "credit_transfer")),
            Then::Wait,
            (400, "invalid `X-ICR-Event` header"),
        ),
        (
            "two signature headers",
            plain(
                &ping_wire
                    .clone()
                    .also(header::SIGNATURE_256, format!("sha256={}", "0".repeat(64))),
            ),
            Then::Wait,
            (
                401,
                "malformed `X-ICR-Signature-256` header: expected `sha256=` and 64 hex digits",
            ),
        ),
        (
            "a header folded onto a continuation line",
            {
                let mut bytes = plain(&ping_wire);
                let at = bytes.windows(2).position(|w| w == b"\r\n").unwrap();
                bytes.splice(at..at, b"\r\n folded".iter().copied());
                bytes
            },
            Then::Wait,
            (400, ""),
        ),
        (
            "an event name of 10,000 characters",
            plain(&fresh(4).with(header::EVENT, "e".repeat(10_000))),
            Then::Wait,
            (200, ""),
        ),
        (
            "a header of 1 MiB",
            plain(&ping_wire.clone().also("X-Noise", "n".repeat(1024 * 1024))),
            Then::Wait,
            (431, ""),
        ),
        (
            "a GUID in upper case",
            plain(
                &ping_wire
                    .clone()
                    .with(header::DELIVERY, "9B2E4C1A-0F3D-4E5B-8A7C-6D1E2F3A4B5C"),
            ),
            Then::Wait,
            (200, ""),
        ),
    ];
    crate::loopback::runtime().block_on(async {
        let mut server = start(Options {
            body_timeout: Some(std::time::Duration::from_millis(300)),
            ..Options::default()
        })
        .await;
        let mut failures = Vec::new();
        for (name, bytes, then, (status, reason)) in cases {
            let got = exchange(server.addr, bytes, then).await;
            if got != (status, reason.to_owned()) {
                failures.push(format!(
                    "{name}: got {got:?}, expected {:?}",
                    (status, reason)
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        drop(drain(&mut server.processed));
    });
}

mod bodies;
mod headers;
