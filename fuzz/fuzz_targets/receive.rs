//! The full receive call: arbitrary headers and body through
//! `Receiver::receive` and `Delivery::from_verified`, signed correctly or
//! not. Any outcome is fine but a panic, an error without its contract
//! status, or a message that shows the secret.
#![no_main]

use icr_webhooks::{Delivery, ReceiveError, Receiver};
use icr_webhooks::receive::Secret;
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_FUZZ_SECRET_b1e2";

/// The input: one byte of flags, header lines (`name:value`, `\n` after
/// each) up to an empty line, then the body.
fn split(data: &[u8]) -> Option<(u8, Vec<(String, Vec<u8>)>, &[u8])> {
    let (&flags, rest) = data.split_first()?;
    let end = rest
        .windows(2)
        .position(|pair| pair == b"\n\n")
        .unwrap_or(rest.len());
    let (head, body) = rest.split_at(end);
    let body = body.get(2..).unwrap_or_default();
    let headers = head
        .split(|byte| *byte == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|byte| *byte == b':')?;
            let (name, value) = line.split_at(colon);
            Some((String::from_utf8_lossy(name).into_owned(), value.get(1..)?.to_vec()))
        })
        .collect();
    Some((flags, headers, body))
}

fn check(outcome: &Result<Delivery, ReceiveError>, body: &[u8]) {
    match outcome {
        Ok(delivery) => assert_eq!(&delivery.info.body[..], body),
        Err(error) => {
            assert!(matches!(error.status().as_u16(), 400 | 401 | 413 | 415), "{error:?}");
            let text = format!("{error} {error:?}");
            assert!(!text.contains(SECRET), "{text}");
            assert!(!error.code().is_empty());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((flags, mut headers, body)) = split(data) else {
        return;
    };
    if flags & 1 == 1 {
        let signature = Secret::new(SECRET).sign(body).to_string();
        headers.push(("X-ICR-Signature-256".to_owned(), signature.into_bytes()));
    }
    let signed = Receiver::builder()
        .secret(SECRET)
        .max_body_size(u64::from(flags >> 4) * 256 + 64)
        .build()
        .expect("a valid configuration");
    let unsigned = Receiver::builder()
        .accept_unsigned()
        .build()
        .expect("a valid configuration");
    check(&signed.receive(&headers, body.to_vec()), body);
    let outcome = unsigned.receive(&headers, body.to_vec());
    check(&outcome, body);
    let verified = Delivery::from_verified(&headers, body.to_vec());
    check(&verified, body);
    // Without a signature check, both calls agree.
    assert_eq!(
        outcome.as_ref().map(|delivery| &delivery.event),
        verified.as_ref().map(|delivery| &delivery.event)
    );
});
