//! `record`: a verifying receiver on a loopback address that writes each
//! delivery whose signature holds as a fixture into a folder, answers as
//! the SDK does, and prints one JSON line per fixture written.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use clap::Args;
use icr_webhooks::Receiver;
use icr_webhooks_harness::fixture::Fixture;

use crate::cli::{Failure, receiver, runtime};

// No doc comment: clap would show it in place of the subcommand's own `about`.
#[derive(Debug, Args)]
pub(crate) struct RecordArgs {
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1:8788")]
    addr: SocketAddr,
    /// A webhook secret; repeat for rotation.
    #[arg(long = "secret", required = true)]
    secrets: Vec<String>,
    /// The folder the fixtures are written to (created when missing).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
}

struct Recorder {
    receiver: Receiver,
    dir: PathBuf,
    lines: tokio::sync::mpsc::UnboundedSender<serde_json::Value>,
}

/// `icr-webhooks record …`.
pub(crate) fn run(args: RecordArgs) -> Result<u8, Failure> {
    let RecordArgs { addr, secrets, dir } = args;
    if !addr.ip().is_loopback() {
        return Err(anyhow::anyhow!(
            "record keeps payloads on disk: --addr must be a loopback address (127.0.0.1, ::1), not {addr}"
        )
        .into());
    }
    let receiver = receiver(&secrets)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    runtime()?.block_on(serve(addr, receiver, dir))?;
    Ok(0)
}

async fn serve(addr: SocketAddr, receiver: Receiver, dir: PathBuf) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let local = listener.local_addr().context("reading the bound address")?;
    tell!(
        "recording on http://{local}/ (POST / or /webhook) into {}; Ctrl-C stops",
        dir.display()
    );
    let (lines, mut rx) = tokio::sync::mpsc::unbounded_channel::<serde_json::Value>();
    let printer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                break;
            }
        }
    });
    #[allow(clippy::cast_possible_truncation)]
    let limit = icr_webhooks::contract::MAX_BODY_SIZE as usize;
    let state = Arc::new(Recorder {
        receiver,
        dir,
        lines,
    });
    let app = axum::Router::new()
        .route("/", post(record))
        .route("/webhook", post(record))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving");
    let _ = printer.await;
    served
}

/// One request: refused with the SDK's status when its size or signature
/// fails; otherwise written as a fixture and answered as `receive` answers
/// (200, or 4xx for a delivery that does not fit the contract).
async fn record(State(state): State<Arc<Recorder>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if let Err(error) = state.receiver.verify_size_and_signature(&headers, &body) {
        return error.status();
    }
    let status = match state.receiver.receive(&headers, body.clone()) {
        Ok(_) => StatusCode::OK,
        Err(error) => error.status(),
    };
    let fixture = Fixture::from_request(&headers, body);
    let dir = state.dir.clone();
    let written =
        tokio::task::spawn_blocking(move || write_new(&dir, &fixture).map(|p| (p, fixture))).await;
    match written {
        Ok(Ok((path, fixture))) => {
            let _ = state.lines.send(serde_json::json!({
                "file": path.display().to_string(),
                "delivery": fixture.delivery_id(),
                "event": fixture.event_key().map(|k| k.to_string()),
                "status": status.as_u16(),
            }));
            status
        }
        Ok(Err(error)) => {
            tell!("icr-webhooks record: {error:#}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Writes `fixture` under its file name in `dir`, or with `-2`, `-3`, … when
/// a file of that name exists (a redelivery of the same GUID).
fn write_new(dir: &Path, fixture: &Fixture) -> anyhow::Result<PathBuf> {
    let name = fixture.file_name();
    let stem = name.strip_suffix(".http").unwrap_or(&name);
    for n in 1..10_000 {
        let path = if n == 1 {
            dir.join(&name)
        } else {
            dir.join(format!("{stem}-{n}.http"))
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                file.write_all(&fixture.to_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                return Ok(path);
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => {
                return Err(error).with_context(|| format!("creating {}", path.display()));
            }
        }
    }
    anyhow::bail!("too many fixtures named {name} in {}", dir.display())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = tokio::signal::ctrl_c().await;
            return;
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
