//! The harness's tests, one binary with a module per concern.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser;
mod cli;
mod devloop;
mod e2e;
mod fixtures;
mod fixtures_cli;
mod forward;
mod history;
mod inspector;
mod listen;
mod observe;
mod replicas;
mod samples;
mod sender;
mod strategy;
mod webdriver;
