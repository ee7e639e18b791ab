//! Form bodies: an arbitrary `application/x-www-form-urlencoded` body
//! through the public receive path, and any payload through `form_body`
//! and back.
#![no_main]

use icr_webhooks::{Delivery, ReceiveError};
use icr_webhooks::receive::form_body;
use libfuzzer_sys::fuzz_target;

const GUID: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

fn receive(event: &str, body: Vec<u8>) -> Result<Delivery, ReceiveError> {
    let headers = [
        ("X-ICR-Event", event),
        ("X-ICR-Delivery", GUID),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    Delivery::from_verified(&headers, body)
}

fuzz_target!(|data: &[u8]| {
    // The input as a form body.
    match receive("ping", data.to_vec()) {
        Ok(delivery) => assert_eq!(&delivery.info.body[..], data),
        Err(error) => assert_eq!(error.status().as_u16(), 400, "{error:?}"),
    }
    // The input as a payload: encoded, it decodes back to the same bytes.
    match receive("fuzz_unknown_event", form_body(data).into_bytes()) {
        Ok(delivery) => assert_eq!(&delivery.info.payload[..], data),
        Err(ReceiveError::MalformedJson { .. }) => {}
        Err(other) => panic!("a form_body payload refused with {other:?}"),
    }
});
