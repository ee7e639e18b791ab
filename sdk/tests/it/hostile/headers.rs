//! Hostile headers, form bodies and other bodies: repeated and odd
//! headers, huge names, odd form encodings.

use super::*;

/// The hostile headers, form bodies and other bodies, each with its exact outcome.
pub(super) fn header_and_form_cases() -> Vec<(&'static str, Wire, Expect)> {
    use Expect::{Accepted, Refused};
    let deep = 100_000;
    let long_event = "e".repeat(10_000);
    let long_action = "a".repeat(10_000);
    vec![
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
