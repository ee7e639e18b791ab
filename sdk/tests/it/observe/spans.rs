//! The delivery span of a good delivery and of each way one is refused,
//! field by field, with the one event that closes it at its level; and
//! nothing recorded, at any level, shows the secret, a signature or the
//! body.

use std::collections::BTreeMap;

use icr_webhooks::contract::header;
use icr_webhooks::observe::{DELIVERY_SPAN, TARGET};
use tracing::Level;

use super::capture::{Captured, SpanRecord};
use super::server::{CANARY, LIMIT, SECRET, guid, ping, runtime, serve, transfer, unknown};
use crate::loopback::send_raw;
use crate::support::Wire;

/// A span's fields, each timing (`*_us`) checked to be a number and shown
/// as `<us>`.
fn fields(span: &SpanRecord) -> BTreeMap<String, String> {
    span.fields
        .iter()
        .map(|(name, value)| {
            if name.ends_with("_us") {
                assert!(value.parse::<u64>().is_ok(), "{name} = {value:?}");
                (name.clone(), "<us>".to_owned())
            } else {
                (name.clone(), value.clone())
            }
        })
        .collect()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// Sends `wire` to `path` with a `Content-Length`.
pub(super) async fn post(addr: std::net::SocketAddr, path: &str, wire: &Wire) -> u16 {
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        wire.body.len()
    )
    .into_bytes();
    for (name, value) in &wire.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    send_raw(addr, &head, &wire.body).await.0
}

