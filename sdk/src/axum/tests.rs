//! Unit tests of the rejections: their statuses, codes, messages and
//! responses.

use std::time::Duration;

use super::*;
use crate::error::ReceiveError;

#[test]
fn rejection_is_send_sync_static() {
    fn check<T: Send + Sync + 'static + std::error::Error>() {}
    check::<DeliveryRejection>();
    check::<OnceRejection>();
    check::<InboxRejection>();
}

#[test]
fn statuses_and_codes() {
    let cases = [
        (
            OnceRejection::Refused(DeliveryRejection::BodyTimeout {
                after: Duration::from_millis(1500),
            }),
            408,
            "body_timeout",
            "request body not received within 1500 ms",
        ),
        (
            OnceRejection::Refused(ReceiveError::SignatureMismatch.into()),
            401,
            "signature_mismatch",
            "signature does not match the body with any configured secret",
        ),
        (
            OnceRejection::InProgress,
            409,
            "in_progress",
            "delivery is being processed; redeliver it later",
        ),
    ];
    for (rejection, status, code, message) in cases {
        assert_eq!(rejection.status().as_u16(), status, "{rejection:?}");
        assert_eq!(rejection.code(), code);
        assert_eq!(rejection.to_string(), message);
        let response = rejection.into_response();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(
            response.headers().get(http::header::CONNECTION).is_some(),
            status == 408,
            "only a timed-out body closes the connection"
        );
    }
    assert_eq!(BodyTimeout::default().0, Duration::from_secs(10));
}
