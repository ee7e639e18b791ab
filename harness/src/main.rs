//! `icr-webhooks`: the command line of the harness. Lists the catalogue,
//! makes schema-valid samples, signs and verifies bodies, sends deliveries to
//! an app (with faults), runs a verifying receiver, and `demo` runs it all.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use bytes::Bytes;
use clap::{Parser, Subcommand, ValueEnum};
use icr_webhooks::once::{ListFilter, Purge, Record, RetryPolicy, State};
use icr_webhooks::{ContentType, DeliveryId, DeliveryStore as _, EventKey, Receiver, Secret};
use icr_webhooks_harness::listen::{Accepted, InboxConfig, ListenConfig, Listener};
use icr_webhooks_harness::samples;
use icr_webhooks_harness::sender::{Attempt, Fault, Outgoing, Sender, SenderConfig, Summary};
use icr_webhooks_harness::stores::{self, ListenStore, StoreSpec};

/// `println!` that does not panic when stdout is closed (`icr-webhooks
/// sample ... | head -1`): what cannot be written is dropped.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that does not panic when stderr is closed (a parent that
/// read the banner and let the pipe go): what cannot be written is dropped.
macro_rules! tell {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// Exit code: a delivery was rejected or not every delivery was delivered.
const EXIT_REJECTED: u8 = 1;
/// Exit code: bad usage (clap uses it too).
const EXIT_USAGE: u8 = 2;
/// Exit code: the payload is malformed.
const EXIT_MALFORMED: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "icr-webhooks",
    version,
    about = "Test ICR webhook receivers: samples, signatures, a mock ICR sender with faults, a verifying receiver",
    after_help = "Exit codes: 0 success, 1 rejected or not all delivered, 2 usage, 3 malformed payload.\n\n\
Examples:\n  icr-webhooks demo\n  icr-webhooks send --all --url http://127.0.0.1:3000/webhook --secret \"$ICR_WEBHOOK_SECRET\"\n  icr-webhooks sample credit_transfer.completed --seed 7 | icr-webhooks sign --secret s3cr3t"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every event/action, one per line, sorted (`ping` bare).
    #[command(after_help = "Example:\n  icr-webhooks events | grep credit_")]
    Events,
    /// Print schema-valid payloads, one compact JSON per line.
    #[command(
        after_help = "Examples:\n  icr-webhooks sample ping\n  icr-webhooks sample credit_transfer.completed --seed 42 --count 3\n  icr-webhooks sample credit_transfer   # any action of the event"
    )]
    Sample {
        /// `EVENT.ACTION`, or `EVENT` for any of its actions.
        key: String,
        /// The seed; the same seed gives the same payloads.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// How many payloads.
        #[arg(long, default_value_t = 1)]
        count: usize,
    },
    /// Print the `X-ICR-Signature-256` value of a body.
    #[command(
        after_help = "Examples:\n  icr-webhooks sign --secret s3cr3t payload.json\n  printf 'Hello, World!' | icr-webhooks sign --secret \"It's a Secret to Everybody\""
    )]
    Sign {
        /// The webhook secret.
        #[arg(long)]
        secret: String,
        /// The body file; `-` or nothing for standard input.
        file: Option<PathBuf>,
    },
    /// Verify and parse one body exactly as the SDK does; print the typed result.
    #[command(
        after_help = "Prints {\"event\",\"action\",\"delivery\",\"known\",\"payload\"}.\nExit 1 on a signature problem, 3 on a malformed payload.\n\nExample:\n  icr-webhooks verify --secret s3cr3t --event ping --signature sha256=... ping.json"
    )]
    Verify {
        /// A webhook secret; repeat for rotation (any match accepts).
        #[arg(long = "secret", required = true)]
        secrets: Vec<String>,
        /// The `X-ICR-Event` name.
        #[arg(long)]
        event: String,
        /// The `X-ICR-Signature-256` value.
        #[arg(long)]
        signature: Option<String>,
        /// The `Content-Type`.
        #[arg(long, default_value = "application/json")]
        content_type: String,
        /// The `X-ICR-Delivery` GUID (a fresh one when absent).
        #[arg(long)]
        delivery: Option<String>,
        /// The body file; `-` or nothing for standard input.
        file: Option<PathBuf>,
    },
    /// Send deliveries to a receiver the way ICR does, and summarize.
    #[command(
        after_help = "Exit 0 only when every delivery was answered 2xx.\n\nExamples:\n  icr-webhooks send --url http://127.0.0.1:3000/webhook --secret s3cr3t --all\n  icr-webhooks send --url $URL --secret s3cr3t --event credit_transfer.completed --count 500 --concurrency 32\n  icr-webhooks send --url $URL --secret s3cr3t --event credit_transfer --payload body.json\n  icr-webhooks send --url $URL --secret s3cr3t --all --fault wrong-secret"
    )]
    Send {
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
    },
    /// Run a verifying receiver; print one JSON line per processed delivery.
    #[command(
        after_help = "Answers bad deliveries with the SDK's statuses (401, 413, 415, 400, 408 for a\nbody slower than --body-timeout) and processes each GUID once, recording it in\nthe table listen_effects of the store in the transaction that completes it.\n\nProcess, then answer (the default): a repeated GUID is acknowledged (200)\nwithout processing, one being processed here is waited for (409 after 5 s), one\nheld by another replica is answered 409. With --inbox: each delivery is stored,\nanswered 202 (200 when known already), and processed by the workers of any\nreplica sharing the store; failures are retried with backoff, and kept as dead\nafter --attempts (see `icr-webhooks inbox`). The store answers 503 when it\ncannot write.\n\nWith --fail-rate R, a fraction R of first attempts is answered 500 (before\nprocessing; with --inbox after storing), and with --inbox a fraction R of first\nprocessing attempts fails. Ctrl-C or SIGTERM prints the counts on stderr.\n\nExamples:\n  icr-webhooks listen --secret s3cr3t\n  icr-webhooks listen --secret s3cr3t --store memory --fail-rate 0.1 --seed 7 --verbose\n  icr-webhooks listen --secret s3cr3t --inbox --workers 16 --store postgres://postgres@127.0.0.1/test"
    )]
    Listen {
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
    },
    /// Look into a store: counts, failed and dead deliveries, retry, purge.
    #[command(
        after_help = "Examples:\n  icr-webhooks inbox --store sqlite:icr-webhooks.sqlite stats\n  icr-webhooks inbox --store postgres://postgres@127.0.0.1/test list --state dead\n  icr-webhooks inbox retry --dead\n  icr-webhooks inbox purge --older-than 4d"
    )]
    Inbox {
        /// The store: sqlite:PATH or postgres://USER@HOST/DB.
        #[arg(
            long,
            default_value = "sqlite:icr-webhooks.sqlite",
            value_name = "STORE"
        )]
        store: StoreSpec,
        #[command(subcommand)]
        action: InboxAction,
    },
    /// Start a receiver, send it every event/action and every fault, and check each answer.
    #[command(
        after_help = "Exit 0 only when every good delivery was accepted as its exact typed\nvariant and every faulty one was refused with its expected status."
    )]
    Demo,
}

