//! A regression test built from captured deliveries, as the README shows:
//! the fixtures checked into `tests/fixtures/` (written by `icr-webhooks
//! sample --save` and `record`) replayed into an axum app like the
//! `axum_receiver` example through `tower::ServiceExt::oneshot`, each
//! answered with its exact status.

use axum::response::{IntoResponse, Response};
use axum::routing::post;
use icr_webhooks::axum::{Enqueued, InboxRejection};
use icr_webhooks::once::Inbox;
use icr_webhooks::once::MemoryStore;
use icr_webhooks::receive::Secret;
use icr_webhooks::{Event, Receiver};
use icr_webhooks_harness::fixture::Fixture;
use icr_webhooks_tests::root;
use tower::ServiceExt as _;

const SECRET: &str = "test-secret";

/// The example's handler: checked, stored, answered 202 (200 when stored
/// before), or refused with the rejection's status.
async fn webhook(enqueued: Result<Enqueued, InboxRejection>) -> Response {
    match enqueued {
        Ok(enqueued) => enqueued.into_response(),
        Err(rejection) => rejection.into_response(),
    }
}

fn app() -> axum::Router {
    let inbox = Inbox::builder(Receiver::new(SECRET).unwrap(), MemoryStore::new()).build();
    axum::Router::new()
        .route("/webhook", post(webhook))
        .with_state(inbox)
}

#[test]
fn captured_deliveries_replay_into_an_axum_app() {
    let fixtures = Fixture::load_dir(root().join("tests/fixtures")).unwrap();
    let names: Vec<String> = fixtures
        .iter()
        .map(|(path, _)| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "credit_transfer.completed-d5d965d9.http",
            "credit_transfer.rejected-7384cc89.http",
            "inventory.created-15b0b971.http",
            "ping-8e3d177b.http",
            "project.updated-f662925f.http",
        ]
    );
    let secret = Secret::new(SECRET);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let app = app();
        let status = |request: axum::http::Request<axum::body::Body>| {
            let app = app.clone();
            async move { app.oneshot(request).await.unwrap().status().as_u16() }
        };
        for (path, fixture) in &fixtures {
            let request = fixture.to_request(&secret, "/webhook");
            assert_eq!(status(request).await, 202, "{}", path.display());
            // The same GUID again: a redelivery, already stored.
            let request = fixture.to_request(&secret, "/webhook");
            assert_eq!(status(request).await, 200, "{}", path.display());
            // A fresh GUID: a new delivery.
            let request = fixture.with_new_guid().to_request(&secret, "/webhook");
            assert_eq!(status(request).await, 202, "{}", path.display());
            // Signed with another secret: refused before the body is read.
            let request = fixture.to_request(&Secret::new("not-it"), "/webhook");
            assert_eq!(status(request).await, 401, "{}", path.display());
        }
    });
    // Each is its typed variant.
    let receiver = Receiver::new(SECRET).unwrap();
    let typed: Vec<(String, Option<String>, bool)> = fixtures
        .iter()
        .map(|(_, fixture)| {
            let delivery = receiver
                .receive(&fixture.signed_headers(&secret), fixture.body.clone())
                .unwrap();
            let event: &Event = &delivery.event;
            (
                event.name().to_owned(),
                event.action().map(str::to_owned),
                event.is_known(),
            )
        })
        .collect();
    let expected: Vec<(String, Option<String>, bool)> = [
        ("credit_transfer", Some("completed")),
        ("credit_transfer", Some("rejected")),
        ("inventory", Some("created")),
        ("ping", None),
        ("project", Some("updated")),
    ]
    .iter()
    .map(|(e, a)| ((*e).to_owned(), a.map(str::to_owned), true))
    .collect();
    assert_eq!(typed, expected);
}
