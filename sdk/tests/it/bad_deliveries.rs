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

/// The cases of [`content_type`], with the receiver they are checked with.
fn content_type_cases() -> Table {
    let ping = example("ping.json");
    let cases = vec![
        (
            "charset parameter",
            Wire::ping().with(header::CONTENT_TYPE, "application/json; charset=utf-8"),
            Expect::Accepted(is_ping),
        ),
        (
            "media type in upper case",
            Wire::ping().with(header::CONTENT_TYPE, "Application/JSON"),
            Expect::Accepted(is_ping),
        ),
        (
            "form with charset",
            Wire::form("ping", &ping).with(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=UTF-8",
            ),
            Expect::Accepted(is_ping),
        ),
        (
            "wrong content type",
            Wire::ping().with(header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            Expect::Refused(
                ReceiveError::UnsupportedContentType {
                    media_type: Some("text/plain".into()),
                },
                415,
            ),
        ),
        (
            "no content type",
            Wire::ping().without(header::CONTENT_TYPE),
            Expect::Refused(
                ReceiveError::UnsupportedContentType { media_type: None },
                415,
            ),
        ),
        (
            "two content types",
            Wire::ping().also(header::CONTENT_TYPE, "application/json"),
            Expect::Refused(
                ReceiveError::UnsupportedContentType { media_type: None },
                415,
            ),
        ),
        (
            "a form body sent as JSON",
            Wire::form("ping", &ping).with(header::CONTENT_TYPE, "application/json"),
            Expect::RefusedWith(
                |error| matches!(error, ReceiveError::MalformedJson { .. }),
                400,
            ),
        ),
        (
            "form without payload",
            Wire::json("ping", b"zen=hello&hook_id=1".to_vec())
                .with(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Expect::Refused(ReceiveError::MissingPayloadField, 400),
        ),
        (
            "a JSON body sent as a form",
            Wire::json("ping", ping.clone())
                .with(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Expect::Refused(ReceiveError::MissingPayloadField, 400),
        ),
        (
            "form with two payloads",
            Wire::json("ping", {
                let mut body = icr_webhooks::receive::form_body(&ping).into_bytes();
                body.extend_from_slice(b"&payload=%7B%7D");
                body
            })
            .with(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Expect::Refused(ReceiveError::RepeatedPayloadField, 400),
        ),
    ];
    (receiver(), cases)
}

#[test]
fn delivery_headers() {
    check_table(delivery_headers_cases());
    let delivery = Wire::ping()
        .with(header::DELIVERY, "72D3162E-CC78-11E3-81AB-4C9367DC0958")
        .with(header::HOOK_ID, "not a number")
        .receive(&receiver())
        .unwrap();
    assert_eq!(
        delivery.info.id.as_str(),
        "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    );
    assert_eq!(delivery.info.hook_id, None);
}

/// The cases of [`delivery_headers`], with the receiver they are checked with.
fn delivery_headers_cases() -> Table {
    let cases = vec![
        (
            "missing X-ICR-Event",
            Wire::ping().without(header::EVENT),
            Expect::Refused(
                ReceiveError::MissingHeader {
                    header: header::EVENT,
                },
                400,
            ),
        ),
        (
            "empty X-ICR-Event",
            Wire::ping().with(header::EVENT, " "),
            Expect::Refused(
                ReceiveError::MissingHeader {
                    header: header::EVENT,
                },
                400,
            ),
        ),
        (
            "X-ICR-Event not UTF-8",
            Wire::ping().with(header::EVENT, vec![0x70, 0xff]),
            Expect::Refused(
                ReceiveError::InvalidHeader {
                    header: header::EVENT,
                },
                400,
            ),
        ),
        (
            "two X-ICR-Event",
            Wire::ping().also(header::EVENT, "ping"),
            Expect::Refused(
                ReceiveError::InvalidHeader {
                    header: header::EVENT,
                },
                400,
            ),
        ),
        (
            "missing X-ICR-Delivery",
            Wire::ping().without(header::DELIVERY),
            Expect::Refused(
                ReceiveError::MissingHeader {
                    header: header::DELIVERY,
                },
                400,
            ),
        ),
        (
            "malformed GUID",
            Wire::ping().with(header::DELIVERY, "72d3162e-cc78-11e3-81ab-4c9367dc095"),
            Expect::Refused(ReceiveError::MalformedDeliveryId, 400),
        ),
        (
            "GUID without hyphens",
            Wire::ping().with(header::DELIVERY, "72d3162ecc7811e381ab4c9367dc0958"),
            Expect::Refused(ReceiveError::MalformedDeliveryId, 400),
        ),
        (
            "GUID in upper case",
            Wire::ping().with(header::DELIVERY, "72D3162E-CC78-11E3-81AB-4C9367DC0958"),
            Expect::Accepted(is_ping),
        ),
        (
            "two X-ICR-Delivery",
            Wire::ping().also(header::DELIVERY, "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            Expect::Refused(
                ReceiveError::InvalidHeader {
                    header: header::DELIVERY,
                },
                400,
            ),
        ),
        (
            "no hook or installation headers",
            Wire::ping()
                .without(header::HOOK_ID)
                .without(header::INSTALLATION_TARGET_ID)
                .without(header::INSTALLATION_TARGET_TYPE),
            Expect::Accepted(is_ping),
        ),
    ];
    (receiver(), cases)
}

fn is_malformed(error: &ReceiveError) -> bool {
    matches!(error, ReceiveError::MalformedJson { source } if matches!(**source, ParseError::Malformed { .. }))
}

fn is_not_an_object(error: &ReceiveError) -> bool {
    matches!(error, ReceiveError::MalformedJson { source } if **source == ParseError::NotAnObject)
}

#[test]
fn body() {
    check_table(body_cases());
}

/// The cases of [`body`], with the receiver they are checked with.
fn body_cases() -> Table {
    let transfer = example("credit_transfer.completed.json");
    let text = String::from_utf8(transfer.clone()).unwrap();
    let cases = vec![
        (
            "invalid UTF-8",
            Wire::json("ping", {
                let mut body = example("ping.json");
                let at = body.iter().position(|&byte| byte == b'M').unwrap();
                body[at] = 0xff;
                body
            }),
            Expect::RefusedWith(is_malformed, 400),
        ),
        (
            "invalid UTF-8 in a form",
            Wire::form("ping", b"{\"zen\": \"\xff\"}"),
            Expect::RefusedWith(is_malformed, 400),
        ),
        (
            "truncated JSON",
            Wire::json("credit_transfer", transfer[..transfer.len() / 2].to_vec()),
            Expect::RefusedWith(is_malformed, 400),
        ),
        (
            "empty body",
            Wire::json("ping", Vec::new()),
            Expect::RefusedWith(is_malformed, 400),
        ),
        (
            "trailing garbage",
            Wire::json("ping", [example("ping.json"), b"{}".to_vec()].concat()),
            Expect::RefusedWith(is_malformed, 400),
        ),
        (
            "a JSON array",
            Wire::json("ping", b"[1, 2]".to_vec()),
            Expect::RefusedWith(is_not_an_object, 400),
        ),
        (
            "a JSON array for an unknown event",
            Wire::json("carbon_offset", b"[1, 2]".to_vec()),
            Expect::RefusedWith(is_not_an_object, 400),
        ),
        (
            "wrong shape for a known action",
            Wire::json(
                "credit_transfer",
                text.replacen(
                    "\"quantity\": 1500,\n    \"memo\"",
                    "\"quantity\": \"many\",\n    \"memo\"",
                    1,
                )
                .into_bytes(),
            ),
            Expect::RefusedWith(
                |error| {
                    matches!(
                        error,
                        ReceiveError::UnexpectedShape { source }
                            if source.event() == Some("credit_transfer")
                                && source.action() == Some("completed")
                                && source.path() == Some("transfer.quantity")
                    )
                },
                400,
            ),
        ),
        (
            "a required field missing",
            Wire::json("ping", br#"{"zen": "z", "hook_id": 1}"#.to_vec()),
            Expect::RefusedWith(
                |error| {
                    matches!(
                        error,
                        ReceiveError::UnexpectedShape { source }
                            if source.event() == Some("ping")
                                && source.action().is_none()
                                && source.path() == Some(".")
                    )
                },
                400,
            ),
        ),
        (
            "a known event without its action",
            Wire::json("inventory", br#"{"sender": {}}"#.to_vec()),
            Expect::RefusedWith(
                |error| matches!(error, ReceiveError::UnexpectedShape { source } if source.event() == Some("inventory")),
                400,
            ),
        ),
        (
            "an unknown event",
            Wire::json("carbon_offset", br#"{"action": "made", "x": 1}"#.to_vec()),
            Expect::Accepted(
                |event| matches!(event, Event::Unknown { event, raw } if event == "carbon_offset" && raw["x"] == 1),
            ),
        ),
        (
            "an unknown action of a known event",
            Wire::json(
                "inventory",
                br#"{"action": "teleported", "anything": true}"#.to_vec(),
            ),
            Expect::Accepted(
                |event| matches!(event, Event::Inventory(InventoryEvent::Unknown { action, .. }) if action == "teleported"),
            ),
        ),
        (
            "unknown fields and enum values of a known action",
            Wire::json(
                "credit_transfer",
                text.replacen(
                    "\"status\": \"completed\"",
                    "\"status\": \"frozen\", \"novelty\": [1]",
                    1,
                )
                .into_bytes(),
            ),
            Expect::Accepted(is_transfer_completed),
        ),
    ];
    (receiver(), cases)
}

#[test]
fn checks_run_in_the_contract_order() {
    check_table(checks_run_in_the_contract_order_cases());
}

/// The cases of [`checks_run_in_the_contract_order`], with the receiver they are checked with.
fn checks_run_in_the_contract_order_cases() -> Table {
    let ping = example("ping.json");
    let cases = vec![
        (
            "bad signature before bad content type",
            Wire::ping()
                .with(header::CONTENT_TYPE, "text/plain")
                .with(header::SIGNATURE_256, "sha256=00"),
            Expect::Refused(ReceiveError::MalformedSignature, 401),
        ),
        (
            "missing signature before missing event",
            Wire::ping()
                .without(header::SIGNATURE_256)
                .without(header::EVENT),
            Expect::Refused(MISSING_SIGNATURE, 401),
        ),
        (
            "content type before missing event",
            Wire::ping()
                .with(header::CONTENT_TYPE, "text/plain")
                .without(header::EVENT)
                .signed_with(SECRET),
            Expect::Refused(
                ReceiveError::UnsupportedContentType {
                    media_type: Some("text/plain".into()),
                },
                415,
            ),
        ),
        (
            "missing event before a bad body",
            Wire::json("ping", b"not json".to_vec()).without(header::EVENT),
            Expect::Refused(
                ReceiveError::MissingHeader {
                    header: header::EVENT,
                },
                400,
            ),
        ),
        (
            "event before delivery GUID",
            Wire::ping()
                .without(header::EVENT)
                .with(header::DELIVERY, "nope"),
            Expect::Refused(
                ReceiveError::MissingHeader {
                    header: header::EVENT,
                },
                400,
            ),
        ),
        (
            "GUID before the body",
            Wire::form("ping", &ping)
                .with(header::DELIVERY, "nope")
                .body(b"x=1".to_vec())
                .signed_with(SECRET),
            Expect::Refused(ReceiveError::MalformedDeliveryId, 400),
        ),
    ];
    (receiver(), cases)
}

#[test]
fn unsigned_receiver() {
    check_table(unsigned_receiver_cases());
}

/// The cases of [`unsigned_receiver`], with the receiver they are checked with.
fn unsigned_receiver_cases() -> Table {
    let unsigned = Receiver::builder().accept_unsigned().build().unwrap();
    let cases = vec![
        (
            "no signature",
            Wire::ping().without(header::SIGNATURE_256),
            Expect::Accepted(is_ping),
        ),
        (
            "a signature it cannot check",
            Wire::ping().with(header::SIGNATURE_256, "sha256=00"),
            Expect::Accepted(is_ping),
        ),
        (
            "still the other checks",
            Wire::ping()
                .without(header::SIGNATURE_256)
                .without(header::EVENT),
            Expect::Refused(
                ReceiveError::MissingHeader {
                    header: header::EVENT,
                },
                400,
            ),
        ),
    ];
    (unsigned, cases)
}

#[test]
fn lower_level_calls_agree_with_receive() {
    let receiver = receiver();
    let wire = Wire::transfer_completed();
    assert_eq!(
        receiver.verify_size_and_signature(&wire.headers, &wire.body),
        Ok(())
    );
    let tampered = wire.clone().body(b"{}".to_vec());
    assert_eq!(
        receiver.verify_size_and_signature(&tampered.headers, &tampered.body),
        Err(ReceiveError::SignatureMismatch)
    );
    let signature = wire.get(header::SIGNATURE_256).unwrap();
    assert_eq!(
        receiver.verify_signature(Some(signature.as_bytes()), &wire.body),
        Ok(())
    );
    // from_verified trusts the body: no signature needed, the rest checked.
    let unsigned = wire.clone().without(header::SIGNATURE_256);
    let delivery =
        icr_webhooks::Delivery::from_verified(&unsigned.headers, unsigned.body.clone()).unwrap();
    assert!(is_transfer_completed(&delivery.event));
    assert_eq!(
        icr_webhooks::Delivery::from_verified(
            &unsigned.without(header::EVENT).headers,
            wire.body.clone()
        )
        .unwrap_err(),
        ReceiveError::MissingHeader {
            header: header::EVENT
        }
    );
    // Header pairs as plain string slices.
    let pairs: Vec<(&str, &str)> = vec![
        ("x-icr-event", "credit_transfer"),
        ("x-icr-delivery", crate::support::GUID),
        ("x-icr-signature-256", signature.as_str()),
        ("content-type", "application/json"),
    ];
    let delivery = receiver.receive(&pairs, wire.body.clone()).unwrap();
    assert!(is_transfer_completed(&delivery.event));
}

/// Whether `text` lies inside `bytes`: borrowed, not copied.
fn points_into(text: &str, bytes: &[u8]) -> bool {
    let range = bytes.as_ptr_range();
    let start = text.as_ptr();
    range.start <= start && start.wrapping_add(text.len()) <= range.end
}

#[test]
fn check_then_borrowed_parse_points_into_the_payload() {
    use icr_webhooks::Event;
    use icr_webhooks::types::CreditTransferEvent;
    let receiver = receiver();
    for wire in [
        Wire::transfer_completed(),
        Wire::form("credit_transfer", &Wire::transfer_completed().body),
    ] {
        let info = receiver
            .receive_unparsed(&wire.headers, wire.body.clone())
            .unwrap();
        let received = receiver.receive(&wire.headers, wire.body.clone()).unwrap();
        assert_eq!(info.id, received.info.id);
        assert_eq!(info.event_name, "credit_transfer");
        assert_eq!(info.content_type, received.info.content_type);
        assert_eq!(info.payload, received.info.payload);
        let event = info.parse_borrowed().unwrap();
        let Event::CreditTransfer(CreditTransferEvent::Completed(completed)) = &event else {
            panic!("wrong variant: {event:?}");
        };
        for text in [
            &completed.transfer.node_id,
            &completed.organization.login,
            &completed.transfer.blocks[0].serial_start,
        ] {
            assert!(text.is_borrowed(), "{text}");
            assert!(points_into(text, &info.payload), "{text}");
        }
        assert_eq!(event.clone().into_owned(), received.event);
    }
    // A refused delivery is refused by `check` with the same error.
    let tampered = Wire::transfer_completed().body(b"{}".to_vec());
    assert_eq!(
        receiver
            .receive_unparsed(&tampered.headers, tampered.body.clone())
            .unwrap_err(),
        ReceiveError::SignatureMismatch
    );
    // `check` does not read the JSON; the borrowed parse refuses it as
    // `receive` does.
    let broken = Wire::json("credit_transfer", b"{\"action\":".to_vec());
    let info = receiver
        .receive_unparsed(&broken.headers, broken.body.clone())
        .unwrap();
    assert_eq!(
        info.parse_borrowed().unwrap_err(),
        broken.receive(&receiver).unwrap_err()
    );
    assert!(matches!(
        info.parse_borrowed().unwrap_err(),
        ReceiveError::MalformedJson { .. }
    ));
}

/// An *optional* field is absent or a value, never `null` (contract
/// sections 4 and 8): both parse paths refuse it with its path, 400.
#[test]
fn optional_fields_refuse_null() {
    let receiver = receiver();
    #[track_caller]
    fn refused(
        receiver: &Receiver,
        event: &str,
        body: serde_json::Value,
        path: &str,
        reason: &str,
    ) {
        let wire = Wire::json(event, serde_json::to_vec(&body).unwrap());
        let error = wire.receive(receiver).unwrap_err();
        let ReceiveError::UnexpectedShape { source } = &error else {
            panic!("{path}: refused with {error:?}");
        };
        assert_eq!(
            **source,
            icr_webhooks::receive::ParseError::Shape {
                event: event.to_owned(),
                action: source.action().map(str::to_owned),
                path: path.to_owned(),
                reason: reason.to_owned(),
            }
        );
        assert_eq!(error.status().as_u16(), 400);
        let info = receiver
            .receive_unparsed(&wire.headers, wire.body.clone())
            .unwrap();
        assert_eq!(
            info.parse_borrowed().unwrap_err(),
            error,
            "{path}: the borrowed parse"
        );
    }
    let transfer: serde_json::Value =
        serde_json::from_slice(&example("credit_transfer.completed.json")).unwrap();
    let mut ping: serde_json::Value = serde_json::from_slice(&example("ping.json")).unwrap();
    // Absent and present are fine.
    assert_eq!(ping.get("sender"), None, "the example has no sender");
    for (sender, expected) in [
        (None, None),
        (Some(transfer["sender"].clone()), Some("aino.virtanen")),
    ] {
        if let Some(sender) = sender {
            ping["sender"] = sender;
        }
        let wire = Wire::json("ping", serde_json::to_vec(&ping).unwrap());
        let Event::Ping(parsed) = wire.receive(&receiver).unwrap().event else {
            panic!("not a ping");
        };
        assert_eq!(
            parsed.sender.as_ref().map(|user| user.login.as_str()),
            expected
        );
    }
    ping["sender"] = serde_json::Value::Null;
    refused(
        &receiver,
        "ping",
        ping,
        "sender",
        "invalid type: null, expected struct User",
    );

    let mut created: serde_json::Value =
        serde_json::from_slice(&example("installation.created.json")).unwrap();
    created["installation"]["permissions"]["members"] = serde_json::Value::Null;
    refused(
        &receiver,
        "installation",
        created,
        "installation.permissions.members",
        "invalid type: null, expected a string",
    );
}
