//! `listen`: a verifying receiver served until Ctrl-C or SIGTERM, one JSON
//! line per processed delivery on stdout, the counts on stderr.

use std::io::Write as _;

use anyhow::Context as _;
use clap::Args;
use icr_webhooks::Receiver;
use icr_webhooks::once::RetryPolicy;
use icr_webhooks_harness::listen::{Accepted, InboxConfig, ListenConfig, Listener};
use icr_webhooks_harness::stores::{ListenStore, StoreSpec};

use crate::cli::{Failure, receiver, runtime};

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
    } = args;
    let receiver = receiver(&secrets)?;
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
    let runtime = runtime()?;
    runtime.block_on(listen_forever(&addr, receiver, &store, &config))?;
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
) -> anyhow::Result<()> {
    let store = ListenStore::open(spec)
        .await
        .with_context(|| format!("opening the store {spec}"))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
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
    let listener_app = Listener::new(receiver, store.clone(), tx, config);
    let counts = listener_app.counts();
    let (router, workers) = listener_app.into_parts();
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
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
    // drains what is left and ends.
    let _ = printer.await;
    tell!("{counts}");
    served
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
