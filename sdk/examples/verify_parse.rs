//! The SDK's side of `bench/compare-octokit.sh`: the signature check and the
//! typed parse of real payload files, looped for a fixed time in a release
//! build, with one machine-readable line per file.
//!
//! ```text
//! cargo run --release -p icr-webhooks --example verify_parse -- \
//!     --secret s3cr3t --event credit_transfer --millis 500 --slices 5 --warmup-millis 100 [--borrowed] \
//!     sdk/benches/fixtures/credit_transfer_4k.json sdk/benches/fixtures/credit_transfer_64k.json
//! ```
//!
//! - Each body is signed once with [`Secret::sign`]; every operation then
//!   checks that `X-ICR-Signature-256` value against the exact bytes with
//!   [`Receiver::verify_signature`] (header parse and constant-time compare
//!   included) and parses the same bytes with [`Event::from_slice`], as a
//!   receiver does per delivery (with `--borrowed`, the borrowed
//!   [`Event::from_slice_borrowed`] instead). A body that does not parse as a known
//!   event/action is refused before timing: the `Unknown` path is cheaper.
//! - The timed `--millis` are cut into `--slices` equal slices. On a shared
//!   machine a neighbour can only slow a slice down, so the fastest slice is
//!   the least disturbed figure: `ns_per_op` and `mb_per_s` (10^6 body bytes
//!   per second) are the fastest slice's, `mean_mb_per_s` is over them all.
//! - Prints one JSON line per file on stdout: `file`, `bytes`, `key`,
//!   `signature` (so a peer can check the same value), `iterations`,
//!   `seconds`, `ns_per_op`, `mb_per_s` and `mean_mb_per_s`.
//! - This is not a benchmark harness: criterion benchmarks live in
//!   `sdk/benches/`; this program only feeds the cross-language comparison,
//!   which runs each side in turn, several times.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use icr_webhooks::receive::{ParseError, Secret};
use icr_webhooks::{Event, Receiver};

/// What to measure, from the command line.
#[derive(Debug)]
struct Args {
    secret: String,
    event: String,
    millis: u64,
    slices: u32,
    warmup_millis: u64,
    borrowed: bool,
    files: Vec<PathBuf>,
}

const USAGE: &str = "usage: verify_parse [--secret S] [--event NAME] [--millis MS] \
                     [--slices N] [--warmup-millis MS] [--borrowed] FILE...";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("verify_parse: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args = parse_args(std::env::args().skip(1))?;
    let receiver = Receiver::new(args.secret.as_str()).context("configuring the receiver")?;
    let secret = Secret::new(args.secret.as_str());
    for file in &args.files {
        let body = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let signature = secret.sign(&body).to_string();
        let key = check_once(&receiver, &args, signature.as_bytes(), &body)
            .with_context(|| format!("checking {}", file.display()))?;
        let warmup = Duration::from_millis(args.warmup_millis);
        measure(&receiver, &args, signature.as_bytes(), &body, warmup)?;
        let slice = Duration::from_millis(args.millis) / args.slices.max(1);
        let (mut iterations, mut seconds, mut best_ns) = (0_u64, 0.0_f64, f64::INFINITY);
        for _ in 0..args.slices.max(1) {
            let (done, elapsed) = measure(&receiver, &args, signature.as_bytes(), &body, slice)?;
            iterations += done;
            seconds += elapsed.as_secs_f64();
            best_ns = best_ns.min(elapsed.as_secs_f64() * 1e9 / done as f64);
        }
        let bytes = body.len() as f64;
        let line = serde_json::json!({
            "file": file.display().to_string(),
            "bytes": body.len(),
            "key": key,
            "signature": signature,
            "iterations": iterations,
            "seconds": seconds,
            "ns_per_op": best_ns,
            "mb_per_s": bytes / best_ns * 1e3,
            "mean_mb_per_s": bytes * iterations as f64 / seconds / 1e6,
        });
        println!("{line}");
    }
    Ok(())
}

fn parse_args(mut args: impl Iterator<Item = String>) -> anyhow::Result<Args> {
    let mut parsed = Args {
        secret: "bench-secret".to_owned(),
        event: "credit_transfer".to_owned(),
        millis: 500,
        slices: 5,
        warmup_millis: 100,
        borrowed: false,
        files: Vec::new(),
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .with_context(|| format!("{name} needs a value; {USAGE}"))
        };
        match arg.as_str() {
            "--secret" => parsed.secret = value("--secret")?,
            "--event" => parsed.event = value("--event")?,
            "--millis" => parsed.millis = value("--millis")?.parse().context("--millis")?,
            "--slices" => parsed.slices = value("--slices")?.parse().context("--slices")?,
            "--warmup-millis" => {
                parsed.warmup_millis = value("--warmup-millis")?
                    .parse()
                    .context("--warmup-millis")?;
            }
            "--borrowed" => parsed.borrowed = true,
            "-h" | "--help" => bail!("{USAGE}"),
            flag if flag.starts_with("--") => bail!("unknown option `{flag}`; {USAGE}"),
            _ => parsed.files.push(PathBuf::from(arg)),
        }
    }
    if parsed.files.is_empty() {
        bail!("no payload file; {USAGE}");
    }
    Ok(parsed)
}

/// Checks the body once and returns its `event.action`; a body that does
/// not verify, or parses only as an unknown event or action, is an error.
fn check_once(
    receiver: &Receiver,
    args: &Args,
    signature: &[u8],
    body: &[u8],
) -> anyhow::Result<String> {
    receiver.verify_signature(Some(signature), body)?;
    let parsed = Event::from_slice(&args.event, body)?;
    if args.borrowed && Event::from_slice_borrowed(&args.event, body)?.into_owned() != parsed {
        bail!("the borrowed parse differs from the owned one");
    }
    if !parsed.is_known() {
        bail!("parses as an unknown event or action; the timing would not be the typed path");
    }
    Ok(match parsed.action() {
        Some(action) => format!("{}.{action}", parsed.name()),
        None => parsed.name().to_owned(),
    })
}

/// Verifies and parses `body` in a loop for at least `budget` (at least
/// one batch); returns the operations done and the time they took. The clock is read once per
/// batch of about 256 KiB of body so that reading it costs nothing measurable.
fn measure(
    receiver: &Receiver,
    args: &Args,
    signature: &[u8],
    body: &[u8],
    budget: Duration,
) -> anyhow::Result<(u64, Duration)> {
    if args.borrowed {
        measure_with(receiver, signature, body, budget, |body| {
            Event::from_slice_borrowed(black_box(&args.event), body).map(drop)
        })
    } else {
        measure_with(receiver, signature, body, budget, |body| {
            Event::from_slice(black_box(&args.event), body).map(drop)
        })
    }
}

/// [`measure`] with the parse given.
fn measure_with(
    receiver: &Receiver,
    signature: &[u8],
    body: &[u8],
    budget: Duration,
    parse: impl Fn(&[u8]) -> Result<(), ParseError>,
) -> anyhow::Result<(u64, Duration)> {
    let batch = (256 * 1024 / body.len().max(1)).clamp(1, 1024);
    let started = Instant::now();
    let mut iterations: u64 = 0;
    loop {
        for _ in 0..batch {
            receiver.verify_signature(Some(black_box(signature)), black_box(body))?;
            parse(black_box(body))?;
        }
        iterations += batch as u64;
        let elapsed = started.elapsed();
        if elapsed >= budget {
            return Ok((iterations, elapsed));
        }
    }
}
