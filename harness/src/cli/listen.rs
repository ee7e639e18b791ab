//! `listen`: a verifying receiver served until Ctrl-C or SIGTERM, one JSON
//! line per processed delivery on stdout, the counts on stderr; every
//! request kept in the history (`--history*`), and on request forwarded to
//! the app (`--forward-to`) and shown in the inspector (`--ui`).

use std::io::Write as _;

use anyhow::Context as _;
use clap::Args;
use icr_webhooks::Receiver;
use icr_webhooks::once::RetryPolicy;
use icr_webhooks_harness::history::{self, HistorySpec};
use icr_webhooks_harness::listen::{Accepted, InboxConfig, ListenConfig, Listener, Url};
use icr_webhooks_harness::stores::{ListenStore, StoreSpec, parse_age};

use crate::cli::{Failure, receiver, runtime, shutdown_signal};

mod dev_loop;
mod json_log;
mod observe;

use self::dev_loop::DevLoopArgs;
use self::observe::ObserveArgs;

// No doc comment: clap would show it in place of the subcommand's own `about`.
#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8787")]
    addr: String,
    /// A webhook secret; repeat for rotation.
    #[arg(long = "secret", required = true)]
    secrets: Vec<String>,
    /// Answer 500 to this fraction (0 to 1) of first attempts (and with --inbox fail as many first processings).
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction, value_name = "R")]
    fail_rate: f64,
    /// Seed that picks the failing GUIDs (random when absent; printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Seconds a request body may take to arrive before a 408.
    #[arg(long, default_value_t = 10.0, value_parser = parse_seconds, value_name = "SECONDS")]
    body_timeout: f64,
    /// Print a line on stderr for each request not processed.
    #[arg(short, long)]
    verbose: bool,
    /// Where deliveries are recorded: memory, sqlite:PATH or postgres://USER@HOST/DB.
    #[arg(
        long,
        default_value = "sqlite:icr-webhooks.sqlite",
        value_name = "STORE"
    )]
    store: StoreSpec,
    /// Accept, then process: store each delivery, answer 202, and process it with workers.
    #[arg(long)]
    inbox: bool,
    /// Inbox workers: deliveries processed at once.
    #[arg(long, default_value_t = 64, requires = "inbox")]
    workers: usize,
    /// Seconds a claim holds before another process may take it over.
    #[arg(long, default_value_t = 60.0, value_parser = parse_seconds, value_name = "SECONDS")]
    lease: f64,
    /// Inbox: processing attempts before a delivery is dead.
    #[arg(long, default_value_t = 8, requires = "inbox")]
    attempts: u32,
    /// Inbox: seconds before the first retry (doubling after each failure, at most 10 minutes).
    #[arg(long, default_value_t = 1.0, value_parser = parse_seconds, value_name = "SECONDS", requires = "inbox")]
    retry_delay: f64,
    /// Seconds each processing takes, as a slow app.
    #[arg(long, default_value_t = 0.0, value_parser = parse_delay, value_name = "SECONDS")]
    process_delay: f64,
    /// Where every request is kept: memory or sqlite:PATH [default: icr-webhooks-history.sqlite beside the --store file; memory with --store memory].
    #[arg(long, value_name = "HISTORY")]
    history: Option<HistorySpec>,
    /// Keep no history (for load runs: the history analyzes each request); not with --ui or --forward-to.
    #[arg(long, conflicts_with_all = ["history", "ui", "forward_to"])]
    no_history: bool,
    /// Requests the history keeps at most (the oldest go first).
    #[arg(long, default_value_t = history::DEFAULT_MAX, value_name = "N")]
    history_max: u64,
    /// How long the history keeps a request: 7d, 12h, 30m, 45s.
    #[arg(long, default_value = "7d", value_parser = parse_age, value_name = "AGE")]
    history_max_age: std::time::Duration,
    /// Serve the inspector at /_icr/ (on a loopback address, or with --ui-token).
    #[arg(long)]
    ui: bool,
    /// A token every inspector request must carry (Authorization: Bearer TOKEN, or ?token=TOKEN).
    #[arg(long, value_name = "TOKEN", requires = "ui")]
    ui_token: Option<String>,
    /// Forward each checked delivery to the app at this URL and answer with the app's status.
    #[arg(long, value_name = "URL")]
    forward_to: Option<Url>,
    /// Re-sign forwarded deliveries with this secret (else ICR's signature goes along).
    #[arg(long, value_name = "SECRET", requires = "forward_to")]
    forward_secret: Option<String>,
    /// Where the inspector's "save as fixture" writes.
    #[arg(long, default_value = "fixtures", value_name = "DIR")]
    fixtures_dir: std::path::PathBuf,
    #[command(flatten)]
    observe: ObserveArgs,
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!("`{text}` is not a fraction from 0 to 1")),
    }
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 0 to 86400"
        )),
    }
}