#[derive(Debug, Subcommand)]
enum InboxAction {
    /// Deliveries by state, and the audit of `listen_effects`.
    Stats {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Deliveries in a state, oldest change first.
    List {
        /// free, pending, failed (pending after a failed attempt), active, done or dead; all when absent.
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One delivery: its rows, headers and body.
    Show {
        /// The delivery's GUID.
        guid: String,
    },
    /// Make dead deliveries pending again, attempts reset.
    Retry {
        /// The delivery's GUID.
        #[arg(conflicts_with = "dead", required_unless_present = "dead")]
        guid: Option<String>,
        /// Every dead delivery.
        #[arg(long)]
        dead: bool,
    },
    /// Delete done (and with --dead, dead) deliveries last changed before an age.
    Purge {
        /// An age: 3d, 12h, 30m, 45s.
        #[arg(long, value_parser = stores::parse_age, value_name = "AGE")]
        older_than: std::time::Duration,
        /// Dead deliveries too.
        #[arg(long)]
        dead: bool,
    },
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

fn parse_fault(name: &str) -> Result<Fault, String> {
    Fault::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        format!("unknown fault `{name}`; one of: {}", names.join(", "))
    })
}

/// A failure with the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self {
            code: EXIT_USAGE,
            error,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            tell!("icr-webhooks: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Events => {
            for key in samples::keys() {
                say!("{key}");
            }
            Ok(0)
        }
        Command::Sample { key, seed, count } => {
            let payloads = samples::generate(&key, seed, count).map_err(anyhow::Error::from)?;
            for payload in payloads {
                let line = serde_json::to_string(&payload).context("serializing a sample")?;
                say!("{line}");
            }
            Ok(0)
        }
        Command::Sign { secret, file } => {
            let body = read_input(file.as_ref())?;
            say!("{}", Secret::new(secret).sign(&body));
            Ok(0)
        }
        Command::Verify {
            secrets,
            event,
            signature,
            content_type,
            delivery,
            file,
        } => verify(
            &secrets,
            event,
            signature,
            content_type,
            delivery,
            file.as_ref(),
        ),
        Command::Send {
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
        } => {
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
                let attempts =
                    send_with_progress(&sender, deliveries, concurrency, redeliver_failed).await;
                Ok::<_, anyhow::Error>(Summary::timed(&attempts, started.elapsed()))
            })?;
            say!("{summary}");
            Ok(if summary.all_delivered() {
                0
            } else {
                EXIT_REJECTED
            })
        }
        Command::Listen {
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
        } => {
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
        Command::Inbox { store, action } => {
            let runtime = runtime()?;
            runtime.block_on(inbox_command(&store, action))
        }
        Command::Demo => {
            let runtime = runtime()?;
            let passed = runtime.block_on(demo())?;
            Ok(if passed { 0 } else { EXIT_REJECTED })
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn read_input(file: Option<&PathBuf>) -> anyhow::Result<Vec<u8>> {
    match file {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::read(path).with_context(|| format!("reading {}", path.display()))
        }
        _ => {
            let mut body = Vec::new();
            std::io::stdin()
                .read_to_end(&mut body)
                .context("reading standard input")?;
            Ok(body)
        }
    }
}

fn receiver(secrets: &[String]) -> anyhow::Result<Receiver> {
    let mut builder = Receiver::builder();
    for secret in secrets {
        builder = builder.secret(secret.as_str());
    }
    builder.build().context("configuring the receiver")
}

fn verify(
    secrets: &[String],
    event: String,
    signature: Option<String>,
    content_type: String,
    delivery: Option<String>,
    file: Option<&PathBuf>,
) -> Result<u8, Failure> {
    let body = read_input(file)?;
    let receiver = receiver(secrets)?;
    let delivery = delivery.unwrap_or_else(|| uuid::Uuid::new_v4().hyphenated().to_string());
    let mut headers = vec![
        ("X-ICR-Event".to_owned(), event),
        ("X-ICR-Delivery".to_owned(), delivery),
        ("Content-Type".to_owned(), content_type),
    ];
    if let Some(signature) = signature {
        headers.push(("X-ICR-Signature-256".to_owned(), signature));
    }
    match receiver.receive(&headers, body) {
        Ok(delivery) => {
            let out = serde_json::json!({
                "event": delivery.event.name(),
                "action": delivery.event.action(),
                "delivery": delivery.info.id.as_str(),
                "known": delivery.event.is_known(),
                "payload": delivery.event,
            });
            say!("{out}");
            Ok(0)
        }
        Err(error) => {
            let code = if error.status() == 401 {
                EXIT_REJECTED
            } else {
                EXIT_MALFORMED
            };
            Err(Failure {
                code,
                error: anyhow::Error::new(error)
                    .context(format!("rejected ({})", error_status(code))),
            })
        }
    }
}

fn error_status(code: u8) -> &'static str {
    if code == EXIT_REJECTED {
        "signature"
    } else {
        "malformed delivery"
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
    let keys: Vec<String> = if all {
        samples::keys()
    } else if events.is_empty() {
        anyhow::bail!(
            "say what to send: --all, --event EVENT[.ACTION], or --event NAME --payload FILE"
        );
    } else {
        events.to_vec()
    };
    let total = count.unwrap_or(keys.len());
    let per_key = total.div_ceil(keys.len().max(1));
    // Up to 64 distinct payloads per key, serialized once; the deliveries
    // share their bytes, so a long run holds little more than its GUIDs.
    let mut pools: Vec<Vec<Outgoing>> = Vec::with_capacity(keys.len());
    for key in &keys {
        let event = key
            .parse::<EventKey>()
            .map_or_else(|_| key.clone(), |k| k.event().to_owned());
        let mut pool = Vec::new();
        for payload in samples::generate(key, seed, per_key.min(64))? {
            let bytes = serde_json::to_vec(&payload).context("serializing a payload")?;
            pool.push(Outgoing::new(event.clone(), bytes));
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

async fn send_with_progress(
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

/// `icr-webhooks inbox …`.
async fn inbox_command(spec: &StoreSpec, action: InboxAction) -> Result<u8, Failure> {
    if *spec == StoreSpec::Memory {
        return Err(anyhow::anyhow!(
            "a memory store lives in its `listen` process: name a sqlite: or postgres:// store"
        )
        .into());
    }
    let store = ListenStore::open(spec)
        .await
        .with_context(|| format!("opening the store {spec}"))?;
    let shared = store.store();
    match action {
        InboxAction::Stats { json } => {
            let stats = shared.stats().await.context("reading the counts")?;
            let effects = store.effects().await.context("reading listen_effects")?;
            if json {
                say!(
                    "{}",
                    serde_json::json!({
                        "free": stats.free, "pending": stats.pending, "failed": stats.failed,
                        "active": stats.active, "done": stats.done, "dead": stats.dead,
                        "effects": effects.total, "effect_deliveries": effects.deliveries,
                        "repeated_effects": effects.repeated,
                    })
                );
            } else {
                say!(
                    "pending {} (failed, awaiting a retry {})  active {}  done {}  dead {}  free {}",
                    stats.pending,
                    stats.failed,
                    stats.active,
                    stats.done,
                    stats.dead,
                    stats.free
                );
                say!(
                    "listen_effects: {} rows for {} deliveries; deliveries with more than one effect: {}",
                    effects.total,
                    effects.deliveries,
                    effects.repeated
                );
            }
            Ok(if effects.repeated == 0 {
                0
            } else {
                EXIT_REJECTED
            })
        }
        InboxAction::List { state, limit } => {
            let filter = match state.as_deref() {
                None => ListFilter::All,
                Some("failed") => ListFilter::Failed,
                Some(name) => ListFilter::State(State::from_name(name).ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown state `{name}`: free, pending, failed, active, done or dead"
                    )
                })?),
            };
            for record in shared.list(filter, limit).await.context("listing")? {
                say!("{}", record_line(&record));
            }
            Ok(0)
        }
        InboxAction::Show { guid } => {
            let id: DeliveryId = guid
                .parse()
                .map_err(|_| anyhow::anyhow!("`{guid}` is not a delivery GUID"))?;
            let found = shared.get(&id).await.context("reading the delivery")?;
            if found.is_empty() {
                return Err(Failure {
                    code: EXIT_REJECTED,
                    error: anyhow::anyhow!("no delivery {id} in the store"),
                });
            }
            for (record, stored) in found {
                let mut out = record_json(&record);
                if let (Some(stored), Some(fields)) = (stored, out.as_object_mut()) {
                    fields.insert("headers".to_owned(), serde_json::json!(stored.headers));
                    fields.insert(
                        "body".to_owned(),
                        serde_json::json!(String::from_utf8_lossy(&stored.body)),
                    );
                }
                say!("{out}");
            }
            Ok(0)
        }
        InboxAction::Retry { guid, dead } => {
            let id = match (guid, dead) {
                (Some(guid), _) => Some(
                    guid.parse::<DeliveryId>()
                        .map_err(|_| anyhow::anyhow!("`{guid}` is not a delivery GUID"))?,
                ),
                (None, _) => None,
            };
            let count = shared.retry(id.as_ref()).await.context("retrying")?;
            say!("{count} dead deliveries pending again");
            Ok(0)
        }
        InboxAction::Purge { older_than, dead } => {
            let before = std::time::SystemTime::now()
                .checked_sub(older_than)
                .unwrap_or(std::time::UNIX_EPOCH);
            let purged = shared
                .purge(Purge {
                    before,
                    bodies_before: None,
                    dead,
                })
                .await
                .context("purging")?;
            say!("{} deliveries deleted", purged.rows);
            Ok(0)
        }
    }
}

fn record_json(record: &Record) -> serde_json::Value {
    let millis = |time: std::time::SystemTime| {
        time.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis())
    };
    serde_json::json!({
        "hook_id": record.key.hook_id,
        "guid": record.key.id.as_str(),
        "state": record.state.as_str(),
        "attempts": record.attempts,
        "received_at_ms": record.received_at.map(millis),
        "updated_at_ms": millis(record.updated_at),
        "due_at_ms": record.due.map(millis),
        "last_error": record.last_error,
        "body_len": record.body_len,
    })
}

fn record_line(record: &Record) -> String {
    format!(
        "{}  {:<7}  attempts {}  {}",
        record.key,
        record.state.as_str(),
        record.attempts,
        record.last_error.as_deref().unwrap_or("")
    )
    .trim_end()
    .to_owned()
}

/// A temporary directory for the demo's store, removed when dropped.
struct DemoDir(PathBuf);

impl DemoDir {
    fn new() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "icr-webhooks-demo-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One row of the demo's table.
struct Row {
    delivery: Outgoing,
    status: Option<u16>,
    typed: Option<Accepted>,
}

impl Row {
    fn passed(&self) -> bool {
        let expected = self.delivery.expected_status();
        match self.delivery.fault {
            None | Some(Fault::SlowBody) => {
                self.status == Some(expected)
                    && self
                        .typed
                        .as_ref()
                        .is_some_and(|t| t.known && t.key() == self.delivery.key())
            }
            Some(_) => self.status == Some(expected) && self.typed.is_none(),
        }
    }
}

async fn demo() -> anyhow::Result<bool> {
    let secret = format!("whsec_demo_{}", uuid::Uuid::new_v4().simple());
    let receiver = Receiver::new(secret.as_str()).context("configuring the receiver")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding a loopback port")?;
    let local = listener.local_addr().context("reading the bound address")?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Accepted>();
    // The default store, SQLite, in a directory of the demo's own.
    let dir = DemoDir::new()?;
    let spec = StoreSpec::Sqlite(dir.0.join("icr-webhooks.sqlite"));
    let store = ListenStore::open(&spec)
        .await
        .with_context(|| format!("opening the store {spec}"))?;
    let (router, _) = Listener::new(receiver, store, tx, &ListenConfig::default()).into_parts();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    tell!("receiver listening on http://{local}/webhook, store {spec}");

    let mut deliveries = Vec::new();
    for carried in [ContentType::Json, ContentType::Form] {
        for key in samples::keys() {
            let event = key
                .parse::<EventKey>()
                .map_or_else(|_| key.clone(), |k| k.event().to_owned());
            let payload = samples::generate(&key, 1, 1)?
                .into_iter()
                .next()
                .context("no sample generated")?;
            let bytes = serde_json::to_vec(&payload).context("serializing a payload")?;
            deliveries.push(Outgoing::new(event, bytes).with_content_type(carried));
        }
    }
    for (index, fault) in Fault::ALL.into_iter().enumerate() {
        let base = deliveries
            .get(index % deliveries.len().max(1))
            .cloned()
            .context("no delivery to inject a fault into")?;
        let mut faulty = Outgoing::new(base.event, base.payload).with_fault(fault);
        faulty.action = base.action;
        deliveries.push(faulty);
    }

    let sender = Sender::new(SenderConfig::new(
        format!("http://{local}/webhook"),
        Some(Secret::new(secret)),
    ))?;
    let attempts = send_with_progress(&sender, deliveries.clone(), 8, 0).await;
    // Every answered delivery was reported before its answer was sent.
    let mut typed = std::collections::HashMap::new();
    while let Ok(accepted) = rx.try_recv() {
        typed.insert(accepted.delivery.clone(), accepted);
    }
    server.abort();

    let by_id: std::collections::HashMap<&str, &Attempt> =
        attempts.iter().map(|a| (a.id.as_str(), a)).collect();
    let rows: Vec<Row> = deliveries
        .into_iter()
        .map(|delivery| Row {
            status: by_id.get(delivery.id.as_str()).and_then(|a| a.status),
            typed: typed.remove(&delivery.id),
            delivery,
        })
        .collect();
    print_table(&rows);
    let passed = rows.iter().filter(|r| r.passed()).count();
    let summary = Summary::of(&attempts);
    say!("");
    say!("{summary}");
    say!("{passed}/{} as expected", rows.len());
    Ok(passed == rows.len())
}

fn print_table(rows: &[Row]) {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|row| {
            let carried = match row.delivery.content_type {
                ContentType::Form => "form",
                _ => "json",
            };
            [
                row.delivery.key(),
                carried.to_owned(),
                row.delivery.fault.map_or("-", Fault::name).to_owned(),
                format!(
                    "{} {}",
                    row.delivery.expected_status(),
                    row.status.map_or("none".to_owned(), |s| s.to_string())
                ),
                row.typed.as_ref().map_or("-".to_owned(), |t| {
                    if t.known {
                        format!("{} (typed)", t.key())
                    } else {
                        format!("{} (unknown)", t.key())
                    }
                }),
                if row.passed() {
                    "ok".to_owned()
                } else {
                    "FAIL".to_owned()
                },
            ]
        })
        .collect();
    let header = [
        "event.action",
        "body",
        "fault",
        "expect got",
        "typed as",
        "result",
    ];
    let mut widths = header.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        say!("{}", padded.join("  ").trim_end());
    };
    line(&header.map(str::to_owned));
    for row in &cells {
        line(row);
    }
}
