//! `events` and `sample`: the catalogue, and schema-valid payloads drawn
//! from it.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use icr_webhooks_harness::fixture::Fixture;
use icr_webhooks_harness::samples;
use icr_webhooks_harness::sender::{Outgoing, SenderConfig};

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
    /// Write each payload as a delivery fixture (`*.http`) into DIR, made
    /// as `send` would send it (without the signature), and print its path.
    #[arg(long, value_name = "DIR")]
    save: Option<PathBuf>,
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
    let SampleArgs {
        key,
        seed,
        count,
        save,
    } = args;
    let key = crate::cli::parse_key(&key)?;
    let payloads = samples::generate(&key, seed, count).map_err(anyhow::Error::from)?;
    if let Some(dir) = save {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let config = SenderConfig::new("http://127.0.0.1/", None);
        for payload in payloads {
            let bytes = serde_json::to_vec(&payload).context("serializing a sample")?;
            let fixture = Fixture::from(&config.build(&Outgoing::new(key.event(), bytes)));
            let path = dir.join(fixture.file_name());
            fixture.save(&path).map_err(anyhow::Error::from)?;
            say!("{}", path.display());
        }
        return Ok(0);
    }
    for payload in payloads {
        let line = serde_json::to_string(&payload).context("serializing a sample")?;
        say!("{line}");
    }
    Ok(0)
}
