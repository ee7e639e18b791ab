//! Large bodies take the receiver's parallel path (the MAC on a second
//! thread while the body parses): its outcomes are exactly those of the
//! checks in order.

use icr_webhooks::receive::Secret;
use icr_webhooks::types::CreditTransferEvent;
use icr_webhooks::{Event, ReceiveError, Receiver};
use serde_json::Value;

const SECRET: &str = "whsec_large";

/// A valid `credit_transfer.completed` body of more than 2 MiB.
fn large_body() -> Vec<u8> {
    let example = std::fs::read(
        icr_webhooks_tests::root().join("schema/examples/credit_transfer.completed.json"),
    )
    .unwrap();
    let mut value: Value = serde_json::from_slice(&example).unwrap();
    let block = value["transfer"]["blocks"][0].clone();
    value["transfer"]["blocks"] = Value::Array(vec![block; 6000]);
    let body = serde_json::to_vec_pretty(&value).unwrap();
    assert!(body.len() > 2 << 20, "{}", body.len());
    body
}

fn headers(signature: String) -> Vec<(&'static str, String)> {
    vec![
        ("X-ICR-Event", "credit_transfer".to_owned()),
        (
            "X-ICR-Delivery",
            "6c0d2f59-93a4-4d8e-b1d5-0e7a2c9f4b13".to_owned(),
        ),
        ("Content-Type", "application/json".to_owned()),
        ("X-ICR-Signature-256", signature),
    ]
}

#[test]
fn a_large_valid_delivery_is_accepted_typed() {
    let body = large_body();
    let receiver = Receiver::new(SECRET).unwrap();
    let delivery = receiver
        .receive(
            &headers(Secret::new(SECRET).sign(&body).to_string()),
            body.clone(),
        )
        .unwrap();
    let Event::CreditTransfer(CreditTransferEvent::Completed(completed)) = &delivery.event else {
        panic!("wrong variant: {:?}", delivery.event.name());
    };
    assert_eq!(completed.transfer.blocks.len(), 6000);
    assert_eq!(delivery.info.body.len(), body.len());
}

#[test]
fn a_bad_signature_wins_over_a_bad_body() {
    let mut body = large_body();
    let signature = Secret::new(SECRET).sign(&body).to_string();
    body.truncate(body.len() - 10);
    let receiver = Receiver::new(SECRET).unwrap();
    let error = receiver.receive(&headers(signature), body).unwrap_err();
    assert!(
        matches!(error, ReceiveError::SignatureMismatch),
        "{error:?}"
    );
    assert_eq!(error.status(), 401);
}

#[test]
fn a_signed_malformed_large_body_is_a_400() {
    let mut body = large_body();
    body.truncate(body.len() - 10);
    let receiver = Receiver::new(SECRET).unwrap();
    let error = receiver
        .receive(&headers(Secret::new(SECRET).sign(&body).to_string()), body)
        .unwrap_err();
    assert!(
        matches!(error, ReceiveError::MalformedJson { .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), 400);
}

#[test]
fn a_missing_signature_on_a_large_body_is_a_401() {
    let body = large_body();
    let receiver = Receiver::new(SECRET).unwrap();
    let mut headers = headers(String::new());
    headers.pop();
    let error = receiver.receive(&headers, body).unwrap_err();
    assert!(
        matches!(error, ReceiveError::MissingHeader { header } if header == icr_webhooks::contract::header::SIGNATURE_256),
        "{error:?}"
    );
}
