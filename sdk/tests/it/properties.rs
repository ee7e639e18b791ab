//! Property tests: signing and verifying agree for any secret and body,
//! any single flipped bit is caught, and no input makes a public function
//! panic.

use icr_webhooks::contract::header;
use icr_webhooks::receive::{DeliveryId, Secret, Signature, form_body};
use icr_webhooks::{Delivery, ReceiveError, Receiver};
use proptest::prelude::*;

fn receiver_for(secret: &[u8]) -> Receiver {
    Receiver::new(secret.to_vec()).unwrap()
}

proptest! {
    #[test]
    fn sign_then_verify(secret in proptest::collection::vec(any::<u8>(), 1..200), body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let signature = Secret::new(secret.clone()).sign(&body);
        let header_value = signature.to_string();
        prop_assert_eq!(Signature::from_header(header_value.as_bytes()), Ok(signature));
        prop_assert_eq!(receiver_for(&secret).verify_signature(Some(header_value.as_bytes()), &body), Ok(()));
        prop_assert!(Secret::new(secret).verify(&signature, &body));
    }

    #[test]
    fn a_flipped_body_bit_fails(secret in proptest::collection::vec(any::<u8>(), 1..100), body in proptest::collection::vec(any::<u8>(), 1..1024), bit in any::<prop::sample::Index>()) {
        let signature = Secret::new(secret.clone()).sign(&body).to_string();
        let mut flipped = body.clone();
        let at = bit.index(body.len() * 8);
        flipped[at / 8] ^= 1 << (at % 8);
        prop_assert_eq!(
            receiver_for(&secret).verify_signature(Some(signature.as_bytes()), &flipped),
            Err(ReceiveError::SignatureMismatch)
        );
    }

    #[test]
    fn a_flipped_signature_bit_fails(secret in proptest::collection::vec(any::<u8>(), 1..100), body in proptest::collection::vec(any::<u8>(), 0..1024), bit in 0..256_usize) {
        let mut bytes = *Secret::new(secret.clone()).sign(&body).as_bytes();
        bytes[bit / 8] ^= 1 << (bit % 8);
        let flipped = Signature::from_bytes(bytes).to_string();
        prop_assert_eq!(
            receiver_for(&secret).verify_signature(Some(flipped.as_bytes()), &body),
            Err(ReceiveError::SignatureMismatch)
        );
    }

    #[test]
    fn another_secret_fails(secret in "[ -~]{1,40}", other in "[ -~]{1,40}", body in proptest::collection::vec(any::<u8>(), 0..256)) {
        prop_assume!(secret != other);
        let signature = Secret::new(other).sign(&body).to_string();
        prop_assert_eq!(
            receiver_for(secret.as_bytes()).verify_signature(Some(signature.as_bytes()), &body),
            Err(ReceiveError::SignatureMismatch)
        );
    }
}

/// Header names: the ones that matter, in random case, and anything else.
fn name() -> impl Strategy<Value = String> {
    let known = prop::sample::select(vec![
        header::EVENT,
        header::DELIVERY,
        header::HOOK_ID,
        header::INSTALLATION_TARGET_TYPE,
        header::INSTALLATION_TARGET_ID,
        header::SIGNATURE_256,
        header::CONTENT_TYPE,
    ]);
    prop_oneof![
        (known, any::<u64>()).prop_map(|(name, seed)| {
            name.chars()
                .enumerate()
                .map(|(at, c)| {
                    if seed >> (at % 64) & 1 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect()
        }),
        ".{0,20}",
    ]
}

/// Header values: near-valid ones and any bytes.
fn value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            "ping",
            "credit_transfer",
            "inventory",
            "application/json",
            "application/x-www-form-urlencoded; charset=utf-8",
            "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "sha256=",
            "SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "",
            " \t",
        ])
        .prop_map(|value| value.as_bytes().to_vec()),
        "sha256=[0-9a-fA-F]{60,68}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..80),
    ]
}

/// Bodies: JSON-looking text, forms and any bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        r#"\{("action"|"zen"|"hook"|"x"): ?("completed"|"renamed"|1|null|\[\]|\{\})(, "[a-z]{1,8}": [0-9]{1,3}){0,3}\}"#
            .prop_map(String::into_bytes),
        "[a-z%+=&0-9A-F]{0,64}".prop_map(String::into_bytes),
        r#"payload=[a-z%+=&0-9A-F{}":]{0,64}"#.prop_map(String::into_bytes),
    ]
}

proptest! {
    #[test]
    fn no_public_function_panics(
        headers in proptest::collection::vec((name(), value()), 0..10),
        body in body(),
        sign in any::<bool>(),
    ) {
        let secret = "whsec_Q7mN4rT8p3Xv2kLs9dE1";
        let mut headers = headers;
        if sign {
            let signature = Secret::new(secret).sign(&body).to_string();
            headers.push((header::SIGNATURE_256.to_owned(), signature.into_bytes()));
        }
        let signed = Receiver::builder().secret(secret).max_body_size(300).build().unwrap();
        let unsigned = Receiver::builder().accept_unsigned().build().unwrap();
        for receiver in [&signed, &unsigned] {
            let _ = receiver.receive(&headers, body.clone());
            let _ = receiver.verify_size_and_signature(&headers, &body);
            if let Ok(info) = receiver.receive_unparsed(&headers, body.clone()) {
                let _ = info.parse_borrowed();
            }
            for (_, value) in &headers {
                let _ = receiver.verify_signature(Some(value), &body);
            }
            let _ = receiver.verify_signature(None, &body);
            let _ = receiver.check_content_length(body.len() as u64);
        }
        let _ = Delivery::from_verified(&headers, body.clone());
        if let Ok(delivery) = unsigned.receive(&headers, body.clone()) {
            let _ = format!("{delivery:?}");
            let _ = delivery.into_parts();
        }
        for (name, value) in &headers {
            let _ = Signature::from_header(value);
            let _ = std::str::from_utf8(value).map(str::parse::<DeliveryId>);
            let _ = icr_webhooks::Event::from_slice(name, &body);
            let _ = icr_webhooks::Event::from_slice_borrowed(name, &body);
        }
        let _ = form_body(&body);

        // The same headers through an http::HeaderMap, where they are valid.
        let mut map = http::HeaderMap::new();
        for (name, value) in &headers {
            if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(name.as_bytes()), http::HeaderValue::from_bytes(value)) {
                map.append(name, value);
            }
        }
        let _ = signed.receive(&map, body.clone());
        let _ = unsigned.receive(&map, body.clone());
        let _ = Delivery::from_verified(&map, body);
    }

    #[test]
    fn form_body_round_trips(json in proptest::collection::vec(any::<u8>(), 0..512)) {
        let body = form_body(&json);
        let headers = [
            (header::EVENT, "x_unknown"),
            (header::DELIVERY, "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            (header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
        ];
        match Delivery::from_verified(&headers, body) {
            Ok(delivery) => prop_assert_eq!(&delivery.info.payload[..], &json[..]),
            Err(ReceiveError::MalformedJson { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected {other:?}"),
        }
    }
}
