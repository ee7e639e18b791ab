//! A table of deliveries, good and bad, each with its exact outcome: the
//! typed event it gives, or the error variant and the HTTP status. The
//! same rows go over HTTP to every framework in `table_over_http`.

use icr_webhooks::contract::MAX_BODY_SIZE as DEFAULT_MAX_BODY_SIZE;
use icr_webhooks::contract::header;
use icr_webhooks::receive::ParseError;
use icr_webhooks::types::{CreditTransferEvent, InventoryEvent};
use icr_webhooks::{Event, ReceiveError, Receiver};

use crate::support::{SECRET, Wire, example, receiver};

/// What a delivery must give.
pub(crate) enum Expect {
    /// Accepted, with an event that passes the check.
    Accepted(fn(&Event) -> bool),
    /// Refused with exactly this error and status.
    Refused(ReceiveError, u16),
    /// Refused with an error of the variant the check names (for errors
    /// that carry serde's wording), and this status.
    RefusedWith(fn(&ReceiveError) -> bool, u16),
}

/// A case: its name, the delivery, and what it must give.
pub(crate) type Case = (&'static str, Wire, Expect);

/// A table of cases and the receiver they are checked with.
pub(crate) type Table = (Receiver, Vec<Case>);

#[track_caller]
fn check_table((receiver, cases): Table) {
    for (name, wire, expect) in cases {
        check(name, &receiver, &wire, expect);
    }
}

/// Every table of this file, for the same rows over HTTP
/// (`table_over_http`).
pub(crate) fn tables() -> Vec<Table> {
    vec![
        signature_header_cases(),
        rotation_accepts_any_configured_secret_cases(),
        body_size_limit_cases(),
        content_type_cases(),
        delivery_headers_cases(),
        body_cases(),
        checks_run_in_the_contract_order_cases(),
        unsigned_receiver_cases(),
        header_names_cases(),
        // Accepting exactly 25 MiB costs seconds in a debug build, once per
        // framework; `body_size_limit` has the same edge at a small limit.
        {
            let (receiver, mut cases) = default_body_size_cases();
            cases.retain(|(name, _, _)| *name != "exactly 25 MiB");
            (receiver, cases)
        },
    ]
}

#[track_caller]
pub(crate) fn check(name: &str, receiver: &Receiver, wire: &Wire, expect: Expect) {
    let outcome = wire.receive(receiver);
    match (expect, outcome) {
        (Expect::Accepted(is_expected), Ok(delivery)) => {
            assert!(
                is_expected(&delivery.event),
                "{name}: unexpected event {:?}",
                delivery.event
            );
        }
        (Expect::Refused(expected, status), Err(error)) => {
            assert_eq!(error, expected, "{name}");
            assert_eq!(
                error.status().as_u16(),
                status,
                "{name}: status of {error:?}"
            );
        }
        (Expect::RefusedWith(is_expected, status), Err(error)) => {
            assert!(is_expected(&error), "{name}: unexpected error {error:?}");
            assert_eq!(
                error.status().as_u16(),
                status,
                "{name}: status of {error:?}"
            );
        }
        (_, Ok(delivery)) => panic!("{name}: accepted as {:?}", delivery.event),
        (_, Err(error)) => panic!("{name}: refused with {error:?}"),
    }
}

fn is_ping(event: &Event) -> bool {
    matches!(event, Event::Ping(_))
}

fn is_transfer_completed(event: &Event) -> bool {
    matches!(
        event,
        Event::CreditTransfer(CreditTransferEvent::Completed(_))
    )
}

const MISSING_SIGNATURE: ReceiveError = ReceiveError::MissingHeader {
    header: header::SIGNATURE_256,
};

fn with_signature(value: &str) -> Wire {
    Wire::ping().with(header::SIGNATURE_256, value)
}

fn hex_of(len: usize) -> String {
    format!("sha256={}", "a".repeat(len))
}

#[test]
fn signature_header() {
    check_table(signature_header_cases());
}

/// The cases of [`signature_header`], with the receiver they are checked with.
fn signature_header_cases() -> Table {
    let good = Wire::ping().get(header::SIGNATURE_256).unwrap();
    let digits = good.trim_start_matches("sha256=").to_owned();
    let cases = vec![
        (
            "the contract's own delivery",
            Wire::ping(),
            Expect::Accepted(is_ping),
        ),
        (
            "no signature header",
            Wire::ping().without(header::SIGNATURE_256),
            Expect::Refused(MISSING_SIGNATURE, 401),
        ),
        (
            "sha1= prefix",
            with_signature(&format!("sha1={digits}")),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "no prefix",
            with_signature(&digits),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "empty hex",
            with_signature("sha256="),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "empty value",
            with_signature(""),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "63 hex digits",
            with_signature(&hex_of(63)),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "65 hex digits",
            with_signature(&hex_of(65)),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "the right digits with one more",
            with_signature(&format!("{good}0")),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "non-hex digit",
            with_signature(&format!("sha256=g{}", &digits[1..])),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "non-ASCII",
            Wire::ping().with(header::SIGNATURE_256, {
                let mut value = good.clone().into_bytes();
                value[10] = 0xe9;
                value
            }),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "two signature headers",
            Wire::ping().also(header::SIGNATURE_256, good.clone()),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "a valid signature of a different body",
            Wire::ping().with(
                header::SIGNATURE_256,
                Wire::transfer_completed()
                    .get(header::SIGNATURE_256)
                    .unwrap(),
            ),
            Expect::Refused(ReceiveError::SignatureMismatch, 401),
        ),
        (
            "the body changed by one byte after signing",
            {
                let wire = Wire::ping();
                let mut body = wire.body.clone();
                let at = body.iter().position(|&byte| byte == b'M').unwrap();
                body[at] = b'm';
                wire.body(body)
            },
            Expect::Refused(ReceiveError::SignatureMismatch, 401),
        ),
        (
            "the body with a byte added after signing",
            {
                let wire = Wire::ping();
                let mut body = wire.body.clone();
                body.push(b'\n');
                wire.body(body)
            },
            Expect::Refused(ReceiveError::SignatureMismatch, 401),
        ),
        (
            "signed with another secret",
            Wire::ping().signed_with("whsec_someone_else"),
            Expect::Refused(ReceiveError::SignatureMismatch, 401),
        ),
        (
            "uppercase hex",
            with_signature(&format!("sha256={}", digits.to_uppercase())),
            Expect::Accepted(is_ping),
        ),
        (
            "uppercase prefix and hex",
            with_signature(&good.to_uppercase()),
            Expect::Accepted(is_ping),
        ),
        (
            "surrounding spaces and tabs",
            with_signature(&format!(" \t{good} \t")),
            Expect::Accepted(is_ping),
        ),
    ];
    (receiver(), cases)
}

#[test]
fn rotation_accepts_any_configured_secret() {
    check_table(rotation_accepts_any_configured_secret_cases());
}

/// The cases of [`rotation_accepts_any_configured_secret`], with the receiver they are checked with.
fn rotation_accepts_any_configured_secret_cases() -> Table {
    let rotating = Receiver::builder()
        .secret("whsec_old_one")
        .secret(SECRET)
        .build()
        .unwrap();
    let cases = vec![
        (
            "the second configured secret",
            Wire::ping(),
            Expect::Accepted(is_ping),
        ),
        (
            "the first configured secret",
            Wire::ping().signed_with("whsec_old_one"),
            Expect::Accepted(is_ping),
        ),
        (
            "neither secret",
            Wire::ping().signed_with("whsec_third"),
            Expect::Refused(ReceiveError::SignatureMismatch, 401),
        ),
    ];
    (rotating, cases)
}

/// The transfer with its header names in other cases.
fn recased_transfers() -> Vec<(&'static str, Wire)> {
    vec![
        (
            "lower case",
            Wire::transfer_completed().recased(|name| name.to_lowercase()),
        ),
        (
            "upper case",
            Wire::transfer_completed().recased(|name| name.to_uppercase()),
        ),
        (
            "mixed case",
            Wire::transfer_completed().recased(|name| {
                name.chars()
                    .enumerate()
                    .map(|(at, c)| {
                        if at % 2 == 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c.to_ascii_lowercase()
                        }
                    })
                    .collect()
            }),
        ),
    ]
}