/// One case: where it is sent, the status, the span's fields but the
/// common ones, and the closing event's level and message.
struct Case {
    path: &'static str,
    wire: Wire,
    status: u16,
    fields: Vec<(&'static str, String)>,
    level: Level,
    message: &'static str,
}

#[test]
fn each_outcome_has_its_span_fields_and_level_and_nothing_secret() {
    let ping_len = ping(1).body.len().to_string();
    let transfer_len = transfer(2).body.len().to_string();
    let timed = |names: &[&'static str]| -> Vec<(&'static str, String)> {
        names
            .iter()
            .map(|name| (*name, "<us>".to_owned()))
            .collect()
    };
    let with = |mut base: Vec<(&'static str, String)>, more: &[(&'static str, &str)]| {
        base.extend(
            more.iter()
                .map(|(name, value)| (*name, (*value).to_owned())),
        );
        base
    };
    let bad_json = {
        let wire = ping(5);
        let body = format!(r#"{{"zen":"{CANARY}","#).into_bytes();
        wire.body(body).signed_with(SECRET)
    };
    let bad_json_len = bad_json.body.len().to_string();
    let unknown_wire = unknown(6, "carbon_teleport");
    let unknown_len = unknown_wire.body.len().to_string();
    let large = ping(4).body(vec![b' '; usize::try_from(LIMIT).unwrap() + 1]);
    let cases = vec![
        Case {
            path: "/once",
            wire: ping(1),
            status: 200,
            fields: with(
                timed(&["verify_us", "parse_us", "store_us"]),
                &[("outcome", "claimed"), ("body_bytes", &ping_len)],
            ),
            level: Level::DEBUG,
            message: "delivery answered",
        },
        Case {
            path: "/once",
            wire: transfer(2),
            status: 200,
            fields: with(
                timed(&["verify_us", "parse_us", "store_us"]),
                &[
                    ("outcome", "claimed"),
                    ("body_bytes", &transfer_len),
                    ("event", "credit_transfer"),
                    ("action", "completed"),
                ],
            ),
            level: Level::DEBUG,
            message: "delivery answered",
        },
        Case {
            path: "/once",
            wire: ping(3).signed_with("whsec_wrong"),
            status: 401,
            fields: with(
                timed(&["verify_us"]),
                &[
                    ("outcome", "signature_mismatch"),
                    ("status", "401"),
                    ("body_bytes", &ping_len),
                ],
            ),
            level: Level::WARN,
            message: "delivery refused: bad signature",
        },
        Case {
            path: "/once",
            wire: ping(3).without(header::SIGNATURE_256),
            status: 401,
            fields: with(
                vec![],
                &[
                    ("outcome", "missing_header"),
                    ("status", "401"),
                    ("body_bytes", &ping_len),
                ],
            ),
            level: Level::WARN,
            message: "delivery refused: bad signature",
        },
        Case {
            path: "/once",
            wire: large,
            status: 413,
            fields: with(vec![], &[("outcome", "body_too_large"), ("status", "413")]),
            level: Level::INFO,
            message: "delivery refused",
        },
        Case {
            path: "/once",
            wire: ping(4).with(header::CONTENT_TYPE, "text/plain"),
            status: 415,
            fields: with(
                timed(&["verify_us"]),
                &[
                    ("outcome", "unsupported_content_type"),
                    ("status", "415"),
                    ("body_bytes", &ping_len),
                ],
            ),
            level: Level::INFO,
            message: "delivery refused",
        },
        Case {
            path: "/once",
            wire: bad_json,
            status: 400,
            fields: with(
                timed(&["verify_us", "parse_us"]),
                &[
                    ("outcome", "malformed_json"),
                    ("status", "400"),
                    ("body_bytes", &bad_json_len),
                ],
            ),
            level: Level::INFO,
            message: "delivery refused",
        },
        Case {
            path: "/once",
            wire: unknown_wire,
            status: 200,
            fields: with(
                timed(&["verify_us", "parse_us", "store_us"]),
                &[
                    ("outcome", "claimed"),
                    ("body_bytes", &unknown_len),
                    ("event", "unknown"),
                    ("action", "unknown"),
                ],
            ),
            level: Level::DEBUG,
            message: "delivery answered",
        },
        Case {
            path: "/once",
            wire: ping(1),
            status: 200,
            fields: with(
                timed(&["verify_us", "parse_us", "store_us"]),
                &[
                    ("outcome", "duplicate"),
                    ("status", "200"),
                    ("body_bytes", &ping_len),
                ],
            ),
            level: Level::DEBUG,
            message: "delivery answered",
        },
        Case {
            path: "/down",
            wire: ping(7),
            status: 503,
            fields: with(
                timed(&["verify_us", "parse_us", "store_us"]),
                &[
                    ("outcome", "store_unavailable"),
                    ("status", "503"),
                    ("body_bytes", &ping_len),
                ],
            ),
            level: Level::ERROR,
            message: "delivery not taken: the server failed",
        },
        Case {
            path: "/inbox",
            wire: ping(8),
            status: 202,
            fields: with(
                timed(&["verify_us", "parse_us", "store_us"]),
                &[
                    ("outcome", "accepted"),
                    ("status", "202"),
                    ("body_bytes", &ping_len),
                ],
            ),
            level: Level::DEBUG,
            message: "delivery answered",
        },
        Case {
            path: "/plain",
            wire: ping(9),
            status: 204,
            fields: with(
                timed(&["verify_us", "parse_us"]),
                &[("outcome", "verified"), ("body_bytes", &ping_len)],
            ),
            level: Level::DEBUG,
            message: "delivery answered",
        },
    ];

    let captured = Captured::default();
    let statuses = captured.during(|| {
        runtime().block_on(async {
            let addr = serve().await;
            let mut statuses = Vec::new();
            for case in &cases {
                statuses.push(post(addr, case.path, &case.wire).await);
            }
            statuses
        })
    });
    assert_eq!(
        statuses,
        cases.iter().map(|case| case.status).collect::<Vec<_>>()
    );

    let spans = captured.named(DELIVERY_SPAN);
    assert_eq!(spans.len(), cases.len(), "one span per delivery");
    for (index, (span, case)) in spans.iter().zip(&cases).enumerate() {
        let n = case.wire.get(header::DELIVERY).unwrap_or_else(|| guid(0));
        // The fields every delivery has, then the case's own.
        let mut expected = map(&[("delivery_id", &n), ("event", "ping"), ("hook_id", "60021")]);
        for (name, value) in &case.fields {
            expected.insert((*name).to_owned(), value.clone());
        }
        assert_eq!(fields(span), expected, "case {index} ({})", case.path);
        assert_eq!((span.level, span.target.as_str()), (Level::INFO, TARGET));
        assert_eq!(span.events.len(), 1, "case {index}: {:?}", span.events);
        let event = &span.events[0];
        let mut event_fields = map(&[("message", case.message), ("outcome", &expected["outcome"])]);
        if let Some(status) = expected.get("status") {
            event_fields.insert("status".into(), status.clone());
        }
        assert_eq!(
            (event.level, event.target.as_str(), &event.fields),
            (case.level, TARGET, &event_fields),
            "case {index}"
        );
    }

    // Everything recorded, every field and message at every level: no
    // secret, no signature (sent or expected), no byte of a body.
    let text = captured.text();
    let mut signatures: Vec<String> = cases
        .iter()
        .filter_map(|case| case.wire.get(header::SIGNATURE_256))
        .collect();
    signatures.push(
        icr_webhooks::receive::Secret::new(SECRET)
            .sign(&ping(3).body)
            .to_string(),
    );
    for secret in [SECRET, "SEKRIT", CANARY, "whsec_wrong"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    for signature in &signatures {
        let hex = signature.trim_start_matches("sha256=");
        assert!(!text.contains(&hex[..16]), "a signature in {text}");
    }
}
