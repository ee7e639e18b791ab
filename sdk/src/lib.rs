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
//! # The API at a glance
//!
//! The root holds the common path: [`Receiver`], [`Delivery`], [`Event`]
//! and [`ReceiveError`]. The rest is grouped by concern:
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`receive`] | the receiver, its builder and configuration error, each lower-level step (size, signature, headers, parse) by a name that says how far it goes, the header types, [`receive::Secret`] to sign as ICR does |
//! | [`types`] | the generated payload types, [`Event`] and one variant per event and action, the string type they are generic over, [`types::IntoOwned`] |
//! | [`router`] | a [`router::Router`] of async handlers by event and action |
//! | [`once`] | processing each delivery once: the stores (memory, SQLite, PostgreSQL), [`once::ExactlyOnce`] (process, then answer) and [`once::Inbox`] (accept, then process) |
//! | `axum`, `actix` (features) | the extractors for axum 0.8 and actix-web 4, their rejections and the state they need |
//! | `tower` (feature) | `WebhookLayer`: the whole receive in front of any tower service (hyper, `lambda_http`) |
//! | [`observe`] | what the `tracing` and `metrics` features record: span fields, levels, metric names |
//! | [`drift`] | what a payload holds that the types do not know, by path, and a tally over deliveries |
//! | [`contract`] | the contract's facts: header names, the 25 MiB limit, ICR's 10 s wait, the three-day redelivery window, [`contract::EventKey`] |
//!
//! The crates whose types appear in the API are re-exported: [`http`],
//! [`bytes`], [`chrono`], [`serde_json`].
//!
//! # Receiving a delivery
//!
//! Build a [`Receiver`] once, with the webhook secret, then give it each
//! request's headers and raw body (any framework: an [`http::HeaderMap`] or
//! plain name/value pairs, see [`receive::HeaderSource`]):
//!
//! ```
//! use icr_webhooks::types::CreditTransferEvent;
//! use icr_webhooks::{Event, Receiver};
//!
//! let receiver = Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?;
//! # let body = br#"{"zen":"Measure twice, retire once.","hook_id":60021,"hook":{"id":60021,"type":"App","name":"web","active":true,"events":["credit_transfer"],"config":{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}"#.to_vec();
//! # let signature = icr_webhooks::receive::Secret::new("whsec_Q7mN4rT8p3Xv2kLs9dE1").sign(&body).to_string();
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
//! answering, and process a redelivery only once ([`once`]): ICR
//! redelivers with the same GUID.
//!
//! With axum, the handler takes the delivery as an extractor instead:
//! `async fn webhook(delivery: Delivery)` on a router whose state is the
//! `Receiver`, or `async fn webhook(once: OnceDelivery)` on a
//! `WebhookState` (the receiver and an [`ExactlyOnce`](once::ExactlyOnce))
//! for exactly-once processing; see the `axum` module and the
//! `axum_receiver` example.
//!
//! # Processing each delivery once
//!
//! ICR may deliver the same GUID twice, even at the same time, never retries
//! a delivery answered 2xx, and redelivers a failed one (by hand) for three
//! days. [`once`] keeps the promise *nothing lost, nothing twice* across
//! restarts and replicas, over a [`DeliveryStore`](once::DeliveryStore)
//! keyed by the webhook's ID and the GUID ([`DeliveryKey`](once::DeliveryKey)),
//! whose claims carry a lease and a fencing token. Two ways to process:
//!
//! - **Process, then answer** ([`ExactlyOnce`](once::ExactlyOnce), the axum
//!   `OnceDelivery` extractor):
//!   the request claims the delivery, the handler runs, the claim is
//!   completed, then 2xx. Simple; the handler must finish within ICR's
//!   10 s.
//! - **Accept, then process** ([`Inbox`](once::Inbox), the axum `Enqueued`
//!   extractor):
//!   every check of the contract, then the delivery is written durably and
//!   answered 202; [`Workers`](once::Workers) in every replica process it,
//!   retry failures with backoff and keep the last failure as dead. The
//!   answer is fast whatever the handler costs, and a store that cannot
//!   write answers 503, never 2xx.
//!
//! Which store: [`MemoryStore`](once::MemoryStore) for one process and tests (a restart
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
//!
//! # let receiver = Receiver::new("whsec_Q7mN4rT8p3Xv2kLs9dE1")?;
//! # let body = br#"{"zen":"z","hook_id":1,"hook":{"id":1,"type":"App","name":"web","active":true,"events":[],"config":{"url":"https://example.net/icr","content_type":"json","insecure_ssl":"0"},"created_at":"2026-11-28T08:59:58Z","updated_at":"2026-11-28T08:59:58Z"}}"#.to_vec();
//! # let signature = icr_webhooks::receive::Secret::new("whsec_Q7mN4rT8p3Xv2kLs9dE1").sign(&body).to_string();
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
//! Instead of a `match`, a [`router::Router`] maps event/action pairs to async
//! handlers, each receiving its payload type; everything else is
//! [skipped](router::Outcome::Skipped) (or goes to a fallback).
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
//! [`Receiver::receive`] does everything. For code that needs a step on
//! its own (a `Content-Length` checked before reading, a body verified by
//! a gateway, a parse that borrows from the body), the [`receive`] module
//! lists each call with how far it goes, and [`Event::from_slice`] parses a
//! payload given its event name.
//!
//! # One model, owned or borrowed
//!
//! Every payload type that holds a string is generic over its string type
//! `S`. The default, [`CompactString`](types::CompactString), owns its strings: that is what
//! [`Receiver::receive`] gives and what you write (`Event`,
//! `CreditTransferCompleted`, `Transfer`), and what you keep or send to
//! another thread. With `S = `[`Text<'a>`](types::Text) the same types
//! point into the body instead of copying it:
//! [`Receiver::receive_unparsed`] runs every check but the typed parse,
//! and [`DeliveryInfo::parse_borrowed`](receive::DeliveryInfo::parse_borrowed) (or
//! [`Event::from_slice_borrowed`]) parses into an `Event<Text<'_>>` with
//! the same outcome and errors as [`Receiver::receive`]. It is the faster
//! parse and allocates less; [`IntoOwned::into_owned`](types::IntoOwned::into_owned) (and
//! `Event::into_owned`) gives the owned value.
//!
//! ```
//! use icr_webhooks::Event;
//! use icr_webhooks::types::{CreditTransferEvent, IntoOwned, Text};
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
//! | `axum` | no | the `axum` module: [`Delivery`], `DeliveryInfo`, `OnceDelivery` (exactly-once) and `Enqueued` (inbox) as axum 0.8 extractors that read the body under the size limit and within `BodyTimeout`, their rejections with the contract's statuses, and `WebhookState` |
//! | `actix` | no | the `actix` module: the same extractors for actix-web 4 (`FromRequest` for [`Delivery`], `DeliveryInfo`, `OnceDelivery`, `Enqueued`) over `web::Data` app data, rejections as `ResponseError` with the same statuses and messages |
//! | `tower` | no | the `tower` module: `WebhookLayer`, the whole receive (plain, exactly-once or inbox) in front of any tower service of `http` requests (hyper, `lambda_http`, tower stacks), answering refusals itself and handing the `Delivery` over in the request's extensions |
//! | `tracing` | no | a `tracing` span per delivery (`icr_webhooks.delivery`: GUID, event, action, hook ID, body size, outcome code, status, time in verification, parse and store) and per inbox job attempt; refusals as events at levels to filter; never a secret, a signature or a body: see [`observe`] |
//! | `metrics` | no | counters of deliveries by event and outcome, histograms of body size and of verification, parse and store time, the inbox's attempts, retries, dead and pending, on the `metrics` facade, with labels from a bounded set: see [`observe`] |
#![cfg_attr(
    feature = "axum",
    doc = "\nWith `axum`, see [`axum`](crate::axum) for the extractors and the state \
           they need, and the `axum_receiver` example."
)]
#![cfg_attr(
    feature = "actix",
    doc = "\nWith `actix`, see [`actix`](crate::actix) and the `actix_receiver` example."
)]
#![cfg_attr(
    feature = "tower",
    doc = "\nWith `tower`, see [`tower`](crate::tower) and the `hyper_receiver` example."
)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as icr_webhooks;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod contract;
pub mod drift;
pub mod observe;
pub mod once;
pub mod receive;
pub mod router;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
pub mod types;

