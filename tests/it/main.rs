//! End-to-end tests across the crates: the schemas, the examples and the
//! generated model, one binary with a module per concern.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod large;
mod model;
mod schema;
mod snapshots;
