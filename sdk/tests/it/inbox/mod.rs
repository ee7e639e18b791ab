//! The inbox end to end, *accept, then process*, on every store (memory,
//! SQLite, PostgreSQL when there is a server): accepted once and processed
//! once, retries with backoff, dead after the last attempt and retried by
//! hand, a restart, a store outage answered 503 behind the `Enqueued`
//! extractors (axum, actix-web) and the tower layer's inbox mode, a graceful shutdown, a handler that completes in its own
//! SQLite transaction; and the edges under them: a retry is not claimed
//! before its time, a completion the store refused once does not run the
//! handler again, a SQLite transaction that cannot begin says why.
//!
//! The stores here read the system clock, as the inbox does for its retry
//! times (the stores of `backends` stand still on a test clock, which would
//! make every retry due at once); the restart and the retry time use those,
//! for `Opened::reopen` and to place a failure inside a millisecond.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use icr_webhooks::contract::header;
use icr_webhooks::once::{
    AcceptError, Accepted, Claimed, ClaimedJob, DeliveryKey, DeliveryStore, Inbox, Job, Lease,
    ListFilter, MemoryStore, Purge, Purged, Record, RetryPolicy, State, Stats, StoreError,
    StoreFuture, StoredDelivery, Token,
};
use icr_webhooks::receive::DeliveryId;
use icr_webhooks::{BoxError, ReceiveError};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::backends::{self, Backend, TempDir};
use crate::loopback::runtime;
use crate::support::{Wire, receiver};

/// How long a test waits for the workers before it fails.
const WAIT: Duration = Duration::from_secs(10);

/// The webhook of the test deliveries (`X-ICR-Hook-ID` of `Wire`).
const HOOK: u64 = 60021;

/// The GUID of test delivery `n`.
fn guid(n: u32) -> String {
    format!("{n:08x}-cc78-11e3-81ab-4c9367dc0958")
}

fn id(n: u32) -> DeliveryId {
    guid(n).parse().unwrap()
}

fn key(n: u32) -> DeliveryKey {
    DeliveryKey::new(Some(HOOK), id(n))
}

/// The ping delivery with the GUID `n`, signed.
fn ping(n: u32) -> Wire {
    Wire::ping().with(header::DELIVERY, guid(n))
}

/// A retry policy that retries quickly.
fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        factor: 2.0,
    }
}

/// A store on the system clock, and what it needs to stay open.
struct Live {
    store: Arc<dyn DeliveryStore>,
    /// The SQLite directory, removed when dropped.
    _dir: Option<TempDir>,
}

/// Opens `backend` on the system clock with fresh tables; `None` (said
/// loudly) when this build or machine cannot run it.
async fn open_live(backend: Backend, name: &str) -> Option<Live> {
    match backend {
        Backend::Memory => Some(Live {
            store: Arc::new(MemoryStore::new()),
            _dir: None,
        }),
        Backend::Sqlite => sqlite_live(name).await,
        Backend::Postgres => postgres_live(name).await,
    }
}

#[cfg(feature = "sqlite")]
async fn sqlite_live(name: &str) -> Option<Live> {
    let dir = TempDir::new(name);
    let store = icr_webhooks::once::sqlite::SqliteStore::open(dir.path().join("store.sqlite"))
        .await
        .unwrap();
    Some(Live {
        store: Arc::new(store),
        _dir: Some(dir),
    })
}

#[cfg(not(feature = "sqlite"))]
async fn sqlite_live(_: &str) -> Option<Live> {
    None
}

#[cfg(feature = "postgres")]
async fn postgres_live(name: &str) -> Option<Live> {
    let url = backends::fresh_schema(name).await?;
    let store = icr_webhooks::once::postgres::PostgresStore::builder(&url)
        .pool_size(8)
        .connect()
        .await
        .unwrap();
    Some(Live {
        store: Arc::new(store),
        _dir: None,
    })
}

#[cfg(not(feature = "postgres"))]
async fn postgres_live(_: &str) -> Option<Live> {
    eprintln!("NOT RUN: the PostgreSQL inbox tests (the postgres feature is off)");
    None
}

/// Runs `test` on every backend this build and machine can run, each with
/// fresh tables, on the system clock.
fn on_every_backend<F, Fut>(name: &str, test: F)
where
    F: Fn(Live) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    runtime().block_on(async {
        for backend in backends::all() {
            if let Some(live) = open_live(backend, name).await {
                eprintln!("{name}: {backend:?}");
                test(live).await;
            }
        }
    });
}

