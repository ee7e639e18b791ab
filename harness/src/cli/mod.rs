//! The subcommands of `icr-webhooks`, one module each, and what they share:
//! exit codes, failures, the async runtime and the receiver.

pub(crate) mod demo;
pub(crate) mod drift;
pub(crate) mod inbox;
pub(crate) mod listen;
pub(crate) mod record;
pub(crate) mod sample;
pub(crate) mod send;
pub(crate) mod sign;
mod table;

use anyhow::Context as _;
use icr_webhooks::Receiver;

/// Exit code: a delivery was rejected or not every delivery was delivered.
const EXIT_REJECTED: u8 = 1;
/// Exit code: bad usage (clap uses it too).
const EXIT_USAGE: u8 = 2;
/// Exit code: the payload is malformed.
const EXIT_MALFORMED: u8 = 3;

/// A failure with the exit code it maps to.
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) error: anyhow::Error,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self {
            code: EXIT_USAGE,
            error,
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// An `EVENT[.ACTION]` key as given on the command line.
fn parse_key(key: &str) -> anyhow::Result<icr_webhooks::contract::EventKey> {
    key.parse()
        .with_context(|| format!("`{key}` is not an EVENT or EVENT.ACTION key"))
}

fn receiver(secrets: &[String]) -> anyhow::Result<Receiver> {
    let mut builder = Receiver::builder();
    for secret in secrets {
        builder = builder.secret(secret.as_str());
    }
    builder.build().context("configuring the receiver")
}
