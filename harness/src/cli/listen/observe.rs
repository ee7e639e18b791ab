//! `listen`'s observability: `--log-format json|pretty` writes the SDK's
//! spans and events on stderr through `tracing-subscriber`, filtered by
//! `RUST_LOG` (`info` unless set); `--metrics-addr ADDR` serves the SDK's
//! metrics in Prometheus' text format at `http://ADDR/metrics`, on a
//! listener of its own. Without them nothing is installed, and the SDK's
//! calls into `tracing` and `metrics` find no subscriber and no recorder.

use std::io::{IsTerminal as _, Write as _};

use anyhow::Context as _;
use axum::routing::get;
use clap::{Args, ValueEnum};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use super::json_log::JsonLog;

/// The observability flags.
#[derive(Debug, Clone, Args)]
pub(crate) struct ObserveArgs {
    /// Log the SDK's spans and events on stderr, as JSON lines or as text (RUST_LOG filters, `info` by default).
    #[arg(long, value_enum, value_name = "FORMAT")]
    log_format: Option<LogFormat>,
    /// Serve the metrics in Prometheus' text format at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    // No doc comments: clap would list the values on lines of their own.
    // One JSON object per line, with the span's fields.
    Json,
    // Text for people, on several lines.
    Pretty,
}

/// How often the histograms' samples are drained between scrapes. The
/// recorder holds each sample until then (8 bytes, five histograms a
/// delivery): at 30,000 deliveries/s the exporter's own default of 5 s
/// held 6 MB, freed and taken again at each drain; a second holds about
/// one, and the drain is as cheap either way.
const UPKEEP: std::time::Duration = std::time::Duration::from_secs(1);

/// The buckets of the latency histograms, in seconds: 10 µs to 2.5 s.
const SECONDS: [f64; 12] = [
    1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1.0, 2.5,
];
/// The buckets of the body size, in bytes: 1 KiB to the 25 MiB limit.
const BYTES: [f64; 7] = [
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    26_214_400.0,
];

impl ObserveArgs {
    /// Installs the log subscriber, with `--log-format`.
    pub(crate) fn install_logs(&self) -> anyhow::Result<()> {
        let Some(format) = self.log_format else {
            return Ok(());
        };
        let directives = std::env::var("RUST_LOG").unwrap_or_default();
        let filter: Targets = if directives.trim().is_empty() {
            "info".parse()
        } else {
            directives.parse()
        }
        .with_context(|| format!("RUST_LOG `{directives}` is not a list of TARGET=LEVEL"))?;
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal());
        let registry = tracing_subscriber::registry().with(filter);
        match format {
            // The lines of tracing-subscriber's JSON formatter, with span
            // fields written only when an event shows them.
            LogFormat::Json => registry.with(JsonLog::new(std::io::stderr)).try_init(),
            LogFormat::Pretty => registry.with(fmt.pretty()).try_init(),
        }
        .context("installing the log subscriber")
    }

    /// Installs the Prometheus recorder and serves it, with
    /// `--metrics-addr`, on the current runtime; says where on stderr.
    pub(crate) async fn serve_metrics(&self) -> anyhow::Result<()> {
        let Some(addr) = &self.metrics_addr else {
            return Ok(());
        };
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)
            .and_then(|builder| {
                builder
                    .set_buckets_for_metric(Matcher::Full("icr_webhooks_body_bytes".into()), &BYTES)
            })
            .context("configuring the metrics")?
            .install_recorder()
            .context("installing the metrics recorder")?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding {addr} for the metrics"))?;
        let local = listener.local_addr().context("reading the bound address")?;
        // The recorder keeps each histogram's samples until they are
        // drained into its buckets: drained on each scrape, and every few
        // seconds between, so that memory stays bounded when nobody scrapes.
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                upkeep.run_upkeep();
            }
        });
        let app = axum::Router::new().route(
            "/metrics",
            get(move || {
                let handle = handle.clone();
                async move {
                    handle.run_upkeep();
                    handle.render()
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        tell!("metrics on http://{local}/metrics");
        Ok(())
    }
}
