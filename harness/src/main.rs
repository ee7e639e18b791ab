//! `icr-webhooks`: the command line of the harness. Lists the catalogue,
//! makes schema-valid samples, signs and verifies bodies, sends deliveries to
//! an app (with faults), runs a verifying receiver, and `demo` runs it all.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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

mod cli;

use crate::cli::Failure;
use crate::cli::drift::DriftArgs;
use crate::cli::inbox::InboxArgs;
use crate::cli::listen::ListenArgs;
use crate::cli::record::RecordArgs;
use crate::cli::sample::SampleArgs;
use crate::cli::send::SendArgs;
use crate::cli::sign::{SignArgs, VerifyArgs};

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
        after_help = "Examples:\n  icr-webhooks sample ping\n  icr-webhooks sample credit_transfer.completed --seed 42 --count 3\n  icr-webhooks sample credit_transfer   # any action of the event\n  icr-webhooks sample ping --save fixtures/"
    )]
    Sample(SampleArgs),
    /// Print the `X-ICR-Signature-256` value of a body.
    #[command(
        after_help = "Examples:\n  icr-webhooks sign --secret s3cr3t payload.json\n  printf 'Hello, World!' | icr-webhooks sign --secret \"It's a Secret to Everybody\""
    )]
    Sign(SignArgs),
    /// Verify and parse one body exactly as the SDK does; print the typed result.
    #[command(
        after_help = "Prints {\"event\",\"action\",\"delivery\",\"known\",\"payload\"}.\nExit 1 on a signature problem, 3 on a malformed payload.\n\nExample:\n  icr-webhooks verify --secret s3cr3t --event ping --signature sha256=... ping.json"
    )]
    Verify(VerifyArgs),
    /// Send deliveries to a receiver the way ICR does, and summarize.
    #[command(
        after_help = "Exit 0 only when every delivery was answered 2xx.\n\nExamples:\n  icr-webhooks send --url http://127.0.0.1:3000/webhook --secret s3cr3t --all\n  icr-webhooks send --url $URL --secret s3cr3t --event credit_transfer.completed --count 500 --concurrency 32\n  icr-webhooks send --url $URL --secret s3cr3t --event credit_transfer --payload body.json\n  icr-webhooks send --url $URL --secret s3cr3t --all --fault wrong-secret\n  icr-webhooks send --url $URL --secret s3cr3t --replay fixtures/ --new-guid\n  icr-webhooks send --url $URL --secret s3cr3t --all --count 100 --duplicate-rate 0.2"
    )]
    Send(SendArgs),
    /// Run a verifying receiver; print one JSON line per processed delivery.
    #[command(
        after_help = "Answers bad deliveries with the SDK's statuses (401, 413, 415, 400, 408 for a\nbody slower than --body-timeout) and processes each GUID once, recording it in\nthe table listen_effects of the store in the transaction that completes it.\n\nProcess, then answer (the default): a repeated GUID is acknowledged (200)\nwithout processing, one being processed here is waited for (409 after 5 s), one\nheld by another replica is answered 409. With --inbox: each delivery is stored,\nanswered 202 (200 when known already), and processed by the workers of any\nreplica sharing the store; failures are retried with backoff, and kept as dead\nafter --attempts (see `icr-webhooks inbox`). The store answers 503 when it\ncannot write.\n\nWith --fail-rate R, a fraction R of first attempts is answered 500 (before\nprocessing; with --inbox after storing), and with --inbox a fraction R of first\nprocessing attempts fails. Ctrl-C or SIGTERM prints the counts on stderr.\n\nEvery request is kept in a history (--history; the answer never waits for it).\nWith --forward-to URL, each delivery that passes the checks is forwarded to your\napp byte-exact and answered with the app's status (no exactly-once here). With\n--ui, an inspector at /_icr/ lists deliveries live, shows each one typed, and\nreplays, copies as curl or saves as a fixture; off loopback it needs --ui-token.\n\nExamples:\n  icr-webhooks listen --secret s3cr3t\n  icr-webhooks listen --secret s3cr3t --ui --forward-to http://127.0.0.1:3000/webhook\n  icr-webhooks listen --secret s3cr3t --store memory --fail-rate 0.1 --seed 7 --verbose\n  icr-webhooks listen --secret s3cr3t --inbox --workers 16 --store postgres://postgres@127.0.0.1/test"
    )]
    Listen(Box<ListenArgs>),
    /// Run a verifying receiver on loopback that writes each delivery as a fixture file.
    #[command(
        after_help = "Each delivery whose signature holds is written into --dir as a fixture\n(`event.action-guid.http`: the headers without the signature, the exact body)\nand answered as the SDK answers it; one JSON line per fixture on stdout.\nReplay them with `send --replay DIR`.\n\nExample:\n  icr-webhooks record --secret s3cr3t --dir fixtures/"
    )]
    Record(RecordArgs),
    /// Look into a store: counts, failed and dead deliveries, retry, purge.
    #[command(
        after_help = "Examples:\n  icr-webhooks inbox --store sqlite:icr-webhooks.sqlite stats\n  icr-webhooks inbox --store postgres://postgres@127.0.0.1/test list --state dead\n  icr-webhooks inbox retry --dead\n  icr-webhooks inbox purge --older-than 4d"
    )]
    Inbox(InboxArgs),
    /// Print the drift over listen's history: what payloads hold that the types do not know.
    #[command(
        after_help = "Unknown events, actions, fields and enum values, by JSON path (arrays as []),\nwithout values; the most frequent first, then the earliest.\n\nExamples:\n  icr-webhooks drift\n  icr-webhooks drift --history sqlite:/tmp/icr-webhooks-history.sqlite --json"
    )]
    Drift(DriftArgs),
    /// Start a receiver, send it every event/action and every fault, and check each answer.
    #[command(
        after_help = "Exit 0 only when every good delivery was accepted as its exact typed\nvariant and every faulty one was refused with its expected status."
    )]
    Demo,
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

fn run(parsed: Cli) -> Result<u8, Failure> {
    match parsed.command {
        Command::Events => cli::sample::events(),
        Command::Sample(args) => cli::sample::sample(args),
        Command::Sign(args) => cli::sign::sign(args),
        Command::Verify(args) => cli::sign::verify(args),
        Command::Send(args) => cli::send::run(args),
        Command::Listen(args) => cli::listen::run(*args),
        Command::Record(args) => cli::record::run(args),
        Command::Inbox(args) => cli::inbox::run(args),
        Command::Drift(args) => cli::drift::run(args),
        Command::Demo => cli::demo::run(),
    }
}
