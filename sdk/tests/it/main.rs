//! Integration tests of the receiving side: the contract's vectors and
//! examples, a table of bad deliveries, routing, property tests and, with
//! the `axum` feature, a real server on a loopback socket.
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
mod bad_deliveries;
mod contract;
mod properties;
mod redaction;
mod routing;