fn header_names_cases() -> Table {
    let cases = recased_transfers()
        .into_iter()
        .map(|(name, wire)| (name, wire, Expect::Accepted(is_transfer_completed)))
        .collect();
    (receiver(), cases)
}

#[test]
fn header_names_in_any_case() {
    for (name, wire) in recased_transfers() {
        check(
            name,
            &receiver(),
            &wire,
            Expect::Accepted(is_transfer_completed),
        );
        let delivery = wire.receive(&receiver()).unwrap();
        assert_eq!(delivery.info.hook_id, Some(60021), "{name}");
    }
    // The same through an http::HeaderMap, whose names are lower case.
    let wire = Wire::transfer_completed();
    let mut map = http::HeaderMap::new();
    for (name, value) in &wire.headers {
        map.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_bytes(value).unwrap(),
        );
    }
    let delivery = receiver().receive(&map, wire.body.clone()).unwrap();
    assert!(is_transfer_completed(&delivery.event));
}

/// `ping.json` padded with spaces after the object to exactly `len` bytes.
fn ping_of_len(len: usize) -> Vec<u8> {
    let mut body = example("ping.json");
    assert!(body.len() <= len);
    body.resize(len, b' ');
    body
}

#[test]
fn body_size_limit() {
    check_table(body_size_limit_cases());
}

