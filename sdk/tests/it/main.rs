//! Integration tests of the receiving side: the contract's vectors and
//! examples, tables of bad and hostile deliveries, routing, property tests
//! and, with the `axum`, `actix` and `tower` features, real servers on a
//! loopback socket, the same tests against each framework (`server`):
//! every row of the bad-delivery table, exactly-once processing, the inbox,
//! bodies too large or too slow; and logs without secrets.
//!
//! Test code may panic: clippy's test allowances cover `#[test]` functions
//! only, not the helpers they share.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
mod backends;
mod bad_deliveries;
mod contract;
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
mod delivery_info;
mod drift;
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
mod exactly_once;
mod hostile;
mod hostile_properties;
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
mod inbox;
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
mod lambda;
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
mod limits;
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
mod loopback;
#[cfg(all(
    feature = "axum",
    feature = "actix",
    feature = "tower",
    feature = "tracing",
    feature = "metrics"
))]
mod observe;
mod properties;
mod redaction;
#[cfg(all(
    feature = "axum",
    feature = "actix",
    feature = "tower",
    feature = "sqlite"
))]
mod redaction_logs;
mod routing;
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
mod server;
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
mod stores;
#[cfg(all(feature = "axum", feature = "actix", feature = "tower"))]
mod table_over_http;
