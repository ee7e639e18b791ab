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

fn cases() -> Vec<(&'static str, Wire, Expect)> {
    use Expect::{Accepted, Refused};
    let deep = 100_000;
    let long_event = "e".repeat(10_000);
    let long_action = "a".repeat(10_000);
    vec![
        // Nesting.
        (
            "JSON nested 100,000 levels deep (arrays) as the body",
            json("ping", nested_arrays(deep).into_bytes()),
            Refused(not_an_object()),
        ),
        (
            "JSON nested 100,000 levels deep (objects) as the body: skipped as unknown fields",
            json("ping", nested_objects(deep).into_bytes()),
            Refused(shape("ping", None, ".", "missing field `hook`")),
        ),
        (
            "100,000 levels deep in an unknown field of a known event: skipped without recursion",
            json(
                "ping",
                replaced(
                    &ping(),
                    b"\"zen\"",
                    format!("\"deep\":{},\"zen\"", nested_arrays(deep)).as_bytes(),
                ),
            ),
            Accepted(|delivery| zen_is(delivery, "z")),
        ),
        (
            "100,000 levels deep in a known field",
            json("ping", ping_with(&nested_arrays(deep), "60021")),
            Refused(shape(
                "ping",
                None,
                "zen",
                "invalid type: sequence, expected a string",
            )),
        ),
        (
            "100,000 levels deep for an unknown event",
            json(
                "carbon_offset",
                format!(r#"{{"x":{}}}"#, nested_objects(deep)).into_bytes(),
            ),
            Refused(malformed(1, 636, "recursion limit exceeded")),
        ),
        (
            "100 levels deep in an unknown field: within the limit",
            json(
                "ping",
                replaced(
                    &ping(),
                    b"\"zen\"",
                    format!("\"deep\":{},\"zen\"", nested_arrays(100)).as_bytes(),
                ),
            ),
            Accepted(is_ping),
        ),
        // Numbers in integer fields.
        (
            "1e400 in an ID field",
            json("ping", ping_with(r#""z""#, "1e400")),
            Refused(malformed(1, 26, "number out of range")),
        ),
        (
            "1e400 in an unknown field: skipped",
            json(
                "ping",
                replaced(&ping(), b"\"zen\"", b"\"big\":1e400,\"zen\""),
            ),
            Accepted(is_ping),
        ),
        (
            "2^64 in an ID field",
            json("ping", ping_with(r#""z""#, "18446744073709551616")),
            Refused(shape(
                "ping",
                None,
                "hook_id",
                "invalid type: floating point, expected a nonzero u64",
            )),
        ),
        (
            "2^64 - 1 in an ID field: a u64",
            json("ping", ping_with(r#""z""#, "18446744073709551615")),
            Accepted(
                |delivery| matches!(&delivery.event, Event::Ping(ping) if ping.hook_id.get() == u64::MAX),
            ),
        ),
        (
            "-0 in an ID field",
            json("ping", ping_with(r#""z""#, "-0")),
            Refused(shape(
                "ping",
                None,
                "hook_id",
                "invalid type: floating point, expected a nonzero u64",
            )),
        ),
        (
            "-0 in a balance field",
            inventory_with_balance("-0"),
            Refused(shape(
                "inventory",
                Some("created"),
                "inventory.credit_balance",
                "invalid type: floating point, expected u64",
            )),
        ),
        (
            "2^64 in a balance field",
            inventory_with_balance("18446744073709551616"),
            Refused(shape(
                "inventory",
                Some("created"),
                "inventory.credit_balance",
                "invalid type: floating point, expected u64",
            )),
        ),
        (
            "1e400 in a balance field",
            inventory_with_balance("1e400"),
            Refused(malformed(18, 27, "number out of range")),
        ),
        (
            "0 in an ID field",
            json("ping", ping_with(r#""z""#, "0")),
            Refused(shape(
                "ping",
                None,
                "hook_id",
                "invalid value: integer, expected a nonzero u64",
            )),
        ),
        (
            "-1 in an ID field",
            json("ping", ping_with(r#""z""#, "-1")),
            Refused(shape(
                "ping",
                None,
                "hook_id",
                "invalid value: integer, expected a nonzero u64",
            )),
        ),
        (
            "1.0 in an ID field",
            json("ping", ping_with(r#""z""#, "1.0")),
            Refused(shape(
                "ping",
                None,
                "hook_id",
                "invalid type: floating point, expected a nonzero u64",
            )),
        ),
        (
            "1e2 in an ID field",
            json("ping", ping_with(r#""z""#, "1e2")),
            Refused(shape(
                "ping",
                None,
                "hook_id",
                "invalid type: floating point, expected a nonzero u64",
            )),
        ),
        (
            "an integer of 10,000 digits in an ID field",
            json("ping", ping_with(r#""z""#, &"9".repeat(10_000))),
            Refused(malformed(1, 10_021, "number out of range")),
        ),
        (
            "an ID as a string",
            json("ping", ping_with(r#""z""#, r#""60021""#)),
            Refused(shape(
                "ping",
                None,
                "hook_id",
                "invalid type: string, expected a nonzero u64",
            )),
        ),
        // Duplicate keys.
        (
            "a duplicate key in a known payload",
            json(
                "ping",
                replaced(&ping(), b"\"zen\":\"z\"", b"\"zen\":\"a\",\"zen\":\"b\""),
            ),
            Refused(shape("ping", None, ".", "duplicate field `zen`")),
        ),
        (
            "a duplicate `action` with two values",
            json(
                "inventory",
                replaced(
                    &example("inventory.created.json"),
                    b"\"action\": \"created\"",
                    b"\"action\": \"created\", \"action\": \"deleted\"",
                ),
            ),
            Refused(shape("inventory", None, ".", "duplicate field `action`")),
        ),
        (
            "a duplicate key in an unknown field's object: the last wins",
            json(
                "ping",
                replaced(&ping(), b"\"zen\"", br#""extra":{"k":1,"k":2},"zen""#),
            ),
            Accepted(is_ping),
        ),
        (
            "a duplicate key for an unknown event: the last wins",
            json("carbon_offset", br#"{"k":1,"k":2}"#.to_vec()),
            Accepted(
                |delivery| matches!(&delivery.event, Event::Unknown { raw, .. } if raw["k"] == 2),
            ),
        ),
        (
            "a key written with an escape, the same key as `zen`",
            json("ping", replaced(&ping(), b"\"zen\"", br#""z\u0065n""#)),
            Accepted(|delivery| zen_is(delivery, "z")),
        ),
        // Byte-order marks, NUL bytes, encodings.
        (
            "a UTF-8 BOM before the JSON",
            json("ping", [&b"\xef\xbb\xbf"[..], &ping()].concat()),
            Refused(malformed(1, 1, "expected value")),
        ),
        (
            "a UTF-8 BOM before a form body",
            raw_form(
                "ping",
                [
                    &b"\xef\xbb\xbf"[..],
                    icr_webhooks::receive::form_body(&ping()).as_bytes(),
                ]
                .concat(),
            ),
            Refused(ReceiveError::MissingPayloadField),
        ),
        (
            "a UTF-8 BOM inside the form payload",
            Wire::form("ping", &[&b"\xef\xbb\xbf"[..], &ping()].concat()),
            Refused(malformed(1, 1, "expected value")),
        ),
        (
            "a raw NUL byte inside a string",
            json("ping", ping_with("\"a\0b\"", "60021")),
            Refused(malformed(
                1,
                10,
                "control character (\\u0000-\\u001F) found while parsing a string",
            )),
        ),
        (
            "an escaped NUL inside a string",
            json("ping", ping_with(r#""a\u0000b""#, "60021")),
            Accepted(|delivery| zen_is(delivery, "a\0b")),
        ),
        (
            "a NUL byte after the JSON",
            json("ping", [ping(), vec![0]].concat()),
            Refused(malformed(1, 256, "trailing characters")),
        ),
        (
            "a NUL byte before the JSON",
            json("ping", [vec![0], ping()].concat()),
            Refused(malformed(1, 1, "expected value")),
        ),
        (
            "an overlong encoding of `/` (C0 AF) in a string",
            json(
                "ping",
                replaced(&ping_with("\"aXb\"", "60021"), b"X", b"\xc0\xaf"),
            ),
            Refused(malformed(1, 10, "invalid UTF-8")),
        ),
        (
            "an overlong encoding of NUL (E0 80 80) in a string",
            json(
                "ping",
                replaced(&ping_with("\"aXb\"", "60021"), b"X", b"\xe0\x80\x80"),
            ),
            Refused(malformed(1, 10, "invalid UTF-8")),
        ),
        (
            "an encoded surrogate (ED A0 80) in a string",
            json(
                "ping",
                replaced(&ping_with("\"aXb\"", "60021"), b"X", b"\xed\xa0\x80"),
            ),
            Refused(malformed(1, 10, "invalid UTF-8")),
        ),
        (
            "an overlong encoding in a key",
            json(
                "ping",
                replaced(&ping(), b"\"zen\"", b"\"\xc1\xbf\":1,\"zen\""),
            ),
            Refused(malformed(1, 3, "invalid UTF-8")),
        ),
        (
            "an unpaired leading surrogate escape",
            json("ping", ping_with(r#""\ud800""#, "60021")),
            Refused(malformed(1, 15, "unexpected end of hex escape")),
        ),
        (
            "an unpaired trailing surrogate escape",
            json("ping", ping_with(r#""\udc00""#, "60021")),
            Refused(malformed(1, 14, "lone leading surrogate in hex escape")),
        ),
        (
            "a leading surrogate escape followed by a letter",
            json("ping", ping_with(r#""\ud800x""#, "60021")),
            Refused(malformed(1, 15, "unexpected end of hex escape")),
        ),
        (
            "an unpaired surrogate escape in an unknown field: skipped",
            json(
                "ping",
                replaced(&ping(), b"\"zen\"", br#""odd":"\udfff","zen""#),
            ),
            Accepted(is_ping),
        ),
        (
            "a surrogate pair escape: one emoji",
            json("ping", ping_with(r#""\ud83c\udf32""#, "60021")),
            Accepted(|delivery| zen_is(delivery, "\u{1f332}")),
        ),
        // Headers.
        (
            "X-ICR-Event repeated with two values",
            json("ping", ping()).also(header::EVENT, "credit_transfer"),
            Refused(EVENT_INVALID),
        ),
        (
            "X-ICR-Event repeated with the same value",
            json("ping", ping()).also(header::EVENT, "ping"),
            Refused(EVENT_INVALID),
        ),
        (
            "X-ICR-Event repeated, the second empty",
            json("ping", ping()).also(header::EVENT, ""),
            Accepted(is_ping),
        ),
        (
            "X-ICR-Delivery repeated with two GUIDs",
            json("ping", ping()).also(header::DELIVERY, "9b2e4c1a-0f3d-4e5b-8a7c-6d1e2f3a4b5c"),
            Refused(DELIVERY_INVALID),
        ),
        (
            "two signature headers, the first valid and the second not",
            json("ping", ping()).also(header::SIGNATURE_256, format!("sha256={}", "0".repeat(64))),
            Refused(ReceiveError::MalformedSignature),
        ),
        (
            "two signature headers, both valid",
            {
                let wire = json("ping", ping());
                let signature = wire.get(header::SIGNATURE_256).unwrap();
                wire.also(header::SIGNATURE_256, signature)
            },
            Refused(ReceiveError::MalformedSignature),
        ),
        (
            "a signature header with a control character",
            {
                let wire = json("ping", ping());
                let signature = wire.get(header::SIGNATURE_256).unwrap();
                wire.with(header::SIGNATURE_256, format!("\x01{signature}"))
            },
            Refused(ReceiveError::MalformedSignature),
        ),
        (
            "a signature header with a vertical tab around it",
            {
                let wire = json("ping", ping());
                let signature = wire.get(header::SIGNATURE_256).unwrap();
                wire.with(header::SIGNATURE_256, format!("{signature}\x0b"))
            },
            Refused(ReceiveError::MalformedSignature),
        ),
        (
            "a signature header of 100 KiB",
            json("ping", ping()).with(
                header::SIGNATURE_256,
                format!("sha256={}", "a".repeat(100 * 1024)),
            ),
            Refused(ReceiveError::MalformedSignature),
        ),
        (
            "a signature header with a space after `=`",
            {
                let wire = json("ping", ping());
                let signature = wire.get(header::SIGNATURE_256).unwrap();
                wire.with(header::SIGNATURE_256, signature.replace('=', "= "))
            },
            Refused(ReceiveError::MalformedSignature),
        ),
        (
            "X-ICR-Event with a NUL: an unknown event",
            json("ping", ping()).with(header::EVENT, "ping\0"),
            Accepted(
                |delivery| matches!(&delivery.event, Event::Unknown { event, .. } if event == "ping\0"),
            ),
        ),
        (
            "X-ICR-Event with an escape sequence: an unknown event",
            json("ping", ping()).with(header::EVENT, "\x1b[31mping"),
            Accepted(
                |delivery| matches!(&delivery.event, Event::Unknown { event, .. } if event == "\u{1b}[31mping"),
            ),
        ),
        (
            "X-ICR-Event with spaces and tabs around it",
            json("ping", ping()).with(header::EVENT, " \tping\t "),
            Accepted(is_ping),
        ),
        (
            "X-ICR-Event in upper case: an unknown event",
            json("ping", ping()).with(header::EVENT, "PING"),
            Accepted(
                |delivery| matches!(&delivery.event, Event::Unknown { event, .. } if event == "PING"),
            ),
        ),
        (
            "X-ICR-Event of invalid UTF-8",
            json("ping", ping()).with(header::EVENT, b"p\xc0\xafng".to_vec()),
            Refused(EVENT_INVALID),
        ),
        (
            "an event name of 10,000 characters",
            json("ping", ping()).with(header::EVENT, long_event.clone()),
            Accepted(|delivery| {
                matches!(&delivery.event, Event::Unknown { event, .. } if event.len() == 10_000)
                    && delivery.info.event_name.len() == 10_000
            }),
        ),
        (
            "an action of 10,000 characters",
            json(
                "inventory",
                replaced(
                    &example("inventory.created.json"),
                    b"\"created\"",
                    format!("\"{long_action}\"").as_bytes(),
                ),
            ),
            Accepted(
                |delivery| matches!(&delivery.event, Event::Inventory(InventoryEvent::Unknown { action, .. }) if action.len() == 10_000),
            ),
        ),
        (
            "`action` that is not a string",
            json("credit_transfer", br#"{"action": 5}"#.to_vec()),
            Refused(shape(
                "credit_transfer",
                None,
                "action",
                "invalid type: integer, expected a string",
            )),
        ),
        (
            "`action` null",
            json("credit_transfer", br#"{"action": null}"#.to_vec()),
            Refused(shape(
                "credit_transfer",
                None,
                "action",
                "invalid type: null, expected a string",
            )),
        ),
        (
            "a GUID in upper case",
            json("ping", ping()).with(header::DELIVERY, GUID.to_uppercase()),
            Accepted(|delivery| delivery.info.id.as_str() == GUID),
        ),
        (
            "a GUID in mixed case with spaces around it",
            json("ping", ping()).with(header::DELIVERY, " 72D3162e-CC78-11e3-81AB-4c9367dc0958\t"),
            Accepted(|delivery| delivery.info.id.as_str() == GUID),
        ),
        (
            "a GUID with a NUL after it",
            json("ping", ping()).with(header::DELIVERY, format!("{GUID}\0")),
            Refused(ReceiveError::MalformedDeliveryId),
        ),
        (
            "a GUID of invalid UTF-8",
            json("ping", ping()).with(header::DELIVERY, [GUID.as_bytes(), b"\xff"].concat()),
            Refused(ReceiveError::MalformedDeliveryId),
        ),
        (
            "a GUID with full-width digits",
            json("ping", ping()).with(header::DELIVERY, GUID.replacen('7', "\u{ff17}", 1)),
            Refused(ReceiveError::MalformedDeliveryId),
        ),
        (
            "a Content-Type with a NUL",
            json("ping", ping()).with(header::CONTENT_TYPE, "application/json\0"),
            Refused(ReceiveError::UnsupportedContentType { media_type: None }),
        ),
        (
            "a Content-Type listing two types",
            json("ping", ping()).with(header::CONTENT_TYPE, "application/json, text/plain"),
            Refused(ReceiveError::UnsupportedContentType { media_type: None }),
        ),
        (
            "a Content-Type with 10,000 bytes of parameters",
            json("ping", ping()).with(
                header::CONTENT_TYPE,
                format!("application/json; x={}", "y".repeat(10_000)),
            ),
            Accepted(is_ping),
        ),
        (
            "a Content-Type saying UTF-16 over a UTF-8 body",
            json("ping", ping()).with(header::CONTENT_TYPE, "application/json; charset=utf-16"),
            Accepted(is_ping),
        ),
        (
            "a header name with a trailing space",
            json("ping", ping())
                .without(header::EVENT)
                .also("X-ICR-Event ", "ping"),
            Refused(EVENT_MISSING),
        ),
        (
            "a header name with underscores",
            json("ping", ping())
                .without(header::EVENT)
                .also("X_ICR_Event", "ping"),
            Refused(EVENT_MISSING),
        ),
        (
            "1,000 unrelated headers",
            (0..1000).fold(json("ping", ping()), |wire, n| {
                wire.also(&format!("X-Noise-{n}"), "x")
            }),
            Accepted(is_ping),
        ),
        (
            "X-ICR-Hook-ID of 2^64: no hook ID",
            json("ping", ping()).with(header::HOOK_ID, "18446744073709551616"),
            Accepted(|delivery| is_ping(delivery) && delivery.info.hook_id.is_none()),
        ),
        (
            "X-ICR-Hook-ID repeated: no hook ID",
            json("ping", ping()).also(header::HOOK_ID, "60021"),
            Accepted(|delivery| is_ping(delivery) && delivery.info.hook_id.is_none()),
        ),
        // Form bodies.
        (
            "a form body with `payload` twice, the same value",
            raw_form("ping", {
                let field = icr_webhooks::receive::form_body(&ping());
                format!("{field}&{field}")
            }),
            Refused(ReceiveError::RepeatedPayloadField),
        ),
        (
            "a form body with `payload` twice, the second empty",
            raw_form(
                "ping",
                format!("{}&payload=", icr_webhooks::receive::form_body(&ping())),
            ),
            Refused(ReceiveError::RepeatedPayloadField),
        ),
        (
            "a form body with a bad percent-encoding inside a string: kept as it is",
            raw_form(
                "ping",
                icr_webhooks::receive::form_body(&ping_with(r#""aXb""#, "60021"))
                    .replace('X', "%G1"),
            ),
            Accepted(|delivery| zen_is(delivery, "a%G1b")),
        ),
        (
            "a form body with a bad percent-encoding of the JSON's syntax",
            raw_form(
                "ping",
                icr_webhooks::receive::form_body(&ping()).replacen("%7B", "%7G", 1),
            ),
            Refused(malformed(1, 1, "expected value")),
        ),
        (
            "a form body cut in the middle of a percent-encoding",
            raw_form("ping", {
                let body = icr_webhooks::receive::form_body(&ping());
                body[..body.len() - 2].to_owned()
            }),
            Refused(malformed(1, 255, "expected `,` or `}`")),
        ),
        (
            "a form body with `+` for spaces",
            raw_form(
                "ping",
                icr_webhooks::receive::form_body(&ping_with(r#""Measure twice""#, "60021")),
            ),
            Accepted(|delivery| zen_is(delivery, "Measure twice")),
        ),
        (
            "a form body with `%2B`: a literal plus",
            raw_form(
                "ping",
                icr_webhooks::receive::form_body(&ping_with(r#""a b""#, "60021"))
                    .replace('+', "%2B"),
            ),
            Accepted(|delivery| zen_is(delivery, "a+b")),
        ),
        (
            "a form body with spaces as `%20`",
            raw_form(
                "ping",
                icr_webhooks::receive::form_body(&ping_with(r#""a b""#, "60021"))
                    .replace('+', "%20"),
            ),
            Accepted(|delivery| zen_is(delivery, "a b")),
        ),
        (
            "a form body with the JSON not encoded at all",
            raw_form("ping", [&b"payload="[..], &ping()].concat()),
            Accepted(is_ping),
        ),
        (
            "a form body whose field name is percent-encoded",
            raw_form(
                "ping",
                icr_webhooks::receive::form_body(&ping()).replacen("payload", "%70ayload", 1),
            ),
            Accepted(is_ping),
        ),
        (
            "a form body with `PAYLOAD` in upper case",
            raw_form(
                "ping",
                icr_webhooks::receive::form_body(&ping()).replacen("payload", "PAYLOAD", 1),
            ),
            Refused(ReceiveError::MissingPayloadField),
        ),
        (
            "a form body separated with `;`",
            raw_form(
                "ping",
                format!("a=1;{}", icr_webhooks::receive::form_body(&ping())),
            ),
            Refused(ReceiveError::MissingPayloadField),
        ),
        (
            "a form body with an encoded NUL after the JSON",
            raw_form(
                "ping",
                format!("{}%00", icr_webhooks::receive::form_body(&ping())),
            ),
            Refused(malformed(1, 256, "trailing characters")),
        ),
        (
            "a form body with an encoded `&` inside a string",
            raw_form(
                "ping",
                icr_webhooks::receive::form_body(&ping_with(r#""a&payload=b""#, "60021")),
            ),
            Accepted(|delivery| zen_is(delivery, "a&payload=b")),
        ),
        (
            "a form body with overlong UTF-8, percent-encoded",
            raw_form(
                "ping",
                icr_webhooks::receive::form_body(&ping_with(r#""aXb""#, "60021"))
                    .replace('X', "%C0%AF"),
            ),
            Refused(malformed(1, 10, "invalid UTF-8")),
        ),
        // Other bodies.
        (
            "JSON null",
            json("ping", b"null".to_vec()),
            Refused(not_an_object()),
        ),
        (
            "a JSON string",
            json("ping", br#""ping""#.to_vec()),
            Refused(not_an_object()),
        ),
        (
            "an empty object for a known event",
            json("ping", b"{}".to_vec()),
            Refused(shape("ping", None, ".", "missing field `hook`")),
        ),
        (
            "an empty object for an unknown event",
            json("carbon_offset", b"{}".to_vec()),
            Accepted(
                |delivery| matches!(&delivery.event, Event::Unknown { event, .. } if event == "carbon_offset"),
            ),
        ),
        (
            "JSON with a comment",
            json("ping", [&b"/* hi */"[..], &ping()].concat()),
            Refused(malformed(1, 1, "expected value")),
        ),
        (
            "NaN in an unknown field",
            json("ping", replaced(&ping(), b"\"zen\"", b"\"n\":NaN,\"zen\"")),
            Refused(malformed(1, 6, "expected value")),
        ),
        (
            "a string of 1 MiB",
            json(
                "ping",
                ping_with(&format!("\"{}\"", "z".repeat(1024 * 1024)), "60021"),
            ),
            Accepted(
                |delivery| matches!(&delivery.event, Event::Ping(ping) if ping.zen.len() == 1024 * 1024),
            ),
        ),
        (
            "a timestamp with month 13",
            json(
                "ping",
                replaced(&ping(), b"2026-11-28T08:59:58Z", b"2026-13-28T08:59:58Z"),
            ),
            Refused(shape(
                "ping",
                None,
                "hook.created_at",
                "not an RFC 3339 date-time: input is out of range",
            )),
        ),
        (
            "a timestamp with a leap second",
            json(
                "ping",
                replaced(&ping(), b"2026-11-28T08:59:58Z", b"2026-12-31T23:59:60Z"),
            ),
            Accepted(is_ping),
        ),
        (
            "a timestamp with a numeric offset and fractions",
            json(
                "ping",
                replaced(
                    &ping(),
                    b"2026-11-28T08:59:58Z",
                    b"2026-11-28T10:59:58.123456789+02:00",
                ),
            ),
            Accepted(is_ping),
        ),
        (
            "a transfer whose destination kind is an object",
            json(
                "credit_transfer",
                replaced(
                    &example("credit_transfer.completed.json"),
                    b"\"kind\": \"inventory\"",
                    b"\"kind\": {\"inventory\": true}",
                ),
            ),
            Refused(shape(
                "credit_transfer",
                Some("completed"),
                "transfer.destination.kind",
                "invalid type: map, expected a string",
            )),
        ),
        (
            "a transfer with an unknown destination kind",
            json(
                "credit_transfer",
                replaced(
                    &example("credit_transfer.completed.json"),
                    b"\"kind\": \"inventory\"",
                    b"\"kind\": \"teleport\"",
                ),
            ),
            Accepted(|delivery| {
                matches!(
                    &delivery.event,
                    Event::CreditTransfer(CreditTransferEvent::Completed(_))
                )
            }),
        ),
        (
            "100,000 levels deep where any JSON value is allowed (`changes.*.from`)",
            json(
                "project",
                replaced(
                    &example("project.updated.json"),
                    b"\"ICR-M-011 Peatland rewetting v2.0\"",
                    nested_arrays(deep).as_bytes(),
                ),
            ),
            Refused(malformed(26, 139, "recursion limit exceeded")),
        ),
        (
            "1e400 for an unknown event",
            json("carbon_offset", br#"{"big":1e400}"#.to_vec()),
            Refused(malformed(1, 12, "number out of range")),
        ),
        (
            "an unpaired surrogate escape for an unknown event",
            json("carbon_offset", br#"{"odd":"\udfff"}"#.to_vec()),
            Refused(malformed(1, 14, "lone leading surrogate in hex escape")),
        ),
        (
            "an empty body signed correctly",
            json("ping", Vec::new()),
            Refused(malformed(1, 0, "EOF while parsing a value")),
        ),
    ]
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