mod delivery;
mod error;
mod form;
#[cfg(any(feature = "axum", feature = "tower", feature = "actix"))]
mod glue;
mod headers;
mod parse;
mod receiver;
mod runtime;
mod secret;

#[doc(hidden)]
pub mod __private {
    //! Support for the generated code; not part of the API.
    pub use crate::parse::ParseError;
    pub use crate::runtime::support::*;
    pub use crate::runtime::{IntoOwned, Text};
    pub use crate::types::{EventPayload, EventSpec};
    pub use crate::{__event_payload as event_payload, __open_enum as open_enum};
    pub use compact_str::CompactString;
    pub use serde;

    /// A catalogue entry, for the generated `CATALOGUE`.
    pub const fn event_spec(
        name: &'static str,
        actions: &'static [&'static str],
        description: &'static str,
    ) -> EventSpec {
        EventSpec::new(name, actions, description)
    }
}

pub use crate::receive::{Delivery, ReceiveError, Receiver};
pub use crate::types::Event;

/// The error a handler may fail with: any error that is `Send + Sync`,
/// boxed, from a [`router::Router`] handler or an inbox worker
/// ([`once::Inbox::workers`]), which retries it. `?` converts most errors
/// into it, `anyhow::Error` included.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

pub use bytes;
pub use chrono;
pub use http;
pub use serde_json;
