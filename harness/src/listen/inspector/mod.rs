//! `listen --ui`: the inspector at `/_icr/` on `listen`'s own address. One
//! page (hand-written HTML, JS and CSS from `listen/ui/`, put together in
//! the binary: no build step, no CDN) over a JSON API and a server-sent
//! event stream of new deliveries:
//!
//! | route | what |
//! | --- | --- |
//! | `GET /_icr/` | the page |
//! | `GET /_icr/api/deliveries?event=&status=&guid=&before=&limit=` | summaries, newest first |
//! | `GET /_icr/api/deliveries/ID` | one delivery: headers (signature redacted), body, typed view or error, forwarding, drift |
//! | `GET /_icr/api/stream` | `text/event-stream`: each new delivery's summary (`event: delivery`) |
//! | `POST /_icr/api/deliveries/ID/replay` | sends it again to `listen`: same GUID and body, re-signed |
//! | `POST /_icr/api/deliveries/ID/replay-new` | the same with a fresh GUID |
//! | `GET /_icr/api/deliveries/ID/curl` | a `curl` command that sends it, freshly signed |
//! | `POST /_icr/api/deliveries/ID/fixture` | saves it as a fixture file |
//! | `GET /_icr/api/drift` | the drift tally over the history |
//!
//! The page shows payloads, so access is guarded: with `--ui-token`, every
//! request carries the token (`Authorization: Bearer TOKEN`, or `?token=`
//! where a header cannot be set: the first page load and the event
//! stream), compared in constant time; without one, `listen` must be bound
//! to a loopback address and the `Host` must name it (no DNS rebinding).
//! `POST`s also need the header `X-ICR-Inspector: 1`, which a cross-site
//! form cannot send. No signature value is ever in a response.

mod actions;
mod api;
mod auth;

use std::path::PathBuf;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use icr_webhooks::receive::Secret;
use tokio::sync::watch;

use self::auth::Guard;
use super::client::Url;
use super::forward::Forward;
use crate::history::History;

/// The path the inspector is served under.
pub const PREFIX: &str = "/_icr";

/// How the inspector is set up.
#[derive(Debug, Clone)]
pub struct InspectorConfig {
    /// The token every request must carry; `None` on a loopback address.
    pub token: Option<String>,
    /// The secret replays and `curl` commands are signed with: `listen`'s
    /// current one.
    pub secret: Secret,
    /// `listen`'s own address, where replays go (`http://127.0.0.1:PORT`).
    pub self_url: Url,
    /// Where "save as fixture" writes.
    pub fixtures_dir: PathBuf,
    /// Turns `true` when `listen` stops: the live streams end, so that the
    /// server's graceful shutdown does not wait for open pages.
    pub stopped: watch::Receiver<bool>,
}

/// What the inspector's handlers share.
#[derive(Clone)]
pub(super) struct Inspector {
    pub(super) history: History,
    pub(super) secret: Secret,
    pub(super) self_url: Url,
    pub(super) forward: Option<Forward>,
    pub(super) fixtures_dir: PathBuf,
    pub(super) stopped: watch::Receiver<bool>,
}

/// The inspector's routes, under [`PREFIX`], guarded.
pub(super) fn routes(
    config: InspectorConfig,
    history: History,
    forward: Option<Forward>,
) -> Router {
    let guard = Guard::new(config.token.as_deref(), &config.self_url);
    let inspector = Inspector {
        history,
        secret: config.secret,
        self_url: config.self_url,
        forward,
        fixtures_dir: config.fixtures_dir,
        stopped: config.stopped,
    };
    let at = |path: &str| format!("{PREFIX}{path}");
    Router::new()
        .route(PREFIX, get(api::to_page))
        .route(&at("/"), get(api::page))
        .route(&at("/api/deliveries"), get(api::list))
        .route(&at("/api/deliveries/{id}"), get(api::detail))
        .route(&at("/api/deliveries/{id}/replay"), post(actions::replay))
        .route(
            &at("/api/deliveries/{id}/replay-new"),
            post(actions::replay_new),
        )
        .route(&at("/api/deliveries/{id}/curl"), get(actions::curl))
        .route(&at("/api/deliveries/{id}/fixture"), post(actions::fixture))
        .route(&at("/api/stream"), get(api::stream))
        .route(&at("/api/drift"), get(api::drift))
        .with_state(inspector)
        .layer(from_fn_with_state(guard, auth::guard))
}
