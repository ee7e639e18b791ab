//! `events` and `sample`: the catalogue, and schema-valid payloads drawn
//! from it.

use std::io::Write as _;

use anyhow::Context as _;
use clap::Args;
use icr_webhooks_harness::samples;

use crate::cli::Failure;

// No doc comment: clap would show it in place of the subcommand's own `about`.
#[derive(Debug, Args)]
pub(crate) struct SampleArgs {
    /// `EVENT.ACTION`, or `EVENT` for any of its actions.
    key: String,
    /// The seed; the same seed gives the same payloads.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How many payloads.
    #[arg(long, default_value_t = 1)]
    count: usize,
}

/// `icr-webhooks events`.
pub(crate) fn events() -> Result<u8, Failure> {
    for key in samples::keys() {
        say!("{key}");
    }
    Ok(0)
}

/// `icr-webhooks sample …`.
pub(crate) fn sample(args: SampleArgs) -> Result<u8, Failure> {
    let SampleArgs { key, seed, count } = args;
    let key = crate::cli::parse_key(&key)?;
    let payloads = samples::generate(&key, seed, count).map_err(anyhow::Error::from)?;
    for payload in payloads {
        let line = serde_json::to_string(&payload).context("serializing a sample")?;
        say!("{line}");
    }
    Ok(0)
}
