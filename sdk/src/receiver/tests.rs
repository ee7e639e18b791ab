//! Unit tests of the receiver: its configuration rules, its `Debug`, the
//! size limit and the signature checks.

use super::*;

#[test]
fn configuration_rules() {
    assert_eq!(
        Receiver::builder().build().unwrap_err(),
        ConfigError::NoSecret
    );
    assert_eq!(Receiver::new("").unwrap_err(), ConfigError::EmptySecret);
    assert_eq!(
        Receiver::builder()
            .secret("a")
            .secret("")
            .build()
            .unwrap_err(),
        ConfigError::EmptySecret
    );
    assert_eq!(
        Receiver::builder()
            .secret("a")
            .accept_unsigned()
            .build()
            .unwrap_err(),
        ConfigError::SecretAndUnsigned
    );
    let unsigned = Receiver::builder().accept_unsigned().build().unwrap();
    assert!(unsigned.accepts_unsigned());
    let signed = Receiver::new("a").unwrap();
    assert!(!signed.accepts_unsigned());
    assert_eq!(signed.max_body_size(), 25 * 1024 * 1024);
}

#[test]
fn debug_shows_no_secret() {
    let receiver = Receiver::builder()
        .secret("hunter2-secret")
        .build()
        .unwrap();
    let text = format!(
        "{receiver:?} {:?}",
        Receiver::builder().secret("hunter2-secret")
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert_eq!(
        format!("{receiver:?}"),
        "Receiver { secrets: 1, max_body_size: 26214400 }"
    );
}

#[test]
fn size_limit_is_inclusive() {
    let receiver = Receiver::builder()
        .secret("s")
        .max_body_size(10)
        .build()
        .unwrap();
    assert_eq!(receiver.check_content_length(10), Ok(()));
    assert_eq!(
        receiver.check_content_length(11),
        Err(ReceiveError::BodyTooLarge { limit: 10 })
    );
    assert_eq!(
        receiver.check_content_length(u64::MAX),
        Err(ReceiveError::BodyTooLarge { limit: 10 })
    );
}

#[test]
fn unsigned_receiver_ignores_signatures() {
    let receiver = Receiver::builder().accept_unsigned().build().unwrap();
    assert_eq!(receiver.verify_signature(None, b"x"), Ok(()));
    assert_eq!(receiver.verify_signature(Some(b"nonsense"), b"x"), Ok(()));
}

#[test]
fn verify_signature_cases() {
    let receiver = Receiver::builder()
        .secret("old")
        .secret("new")
        .build()
        .unwrap();
    let body = b"{}";
    let new = Secret::new("new").sign(body).to_string();
    let old = Secret::new("old").sign(body).to_string();
    let other = Secret::new("other").sign(body).to_string();
    assert_eq!(
        receiver.verify_signature(Some(new.as_bytes()), body),
        Ok(())
    );
    assert_eq!(
        receiver.verify_signature(Some(old.as_bytes()), body),
        Ok(())
    );
    assert_eq!(
        receiver.verify_signature(Some(other.as_bytes()), body),
        Err(ReceiveError::SignatureMismatch)
    );
    assert_eq!(
        receiver.verify_signature(Some(b"sha256="), body),
        Err(ReceiveError::MalformedSignature)
    );
    assert_eq!(
        receiver.verify_signature(None, body),
        Err(ReceiveError::MissingHeader {
            header: header::SIGNATURE_256
        })
    );
}

#[test]
fn repeated_signature_header_is_malformed() {
    let receiver = Receiver::new("s").unwrap();
    let signature = Secret::new("s").sign(b"x").to_string();
    let headers = [
        (header::SIGNATURE_256, signature.as_str()),
        (header::SIGNATURE_256, signature.as_str()),
    ];
    assert_eq!(
        receiver.verify_size_and_signature(&headers, b"x"),
        Err(ReceiveError::MalformedSignature)
    );
}
