//! Integration tests of the receiving side: the contract's vectors and
//! examples, tables of bad and hostile deliveries, routing, property tests
//! and, with the `axum` feature, a real server on a loopback socket:
//! exactly-once processing, bodies too large or too slow, and logs without
//! secrets.
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

#[cfg(feature = "axum")]
mod axum_loopback;
#[cfg(feature = "axum")]
mod backends;
mod bad_deliveries;
mod contract;
mod drift;
#[cfg(feature = "axum")]
mod exactly_once;
mod hostile;
mod hostile_properties;
#[cfg(feature = "axum")]
mod inbox;
#[cfg(feature = "axum")]
mod limits;
#[cfg(all(feature = "axum", feature = "tracing", feature = "metrics"))]
mod observe;
mod properties;
mod redaction;
#[cfg(all(feature = "axum", feature = "sqlite"))]
mod redaction_logs;
mod routing;
#[cfg(feature = "axum")]
mod server;
#[cfg(feature = "axum")]
mod stores;
