//! The `lambda_receiver` example's service (`examples/lambda_receiver`,
//! compiled in here: `lambda_http` itself is not) called with requests
//! built as `lambda_http`'s adapter builds them from an API Gateway or
//! Function URL event: the body in one piece, header names in lower case,
//! no `Content-Length`. A good delivery is answered 200 by the handler, a
//! tampered one 401 by the layer.

use http_body_util::{BodyExt, Full};
use icr_webhooks::bytes::Bytes;
use icr_webhooks::http::{HeaderName, HeaderValue, Request};
use tower::ServiceExt;

use crate::loopback::runtime;
use crate::support::{Wire, receiver};

#[path = "../../examples/lambda_receiver/src/service.rs"]
#[allow(unreachable_pub)]
mod service;

/// `wire` as the Lambda adapter hands it over.
fn lambda_request(wire: &Wire) -> Request<Full<Bytes>> {
    let mut request = Request::post("/webhook")
        .body(Full::new(Bytes::from(wire.body.clone())))
        .unwrap();
    for (name, value) in &wire.headers {
        request.headers_mut().append(
            HeaderName::from_bytes(name.to_lowercase().as_bytes()).unwrap(),
            HeaderValue::from_bytes(value).unwrap(),
        );
    }
    assert_eq!(request.headers().get("content-length"), None);
    request
}

async fn answer(wire: &Wire) -> (u16, String) {
    let response = service::service(receiver())
        .oneshot(lambda_request(wire))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[test]
fn the_lambda_service_answers_a_good_and_a_tampered_delivery() {
    runtime().block_on(async {
        let good = Wire::transfer_completed();
        assert_eq!(answer(&good).await, (200, "ok".to_owned()));
        let tampered = good.clone().body(Wire::ping().body);
        assert_eq!(
            answer(&tampered).await,
            (
                401,
                "signature does not match the body with any configured secret".to_owned()
            )
        );
        // A form delivery, and an unsigned one, as ICR could send them.
        let form = Wire::form("ping", &Wire::ping().body);
        assert_eq!(answer(&form).await, (200, "ok".to_owned()));
        let unsigned = Wire::ping().without(icr_webhooks::contract::header::SIGNATURE_256);
        assert_eq!(
            answer(&unsigned).await,
            (401, "missing `X-ICR-Signature-256` header".to_owned())
        );
    });
}