/// The cases of [`body_size_limit`], with the receiver they are checked with.
fn body_size_limit_cases() -> Table {
    let ping = example("ping.json");
    let small = Receiver::builder()
        .secret(SECRET)
        .max_body_size(ping.len() as u64)
        .build()
        .unwrap();
    let garbage = vec![0xff; ping.len() + 1];
    let cases = vec![
        (
            "exactly the limit",
            Wire::json("ping", ping.clone()),
            Expect::Accepted(is_ping),
        ),
        (
            "one byte more",
            Wire::json("ping", ping_of_len(ping.len() + 1)),
            Expect::Refused(
                ReceiveError::BodyTooLarge {
                    limit: ping.len() as u64,
                },
                413,
            ),
        ),
        (
            "one byte more, refused before the signature and anything parsed",
            Wire::json("ping", garbage.clone())
                .without(header::SIGNATURE_256)
                .without(header::EVENT)
                .with(header::CONTENT_TYPE, "text/plain"),
            Expect::Refused(
                ReceiveError::BodyTooLarge {
                    limit: ping.len() as u64,
                },
                413,
            ),
        ),
    ];
    (small, cases)
}

fn default_body_size_cases() -> Table {
    let limit = usize::try_from(DEFAULT_MAX_BODY_SIZE).unwrap();
    let cases = vec![
        (
            "exactly 25 MiB",
            Wire::json("ping", ping_of_len(limit)),
            Expect::Accepted(is_ping),
        ),
        (
            "25 MiB and one byte",
            Wire::json("ping", ping_of_len(limit + 1)),
            Expect::Refused(
                ReceiveError::BodyTooLarge {
                    limit: DEFAULT_MAX_BODY_SIZE,
                },
                413,
            ),
        ),
    ];
    (receiver(), cases)
}

#[test]
fn default_body_size_limit() {
    assert_eq!(DEFAULT_MAX_BODY_SIZE, 26_214_400);
    check_table(default_body_size_cases());
}

#[test]
fn content_type() {
    check_table(content_type_cases());
}

mod lower_level;
mod tables;
#[allow(unused_imports)]
use lower_level::*;
#[allow(unused_imports)]
use tables::*;
