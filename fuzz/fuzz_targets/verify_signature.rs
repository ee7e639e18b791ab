//! Signature checks: an arbitrary `X-ICR-Signature-256` value against an
//! arbitrary body. Accepted only when it is the body's signature; a value
//! that parses prints back to the same signature.
#![no_main]

use icr_webhooks::{ReceiveError, Receiver};
use icr_webhooks::receive::{Secret, Signature};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "whsec_FUZZ_SECRET_b1e2";

fuzz_target!(|data: &[u8]| {
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let (value, body) = rest.split_at(usize::from(len).min(rest.len()));
    let receiver = Receiver::new(SECRET).expect("a valid configuration");
    let expected = Secret::new(SECRET).sign(body);
    let outcome = receiver.verify_signature(Some(value), body);
    match Signature::from_header(value) {
        Ok(signature) => {
            assert_eq!(Signature::from_header(signature.to_string().as_bytes()), Ok(signature));
            let wanted = if signature == expected {
                Ok(())
            } else {
                Err(ReceiveError::SignatureMismatch)
            };
            assert_eq!(outcome, wanted);
        }
        Err(_) => assert_eq!(outcome, Err(ReceiveError::MalformedSignature)),
    }
    // The right signature with the same surroundings is always accepted.
    let good = expected.to_string();
    assert_eq!(receiver.verify_signature(Some(good.as_bytes()), body), Ok(()));
});
