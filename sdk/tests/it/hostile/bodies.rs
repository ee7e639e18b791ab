//! Hostile bodies: deep nesting, numbers out of range in integer fields,
//! duplicate keys, byte-order marks, NUL bytes and other encodings.

use super::*;

/// The hostile bodies, each with its exact outcome.
pub(super) fn body_cases() -> Vec<(&'static str, Wire, Expect)> {
    use Expect::{Accepted, Refused};
    let deep = 100_000;
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
    ]
}
