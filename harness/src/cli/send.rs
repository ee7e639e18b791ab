//! `send`: deliveries made from the arguments, sent the way ICR does, with a
//! progress bar, and summarized.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use anyhow::Context as _;
use bytes::Bytes;
use clap::{Args, ValueEnum};
use icr_webhooks::contract::EventKey;
use icr_webhooks::receive::{ContentType, Secret};
use icr_webhooks_harness::samples;
use icr_webhooks_harness::sender::{Attempt, Fault, Outgoing, Sender, SenderConfig, Summary};

use crate::cli::{EXIT_REJECTED, Failure, parse_key, runtime};

// No doc comment: clap would show it in place of the subcommand's own `about`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The webhook URL; repeat to spread deliveries and redeliveries over
    /// several replicas in turn.
    #[arg(long = "url", required = true)]
    urls: Vec<String>,
    /// The webhook secret.
    #[arg(long)]
    secret: String,
    /// `EVENT[.ACTION]` to send (repeatable); with `--payload`, the event name.
    #[arg(long = "event", value_name = "EVENT[.ACTION]")]
    events: Vec<String>,
    /// Send every event/action of the catalogue.
    #[arg(long, conflicts_with = "payload")]
    all: bool,
    /// Send this payload file instead of generated ones (with one `--event NAME`).
    #[arg(long)]
    payload: Option<PathBuf>,
    /// How many deliveries in all (cycling through the selection); one per event/action by default.
    #[arg(long)]
    count: Option<usize>,
    /// Deliveries in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// How the payload is carried.
    #[arg(long, value_enum, default_value_t = Carried::Json)]
    content_type: Carried,
    /// Inject a fault into every delivery: wrong-secret, missing-signature,
    /// corrupted-signature, body-changed, wrong-event, oversized-body,
    /// truncated-body, content-type-mismatch or slow-body.
    #[arg(long, value_parser = parse_fault, value_name = "KIND")]
    fault: Option<Fault>,
    /// Redeliver deliveries not answered 2xx, up to N more times each.
    #[arg(long, default_value_t = 0)]
    redeliver_failed: u32,
    /// Seed for generated payloads.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Carried {
    Json,
    Form,
}

impl From<Carried> for ContentType {
    fn from(carried: Carried) -> Self {
        match carried {
            Carried::Json => ContentType::Json,
            Carried::Form => ContentType::Form,
        }
    }
}

fn parse_fault(name: &str) -> Result<Fault, String> {
    Fault::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        format!("unknown fault `{name}`; one of: {}", names.join(", "))
    })
}

/// `icr-webhooks send …`.
pub(crate) fn run(args: SendArgs) -> Result<u8, Failure> {
    let SendArgs {
        urls,
        secret,
        events,
        all,
        payload,
        count,
        concurrency,
        content_type,
        fault,
        redeliver_failed,
        seed,
    } = args;
    let deliveries = plan(&events, all, payload.as_ref(), count, seed)?
        .into_iter()
        .map(|d| {
            let d = d.with_content_type(content_type.into());
            match fault {
                Some(fault) => d.with_fault(fault),
                None => d,
            }
        })
        .collect();
    let runtime = runtime()?;
    let summary = runtime.block_on(async {
        let mut urls = urls.into_iter();
        let mut config =
            SenderConfig::new(urls.next().unwrap_or_default(), Some(Secret::new(secret)));
        config.more_urls = urls.collect();
        let sender = Sender::new(config).map_err(anyhow::Error::from)?;
        let started = std::time::Instant::now();
        let attempts = send_with_progress(&sender, deliveries, concurrency, redeliver_failed).await;
        Ok::<_, anyhow::Error>(Summary::timed(&attempts, started.elapsed()))
    })?;
    say!("{summary}");
    Ok(if summary.all_delivered() {
        0
    } else {
        EXIT_REJECTED
    })
}

/// The deliveries `send` makes from its arguments.
fn plan(
    events: &[String],
    all: bool,
    payload: Option<&PathBuf>,
    count: Option<usize>,
    seed: u64,
) -> anyhow::Result<Vec<Outgoing>> {
    if let Some(path) = payload {
        let [event] = events else {
            anyhow::bail!("--payload needs exactly one --event NAME");
        };
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        // Parsed once for its action; every delivery shares the bytes.
        let template = Outgoing::new(event.clone(), Bytes::from(bytes));
        let total = count.unwrap_or(1);
        return Ok((0..total).map(|_| template.fresh()).collect());
    }
    let keys: Vec<EventKey> = if all {
        samples::keys()
    } else if events.is_empty() {
        anyhow::bail!(
            "say what to send: --all, --event EVENT[.ACTION], or --event NAME --payload FILE"
        );
    } else {
        events
            .iter()
            .map(|key| parse_key(key))
            .collect::<anyhow::Result<_>>()?
    };
    let total = count.unwrap_or(keys.len());
    let per_key = total.div_ceil(keys.len().max(1));
    // Up to 64 distinct payloads per key, serialized once; the deliveries
    // share their bytes, so a long run holds little more than its GUIDs.
    let mut pools: Vec<Vec<Outgoing>> = Vec::with_capacity(keys.len());
    for key in &keys {
        let mut pool = Vec::new();
        for payload in samples::generate(key, seed, per_key.min(64))? {
            let bytes = serde_json::to_vec(&payload).context("serializing a payload")?;
            pool.push(Outgoing::new(key.event(), bytes));
        }
        pools.push(pool);
    }
    let mut out = Vec::with_capacity(total);
    for index in 0..total {
        let Some(pool) = pools.get(index % pools.len().max(1)) else {
            break;
        };
        if let Some(template) = pool.get((index / pools.len().max(1)) % pool.len().max(1)) {
            out.push(template.fresh());
        }
    }
    Ok(out)
}

pub(crate) async fn send_with_progress(
    sender: &Sender,
    deliveries: Vec<Outgoing>,
    concurrency: usize,
    redeliver_rounds: u32,
) -> Vec<Attempt> {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(deliveries.len() as u64),
        if std::io::stderr().is_terminal() {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            indicatif::ProgressDrawTarget::hidden()
        },
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} deliveries {msg}")
    {
        bar.set_style(style);
    }
    let progress = bar.clone();
    let attempts = sender
        .send_all(deliveries, concurrency, redeliver_rounds, move |attempt| {
            if attempt.attempt == 1 {
                progress.inc(1);
            }
        })
        .await;
    bar.finish_and_clear();
    attempts
}
