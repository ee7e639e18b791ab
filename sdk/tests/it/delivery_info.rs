//! The `DeliveryInfo` extractor of axum and of actix-web over a loopback
//! socket: the borrowed parse in the handler answers every delivery as the
//! `Delivery` extractor does; and actix-web's extractors without their app
//! data.

use std::net::SocketAddr;

use actix_web::{HttpResponse, web};
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::routing::post;
use icr_webhooks::axum::{DeliveryRejection, ReceiverState};
use icr_webhooks::receive::DeliveryInfo;
use icr_webhooks::types::CreditTransferEvent;
use icr_webhooks::{Event, Receiver};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use crate::loopback::{bad_cases, chunked, head, runtime, send, send_raw};
use crate::server::{Framework, Stop, start_plain};
use crate::support::{Wire, example, receiver};

async fn borrowed_webhook(
    State(seen): State<mpsc::UnboundedSender<Event>>,
    info: DeliveryInfo,
) -> Result<StatusCode, DeliveryRejection> {
    let event = info.parse_borrowed()?;
    seen.send(event.into_owned()).unwrap();
    Ok(StatusCode::NO_CONTENT)
}

/// A server whose handler takes a [`DeliveryInfo`] and parses the borrowed
/// types, and the events it saw (owned, to compare).
async fn start_axum(receiver: Receiver) -> (SocketAddr, mpsc::UnboundedReceiver<Event>, Stop) {
    #[derive(Clone)]
    struct Borrowing {
        receiver: Receiver,
        seen: mpsc::UnboundedSender<Event>,
    }
    impl ReceiverState for Borrowing {
        fn receiver(&self) -> &Receiver {
            &self.receiver
        }
    }
    impl FromRef<Borrowing> for mpsc::UnboundedSender<Event> {
        fn from_ref(state: &Borrowing) -> Self {
            state.seen.clone()
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen, events) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route("/webhook", post(borrowed_webhook))
        .with_state(Borrowing { receiver, seen });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, events, Stop::none())
}

async fn actix_borrowed_webhook(
    seen: web::Data<mpsc::UnboundedSender<Event>>,
    info: DeliveryInfo,
) -> Result<HttpResponse, icr_webhooks::actix::DeliveryRejection> {
    let event = info.parse_borrowed()?;
    seen.send(event.into_owned()).unwrap();
    Ok(HttpResponse::NoContent().finish())
}

/// The same server on actix-web.
fn start_actix(receiver: Receiver) -> (SocketAddr, mpsc::UnboundedReceiver<Event>, Stop) {
    let (seen, events) = mpsc::unbounded_channel();
    let (receiver, seen) = (web::Data::new(receiver), web::Data::new(seen));
    let (addr, stop) = crate::server::serve_actix(move || {
        actix_web::App::new()
            .app_data(receiver.clone())
            .app_data(seen.clone())
            .route("/webhook", web::post().to(actix_borrowed_webhook))
    });
    (addr, events, stop)
}

#[test]
fn the_delivery_info_extractor_and_borrowed_parse_answer_as_delivery_does() {
    runtime().block_on(async {
        for framework in [Framework::Axum, Framework::Actix] {
            borrowed_on(framework).await;
        }
    });
}

async fn borrowed_on(framework: Framework) {
    {
        let (addr, mut seen, _stop) = start_plain(framework, receiver()).await;
        let (borrowed_addr, mut borrowed_seen, _borrowed_stop) = match framework {
            Framework::Axum => start_axum(receiver()).await,
            _ => start_actix(receiver()),
        };
        let good = [
            Wire::transfer_completed(),
            Wire::form("ping", &example("ping.json")),
        ];
        for wire in &good {
            assert_eq!(send(borrowed_addr, wire).await, (204, String::new()));
            assert_eq!(send(addr, wire).await, (204, String::new()));
            assert_eq!(
                borrowed_seen.try_recv().unwrap(),
                seen.try_recv().unwrap().event
            );
        }
        let wire = Wire::transfer_completed();
        let pieces = head(borrowed_addr, &wire.headers, "Transfer-Encoding: chunked");
        assert_eq!(
            send_raw(borrowed_addr, &pieces, &chunked(&wire.body, 100))
                .await
                .0,
            204
        );
        assert!(matches!(
            borrowed_seen.try_recv().unwrap(),
            Event::CreditTransfer(CreditTransferEvent::Completed(_))
        ));
        // Every refusal, whether by the extractor or by the handler's
        // parse, is the answer the `Delivery` extractor gives.
        for (name, wire, status, reason) in bad_cases() {
            assert_eq!(
                send(borrowed_addr, &wire).await,
                (status, reason.to_owned()),
                "{framework:?}: {name}"
            );
        }
        assert_eq!(
            borrowed_seen.try_recv().unwrap_err(),
            tokio::sync::mpsc::error::TryRecvError::Empty,
            "a bad delivery reached the channel"
        );
    }
}

async fn once_webhook(once: icr_webhooks::actix::OnceDelivery) -> HttpResponse {
    drop(once);
    HttpResponse::Ok().finish()
}

async fn plain_webhook(_: icr_webhooks::Delivery) -> HttpResponse {
    HttpResponse::Ok().finish()
}

/// An actix-web app without the app data an extractor needs answers 500,
/// naming what would do, before the body is read.
#[test]
fn actix_extractors_without_their_app_data_answer_500_naming_it() {
    runtime().block_on(async {
        let (addr, _stop) = crate::server::serve_actix(|| {
            actix_web::App::new()
                .route("/webhook", web::post().to(plain_webhook))
                .route("/once", web::post().to(once_webhook))
        });
        assert_eq!(
            send(addr, &Wire::ping()).await,
            (
                500,
                "the app has no web::Data<Receiver>, web::Data<WebhookState> or web::Data<Inbox> for the webhook extractor"
                    .to_owned()
            )
        );
        // Only `WebhookState` serves `OnceDelivery`; a receiver alone is
        // not enough.
        let receiver = web::Data::new(receiver());
        let (addr, _stop) = crate::server::serve_actix(move || {
            actix_web::App::new()
                .app_data(receiver.clone())
                .route("/webhook", web::post().to(once_webhook))
        });
        assert_eq!(
            send(addr, &Wire::ping()).await,
            (
                500,
                "the app has no web::Data<WebhookState> for the webhook extractor".to_owned()
            )
        );
    });
}
