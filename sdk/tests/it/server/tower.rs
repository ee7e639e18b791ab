//! The test apps on hyper 1 and hyper-util, behind `WebhookLayer`: the
//! inner service finds the `Delivery` in the request's extensions; the
//! layer answers refusals, duplicates and the inbox itself.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use icr_webhooks::bytes::Bytes;
use icr_webhooks::once::Inbox;
use icr_webhooks::tower::WebhookLayer;
use icr_webhooks::{Delivery, Receiver};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tower::{Layer, service_fn};

use super::{Stop, TestApp};

/// Serves `service` on 127.0.0.1 and a free port, one task per connection.
pub(crate) async fn serve<S, B>(service: S) -> (SocketAddr, Stop)
where
    S: tower::Service<Request<hyper::body::Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let service = TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, Stop(None))
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

pub(super) async fn once(app: TestApp, timeout: Option<Duration>) -> (SocketAddr, Stop) {
    let mut layer = WebhookLayer::exactly_once(app.receiver.clone(), app.once.clone());
    if let Some(timeout) = timeout {
        layer = layer.body_timeout(timeout);
    }
    let inner = service_fn(move |request: Request<Full<Bytes>>| {
        let app = app.clone();
        async move {
            let delivery = request.extensions().get::<Delivery>().unwrap();
            // The layer completes the claim on 2xx and gives it back on
            // anything else.
            Ok::<_, Infallible>(match app.process(delivery).await {
                Ok(()) => empty(StatusCode::OK),
                Err(()) => empty(StatusCode::INTERNAL_SERVER_ERROR),
            })
        }
    });
    serve(layer.layer(inner)).await
}

pub(super) async fn plain(
    receiver: Receiver,
    seen: mpsc::UnboundedSender<Delivery>,
) -> (SocketAddr, Stop) {
    let inner = service_fn(move |request: Request<Full<Bytes>>| {
        let seen = seen.clone();
        async move {
            let delivery = request.extensions().get::<Delivery>().unwrap().clone();
            seen.send(delivery).unwrap();
            Ok::<_, Infallible>(empty(StatusCode::NO_CONTENT))
        }
    });
    serve(WebhookLayer::new(receiver).layer(inner)).await
}

pub(super) async fn inbox(inbox: Inbox) -> (SocketAddr, Stop) {
    // Never called: the layer answers every request of the inbox.
    let inner = service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(empty(StatusCode::NOT_FOUND))
    });
    serve(WebhookLayer::inbox(inbox).layer(inner)).await
}
