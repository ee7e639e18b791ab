//! Receive ICR webhooks with real types.
//!
//! An ICR App's webhook is an HTTP `POST` signed with the app's secret. This
//! crate checks a delivery the way the contract says, in its order (the
//! body's size, the HMAC-SHA256 signature in constant time, the content
//! type, the headers, the JSON), and hands back a [`Delivery`]: what the
//! headers say, the raw body and the payload as a typed [`Event`]. Unknown
//! events and actions are not errors; they arrive as `Unknown` variants that
//! keep their JSON.
//!
//! # Receiving a delivery
//!
//! Build a [`Receiver`] once, with the webhook secret, then give it each
//! request's headers and raw body (any framework: an [`http::HeaderMap`] or
//! plain name/value pairs, see [`HeaderSource`]):
//!
//! ```
//! use icr_webhooks::types::CreditTransferEvent;
//! use icr_webhooks::{Event, Receiver};
//!
//! let receiver = Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?;
//! # let body = br#"{"zen":"Measure twice, retire once.","hook_id":60021,"hook":{"id":60021,"type":"App","name":"web","active":true,"events":["credit_transfer"],"config":{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}"#.to_vec();
//! # let signature = icr_webhooks::Secret::new("whsec_Q7mN4rT8p3Xv2kLs9dE1").sign(&body).to_string();
//! # let headers = [
//! #     ("X-ICR-Event", "ping"),
//! #     ("X-ICR-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
//! #     ("X-ICR-Signature-256", signature.as_str()),
//! #     ("Content-Type", "application/json"),
//! # ];
//!
//! // In the HTTP handler: the request's headers and its raw body. On error,
//! // answer with `error.status()`: 401, 413, 415 or 400.
//! let delivery = receiver.receive(&headers, body)?;
//!
//! match &delivery.event {
//!     Event::Ping(ping) => println!("ping: {}", ping.zen),
//!     Event::CreditTransfer(CreditTransferEvent::Completed(completed)) => {
//!         println!("transfer {} completed", completed.transfer.id);
//!     }
//!     other => println!("{} {:?}: not handled", other.name(), other.action()),
//! }
//! # assert!(matches!(delivery.event, Event::Ping(_)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A [`ReceiveError`] knows the status to answer with
//! ([`status`](ReceiveError::status)); its message never holds the secret,
//! a signature or the body. Answer 2xx fast and do slow work after
//! answering, and use [`DeliveryInfo::id`] to process a redelivery only
//! once: ICR redelivers with the same GUID.
//!
//! # Processing each delivery once
//!
//! ICR may deliver the same GUID twice, even at the same time, never retries
//! a delivery answered 2xx, and redelivers a failed one (by hand) for three
//! days. [`once`] keeps the promise *nothing lost, nothing twice* across
//! restarts and replicas, over a [`DeliveryStore`] keyed by the webhook's ID
//! and the GUID ([`DeliveryKey`]), whose claims carry a lease and a fencing
//! token. Two ways to process:
//!
//! - **Process, then answer** ([`ExactlyOnce`], the axum `Once` extractor):
//!   the request claims the delivery, the handler runs, the claim is
//!   completed, then 2xx. Simple; the handler must finish within ICR's
//!   10 s.
//! - **Accept, then process** ([`Inbox`], the axum `Enqueued` extractor):
//!   every check of the contract, then the delivery is written durably and
//!   answered 202; [`Workers`](once::Workers) in every replica process it,
//!   retry failures with backoff and keep the last failure as dead. The
//!   answer is fast whatever the handler costs, and a store that cannot
//!   write answers 503, never 2xx.
//!
//! Which store: [`MemoryStore`] for one process and tests (a restart
//! forgets it); `once::sqlite::SqliteStore` (feature `sqlite`), one file,
//! nothing to run, several processes on one host; `once::postgres::PostgresStore`
//! (feature `postgres`) for replicas on several hosts. Both database stores
//! create and version their tables themselves, commit concurrent calls
//! together, and let your handler write in the transaction that completes
//! the delivery (`complete_in`), so that its effect is committed once or not
//! at all. Effects outside the database (an e-mail, another service) are *at
//! least once*: give them the GUID as their idempotency key.
//!
//! ```
//! use icr_webhooks::once::{Accepted, Inbox, Job, MemoryStore};
//! use icr_webhooks::{BoxError, Receiver};
//! # let receiver = Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?;
//! # let body = br#"{"zen":"z","hook_id":1,"hook":{"id":1,"type":"App","name":"web","active":true,"events":[],"config":{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}"#.to_vec();
//! # let signature = icr_webhooks::Secret::new("whsec_Q7mN4rT8p3Xv2kLs9dE1").sign(&body).to_string();
//! # let headers = [
//! #     ("X-ICR-Event", "ping"),
//! #     ("X-ICR-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
//! #     ("X-ICR-Hook-ID", "1"),
//! #     ("X-ICR-Signature-256", signature.as_str()),
//! #     ("Content-Type", "application/json"),
//! # ];
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! // `SqliteStore::open("icr-webhooks.sqlite").await?` to survive restarts.
//! let inbox = Inbox::builder(receiver, MemoryStore::new()).build();
//! let (done, mut processed) = tokio::sync::mpsc::unbounded_channel();
//! let workers = inbox.workers(4, move |job: Job| {
//!     let done = done.clone();
//!     async move {
//!         // A failure is retried with backoff; the GUID is the idempotency
//!         // key of anything done outside the store.
//!         done.send(job.delivery.info.id.clone())?;
//!         Ok::<(), BoxError>(())
//!     }
//! });
//!
//! // In the HTTP handler: answer 202, 200, or the error's status (503 when
//! // the store cannot write).
//! let (_, first) = inbox.accept(&headers, body.clone()).await?;
//! let (_, again) = inbox.accept(&headers, body.clone()).await?;
//! assert_eq!((first, again), (Accepted::Stored, Accepted::Duplicate));
//!
//! assert_eq!(processed.recv().await.map(|id| id.to_string()).as_deref(), Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
//! workers.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Routing
//!
//! Instead of a `match`, a [`Router`] maps event/action pairs to async
//! handlers, each receiving its payload type; everything else is
//! [skipped](Outcome::Skipped) (or goes to a fallback).
//!
//! # Drift: what the types do not know yet
//!
//! [`drift::Drift::of`] reports, for a payload, the fields, enum values,
//! actions and events this version's types do not know, by JSON path and
//! without the values; [`drift::DriftTally`] counts them over many
//! deliveries. It tells when `schema/` should grow and `cargo codegen`
//! run again.
//!
//! # Lower-level calls
//!
//! - [`Receiver::verify`] and [`Receiver::verify_signature`] check the size
//!   and signature only; [`Receiver::check_size`] checks a
//!   `Content-Length` before reading.
//! - [`Delivery::from_verified`] runs the checks after the signature, for a
//!   body verified elsewhere.
//! - [`Secret::sign`] signs a body as ICR does: the same code that
//!   verifies, so sender and receiver cannot disagree. [`form_body`] makes
//!   the body of a `form` delivery.
//! - [`Event::from_slice`] parses a payload given its event name.
//!
//! # One model, owned or borrowed
//!
//! Every payload type that holds a string is generic over its string type
//! `S`. The default, [`CompactString`], owns its strings: that is what
//! [`Receiver::receive`] gives and what you write (`Event`,
//! `CreditTransferCompleted`, `Transfer`), and what you keep or send to
//! another thread. With `S = `[`Text<'a>`](Text) the same types point into
//! the body instead of copying it: [`Receiver::check`] runs every check but
//! the typed parse, and [`DeliveryInfo::parse_borrowed`] (or
//! [`Event::from_slice_borrowed`]) parses into an `Event<Text<'_>>` with
//! the same outcome and errors as [`Receiver::receive`]. It is the faster
//! parse and allocates less; [`IntoOwned::into_owned`] (and
//! `Event::into_owned`) gives the owned value.
//!
//! ```
//! use icr_webhooks::types::CreditTransferEvent;
//! use icr_webhooks::{Event, IntoOwned, Text};
//! let body: &[u8] = include_bytes!("../benches/fixtures/credit_transfer_4k.json");
//!
//! let event: Event<Text<'_>> = Event::from_slice_borrowed("credit_transfer", body)?;
//! if let Event::CreditTransfer(CreditTransferEvent::Completed(completed)) = &event {
//!     assert!(completed.sender.login.is_borrowed()); // a slice of `body`
//! }
//! let owned: Event = event.into_owned(); // `Event<CompactString>`, 'static
//! # assert_eq!(owned, Event::from_slice("credit_transfer", body)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Optional fields tell absent from `null`: an *optional* field of the
//! contract is `Option<T>`, `None` when absent, and `null` there is refused
//! (400, with its JSON path), as the contract says; a field that is
//! `| null` is `Option<T>` and required.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `sqlite` | no | `once::sqlite::SqliteStore`, the durable store in one SQLite file (bundled SQLite) |
//! | `postgres` | no | `once::postgres::PostgresStore`, the durable store on PostgreSQL (tokio-postgres, deadpool) |
//! | `axum` | no | [`Delivery`] as an axum 0.8 extractor (`FromRequest`) that reads the body under the size limit and within `BodyTimeout`, [`DeliveryInfo`], the same without the typed parse (for [`DeliveryInfo::parse_borrowed`]), `Once`, the same with exactly-once processing, `Enqueued`, which accepts into an [`Inbox`], and `DeliveryRejection` / `OnceRejection` / `InboxRejection`, which answer with the right status |
#![cfg_attr(
    feature = "axum",
    doc = "\nWith `axum`, a handler takes a [`Delivery`] as its last argument; the \
           [`Receiver`] comes from the router's state (see the `FromRequest` impl \
           on [`Delivery`] and the `axum_receiver` example). [`Once`] adds \
           exactly-once processing, with the [`ExactlyOnce`] from the state too; \
           [`BodyTimeout`] bounds how long a body may take to arrive."
)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as icr_webhooks;

