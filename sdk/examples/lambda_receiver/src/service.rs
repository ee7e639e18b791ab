//! The Lambda receiver's service: the tower layer in front of the app's
//! handler, generic over the request body so that `lambda_http::run` serves
//! it with `lambda_http::Body` and the SDK's tests call it with the request
//! Lambda's adapter would build (`sdk/tests/it/lambda.rs`).

use std::convert::Infallible;

use http_body_util::Full;
use icr_webhooks::bytes::Bytes;
use icr_webhooks::http::{Request, Response, StatusCode};
use icr_webhooks::tower::{ResponseBody, WebhookLayer};
use icr_webhooks::{BoxError, Delivery, Receiver};
use tower::{Layer as _, Service, service_fn};

/// The app: called only with a verified delivery, in the extensions.
async fn handle(request: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let status = match request.extensions().get::<Delivery>() {
        Some(delivery) => {
            let line = serde_json::json!({
                "delivery": delivery.info.id.as_str(),
                "event": delivery.event.name(),
                "action": delivery.event.action(),
            });
            println!("{line}");
            StatusCode::OK
        }
        None => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
    *response.status_mut() = status;
    Ok(response)
}

/// The whole receiver: every check of the contract, refusals answered by
/// the layer (401, 413, 415, 400), the app's handler for the rest.
pub fn service<B>(
    receiver: Receiver,
) -> impl Service<
    Request<B>,
    Response = Response<ResponseBody<Full<Bytes>>>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static
where
    B: icr_webhooks::tower::http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    WebhookLayer::new(receiver).layer(service_fn(handle))
}