/// An inbox over `store` that looks for due retries every 5 ms.
fn inbox(store: &Arc<dyn DeliveryStore>, retry: RetryPolicy) -> Inbox {
    Inbox::builder_arc(receiver(), Arc::clone(store))
        .retry(retry)
        .poll_interval(Duration::from_millis(5))
        .build()
}

async fn accept(inbox: &Inbox, wire: &Wire) -> Result<Accepted, AcceptError> {
    inbox
        .accept(&wire.headers, wire.body.clone())
        .await
        .map(|(_, accepted)| accepted)
}

/// The next item on `channel`, within [`WAIT`].
async fn next<T>(channel: &mut mpsc::UnboundedReceiver<T>, what: &str) -> T {
    tokio::time::timeout(WAIT, channel.recv())
        .await
        .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"))
        .unwrap_or_else(|| panic!("the channel closed before {what}"))
}

/// Every item still to come on `channel`, once its senders are gone (the
/// workers shut down and dropped their handler).
async fn rest<T>(channel: &mut mpsc::UnboundedReceiver<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(item) = tokio::time::timeout(WAIT, channel.recv())
        .await
        .expect("the handler was not dropped: are the workers still running?")
    {
        out.push(item);
    }
    out
}

/// A store's rows per state, to compare whole.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    free: u64,
    pending: u64,
    failed: u64,
    active: u64,
    done: u64,
    dead: u64,
}

impl Counts {
    fn of(stats: Stats) -> Self {
        Self {
            free: stats.free,
            pending: stats.pending,
            failed: stats.failed,
            active: stats.active,
            done: stats.done,
            dead: stats.dead,
        }
    }
}

async fn counts(store: &dyn DeliveryStore) -> Counts {
    Counts::of(store.stats().await.unwrap())
}

