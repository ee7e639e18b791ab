//! The history of `listen`: every request it received, good or refused,
//! with its headers (the signature kept apart, never shown), its exact body
//! bytes, when it came, the answer given and why, the signature check, the
//! typed result or the error at its JSON path, what the app behind
//! `--forward-to` answered, and the drift found in it.
//!
//! One SQLite database, a file by default (it survives a restart) or in
//! memory. Recording never delays an answer: the request's handler hands
//! the request to a queue ([`Recorder`]) and answers; one writer task takes
//! what is queued, runs the SDK's checks over it, and writes it all in one
//! transaction (one fsync per batch, not per request), then enforces
//! retention (count and age) and announces the new rows to the inspector's
//! live stream. When the writer falls behind by [`QUEUE`] requests, new
//! ones are not recorded (counted in [`History::dropped`]): the history is
//! a development tool, not an audit log.

mod analyze;
mod db;
mod spec;
mod tally;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use bytes::Bytes;
use icr_webhooks::Receiver;
use icr_webhooks::drift::{Drift, Finding};
use icr_webhooks::http::HeaderMap;
use rusqlite::Connection;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};

pub use self::analyze::Failure;
pub use self::spec::{DEFAULT_FILE, DEFAULT_MAX, DEFAULT_MAX_AGE, HistorySpec, Retention};
pub use self::tally::tally;

use self::db::NewRow;

/// Requests queued for the writer at most; more are not recorded.
pub const QUEUE: usize = 4096;

/// Requests the writer commits in one transaction at most.
const BATCH: usize = 256;

/// What the signature header's value is replaced with wherever a header
/// list is shown.
pub const REDACTED: &str = "<redacted>";

/// One request as `listen` received and answered it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request's path (`/` or `/webhook`).
    pub path: String,
    /// The headers as received.
    pub headers: HeaderMap,
    /// The body bytes read (all of them unless `body_complete` is false).
    pub body: Bytes,
    /// Whether the whole body was read (not when it was too large or slow).
    pub body_complete: bool,
    /// When the request came.
    pub at: SystemTime,
    /// The status answered.
    pub status: u16,
    /// Why: `processed`, `already_processed`, `signature_mismatch`, …
    pub reason: String,
    /// What the app behind `--forward-to` answered.
    pub forward: Option<Forwarded>,
}

/// What the app behind `--forward-to` answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forwarded {
    /// Where it was forwarded.
    pub url: String,
    /// The app's status; `None` when it did not answer.
    pub status: Option<u16>,
    /// Why it did not answer.
    pub error: Option<String>,
    /// How long the app took, in milliseconds.
    pub latency_ms: u64,
}

/// One row of the list: what the inspector shows for each delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The row's number, increasing, never reused.
    pub id: i64,
    /// When it came, in milliseconds since the Unix epoch.
    pub received_at_ms: i64,
    /// `X-ICR-Delivery` as received.
    pub guid: Option<String>,
    /// The event name.
    pub event: Option<String>,
    /// The action.
    pub action: Option<String>,
    /// The status answered.
    pub status: u16,
    /// Why it was answered so.
    pub reason: String,
    /// `verified`, or the code of the signature or size check that failed.
    pub verification: String,
    /// The Rust variant of a typed delivery.
    pub variant: Option<String>,
    /// The error's code, when the delivery was refused by a check.
    pub error_code: Option<String>,
    /// The error's JSON path.
    pub error_path: Option<String>,
    /// The app's status, when forwarded.
    pub forward_status: Option<u16>,
    /// The app's latency, when forwarded.
    pub forward_latency_ms: Option<u64>,
    /// How many drift findings.
    pub drift: usize,
    /// Whether an earlier row has the same GUID.
    pub repeat: bool,
}

