//! End-to-end tests across the crates: the schemas, the examples, the
//! generated model and the layering of the modules, one binary with a module
//! per concern.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod drift;
mod large;
mod layering;
mod model;
mod replay;
mod schema;
mod snapshots;
