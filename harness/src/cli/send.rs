//! `send`: deliveries made from the arguments, sent the way ICR does, with a
//! progress bar, and summarized.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bytes::Bytes;
use clap::{Args, ValueEnum};
use icr_webhooks::contract::EventKey;
use icr_webhooks::receive::{ContentType, Secret};
use icr_webhooks_harness::fixture::Fixture;
use icr_webhooks_harness::samples;
use icr_webhooks_harness::sender::{
    Attempt, Duplicate, Fault, Outgoing, Sender, SenderConfig, Summary,
};

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
    /// Seed for generated payloads, and for the deliveries --duplicate-rate picks.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Send the fixture FILE, or every `*.http` fixture of DIR, as recorded
    /// (their headers, GUID and exact body), signed with --secret.
    #[arg(long, value_name = "FILE|DIR", conflicts_with_all = ["all", "payload", "events", "count", "fault"])]
    replay: Option<PathBuf>,
    /// With --replay: a fresh GUID for each fixture instead of its own.
    #[arg(long, requires = "replay")]
    new_guid: bool,
    /// Send this fraction (0 to 1) of deliveries a second time, with the
    /// same GUID and body: half at once (concurrently with the first), half
    /// after the first answer.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction, value_name = "R")]
    duplicate_rate: f64,
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("`{text}` is not a fraction from 0 to 1")),
    }
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
        replay,
        new_guid,
        duplicate_rate,
    } = args;
    let (mut deliveries, files) = match &replay {
        Some(path) => replay_plan(path, new_guid)?,
        None => {
            let planned = plan(&events, all, payload.as_ref(), count, seed)?
                .into_iter()
                .map(|d| {
                    let d = d.with_content_type(content_type.into());
                    match fault {
                        Some(fault) => d.with_fault(fault),
                        None => d,
                    }
                })
                .collect();
            (planned, Vec::new())
        }
    };
    duplicate(&mut deliveries, duplicate_rate, seed);
    let ids: Vec<String> = deliveries.iter().map(|d| d.id.clone()).collect();
    let runtime = runtime()?;
    let summary = runtime.block_on(async {
        let mut urls = urls.into_iter();
        let mut config =
            SenderConfig::new(urls.next().unwrap_or_default(), Some(Secret::new(secret)));
        config.more_urls = urls.collect();
        let sender = Sender::new(config).map_err(anyhow::Error::from)?;
        let started = std::time::Instant::now();
        let attempts = send_with_progress(&sender, deliveries, concurrency, redeliver_failed).await;
        let summary = Summary::timed(&attempts, started.elapsed());
        Ok::<_, anyhow::Error>((summary, attempts))
    })?;
    let (summary, attempts) = summary;
    for (file, id) in files.iter().zip(&ids) {
        // The last answer to the fixture's delivery, duplicates apart.
        let last = attempts
            .iter()
            .filter(|a| &a.id == id && a.duplicate.is_none())
            .max_by_key(|a| a.attempt);
        let answer = last.map_or_else(
            || "not sent".to_owned(),
            |a| match (a.status, &a.failure) {
                (Some(status), _) => status.to_string(),
                (None, Some(why)) => format!("no answer ({why})"),
                (None, None) => "no answer".to_owned(),
            },
        );
        let key = last.map_or("-", |a| a.key.as_str());
        say!("{}  {key}  {id}  {answer}", file.display());
    }
    say!("{summary}");
    Ok(if summary.all_delivered() {
        0
    } else {
        EXIT_REJECTED
    })
}

/// The deliveries of `--replay FILE|DIR`, with the file of each.
fn replay_plan(path: &Path, new_guid: bool) -> anyhow::Result<(Vec<Outgoing>, Vec<PathBuf>)> {
    let fixtures = if path.is_dir() {
        let all = Fixture::load_dir(path)?;
        if all.is_empty() {
            anyhow::bail!("no `*.http` fixture in {}", path.display());
        }
        all
    } else {
        vec![(path.to_owned(), Fixture::load(path)?)]
    };
    Ok(fixtures
        .into_iter()
        .map(|(file, fixture)| {
            let fixture = if new_guid {
                fixture.with_new_guid()
            } else {
                fixture
            };
            (Outgoing::from_fixture(&fixture), file)
        })
        .unzip())
}

/// Marks `rate` of `deliveries` (rounded, picked by `seed`) to be sent
/// twice: in the order of the deliveries, the first at once, the next
/// after the answer, and so on.
fn duplicate(deliveries: &mut [Outgoing], rate: f64, seed: u64) {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let wanted = ((deliveries.len() as f64) * rate).round() as usize;
    if wanted == 0 {
        return;
    }
    // A seeded shuffle (splitmix64) of the indices; the first `wanted` go twice.
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..deliveries.len()).collect();
    for i in (1..order.len()).rev() {
        #[allow(clippy::cast_possible_truncation)]
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let mut chosen: Vec<usize> = order.into_iter().take(wanted).collect();
    chosen.sort_unstable();
    for (n, index) in chosen.into_iter().enumerate() {
        let how = if n % 2 == 0 {
            Duplicate::AtOnce
        } else {
            Duplicate::AfterAnswer
        };
        if let Some(delivery) = deliveries.get_mut(index) {
            delivery.duplicate = Some(how);
        }
    }
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
            "say what to send: --all, --event EVENT[.ACTION], --event NAME --payload FILE, or --replay FILE|DIR"
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
            if attempt.attempt == 1 && attempt.duplicate.is_none() {
                progress.inc(1);
            }
        })
        .await;
    bar.finish_and_clear();
    attempts
}
