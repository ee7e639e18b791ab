//! `inbox`: a store looked into (counts, failed and dead deliveries, one
//! delivery) and acted on (retry, purge).

use std::io::Write as _;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use icr_webhooks::once::DeliveryStore as _;
use icr_webhooks::once::{ListFilter, Purge, Record, State};
use icr_webhooks::receive::DeliveryId;
use icr_webhooks_harness::stores::{self, ListenStore, StoreSpec};

use crate::cli::{EXIT_REJECTED, Failure, runtime};

// No doc comment: clap would show it in place of the subcommand's own `about`.
#[derive(Debug, Args)]
pub(crate) struct InboxArgs {
    /// The store: sqlite:PATH or postgres://USER@HOST/DB.
    #[arg(
        long,
        default_value = "sqlite:icr-webhooks.sqlite",
        value_name = "STORE"
    )]
    store: StoreSpec,
    #[command(subcommand)]
    action: InboxAction,
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

/// `icr-webhooks inbox …`.
pub(crate) fn run(args: InboxArgs) -> Result<u8, Failure> {
    let InboxArgs { store, action } = args;
    let runtime = runtime()?;
    runtime.block_on(inbox_command(&store, action))
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
