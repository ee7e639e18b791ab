//! The test apps on actix-web: the `Delivery`, `OnceDelivery` and
//! `Enqueued` extractors over app data, one worker thread, no signal
//! handlers, stopped when the `Stop` drops.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use icr_webhooks::actix::{BodyTimeout, Enqueued, OnceDelivery, WebhookState};
use icr_webhooks::once::Inbox;
use icr_webhooks::{Delivery, Receiver};
use tokio::sync::mpsc;

use super::{ALREADY, Stop, TestApp};

async fn webhook(app: web::Data<TestApp>, once: OnceDelivery) -> HttpResponse {
    let OnceDelivery::New(delivery, claim) = once else {
        return HttpResponse::Ok().body(ALREADY);
    };
    if app.process(&delivery).await.is_err() {
        // The claim drops: given back.
        return HttpResponse::InternalServerError().finish();
    }
    claim.complete().await.unwrap();
    HttpResponse::Ok().finish()
}

/// Runs the app `factory` makes on 127.0.0.1 and a free port, on the
/// current tokio runtime (its one worker on a thread of its own).
pub(crate) fn serve<F, I>(factory: F) -> (SocketAddr, Stop)
where
    F: Fn() -> App<I> + Send + Clone + 'static,
    I: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(factory)
        .workers(1)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .unwrap()
        .run();
    let handle = server.handle();
    tokio::spawn(server);
    (addr, Stop(Some(handle)))
}

pub(super) fn once(app: TestApp, timeout: Option<Duration>) -> (SocketAddr, Stop) {
    let state = web::Data::new(WebhookState::new(app.receiver.clone(), app.once.clone()));
    let app = web::Data::new(app);
    serve(move || {
        let mut routes = App::new().app_data(state.clone()).app_data(app.clone());
        if let Some(timeout) = timeout {
            routes = routes.app_data(BodyTimeout(timeout));
        }
        routes.route("/webhook", web::post().to(webhook))
    })
}

async fn plain_webhook(
    seen: web::Data<mpsc::UnboundedSender<Delivery>>,
    delivery: Delivery,
) -> HttpResponse {
    seen.send(delivery).unwrap();
    HttpResponse::NoContent().finish()
}

pub(super) fn plain(
    receiver: Receiver,
    seen: mpsc::UnboundedSender<Delivery>,
) -> (SocketAddr, Stop) {
    let receiver = web::Data::new(receiver);
    let seen = web::Data::new(seen);
    serve(move || {
        App::new()
            .app_data(receiver.clone())
            .app_data(seen.clone())
            .route("/webhook", web::post().to(plain_webhook))
    })
}

async fn enqueue(enqueued: Enqueued) -> Enqueued {
    enqueued
}

pub(super) fn inbox(inbox: Inbox) -> (SocketAddr, Stop) {
    let inbox = web::Data::new(inbox);
    serve(move || {
        App::new()
            .app_data(inbox.clone())
            .route("/webhook", web::post().to(enqueue))
    })
}