/// Everything the inspector shows of one delivery: never the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detail {
    /// The list's row.
    #[serde(flatten)]
    pub summary: Summary,
    /// The request's path.
    pub path: String,
    /// The headers as received, the signature's value [`REDACTED`].
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
    /// The body's length in bytes.
    pub body_len: usize,
    /// Whether the body is valid UTF-8 (else `body` is not byte-exact).
    pub body_utf8: bool,
    /// Whether the whole body was read.
    pub body_complete: bool,
    /// The typed event, `{:#?}`.
    pub typed: Option<String>,
    /// Why it was refused.
    pub error: Option<Failure>,
    /// What the app behind `--forward-to` answered.
    pub forward: Option<Forwarded>,
    /// The drift found in it: kinds and paths, no values.
    pub drift_findings: Vec<Finding>,
}

/// A recorded request as needed to send it again: never its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The request's path.
    pub path: String,
    /// The headers as received, the signature's value [`REDACTED`].
    pub headers: Vec<(String, String)>,
    /// The exact body bytes.
    pub body: Vec<u8>,
}

/// Which rows the list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `event` or `event.action`.
    pub event: Option<String>,
    /// A status (`401`), a class (`2xx`, `4xx`, `5xx`), `ok` or `refused`.
    pub status: Option<String>,
    /// A part of the GUID.
    pub guid: Option<String>,
    /// Only rows before this one (the next page).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// Why the history failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The database failed.
    #[error("the history database failed")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
    /// The blocking task running the query was lost.
    #[error("history task failed")]
    Task(#[from] tokio::task::JoinError),
}

/// The history, to read (cheap to clone).
#[derive(Clone)]
pub struct History {
    db: Arc<Mutex<Connection>>,
    live: broadcast::Sender<Summary>,
    dropped: Arc<AtomicU64>,
}

/// The queue into the history, for the request handlers. When every
/// `Recorder` is dropped, the writer writes what is left and ends.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Received>,
    dropped: Arc<AtomicU64>,
}

/// The writer task; [`Writer::finish`] waits until everything queued is
/// written.
pub struct Writer(tokio::task::JoinHandle<()>);

impl From<rusqlite::Error> for HistoryError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Database(Box::new(error))
    }
}

impl History {
    /// Opens (or creates) the history `spec` names, and starts its writer,
    /// which checks each request with `receiver` and keeps `retention`.
    ///
    /// # Errors
    /// When the database cannot be opened or its table created.
    pub fn open(
        spec: &HistorySpec,
        retention: Retention,
        receiver: Receiver,
    ) -> Result<(Self, Recorder, Writer), HistoryError> {
        let connection = Self::connect(spec)?;
        let (queue, rx) = mpsc::channel(QUEUE);
        let (live, _) = broadcast::channel(1024);
        let dropped = Arc::new(AtomicU64::new(0));
        let history = Self {
            db: Arc::new(Mutex::new(connection)),
            live,
            dropped: Arc::clone(&dropped),
        };
        let writer = tokio::spawn(write(history.clone(), rx, receiver, retention));
        Ok((history, Recorder { queue, dropped }, Writer(writer)))
    }

    /// Opens the history to read it only (`icr-webhooks drift`).
    ///
    /// # Errors
    /// When the database cannot be opened or its table created.
    pub fn open_read(spec: &HistorySpec) -> Result<Self, HistoryError> {
        let (live, _) = broadcast::channel(1);
        Ok(Self {
            db: Arc::new(Mutex::new(Self::connect(spec)?)),
            live,
            dropped: Arc::default(),
        })
    }

    fn connect(spec: &HistorySpec) -> Result<Connection, HistoryError> {
        let connection = match spec {
            HistorySpec::Memory => Connection::open_in_memory()?,
            HistorySpec::Sqlite(path) => Connection::open(path)?,
        };
        // Replicas sharing a folder share a history file: wait for its lock.
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        db::prepare(&connection)?;
        Ok(connection)
    }

    /// New rows as they are written.
    pub fn subscribe(&self) -> broadcast::Receiver<Summary> {
        self.live.subscribe()
    }

