//! The lower-level calls agree with `receive`, the borrowed parse points
//! into the payload, and optional fields refuse null.

use super::*;

#[test]
pub(super) fn lower_level_calls_agree_with_receive() {
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
pub(super) fn points_into(text: &str, bytes: &[u8]) -> bool {
    let range = bytes.as_ptr_range();
    let start = text.as_ptr();
    range.start <= start && start.wrapping_add(text.len()) <= range.end
}

#[test]
pub(super) fn check_then_borrowed_parse_points_into_the_payload() {
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
pub(super) fn optional_fields_refuse_null() {
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