#[cfg(feature = "axum")]
mod axum_extract;
#[cfg(feature = "axum")]
mod axum_state;
mod catalogue;
pub mod contract;
mod delivery;
pub mod drift;
mod error;
mod form;
mod headers;
pub mod once;
mod parse;
mod receiver;
mod router;
mod secret;
#[doc(hidden)]
pub mod __private {
    //! Support for the generated code; not part of the API.
    pub use crate::runtime::support::*;
    pub use crate::{__event_payload as event_payload, __open_enum as open_enum};
    pub use serde;
}
mod runtime;

#[rustfmt::skip]
#[path = "generated/mod.rs"]
#[allow(clippy::all)]
pub mod types;

#[cfg(feature = "axum")]
pub use axum_extract::{
    BodyTimeout, DEFAULT_BODY_TIMEOUT, DeliveryRejection, Enqueued, InboxRejection, Once,
    OnceRejection,
};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use axum_state::WebhookState;
pub use bytes;
pub use catalogue::{EventPayload, EventSpec, event_spec};
pub use chrono;
/// The string type of the generated payload fields: a `String` that keeps up
/// to 24 bytes inline, so most identifiers, codes and serial numbers in a
/// payload cost no allocation. It derefs to `str`, compares with `&str` and
/// converts from and into `String`.
pub use compact_str::CompactString;
pub use contract::{EventKey, EventKeyError, header};
pub use delivery::{Delivery, DeliveryInfo};
pub use error::{ConfigError, ReceiveError};
pub use form::form_body;
pub use headers::{ContentType, DeliveryId, DeliveryIdError, HeaderSource};
pub use http;
pub use once::{
    Begin, Claim, Claimed, DEFAULT_CAPACITY, DEFAULT_DUPLICATE_WAIT, DEFAULT_WINDOW, DeliveryKey,
    DeliveryStore, ExactlyOnce, Inbox, MemoryStore, MemoryStoreBuilder, Settled, StoreError,
};
pub use parse::ParseError;
pub use receiver::{DEFAULT_MAX_BODY_SIZE, Receiver, ReceiverBuilder};
pub use router::{BoxError, Outcome, Router};
pub use runtime::IntoOwned;
pub use runtime::Text;
pub use secret::{Secret, Signature, SignatureError};
pub use serde_json;
pub use types::Event;
