//! The tables of content types, delivery headers, bodies, the order of the
//! checks and the unsigned receiver.

use super::*;

/// The cases of [`content_type`], with the receiver they are checked with.
pub(super) fn content_type_cases() -> Table {
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
pub(super) fn delivery_headers() {
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
pub(super) fn delivery_headers_cases() -> Table {
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

pub(super) fn is_malformed(error: &ReceiveError) -> bool {
    matches!(error, ReceiveError::MalformedJson { source } if matches!(**source, ParseError::Malformed { .. }))
}

pub(super) fn is_not_an_object(error: &ReceiveError) -> bool {
    matches!(error, ReceiveError::MalformedJson { source } if **source == ParseError::NotAnObject)
}

#[test]
pub(super) fn body() {
    check_table(body_cases());
}

/// The cases of [`body`], with the receiver they are checked with.
pub(super) fn body_cases() -> Table {
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
pub(super) fn checks_run_in_the_contract_order() {
    check_table(checks_run_in_the_contract_order_cases());
}

/// The cases of [`checks_run_in_the_contract_order`], with the receiver they are checked with.
pub(super) fn checks_run_in_the_contract_order_cases() -> Table {
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
pub(super) fn unsigned_receiver() {
    check_table(unsigned_receiver_cases());
}

/// The cases of [`unsigned_receiver`], with the receiver they are checked with.
pub(super) fn unsigned_receiver_cases() -> Table {
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
