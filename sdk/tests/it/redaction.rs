//! No error message, in `Display`, `Debug` or its source chain, contains
//! the secret, a signature or the body.

use std::error::Error as _;

use icr_webhooks::contract::header;
use icr_webhooks::receive::Secret;
use icr_webhooks::{ReceiveError, Receiver};

use crate::support::{SECRET, Wire, example};

/// Every message an error can show: `Display`, `Debug` and its sources.
fn messages(error: &ReceiveError) -> Vec<String> {
    let mut out = vec![
        error.to_string(),
        format!("{error:?}"),
        format!("{error:#?}"),
    ];
    let mut source = error.source();
    while let Some(cause) = source {
        out.push(cause.to_string());
        out.push(format!("{cause:?}"));
        source = cause.source();
    }
    out
}

#[test]
fn errors_never_show_secrets_signatures_or_bodies() {
    let marker = "MARKER-7f3a9c";
    let ping = String::from_utf8(example("ping.json"))
        .unwrap()
        .replace("Measure twice, retire once.", marker);
    let transfer = String::from_utf8(example("credit_transfer.completed.json"))
        .unwrap()
        .replace("Q4 offset purchase, PO 7731", marker);
    let wrong_shape = transfer.replacen("\"id\": 88213", "\"id\": \"eighty\"", 1);
    let good = Wire::json("ping", ping.clone().into_bytes());
    let received_signature = good.get(header::SIGNATURE_256).unwrap();

    let small = Receiver::builder()
        .secret(SECRET)
        .max_body_size(10)
        .build()
        .unwrap();
    let cases: Vec<(Receiver, Wire)> = vec![
        (small, good.clone()),
        (
            crate::support::receiver(),
            good.clone().without(header::SIGNATURE_256),
        ),
        (
            crate::support::receiver(),
            good.clone().with(header::SIGNATURE_256, "sha256=zz"),
        ),
        (
            crate::support::receiver(),
            good.clone()
                .body(ping.replace("60021", "60022").into_bytes()),
        ),
        (
            crate::support::receiver(),
            good.clone().with(header::CONTENT_TYPE, "text/plain"),
        ),
        (
            crate::support::receiver(),
            good.clone().without(header::EVENT),
        ),
        (
            crate::support::receiver(),
            good.clone().with(header::DELIVERY, "x"),
        ),
        (
            crate::support::receiver(),
            Wire::json("ping", format!("zen={marker}").into_bytes())
                .with(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
        ),
        (
            crate::support::receiver(),
            Wire::json("ping", ping.as_bytes()[..ping.len() - 10].to_vec()),
        ),
        (
            crate::support::receiver(),
            Wire::json("credit_transfer", wrong_shape.clone().into_bytes()),
        ),
    ];
    let mut codes = Vec::new();
    for (receiver, wire) in cases {
        let error = wire.receive(&receiver).unwrap_err();
        codes.push(error.code());
        let expected_signature = Secret::new(SECRET).sign(&wire.body).to_string();
        let expected_hex = expected_signature.trim_start_matches("sha256=");
        let received_hex = received_signature.trim_start_matches("sha256=");
        for text in messages(&error) {
            for secret in [SECRET, expected_hex, received_hex, marker] {
                assert!(
                    !text.contains(secret),
                    "{} shows {secret:?}: {text}",
                    error.code()
                );
            }
            assert!(
                !text.contains(&ping) && !text.contains(&transfer) && !text.contains(&wrong_shape)
            );
            assert!(text.len() < 400, "{} is long: {text}", error.code());
        }
    }
    assert_eq!(
        codes,
        [
            "body_too_large",
            "missing_header",
            "malformed_signature",
            "signature_mismatch",
            "unsupported_content_type",
            "missing_header",
            "malformed_delivery_id",
            "missing_payload_field",
            "malformed_json",
            "unexpected_shape",
        ]
    );
}
