//! `demo`: a receiver started on a loopback port, sent every event/action
//! and every fault, each answer checked and printed as a table.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use icr_webhooks::Receiver;
use icr_webhooks::receive::{ContentType, Secret};
use icr_webhooks_harness::listen::{Accepted, ListenConfig, Listener};
use icr_webhooks_harness::samples;
use icr_webhooks_harness::sender::{Attempt, Fault, Outgoing, Sender, SenderConfig, Summary};
use icr_webhooks_harness::stores::{ListenStore, StoreSpec};

use crate::cli::send::send_with_progress;
use crate::cli::table::{Row, print_table};
use crate::cli::{EXIT_REJECTED, Failure, runtime};

/// `icr-webhooks demo`.
pub(crate) fn run() -> Result<u8, Failure> {
    let runtime = runtime()?;
    let passed = runtime.block_on(demo())?;
    Ok(if passed { 0 } else { EXIT_REJECTED })
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
            deliveries.push(Outgoing::sample(&key, 1)?.with_content_type(carried));
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