/// Returns once the store's rows are exactly `expected`, polling every
/// 5 ms; fails after [`WAIT`] with the last counts seen.
async fn until_counts(store: &dyn DeliveryStore, expected: Counts) {
    let mut last = None;
    let reached = tokio::time::timeout(WAIT, async {
        loop {
            // A store that fails a call (the SQLite outage) is asked again.
            if let Ok(stats) = store.stats().await {
                let now = Counts::of(stats);
                if now == expected {
                    return;
                }
                last = Some(now);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let Ok(()) = reached else {
        panic!("the store did not reach {expected:?} within {WAIT:?}; last seen {last:?}");
    };
}

/// The store's one row of delivery `n`.
async fn record(store: &dyn DeliveryStore, n: u32) -> Record {
    let mut rows = store.get(&id(n)).await.unwrap();
    assert_eq!(rows.len(), 1, "rows of {}", guid(n));
    rows.remove(0).0
}

/// `(state, attempts)` of delivery `n`.
async fn standing(store: &dyn DeliveryStore, n: u32) -> (State, u32) {
    let record = record(store, n).await;
    (record.state, record.attempts)
}

#[track_caller]
fn assert_refused(result: Result<Accepted, AcceptError>, expected: &ReceiveError) {
    match result {
        Err(AcceptError::Refused(error)) => assert_eq!(&error, expected),
        other => panic!("expected Refused({expected:?}), got {other:?}"),
    }
}

/// Accepted once, a duplicate after, a tampered body refused, and
/// processed exactly once by the workers.
#[test]
fn an_accepted_delivery_is_processed_exactly_once() {
    on_every_backend("inbox_once", |live| async move {
        let store = &live.store;
        let inbox = inbox(store, RetryPolicy::default());
        let wire = ping(1);
        assert_eq!(accept(&inbox, &wire).await.unwrap(), Accepted::Stored);
        assert_eq!(accept(&inbox, &wire).await.unwrap(), Accepted::Duplicate);
        // The signature is checked before the store: a tampered body under
        // the known GUID is refused, not answered as a duplicate.
        let tampered = wire.clone().body(Wire::transfer_completed().body);
        assert_refused(
            accept(&inbox, &tampered).await,
            &ReceiveError::SignatureMismatch,
        );
        // Stored as received, waiting for a worker.
        let rows = store.get(&id(1)).await.unwrap();
        assert_eq!(rows.len(), 1);
        let (row, kept) = &rows[0];
        assert_eq!((row.state, row.attempts), (State::Pending, 0));
        assert_eq!(row.body_len, Some(wire.body.len() as u64));
        let kept = kept.as_ref().expect("the inbox keeps the delivery");
        assert_eq!(kept.key, key(1));
        assert_eq!(kept.body, wire.body);
        assert_eq!(
            counts(store.as_ref()).await,
            Counts {
                pending: 1,
                ..Counts::default()
            }
        );

        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let workers = inbox.workers(4, move |job: Job| {
            let report = seen_tx.clone();
            async move {
                report
                    .send(job.delivery.info.id.as_str().to_owned())
                    .unwrap();
                Ok::<(), BoxError>(())
            }
        });
        assert_eq!(next(&mut seen, "the processing").await, guid(1));
        until_counts(
            store.as_ref(),
            Counts {
                done: 1,
                ..Counts::default()
            },
        )
        .await;
        // Processed: a redelivery is still a duplicate.
        assert_eq!(accept(&inbox, &wire).await.unwrap(), Accepted::Duplicate);
        workers.shutdown().await;
        assert_eq!(rest(&mut seen).await, Vec::<String>::new());
        assert_eq!(standing(store.as_ref(), 1).await, (State::Done, 1));
    });
}

/// Many copies of one delivery accepted at the same
/// time are stored once.
#[test]
fn copies_accepted_at_once_are_stored_once() {
    on_every_backend("inbox_copies", |live| async move {
        let inbox = inbox(&live.store, RetryPolicy::default());
        let wire = ping(7);
        let copies: Vec<_> = (0..8)
            .map(|_| {
                let inbox = inbox.clone();
                let wire = wire.clone();
                tokio::spawn(async move { accept(&inbox, &wire).await.unwrap() })
            })
            .collect();
        let mut answers = Vec::new();
        for copy in copies {
            answers.push(copy.await.unwrap());
        }
        let stored = answers.iter().filter(|a| **a == Accepted::Stored).count();
        let duplicate = answers
            .iter()
            .filter(|a| **a == Accepted::Duplicate)
            .count();
        assert_eq!((stored, duplicate), (1, 7), "{answers:?}");
        assert_eq!(
            counts(live.store.as_ref()).await,
            Counts {
                pending: 1,
                ..Counts::default()
            }
        );
    });
}

/// A handler that fails the first two times sees attempts 1, 2, 3,
/// each retry no sooner than the policy's delay.
#[test]
fn a_failing_delivery_is_retried_with_backoff() {
    const FIRST: Duration = Duration::from_millis(20);
    on_every_backend("inbox_backoff", |live| async move {
        let store = &live.store;
        let inbox = inbox(
            store,
            RetryPolicy {
                attempts: 5,
                first_delay: FIRST,
                max_delay: Duration::from_secs(1),
                factor: 2.0,
            },
        );
        // Counted by the handler itself, not from `job.attempt`.
        let calls: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let (seen_tx, mut seen) = mpsc::unbounded_channel();
        let workers = inbox.workers(2, move |job: Job| {
            let at = Instant::now();
            let report = seen_tx.clone();
            let calls = Arc::clone(&calls);
            async move {
                let id = job.delivery.info.id.as_str().to_owned();
                let call = {
                    let mut calls = calls.lock().unwrap();
                    let call = calls.entry(id).or_insert(0);
                    *call += 1;
                    *call
                };
                report.send((job.attempt, at)).unwrap();
                if call <= 2 {
                    return Err(BoxError::from(format!("call {call} failed")));
                }
                Ok(())
            }
        });
        assert_eq!(accept(&inbox, &ping(2)).await.unwrap(), Accepted::Stored);
        let (one, two, three) = (
            next(&mut seen, "attempt 1").await,
            next(&mut seen, "attempt 2").await,
            next(&mut seen, "attempt 3").await,
        );
        assert_eq!([one.0, two.0, three.0], [1, 2, 3]);
        let (first, second) = (two.1 - one.1, three.1 - two.1);
        assert!(first >= FIRST, "retried after {first:?}, before {FIRST:?}");
        assert!(
            second >= FIRST * 2,
            "retried after {second:?}, before {:?}",
            FIRST * 2
        );
        until_counts(
            store.as_ref(),
            Counts {
                done: 1,
                ..Counts::default()
            },
        )
        .await;
        workers.shutdown().await;
        assert_eq!(rest(&mut seen).await.len(), 0, "no attempt after success");
        assert_eq!(standing(store.as_ref(), 2).await, (State::Done, 3));
    });
}

mod lifecycle;
#[allow(unused_imports)]
use lifecycle::*;
#[cfg(feature = "sqlite")]
mod sqlite;