    /// Requests not recorded because the writer was behind.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    async fn with_db<T: Send + 'static>(
        &self,
        run: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, HistoryError> {
        let db = Arc::clone(&self.db);
        let result = tokio::task::spawn_blocking(move || {
            let mut db = db.lock().unwrap_or_else(PoisonError::into_inner);
            run(&mut db)
        })
        .await??;
        Ok(result)
    }

    /// The rows `filter` lets through, newest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn list(&self, filter: Filter) -> Result<Vec<Summary>, HistoryError> {
        self.with_db(move |db| db::list(db, &filter)).await
    }

    /// One row, without its signature.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn detail(&self, id: i64) -> Result<Option<Detail>, HistoryError> {
        self.with_db(move |db| db::detail(db, id)).await
    }

    /// A row's path, headers (the signature left out) and exact body, to
    /// replay it.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn replay_source(&self, id: i64) -> Result<Option<Recorded>, HistoryError> {
        self.with_db(move |db| db::replay_source(db, id)).await
    }

    /// How many rows the history holds.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn count(&self) -> Result<u64, HistoryError> {
        self.with_db(|db| db::count(db)).await
    }

    /// The drift findings of every row that has some: its event, its
    /// findings and when it came, oldest first.
    ///
    /// # Errors
    /// When the database fails.
    pub async fn drifts(&self) -> Result<Vec<(String, Drift, SystemTime)>, HistoryError> {
        self.with_db(|db| db::drifts(db)).await
    }
}

impl Recorder {
    /// Queues a request for the history, without waiting: when the queue is
    /// full it is dropped and counted.
    pub fn record(&self, received: Received) {
        if self.queue.try_send(received).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Writer {
    /// Waits until everything queued is written (every [`Recorder`] must be
    /// dropped first).
    pub async fn finish(self) {
        let _ = self.0.await;
    }
}

/// The writer: what is queued, checked and written in one transaction.
async fn write(
    history: History,
    mut queue: mpsc::Receiver<Received>,
    receiver: Receiver,
    retention: Retention,
) {
    let mut batch = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let received = std::mem::take(&mut batch);
        let receiver = receiver.clone();
        let written = history
            .with_db(move |db| {
                let rows: Vec<NewRow> = received
                    .into_iter()
                    .map(|request| row(&receiver, request))
                    .collect();
                db::insert(db, &rows, retention, SystemTime::now())
            })
            .await;
        match written {
            Ok(summaries) => {
                for summary in summaries {
                    // Nobody watching: nothing to announce.
                    let _ = history.live.send(summary);
                }
            }
            Err(error) => {
                use std::io::Write as _;
                let cause = std::error::Error::source(&error)
                    .map(|cause| format!(": {cause}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "history not written: {error}{cause}"
                );
            }
        }
    }
}

/// The row of one request: the checks run, the signature set apart.
fn row(receiver: &Receiver, request: Received) -> NewRow {
    let analysis = analyze::analyze(receiver, &request.headers, &request.body);
    let mut signature = None;
    let headers = request
        .headers
        .iter()
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name
                .as_str()
                .eq_ignore_ascii_case(icr_webhooks::contract::header::SIGNATURE_256)
            {
                signature = Some(text);
                (name.as_str().to_owned(), REDACTED.to_owned())
            } else {
                (name.as_str().to_owned(), text)
            }
        })
        .collect();
    let guid = request
        .headers
        .get(icr_webhooks::contract::header::DELIVERY)
        .map(|value| {
            String::from_utf8_lossy(value.as_bytes())
                .chars()
                .take(100)
                .collect()
        });
    let drift = analysis.drift.clone().unwrap_or_default();
    NewRow {
        at_ms: db::millis(request.at),
        path: request.path,
        guid,
        headers,
        signature,
        body: request.body.to_vec(),
        body_complete: request.body_complete,
        status: request.status,
        reason: request.reason,
        forward: request.forward,
        analysis,
        drift,
    }
}