fn parse_delay(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if (0.0..=3600.0).contains(&seconds) => Ok(seconds),
        _ => Err(format!(
            "`{text}` is not a number of seconds from 0 to 3600"
        )),
    }
}

/// `icr-webhooks listen …`.
pub(crate) fn run(args: ListenArgs) -> Result<u8, Failure> {
    let ListenArgs {
        addr,
        secrets,
        fail_rate,
        seed,
        body_timeout,
        verbose,
        store,
        inbox,
        workers,
        lease,
        attempts,
        retry_delay,
        process_delay,
        history,
        no_history,
        history_max,
        history_max_age,
        ui,
        ui_token,
        forward_to,
        forward_secret,
        fixtures_dir,
        observe,
    } = args;
    if ui_token.as_deref().is_some_and(str::is_empty) {
        return Err(anyhow::anyhow!("--ui-token must not be empty").into());
    }
    let receiver = receiver(&secrets)?;
    let dev = DevLoopArgs {
        history: (!no_history).then(|| history.unwrap_or_else(|| HistorySpec::beside(&store))),
        retention: history::Retention {
            max: history_max,
            max_age: history_max_age,
        },
        ui,
        ui_token,
        forward_to,
        forward_secret,
        fixtures_dir,
        secret: secrets.last().cloned().unwrap_or_default(),
    };
    let config = ListenConfig {
        fail_rate,
        seed: seed.unwrap_or_else(time_seed),
        body_timeout: std::time::Duration::from_secs_f64(body_timeout),
        verbose,
        lease: std::time::Duration::from_secs_f64(lease),
        inbox: inbox.then(|| InboxConfig {
            workers,
            retry: RetryPolicy {
                attempts,
                first_delay: std::time::Duration::from_secs_f64(retry_delay),
                ..RetryPolicy::default()
            },
        }),
        process_delay: std::time::Duration::from_secs_f64(process_delay),
    };
    observe.install_logs()?;
    let runtime = runtime()?;
    runtime.block_on(observe.serve_metrics())?;
    runtime.block_on(listen_forever(&addr, receiver, &store, &config, dev))?;
    Ok(0)
}

/// A seed from the clock, for a `listen` run without `--seed`.
fn time_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            since.as_secs() ^ u64::from(since.subsec_nanos()).rotate_left(32)
        })
}

async fn listen_forever(
    addr: &str,
    receiver: Receiver,
    spec: &StoreSpec,
    config: &ListenConfig,
    dev: DevLoopArgs,
) -> anyhow::Result<()> {
    let store = ListenStore::open(spec)
        .await
        .with_context(|| format!("opening the store {spec}"))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    dev.check(local)?;
    tell!("listening on http://{local}/ (POST / or /webhook); Ctrl-C stops");
    let mode = match &config.inbox {
        Some(inbox) => format!("accept, then process ({} workers)", inbox.workers),
        None => "process, then answer".to_owned(),
    };
    tell!("store {spec}; {mode}");
    if config.fail_rate > 0.0 {
        match &config.inbox {
            Some(_) => tell!(
                "answering 500 to {rate} of first attempts after storing them, and failing {rate} of first processing attempts (--seed {seed})",
                rate = config.fail_rate,
                seed = config.seed
            ),
            None => tell!(
                "failing {} of first attempts with 500 before processing (--seed {})",
                config.fail_rate,
                config.seed
            ),
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Accepted>();
    let printer = tokio::spawn(async move {
        // Lines go through a buffer flushed whenever the queue is empty: a
        // line is out as soon as nothing else waits, a burst costs few writes.
        let mut out = std::io::BufWriter::new(std::io::stdout());
        while let Some(accepted) = rx.recv().await {
            let line = serde_json::json!({
                "delivery": accepted.delivery,
                "event": accepted.event,
                "action": accepted.action,
            });
            let mut written = writeln!(out, "{line}");
            if rx.is_empty() {
                written = written.and_then(|()| out.flush());
            }
            // stdout closed: nothing more to report.
            if written.is_err() {
                break;
            }
        }
        let _ = out.flush();
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = dev.start(local, receiver.clone(), stopped)?;
    let listener_app =
        Listener::with_dev_loop(receiver, store.clone(), tx, config, started.dev.clone());
    let counts = listener_app.counts();
    let (router, workers) = listener_app.into_parts();
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // The inspector's live streams end, so that the server can.
            let _ = stop.send(true);
        })
        .await
        .context("serving");
    // No more deliveries come in: the workers finish what they hold.
    if let Some(workers) = workers {
        workers.shutdown().await;
    }
    if let Some(commits) = store.commits() {
        tell!("store commits {commits}");
    }
    // Every sender of the channel is gone with the server: the printer
    // drains what is left and ends; so does the history's writer.
    let _ = printer.await;
    started.finish().await;
    tell!("{counts}");
    served
}
